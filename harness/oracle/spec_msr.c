/* The MSR specification table (spec_msr.h, SPEC.md). Each row says what the
 * manuals say about a range; the flags say what that means for a partition
 * whose MSR accesses could reach the host. Rows are sorted by number and do
 * not overlap (test_oracle_spec checks both, and that every row is either
 * SPEC_W_SAFE or says why not). Sources:
 *   SDM  Intel 64 and IA-32 Architectures Software Developer's Manual
 *        (Vol. 4 Table 2-2 "IA-32 Architectural MSRs" unless another table
 *        is named; model-specific tables for the rows marked so)
 *   APM  AMD64 Architecture Programmer's Manual Vol. 2
 *   PPR  AMD Processor Programming Reference (family 17h/19h), for AMD
 *        model-specific MSRs outside the APM */
#include "spec_msr.h"

#define T SPEC_SCOPE_THREAD
#define C SPEC_SCOPE_CORE
#define P SPEC_SCOPE_PACKAGE
#define NA SPEC_ADDR_NONE
#define LIN SPEC_ADDR_LINEAR
#define PHY SPEC_ADDR_PHYS
#define MIX SPEC_ADDR_MIXED
#define WT SPEC_W_BEYOND_THREAD
#define WP SPEC_W_BEYOND_PARTITION
#define RH SPEC_R_HOST
#define WS SPEC_W_SAFE
#define RO SPEC_READ_ONLY
#define WO SPEC_WRITE_ONLY
#define GS SPEC_GUEST_STATE

const struct spec_msr spec_msr_table[] = {
        /* Pentium machine-check compatibility: the address of the last
         * machine-check error is a host physical address. */
        {0x0, 0x1, C, PHY, WP | RH, "IA32_P5_MC_ADDR/TYPE",
         "SDM Vol. 3B, Machine-Check Architecture, Pentium compatibility"},
        /* MONITOR/MWAIT line size of the host thread; MONITOR is hidden. */
        {0x6, 0x6, T, NA, WP, "IA32_MONITOR_FILTER_SIZE",
         "SDM Vol. 3A, Monitor/Mwait Address Range Determination"},
        /* The time base the hypervisor and every partition share: a write
         * moves the host's clock. Reading it reveals nothing but time. */
        {0x10, 0x10, T, NA, WP, "IA32_TIME_STAMP_COUNTER", "SDM Vol. 3B, Time-Stamp Counter"},
        {0x17, 0x17, P, NA, RO, "IA32_PLATFORM_ID", "SDM Vol. 4, Table 2-2"},
        /* Relocating, disabling or switching the host's local APIC changes
         * interrupt delivery for the hypervisor and every partition. */
        {0x1b, 0x1b, T, PHY, WT | WP | RH, "IA32_APIC_BASE",
         "SDM Vol. 3A, Local APIC Status and Location"},
        /* Lock bit, VMX/SMX/SGX enables; write-once by firmware. */
        {0x3a, 0x3a, T, NA, WP | RH, "IA32_FEATURE_CONTROL",
         "SDM Vol. 3C, Enabling and Entering VMX Operation"},
        /* A write adds to the thread's TSC: the host's time base again. */
        {0x3b, 0x3b, T, NA, WP, "IA32_TSC_ADJUST", "SDM Vol. 3B, Time-Stamp Counter Adjustment"},
        /* IBRS/STIBP/SSBD of the hypervisor itself; STIBP acts on the
         * sibling thread's predictions. */
        {0x48, 0x48, T, NA, WT | WP | RH, "IA32_SPEC_CTRL",
         "SDM Vol. 4, Table 2-2; Intel Speculative Execution Side Channel Mitigations"},
        /* IBPB: a barrier, no state left behind. */
        {0x49, 0x49, T, NA, WO | WS, "IA32_PRED_CMD", "SDM Vol. 4, Table 2-2 (write-only command)"},
        /* PPIN: a unique identifier of the package. */
        {0x4e, 0x4f, P, NA, WP | RH, "IA32_PPIN_CTL/IA32_PPIN", "SDM Vol. 4, Table 2-2"},
        /* Loads microcode from a linear address, for the whole core. */
        {0x79, 0x79, C, LIN, WO | WT | WP, "IA32_BIOS_UPDT_TRIG",
         "SDM Vol. 3A, Microcode Update Loader"},
        /* The host's microcode revision report, part of the hypervisor's
         * own update flow (write 0, CPUID, read). */
        {0x8b, 0x8b, T, NA, WP, "IA32_BIOS_SIGN_ID", "SDM Vol. 3A, Microcode Update Signature"},
        {0x8c, 0x8f, T, NA, WP | RH, "IA32_SGXLEPUBKEYHASH0..3", "SDM Vol. 3D, Launch Control"},
        /* MSEG base of the dual-monitor treatment of SMM. */
        {0x9b, 0x9b, T, PHY, WP | RH, "IA32_SMM_MONITOR_CTL",
         "SDM Vol. 3C, Dual-Monitor Treatment of SMIs and SMM"},
        {0x9e, 0x9e, T, PHY, RO | RH, "IA32_SMBASE", "SDM Vol. 4, Table 2-2 (SMM only)"},
        {0xbc, 0xbc, P, NA, WT | WP, "IA32_MISC_PACKAGE_CTLS", "SDM Vol. 4, Table 2-2"},
        /* Performance counters count for whoever runs on the thread. */
        {0xc1, 0xc8, T, NA, WP | RH, "IA32_PMC0..7",
         "SDM Vol. 3B, Architectural Performance Monitoring"},
        {0xcf, 0xcf, T, NA, RO, "IA32_CORE_CAPABILITIES", "SDM Vol. 4, Table 2-2"},
        {0xe1, 0xe1, T, NA, WP, "IA32_UMWAIT_CONTROL", "SDM Vol. 4, Table 2-2; Vol. 2B, UMWAIT"},
        {0xe7, 0xe8, T, NA, WP, "IA32_MPERF/IA32_APERF",
         "SDM Vol. 3B, Hardware Coordination Feedback"},
        {0xfe, 0xfe, T, NA, RO, "IA32_MTRRCAP", "SDM Vol. 3A, MTRR Feature Identification"},
        {0x10a, 0x10a, T, NA, RO, "IA32_ARCH_CAPABILITIES", "SDM Vol. 4, Table 2-2"},
        /* L1D flush: the cache is the core's, but a flush changes only
         * its contents (performance), no architectural state. */
        {0x10b, 0x10b, T, NA, WO | WS, "IA32_FLUSH_CMD",
         "SDM Vol. 4, Table 2-2 (write-only command)"},
        {0x122, 0x122, T, NA, WP, "IA32_TSX_CTRL", "SDM Vol. 4, Table 2-2"},
        /* Fast system call entry of the hypervisor on the host. */
        {0x174, 0x174, T, NA, GS | WP | RH, "IA32_SYSENTER_CS",
         "SDM Vol. 3A, 5.8.7 Performing Fast Calls to System Procedures"},
        {0x175, 0x176, T, LIN, GS | WP | RH, "IA32_SYSENTER_ESP/EIP",
         "SDM Vol. 3A, 5.8.7 Performing Fast Calls to System Procedures"},
        {0x179, 0x179, T, NA, RO, "IA32_MCG_CAP", "SDM Vol. 3B, Machine-Check Global Control MSRs"},
        {0x17a, 0x17a, T, NA, WP | RH, "IA32_MCG_STATUS",
         "SDM Vol. 3B, Machine-Check Global Control MSRs"},
        {0x17b, 0x17b, P, NA, WT | WP | RH, "IA32_MCG_CTL",
         "SDM Vol. 3B, Machine-Check Global Control MSRs"},
        {0x186, 0x18d, T, NA, WP | RH, "IA32_PERFEVTSEL0..7",
         "SDM Vol. 3B, Architectural Performance Monitoring"},
        {0x198, 0x198, P, NA, RO, "IA32_PERF_STATUS",
         "SDM Vol. 3B, Enhanced Intel SpeedStep Technology"},
        /* A P-state request sets the clock of the core or package. */
        {0x199, 0x199, T, NA, WT | WP, "IA32_PERF_CTL",
         "SDM Vol. 3B, Enhanced Intel SpeedStep Technology"},
        {0x19a, 0x19a, T, NA, WP, "IA32_CLOCK_MODULATION",
         "SDM Vol. 3B, Software Controlled Clock Modulation"},
        {0x19b, 0x19c, C, NA, WT | WP, "IA32_THERM_INTERRUPT/STATUS",
         "SDM Vol. 3B, Thermal Monitoring and Protection"},
        /* Bit 22 limits CPUID's maximum leaf, bit 34 disables XD. */
        {0x1a0, 0x1a0, P, NA, WT | WP | RH, "IA32_MISC_ENABLE", "SDM Vol. 4, Table 2-2"},
        {0x1b0, 0x1b0, P, NA, WT | WP, "IA32_ENERGY_PERF_BIAS",
         "SDM Vol. 3B, Energy/Performance Bias"},
        {0x1b1, 0x1b2, P, NA, WT | WP, "IA32_PACKAGE_THERM_STATUS/INTERRUPT",
         "SDM Vol. 3B, Package Level Thermal Management"},
        /* LBR/BTS enables of the host: branch records hold its addresses. */
        {0x1d9, 0x1d9, T, NA, WP | RH, "IA32_DEBUGCTL",
         "SDM Vol. 3B, Debug Control MSR (IA32_DEBUGCTL)"},
        {0x1dd, 0x1de, T, LIN, WP | RH, "IA32_LER_FROM_IP/TO_IP",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        {0x1e0, 0x1e0, T, NA, WP | RH, "IA32_LER_INFO",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        /* SMRAM location; writable only in SMM. */
        {0x1f2, 0x1f3, C, PHY, WT | WP | RH, "IA32_SMRR_PHYSBASE/PHYSMASK",
         "SDM Vol. 3C, System-Management Range Register Interface"},
        /* MTRRs: physical memory types of the host, which must be the same on
         * every processor (SDM Vol. 3A, MTRR Considerations in MP Systems). */
        {0x200, 0x21f, T, PHY, WT | WP | RH, "IA32_MTRR_PHYSBASE0..PHYSMASK15",
         "SDM Vol. 3A, Variable Range MTRRs"},
        {0x250, 0x250, T, PHY, WT | WP | RH, "IA32_MTRR_FIX64K_00000",
         "SDM Vol. 3A, Fixed Range MTRRs"},
        {0x258, 0x259, T, PHY, WT | WP | RH, "IA32_MTRR_FIX16K_80000/A0000",
         "SDM Vol. 3A, Fixed Range MTRRs"},
        {0x268, 0x26f, T, PHY, WT | WP | RH, "IA32_MTRR_FIX4K_C0000..F8000",
         "SDM Vol. 3A, Fixed Range MTRRs"},
        {0x277, 0x277, T, NA, GS | WP | RH, "IA32_PAT", "SDM Vol. 3A, IA32_PAT MSR"},
        {0x280, 0x29f, C, NA, WT | WP | RH, "IA32_MC0_CTL2..MC31_CTL2", "SDM Vol. 3B, CMCI"},
        {0x2ff, 0x2ff, T, NA, WT | WP | RH, "IA32_MTRR_DEF_TYPE", "SDM Vol. 3A, MTRR Default Type"},
        {0x309, 0x30c, T, NA, WP | RH, "IA32_FIXED_CTR0..3",
         "SDM Vol. 3B, Fixed-Function Performance Counters"},
        {0x345, 0x345, T, NA, RO, "IA32_PERF_CAPABILITIES", "SDM Vol. 4, Table 2-2"},
        {0x38d, 0x392, T, NA, WP | RH, "IA32_FIXED_CTR_CTRL/PERF_GLOBAL_*",
         "SDM Vol. 3B, Architectural Performance Monitoring Version 2+"},
        {0x3f1, 0x3f1, T, NA, WP | RH, "IA32_PEBS_ENABLE",
         "SDM Vol. 3B, Processor Event Based Sampling"},
        /* Machine-check banks: MCi_ADDR is the host physical address of an
         * error anywhere in the bank's scope. */
        {0x400, 0x47f, C, PHY, WT | WP | RH, "IA32_MC0..31_CTL/STATUS/ADDR/MISC",
         "SDM Vol. 3B, Error-Reporting Register Banks"},
        {0x480, 0x493, T, NA, RO | RH, "IA32_VMX_BASIC..VMX_EXIT_CTLS2",
         "SDM Vol. 3D, Appendix A VMX Capability Reporting Facility"},
        {0x4c1, 0x4c8, T, NA, WP | RH, "IA32_A_PMC0..7",
         "SDM Vol. 3B, Full-Width Writes to Performance Counters"},
        {0x4d0, 0x4d0, T, NA, WP, "IA32_MCG_EXT_CTL", "SDM Vol. 3B, Local Machine Check"},
        {0x4e0, 0x4e3, P, NA, WT | WP | RH, "MSR_SMM_FEATURE_CONTROL..SMM_BLOCKED",
         "SDM Vol. 3C, SMM Handler Code Access Control"},
        {0x500, 0x500, T, NA, RO | RH, "IA32_SGX_SVN_STATUS", "SDM Vol. 4, Table 2-2"},
        /* Intel PT: the trace output goes to a physical address, so a
         * passthrough write lets the partition have the host write any
         * memory; the trace itself records the host's control flow. */
        {0x560, 0x560, T, PHY, WP | RH, "IA32_RTIT_OUTPUT_BASE",
         "SDM Vol. 3C, Intel Processor Trace, Trace Output"},
        {0x561, 0x561, T, NA, WP | RH, "IA32_RTIT_OUTPUT_MASK_PTRS",
         "SDM Vol. 3C, Intel Processor Trace, Trace Output"},
        {0x570, 0x571, T, NA, WP | RH, "IA32_RTIT_CTL/STATUS",
         "SDM Vol. 3C, Intel Processor Trace MSRs"},
        {0x572, 0x572, T, PHY, WP | RH, "IA32_RTIT_CR3_MATCH",
         "SDM Vol. 3C, Intel Processor Trace MSRs"},
        {0x580, 0x587, T, LIN, WP | RH, "IA32_RTIT_ADDR0_A..ADDR3_B",
         "SDM Vol. 3C, Intel Processor Trace MSRs"},
        /* BTS/PEBS records are written at this linear address in whatever
         * context runs. */
        {0x600, 0x600, T, LIN, WP | RH, "IA32_DS_AREA", "SDM Vol. 3B, Debug Store (DS) Area"},
        /* RAPL and package power management (model-specific since Sandy
         * Bridge): limits act on the package; energy counters are a side
         * channel on what every other core does. */
        {0x606, 0x64f, P, NA, WT | WP | RH, "MSR_RAPL_POWER_UNIT..package power MSRs",
         "SDM Vol. 3B, Platform Specific Power Management Support (RAPL)"},
        {0x680, 0x69f, T, LIN, WP | RH, "MSR_LASTBRANCH_0..31_FROM_IP",
         "SDM Vol. 4, model-specific LBR stacks; Vol. 3B, Last Branch Recording"},
        /* CET: bits 63:12 of U_CET/S_CET are the linear address of the
         * legacy code page bitmap; the SSPs are linear addresses. */
        {0x6a0, 0x6a0, T, LIN, GS | WP | RH, "IA32_U_CET",
         "SDM Vol. 1, Control-flow Enforcement Technology; Vol. 4, Table 2-2"},
        {0x6a2, 0x6a2, T, LIN, GS | WP | RH, "IA32_S_CET",
         "SDM Vol. 1, Control-flow Enforcement Technology; Vol. 4, Table 2-2"},
        {0x6a4, 0x6a7, T, LIN, GS | WP | RH, "IA32_PL0_SSP..PL3_SSP",
         "SDM Vol. 1, Shadow Stacks; Vol. 4, Table 2-2"},
        {0x6a8, 0x6a8, T, LIN, GS | WP | RH, "IA32_INTERRUPT_SSP_TABLE_ADDR",
         "SDM Vol. 3A, Interrupt Shadow Stack Table"},
        {0x6c0, 0x6df, T, LIN, WP | RH, "MSR_LASTBRANCH_0..31_TO_IP",
         "SDM Vol. 4, model-specific LBR stacks; Vol. 3B, Last Branch Recording"},
        /* Arms the host's local APIC timer: an interrupt to the host. */
        {0x6e0, 0x6e0, T, NA, WP | RH, "IA32_TSC_DEADLINE", "SDM Vol. 3A, TSC-Deadline Mode"},
        {0x6e1, 0x6e1, T, NA, GS | WP | RH, "IA32_PKRS",
         "SDM Vol. 3A, Protection Keys for Supervisor-Mode Pages"},
        {0x770, 0x777, P, NA, WT | WP, "IA32_PM_ENABLE..IA32_HWP_STATUS",
         "SDM Vol. 3B, Hardware-Controlled Performance States (HWP)"},
        /* A write of the host's ICR (0x830) sends INIT/SIPI/IPIs to any
         * processor; the registers reveal the host's APIC IDs. */
        {0x800, 0x8ff, T, NA, WT | WP | RH, "x2APIC registers",
         "SDM Vol. 3A, x2APIC Register Address Space"},
        {0xc80, 0xc80, P, NA, WT | WP | RH, "IA32_DEBUG_INTERFACE",
         "SDM Vol. 4, Table 2-2 (silicon debug)"},
        {0xc81, 0xc82, P, NA, WT | WP, "IA32_L3_QOS_CFG/IA32_L2_QOS_CFG",
         "SDM Vol. 3B, Intel Resource Director Technology"},
        /* RMID/CLOS association and occupancy counters: cache allocation
         * is shared with every other partition. */
        {0xc8d, 0xc8f, T, NA, WT | WP | RH, "IA32_QM_EVTSEL/QM_CTR/PQR_ASSOC",
         "SDM Vol. 3B, Intel Resource Director Technology"},
        {0xc90, 0xd8f, P, NA, WT | WP | RH, "IA32_L3_QOS_MASK_n/IA32_L2_QOS_MASK_n",
         "SDM Vol. 3B, Cache Allocation Technology"},
        {0xd90, 0xd90, T, LIN, GS | WP | RH, "IA32_BNDCFGS",
         "SDM Vol. 1, Intel MPX (bound directory base)"},
        {0xda0, 0xda0, T, NA, GS | WP | RH, "IA32_XSS",
         "SDM Vol. 1, Managing State Using the XSAVE Feature Set"},
        {0xdb0, 0xdb2, P, NA, WT | WP, "IA32_PKG_HDC_CTL/PM_CTL1/THREAD_STALL",
         "SDM Vol. 3B, Hardware Duty Cycling"},
        {0x1200, 0x121f, T, NA, WP | RH, "IA32_LBR_0..31_INFO",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        {0x14ce, 0x14cf, T, NA, WP | RH, "IA32_LBR_CTL/IA32_LBR_DEPTH",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        {0x1500, 0x151f, T, LIN, WP | RH, "IA32_LBR_0..31_FROM_IP",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        {0x1600, 0x161f, T, LIN, WP | RH, "IA32_LBR_0..31_TO_IP",
         "SDM Vol. 3B, Architectural Last Branch Records"},
        /* The processor writes the hardware feedback table at this
         * physical address. */
        {0x17d0, 0x17d0, P, PHY, WT | WP | RH, "IA32_HW_FEEDBACK_PTR",
         "SDM Vol. 3B, Hardware Feedback Interface"},
        {0x17d1, 0x17d1, P, NA, WT | WP, "IA32_HW_FEEDBACK_CONFIG",
         "SDM Vol. 3B, Hardware Feedback Interface"},
        /* The hypervisor's paging mode (LME/NXE; SVME would enable SVM),
         * system-call entry points and segment bases on the host. */
        {0xc0000080, 0xc0000080, T, NA, GS | WP | RH, "IA32_EFER",
         "SDM Vol. 4, Table 2-2; APM Vol. 2, 3.1.7 Extended Feature Enable Register"},
        {0xc0000081, 0xc0000081, T, NA, GS | WP | RH, "IA32_STAR",
         "SDM Vol. 3A, 5.8.8 Fast System Calls in 64-Bit Mode; APM Vol. 2, 6.1.1"},
        {0xc0000082, 0xc0000083, T, LIN, GS | WP | RH, "IA32_LSTAR/IA32_CSTAR",
         "SDM Vol. 3A, 5.8.8 Fast System Calls in 64-Bit Mode; APM Vol. 2, 6.1.1"},
        {0xc0000084, 0xc0000084, T, NA, GS | WP | RH, "IA32_FMASK",
         "SDM Vol. 3A, 5.8.8 Fast System Calls in 64-Bit Mode; APM Vol. 2, 6.1.1"},
        {0xc0000100, 0xc0000102, T, LIN, GS | WP | RH, "IA32_FS_BASE/GS_BASE/KERNEL_GS_BASE",
         "SDM Vol. 3A, 3.4.4 Segment Loading Instructions in IA-32e Mode; APM Vol. 2, 4.5.3"},
        {0xc0000103, 0xc0000103, T, NA, GS | WP | RH, "IA32_TSC_AUX",
         "SDM Vol. 3B, Time-Stamp Counter (RDTSCP); APM Vol. 2, 13.2.4"},
        {0xc0000104, 0xc0000104, T, NA, WP | RH, "AMD TSC_RATIO",
         "APM Vol. 2, 15.30.5 TSC Ratio MSR"},
        {0xc0000300, 0xc0000303, T, NA, WP | RH, "AMD PerfCntrGlobalStatus/Ctl/StatusClr/Set",
         "APM Vol. 2, 13.2.3 Performance Monitoring Version 2"},
        {0xc0010000, 0xc0010007, T, NA, WP | RH, "AMD PerfEvtSel0..3/PerfCtr0..3",
         "APM Vol. 2, 13.2 Performance Monitoring Counters"},
        /* MTRR extensions, TOM2 forcing, memory encryption enable: the
         * host's memory map. */
        {0xc0010010, 0xc0010010, C, NA, WT | WP | RH, "AMD SYSCFG",
         "APM Vol. 2, 7.9.1 System Configuration Register (SYSCFG)"},
        {0xc0010015, 0xc0010015, C, NA, WT | WP | RH, "AMD HWCR",
         "APM Vol. 2, Hardware Configuration Register; SMMLOCK, 10.2.5"},
        {0xc0010016, 0xc0010019, C, PHY, WT | WP | RH, "AMD IORR_BASE0/MASK0/BASE1/MASK1",
         "APM Vol. 2, 7.9.2 IORRs"},
        {0xc001001a, 0xc001001a, C, PHY, WT | WP | RH, "AMD TOP_MEM",
         "APM Vol. 2, 7.9.4 Top of Memory"},
        {0xc001001d, 0xc001001d, C, PHY, WT | WP | RH, "AMD TOP_MEM2",
         "APM Vol. 2, 7.9.4 Top of Memory"},
        /* Loads a microcode patch from a linear address, for the core. */
        {0xc0010020, 0xc0010020, C, LIN, WO | WT | WP, "AMD PATCH_LOADER",
         "PPR, MSRC001_0020 Patch Loader"},
        {0xc0010030, 0xc0010035, T, NA, WP, "AMD processor name string",
         "PPR, MSRC001_0030..35 (CPUID Fn8000_0002..4 on the host)"},
        /* PCIe enhanced configuration space base: relocates the
         * configuration space of every device on the platform. */
        {0xc0010058, 0xc0010058, P, PHY, WT | WP | RH, "AMD MMIO_CFG_BASE_ADDR",
         "PPR, MSRC001_0058 MMIO Configuration Base Address"},
        {0xc0010061, 0xc001006b, C, NA, WT | WP, "AMD P-state limit/control/status/definitions",
         "PPR, MSRC001_0061..6B"},
        /* SMRAM (ASeg/TSeg) and SVM control. */
        {0xc0010111, 0xc0010113, C, PHY, WT | WP | RH, "AMD SMM_BASE/SMM_ADDR/SMM_MASK",
         "APM Vol. 2, 10.2.5 SMRAM Protected Areas"},
        {0xc0010114, 0xc0010114, T, NA, WT | WP | RH, "AMD VM_CR", "APM Vol. 2, 15.30.1 VM_CR MSR"},
        {0xc0010115, 0xc0010115, T, NA, WP, "AMD IGNNE", "APM Vol. 2, 15.30.2 IGNNE MSR"},
        {0xc0010116, 0xc0010116, T, NA, WO | WT | WP, "AMD SMM_CTL",
         "APM Vol. 2, 15.30.3 SMM_CTL MSR"},
        {0xc0010117, 0xc0010117, T, PHY, WP | RH, "AMD VM_HSAVE_PA",
         "APM Vol. 2, 15.30.4 VM_HSAVE_PA MSR"},
        {0xc0010118, 0xc0010118, T, NA, WT | WP | RH, "AMD SVM_KEY", "APM Vol. 2, 15.31 SVM-Lock"},
        {0xc0010140, 0xc0010141, T, NA, WP, "AMD OSVW_ID_LENGTH/OSVW_STATUS",
         "APM Vol. 2, OS-Visible Workarounds"},
        {0xc0010200, 0xc001020b, T, NA, WP | RH, "AMD PerfEvtSel0..5/PerfCtr0..5 (core)",
         "APM Vol. 2, 13.2 Performance Monitoring Counters"},
        {0xc0010230, 0xc001023b, P, NA, WT | WP | RH, "AMD L3 cache performance counters",
         "PPR, MSRC001_0230..23B"},
        {0xc0010240, 0xc0010247, P, NA, WT | WP | RH, "AMD data fabric performance counters",
         "PPR, MSRC001_0240..247"},
        /* Energy counters: a power side channel on the whole package. */
        {0xc0010299, 0xc001029b, P, NA, RO | RH, "AMD RAPL_PWR_UNIT/CORE/PKG_ENERGY_STAT",
         "PPR, MSRC001_0299..29B"},
        {0xc00102b0, 0xc00102b4, P, NA, WT | WP, "AMD CPPC_CAP1..CPPC_STATUS",
         "PPR, MSRC001_02B0..2B4"},
        /* Load-store, instruction and data cache, decoder configuration of
         * the core (LS_CFG holds SSBD on older parts). */
        {0xc0011020, 0xc001102f, C, NA, WT | WP, "AMD LS_CFG/IC_CFG/DC_CFG/DE_CFG...",
         "PPR, MSRC001_1020..102F"},
        /* Instruction-based sampling: sampled linear and physical
         * addresses of whatever runs. */
        {0xc0011030, 0xc001103a, T, MIX, WP | RH, "AMD IBS fetch/op/DC MSRs",
         "PPR, MSRC001_1030..103A; APM Vol. 2, 13.3 Instruction-Based Sampling"},
};

const size_t spec_msr_count = sizeof(spec_msr_table) / sizeof(spec_msr_table[0]);

const struct spec_msr *spec_msr_find(uint32_t msr)
{
	size_t lo = 0, hi = spec_msr_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct spec_msr *r = &spec_msr_table[mid];
		if (msr < r->first)
			hi = mid;
		else if (msr > r->last)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

bool spec_msr_host_write_ok(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	return r && (r->flags & SPEC_W_SAFE);
}

bool spec_msr_host_read_ok(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	return r && !(r->flags & (SPEC_R_HOST | SPEC_WRITE_ONLY));
}

bool spec_msr_is_linear_address(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	return r && r->addr == SPEC_ADDR_LINEAR;
}

const char *spec_msr_name(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	return r ? r->name : "an MSR unknown to the spec";
}

const char *spec_msr_write_reason(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	if (!r)
		return "unknown MSRs are never safe to write on the host";
	if (r->flags & SPEC_W_SAFE)
		return "safe to write";
	if (r->flags & SPEC_READ_ONLY)
		return "read-only";
	if (r->flags & SPEC_W_BEYOND_THREAD)
		return "a write reaches beyond the thread and the partition";
	return "a write changes state the partition does not own";
}

const char *spec_msr_read_reason(uint32_t msr)
{
	const struct spec_msr *r = spec_msr_find(msr);
	if (!r)
		return "unknown MSRs are never safe to read on the host";
	if (r->flags & SPEC_WRITE_ONLY)
		return "write-only";
	if (r->flags & SPEC_R_HOST)
		return "reading it reveals host state";
	return "safe to read";
}
