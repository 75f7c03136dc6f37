/* DECODE-EQ on fuzzed bytes: the production MMIO decoder against Zydis, an
 * independent x86 decoder. Every instruction hv_decode accepts must be the
 * same instruction to Zydis (length, mnemonic, operand size, direction,
 * register, addressing); every plain MOV/MOVZX/MOVSX memory form Zydis
 * decodes without prefixes the core rejects by design must be accepted. */
#include <Zydis/Zydis.h>
#include <stdio.h>
#include <string.h>

#include "fz.h"
#include "hv/decode.h"

static const char *const gpr64[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                      "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const gpr32[16] = {"eax", "ecx", "edx",  "ebx",  "esp",  "ebp",  "esi",  "edi",
                                      "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};
static const char *const gpr16[16] = {"ax",  "cx",  "dx",   "bx",   "sp",   "bp",   "si",   "di",
                                      "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
static const char *const gpr8[16] = {"al",  "cl",  "dl",   "bl",   "spl",  "bpl",  "sil",  "dil",
                                     "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
static const char *const gpr8_high[4] = {"ah", "ch", "dh", "bh"};

static const char *reg_name(uint8_t reg, uint8_t size, uint8_t high)
{
	if (reg > 15)
		return "?";
	switch (size) {
	case 1:
		return high ? (reg >= 4 && reg <= 7 ? gpr8_high[reg - 4] : "?") : gpr8[reg];
	case 2:
		return gpr16[reg];
	case 4:
		return gpr32[reg];
	default:
		return gpr64[reg];
	}
}

static const char *zy_reg(ZydisRegister r)
{
	const char *s = ZydisRegisterGetString(r);
	return s ? s : "none";
}

static void hex(const uint8_t *b, size_t n, char *out, size_t outlen)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 3 < outlen; i++)
		k += (size_t)snprintf(out + k, outlen - k, "%02x", b[i]);
	out[k] = '\0';
}

/* Bytes the core rejects on purpose (DESIGN: no LOCK/REP, no 67, no FS/GS,
 * legacy prefixes only before REX). Zydis accepting them is not a miss. */
static int rejected_by_design(const ZydisDecodedInstruction *zi)
{
	const ZyanU64 attrs = ZYDIS_ATTRIB_HAS_LOCK | ZYDIS_ATTRIB_HAS_REP | ZYDIS_ATTRIB_HAS_REPE |
	                      ZYDIS_ATTRIB_HAS_REPNE | ZYDIS_ATTRIB_HAS_SEGMENT_FS |
	                      ZYDIS_ATTRIB_HAS_SEGMENT_GS | ZYDIS_ATTRIB_HAS_ADDRESSSIZE |
	                      ZYDIS_ATTRIB_HAS_XACQUIRE | ZYDIS_ATTRIB_HAS_XRELEASE |
	                      ZYDIS_ATTRIB_HAS_BND | ZYDIS_ATTRIB_HAS_NOTRACK;
	if (zi->attributes & attrs)
		return 1;
	/* Any REX that is not the last prefix is ignored by the CPU (SDM Vol.
	 * 2A 2.2.1); the core refuses such encodings rather than guess. */
	for (ZyanU8 i = 0; i < zi->raw.prefix_count; i++) {
		ZyanU8 v = zi->raw.prefixes[i].value;
		if (i + 1 < zi->raw.prefix_count &&
		    zi->raw.prefixes[i].type == ZYDIS_PREFIX_TYPE_IGNORED)
			return 1;
		/* LOCK, REPNE, REP, FS, GS, address size: refused however Zydis
		 * classifies them (it drops REP on MOV silently). */
		if (v == 0xf0 || v == 0xf2 || v == 0xf3 || v == 0x64 || v == 0x65 || v == 0x67)
			return 1;
	}
	return 0;
}

static int supported_opcode(const ZydisDecodedInstruction *zi)
{
	if (zi->opcode_map == ZYDIS_OPCODE_MAP_DEFAULT)
		return zi->opcode == 0x88 || zi->opcode == 0x89 || zi->opcode == 0x8a ||
		       zi->opcode == 0x8b || zi->opcode == 0xc6 || zi->opcode == 0xc7;
	if (zi->opcode_map == ZYDIS_OPCODE_MAP_0F)
		return zi->opcode == 0xb6 || zi->opcode == 0xb7 || zi->opcode == 0xbe ||
		       zi->opcode == 0xbf;
	return 0;
}

static void compare(const uint8_t *bytes, const struct hv_insn *in,
                    const ZydisDecodedInstruction *zi, const ZydisDecodedOperand *zo)
{
	char h[40];
	hex(bytes, in->len, h, sizeof(h));
	FZ_CHECK(zi->length == in->len, "DECODE-EQ", "%s: length %u, zydis %u", h, in->len,
	         zi->length);
	ZydisMnemonic want = in->kind == HV_INSN_LOAD_ZX   ? ZYDIS_MNEMONIC_MOVZX
	                     : in->kind == HV_INSN_LOAD_SX ? ZYDIS_MNEMONIC_MOVSX
	                                                   : ZYDIS_MNEMONIC_MOV;
	FZ_CHECK(zi->mnemonic == want, "DECODE-EQ", "%s: kind %u, zydis mnemonic %s", h, in->kind,
	         ZydisMnemonicGetString(zi->mnemonic));
	int is_store = in->kind == HV_INSN_STORE_REG || in->kind == HV_INSN_STORE_IMM;
	const ZydisDecodedOperand *mem = &zo[is_store ? 0 : 1];
	const ZydisDecodedOperand *other = &zo[is_store ? 1 : 0];
	FZ_CHECK(mem->type == ZYDIS_OPERAND_TYPE_MEMORY, "DECODE-EQ",
	         "%s: direction: zydis operand %d is not memory", h, is_store ? 0 : 1);
	FZ_CHECK(mem->size == in->mem_size * 8u, "DECODE-EQ", "%s: access size %u, zydis %u bits",
	         h, in->mem_size, mem->size);

	/* Addressing: base, index, scale, displacement. */
	const char *base = in->rip_relative   ? "rip"
	                   : in->base == 0xff ? "none"
	                                      : gpr64[in->base & 15];
	const char *index = in->index == 0xff ? "none" : gpr64[in->index & 15];
	FZ_CHECK(!strcmp(base, zy_reg(mem->mem.base)), "DECODE-EQ", "%s: base %s, zydis %s", h,
	         base, zy_reg(mem->mem.base));
	FZ_CHECK(!strcmp(index, zy_reg(mem->mem.index)), "DECODE-EQ", "%s: index %s, zydis %s", h,
	         index, zy_reg(mem->mem.index));
	if (in->index != 0xff)
		FZ_CHECK(mem->mem.scale == in->scale, "DECODE-EQ", "%s: scale %u, zydis %u", h,
		         in->scale, mem->mem.scale);
	int64_t zdisp = mem->mem.disp.has_displacement ? mem->mem.disp.value : 0;
	FZ_CHECK(zdisp == in->disp, "DECODE-EQ", "%s: disp %d, zydis %lld", h, in->disp,
	         (long long)zdisp);

	if (in->kind == HV_INSN_STORE_IMM) {
		FZ_CHECK(other->type == ZYDIS_OPERAND_TYPE_IMMEDIATE, "DECODE-EQ",
		         "%s: zydis source is not an immediate", h);
		uint64_t mask = in->mem_size == 8 ? ~0ull : (1ull << (in->mem_size * 8)) - 1;
		FZ_CHECK((other->imm.value.u & mask) == (in->imm & mask), "DECODE-EQ",
		         "%s: imm %#llx, zydis %#llx", h, (unsigned long long)in->imm,
		         (unsigned long long)other->imm.value.u);
		return;
	}
	FZ_CHECK(other->type == ZYDIS_OPERAND_TYPE_REGISTER, "DECODE-EQ",
	         "%s: zydis register operand missing", h);
	uint8_t rsize = is_store ? in->mem_size : in->reg_size;
	const char *reg = reg_name(in->reg, rsize, in->high_byte);
	FZ_CHECK(!strcmp(reg, zy_reg(other->reg.value)), "DECODE-EQ", "%s: register %s, zydis %s",
	         h, reg, zy_reg(other->reg.value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ZydisDecoder dec;
	static int ready;
	if (!ready) {
		ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
		ready = 1;
	}
	uint8_t bytes[16];
	size_t n = size < sizeof(bytes) ? size : sizeof(bytes);
	memcpy(bytes, data, n);

	struct hv_insn in;
	memset(&in, 0, sizeof(in));
	enum hv_decode_status st = hv_decode(bytes, (uint32_t)n, &in);
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	int zok = ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, n, &zi, zo));

	char h[40];
	if (st == HV_DEC_OK) {
		hex(bytes, n, h, sizeof(h));
		FZ_CHECK(in.len >= 1 && in.len <= n && in.len <= 15, "DECODE-EQ",
		         "%s: length %u outside the input", h, in.len);
		FZ_CHECK(zok, "DECODE-EQ", "%s: accepted, but zydis cannot decode it", h);
		compare(bytes, &in, &zi, zo);
		return 0;
	}
	/* A miss: Zydis sees a plain supported MOV form with a memory operand. */
	if (zok && supported_opcode(&zi) && !rejected_by_design(&zi)) {
		int has_mem = zo[0].type == ZYDIS_OPERAND_TYPE_MEMORY ||
		              zo[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
		hex(bytes, zi.length, h, sizeof(h));
		FZ_CHECK(!has_mem, "DECODE-EQ", "%s: zydis decodes %s, core says %s", h,
		         ZydisMnemonicGetString(zi.mnemonic), hv_decode_status_str(st));
	}
	return 0;
}
