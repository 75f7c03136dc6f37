/* Instruction lengths for exits without a reported length (hv/insn_len.h). */
#include "hv/insn_len.h"

/* Intel SDM Vol. 2A, 2.1.1: operand/address size (66, 67), segment
 * overrides (2E 36 3E 26 64 65) and REPNE/REP (F2, F3). LOCK (F0) is
 * left out on purpose: with any of these opcodes it raises #UD, so no exit
 * can have been caused by a LOCK-prefixed one. */
static bool legacy_prefix(uint8_t b)
{
	switch (b) {
	case 0x66:
	case 0x67:
	case 0x2e:
	case 0x36:
	case 0x3e:
	case 0x26:
	case 0x64:
	case 0x65:
	case 0xf2:
	case 0xf3:
		return true;
	default:
		return false;
	}
}

/* The opcode bytes an exit of `reason` executed, or NULL. */
static const uint8_t *opcode_of(uint32_t reason, enum hv_vendor vendor, uint32_t *len)
{
	static const uint8_t cpuid[] = {0x0f, 0xa2}, rdmsr[] = {0x0f, 0x32}, wrmsr[] = {0x0f, 0x30},
	                     hlt[] = {0xf4}, vmcall[] = {0x0f, 0x01, 0xc1},
	                     vmmcall[] = {0x0f, 0x01, 0xd9};
	switch (reason) {
	case HV_EXIT_CPUID:
		*len = sizeof(cpuid);
		return cpuid;
	case HV_EXIT_RDMSR:
		*len = sizeof(rdmsr);
		return rdmsr;
	case HV_EXIT_WRMSR:
		*len = sizeof(wrmsr);
		return wrmsr;
	case HV_EXIT_HLT:
		*len = sizeof(hlt);
		return hlt;
	case HV_EXIT_VMCALL:
		*len = 3;
		return vendor == HV_VENDOR_AMD ? vmmcall : vmcall;
	default:
		return NULL;
	}
}

uint32_t hv_insn_len_for_exit(uint32_t reason, enum hv_vendor vendor, bool long_mode,
                              const uint8_t *bytes, uint32_t n)
{
	uint32_t oplen;
	const uint8_t *op = opcode_of(reason, vendor, &oplen);
	if (!op)
		return 0;
	uint32_t i = 0;
	/* A REX is a prefix in 64-bit mode only (elsewhere 40-4F are INC and
	 * DEC); one not directly before the opcode is ignored but still part
	 * of the instruction (SDM Vol. 2A, 2.2.1). */
	while (i < n && i < 15 &&
	       (legacy_prefix(bytes[i]) || (long_mode && (bytes[i] & 0xf0) == 0x40)))
		i++;
	if (i + oplen > 15 || i + oplen > n)
		return 0;
	for (uint32_t k = 0; k < oplen; k++)
		if (bytes[i + k] != op[k])
			return 0;
	return i + oplen;
}

uint32_t hv_insn_decode_cr_write(uint32_t cr, bool long_mode, const uint8_t *bytes, uint32_t n,
                                 const uint64_t gpr[HV_GPR_COUNT], uint64_t *qual)
{
	uint32_t i = 0;
	uint8_t rex = 0;
	while (i < n && i < 15 &&
	       (legacy_prefix(bytes[i]) || (long_mode && (bytes[i] & 0xf0) == 0x40))) {
		/* Only a REX right before the opcode counts (SDM Vol. 2A, 2.2.1). */
		rex = (long_mode && (bytes[i] & 0xf0) == 0x40) ? bytes[i] : 0;
		i++;
	}
	if (i + 2 > n || i + 2 > 15 || bytes[i] != 0x0f)
		return 0;
	uint8_t op = bytes[i + 1];
	if (op == 0x06) { /* CLTS */
		if (cr != 0)
			return 0;
		*qual = HV_QUAL_CR_CLTS;
		return i + 2;
	}
	if (i + 3 > n || i + 3 > 15)
		return 0;
	uint8_t modrm = bytes[i + 2];
	uint32_t reg = (modrm >> 3) & 7, rm = modrm & 7;
	if (op == 0x22) {
		/* MOV CRn, r64 (0F 22 /r): the mod bits are ignored, the operand
		 * is always a register (SDM Vol. 2B, "MOV--Move to/from Control
		 * Registers"); REX.R extends the CR number, REX.B the GPR. */
		uint32_t crn = reg | ((rex & 4) ? 8u : 0u);
		if (crn != cr)
			return 0;
		uint32_t g = rm | ((rex & 1) ? 8u : 0u);
		*qual = (uint64_t)crn | HV_QUAL_CR_MOV | ((uint64_t)g << HV_QUAL_CR_GPR_SHIFT);
		return i + 3;
	}
	if (op == 0x01 && reg == 6 && (modrm >> 6) == 3 && cr == 0) {
		/* LMSW r16 (0F 01 /6). The memory form is not decoded: its
		 * operand would have to be read through the guest's tables. */
		uint32_t g = rm | ((rex & 1) ? 8u : 0u);
		*qual = HV_QUAL_CR_LMSW | ((gpr[g] & 0xffff) << HV_QUAL_CR_LMSW_SHIFT);
		return i + 3;
	}
	return 0;
}
