/* Lengths of the instructions whose exits the core resumes past, for
 * hardware that does not report them: AMD SVM without NRIPS (APM Vol. 2,
 * 15.7.1 "State Saved on Exit": nRIP is saved only when CPUID Fn8000_000A
 * EDX[3] says so). The MMIO decoder measures EPT violations itself. */
#ifndef HV_INSN_LEN_H
#define HV_INSN_LEN_H

#include "hv/exit.h"

/* Length of the instruction in bytes[0..n) if it is the one an exit of
 * `reason` executed on `vendor`: CPUID (0F A2), RDMSR (0F 32), WRMSR
 * (0F 30), HLT (F4), and the hypercall, VMCALL (0F 01 C1) on Intel and
 * VMMCALL (0F 01 D9) on AMD. Legacy prefixes of groups 2-4 and REP/REPNE
 * may precede it (Intel SDM Vol. 2A, 2.1.1), and REX prefixes in 64-bit
 * mode; LOCK makes each of these #UD, so it is refused. Returns 0 when the
 * bytes are not that instruction, are cut short, or exceed 15 bytes. */
uint32_t hv_insn_len_for_exit(uint32_t reason, enum hv_vendor vendor, bool long_mode,
                              const uint8_t *bytes, uint32_t n);

/* The CR write at bytes[0..n) for an exit that wrote control register cr
 * (0 or 4): MOV to CR (0F 22 /r), CLTS (0F 06) or LMSW with a register
 * operand (0F 01 /6), after prefixes as above. Fills *qual as a VMX exit
 * qualification (hv/exit.h, HV_QUAL_CR_*; LMSW's source data from gpr)
 * and returns the length; 0 when the bytes are not such an instruction
 * for cr (LMSW with a memory operand included). */
uint32_t hv_insn_decode_cr_write(uint32_t cr, bool long_mode, const uint8_t *bytes, uint32_t n,
                                 const uint64_t gpr[HV_GPR_COUNT], uint64_t *qual);

#endif
