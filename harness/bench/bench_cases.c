#include "bench_cases.h"

#include <string.h>

#include "hv/hcall.h"
#include "hv/msr.h"

#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)

/* Hypercall buffers in partition 0 RAM, one page each. */
#define CONSOLE_BUF (HXB_BUF_GPA + 0x0000)
#define INFO_BUF (HXB_BUF_GPA + 0x1000)
#define SEND_BUF (HXB_BUF_GPA + 0x2000)
#define RECV_BUF (HXB_BUF_GPA + 0x3000)
#define CONSOLE_LEN 64u /* one console line */
#define MSG_LEN 256u    /* a typical channel message */
#define UNMAPPED_GPA 0x20000000ull

/* MOV [RBX+0x20], RAX: REX.W 89 /r, ModRM mod=01 reg=RAX rm=RBX, disp8 */
static const uint8_t store_insn[] = {0x48, 0x89, 0x43, 0x20};
/* MOV EAX, [RBX+8]: 8B /r, ModRM mod=01 reg=EAX rm=RBX, disp8 */
static const uint8_t load_insn[] = {0x8b, 0x43, 0x08};
#define STORE_LA HXB_CODE_LA
#define LOAD_LA (HXB_CODE_LA + 0x10)

void hxb_cases_setup(struct hxb_system *s)
{
	static const char line[CONSOLE_LEN + 1] =
	        "hx bench: one console line of sixty-four bytes, as guests write\n";
	hxb_poke(s, CONSOLE_BUF, line, CONSOLE_LEN);
	uint8_t msg[MSG_LEN];
	for (uint32_t i = 0; i < MSG_LEN; i++)
		msg[i] = (uint8_t)(i * 7 + 1);
	hxb_poke(s, SEND_BUF, msg, sizeof(msg));
	hxb_gpt_map(s, HXB_CODE_LA, HXB_CODE_GPA);
	hxb_gpt_map(s, HXB_DEV_LA, HXB_DEV_GPA);
	hxb_poke(s, HXB_CODE_GPA + (STORE_LA - HXB_CODE_LA), store_insn, sizeof(store_insn));
	hxb_poke(s, HXB_CODE_GPA + (LOAD_LA - HXB_CODE_LA), load_insn, sizeof(load_insn));
}

/* Every case starts from a running partition: SHUTDOWN and contained
 * violations halt it. */
static void base_exit(struct hxb_system *s, struct hv_exit *e, uint32_t reason, uint32_t insn_len)
{
	s->sys.parts[0].halted = HV_HALT_NONE;
	memset(e, 0, sizeof(*e));
	e->reason = reason;
	e->insn_len = insn_len;
	e->st.rip = 0x401000;
	e->st.rflags = 2;
	e->st.cr0 = CR0_PE | CR0_PG | CR0_WP;
	e->st.cr4 = CR4_PAE;
	e->st.efer = HV_EFER_LME | HV_EFER_LMA | HV_EFER_NXE;
	e->st.cr3 = s->cr3;
	for (int r = 0; r < HV_GPR_COUNT; r++)
		e->st.gpr[r] = 0x1111111111111111ull * (uint64_t)(r + 1);
}

static const char *resumed(const struct hv_result *r)
{
	return r->action == HV_ACT_RESUME ? NULL : "not resumed";
}

/* ---- CPUID, MSRs ---- */

static void prep_cpuid(struct hxb_system *s, struct hv_exit *e)
{
	base_exit(s, e, HV_EXIT_CPUID, 2);
	e->st.gpr[HV_RAX] = 1; /* feature leaf: host values masked */
	e->st.gpr[HV_RCX] = 0;
}

static const char *check_cpuid(const struct hxb_system *s, const struct hv_exit *e,
                               const struct hv_result *r)
{
	(void)s;
	if (r->action != HV_ACT_RESUME)
		return "not resumed";
	return (e->st.gpr[HV_RCX] & (1u << 31)) ? NULL : "hypervisor bit missing";
}

static void prep_rdmsr(struct hxb_system *s, struct hv_exit *e)
{
	base_exit(s, e, HV_EXIT_RDMSR, 2);
	e->st.gpr[HV_RCX] = HV_MSR_PAT;
}

static const char *check_rdmsr(const struct hxb_system *s, const struct hv_exit *e,
                               const struct hv_result *r)
{
	(void)s;
	if (r->action != HV_ACT_RESUME)
		return "not resumed";
	return e->st.gpr[HV_RAX] == 0x00070406ull && e->st.gpr[HV_RDX] == 0x00070406ull
	               ? NULL
	               : "wrong PAT value";
}

static void prep_wrmsr(struct hxb_system *s, struct hv_exit *e)
{
	base_exit(s, e, HV_EXIT_WRMSR, 2);
	e->st.gpr[HV_RCX] = HV_MSR_PAT;
	e->st.gpr[HV_RAX] = 0x00070406ull;
	e->st.gpr[HV_RDX] = 0x00070406ull;
}

static const char *check_wrmsr(const struct hxb_system *s, const struct hv_exit *e,
                               const struct hv_result *r)
{
	(void)s;
	(void)e;
	return resumed(r);
}

/* ---- hypercalls ---- */

static void hcall(struct hxb_system *s, struct hv_exit *e, uint64_t nr, uint64_t a1, uint64_t a2,
                  uint64_t a3)
{
	base_exit(s, e, HV_EXIT_VMCALL, 3);
	e->st.gpr[HV_RAX] = nr;
	e->st.gpr[HV_RDI] = a1;
	e->st.gpr[HV_RSI] = a2;
	e->st.gpr[HV_RDX] = a3;
}

static const char *check_hc_ok(const struct hxb_system *s, const struct hv_exit *e,
                               const struct hv_result *r)
{
	(void)s;
	if (r->action != HV_ACT_RESUME)
		return "not resumed";
	return e->st.gpr[HV_RAX] == HV_HC_OK ? NULL : "hypercall failed";
}

static void prep_version(struct hxb_system *s, struct hv_exit *e)
{
	hcall(s, e, HV_HC_VERSION, 0, 0, 0);
}

static void prep_console(struct hxb_system *s, struct hv_exit *e)
{
	hcall(s, e, HV_HC_CONSOLE_WRITE, CONSOLE_BUF, CONSOLE_LEN, 0);
}

static void prep_info(struct hxb_system *s, struct hv_exit *e)
{
	hcall(s, e, HV_HC_PARTITION_INFO, INFO_BUF, sizeof(struct hv_hc_info), 0);
}

static void prep_send(struct hxb_system *s, struct hv_exit *e)
{
	s->sys.channels[0].msg_len = 0; /* mailbox empty again */
	hcall(s, e, HV_HC_CHANNEL_SEND, 0, SEND_BUF, MSG_LEN);
}

static void prep_recv(struct hxb_system *s, struct hv_exit *e)
{
	s->sys.channels[0].msg_len = MSG_LEN; /* a message is waiting */
	hcall(s, e, HV_HC_CHANNEL_RECV, 0, RECV_BUF, HV_HC_MSG_MAX);
}

static const char *check_recv(const struct hxb_system *s, const struct hv_exit *e,
                              const struct hv_result *r)
{
	const char *why = check_hc_ok(s, e, r);
	if (why)
		return why;
	return e->st.gpr[HV_RDI] == MSG_LEN ? NULL : "wrong message length";
}

/* One 4 KiB page of a 2 MiB leaf made read-only: the handler checks the
 * range, splits the large page (one table page from the pool) and reduces
 * the page. The EPT is put back as built before every iteration. */
static void prep_protect(struct hxb_system *s, struct hv_exit *e)
{
	hxb_restore_ept(s);
	hcall(s, e, HV_HC_MEM_PROTECT, HXB_PROT_GPA, HV_PAGE_SIZE, HV_PERM_R);
}

static const char *check_protect(const struct hxb_system *s, const struct hv_exit *e,
                                 const struct hv_result *r)
{
	const char *why = check_hc_ok(s, e, r);
	if (why)
		return why;
	return s->pool.used == s->pool_mark + 1 ? NULL : "large page not split";
}

static void prep_yield(struct hxb_system *s, struct hv_exit *e)
{
	hcall(s, e, HV_HC_YIELD, 0, 0, 0);
}

static void prep_shutdown(struct hxb_system *s, struct hv_exit *e)
{
	hcall(s, e, HV_HC_SHUTDOWN, 0, 0, 0);
}

static const char *check_shutdown(const struct hxb_system *s, const struct hv_exit *e,
                                  const struct hv_result *r)
{
	(void)s;
	(void)e;
	return r->action == HV_ACT_HALT && r->halt_reason == HV_HALT_SHUTDOWN ? NULL
	                                                                      : "not shut down";
}

/* ---- EPT violations ---- */

static void ept_exit(struct hxb_system *s, struct hv_exit *e, uint64_t rip, uint64_t qual,
                     uint64_t gpa, uint64_t gla)
{
	base_exit(s, e, HV_EXIT_EPT_VIOLATION, 0);
	e->st.rip = rip;
	e->st.gpr[HV_RBX] = HXB_DEV_LA;
	e->qual = qual | HV_QUAL_GLA_VALID;
	e->gpa = gpa;
	e->gla = gla;
}

static void prep_mmio_store(struct hxb_system *s, struct hv_exit *e)
{
	ept_exit(s, e, STORE_LA, HV_QUAL_WRITE, HXB_DEV_GPA + 0x20, HXB_DEV_LA + 0x20);
}

static void prep_mmio_load(struct hxb_system *s, struct hv_exit *e)
{
	ept_exit(s, e, LOAD_LA, HV_QUAL_READ, HXB_DEV_GPA + 0x8, HXB_DEV_LA + 0x8);
}

static const char *check_mmio(const struct hxb_system *s, const struct hv_exit *e,
                              const struct hv_result *r)
{
	(void)s;
	(void)e;
	if (r->action != HV_ACT_RESUME)
		return "not resumed";
	return r->has_mmio ? NULL : "no MMIO emulated";
}

static void prep_contained(struct hxb_system *s, struct hv_exit *e)
{
	ept_exit(s, e, LOAD_LA, HV_QUAL_READ, UNMAPPED_GPA, 0x600000);
}

static const char *check_contained(const struct hxb_system *s, const struct hv_exit *e,
                                   const struct hv_result *r)
{
	(void)s;
	(void)e;
	return r->action == HV_ACT_HALT && r->halt_reason == HV_HALT_VIOLATION ? NULL
	                                                                       : "not contained";
}

const struct hxb_case hxb_cases[] = {
        {"cpuid", "CPUID leaf 1: host values, policy, fixed masks", prep_cpuid, check_cpuid},
        {"rdmsr", "RDMSR IA32_PAT, emulated per vCPU", prep_rdmsr, check_rdmsr},
        {"wrmsr", "WRMSR IA32_PAT, emulated, checked value", prep_wrmsr, check_wrmsr},
        {"hc_version", "VMCALL VERSION", prep_version, check_hc_ok},
        {"hc_console_write", "VMCALL CONSOLE_WRITE, 64 bytes", prep_console, check_hc_ok},
        {"hc_partition_info", "VMCALL PARTITION_INFO", prep_info, check_hc_ok},
        {"hc_channel_send", "VMCALL CHANNEL_SEND, 256 bytes", prep_send, check_hc_ok},
        {"hc_channel_recv", "VMCALL CHANNEL_RECV, 256 bytes", prep_recv, check_recv},
        {"hc_mem_protect", "VMCALL MEM_PROTECT, 4 KiB of a 2 MiB page (split)", prep_protect,
         check_protect},
        {"hc_yield", "VMCALL YIELD", prep_yield, check_hc_ok},
        {"hc_shutdown", "VMCALL SHUTDOWN", prep_shutdown, check_shutdown},
        {"ept_mmio_store", "EPT violation: MOV [RBX+0x20],RAX to the console device",
         prep_mmio_store, check_mmio},
        {"ept_mmio_load", "EPT violation: MOV EAX,[RBX+8] from the console device", prep_mmio_load,
         check_mmio},
        {"ept_contained", "EPT violation on an unmapped GPA, partition halted", prep_contained,
         check_contained},
};
const size_t hxb_ncases = sizeof(hxb_cases) / sizeof(hxb_cases[0]);

const struct hxb_case *hxb_case_find(const char *name)
{
	for (size_t i = 0; i < hxb_ncases; i++)
		if (strcmp(hxb_cases[i].name, name) == 0)
			return &hxb_cases[i];
	return NULL;
}
