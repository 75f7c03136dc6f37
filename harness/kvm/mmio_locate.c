#include "mmio_locate.h"

#include <stdio.h>
#include <string.h>

#ifdef HXK_HAVE_ZYDIS
#include <Zydis/Zydis.h>
#endif

/* Longest linear sweep: a function or a straight run of code. */
#define SWEEP_MAX 4096u

static uint64_t truncate_to(uint64_t v, uint8_t size)
{
	return size >= 8 ? v : v & ((1ull << (size * 8)) - 1);
}

static const uint8_t *bytes_from(const struct hxk_locate_in *in, uint64_t start)
{
	return in->code + (in->code_len - (uint32_t)(in->rip - start));
}

/* hv_decode at start: does it reproduce KVM's access exactly? */
static void prod_check(const struct hxk_locate_in *in, uint64_t start, struct hxk_located *out)
{
	uint32_t len = (uint32_t)(in->rip - start);
	struct hv_insn *insn = &out->insn;
	out->prod = hv_decode(bytes_from(in, start), len, insn);
	out->prod_exact = false;
	/* Wanting more bytes than the instruction KVM executed has is a
	 * length disagreement, not a rejection. */
	out->prod_mismatch = out->prod == HV_DEC_TRUNCATED;
	if (out->prod != HV_DEC_OK)
		return;
	uint64_t gpa;
	bool exact = insn->len == len &&
	             (insn->kind == HV_INSN_STORE_REG || insn->kind == HV_INSN_STORE_IMM) &&
	             insn->mem_size == in->kvm.size &&
	             truncate_to(hv_insn_store_value(insn, in->gpr), in->kvm.size) ==
	                     truncate_to(in->kvm.data, in->kvm.size) &&
	             in->tr(in->tr_ctx, hv_insn_address(insn, in->gpr, start), &gpa) &&
	             gpa == in->kvm.gpa;
	out->prod_exact = exact;
	out->prod_mismatch = !exact;
}

#ifdef HXK_HAVE_ZYDIS
static bool zydis_init(ZydisDecoder *dec)
{
	return ZYAN_SUCCESS(
	        ZydisDecoderInit(dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64));
}

static void fill_context(ZydisRegisterContext *rc, const uint64_t gpr[16])
{
	static const ZydisRegister r64[16] = {
	        ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_RBX,
	        ZYDIS_REGISTER_RSP, ZYDIS_REGISTER_RBP, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_RDI,
	        ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11,
	        ZYDIS_REGISTER_R12, ZYDIS_REGISTER_R13, ZYDIS_REGISTER_R14, ZYDIS_REGISTER_R15};
	static const ZydisRegister r32[16] = {
	        ZYDIS_REGISTER_EAX,  ZYDIS_REGISTER_ECX,  ZYDIS_REGISTER_EDX,  ZYDIS_REGISTER_EBX,
	        ZYDIS_REGISTER_ESP,  ZYDIS_REGISTER_EBP,  ZYDIS_REGISTER_ESI,  ZYDIS_REGISTER_EDI,
	        ZYDIS_REGISTER_R8D,  ZYDIS_REGISTER_R9D,  ZYDIS_REGISTER_R10D, ZYDIS_REGISTER_R11D,
	        ZYDIS_REGISTER_R12D, ZYDIS_REGISTER_R13D, ZYDIS_REGISTER_R14D, ZYDIS_REGISTER_R15D};
	memset(rc, 0, sizeof(*rc));
	for (int i = 0; i < 16; i++) {
		rc->values[r64[i]] = gpr[i];
		rc->values[r32[i]] = gpr[i] & 0xffffffffull;
	}
}

/* STOS and MOVS (the string-operation category: Zydis names SSE2 MOVSD
 * like the string MOVSD). */
static bool is_string_store(const ZydisDecodedInstruction *insn)
{
	if (insn->meta.category != ZYDIS_CATEGORY_STRINGOP)
		return false;
	switch (insn->mnemonic) {
	case ZYDIS_MNEMONIC_STOSB:
	case ZYDIS_MNEMONIC_STOSW:
	case ZYDIS_MNEMONIC_STOSD:
	case ZYDIS_MNEMONIC_STOSQ:
	case ZYDIS_MNEMONIC_MOVSB:
	case ZYDIS_MNEMONIC_MOVSW:
	case ZYDIS_MNEMONIC_MOVSD:
	case ZYDIS_MNEMONIC_MOVSQ:
		return true;
	default:
		return false;
	}
}

/* A string store has already advanced RDI by one element when KVM reports
 * it, in the direction of RFLAGS.DF (unknown here: both are tried). */
static bool address_matches(const struct hxk_locate_in *in, const ZydisDecodedInstruction *insn,
                            uint64_t la)
{
	uint64_t gpa;
	if (in->tr(in->tr_ctx, la, &gpa) && gpa == in->kvm.gpa)
		return true;
	if (!is_string_store(insn))
		return false;
	return (in->tr(in->tr_ctx, la - in->kvm.size, &gpa) && gpa == in->kvm.gpa) ||
	       (in->tr(in->tr_ctx, la + in->kvm.size, &gpa) && gpa == in->kvm.gpa);
}

/* Does the independent decoder read bytes[0..len) at start as one
 * instruction that writes kvm.size bytes at kvm.gpa? It must end exactly at
 * RIP, except an unfinished REP string store at RIP. */
static bool ref_decode(const struct hxk_locate_in *in, const uint8_t *bytes, uint32_t len,
                       uint64_t start, struct hxk_located *out)
{
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	if (!zydis_init(&dec) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, bytes, len, &insn, ops)))
		return false;
	bool string = is_string_store(&insn);
	bool rep = string && (insn.attributes & ZYDIS_ATTRIB_HAS_REP);
	if (start < in->rip ? insn.length != len : !rep)
		return false;
	ZydisRegisterContext rc;
	fill_context(&rc, in->gpr);
	for (uint32_t i = 0; i < insn.operand_count; i++) {
		const ZydisDecodedOperand *op = &ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
		    !(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) ||
		    op->size != in->kvm.size * 8u)
			continue;
		ZyanU64 la;
		if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddressEx(&insn, op, start, &rc, &la)) ||
		    !address_matches(in, &insn, la))
			continue;
		const char *n = ZydisMnemonicGetString(insn.mnemonic);
		snprintf(out->ref_name, sizeof(out->ref_name), "%s", n ? n : "?");
		out->string_op = string;
		out->string_movs = string && (insn.mnemonic == ZYDIS_MNEMONIC_MOVSB ||
		                              insn.mnemonic == ZYDIS_MNEMONIC_MOVSW ||
		                              insn.mnemonic == ZYDIS_MNEMONIC_MOVSD ||
		                              insn.mnemonic == ZYDIS_MNEMONIC_MOVSQ);
		out->string_rep = rep;
		out->len = insn.length;
		return true;
	}
	return false;
}

static bool ref_matches(const struct hxk_locate_in *in, uint64_t start, struct hxk_located *out)
{
	return ref_decode(in, bytes_from(in, start), (uint32_t)(in->rip - start), start, out);
}

/* Linear sweep from a known boundary: the start of the instruction that
 * ends exactly at rip. */
static bool sweep(const struct hxk_locate_in *in, uint64_t from, uint64_t *start)
{
	ZydisDecoder dec;
	if (!zydis_init(&dec))
		return false;
	uint64_t at = from;
	while (at < in->rip) {
		ZydisDecodedInstruction insn;
		uint32_t room = (uint32_t)(in->rip - at);
		if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, bytes_from(in, at),
		                                                room, &insn)))
			return false;
		if (insn.length == room) {
			*start = at;
			return true;
		}
		at += insn.length;
	}
	return false;
}
#endif

static bool start_matches(const struct hxk_locate_in *in, uint64_t start, struct hxk_located *out)
{
	prod_check(in, start, out);
	if (out->prod_exact)
		return true;
#ifdef HXK_HAVE_ZYDIS
	return ref_matches(in, start, out);
#else
	return false;
#endif
}

void hxk_locate_store(const struct hxk_locate_in *in, struct hxk_located *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t lowest = in->rip - in->code_len;
#ifdef HXK_HAVE_ZYDIS
	/* 1. Sweeps from known boundaries, nearest first. */
	uint64_t tried = in->rip;
	for (uint32_t round = 0; round < in->nbounds; round++) {
		uint64_t best = 0;
		bool have = false;
		for (uint32_t i = 0; i < in->nbounds; i++) {
			uint64_t b = in->bounds[i];
			if (b >= lowest && b < tried && in->rip - b <= SWEEP_MAX &&
			    (!have || b > best)) {
				best = b;
				have = true;
			}
		}
		if (!have)
			break;
		tried = best;
		uint64_t start;
		if (sweep(in, best, &start) && start_matches(in, start, out)) {
			out->how = HXK_LOC_SWEEP;
			out->start = start;
			out->len = (uint32_t)(in->rip - start);
			return;
		}
		memset(out, 0, sizeof(*out));
	}
	/* 2. Backwards: the longest candidate the reference decoder accepts. */
	uint32_t max = in->code_len < 15 ? in->code_len : 15;
	for (uint32_t len = max; len >= 1; len--) {
		if (ref_matches(in, in->rip - len, out)) {
			out->how = HXK_LOC_SEARCH;
			out->start = in->rip - len;
			out->len = len;
			prod_check(in, out->start, out);
			return;
		}
	}
	memset(out, 0, sizeof(*out));
	/* 3. An unfinished REP string store at RIP. */
	if (in->fwd_len && ref_decode(in, in->fwd, in->fwd_len, in->rip, out)) {
		out->how = HXK_LOC_AT_RIP;
		out->start = in->rip;
		out->prod = hv_decode(in->fwd, in->fwd_len, &out->insn);
		out->prod_exact = false;
		out->prod_mismatch = out->prod == HV_DEC_OK; /* it is no MOV */
		return;
	}
	memset(out, 0, sizeof(*out));
#else
	uint32_t max = in->code_len < 15 ? in->code_len : 15;
#endif
	/* 3. The shortest candidate the production decoder reproduces. */
	for (uint32_t len = 1; len <= max; len++) {
		prod_check(in, in->rip - len, out);
		if (out->prod_exact) {
			out->how = HXK_LOC_SEARCH;
			out->start = in->rip - len;
			out->len = len;
			return;
		}
	}
	memset(out, 0, sizeof(*out));
}

uint32_t hxk_reference_length(const uint8_t *bytes, uint32_t n)
{
#ifdef HXK_HAVE_ZYDIS
	ZydisDecoder dec;
	ZydisDecodedInstruction insn;
	if (!zydis_init(&dec) ||
	    !ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, bytes, n, &insn)))
		return 0;
	return insn.length;
#else
	(void)bytes;
	(void)n;
	return 0;
#endif
}

bool hxk_have_reference_decoder(void)
{
#ifdef HXK_HAVE_ZYDIS
	return true;
#else
	return false;
#endif
}
