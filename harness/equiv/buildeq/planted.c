/* TEST ONLY: linked into the test images hv_replay_planted.elf,
 * hv_replay_fault.elf, hv_replay_crash.elf, hv_replay_hang.elf and
 * hv_replay_stack.elf, never
 * into hv_replay.elf. The link wraps hv_handle_cpuid (-Wl,--wrap) so that
 * for CPUID leaf 1, after the real handler ran, one branch of the
 * freestanding build behaves differently; ci/buildeq.sh checks that
 * BUILD-EQ names it. BEQ_PLANT (set by CMake per image) says how:
 *   BEQ_PLANT_FLIP   ECX bit 31 (hypervisor present) flipped: a difference
 *   BEQ_PLANT_FAULT  UD2: the image takes #UD (exception report)
 *   BEQ_PLANT_CRASH  an empty IDT, then UD2: triple fault (shutdown)
 *   BEQ_PLANT_HANG   spins forever (timeout)
 *   BEQ_PLANT_STACK  overwrites the stack canary (as an overflow would)
 * Every other exit behaves as in hv_replay.elf. */
#include "hv/handlers.h"

#define BEQ_PLANT_FLIP 1
#define BEQ_PLANT_FAULT 2
#define BEQ_PLANT_CRASH 3
#define BEQ_PLANT_HANG 4
#define BEQ_PLANT_STACK 5
#ifndef BEQ_PLANT
#error "BEQ_PLANT selects the planted behaviour"
#endif

void __real_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void __wrap_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);

void __wrap_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	uint32_t leaf = (uint32_t)exit->st.gpr[HV_RAX];
	__real_hv_handle_cpuid(sys, exit, res);
	if (leaf != 1 || res->action != HV_ACT_RESUME)
		return;
#if BEQ_PLANT == BEQ_PLANT_FLIP
	exit->st.gpr[HV_RCX] ^= 1ull << 31;
#elif BEQ_PLANT == BEQ_PLANT_FAULT
	__asm__ volatile("ud2");
#elif BEQ_PLANT == BEQ_PLANT_CRASH
	struct __attribute__((packed)) {
		uint16_t limit;
		uint64_t base;
	} none = {0, 0};
	__asm__ volatile("lidt %0; ud2" : : "m"(none));
#elif BEQ_PLANT == BEQ_PLANT_HANG
	for (;;)
		__asm__ volatile("pause");
#elif BEQ_PLANT == BEQ_PLANT_STACK
	extern uint64_t beq_stack[];
	beq_stack[3] = 0;
#endif
}
