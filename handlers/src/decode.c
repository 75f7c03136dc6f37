/* Decoder for the instruction forms that may touch emulated MMIO, 64-bit
 * mode only (the caller checks the guest runs in IA-32e mode).
 *
 * Decoding happens in two passes over one cursor:
 *   1. structure: prefixes, opcode, ModRM, SIB, displacement, immediate.
 *      Every byte is taken through next_byte(), which enforces the 15-byte
 *      limit (SDM Vol. 2A, 2.3.11) before the buffer length, so a 16th byte
 *      is TOO_LONG whether or not the caller supplied it.
 *   2. semantics: the forms that are valid x86 but not emulated, and the
 *      encodings that would raise #UD, are rejected once the structure is
 *      known. So structural errors (TRUNCATED / TOO_LONG) take precedence
 *      over INVALID / UNSUPPORTED for the opcodes this decoder knows.
 *
 * Prefix decisions (SDM Vol. 2A, 2.1.1 and 2.2.1):
 *   - 66 selects 16-bit operands unless REX.W is set (REX.W wins); it is
 *     ignored by the byte forms 88/8A/C6.
 *   - 67 (32-bit addressing) is UNSUPPORTED: the address truncation is not
 *     emulated.
 *   - F0 LOCK with MOV/MOVZX/MOVSX raises #UD: INVALID.
 *   - F2/F3 are UNSUPPORTED: with 88/89/C6/C7 they are XACQUIRE/XRELEASE
 *     (HLE), with the others they are reserved.
 *   - CS/DS/ES/SS overrides are accepted and ignored (their bases are 0 in
 *     64-bit mode, SDM Vol. 1, 3.3.7.1). FS/GS overrides are UNSUPPORTED:
 *     their bases are not part of the exit record.
 *   - REX (40..4F) counts only when it immediately precedes the opcode (or
 *     the 0F escape). A REX followed by another prefix is ignored entirely,
 *     including for byte-register selection, as the SDM says ("other
 *     placements are ignored"); of several REX bytes only the last counts.
 *   - Prefixes may repeat; any count is accepted up to the length limit. */
#include "hv/decode.h"

#define DEC_MAX_LEN 15u
#define DEC_NONE 0xffu

#define REX_W 0x8u
#define REX_R 0x4u
#define REX_X 0x2u
#define REX_B 0x1u

static const char *const decode_status_names[] = {
        [HV_DEC_OK] = "ok",
        [HV_DEC_TRUNCATED] = "truncated",
        [HV_DEC_TOO_LONG] = "longer than 15 bytes",
        [HV_DEC_UNSUPPORTED] = "unsupported instruction",
        [HV_DEC_INVALID] = "invalid encoding",
};
_Static_assert(HV_ARRAY_LEN(decode_status_names) == HV_DEC_STATUS_COUNT,
               "every decode status has a name");

const char *hv_decode_status_str(enum hv_decode_status s)
{
	return (unsigned)s < HV_DEC_STATUS_COUNT ? decode_status_names[s] : "unknown";
}

struct cursor {
	const uint8_t *bytes;
	uint32_t len;
	uint32_t pos;
};

static enum hv_decode_status next_byte(struct cursor *c, uint8_t *out)
{
	if (c->pos >= DEC_MAX_LEN)
		return HV_DEC_TOO_LONG;
	if (c->pos >= c->len)
		return HV_DEC_TRUNCATED;
	*out = c->bytes[c->pos++];
	return HV_DEC_OK;
}

/* Little-endian value of n bytes (1, 2 or 4). */
static enum hv_decode_status next_le(struct cursor *c, uint32_t n, uint32_t *out)
{
	uint32_t v = 0;
	for (uint32_t i = 0; i < n && i < 4; i++) {
		uint8_t b;
		enum hv_decode_status s = next_byte(c, &b);
		if (s != HV_DEC_OK)
			return s;
		v |= (uint32_t)b << (8 * i);
	}
	*out = v;
	return HV_DEC_OK;
}

struct prefixes {
	bool opsize;   /* 66 */
	bool addrsize; /* 67 */
	bool lock;     /* F0 */
	bool rep;      /* F2 or F3 */
	bool fs_gs;    /* 64 or 65 */
	uint8_t rex;   /* the effective REX byte, 0 when none */
};

/* Consume prefixes; *op receives the first opcode byte. */
static enum hv_decode_status read_prefixes(struct cursor *c, struct prefixes *p, uint8_t *op)
{
	while (c->pos < DEC_MAX_LEN) {
		uint8_t b;
		enum hv_decode_status s = next_byte(c, &b);
		if (s != HV_DEC_OK)
			return s;
		switch (b) {
		case 0x66:
			p->opsize = true;
			break;
		case 0x67:
			p->addrsize = true;
			break;
		case 0xf0:
			p->lock = true;
			break;
		case 0xf2:
		case 0xf3:
			p->rep = true;
			break;
		case 0x26:
		case 0x2e:
		case 0x36:
		case 0x3e:
			break;
		case 0x64:
		case 0x65:
			p->fs_gs = true;
			break;
		default:
			if ((b & 0xf0) == 0x40) {
				p->rex = b;
				continue;
			}
			*op = b;
			return HV_DEC_OK;
		}
		/* A legacy prefix after a REX: that REX does not precede the
		 * opcode and is ignored (SDM Vol. 2A, 2.2.1). */
		p->rex = 0;
	}
	return HV_DEC_TOO_LONG;
}

/* Operand sizes and kind of one supported opcode. */
struct form {
	uint8_t kind;
	uint8_t mem_size; /* 0: the operand size (16/32/64) */
	bool byte_reg;    /* the register operand is 8-bit */
	bool has_imm;
};

static bool lookup_form(bool twobyte, uint8_t op, struct form *f)
{
	if (!twobyte) {
		switch (op) {
		case 0x88: /* MOV r/m8, r8 */
			*f = (struct form){HV_INSN_STORE_REG, 1, true, false};
			return true;
		case 0x89: /* MOV r/m16/32/64, r16/32/64 */
			*f = (struct form){HV_INSN_STORE_REG, 0, false, false};
			return true;
		case 0x8a: /* MOV r8, r/m8 */
			*f = (struct form){HV_INSN_LOAD, 1, true, false};
			return true;
		case 0x8b: /* MOV r16/32/64, r/m16/32/64 */
			*f = (struct form){HV_INSN_LOAD, 0, false, false};
			return true;
		case 0xc6: /* MOV r/m8, imm8 (/0) */
			*f = (struct form){HV_INSN_STORE_IMM, 1, false, true};
			return true;
		case 0xc7: /* MOV r/m16/32/64, imm16/32 (/0) */
			*f = (struct form){HV_INSN_STORE_IMM, 0, false, true};
			return true;
		default:
			return false;
		}
	}
	switch (op) {
	case 0xb6: /* MOVZX r, r/m8 */
		*f = (struct form){HV_INSN_LOAD_ZX, 1, false, false};
		return true;
	case 0xb7: /* MOVZX r, r/m16 */
		*f = (struct form){HV_INSN_LOAD_ZX, 2, false, false};
		return true;
	case 0xbe: /* MOVSX r, r/m8 */
		*f = (struct form){HV_INSN_LOAD_SX, 1, false, false};
		return true;
	case 0xbf: /* MOVSX r, r/m16 */
		*f = (struct form){HV_INSN_LOAD_SX, 2, false, false};
		return true;
	default:
		return false;
	}
}

/* ModRM memory operand, SIB and displacement (SDM Vol. 2A, 2.2.1.2,
 * Tables 2-2 and 2-3 with the REX extensions of 2.2.1). */
static enum hv_decode_status read_memory_operand(struct cursor *c, uint8_t rex, uint8_t mod,
                                                 uint8_t rm, struct hv_insn *in)
{
	enum hv_decode_status s;
	bool disp32 = mod == 2;
	in->base = DEC_NONE;
	in->index = DEC_NONE;
	in->scale = 1;
	if (mod == 3)
		return HV_DEC_OK; /* register operand: rejected by the caller */

	if (rm == 4) {
		uint8_t sib;
		s = next_byte(c, &sib);
		if (s != HV_DEC_OK)
			return s;
		in->has_sib = 1;
		uint8_t idx = (uint8_t)(((sib >> 3) & 7) | ((rex & REX_X) ? 8 : 0));
		/* Index 100 without REX.X means no index; with REX.X it is R12. */
		if (idx != 4) {
			in->index = idx;
			in->scale = (uint8_t)(1u << (sib >> 6));
		}
		/* Base 101 with mod 00 means no base and a disp32, whatever
		 * REX.B says (R13 as base needs mod 01 or 10). */
		if ((sib & 7) == 5 && mod == 0)
			disp32 = true;
		else
			in->base = (uint8_t)((sib & 7) | ((rex & REX_B) ? 8 : 0));
	} else if (rm == 5 && mod == 0) {
		/* RIP-relative in 64-bit mode (SDM Vol. 2A, 2.2.1.6), REX.B
		 * does not change it. */
		in->rip_relative = 1;
		disp32 = true;
	} else {
		in->base = (uint8_t)(rm | ((rex & REX_B) ? 8 : 0));
	}

	if (mod == 1) {
		uint32_t d;
		s = next_le(c, 1, &d);
		if (s != HV_DEC_OK)
			return s;
		in->disp = (int8_t)(uint8_t)d;
	} else if (disp32) {
		uint32_t d;
		s = next_le(c, 4, &d);
		if (s != HV_DEC_OK)
			return s;
		in->disp = (int32_t)d;
	}
	return HV_DEC_OK;
}

static uint64_t size_mask(uint32_t size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static uint64_t sign_extend(uint64_t v, uint32_t size)
{
	switch (size) {
	case 1:
		return (uint64_t)(int64_t)(int8_t)(uint8_t)v;
	case 2:
		return (uint64_t)(int64_t)(int16_t)(uint16_t)v;
	case 4:
		return (uint64_t)(int64_t)(int32_t)(uint32_t)v;
	default:
		return v;
	}
}

static enum hv_decode_status decode(const uint8_t *bytes, uint32_t len, struct hv_insn *in)
{
	struct cursor c = {bytes, len, 0};
	struct prefixes p = {0};
	struct form f;
	uint8_t op, modrm;
	bool twobyte = false;

	enum hv_decode_status s = read_prefixes(&c, &p, &op);
	if (s != HV_DEC_OK)
		return s;
	if (op == 0x0f) {
		s = next_byte(&c, &op);
		if (s != HV_DEC_OK)
			return s;
		twobyte = true;
	}
	if (!lookup_form(twobyte, op, &f))
		return HV_DEC_UNSUPPORTED;

	/* Operand size (SDM Vol. 1, 3.6.1, Table 3-4): REX.W beats 66. */
	uint8_t opsize = (p.rex & REX_W) ? 8 : p.opsize ? 2 : 4;

	s = next_byte(&c, &modrm);
	if (s != HV_DEC_OK)
		return s;
	uint8_t mod = modrm >> 6, reg_field = (modrm >> 3) & 7, rm = modrm & 7;
	s = read_memory_operand(&c, p.rex, mod, rm, in);
	if (s != HV_DEC_OK)
		return s;

	in->kind = f.kind;
	in->mem_size = f.mem_size ? f.mem_size : opsize;
	in->reg_size = f.byte_reg ? 1 : opsize;
	in->reg = (uint8_t)(reg_field | ((p.rex & REX_R) ? 8 : 0));
	/* Without any REX, byte registers 4..7 are AH, CH, DH, BH; with one
	 * they are SPL, BPL, SIL, DIL (SDM Vol. 2A, 2.2.1.2). */
	in->high_byte = f.byte_reg && p.rex == 0 && reg_field >= 4;

	if (f.has_imm) {
		uint32_t n = in->mem_size == 1 ? 1 : in->mem_size == 2 ? 2 : 4, v;
		s = next_le(&c, n, &v);
		if (s != HV_DEC_OK)
			return s;
		/* imm32 is sign-extended to 64 bits with REX.W (SDM Vol. 2B, MOV). */
		in->imm = sign_extend(v, n) & size_mask(in->mem_size);
		in->reg = DEC_NONE;
		in->reg_size = 0;
	}
	in->len = (uint8_t)c.pos;

	if (mod == 3)
		return HV_DEC_INVALID; /* register-to-register: no memory access */
	if (f.has_imm && reg_field != 0)
		return HV_DEC_INVALID; /* C6/C7 /1../7 with a memory operand: #UD */
	if (p.lock)
		return HV_DEC_INVALID; /* LOCK on a non-lockable instruction: #UD */
	if (p.rep || p.addrsize || p.fs_gs)
		return HV_DEC_UNSUPPORTED;
	return HV_DEC_OK;
}

enum hv_decode_status hv_decode(const uint8_t *bytes, uint32_t len, struct hv_insn *insn)
{
	struct hv_insn in;
	hv_memset(&in, 0, sizeof(in));
	enum hv_decode_status s = decode(bytes, len, &in);
	/* On failure the output is all zero, so results never depend on how far
	 * decoding got (replays compare them). */
	if (s != HV_DEC_OK)
		hv_memset(&in, 0, sizeof(in));
	*insn = in;
	return s;
}

uint64_t hv_insn_address(const struct hv_insn *insn, const uint64_t gpr[16], uint64_t rip)
{
	/* 64-bit address arithmetic wraps modulo 2^64 (SDM Vol. 1, 3.7.5). */
	uint64_t a = (uint64_t)(int64_t)insn->disp;
	if (insn->rip_relative)
		a += rip + insn->len; /* relative to the next instruction */
	if (insn->base != DEC_NONE)
		a += gpr[insn->base & 15];
	if (insn->index != DEC_NONE)
		a += gpr[insn->index & 15] * insn->scale;
	return a;
}

uint64_t hv_insn_store_value(const struct hv_insn *insn, const uint64_t gpr[16])
{
	uint64_t v;
	if (insn->kind == HV_INSN_STORE_IMM)
		v = insn->imm;
	else if (insn->kind != HV_INSN_STORE_REG)
		return 0;
	else if (insn->high_byte)
		v = gpr[(insn->reg - 4) & 3] >> 8;
	else
		v = gpr[insn->reg & 15];
	return v & size_mask(insn->mem_size);
}

void hv_insn_load_apply(const struct hv_insn *insn, uint64_t gpr[16], uint64_t value)
{
	uint64_t v = value & size_mask(insn->mem_size);
	if (insn->kind == HV_INSN_LOAD_SX)
		v = sign_extend(v, insn->mem_size);
	else if (insn->kind != HV_INSN_LOAD && insn->kind != HV_INSN_LOAD_ZX)
		return;

	/* Register writes (SDM Vol. 1, 3.4.1.1): 8- and 16-bit results merge
	 * into the register, 32-bit results zero bits 63:32. */
	switch (insn->reg_size) {
	case 1:
		if (insn->high_byte) {
			uint64_t *r = &gpr[(insn->reg - 4) & 3];
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		} else {
			uint64_t *r = &gpr[insn->reg & 15];
			*r = (*r & ~0xffull) | (v & 0xff);
		}
		break;
	case 2:
		gpr[insn->reg & 15] = (gpr[insn->reg & 15] & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		gpr[insn->reg & 15] = v & 0xffffffffull;
		break;
	case 8:
		gpr[insn->reg & 15] = v;
		break;
	default:
		break;
	}
}
