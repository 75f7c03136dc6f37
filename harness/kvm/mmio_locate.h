/* Finding the store behind a KVM_EXIT_MMIO write. KVM has already emulated
 * a store when it reports it (RIP is past the instruction; DESIGN.md, "KVM
 * facts"), but the core's EPT-violation handler expects RIP at the
 * instruction, as hardware reports it. Where did the instruction start?
 *
 *  1. From a known instruction boundary before RIP (where KVM_RUN was last
 *     entered, the start of the function symbol containing RIP), a linear
 *     sweep with an independent length decoder (Zydis) finds the real
 *     boundaries, prefixes included, up to the one that ends at RIP.
 *  2. Otherwise a search backwards from RIP-1 to RIP-15: the longest
 *     candidate that the independent decoder reads as a store of KVM's size
 *     to KVM's GPA, else the shortest one the production decoder turns into
 *     exactly KVM's access (without Zydis).
 *  3. A REP STOS/MOVS that is not finished leaves RIP at the instruction:
 *     the instruction at RIP, if it is one.
 * String stores (STOS, MOVS) have already advanced RDI (and RSI) by one
 * element and, with REP, decremented RCX: the result says so, so the
 * caller can hand the core the state before the element, as hardware
 * would report it.
 * The start found is then checked: the production decoder (hv_decode) must
 * either reproduce KVM's access exactly (GPA, size, data, length), or
 * reject the instruction (a form it does not emulate, which the core then
 * contains). Decoding it as a different access is a DECODE-EQ violation. */
#ifndef HXK_MMIO_LOCATE_H
#define HXK_MMIO_LOCATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/decode.h"

struct hxk_mmio_access {
	uint64_t gpa;
	uint64_t data; /* little-endian bytes of the store, zero-extended */
	uint8_t size;
};

/* Linear address of the memory operand -> guest-physical. */
typedef bool (*hxk_la_to_gpa_fn)(void *ctx, uint64_t la, uint64_t *gpa);

struct hxk_locate_in {
	const uint8_t *code; /* guest bytes [rip - code_len, rip) */
	uint32_t code_len;
	const uint8_t *fwd; /* guest bytes [rip, rip + fwd_len), fwd_len <= 15 */
	uint32_t fwd_len;
	uint64_t rip;
	const uint64_t *bounds; /* known instruction starts before rip (any order) */
	uint32_t nbounds;
	const uint64_t *gpr; /* registers (a store changes none) */
	hxk_la_to_gpa_fn tr;
	void *tr_ctx;
	struct hxk_mmio_access kvm;
};

enum hxk_locate_how {
	HXK_LOC_NONE = 0, /* no start found */
	HXK_LOC_SWEEP,    /* linear sweep from a known boundary */
	HXK_LOC_SEARCH,   /* backwards search (ambiguous prefixes possible) */
	HXK_LOC_AT_RIP,   /* an unfinished REP string store at RIP */
};

struct hxk_located {
	enum hxk_locate_how how;
	uint64_t start;
	uint32_t len;
	enum hv_decode_status prod; /* hv_decode at start */
	bool prod_exact;            /* the production decoding is KVM's access */
	bool prod_mismatch;         /* decoded OK as another access, or wanted more
	                               bytes than the instruction has: DECODE-EQ */
	struct hv_insn insn;        /* the production decoding when prod == OK */
	char ref_name[24];          /* the independent decoder's mnemonic, or "" */
	bool string_op;             /* STOS/MOVS: registers advanced one element */
	bool string_movs;           /* MOVS: RSI advanced too */
	bool string_rep;            /* with REP: RCX decremented */
};

void hxk_locate_store(const struct hxk_locate_in *in, struct hxk_located *out);

/* The independent decoder's length of the instruction in bytes[0..n), or 0
 * when it cannot decode it (or is not built in). */
uint32_t hxk_reference_length(const uint8_t *bytes, uint32_t n);

/* true when the independent decoder is built in. */
bool hxk_have_reference_decoder(void);

#endif
