/* EPT violations end to end through hv_handle_exit: guest page tables and
 * instruction bytes in mock guest RAM, an exit record for the console
 * device, then registers, RIP, device state, console output and the MMIO
 * record are checked. Every contained case runs under both policies and
 * must leave RIP, registers, device, console, guest memory and the EPT
 * exactly as they were. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gpt_builder.h"
#include "hv/ept.h"
#include "hv/exit.h"

#define DEV_GPA MOCK_CONSOLE_GPA
#define DEV_SIZE 0x2000ull /* two pages, so in-device page crossings exist */

/* Linear layout */
#define CODE_LA 0x400000ull /* 2 code pages, user -> gpa 0x100000 */
#define CODE_GPA 0x100000ull
#define EDGE_LA 0x402000ull    /* 1 code page, next page absent -> 0x102000 */
#define SUPCODE_LA 0x404000ull /* supervisor code page -> 0x103000 */
#define DEV_LA 0x500000ull     /* device pages 0 and 1, user */
#define ALIAS_LA 0x502000ull   /* device page 0 mapped twice: 0x502000, 0x503000 */
#define SUPDEV_LA 0x504000ull  /* device page 0, supervisor only */
#define DEV2M_LA 0x40000000ull /* 2M page 0xfec00000 -> device at +0x100000 */
#define END_LA 0x506000ull     /* device page 1, then the GPA page after the device */
#define RAM_LA 0x600000ull     /* ordinary RAM page -> 0x105000 */
#define HOLE_LA 0x601000ull    /* -> unmapped GPA 0x20000000 */

#define INIT(r) (0x0f1e2d3c4b5a6978ull + 0x0101010101010101ull * (uint64_t)(r))

struct fixture {
	struct mock_env *env;
	struct gpt_builder b;
	uint8_t *pool_before; /* EPT pages at start */
};

static int setup_policy(void **state, uint32_t policy)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	f->env = calloc(1, sizeof(*f->env));
	if (!f->env)
		return -1;
	mock_config_one(&f->env->cfg);
	f->env->cfg.partitions[0].contain = policy;
	f->env->cfg.partitions[0].devices[0].size = DEV_SIZE;
	if (mock_env_start(f->env) != HV_OK)
		return -1;
	struct gpt_builder *b = &f->b;
	g_init(b, f->env);
	g_map(b, CODE_LA, CODE_GPA, 0, G_RW | G_US);
	g_map(b, CODE_LA + 0x1000, CODE_GPA + 0x1000, 0, G_RW | G_US);
	g_map(b, EDGE_LA, 0x102000, 0, G_RW | G_US);
	g_map(b, SUPCODE_LA, 0x103000, 0, G_RW);
	g_map(b, DEV_LA, DEV_GPA, 0, G_RW | G_US);
	g_map(b, DEV_LA + 0x1000, DEV_GPA + 0x1000, 0, G_RW | G_US);
	g_map(b, ALIAS_LA, DEV_GPA, 0, G_RW | G_US);
	g_map(b, ALIAS_LA + 0x1000, DEV_GPA, 0, G_RW | G_US);
	g_map(b, SUPDEV_LA, DEV_GPA, 0, G_RW);
	g_map(b, DEV2M_LA, 0xfec00000, 1, G_RW | G_US);
	g_map(b, END_LA, DEV_GPA + 0x1000, 0, G_RW | G_US);
	g_map(b, END_LA + 0x1000, DEV_GPA + 0x2000, 0, G_RW | G_US);
	g_map(b, RAM_LA, 0x105000, 0, G_RW | G_US);
	g_map(b, HOLE_LA, 0x20000000, 0, G_RW | G_US);
	f->pool_before = malloc(MOCK_POOL_PAGES * HV_PAGE_SIZE);
	if (!f->pool_before)
		return -1;
	memcpy(f->pool_before, f->env->plat.mem + MOCK_POOL_HPA, MOCK_POOL_PAGES * HV_PAGE_SIZE);
	*state = f;
	return 0;
}

static int setup_halt(void **state)
{
	return setup_policy(state, HV_CONTAIN_HALT);
}

static int setup_gp(void **state)
{
	return setup_policy(state, HV_CONTAIN_INJECT_GP);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	mock_env_stop(f->env);
	free(f->pool_before);
	free(f->env);
	free(f);
	return 0;
}

/* The EPT is exactly as built: same pool usage, same table bytes. */
static void assert_ept_unchanged(const struct fixture *f, const char *name)
{
	if (memcmp(f->pool_before, f->env->plat.mem + MOCK_POOL_HPA,
	           MOCK_POOL_PAGES * HV_PAGE_SIZE) != 0)
		fail_msg("%s: EPT pages changed", name);
	struct hv_ept_map map;
	assert_int_equal(
	        hv_ept_translate(&f->env->pool, f->env->sys.parts[0].ept_root, DEV_GPA, &map),
	        HV_OK);
	if (map.present)
		fail_msg("%s: the device GPA became mapped", name);
}

/* Instruction bytes at linear address la (inside one of the code pages). */
static void put_code(struct fixture *f, uint64_t la, const uint8_t *code, size_t n)
{
	uint64_t gpa = la >= SUPCODE_LA ? 0x103000 + (la - SUPCODE_LA)
	               : la >= EDGE_LA  ? 0x102000 + (la - EDGE_LA)
	                                : CODE_GPA + (la - CODE_LA);
	mock_poke(f->env, MOCK_P0_RAM_HPA + gpa, code, n);
}

struct reg_init {
	int reg; /* -1 ends the list */
	uint64_t value;
};

/* ---- emulated accesses -------------------------------------------------- */

struct ok_case {
	const char *name;
	uint8_t code[16];
	uint32_t code_len;
	uint64_t rip;
	struct reg_init regs[3];
	uint8_t cpl;
	bool gla_valid;
	uint64_t gpa; /* exit GPA */
	/* expected */
	struct hv_mmio_access mmio;
	int dst_reg; /* register a load changes, -1 none */
	uint64_t dst_val;
	uint64_t scratch;    /* device scratch after (starts SCRATCH0) */
	uint32_t rings;      /* after (starts 0) */
	const char *console; /* bytes written to the console */
};

#define C(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})
#define SCRATCH0 0x88776655443382f1ull
#define END                                                                                        \
	{                                                                                          \
		-1, 0                                                                              \
	}
#define RD false
#define WR true
#define MM(gpa, data, size, wr, reg, len)                                                          \
	{                                                                                          \
		gpa, data, size, wr, reg, len                                                      \
	}

static const struct ok_case ok_cases[] = {
        {"mov [rax],bl -> DATA",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, {HV_RBX, 0x41}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 0x41, 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "A"},
        {"mov [rcx],ah -> DATA",
         C(0x88, 0x21),
         CODE_LA,
         {{HV_RCX, DEV_LA}, {HV_RAX, 0x4200}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 0x42, 1, WR, HV_RAX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "B"},
        {"mov [rcx],spl -> DATA",
         C(0x40, 0x88, 0x21),
         CODE_LA,
         {{HV_RCX, DEV_LA}, {HV_RSP, 0x4443}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 0x43, 1, WR, HV_RSP, 3),
         -1,
         0,
         SCRATCH0,
         0,
         "C"},
        {"mov [rcx],edx -> DATA: low byte",
         C(0x89, 0x11),
         CODE_LA,
         {{HV_RCX, DEV_LA}, {HV_RDX, 0xffffff0a}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 0xffffff0a, 4, WR, HV_RDX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "\n"},
        {"mov [rcx+0x20],r9 -> SCRATCH",
         C(0x4c, 0x89, 0x49, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, {HV_R9, 0x0123456789abcdefull}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0x0123456789abcdefull, 8, WR, HV_R9, 4),
         -1,
         0,
         0x0123456789abcdefull,
         0,
         ""},
        {"mov word [rcx+0x20],imm16",
         C(0x66, 0xc7, 0x41, 0x20, 0x34, 0x12),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0x1234, 2, WR, 0xff, 6),
         -1,
         0,
         0x8877665544331234ull,
         0,
         ""},
        {"mov qword [rcx+0x20],-imm32",
         C(0x48, 0xc7, 0x41, 0x20, 0x00, 0x00, 0x00, 0x80),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0xffffffff80000000ull, 8, WR, 0xff, 8),
         -1,
         0,
         0xffffffff80000000ull,
         0,
         ""},
        /* rip + 10 + disp = DEV_LA + 0x20 */
        {"mov dword [rip+disp],imm32",
         C(0xc7, 0x05, 0x16, 0x00, 0x10, 0x00, 0xef, 0xbe, 0xad, 0xde),
         CODE_LA,
         {END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0xdeadbeef, 4, WR, 0xff, 10),
         -1,
         0,
         0x88776655deadbeefull,
         0,
         ""},
        {"mov byte [rcx+0x20],imm8 (ds prefix)",
         C(0x3e, 0xc6, 0x41, 0x20, 0x99),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0x99, 1, WR, 0xff, 5),
         -1,
         0,
         0x8877665544338299ull,
         0,
         ""},
        {"mov [rcx+rdx*8],eax -> DOORBELL",
         C(0x89, 0x04, 0xd1),
         CODE_LA,
         {{HV_RCX, DEV_LA}, {HV_RDX, 2}, {HV_RAX, 0xfeedf00dcafe}},
         0,
         false,
         DEV_GPA + HV_CONSOLE_DOORBELL,
         MM(DEV_GPA + 0x10, 0xf00dcafe, 4, WR, HV_RAX, 3),
         -1,
         0,
         SCRATCH0,
         1,
         ""},
        /* loads */
        {"mov eax,[rcx+8] STATUS",
         C(0x8b, 0x41, 0x08),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 8,
         MM(DEV_GPA + 8, 1, 4, RD, HV_RAX, 3),
         HV_RAX,
         1,
         SCRATCH0,
         0,
         ""},
        {"mov r10,[rcx+0x20]",
         C(0x4c, 0x8b, 0x51, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, SCRATCH0, 8, RD, HV_R10, 4),
         HV_R10,
         SCRATCH0,
         SCRATCH0,
         0,
         ""},
        {"mov r10w,[rcx+0x20] merges",
         C(0x66, 0x44, 0x8b, 0x51, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0x82f1, 2, RD, HV_R10, 5),
         HV_R10,
         (INIT(HV_R10) & ~0xffffull) | 0x82f1,
         SCRATCH0,
         0,
         ""},
        {"mov dh,[rcx+0x20]",
         C(0x8a, 0x71, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0xf1, 1, RD, HV_RDX, 3),
         HV_RDX,
         (INIT(HV_RDX) & ~0xff00ull) | 0xf100,
         SCRATCH0,
         0,
         ""},
        {"mov sil,[rcx+0x20]",
         C(0x40, 0x8a, 0x71, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0xf1, 1, RD, HV_RSI, 4),
         HV_RSI,
         (INIT(HV_RSI) & ~0xffull) | 0xf1,
         SCRATCH0,
         0,
         ""},
        {"movzx eax,byte [rcx+8]",
         C(0x0f, 0xb6, 0x41, 0x08),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 8,
         MM(DEV_GPA + 8, 1, 1, RD, HV_RAX, 4),
         HV_RAX,
         1,
         SCRATCH0,
         0,
         ""},
        {"movsx rax,byte [rcx+0x20]",
         C(0x48, 0x0f, 0xbe, 0x41, 0x20),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0xf1, 1, RD, HV_RAX, 5),
         HV_RAX,
         0xfffffffffffffff1ull,
         SCRATCH0,
         0,
         ""},
        {"movsx ecx,word [rax+0x20]",
         C(0x0f, 0xbf, 0x48, 0x20),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 0x82f1, 2, RD, HV_RCX, 4),
         HV_RCX,
         0xffff82f1ull,
         SCRATCH0,
         0,
         ""},
        {"movsx ecx,word [rax+0x10] (write-only reads 0)",
         C(0x0f, 0xbf, 0x48, 0x10),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x10,
         MM(DEV_GPA + 0x10, 0, 2, RD, HV_RCX, 4),
         HV_RCX,
         0,
         SCRATCH0,
         0,
         ""},
        {"movzx r11d,word [rcx+0x18] RINGS",
         C(0x44, 0x0f, 0xb7, 0x59, 0x18),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x18,
         MM(DEV_GPA + 0x18, 0, 2, RD, HV_R11, 5),
         HV_R11,
         0,
         SCRATCH0,
         0,
         ""},
        {"load of an unknown offset reads 0",
         C(0x48, 0x8b, 0x81, 0x00, 0x01, 0x00, 0x00),
         CODE_LA,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x100,
         MM(DEV_GPA + 0x100, 0, 8, RD, HV_RAX, 7),
         HV_RAX,
         0,
         SCRATCH0,
         0,
         ""},
        /* translation variety */
        {"through a 2M guest page",
         C(0x88, 0x19),
         CODE_LA,
         {{HV_RCX, DEV2M_LA + 0x100000}, {HV_RBX, 'Z'}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 'Z', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "Z"},
        {"second device page",
         C(0x88, 0x19),
         CODE_LA,
         {{HV_RCX, DEV_LA + 0x1000}, {HV_RBX, 'Q'}, END},
         0,
         false,
         DEV_GPA + 0x1000,
         MM(DEV_GPA + 0x1000, 'Q', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         ""},
        {"8 bytes across device pages",
         C(0x48, 0x89, 0x19),
         CODE_LA,
         {{HV_RCX, DEV_LA + 0xffc}, {HV_RBX, 7}, END},
         0,
         false,
         DEV_GPA + 0xffc,
         MM(DEV_GPA + 0xffc, 7, 8, WR, HV_RBX, 3),
         -1,
         0,
         SCRATCH0,
         0,
         ""},
        {"GLA valid and equal",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, {HV_RBX, 'g'}, END},
         0,
         true,
         DEV_GPA,
         MM(DEV_GPA, 'g', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "g"},
        {"user mode",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, {HV_RBX, 'u'}, END},
         3,
         false,
         DEV_GPA,
         MM(DEV_GPA, 'u', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "u"},
        {"supervisor mapping, CPL 0",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, SUPDEV_LA}, {HV_RBX, 's'}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 's', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "s"},
        /* code placement */
        {"instruction at the end of a page, next page absent",
         C(0x88, 0x18),
         EDGE_LA + 0xffe,
         {{HV_RAX, DEV_LA}, {HV_RBX, 'e'}, END},
         0,
         false,
         DEV_GPA,
         MM(DEV_GPA, 'e', 1, WR, HV_RBX, 2),
         -1,
         0,
         SCRATCH0,
         0,
         "e"},
        {"instruction across two code pages",
         C(0x48, 0xc7, 0x41, 0x20, 0x05, 0x00, 0x00, 0x00),
         CODE_LA + 0xffd,
         {{HV_RCX, DEV_LA}, END},
         0,
         false,
         DEV_GPA + 0x20,
         MM(DEV_GPA + 0x20, 5, 8, WR, 0xff, 8),
         -1,
         0,
         5,
         0,
         ""},
};

static void set_regs(struct hv_exit *e, const struct reg_init *ri)
{
	for (int r = 0; r < HV_GPR_COUNT; r++)
		e->st.gpr[r] = INIT(r);
	for (int i = 0; i < 3 && ri[i].reg >= 0; i++)
		e->st.gpr[ri[i].reg] = ri[i].value;
}

static void make_exit(struct fixture *f, struct hv_exit *e, uint64_t rip, uint64_t qual,
                      uint64_t gpa, uint8_t cpl)
{
	memset(e, 0, sizeof(*e));
	e->reason = HV_EXIT_EPT_VIOLATION;
	e->qual = qual;
	e->gpa = gpa;
	g_state(&f->b, &e->st);
	e->st.rip = rip;
	e->st.cpl = cpl;
}

static void run_emulated(struct fixture *f)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct hv_device_state *ds = &f->env->sys.parts[0].devices[0];
		ds->scratch = SCRATCH0;
		ds->rings = 0;
		uint32_t con_before = f->env->plat.console_len;
		uint32_t writes = f->env->plat.calls[MOCK_OP_PHYS_WRITE];

		put_code(f, c->rip, c->code, c->code_len);
		struct hv_exit e;
		make_exit(f, &e, c->rip, c->mmio.is_write ? HV_QUAL_WRITE : HV_QUAL_READ, c->gpa,
		          c->cpl);
		set_regs(&e, c->regs);
		struct hv_exit before = e;
		if (c->gla_valid) {
			e.qual |= HV_QUAL_GLA_VALID;
			e.gla = c->mmio.gpa - DEV_GPA + DEV_LA;
		}
		struct hv_result res;
		hv_handle_exit(&f->env->sys, &e, &res);

		if (res.action != HV_ACT_RESUME)
			fail_msg("%s: action %s (halt %s, vector %u)", c->name,
			         hv_action_str(res.action), hv_halt_reason_str(res.halt_reason),
			         res.vector);
		if (e.st.rip != before.st.rip + c->code_len || res.insn_len != c->code_len)
			fail_msg("%s: rip advanced by %llu, expected %u", c->name,
			         (unsigned long long)(e.st.rip - before.st.rip), c->code_len);
		if (!res.has_mmio)
			fail_msg("%s: no mmio record", c->name);
		const struct hv_mmio_access *m = &res.mmio;
		if (m->gpa != c->mmio.gpa || m->data != c->mmio.data || m->size != c->mmio.size ||
		    m->is_write != c->mmio.is_write || m->reg != c->mmio.reg ||
		    m->insn_len != c->mmio.insn_len)
			fail_msg(
			        "%s: mmio {gpa 0x%llx data 0x%llx size %u write %u reg %u len %u}, "
			        "expected {0x%llx 0x%llx %u %u %u %u}",
			        c->name, (unsigned long long)m->gpa, (unsigned long long)m->data,
			        m->size, m->is_write, m->reg, m->insn_len,
			        (unsigned long long)c->mmio.gpa, (unsigned long long)c->mmio.data,
			        c->mmio.size, c->mmio.is_write, c->mmio.reg, c->mmio.insn_len);
		for (int r = 0; r < HV_GPR_COUNT; r++) {
			uint64_t want = r == c->dst_reg ? c->dst_val : before.st.gpr[r];
			if (e.st.gpr[r] != want)
				fail_msg("%s: r%d is 0x%llx, expected 0x%llx", c->name, r,
				         (unsigned long long)e.st.gpr[r], (unsigned long long)want);
		}
		if (ds->scratch != c->scratch || ds->rings != c->rings)
			fail_msg("%s: scratch 0x%llx rings %u, expected 0x%llx %u", c->name,
			         (unsigned long long)ds->scratch, ds->rings,
			         (unsigned long long)c->scratch, c->rings);
		size_t nc = strlen(c->console);
		if (f->env->plat.console_len - con_before != nc ||
		    memcmp(f->env->plat.console + con_before, c->console, nc) != 0)
			fail_msg("%s: console output differs", c->name);
		if (f->env->sys.parts[0].halted != HV_HALT_NONE)
			fail_msg("%s: partition halted", c->name);
		if (f->env->plat.calls[MOCK_OP_PHYS_WRITE] != writes)
			fail_msg("%s: guest memory written", c->name);
		assert_ept_unchanged(f, c->name);
	}
}

static void test_ept_violation_emulated_halt_policy(void **state)
{
	run_emulated(*state);
}

static void test_ept_violation_emulated_gp_policy(void **state)
{
	run_emulated(*state);
}

/* ---- contained ------------------------------------------------------------ */

enum cmod {
	X_NONE = 0,
	X_NO_LMA = 1 << 0,
	X_NO_PG = 1 << 1,
	X_GLA_OFF = 1 << 2, /* GLA valid but 8 bytes off */
};

struct bad_case {
	const char *name;
	uint8_t code[16];
	uint32_t code_len;
	uint64_t rip;
	struct reg_init regs[3];
	uint8_t cpl;
	uint64_t qual;
	uint64_t gpa;
	uint32_t mods;
};

#define QR HV_QUAL_READ
#define QW HV_QUAL_WRITE
#define QX HV_QUAL_FETCH

static const struct bad_case bad_cases[] = {
        {"fetch from the device",
         C(0x8a, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QX | QR,
         DEV_GPA,
         X_NONE},
        {"unmapped GPA, not a device",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, HOLE_LA}, END},
         0,
         QW,
         0x20000000,
         X_NONE},
        {"write to read-only mapped RAM",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, RAM_LA}, END},
         0,
         QW | (1ull << HV_QUAL_PERM_SHIFT),
         0x105000,
         X_NONE},
        {"device GPA with permission bits",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW | (1ull << HV_QUAL_PERM_SHIFT),
         DEV_GPA,
         X_NONE},
        {"neither read nor write",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         0,
         DEV_GPA,
         X_NONE},
        {"read and write",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QR | QW,
         DEV_GPA,
         X_NONE},
        {"load, but qualification says write",
         C(0x8a, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"store, but qualification says read",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QR,
         DEV_GPA,
         X_NONE},
        {"unsupported instruction (add)",
         C(0x01, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"lock prefix",
         C(0xf0, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"fs override",
         C(0x64, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"register operand",
         C(0x89, 0xd8),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"truncated by an absent next page",
         C(0x89),
         EDGE_LA + 0xfff,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"code page not present",
         C(0x90),
         0x700000,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"non-canonical rip", C(0x90), 0x0000900000000000ull, {END}, 0, QW, DEV_GPA, X_NONE},
        {"user code on a supervisor page",
         C(0x88, 0x18),
         SUPCODE_LA,
         {{HV_RAX, DEV_LA}, END},
         3,
         QW,
         DEV_GPA,
         X_NONE},
        {"user access to a supervisor mapping",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, SUPDEV_LA}, END},
         3,
         QW,
         DEV_GPA,
         X_NONE},
        {"address disagrees with the exit GPA",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA + 0x20}, END},
         0,
         QW,
         DEV_GPA + 0x28,
         X_NONE},
        {"address translates elsewhere",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, RAM_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"address not translatable",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, 0x700000}, END},
         0,
         QW,
         DEV_GPA,
         X_NONE},
        {"GLA disagrees",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_GLA_OFF},
        {"crosses the device end",
         C(0x48, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA + 0x1ffc}, END},
         0,
         QW,
         DEV_GPA + 0x1ffc,
         X_NONE},
        {"crosses the device end, contiguous pages",
         C(0x48, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, END_LA + 0xffc}, END},
         0,
         QW,
         DEV_GPA + 0x1ffc,
         X_NONE},
        {"crosses into an aliased page",
         C(0x48, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, ALIAS_LA + 0xffc}, END},
         0,
         QW,
         DEV_GPA + 0xffc,
         X_NONE},
        {"crossing into an unmapped linear page",
         C(0x48, 0x89, 0x18),
         CODE_LA,
         {{HV_RAX, SUPDEV_LA + 0xffc}, END},
         0,
         QW,
         DEV_GPA + 0xffc,
         X_NONE},
        {"not in IA-32e mode",
         C(0x88, 0x18),
         CODE_LA,
         {{HV_RAX, DEV_LA}, END},
         0,
         QW,
         DEV_GPA,
         X_NO_LMA},
        {"paging disabled",
         C(0x88, 0x18),
         CODE_GPA,
         {{HV_RAX, DEV_GPA}, END},
         0,
         QW,
         DEV_GPA,
         X_NO_PG},
};

static void run_contained(struct fixture *f, bool gp)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		f->env->sys.parts[0].halted = HV_HALT_NONE;
		struct hv_device_state dev_before = f->env->sys.parts[0].devices[0];
		uint32_t con_before = f->env->plat.console_len;
		uint32_t writes = f->env->plat.calls[MOCK_OP_PHYS_WRITE];

		put_code(f, c->rip >= CODE_LA && c->rip < 0x405000 ? c->rip : CODE_LA, c->code,
		         c->code_len);
		struct hv_exit e;
		make_exit(f, &e, c->rip, c->qual, c->gpa, c->cpl);
		set_regs(&e, c->regs);
		if (c->mods & X_NO_LMA)
			e.st.efer &= ~(G_EFER_LMA | G_EFER_LME);
		if (c->mods & X_NO_PG) {
			e.st.cr0 &= ~G_CR0_PG;
			e.st.efer &= ~G_EFER_LMA;
		}
		if (c->mods & X_GLA_OFF) {
			e.qual |= HV_QUAL_GLA_VALID;
			e.gla = e.st.gpr[HV_RAX] + 8;
		}
		struct hv_exit before = e;
		struct hv_result res;
		hv_handle_exit(&f->env->sys, &e, &res);

		if (gp) {
			if (res.action != HV_ACT_INJECT || res.vector != HV_VEC_GP ||
			    !res.has_error_code || res.error_code != 0)
				fail_msg("%s: expected #GP(0), got %s vector %u", c->name,
				         hv_action_str(res.action), res.vector);
			if (f->env->sys.parts[0].halted != HV_HALT_NONE)
				fail_msg("%s: partition halted under the #GP policy", c->name);
		} else {
			if (res.action != HV_ACT_HALT || res.halt_reason != HV_HALT_VIOLATION)
				fail_msg("%s: expected halt(violation), got %s", c->name,
				         hv_action_str(res.action));
			if (f->env->sys.parts[0].halted != HV_HALT_VIOLATION)
				fail_msg("%s: partition not marked halted", c->name);
		}
		if (res.has_mmio)
			fail_msg("%s: contained exit has an mmio record", c->name);
		if (memcmp(&e.st, &before.st, sizeof(e.st)) != 0)
			fail_msg("%s: vCPU state changed (rip 0x%llx -> 0x%llx)", c->name,
			         (unsigned long long)before.st.rip, (unsigned long long)e.st.rip);
		if (memcmp(&dev_before, &f->env->sys.parts[0].devices[0], sizeof(dev_before)) != 0)
			fail_msg("%s: device state changed", c->name);
		if (f->env->plat.console_len != con_before)
			fail_msg("%s: console written", c->name);
		if (f->env->plat.calls[MOCK_OP_PHYS_WRITE] != writes)
			fail_msg("%s: guest memory written", c->name);
		assert_ept_unchanged(f, c->name);
	}
	f->env->sys.parts[0].halted = HV_HALT_NONE;
}

static void test_ept_violation_contained_halt(void **state)
{
	run_contained(*state, false);
}

static void test_ept_violation_contained_gp(void **state)
{
	run_contained(*state, true);
}

/* After a contained violation under the halt policy, the partition stays
 * halted: a valid device access is not emulated any more. */
static void test_ept_violation_halt_is_final(void **state)
{
	struct fixture *f = *state;
	static const uint8_t store[] = {0x88, 0x18};
	put_code(f, CODE_LA, store, sizeof(store));
	struct hv_exit e;
	struct hv_result res;
	make_exit(f, &e, CODE_LA, HV_QUAL_READ, DEV_GPA, 0); /* direction mismatch */
	e.st.gpr[HV_RAX] = DEV_LA;
	hv_handle_exit(&f->env->sys, &e, &res);
	assert_int_equal(res.action, HV_ACT_HALT);
	make_exit(f, &e, CODE_LA, HV_QUAL_WRITE, DEV_GPA, 0);
	e.st.gpr[HV_RAX] = DEV_LA;
	uint32_t con = f->env->plat.console_len;
	hv_handle_exit(&f->env->sys, &e, &res);
	assert_int_equal(res.action, HV_ACT_HALT);
	assert_int_equal(e.st.rip, CODE_LA);
	assert_int_equal(f->env->plat.console_len, con);
}

/* A platform failure while fetching the instruction is contained. */
static void test_ept_violation_fetch_failure(void **state)
{
	struct fixture *f = *state;
	static const uint8_t store[] = {0x88, 0x18};
	put_code(f, CODE_LA, store, sizeof(store));
	for (uint32_t n = 1; n <= 5; n++) {
		f->env->sys.parts[0].halted = HV_HALT_NONE;
		struct hv_exit e;
		struct hv_result res;
		make_exit(f, &e, CODE_LA, HV_QUAL_WRITE, DEV_GPA, 0);
		e.st.gpr[HV_RAX] = DEV_LA;
		e.st.gpr[HV_RBX] = 'f';
		f->env->plat.fail_nth[MOCK_OP_PHYS_READ] =
		        f->env->plat.calls[MOCK_OP_PHYS_READ] + n;
		hv_handle_exit(&f->env->sys, &e, &res);
		f->env->plat.fail_nth[MOCK_OP_PHYS_READ] = 0;
		assert_int_equal(res.action, HV_ACT_HALT);
		assert_int_equal(e.st.rip, CODE_LA);
	}
	f->env->sys.parts[0].halted = HV_HALT_NONE;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_ept_violation_emulated_halt_policy, setup_halt,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_ept_violation_emulated_gp_policy, setup_gp,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_ept_violation_contained_halt, setup_halt,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_ept_violation_contained_gp, setup_gp,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_ept_violation_halt_is_final, setup_halt,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_ept_violation_fetch_failure, setup_halt,
	                                        teardown),
	};
	return cmocka_run_group_tests_name("ept_violation", tests, NULL, NULL);
}
