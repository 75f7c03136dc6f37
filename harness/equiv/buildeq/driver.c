/* The replay driver of the freestanding image: set up the core from the
 * mailbox the host filled (beq_abi.h), then handle one exit per command
 * and report after each. No libc: the core's own helpers and the
 * firmware shim (handlers/freestanding/rt.c) only. */
#include "beq_guest.h"
#include "hv/pool.h"
#include "hv/system.h"

void beq_main(void);
void beq_idt_install(void);
void beq_exception(const uint64_t *frame);

/* The image's state. A firmware image keeps these wherever it likes; the
 * core only ever sees pointers. */
static struct hv_system sys;
static struct hv_pool pool;
static struct beq_plat plat;

/* Bottom of the image's stack (crt0.S): a canary there shows an
 * overflow before it corrupts what lies below as a silent difference. */
extern uint64_t beq_stack[];
#define STACK_CANARY 0x5a17c0de5a17c0deull
#define STACK_CANARY_WORDS 8

#define LAYOUT_VALUE(e) (uint32_t)(e),
static const uint32_t layout[] = {BEQ_LAYOUT(LAYOUT_VALUE)};

static struct beq_boot *boot(void)
{
	return (struct beq_boot *)(uintptr_t)BEQ_BOOT_GPA;
}

static void signal_host(uint32_t sig)
{
	__asm__ volatile("outl %0, %1" : : "a"(sig), "Nd"((uint16_t)BEQ_PORT) : "memory");
}

/* ---- exceptions ---- */

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type; /* P, DPL 0, 64-bit interrupt gate (0xe) */
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate (SDM Vol. 3A, 6.14.1)");

extern const uint64_t beq_vectors[32];
static struct idt_gate idt[32];

void beq_idt_install(void)
{
	for (int v = 0; v < 32; v++) {
		uint64_t a = beq_vectors[v];
		idt[v] = (struct idt_gate){
		        .off_lo = (uint16_t)a,
		        .sel = 0x08, /* the runner's 64-bit code selector */
		        .type = 0x8e,
		        .off_mid = (uint16_t)(a >> 16),
		        .off_hi = (uint32_t)(a >> 32),
		};
	}
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} d = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

/* frame: vector, error code, RIP, CS, RFLAGS, RSP, SS */
void beq_exception(const uint64_t *frame)
{
	struct beq_boot *b = boot();
	uint64_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	b->exc_vector = frame[0];
	b->exc_error = frame[1];
	b->exc_rip = frame[2];
	b->exc_cr2 = cr2;
	for (;;)
		signal_host(BEQ_SIG_EXCEPTION);
}

/* ---- the protocol ---- */

__attribute__((noreturn)) static void fail(uint32_t status, uint32_t detail)
{
	struct beq_boot *b = boot();
	b->status = status;
	b->detail = detail;
	for (;;)
		signal_host(BEQ_SIG_ERROR);
}

static void check_stack(void)
{
	for (int i = 0; i < STACK_CANARY_WORDS; i++)
		if (beq_stack[i] != STACK_CANARY)
			fail(BEQ_ST_STACK, boot()->seq);
}

static void setup(void)
{
	struct beq_boot *b = boot();
	for (int i = 0; i < STACK_CANARY_WORDS; i++)
		beq_stack[i] = STACK_CANARY;
	if (b->magic != BEQ_MAGIC || b->version != BEQ_VERSION)
		fail(BEQ_ST_BAD_MAGIC, b->version);
	uint32_t n = (uint32_t)HV_ARRAY_LEN(layout);
	if (b->nlayout != n)
		fail(BEQ_ST_LAYOUT, b->nlayout < n ? b->nlayout : n);
	for (uint32_t i = 0; i < n; i++)
		if (b->layout[i] != layout[i])
			fail(BEQ_ST_LAYOUT, i);
	if (b->cfg_size != sizeof(struct hv_system_config))
		fail(BEQ_ST_LAYOUT, 0);
	if (b->host_size > BEQ_WINDOW_MAX)
		fail(BEQ_ST_BAD_WINDOW, 0);
	hv_status s =
	        hv_pool_init(&pool, (void *)(uintptr_t)BEQ_POOL_GPA, b->pool_hpa, b->pool_pages);
	if (s != HV_OK)
		fail(BEQ_ST_POOL, (uint32_t)s);
	plat.window = (uint8_t *)(uintptr_t)BEQ_WINDOW_GPA;
	plat.host_size = b->host_size;
	/* Calls made while building the EPTs are not logged (the hosted run
	 * installs its observer after hv_system_init too): an empty input and
	 * a log that is reset before the first exit. */
	struct beq_in *in = (struct beq_in *)(uintptr_t)BEQ_IN_GPA;
	struct beq_out *out = (struct beq_out *)(uintptr_t)BEQ_OUT_GPA;
	in->nanswers = 0;
	beq_plat_begin(&plat, in, out);
	const struct hv_system_config *cfg = (const void *)(uintptr_t)BEQ_CFG_GPA;
	hv_memset(&b->diag, 0, sizeof(b->diag));
	b->init_status =
	        (int32_t)hv_system_init(&sys, cfg, &beq_platform_ops, &plat, &pool, &b->diag);
	check_stack();
	b->seq = 0;
	b->status = BEQ_ST_OK;
}

static void handle_exit(void)
{
	struct beq_boot *b = boot();
	const struct beq_in *in = (const struct beq_in *)(uintptr_t)BEQ_IN_GPA;
	struct beq_out *out = (struct beq_out *)(uintptr_t)BEQ_OUT_GPA;
	if (in->nanswers > BEQ_MAX_CALLS)
		fail(BEQ_ST_BAD_INPUT, in->nanswers);
	beq_plat_begin(&plat, in, out);
	out->index = in->index;
	out->exit = in->exit;
	hv_handle_exit(&sys, &out->exit, &out->res);
	check_stack();
	b->seq++;
}

/* The image runs at BEQ_HIGH_BASE + its load address. */
static void finish(void)
{
	struct beq_boot *b = boot();
	b->sys_gpa = (uint64_t)(uintptr_t)&sys - BEQ_HIGH_BASE;
	b->pool_used = pool.used;
}

void beq_main(void)
{
	struct beq_boot *b = boot();
	setup();
	signal_host(BEQ_SIG_INIT);
	for (;;) {
		uint32_t cmd = b->cmd;
		b->cmd = BEQ_CMD_NONE;
		switch (cmd) {
		case BEQ_CMD_EXIT:
			handle_exit();
			signal_host(BEQ_SIG_EXIT);
			break;
		case BEQ_CMD_FINISH:
			finish();
			signal_host(BEQ_SIG_FINAL);
			break;
		default:
			fail(BEQ_ST_BAD_CMD, cmd);
		}
	}
}
