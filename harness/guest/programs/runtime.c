/* Self-test of the guest runtime, so a failing attack guest is never the
 * runtime's fault: exception windows at CPL 0 and 3, callee-saved
 * registers across a fault, CPL 3 calls, the formatter. kvm-one.json. */
#include "hx/guest.h"

static uint64_t ud(uint64_t a)
{
	__asm__ volatile("ud2");
	return a;
}

static uint64_t twice(uint64_t a)
{
	return a * 2;
}

/* Clobbers every callee-saved register, then faults. */
static uint64_t clobber_then_fault(uint64_t a)
{
	__asm__ volatile("mov $1, %%rbx\n\tmov $2, %%r12\n\tmov $3, %%r13\n\t"
	                 "mov $4, %%r14\n\tmov $5, %%r15\n\tmov $6, %%rbp\n\tud2" ::
	                         : "rbx", "r12", "r13", "r14", "r15", "memory");
	return a;
}

static uint64_t noncanonical_load(uint64_t a)
{
	return *(volatile uint64_t *)(0x8000000000000000ull + a);
}

static int user_vec;

static uint64_t user_fn(uint64_t a)
{
	user_vec = hx_try(ud, 0, NULL);
	return a + hx_cpl();
}

void guest_main(void)
{
	uint64_t r = 0, v = 0;
	char b[HX_UCALL_MSG_LEN];

	GUEST_ASSERT_EQ(hx_cpl(), 0);
	GUEST_ASSERT_EQ(hx_try(ud, 0, &r), HX_VEC_UD);
	GUEST_ASSERT_EQ(hx_last_fault()->vector, HX_VEC_UD);
	GUEST_ASSERT_EQ(hx_try(twice, 21, &r), HX_NO_FAULT);
	GUEST_ASSERT_EQ(r, 42);
	GUEST_ASSERT_EQ(hx_try(noncanonical_load, 0, NULL), HX_VEC_GP);
	GUEST_ASSERT_EQ(hx_read64_safe(0x8000000000000000ull, &v), HX_VEC_GP);
	{
		register uint64_t keep __asm__("r12") = 0x1234;
		__asm__ volatile("" : "+r"(keep));
		GUEST_ASSERT_EQ(hx_try(clobber_then_fault, 0, NULL), HX_VEC_UD);
		__asm__ volatile("" : "+r"(keep));
		GUEST_ASSERT_EQ(keep, 0x1234, "hx_try lost a callee-saved register");
	}
	GUEST_SYNC(1);

	for (uint64_t i = 0; i < 3; i++) {
		user_vec = 0;
		GUEST_ASSERT_EQ(hx_user_call(user_fn, 100 * i), 100 * i + 3, "CPL 3 call %lu", i);
		GUEST_ASSERT_EQ(user_vec, HX_VEC_UD, "exception window at CPL 3");
		GUEST_ASSERT_EQ(hx_cpl(), 0);
	}
	GUEST_SYNC(2);

	hx_snprintf(b, sizeof(b), "%d %u %#x %s %c %5d|%03d %lx", -12, 7u, 255u, "str", 'c', 42, 1,
	            ~0ul);
	GUEST_ASSERT(memcmp(b, "-12 7 0xff str c    42|001 ffffffffffffffff", 44) == 0, "%s", b);
	GUEST_DONE();
}
