/* MSR passthrough by allow-list. A partition's RDMSR/WRMSR reaches the
 * host only for the MSRs named here, in the mode named here; every other
 * MSR can be emulated or denied, never passed through (hv_config_validate
 * refuses such rules, and hv_handle_rdmsr/wrmsr check the list again at run
 * time). An MSR is on the list only when its state is the exiting thread's
 * own or read-only, holds no address, and a write has no effect on the
 * hypervisor or another partition. handlers/docs/msr.md holds the same
 * table with its reasoning; harness/unit/test_msr.c checks the two agree. */
#include "hv/msr.h"

#include "hv/config.h"

static const struct hv_msr_pass_entry pass_list[] = {
        {HV_MSR_TSC, HV_MSR_PASS_R, HV_MSR_SCOPE_THREAD, 0, "IA32_TSC",
         "reads the time base; writes would move it for everyone and are never forwarded",
         "SDM Vol. 3B, Time-Stamp Counter; Vol. 4, Table 2-2"},
        {0x49, HV_MSR_PASS_RW, HV_MSR_SCOPE_THREAD, 1, "IA32_PRED_CMD",
         "write-only command (IBPB): a prediction barrier, it holds no state and can only "
         "make the host safer",
         "SDM Vol. 4, Table 2-2; APM Vol. 2, Speculation Control MSRs"},
        {0xe7, HV_MSR_PASS_R, HV_MSR_SCOPE_THREAD, 0, "IA32_MPERF",
         "read-only here: a free-running count of this thread's reference cycles",
         "SDM Vol. 3B, Hardware Coordination Feedback; Vol. 4, Table 2-2"},
        {0xe8, HV_MSR_PASS_R, HV_MSR_SCOPE_THREAD, 0, "IA32_APERF",
         "read-only here: a free-running count of this thread's actual cycles",
         "SDM Vol. 3B, Hardware Coordination Feedback; Vol. 4, Table 2-2"},
        {HV_MSR_MTRRCAP, HV_MSR_PASS_R, HV_MSR_SCOPE_THREAD, 0, "IA32_MTRRCAP",
         "read-only capability bits (range counts, WC/SMRR support), no address",
         "SDM Vol. 3A, MTRR Feature Identification"},
        {0x10a, HV_MSR_PASS_R, HV_MSR_SCOPE_THREAD, 0, "IA32_ARCH_CAPABILITIES",
         "read-only enumeration of the processor's speculation properties, which a "
         "partition needs to choose its own mitigations",
         "SDM Vol. 4, Table 2-2"},
        {0x10b, HV_MSR_PASS_RW, HV_MSR_SCOPE_THREAD, 1, "IA32_FLUSH_CMD",
         "write-only command (L1D flush): writes back and invalidates the L1D, which changes "
         "no data any agent sees",
         "SDM Vol. 4, Table 2-2"},
#ifdef HV_TEST_PLANT_PASSTHROUGH_MSR
        /* Test-only builds: a wrong entry, to show that the oracles do not
         * trust this table (harness/unit/CMakeLists.txt). */
        {HV_TEST_PLANT_PASSTHROUGH_MSR, HV_MSR_PASS_RW, HV_MSR_SCOPE_THREAD, 0, "PLANTED",
         "planted by a test-only build", "none"},
#endif
};

const struct hv_msr_pass_entry *hv_msr_pass_list(uint32_t *n)
{
	*n = (uint32_t)HV_ARRAY_LEN(pass_list);
	return pass_list;
}

bool hv_msr_pass_allowed(uint32_t msr, uint8_t mode)
{
	if (mode != HV_MSR_PASS_R && mode != HV_MSR_PASS_RW)
		return false;
	for (size_t i = 0; i < HV_ARRAY_LEN(pass_list); i++)
		if (pass_list[i].msr == msr)
			return mode == HV_MSR_PASS_R || pass_list[i].mode == HV_MSR_PASS_RW;
	return false;
}

bool hv_msr_pass_readable(uint32_t msr)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(pass_list); i++)
		if (pass_list[i].msr == msr)
			return !pass_list[i].write_only;
	return false;
}

struct msr_hazard {
	uint32_t first, last;
	const char *why;
};

/* Why some well-known MSRs are not on the list, for error messages. The
 * list above decides; this table only explains. */
static const struct msr_hazard hazards[] = {
        {0x1b, 0x1b, "IA32_APIC_BASE relocates or disables the host's local APIC"},
        {0x3a, 0x3a, "IA32_FEATURE_CONTROL holds the host's VMX/SMX/SGX enables and lock"},
        {0x3b, 0x3b, "IA32_TSC_ADJUST moves the TSC the hypervisor and every partition share"},
        {0x48, 0x48,
         "IA32_SPEC_CTRL would set the hypervisor's own speculation mitigations (IBRS, STIBP, "
         "SSBD)"},
        {0x79, 0x79, "IA32_BIOS_UPDT_TRIG loads microcode for the whole core"},
        {0x9b, 0x9e, "SMM monitor and SMBASE are SMM configuration"},
        {0xc1, 0xc8, "IA32_PMCx count the hypervisor's own execution"},
        {0x174, 0x176, "SYSENTER MSRs are guest state: use emulated"},
        {0x179, 0x17b, "IA32_MCG_* report and control machine checks for the whole processor"},
        {0x186, 0x18d, "IA32_PERFEVTSELx program counters that can interrupt the host"},
        {0x1a0, 0x1a0, "IA32_MISC_ENABLE changes CPUID and XD for the whole core"},
        {0x1d9, 0x1d9, "IA32_DEBUGCTL enables LBR and BTS tracing of the hypervisor"},
        {0x1f2, 0x1f3, "SMRR locate SMRAM"},
        {0x200, 0x2ff, "MTRRs and PAT set host memory types (PAT is guest state: use emulated)"},
        {0x309, 0x30b, "fixed-function counters count the hypervisor's own execution"},
        {0x38d, 0x390, "IA32_PERF_GLOBAL_* control the host's performance counters"},
        {0x3f1, 0x3f1, "IA32_PEBS_ENABLE makes the processor write PEBS records to DS_AREA"},
        {0x400, 0x47f, "machine-check banks are shared by the core or package"},
        {0x480, 0x493, "VMX capability MSRs (VMX is hidden)"},
        {0x4e0, 0x4e3, "SMM MSRs"},
        {0x560, 0x561, "Intel PT writes trace data to a host physical address the partition picks"},
        {0x570, 0x572, "IA32_RTIT_CTL/STATUS: Intel PT writes trace data to host memory"},
        {0x580, 0x587, "IA32_RTIT_ADDRn filter Intel PT of the host"},
        {0x600, 0x600, "IA32_DS_AREA: BTS/PEBS records go to an address the partition picks"},
        {0x6a0, 0x6a8, "CET MSRs hold the host's shadow-stack pointers and CET enables"},
        {0x6e0, 0x6e0, "IA32_TSC_DEADLINE arms the host's local APIC timer"},
        {0x800, 0x8ff, "x2APIC registers: a write to the ICR sends IPIs to any processor"},
        {0xda0, 0xda0, "IA32_XSS selects supervisor state (CET, PT) of the host's XSAVES"},
        {0xc0000080, 0xc0000084, "EFER and the SYSCALL MSRs are guest state: use emulated"},
        {0xc0000100, 0xc0000103, "segment bases and TSC_AUX are guest state: use emulated"},
        {0xc0010000, 0xc0010007, "AMD PERF_CTL/PERF_CTR count the hypervisor's own execution"},
        {0xc0010010, 0xc001001d, "AMD SYSCFG, HWCR, IORRs and TOP_MEM define the host memory map"},
        {0xc0010020, 0xc0010020, "AMD PATCH_LOADER loads microcode"},
        {0xc0010058, 0xc0010058,
         "AMD MMIO_CFG_BASE relocates the host's PCIe configuration window"},
        {0xc0010111, 0xc0010118, "AMD SMM and SVM control MSRs"},
        {0xc0010200, 0xc001020b, "AMD core performance counters count the hypervisor's execution"},
};

const char *hv_msr_pass_refusal(uint32_t msr)
{
	for (size_t i = 0; i < HV_ARRAY_LEN(hazards); i++)
		if (msr >= hazards[i].first && msr <= hazards[i].last)
			return hazards[i].why;
	return "only MSRs shown safe reach the host (handlers/docs/msr.md)";
}
