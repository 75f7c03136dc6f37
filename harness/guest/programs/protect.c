/* Memory protect, then the accesses it forbids (EPT-EXACT, CONTAIN,
 * HCALL-BOUNDS), kvm-one.json with on_violation inject-gp. The 2 MiB RAM
 * region at 0x20000000 starts as one large rwx page; protecting single 4K
 * pages splits it, and only the protected pages lose permissions. Nothing
 * can be granted back. */
#include "hx/guest.h"
#include "hv/hcall.h"

#define BIG 0x20000000ull
#define PAGE 0x1000ull

static int64_t protect(uint64_t gpa, uint64_t size, uint64_t perm)
{
	return hx_hcall(HV_HC_MEM_PROTECT, gpa, size, perm, 0, NULL);
}

static void writable(uint64_t gpa, bool yes)
{
	uint64_t v = 0;
	int vec = hx_write64_safe(gpa, 0x1234000000000000ull | gpa);

	GUEST_ASSERT_EQ(vec, yes ? HX_NO_FAULT : HX_VEC_GP, "write %#lx", gpa);
	if (yes) {
		GUEST_ASSERT_EQ(hx_read64_safe(gpa, &v), HX_NO_FAULT);
		GUEST_ASSERT_EQ(v, 0x1234000000000000ull | gpa);
	}
}

/* A function alone on its page, to protect to r-x and keep running. */
__attribute__((aligned(4096), noinline, section(".text.protected"))) static uint64_t
protected_fn(uint64_t x)
{
	return x * 3 + 1;
}

void guest_main(void)
{
	uint64_t v = 0, ret = 0;
	uint64_t p1 = BIG + PAGE, p2 = BIG + 3 * PAGE;

	for (uint64_t off = 0; off < 8 * PAGE; off += PAGE)
		writable(BIG + off, true);

	/* Every accessible page stays readable: write-only and execute-only
	 * requests are refused and change nothing. */
	GUEST_ASSERT_EQ(protect(p1, PAGE, HV_PERM_X), HV_HC_EINVAL, "execute-only");
	GUEST_ASSERT_EQ(protect(p1, PAGE, HV_PERM_W | HV_PERM_X), HV_HC_EINVAL, "write+execute");
	writable(p1, true);

	/* rwx -> r: reads keep working, writes #GP, neighbours unaffected. */
	GUEST_ASSERT_EQ(protect(p1, PAGE, HV_PERM_R), HV_HC_OK);
	GUEST_ASSERT_EQ(hx_read64_safe(p1, &v), HX_NO_FAULT);
	GUEST_ASSERT_EQ(v, 0x1234000000000000ull | p1, "protect lost the contents");
	writable(p1, false);
	writable(p1 + PAGE - 8, false);
	writable(p1 - 8, true);
	writable(p1 + PAGE, true);
	GUEST_SYNC(1);

	/* Nothing can be granted back, nor more than the config ever gave. */
	GUEST_ASSERT_EQ(protect(p1, PAGE, HV_PERM_RW), HV_HC_EPERM);
	GUEST_ASSERT_EQ(protect(p1, PAGE, HV_PERM_RWX), HV_HC_EPERM);
	GUEST_ASSERT_EQ(protect(p1, 2 * PAGE, HV_PERM_RW), HV_HC_EPERM, "range with one r page");
	writable(p1, false);
	writable(p1 + PAGE, true);

	/* rwx -> none: loads #GP too. */
	GUEST_ASSERT_EQ(protect(p2, PAGE, 0), HV_HC_OK);
	GUEST_ASSERT_EQ(hx_read64_safe(p2, &v), HX_VEC_GP, "load from a page protected to none");
	writable(p2, false);
	GUEST_ASSERT_EQ(protect(p2, PAGE, HV_PERM_R), HV_HC_EPERM);
	GUEST_ASSERT_EQ(hx_exec_safe(p2, NULL), HX_VEC_GP, "fetch from a page protected to none");
	GUEST_SYNC(2);

	/* Reduce again: r -> none is allowed. */
	GUEST_ASSERT_EQ(protect(p1, PAGE, 0), HV_HC_OK);
	GUEST_ASSERT_EQ(hx_read64_safe(p1, &v), HX_VEC_GP);

	/* The second MiB in one call: every page of it. */
	GUEST_ASSERT_EQ(protect(BIG + (1ull << 20), 1ull << 20, HV_PERM_RX), HV_HC_OK);
	writable(BIG + (1ull << 20), false);
	writable(BIG + (2ull << 20) - 8, false);
	writable(BIG + (1ull << 20) - 8, true);
	GUEST_SYNC(3);

	/* Our own code page to r-x: it still runs, and cannot be patched. */
	GUEST_ASSERT_EQ(protected_fn(4), 13);
	GUEST_ASSERT_EQ(protect((uint64_t)protected_fn, PAGE, HV_PERM_RX), HV_HC_OK);
	GUEST_ASSERT_EQ(hx_try(protected_fn, 5, &ret), HX_NO_FAULT);
	GUEST_ASSERT_EQ(ret, 16);
	GUEST_ASSERT_EQ(hx_write8_safe((uint64_t)protected_fn, 0xc3), HX_VEC_GP,
	                "patching r-x code");
	GUEST_ASSERT_EQ(protected_fn(6), 19);

	/* The rest of our RAM is untouched. */
	writable(BIG, true);
	writable(BIG + 2 * PAGE, true);
	writable(BIG + 4 * PAGE, true);
	GUEST_DONE();
}
