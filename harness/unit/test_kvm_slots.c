/* Memslots from the production EPT walk: slot kinds per permission, what
 * KVM cannot enforce, merging, limits, and the delete/add diff applied
 * after memory-protect changes an EPT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/ept.h"
#include "mock_config.h"
#include "slots.h"

static struct mock_env *start_env(void (*make)(struct hv_system_config *))
{
	struct mock_env *env = mock_env_new(make);
	assert_non_null(env);
	return env;
}

static void plan_of(struct mock_env *env, uint32_t part, struct hxk_slot_plan *plan)
{
	struct hxk_err err;
	if (hxk_slot_plan_build(&env->pool, env->sys.parts[part].ept_root, MOCK_HOST_MEM, 32764,
	                        plan, &err) != 0)
		fail_msg("plan: %s", err.msg);
}

struct want_slot {
	uint64_t gpa, size, hpa;
	bool ro;
};

static void expect_slots(const struct hxk_slot_plan *p, const struct want_slot *w, uint32_t n)
{
	assert_int_equal(p->n, n);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(p->slots[i].gpa, w[i].gpa);
		assert_int_equal(p->slots[i].size, w[i].size);
		assert_int_equal(p->slots[i].hpa, w[i].hpa);
		assert_int_equal(p->slots[i].readonly, w[i].ro);
	}
}

static void test_one_partition(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_one);
	struct hxk_slot_plan p;
	plan_of(env, 0, &p);
	const struct want_slot w[] = {
	        {0, MOCK_RAM_SIZE, MOCK_P0_RAM_HPA, false},          /* RWX RAM */
	        {MOCK_MMIO_GPA, HV_PAGE_SIZE, MOCK_MMIO_HPA, false}, /* RW UC MMIO */
	};
	expect_slots(&p, w, 2);
	/* The console device is never mapped. */
	assert_null(hxk_slot_find(&p, MOCK_CONSOLE_GPA));
	assert_ptr_equal(hxk_slot_find(&p, MOCK_RAM_SIZE - 1), &p.slots[0]);
	assert_null(hxk_slot_find(&p, MOCK_RAM_SIZE));
	assert_ptr_equal(hxk_slot_find(&p, MOCK_MMIO_GPA + 0xfff), &p.slots[1]);
	/* MMIO is RW without X, and UC. */
	assert_int_equal(p.unenforced, HXK_UNENF_NX_RW | HXK_UNENF_MEMTYPE);
	assert_int_equal(p.unenforced_bytes[0], HV_PAGE_SIZE);
	assert_non_null(strstr(hxk_unenforced_str(HXK_UNENF_NX_RW), "execute-disable"));
	hxk_slot_plan_free(&p);
	mock_env_free(env);
}

static void test_read_only_channel(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_two);
	struct hxk_slot_plan p;
	plan_of(env, 1, &p);
	const struct want_slot w[] = {
	        {0, MOCK_RAM_SIZE, MOCK_P1_RAM_HPA, false},
	        {MOCK_CHAN_GPA, MOCK_CHAN_SIZE, MOCK_CHAN_HPA, true}, /* RO member */
	};
	expect_slots(&p, w, 2);
	assert_int_equal(p.unenforced, HXK_UNENF_NX_R);
	hxk_slot_plan_free(&p);
	plan_of(env, 0, &p);
	assert_int_equal(p.n, 3);
	assert_false(p.slots[2].readonly); /* RW member */
	hxk_slot_plan_free(&p);
	mock_env_free(env);
}

/* Two RAM regions back to back: one slot when their HPAs are contiguous,
 * two when not. */
static void two_ram(struct hv_system_config *cfg, uint64_t second_hpa)
{
	mock_config_one(cfg);
	struct hv_partition_config *pc = &cfg->partitions[0];
	pc->regions[0].size = 4ull << 20;
	pc->regions[pc->nregions++] = (struct hv_region){
	        .gpa = 4ull << 20,
	        .hpa = second_hpa,
	        .size = 4ull << 20,
	        .type = HV_REGION_RAM,
	        .perm = HV_PERM_RWX,
	        .memtype = HV_MT_WB,
	};
}
static void contiguous(struct hv_system_config *cfg)
{
	two_ram(cfg, MOCK_P0_RAM_HPA + (4ull << 20));
}
static void apart(struct hv_system_config *cfg)
{
	two_ram(cfg, MOCK_P1_RAM_HPA);
}

static void test_merging(void **state)
{
	(void)state;
	struct mock_env *env = start_env(contiguous);
	struct hxk_slot_plan p;
	plan_of(env, 0, &p);
	assert_int_equal(p.n, 2); /* RAM merged, MMIO */
	assert_int_equal(p.slots[0].size, 8ull << 20);
	hxk_slot_plan_free(&p);
	mock_env_free(env);

	env = start_env(apart);
	plan_of(env, 0, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(p.slots[1].gpa, 4ull << 20);
	assert_int_equal(p.slots[1].hpa, MOCK_P1_RAM_HPA);
	hxk_slot_plan_free(&p);
	mock_env_free(env);
}

static void test_slot_limit(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_one);
	struct hxk_slot_plan p;
	struct hxk_err err;
	assert_int_equal(hxk_slot_plan_build(&env->pool, env->sys.parts[0].ept_root, MOCK_HOST_MEM,
	                                     1, &p, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "more than 1 memslots"));
	assert_null(p.slots);
	/* A root outside the pool is a malformed EPT. */
	assert_int_equal(hxk_slot_plan_build(&env->pool, 0x1000, MOCK_HOST_MEM, 32, &p, &err), -1);
	assert_non_null(strstr(err.msg, "walking the EPT"));
	mock_env_free(env);
}

static void test_outside_host(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_one);
	struct hxk_slot_plan p;
	struct hxk_err err;
	/* The same tables judged against a smaller host memory: the MMIO page
	 * at 48 MiB lies beyond 16 MiB and cannot become a slot. */
	assert_int_equal(hxk_slot_plan_build(&env->pool, env->sys.parts[0].ept_root, 16ull << 20,
	                                     32, &p, &err),
	                 0);
	assert_int_equal(p.n, 1);
	assert_true(p.unenforced & HXK_UNENF_OUTSIDE);
	hxk_slot_plan_free(&p);
	mock_env_free(env);
}

/* ---- applying a new plan ------------------------------------------------ */

struct fake_kvm {
	int dels, adds;
	uint32_t del_ids[16], add_ids[16];
	struct hxk_slot added[16];
	int fail_add_at; /* 1-based, 0 never */
};

static int fake_del(void *ctx, const struct hxk_slot *s, struct hxk_err *err)
{
	(void)err;
	struct fake_kvm *k = ctx;
	k->del_ids[k->dels++] = s->id;
	return 0;
}

static int fake_add(void *ctx, const struct hxk_slot *s, struct hxk_err *err)
{
	struct fake_kvm *k = ctx;
	if (k->fail_add_at && k->adds + 1 == k->fail_add_at)
		return hxk_fail(err, "refused");
	k->added[k->adds] = *s;
	k->add_ids[k->adds++] = s->id;
	return 0;
}

static const struct hxk_slot_ops fake_ops = {.del = fake_del, .add = fake_add};

static void test_apply_after_protect(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_one);
	struct hxk_slot_plan cur = {0}, next;
	struct fake_kvm k = {0};
	struct hxk_err err;
	plan_of(env, 0, &next);
	assert_int_equal(hxk_slots_apply(&cur, &next, 8, &fake_ops, &k, &err), 2);
	assert_int_equal(k.adds, 2);
	assert_int_equal(cur.slots[0].id, 0);
	assert_int_equal(cur.slots[1].id, 1);
	assert_null(next.slots); /* taken over */

	/* Same EPT again: nothing to do. */
	plan_of(env, 0, &next);
	assert_int_equal(hxk_slots_apply(&cur, &next, 8, &fake_ops, &k, &err), 0);

	/* Protect one 4K page read-only inside the 2M-mapped RAM: the RAM
	 * slot is replaced by three, the MMIO slot is untouched. */
	uint64_t root = env->sys.parts[0].ept_root;
	assert_int_equal(hv_ept_protect(&env->pool, root, 0x201000, HV_PAGE_SIZE, HV_PERM_R),
	                 HV_OK);
	/* And one page execute-only, one with no access. NPT has no
	 * execute-only pages: on AMD both are left without access, which a
	 * memslot plan shows the same way (no slot). */
	bool amd = mock_vendor() == HV_VENDOR_AMD;
	assert_int_equal(
	        hv_ept_protect(&env->pool, root, 0x400000, HV_PAGE_SIZE, amd ? 0 : HV_PERM_X),
	        HV_OK);
	assert_int_equal(hv_ept_protect(&env->pool, root, 0x600000, HV_PAGE_SIZE, 0), HV_OK);
	memset(&k, 0, sizeof(k));
	plan_of(env, 0, &next);
	assert_true(amd ? !(next.unenforced & HXK_UNENF_X_ONLY)
	                : (next.unenforced & HXK_UNENF_X_ONLY) != 0);
	assert_true(next.unenforced & HXK_UNENF_NX_R);
	int changes = hxk_slots_apply(&cur, &next, 8, &fake_ops, &k, &err);
	assert_int_equal(k.dels, 1);
	assert_int_equal(k.del_ids[0], 0);
	assert_int_equal(changes, 1 + k.adds);
	const struct want_slot w[] = {
	        {0, 0x201000, MOCK_P0_RAM_HPA, false},
	        {0x201000, 0x1000, MOCK_P0_RAM_HPA + 0x201000, true},
	        {0x202000, 0x400000 - 0x202000, MOCK_P0_RAM_HPA + 0x202000, false},
	        {0x401000, 0x600000 - 0x401000, MOCK_P0_RAM_HPA + 0x401000, false},
	        {0x601000, MOCK_RAM_SIZE - 0x601000, MOCK_P0_RAM_HPA + 0x601000, false},
	        {MOCK_MMIO_GPA, HV_PAGE_SIZE, MOCK_MMIO_HPA, false},
	};
	expect_slots(&cur, w, 6);
	assert_int_equal(k.adds, 5);
	/* Ids: the MMIO slot keeps 1; the new ones reuse 0, then 2, 3, ... */
	assert_int_equal(cur.slots[5].id, 1);
	uint32_t seen = 0;
	for (uint32_t i = 0; i < cur.n; i++) {
		assert_true(cur.slots[i].id < 8);
		assert_false(seen & (1u << cur.slots[i].id));
		seen |= 1u << cur.slots[i].id;
	}
	/* Unmapped pages are no slot at all. */
	assert_null(hxk_slot_find(&cur, 0x400000));
	assert_null(hxk_slot_find(&cur, 0x600800));
	hxk_slot_plan_free(&cur);
	mock_env_free(env);
}

static void test_apply_errors(void **state)
{
	(void)state;
	struct mock_env *env = start_env(mock_config_one);
	struct hxk_slot_plan cur = {0}, next;
	struct fake_kvm k = {.fail_add_at = 2};
	struct hxk_err err;
	plan_of(env, 0, &next);
	assert_int_equal(hxk_slots_apply(&cur, &next, 8, &fake_ops, &k, &err), -1);
	assert_string_equal(err.msg, "refused");
	hxk_slot_plan_free(&next);
	/* Not enough ids. */
	memset(&k, 0, sizeof(k));
	plan_of(env, 0, &next);
	assert_int_equal(hxk_slots_apply(&cur, &next, 1, &fake_ops, &k, &err), -1);
	assert_non_null(strstr(err.msg, "no free memslot id"));
	hxk_slot_plan_free(&next);
	hxk_slot_plan_free(&cur);
	mock_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_one_partition), cmocka_unit_test(test_read_only_channel),
	        cmocka_unit_test(test_merging),       cmocka_unit_test(test_slot_limit),
	        cmocka_unit_test(test_outside_host),  cmocka_unit_test(test_apply_after_protect),
	        cmocka_unit_test(test_apply_errors),
	};
	return cmocka_run_group_tests_name("kvm_slots", tests, NULL, NULL);
}
