/* Decoder for the instructions that access emulated MMIO: MOV r/m<->reg
 * (88/89/8A/8B), MOV r/m,imm (C6/C7), MOVZX (0F B6/B7), MOVSX (0F BE/BF),
 * MOVSXD is not accepted. Prefixes 66, 67 (rejected), segment overrides
 * (accepted, ignored in long mode except FS/GS which are rejected), REX,
 * ModRM with SIB and RIP-relative addressing. Decoding never reads past
 * `len` bytes and never accepts more than 15 (Intel SDM Vol. 2A, 2.3.11). */
#ifndef HV_DECODE_H
#define HV_DECODE_H

#include "hv/types.h"

enum hv_decode_status {
	HV_DEC_OK = 0,
	HV_DEC_TRUNCATED,   /* ran out of bytes */
	HV_DEC_TOO_LONG,    /* more than 15 bytes */
	HV_DEC_UNSUPPORTED, /* valid x86, not an MMIO form we emulate */
	HV_DEC_INVALID,     /* not a memory operand (mod == 3) or invalid encoding */
	HV_DEC_STATUS_COUNT
};

const char *hv_decode_status_str(enum hv_decode_status s);

enum hv_insn_kind {
	HV_INSN_STORE_REG = 0, /* mem <- reg */
	HV_INSN_STORE_IMM,     /* mem <- imm */
	HV_INSN_LOAD,          /* reg <- mem */
	HV_INSN_LOAD_ZX,       /* reg <- zero-extended mem */
	HV_INSN_LOAD_SX,       /* reg <- sign-extended mem */
};

struct hv_insn {
	uint8_t len;       /* total length in bytes */
	uint8_t kind;      /* enum hv_insn_kind */
	uint8_t mem_size;  /* bytes accessed in memory: 1, 2, 4 or 8 */
	uint8_t reg_size;  /* register operand size: 1, 2, 4, 8; 0 for STORE_IMM */
	uint8_t reg;       /* register operand 0..15; 0xff for STORE_IMM */
	uint8_t high_byte; /* reg is AH/CH/DH/BH (byte op, no REX, reg 4..7) */
	uint8_t has_sib;
	uint8_t rip_relative;
	uint8_t base;  /* 0..15, 0xff none */
	uint8_t index; /* 0..15, 0xff none */
	uint8_t scale; /* 1, 2, 4, 8 */
	uint8_t pad;
	int32_t disp;
	uint64_t imm; /* STORE_IMM: the immediate, sign-extended to mem_size */
};

enum hv_decode_status hv_decode(const uint8_t *bytes, uint32_t len, struct hv_insn *insn);

/* Effective (linear) address of the memory operand, given the registers and
 * the RIP of the instruction. */
uint64_t hv_insn_address(const struct hv_insn *insn, const uint64_t gpr[16], uint64_t rip);

/* Register value to store (STORE_REG, reading AH..BH for high_byte), or the
 * immediate, truncated to mem_size. */
uint64_t hv_insn_store_value(const struct hv_insn *insn, const uint64_t gpr[16]);

/* Write a loaded value into the destination register with the x86 rules:
 * 8/16-bit writes merge, 32-bit writes zero the upper half, ZX/SX extend. */
void hv_insn_load_apply(const struct hv_insn *insn, uint64_t gpr[16], uint64_t value);

#endif
