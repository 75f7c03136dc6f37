/* Second-stage entry encoders (hv/s2_entry.h) against the manuals' bit
 * layouts, written out here: EPT from SDM Vol. 3C Tables 29-2, 29-4, 29-6
 * (R/W/X bits 2:0, memory type 5:3, bit 7 large page), NPT from APM Vol. 2
 * Figures 5-18 .. 5-25 and 15.25.5 (P, R/W, U/S, PWT, PCD, PS, PAT at bit 7
 * of a PTE and bit 12 of a large leaf, NX at bit 63; memory type through
 * the host PAT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/s2_entry.h"

static const uint8_t memtypes[] = {HV_MT_UC, HV_MT_WC, HV_MT_WT, HV_MT_WP, HV_MT_WB};
static const uint64_t sizes[] = {1ull << 12, 1ull << 21, 1ull << 30};

/* The host PAT the NPT memory types rely on, byte by byte (APM Vol. 2,
 * 7.8.1 encodings: 0 UC, 1 WC, 4 WT, 5 WP, 6 WB). */
static void test_npt_host_pat(void **state)
{
	(void)state;
	static const uint8_t want[8] = {6, 4, 1, 0, 5, 0, 0, 0};
	for (unsigned i = 0; i < 8; i++)
		assert_int_equal(hv_s2_npt_pat_type(i), want[i]);
	for (size_t m = 0; m < sizeof(memtypes); m++)
		assert_int_equal(hv_s2_npt_pat_type(hv_s2_npt_pat_index(memtypes[m])), memtypes[m]);
}

static void test_perm_rules(void **state)
{
	(void)state;
	for (unsigned p = 0; p < 16; p++) {
		bool ept = p < 8 && p != HV_PERM_W && p != (HV_PERM_W | HV_PERM_X);
		bool npt = p == 0 || p == HV_PERM_R || p == HV_PERM_RW || p == HV_PERM_RX ||
		           p == HV_PERM_RWX;
		assert_int_equal(hv_s2_perm_ok(HV_S2_EPT, (uint8_t)p), ept);
		assert_int_equal(hv_s2_perm_ok(HV_S2_NPT, (uint8_t)p), npt);
	}
	for (unsigned mt = 0; mt < 256; mt++)
		assert_int_equal(hv_s2_memtype_ok((uint8_t)mt),
		                 mt == 0 || mt == 1 || mt == 4 || mt == 5 || mt == 6);
}

/* Every permission, memory type and level: the bits the manual names,
 * and the decoders give back what was encoded. */
static void test_leaves(void **state)
{
	(void)state;
	const uint64_t hpa = 0x000fffffc0000000ull; /* aligned for every level */
	for (unsigned level = 0; level < 3; level++) {
		for (size_t m = 0; m < sizeof(memtypes); m++) {
			for (uint8_t p = 1; p < 8; p++) {
				uint8_t mt = memtypes[m];
				if (hv_s2_perm_ok(HV_S2_EPT, p)) {
					uint64_t e = hv_s2_leaf(HV_S2_EPT, hpa, p, mt, level);
					uint64_t want = hpa | p | ((uint64_t)mt << 3) |
					                (level ? 1ull << 7 : 0);
					assert_int_equal(e, want);
					assert_true(hv_s2_present(HV_S2_EPT, e));
					assert_true(hv_s2_is_leaf(HV_S2_EPT, e, level));
					assert_int_equal(hv_s2_perm(HV_S2_EPT, e), p);
					assert_int_equal(hv_s2_memtype(HV_S2_EPT, e, level), mt);
				}
				if (!hv_s2_perm_ok(HV_S2_NPT, p))
					continue;
				uint64_t e = hv_s2_leaf(HV_S2_NPT, hpa, p, mt, level);
				unsigned idx = mt == 6   ? 0
				               : mt == 4 ? 1
				               : mt == 1 ? 2
				               : mt == 5 ? 4
				                         : 3;
				uint64_t want = hpa | 1 | 4 | ((p & 2) ? 2 : 0) |
				                ((p & 4) ? 0 : 1ull << 63) |
				                ((idx & 1) ? 1u << 3 : 0) |
				                ((idx & 2) ? 1u << 4 : 0) |
				                ((idx & 4) ? (level ? 1u << 12 : 1u << 7) : 0) |
				                (level ? 1u << 7 : 0);
				assert_int_equal(e, want);
				assert_true(hv_s2_present(HV_S2_NPT, e));
				assert_true(hv_s2_is_leaf(HV_S2_NPT, e, level));
				assert_int_equal(hv_s2_perm(HV_S2_NPT, e), p);
				assert_int_equal(hv_s2_memtype(HV_S2_NPT, e, level), mt);
				assert_int_equal(hv_s2_leaf_addr(e, level), hpa);
				assert_int_equal(e & HV_S2_ADDR_MASK & ~(sizes[level] - 1), hpa);
			}
		}
	}
}

static void test_tables_and_presence(void **state)
{
	(void)state;
	const uint64_t t = 0x123456000ull;
	assert_int_equal(hv_s2_table(HV_S2_EPT, t), t | 7);
	assert_int_equal(hv_s2_table(HV_S2_NPT, t), t | 7); /* P, R/W, U/S; NX clear */
	assert_int_equal(hv_s2_perm(HV_S2_NPT, hv_s2_table(HV_S2_NPT, t)), HV_PERM_RWX);
	for (unsigned level = 1; level < 4; level++) {
		assert_false(hv_s2_is_leaf(HV_S2_EPT, hv_s2_table(HV_S2_EPT, t), level));
		assert_false(hv_s2_is_leaf(HV_S2_NPT, hv_s2_table(HV_S2_NPT, t), level));
	}
	/* Bit 7 of a PML4 entry is reserved, never a leaf. */
	assert_false(hv_s2_is_leaf(HV_S2_EPT, t | 7 | (1u << 7), 3));
	assert_false(hv_s2_is_leaf(HV_S2_NPT, t | 7 | (1u << 7), 3));
	/* EPT: present when any of R/W/X; NPT: when P, whatever else. */
	assert_true(hv_s2_present(HV_S2_EPT, 4));
	assert_false(hv_s2_present(HV_S2_EPT, t | (1u << 7)));
	assert_false(hv_s2_present(HV_S2_NPT, t | 2 | 4));
	assert_int_equal(hv_s2_perm(HV_S2_NPT, t | 2 | 4), 0);
	assert_true(hv_s2_present(HV_S2_NPT, 1));
}

static void test_reperm_and_split(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		enum hv_s2_format fmt = (enum hv_s2_format)f;
		uint64_t big = hv_s2_leaf(fmt, 0x40000000ull, HV_PERM_RWX, HV_MT_WP, 2);
		for (uint8_t p = 0; p < 8; p++) {
			if (!hv_s2_perm_ok(fmt, p))
				continue;
			uint64_t e = hv_s2_reperm(fmt, big, p);
			if (p == 0) {
				assert_int_equal(e, 0);
				continue;
			}
			assert_int_equal(hv_s2_perm(fmt, e), p);
			assert_int_equal(hv_s2_memtype(fmt, e, 2), HV_MT_WP);
			assert_true(hv_s2_is_leaf(fmt, e, 2));
			assert_int_equal(hv_s2_leaf_addr(e, 2), 0x40000000ull);
		}
		/* Splitting a 1 GiB WP leaf: 2 MiB leaves with the same rights
		 * and type; on NPT the PAT bit stays at bit 12 in a 2 MiB leaf
		 * and moves to bit 7 in a PTE. */
		uint64_t mid = hv_s2_split_leaf(fmt, big, 2, 0x40200000ull);
		assert_int_equal(hv_s2_perm(fmt, mid), HV_PERM_RWX);
		assert_int_equal(hv_s2_memtype(fmt, mid, 1), HV_MT_WP);
		assert_true(hv_s2_is_leaf(fmt, mid, 1));
		uint64_t pte = hv_s2_split_leaf(fmt, mid, 1, 0x40202000ull);
		assert_int_equal(hv_s2_memtype(fmt, pte, 0), HV_MT_WP);
		assert_int_equal(hv_s2_leaf_addr(pte, 0), 0x40202000ull);
		assert_int_equal(hv_s2_leaf_addr(mid, 1), 0x40200000ull);
		if (fmt == HV_S2_NPT) {
			assert_true(mid & (1ull << 12));
			assert_true(pte & (1ull << 7));
			assert_false(pte & (1ull << 12));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_npt_host_pat),     cmocka_unit_test(test_perm_rules),
	        cmocka_unit_test(test_leaves),           cmocka_unit_test(test_tables_and_presence),
	        cmocka_unit_test(test_reperm_and_split),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
