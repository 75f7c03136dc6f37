/* Finding the instruction behind a store KVM already executed: sweeps from
 * known boundaries, the backwards search, prefixes, string stores, and
 * DECODE-EQ mismatches of the production decoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/exit.h"
#include "mmio_locate.h"

#define RIP 0x101000ull
#define DEV 0x40000000ull

static bool identity(void *ctx, uint64_t la, uint64_t *gpa)
{
	(void)ctx;
	*gpa = la;
	return true;
}

struct row {
	const char *name;
	uint8_t bytes[16]; /* the bytes right before RIP */
	uint32_t n;
	uint32_t bound_back; /* a known boundary at RIP - bound_back (0: none) */
	uint64_t rdi, rax;
	uint64_t gpa, data;
	uint8_t size;
	/* expected */
	enum hxk_locate_how how;
	uint32_t len;
	bool prod_exact;
	bool prod_mismatch;
};

static const struct row rows[] = {
        /* mov %rax, 0x20(%rdi) after two NOPs */
        {"mov store",
         {0x90, 0x90, 0x48, 0x89, 0x47, 0x20},
         6,
         0,
         DEV,
         0x1122334455667788ull,
         DEV + 0x20,
         0x1122334455667788ull,
         8,
         HXK_LOC_SEARCH,
         4,
         true,
         false},
        /* the same with an FS override: the prefix belongs to it (the core
         * rejects FS and must see it) */
        {"fs store",
         {0x90, 0x64, 0x48, 0x89, 0x47, 0x20},
         6,
         0,
         DEV,
         7,
         DEV + 0x20,
         7,
         8,
         HXK_LOC_SEARCH,
         5,
         false,
         false},
        /* mov $0x64, %al ; mov %rax, 0x20(%rdi): the 0x64 is the previous
         * instruction's immediate. The search alone would take it for an FS
         * prefix; a sweep from a known boundary gets it right. */
        {"imm looks like prefix",
         {0xb0, 0x64, 0x48, 0x89, 0x47, 0x20},
         6,
         6,
         DEV,
         9,
         DEV + 0x20,
         9,
         8,
         HXK_LOC_SWEEP,
         4,
         true,
         false},
        /* movb $0x5a, 0x20(%rdi) */
        {"imm8 store",
         {0xc6, 0x47, 0x20, 0x5a},
         4,
         4,
         DEV,
         0,
         DEV + 0x20,
         0x5a,
         1,
         HXK_LOC_SWEEP,
         4,
         true,
         false},
        /* mov %eax, 0x20(%rdi), but KVM wrote another value than RAX holds:
         * the production decoding is not KVM's access */
        {"data differs",
         {0x89, 0x47, 0x20},
         3,
         0,
         DEV,
         5,
         DEV + 0x20,
         7,
         4,
         HXK_LOC_SEARCH,
         3,
         false,
         true},
        /* stosb: RDI already advanced past the byte written */
        {"stosb",
         {0x90, 0xaa},
         2,
         0,
         DEV + 0x21,
         0x41,
         DEV + 0x20,
         0x41,
         1,
         HXK_LOC_SEARCH,
         1,
         false,
         false},
        /* mov %rax, disp32(%rip) aimed at the device */
        {"rip-relative",
         {0x48, 0x89, 0x05, 0x1a, 0xf0, 0xef, 0x3f},
         7,
         7,
         0,
         3,
         DEV + 0x1a,
         3,
         8,
         HXK_LOC_SWEEP,
         7,
         true,
         false},
        /* nothing here writes the device */
        {"no store",
         {0x90, 0x90, 0x90, 0x90},
         4,
         4,
         DEV,
         0,
         DEV,
         0,
         4,
         HXK_LOC_NONE,
         0,
         false,
         false},
};

static void test_rows(void **state)
{
	(void)state;
	if (!hxk_have_reference_decoder())
		fail_msg("built without Zydis: the reference decoder is required (ci/deps.sh "
		         "installs libzydis-dev)");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint64_t gpr[HV_GPR_COUNT] = {0};
		gpr[HV_RDI] = r->rdi;
		gpr[HV_RAX] = r->rax;
		uint64_t bound = RIP - r->bound_back;
		struct hxk_locate_in in = {
		        .code = r->bytes,
		        .code_len = r->n,
		        .rip = RIP,
		        .bounds = &bound,
		        .nbounds = r->bound_back ? 1 : 0,
		        .gpr = gpr,
		        .tr = identity,
		        .kvm = {.gpa = r->gpa, .data = r->data, .size = r->size},
		};
		struct hxk_located out;
		hxk_locate_store(&in, &out);
		if (out.how != r->how || out.len != r->len || out.prod_exact != r->prod_exact ||
		    out.prod_mismatch != r->prod_mismatch)
			fail_msg("row '%s': how %d len %u exact %d mismatch %d (%s)", r->name,
			         out.how, out.len, out.prod_exact, out.prod_mismatch, out.ref_name);
		if (out.how != HXK_LOC_NONE)
			assert_int_equal(out.start, RIP - r->len);
	}
}

/* mov $0x48894720, %eax (b8 20 47 89 48) ; mov %rax, 0x20(%rdi): the last
 * byte of the immediate is a REX prefix to the eye of a backwards search,
 * which therefore picks the 5-byte "48 48 89 47 20". A sweep from the true
 * boundary finds the real 4-byte store; from a false boundary it may not. */
static void test_sweep_beats_search(void **state)
{
	(void)state;
	const uint8_t b[] = {0xb8, 0x20, 0x47, 0x89, 0x48, 0x48, 0x89, 0x47, 0x20};
	uint64_t gpr[HV_GPR_COUNT] = {0};
	gpr[HV_RDI] = DEV;
	gpr[HV_RAX] = 1;
	uint64_t bound = RIP - 9;
	struct hxk_locate_in in = {.code = b,
	                           .code_len = sizeof(b),
	                           .rip = RIP,
	                           .bounds = &bound,
	                           .nbounds = 0,
	                           .gpr = gpr,
	                           .tr = identity,
	                           .kvm = {.gpa = DEV + 0x20, .data = 1, .size = 8}};
	struct hxk_located out;
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_SEARCH);
	assert_int_equal(out.start, RIP - 5);
	in.nbounds = 1;
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_SWEEP);
	assert_int_equal(out.start, RIP - 4);
	assert_true(out.prod_exact);
	/* Two boundaries: the nearest one that sweeps onto RIP wins. */
	uint64_t two[2] = {RIP - 9, RIP - 4};
	in.bounds = two;
	in.nbounds = 2;
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_SWEEP);
	assert_int_equal(out.start, RIP - 4);
}

/* String stores: STOS after its element (RIP past it), and an unfinished
 * REP STOS (RIP still at it); both with RDI already advanced. */
static void test_string_stores(void **state)
{
	(void)state;
	const uint8_t before[] = {0x90, 0xb9, 0x04, 0x00, 0x00, 0x00}; /* nop; mov $4, %ecx */
	const uint8_t stos[] = {0xaa, 0x90};
	const uint8_t rep_stos[] = {0xf3, 0xaa, 0x90};
	uint64_t gpr[HV_GPR_COUNT] = {0};
	gpr[HV_RDI] = DEV + 0x21;
	gpr[HV_RAX] = 0x42;
	gpr[HV_RCX] = 3;
	struct hxk_locate_in in = {.code = stos,
	                           .code_len = 1,
	                           .rip = RIP,
	                           .gpr = gpr,
	                           .tr = identity,
	                           .kvm = {.gpa = DEV + 0x20, .data = 0x42, .size = 1}};
	struct hxk_located out;
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_SEARCH);
	assert_int_equal(out.start, RIP - 1);
	assert_true(out.string_op);
	assert_false(out.string_rep);
	assert_int_equal(out.prod, HV_DEC_UNSUPPORTED); /* rejected, not misread */
	assert_false(out.prod_mismatch);

	/* Nothing before RIP stores there; the REP STOS at RIP does. */
	in.code = before;
	in.code_len = sizeof(before);
	in.fwd = rep_stos;
	in.fwd_len = sizeof(rep_stos);
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_AT_RIP);
	assert_int_equal(out.start, RIP);
	assert_int_equal(out.len, 2);
	assert_true(out.string_op);
	assert_true(out.string_rep);
	assert_false(out.string_movs);
	/* A finished instruction at RIP is not a candidate. */
	in.fwd = stos;
	in.fwd_len = sizeof(stos);
	hxk_locate_store(&in, &out);
	assert_int_equal(out.how, HXK_LOC_NONE);
}

static void test_reference_length(void **state)
{
	(void)state;
	const uint8_t mov[] = {0x48, 0x89, 0x47, 0x20, 0x90};
	const uint8_t bad[] = {0x0f, 0xff};
	assert_int_equal(hxk_reference_length(mov, sizeof(mov)), 4);
	assert_int_equal(hxk_reference_length(mov, 2), 0); /* truncated */
	assert_int_equal(hxk_reference_length(bad, sizeof(bad)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_rows),
	        cmocka_unit_test(test_sweep_beats_search),
	        cmocka_unit_test(test_string_stores),
	        cmocka_unit_test(test_reference_length),
	};
	return cmocka_run_group_tests_name("kvm_locate", tests, NULL, NULL);
}
