/* Oracles (harness/oracle): real handler runs on a mocked two-partition
 * system report nothing; the same exits, tampered after the handler ran
 * (the result, the registers, the observer log or hypervisor state), make
 * the oracle report exactly the invariant that was broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/cpuid.h"
#include "hv/ept.h"
#include "hv/hcall.h"
#include "hv/msr.h"
#include "mock_config.h"
#include "observer.h"
#include "oracle.h"

#define RIP0 0x401000ull
#define BUF_GPA 0x20000ull
#define CODE_GPA 0x10000ull
#define PT_GPA 0x3000ull

struct fx {
	struct mock_env env;
	struct hx_observer obs;
	struct hx_oracle *o;
	uint32_t count[HV_INV_COUNT];
	uint32_t total;
	char last[HX_ORACLE_MSG_MAX];
};

static void on_report(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	struct fx *f = ctx;
	(void)index;
	assert_true(inv < HV_INV_COUNT);
	f->count[inv]++;
	f->total++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->env.cfg);
	/* p0's port-I/O devices (IO-GUARD rows). */
	struct hv_partition_config *p0 = &f->env.cfg.partitions[0];
	p0->io[p0->nio++] = (struct hv_io_device){.base = 0x70, .type = HV_IO_RTC};
	p0->io[p0->nio++] = (struct hv_io_device){.base = 0x3f8, .type = HV_IO_UART};
	assert_int_equal(mock_env_start(&f->env), HV_OK);
	hx_observer_init(&f->obs, NULL, NULL);
	hx_observer_install(&f->obs, &f->env.sys);
	assert_ptr_equal(f->env.sys.ops, &hx_observer_ops);
	f->o = hx_oracle_new(&f->env.sys, on_report, f);
	assert_non_null(f->o);
	mock_identity_page_tables(&f->env, MOCK_P0_RAM_HPA, PT_GPA);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	hx_oracle_free(f->o);
	mock_env_stop(&f->env);
	free(f);
	return 0;
}

/* ---- exits ---- */

static struct hv_exit base(uint32_t reason, uint32_t part)
{
	struct hv_exit x = {.reason = reason, .partition = part};
	x.st.rip = RIP0;
	x.st.rflags = 2;
	x.st.cr0 = 0x80050033ull;
	x.st.cr3 = PT_GPA;
	x.st.cr4 = 0x620;
	x.st.efer = HV_EFER_LME | HV_EFER_LMA;
	return x;
}

static struct hv_exit ex_cpuid(uint32_t leaf)
{
	struct hv_exit x = base(HV_EXIT_CPUID, 0);
	x.st.gpr[HV_RAX] = leaf;
	x.st.gpr[HV_RBX] = 0x1111;
	return x;
}

static struct hv_exit ex_rdmsr(uint32_t msr)
{
	struct hv_exit x = base(HV_EXIT_RDMSR, 0);
	x.st.gpr[HV_RCX] = msr;
	return x;
}

static struct hv_exit ex_wrmsr(uint32_t msr, uint64_t v)
{
	struct hv_exit x = base(HV_EXIT_WRMSR, 0);
	x.st.gpr[HV_RCX] = msr;
	x.st.gpr[HV_RAX] = (uint32_t)v;
	x.st.gpr[HV_RDX] = v >> 32;
	return x;
}

static struct hv_exit ex_hcall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hv_exit x = base(HV_EXIT_VMCALL, 0);
	x.st.gpr[HV_RAX] = nr;
	x.st.gpr[HV_RDI] = a1;
	x.st.gpr[HV_RSI] = a2;
	x.st.gpr[HV_RDX] = a3;
	return x;
}

/* mov [rax], bl at CODE_GPA, storing to the console device's DATA. */
static struct hv_exit ex_mmio(struct fx *f, uint64_t gpa)
{
	static const uint8_t code[] = {0x88, 0x18};
	mock_poke(&f->env, MOCK_P0_RAM_HPA + CODE_GPA, code, sizeof(code));
	struct hv_exit x = base(HV_EXIT_EPT_VIOLATION, 0);
	x.st.rip = CODE_GPA;
	x.st.gpr[HV_RAX] = gpa;
	x.st.gpr[HV_RBX] = 'A';
	x.gpa = gpa;
	x.qual = HV_QUAL_WRITE;
	return x;
}

/* ---- tampering ---- */

/* Append a call to the observer log as if the handler had made it. */
static void log_add(struct fx *f, uint8_t kind, uint32_t id, uint64_t addr, uint64_t value,
                    uint32_t len)
{
	struct hx_obs_log *l = &f->obs.log;
	struct hx_obs_entry *e = &l->entries[l->nentries++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->id = id;
	e->addr = addr;
	e->value = value;
	e->len = len;
	e->data = l->data_len;
	memset(l->data + l->data_len, 0x5a, len);
	l->data_len += len;
}

typedef void (*tamper_fn)(struct fx *f, struct hv_exit *x, struct hv_result *r);

static void t_write_foreign(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_PHYS_WRITE, 0, MOCK_P1_RAM_HPA + 0x1000, 0, 16);
}
static void t_write_hv(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_PHYS_WRITE, 0, MOCK_POOL_HPA, 0, 8);
}
static void t_write_own(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_PHYS_WRITE, 0, MOCK_P0_RAM_HPA + 0x5000, 0, 8);
}
static void t_read_foreign(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_PHYS_READ, 0, MOCK_P1_RAM_HPA, 0, 8);
}
static void t_console(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_CONSOLE, 0, 0, 0, 4);
}
static void t_rip_plus1(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.rip++;
}
static void t_len_wrong(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	r->insn_len++;
	x->st.rip++;
}
static void t_rip_on_inject(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.rip += 2;
}
static void t_vmx_visible(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RCX] |= HV_CPUID1_ECX_VMX;
}
static void t_no_hv_bit(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RCX] &= ~(uint64_t)HV_CPUID1_ECX_HYPERVISOR;
}
static void t_svm_visible(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RCX] |= HV_CPUID81_ECX_SVM;
}
static void t_upper_half(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RBX] |= 1ull << 40;
}
static void t_wrmsr_fc(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	log_add(f, HX_OBS_WRMSR, HV_MSR_FEATURE_CONTROL, 0, 5, 0);
}
static void t_deny_resumed(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 2};
	x->st.rip += 2;
	x->st.gpr[HV_RAX] = 5;
}
static void t_host_value(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	/* An emulated read answered with what a host RDMSR gave. */
	log_add(f, HX_OBS_RDMSR, HV_MSR_TSC_AUX, 0, x->st.gpr[HV_RAX], 0);
}
static void t_noncanonical(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 2};
	x->st.rip += 2;
}
static void t_rax_on_wrmsr(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RAX] ^= 1;
}
static void t_cr3(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.cr3 += 0x1000;
}
static void t_other_state(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	f->env.sys.parts[1].yields++;
}
static void t_other_vcpu(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	f->env.sys.parts[0].vcpus[1].msr_value[0]++;
}
static void t_mailbox(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	f->env.sys.channels[0].msg_len = 3;
}
static void t_failed_status(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RAX] = (uint64_t)(int64_t)HV_HC_EFAULT;
}
static void t_ud_missing(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 3};
	x->st.rip += 3;
}
static void t_ept_protect(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	assert_int_equal(hv_ept_protect(&f->env.pool, f->env.sys.parts[0].ept_root, 0x200000,
	                                HV_PAGE_SIZE, HV_PERM_R),
	                 HV_OK);
}
static void t_resume_unmapped(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	*r = (struct hv_result){.action = HV_ACT_RESUME, .insn_len = 2, .has_mmio = 1};
	r->mmio.insn_len = 2;
	x->st.rip = RIP0 + 2;
}
static void t_overflow(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	f->obs.log.overflow = 3;
}

/* Point p0's leaf for GPA 0 at p1's RAM: an EPT the verifier must refuse. */
static void t_break_ept(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	uint64_t t = f->env.sys.parts[0].ept_root;
	for (int level = 3; level >= 0; level--) {
		uint64_t *tab = hv_pool_ptr(&f->env.pool, t);
		assert_non_null(tab);
		uint64_t e = tab[0];
		if (level == 0 || (e & HV_EPTE_LARGE)) {
			tab[0] = (e & ~HV_EPTE_ADDR_MASK) | MOCK_P1_RAM_HPA;
			return;
		}
		t = e & HV_EPTE_ADDR_MASK;
	}
}

/* ---- the table ---- */

struct row {
	const char *name;
	struct hv_exit (*exit)(struct fx *f);
	tamper_fn tamper;
	enum hv_invariant expect;
};

static struct hv_exit e_cpuid1(struct fx *f)
{
	return ex_cpuid(1);
}
static struct hv_exit e_cpuid81(struct fx *f)
{
	return ex_cpuid(0x80000001u);
}
static struct hv_exit e_cpuid0(struct fx *f)
{
	return ex_cpuid(0);
}
static struct hv_exit e_rd_efer(struct fx *f)
{
	return ex_rdmsr(HV_MSR_EFER);
}
static struct hv_exit e_rd_fc(struct fx *f)
{
	return ex_rdmsr(HV_MSR_FEATURE_CONTROL);
}
static struct hv_exit e_rd_tsc_aux(struct fx *f)
{
	return ex_rdmsr(HV_MSR_TSC_AUX);
}
static struct hv_exit e_wr_fs_bad(struct fx *f)
{
	return ex_wrmsr(HV_MSR_FS_BASE, 0x0000800000000000ull);
}
static struct hv_exit e_wr_tsc_aux(struct fx *f)
{
	return ex_wrmsr(HV_MSR_TSC_AUX, 3);
}
static struct hv_exit e_wr_fc(struct fx *f)
{
	return ex_wrmsr(HV_MSR_FEATURE_CONTROL, 5);
}
static struct hv_exit e_info(struct fx *f)
{
	return ex_hcall(HV_HC_PARTITION_INFO, BUF_GPA, sizeof(struct hv_hc_info), 0);
}
static struct hv_exit e_info_bad(struct fx *f)
{
	return ex_hcall(HV_HC_PARTITION_INFO, BUF_GPA, 4, 0); /* E2BIG */
}
static struct hv_exit e_version(struct fx *f)
{
	return ex_hcall(HV_HC_VERSION, 0, 0, 0);
}
static struct hv_exit e_version_cpl3(struct fx *f)
{
	struct hv_exit x = ex_hcall(HV_HC_VERSION, 0, 0, 0);
	x.st.cpl = 3;
	return x;
}
static struct hv_exit e_console(struct fx *f)
{
	mock_poke(&f->env, MOCK_P0_RAM_HPA + BUF_GPA, "hi", 2);
	return ex_hcall(HV_HC_CONSOLE_WRITE, BUF_GPA, 2, 0);
}
static struct hv_exit e_mmio_dev(struct fx *f)
{
	return ex_mmio(f, MOCK_CONSOLE_GPA);
}
static struct hv_exit e_mmio_unmapped(struct fx *f)
{
	return ex_mmio(f, 0x40000000ull);
}
static struct hv_exit e_hlt(struct fx *f)
{
	return base(HV_EXIT_HLT, 0);
}
static struct hv_exit ex_io(uint16_t port, uint32_t size, bool in, uint64_t rax)
{
	struct hv_exit x = base(HV_EXIT_IO, 0);
	x.qual = (uint64_t)(size - 1) | (in ? HV_QUAL_IO_IN : 0) | (uint64_t)port << 16;
	x.insn_len = 1;
	x.st.gpr[HV_RAX] = rax;
	return x;
}
static struct hv_exit e_io_uart_out(struct fx *f)
{
	return ex_io(0x3f8, 1, false, 'x');
}
static struct hv_exit e_io_rtc_in(struct fx *f)
{
	return ex_io(0x71, 1, true, 0x1234567812345678ull);
}
static struct hv_exit e_io_uart_in32(struct fx *f)
{
	return ex_io(0x3fc, 4, true, ~0ull);
}
static struct hv_exit e_io_pci(struct fx *f)
{
	return ex_io(0xcf8, 4, false, 0x80000000ull);
}
static void t_io_resumed(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	memset(r, 0, sizeof(*r));
	r->action = HV_ACT_RESUME;
	r->insn_len = 1;
	x->st.rip += 1;
}
static void t_io_rax_above(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RAX] ^= 0xff00;
}
static void t_io_rax_upper(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.gpr[HV_RAX] |= 1ull << 40;
}

/* Control-register writes (CR-GUARD, oracle_cr.c). */
static struct hv_exit ex_cr(uint32_t cr, uint64_t value)
{
	struct hv_exit x = base(HV_EXIT_CR_WRITE, 0);
	x.qual = cr | ((uint64_t)HV_RBX << HV_QUAL_CR_GPR_SHIFT);
	x.insn_len = 3;
	x.st.gpr[HV_RBX] = value;
	return x;
}
static struct hv_exit e_cr0_ts(struct fx *f)
{
	return ex_cr(0, 0x80050033ull | 8); /* TS: allowed */
}
static struct hv_exit e_cr4_vmxe(struct fx *f)
{
	return ex_cr(4, 0x620 | (1ull << 13)); /* VMXE: refused */
}
static struct hv_exit e_cr0_reserved(struct fx *f)
{
	return ex_cr(0, 0x80050033ull | (1ull << 40)); /* #GP */
}
static void t_cr_resumed(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	memset(r, 0, sizeof(*r));
	r->action = HV_ACT_RESUME;
	r->insn_len = 3;
	x->st.rip += 3;
	if ((x->qual & 0xf) == 0)
		x->st.cr0 = x->st.gpr[HV_RBX];
	else
		x->st.cr4 = x->st.gpr[HV_RBX];
}
static void t_cr_value(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.cr0 ^= 2; /* MP flipped on top of the write */
}
static void t_cr_other(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	x->st.cr4 |= 0x80;
}
static void t_cr_refused(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	memset(r, 0, sizeof(*r));
	r->action = HV_ACT_INJECT;
	r->vector = HV_VEC_GP;
	r->has_error_code = 1;
	x->st.rip -= 3;
	x->st.cr0 = 0x80050033ull;
}
static void t_cr_ud(struct fx *f, struct hv_exit *x, struct hv_result *r)
{
	r->action = HV_ACT_INJECT;
	r->vector = HV_VEC_UD;
}

static const struct row rows[] = {
        {"hcall writes other partition's RAM", e_info, t_write_foreign, HV_INV_CONTAIN},
        {"hcall writes hypervisor memory", e_info, t_write_hv, HV_INV_CONTAIN},
        {"hcall writes own RAM outside its buffer", e_info, t_write_own, HV_INV_HCALL_BOUNDS},
        {"cpuid writes guest memory", e_cpuid1, t_write_own, HV_INV_CONTAIN},
        {"cpuid reads other partition's RAM", e_cpuid1, t_read_foreign, HV_INV_CONTAIN},
        {"cpuid prints to the console", e_cpuid1, t_console, HV_INV_CONTAIN},
        {"cpuid advances rip by one more", e_cpuid1, t_rip_plus1, HV_INV_RIP},
        {"rdmsr claims a 3-byte instruction", e_rd_efer, t_len_wrong, HV_INV_RIP},
        {"#GP moves rip", e_rd_fc, t_rip_on_inject, HV_INV_RIP},
        {"mmio length not the decoded one", e_mmio_dev, t_len_wrong, HV_INV_RIP},
        {"VMX visible", e_cpuid1, t_vmx_visible, HV_INV_CPUID_MASK},
        {"hypervisor bit missing", e_cpuid1, t_no_hv_bit, HV_INV_CPUID_MASK},
        {"SVM visible", e_cpuid81, t_svm_visible, HV_INV_CPUID_MASK},
        {"cpuid upper half not cleared", e_cpuid0, t_upper_half, HV_INV_CPUID_MASK},
        {"host WRMSR of FEATURE_CONTROL", e_wr_fc, t_wrmsr_fc, HV_INV_MSR_GUARD},
        {"host WRMSR of FEATURE_CONTROL from cpuid", e_cpuid1, t_wrmsr_fc, HV_INV_MSR_GUARD},
        {"denied MSR read resumed", e_rd_fc, t_deny_resumed, HV_INV_MSR_GUARD},
        {"emulated read returns a host value", e_rd_tsc_aux, t_host_value, HV_INV_MSR_GUARD},
        {"non-canonical FS_BASE granted", e_wr_fs_bad, t_noncanonical, HV_INV_MSR_GUARD},
        {"wrmsr changes rax", e_wr_tsc_aux, t_rax_on_wrmsr, HV_INV_CONTAIN},
        {"cpuid changes cr3", e_cpuid1, t_cr3, HV_INV_CONTAIN},
        {"exit changes another partition", e_cpuid1, t_other_state, HV_INV_CONTAIN},
        {"exit changes another vcpu", e_wr_tsc_aux, t_other_vcpu, HV_INV_CONTAIN},
        {"cpuid fills a mailbox", e_cpuid1, t_mailbox, HV_INV_CONTAIN},
        {"version fills a mailbox", e_version, t_mailbox, HV_INV_HCALL_BOUNDS},
        {"failed hypercall writes memory", e_info_bad, t_write_own, HV_INV_HCALL_BOUNDS},
        {"failed hypercall prints", e_info_bad, t_console, HV_INV_HCALL_BOUNDS},
        {"hypercall reported failed after writing", e_info, t_failed_status, HV_INV_HCALL_BOUNDS},
        {"version prints to the console", e_version, t_console, HV_INV_HCALL_BOUNDS},
        {"console write prints more than asked", e_console, t_console, HV_INV_HCALL_BOUNDS},
        {"CPL 3 hypercall not refused", e_version_cpl3, t_ud_missing, HV_INV_HCALL_BOUNDS},
        {"version changes the EPT", e_version, t_ept_protect, HV_INV_HCALL_BOUNDS},
        {"EPT violation changes the EPT", e_mmio_unmapped, t_ept_protect, HV_INV_EPT_EXACT},
        {"unmapped access resumed", e_mmio_unmapped, t_resume_unmapped, HV_INV_CONTAIN},
        {"EPT leaf points at the other partition", e_version, t_break_ept, HV_INV_EPT_OWN},
        {"log overflow", e_hlt, t_overflow, HV_INV_TOTAL},
        {"port of no device resumed", e_io_pci, t_io_resumed, HV_INV_IO_GUARD},
        {"contained port I/O prints", e_io_pci, t_console, HV_INV_IO_GUARD},
        {"RTC read prints", e_io_rtc_in, t_console, HV_INV_IO_GUARD},
        {"IN AL changes AH", e_io_rtc_in, t_io_rax_above, HV_INV_IO_GUARD},
        {"IN EAX leaves bits 63:32", e_io_uart_in32, t_io_rax_upper, HV_INV_IO_GUARD},
        {"UART write prints twice", e_io_uart_out, t_console, HV_INV_IO_GUARD},
        {"CR4.VMXE write resumed", e_cr4_vmxe, t_cr_resumed, HV_INV_CR_GUARD},
        {"reserved CR0 bit resumed", e_cr0_reserved, t_cr_resumed, HV_INV_CR_GUARD},
        {"CR0 loaded with another value", e_cr0_ts, t_cr_value, HV_INV_CR_GUARD},
        {"CR0 write changes CR4", e_cr0_ts, t_cr_other, HV_INV_CR_GUARD},
        {"allowed CR0 write refused", e_cr0_ts, t_cr_refused, HV_INV_CR_GUARD},
        {"reserved CR0 bit refused with #UD", e_cr0_reserved, t_cr_ud, HV_INV_CR_GUARD},
        {"CR write prints", e_cr0_ts, t_console, HV_INV_CONTAIN},
};

/* Handle x for real, tamper with the outcome, then ask the oracle. */
static uint32_t run(struct fx *f, struct hv_exit x, tamper_fn tamper)
{
	struct hv_result r;
	hx_observer_begin_exit(&f->obs);
	hx_oracle_before(f->o, &f->env.sys, &x);
	hv_handle_exit(&f->env.sys, &x, &r);
	if (tamper)
		tamper(f, &x, &r);
	struct hx_obs_view v = hx_observer_view(&f->obs);
	return hx_oracle_after(f->o, &f->env.sys, 0, &x, &r, &v);
}

static void test_clean_runs(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		if (rows[i].tamper == t_break_ept || rows[i].exit == e_hlt ||
		    rows[i].exit == e_io_pci || rows[i].exit == e_cr4_vmxe)
			continue; /* run last: they change or halt the system */
		uint32_t n = run(f, rows[i].exit(f), NULL);
		if (n)
			fail_msg("%s (untampered): %u violations, last: %s", rows[i].name, n,
			         f->last);
	}
	assert_int_equal(hx_oracle_verify_all(f->o, &f->env.sys, 0), 0);
	struct hx_oracle_stats st;
	hx_oracle_stats(f->o, &st);
	assert_true(st.checks > 50);
	assert_int_equal(st.violations, 0);
	assert_int_equal(f->total, 0);
}

static void test_tampered(void **state)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		/* A fresh system per row: tampering leaves it inconsistent. */
		void *st;
		setup(&st);
		struct fx *f = st;
		run(f, rows[i].exit(f), rows[i].tamper);
		if (f->count[rows[i].expect] == 0)
			fail_msg("%s: %s not reported (%u others, last: %s)", rows[i].name,
			         hv_invariant_id(rows[i].expect), f->total, f->last);
		teardown(&st);
	}
	(void)state;
}

static void test_cpuid_same_answer(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run(f, ex_cpuid(1), NULL), 0);
	assert_int_equal(run(f, ex_cpuid(1), NULL), 0);
	/* The same question, a different answer: */
	assert_int_not_equal(run(f, ex_cpuid(1), t_upper_half), 0);
	f->count[HV_INV_CPUID_MASK] = 0;
	struct hv_exit x = ex_cpuid(7);
	assert_int_equal(run(f, x, NULL), 0);
	struct hv_result r;
	hx_observer_begin_exit(&f->obs);
	hx_oracle_before(f->o, &f->env.sys, &x);
	hv_handle_exit(&f->env.sys, &x, &r);
	x.st.gpr[HV_RBX] ^= 0x10; /* still zero-extended, still no VMX: only DET of answers */
	struct hx_obs_view v = hx_observer_view(&f->obs);
	hx_oracle_after(f->o, &f->env.sys, 1, &x, &r, &v);
	assert_int_equal(f->count[HV_INV_CPUID_MASK], 1);
	assert_non_null(strstr(f->last, "given earlier"));
}

static void test_malformed_records(void **state)
{
	struct fx *f = *state;
	struct hv_exit x = ex_cpuid(1);
	x.partition = 7; /* no such partition */
	assert_int_equal(run(f, x, NULL), 0);
	x = ex_cpuid(1);
	x.vcpu = 5; /* no such vCPU: the partition halts, which is allowed */
	assert_int_equal(run(f, x, NULL), 0);
	assert_int_equal(f->env.sys.parts[0].halted, HV_HALT_BAD_EXIT);
	/* A halted partition's exits are refused without any platform call. */
	assert_int_equal(run(f, ex_hcall(HV_HC_VERSION, 0, 0, 0), NULL), 0);
	assert_int_not_equal(run(f, ex_hcall(HV_HC_VERSION, 0, 0, 0), t_console), 0);
	assert_int_equal(f->count[HV_INV_CONTAIN], f->total);
}

static void test_writes_through_observer(void **state)
{
	struct fx *f = *state;
	mock_poke(&f->env, MOCK_P0_RAM_HPA + BUF_GPA, "abc", 3);
	uint8_t old[sizeof(struct hv_hc_info)];
	mock_peek(&f->env, MOCK_P0_RAM_HPA + BUF_GPA + 0x100, old, sizeof(old));
	assert_int_equal(
	        run(f, ex_hcall(HV_HC_PARTITION_INFO, BUF_GPA + 0x100, sizeof(old), 0), NULL), 0);
	/* The observer logged the write with what was there before. */
	const struct hx_obs_log *l = &f->obs.log;
	uint32_t writes = 0;
	for (uint32_t i = 0; i < l->nentries; i++) {
		const struct hx_obs_entry *e = &l->entries[i];
		if (e->kind != HX_OBS_PHYS_WRITE)
			continue;
		writes++;
		assert_int_equal(e->addr, MOCK_P0_RAM_HPA + BUF_GPA + 0x100);
		assert_true(e->has_before);
		assert_memory_equal(l->data + e->before, old, e->len);
		uint8_t now[sizeof(struct hv_hc_info)];
		mock_peek(&f->env, e->addr, now, e->len);
		assert_memory_equal(l->data + e->data, now, e->len);
	}
	assert_int_equal(writes, 1);
	/* Channel send through the observer: the message lands in the channel. */
	assert_int_equal(run(f, ex_hcall(HV_HC_CHANNEL_SEND, 0, BUF_GPA, 3), NULL), 0);
	char got[3];
	mock_peek(&f->env, MOCK_CHAN_HPA, got, 3);
	assert_memory_equal(got, "abc", 3);
	hx_observer_uninstall(&f->obs, &f->env.sys);
	assert_ptr_equal(f->env.sys.ops, &mock_platform_ops);
}

static void test_log_bounds(void **state)
{
	struct fx *f = *state;
	/* More calls than the log holds: they still happen, overflow counts. */
	hx_observer_begin_exit(&f->obs);
	uint32_t out[4];
	for (uint32_t i = 0; i < HX_OBS_MAX_ENTRIES + 5; i++)
		f->env.sys.ops->cpuid(f->env.sys.ops_ctx, 1, 0, out);
	assert_int_equal(f->obs.log.nentries, HX_OBS_MAX_ENTRIES);
	assert_int_equal(f->obs.log.overflow, 5);
	assert_int_equal(f->env.plat.calls[MOCK_OP_CPUID], HX_OBS_MAX_ENTRIES + 5);
	/* Data bound: 17 page reads of 4 KiB do not fit in 64 KiB. */
	hx_observer_begin_exit(&f->obs);
	uint8_t page[4096];
	for (int i = 0; i < 17; i++)
		assert_int_equal(f->env.sys.ops->phys_read(f->env.sys.ops_ctx, MOCK_P0_RAM_HPA,
		                                           page, sizeof(page)),
		                 0);
	assert_int_equal(f->obs.log.nentries, 16);
	assert_int_equal(f->obs.log.overflow, 1);
	assert_true(f->obs.log.data_len <= HX_OBS_MAX_DATA);
}

/* hx_obs_seen_bytes: the memory a call shows as it was before the call. */
static void test_seen_bytes(void **state)
{
	(void)state;
	static const uint8_t data[] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const struct {
		const char *name;
		struct hx_obs_entry e;
		int want; /* offset into data, or -1 for NULL */
	} cases[] = {
	        {"read", {.kind = HX_OBS_PHYS_READ, .len = 4, .data = 2}, 2},
	        {"failed read", {.kind = HX_OBS_PHYS_READ, .failed = 1, .len = 4, .data = 2}, -1},
	        {"write with before",
	         {.kind = HX_OBS_PHYS_WRITE, .has_before = 1, .len = 2, .data = 0, .before = 6},
	         6},
	        {"write without before", {.kind = HX_OBS_PHYS_WRITE, .len = 2, .data = 0}, -1},
	        {"read beyond the data", {.kind = HX_OBS_PHYS_READ, .len = 4, .data = 6}, -1},
	        {"console", {.kind = HX_OBS_CONSOLE, .len = 2, .data = 0}, -1},
	        {"cpuid", {.kind = HX_OBS_CPUID}, -1},
	};
	struct hx_obs_view v = {.data = data, .data_len = sizeof(data)};
	for (size_t i = 0; i < HV_ARRAY_LEN(cases); i++) {
		const uint8_t *got = hx_obs_seen_bytes(&v, &cases[i].e);
		const uint8_t *want = cases[i].want < 0 ? NULL : data + cases[i].want;
		if (got != want)
			fail_msg("%s: got %p, expected %p", cases[i].name, (const void *)got,
			         (const void *)want);
	}
}

/* ---- address width of address MSRs ---- */

#define CPUID7_ECX_LA57 (1u << 16)
#define CR4_LA57 (1ull << 12)

enum la57_policy { POL_NONE, POL_MAX_LEAF_6, POL_HIDE, POL_SHOW };

/* The MSR handler checks address MSRs against the linear-address width the
 * partition's CPUID shows (leaf 7 ECX.16: 57 bits, else 48) whatever
 * CR4.LA57 says (handlers/docs/msr.md); the oracle must use the same rule. */
struct la57_row {
	const char *name;
	bool host_la57;       /* mock host leaf 7 subleaf 0 ECX.16 */
	enum la57_policy pol; /* partition 0's CPUID policy */
	bool cr4_la57;
	uint64_t value;      /* written to FS_BASE */
	bool handler_grants; /* hv_handle_exit resumes (else #GP) */
	bool force_grant;    /* tamper: resume even when the handler refused */
	uint32_t reports;    /* MSR-GUARD reports expected */
};

static const struct la57_row la57_rows[] = {
        {"CPUID LA57, CR4.LA57 clear, 57-bit canonical", true, POL_NONE, false,
         0x0080000000000000ull, true, false, 0},
        {"CPUID LA57, CR4.LA57 clear, 57-bit canonical upper half", true, POL_NONE, false,
         0xff00000000001000ull, true, false, 0},
        {"CPUID LA57, non-canonical at 57 bits, granted", true, POL_NONE, false,
         0x0100000000000000ull, false, true, 1},
        {"no CPUID LA57, CR4.LA57 set, 57-bit value refused", false, POL_NONE, true,
         0x0080000000000000ull, false, false, 0},
        {"no CPUID LA57, CR4.LA57 set, 57-bit value granted", false, POL_NONE, true,
         0x0080000000000000ull, false, true, 1},
        {"no CPUID LA57, 48-bit canonical", false, POL_NONE, false, 0x00007fffffff0000ull, true,
         false, 0},
        {"LA57 beyond the partition's maximum leaf, granted", true, POL_MAX_LEAF_6, false,
         0x0080000000000000ull, false, true, 1},
        {"LA57 hidden by a CPUID rule, granted", true, POL_HIDE, false, 0x0080000000000000ull,
         false, true, 1},
        {"LA57 shown by a CPUID rule", false, POL_SHOW, false, 0x0080000000000000ull, true, false,
         0},
};

static void la57_policy(struct hv_partition_config *pc, enum la57_policy pol)
{
	struct hv_cpuid_rule rule = {.leaf = 7, .and_mask = {~0u, ~0u, ~0u, ~0u}};
	if (pol == POL_MAX_LEAF_6)
		pc->cpuid.max_basic_leaf = 6;
	if (pol != POL_HIDE && pol != POL_SHOW)
		return;
	if (pol == POL_HIDE)
		rule.and_mask[2] = ~CPUID7_ECX_LA57;
	else
		rule.or_bits[2] = CPUID7_ECX_LA57;
	assert_true(pc->cpuid.nrules < HV_MAX_CPUID_RULES);
	pc->cpuid.rules[pc->cpuid.nrules++] = rule;
}

static void test_address_width(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(la57_rows); i++) {
		const struct la57_row *row = &la57_rows[i];
		void *st;
		setup(&st);
		struct fx *f = st;
		uint32_t ecx7 = 0x00400004u | (row->host_la57 ? CPUID7_ECX_LA57 : 0);
		mock_set_cpuid(&f->env.plat, 7, 0, 1, 0x219c91a9u, ecx7, 0);
		la57_policy(&f->env.cfg.partitions[0], row->pol);

		struct hv_exit x = ex_wrmsr(HV_MSR_FS_BASE, row->value);
		if (row->cr4_la57)
			x.st.cr4 |= CR4_LA57;
		struct hv_result r;
		hx_observer_begin_exit(&f->obs);
		hx_oracle_before(f->o, &f->env.sys, &x);
		hv_handle_exit(&f->env.sys, &x, &r);
		if ((r.action == HV_ACT_RESUME) != row->handler_grants)
			fail_msg("%s: handler action %s", row->name, hv_action_str(r.action));
		if (row->force_grant)
			t_noncanonical(f, &x, &r);
		struct hx_obs_view v = hx_observer_view(&f->obs);
		hx_oracle_after(f->o, &f->env.sys, 0, &x, &r, &v);
		if (f->count[HV_INV_MSR_GUARD] != row->reports || f->total != row->reports)
			fail_msg("%s: %u MSR-GUARD reports of %u, expected %u (last: %s)",
			         row->name, f->count[HV_INV_MSR_GUARD], f->total, row->reports,
			         f->last);
		teardown(&st);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_clean_runs, setup, teardown),
	        cmocka_unit_test(test_tampered),
	        cmocka_unit_test_setup_teardown(test_cpuid_same_answer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_malformed_records, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_writes_through_observer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_log_bounds, setup, teardown),
	        cmocka_unit_test(test_seen_bytes),
	        cmocka_unit_test(test_address_width),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
