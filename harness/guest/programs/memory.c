/* Own memory per permissions (EPT-EXACT, CONTAIN), kvm-one.json with
 * on_violation inject-gp. Regions: RAM 0..4M rwx, 0x10000000 r, 0x10100000
 * rx, 0x10200000 rw (64K each). Reads of every readable region see this
 * partition's own canaries; writes to r and rx regions and any access to
 * unmapped GPAs raise #GP and change nothing; code runs from RWX RAM and
 * not from unmapped GPAs. */
#include "hx/guest.h"

#define R_GPA 0x10000000ull
#define RX_GPA 0x10100000ull
#define RW_GPA 0x10200000ull
#define SMALL 0x10000ull
#define UNMAPPED_GPA 0x60000000ull

/* mov $42, %eax; ret */
static const uint8_t ret42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};
static uint8_t code_page[4096] __attribute__((aligned(4096)));

static void own_canaries(const char *name, uint64_t gpa, uint64_t size)
{
	const uint64_t offs[] = {0, size / 2, size - 8};
	int own = (int)hx_partition() + 1;

	for (unsigned i = 0; i < 3; i++) {
		uint64_t w = 0;
		GUEST_ASSERT_EQ(hx_read64_safe(gpa + offs[i], &w), HX_NO_FAULT, "read %s +%#lx",
		                name, offs[i]);
		GUEST_ASSERT_EQ(hx_word_owner(w), own, "%s +%#lx holds %#lx", name, offs[i], w);
	}
}

static void write_denied(const char *name, uint64_t gpa)
{
	uint64_t before = *(volatile uint64_t *)gpa, after;

	GUEST_ASSERT_EQ(hx_write64_safe(gpa, 0x4141414141414141ull), HX_VEC_GP, "write64 %s", name);
	GUEST_ASSERT_EQ(hx_write8_safe(gpa + 1, 0x41), HX_VEC_GP, "write8 %s", name);
	after = *(volatile uint64_t *)gpa;
	GUEST_ASSERT_EQ(after, before, "%s changed by a contained write", name);
}

static void unmapped(uint64_t gpa)
{
	uint64_t v = 0x77;
	uint8_t b = 0x77;

	GUEST_ASSERT_EQ(hx_read64_safe(gpa, &v), HX_VEC_GP, "read64 %#lx", gpa);
	GUEST_ASSERT_EQ(v, 0, "a contained load wrote its register");
	GUEST_ASSERT_EQ(hx_read8_safe(gpa + 3, &b), HX_VEC_GP, "read8 %#lx", gpa + 3);
	GUEST_ASSERT_EQ(hx_write64_safe(gpa, 1), HX_VEC_GP, "write64 %#lx", gpa);
	GUEST_ASSERT_EQ(hx_write8_safe(gpa + 5, 1), HX_VEC_GP, "write8 %#lx", gpa + 5);
}

void guest_main(void)
{
	const struct hx_boot_range *ram = hx_find_range(HX_RANGE_RAM, 0);
	uint64_t ret = 0, v;

	GUEST_ASSERT(ram && ram->gpa == 0);
	/* Page 0 lies below the image and the runner's tables: canaries. */
	own_canaries("RAM page 0", 0, 4096);
	own_canaries("r region", R_GPA, SMALL);
	own_canaries("rx region", RX_GPA, SMALL);
	own_canaries("rw region", RW_GPA, SMALL);
	GUEST_SYNC(1);

	/* Writes where the config allows them. */
	GUEST_ASSERT_EQ(hx_write64_safe(RW_GPA + SMALL - 8, 0x1122334455667788ull), HX_NO_FAULT);
	GUEST_ASSERT_EQ(hx_read64_safe(RW_GPA + SMALL - 8, &v), HX_NO_FAULT);
	GUEST_ASSERT_EQ(v, 0x1122334455667788ull);
	GUEST_ASSERT_EQ(hx_write8_safe(ram->size - 1, 0x99), HX_NO_FAULT, "last byte of RAM");

	/* ... and not where it does not. */
	write_denied("r region", R_GPA);
	write_denied("r region end", R_GPA + SMALL - 8);
	write_denied("rx region", RX_GPA + 0x100);
	GUEST_SYNC(2);

	/* Unmapped: just past each region, between them, far away. */
	unmapped(ram->size);
	unmapped(R_GPA + SMALL);
	unmapped(RX_GPA + SMALL);
	unmapped(RW_GPA + SMALL);
	unmapped(R_GPA - 0x1000);
	unmapped(UNMAPPED_GPA);
	GUEST_SYNC(3);

	/* Execute: RWX RAM runs code; unmapped GPAs do not. */
	memcpy(code_page, ret42, sizeof(ret42));
	GUEST_ASSERT_EQ(hx_exec_safe((uint64_t)code_page, &ret), HX_NO_FAULT);
	GUEST_ASSERT_EQ(ret, 42);
	GUEST_ASSERT_EQ(hx_exec_safe(UNMAPPED_GPA, NULL), HX_VEC_GP, "fetch from unmapped GPA");
	GUEST_ASSERT_EQ(hx_exec_safe(ram->size, NULL), HX_VEC_GP, "fetch just past RAM");

	/* rw- has no X, which KVM memslots cannot express: report, don't
	 * fail (the runner lists it as not enforceable). */
	memcpy((void *)RW_GPA, ret42, sizeof(ret42));
	{
		int vec = hx_exec_safe(RW_GPA, &ret);
		GUEST_PRINTF("fetch from rw- region: %s (X not enforceable with KVM memslots)",
		             vec == HX_NO_FAULT ? "ran" : "faulted");
	}
	GUEST_DONE();
}
