/* TEST ONLY: linked into hv_replay_planted.elf, never into a shipped
 * image. It plants a behaviour difference in one handler branch of the
 * freestanding build so the BUILD-EQ check can prove it notices one
 * (ci/buildeq.sh): the link wraps hv_handle_cpuid (-Wl,--wrap), and for
 * leaf 1 the wrapper flips ECX bit 31, the hypervisor-present bit, after
 * the real handler ran. Every other exit behaves as in hv_replay.elf. */
#include "hv/handlers.h"

void __real_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void __wrap_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);

void __wrap_hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	uint32_t leaf = (uint32_t)exit->st.gpr[HV_RAX];
	__real_hv_handle_cpuid(sys, exit, res);
	if (leaf == 1 && res->action == HV_ACT_RESUME)
		exit->st.gpr[HV_RCX] ^= 1ull << 31;
}
