/* C side of guest start-up: .bss, per-vCPU state, descriptor tables, then
 * guest_main(). */
#include <stddef.h>

#include "percpu.h"

_Static_assert(offsetof(struct hx_percpu, resume) == PC_RESUME, "PC_RESUME");
_Static_assert(offsetof(struct hx_percpu, try_rsp) == PC_TRY_RSP, "PC_TRY_RSP");
_Static_assert(offsetof(struct hx_percpu, vector) == PC_VECTOR, "PC_VECTOR");
_Static_assert(offsetof(struct hx_percpu, error) == PC_ERROR, "PC_ERROR");
_Static_assert(offsetof(struct hx_percpu, fault_rip) == PC_FAULT_RIP, "PC_FAULT_RIP");
_Static_assert(offsetof(struct hx_percpu, cr2) == PC_CR2, "PC_CR2");
_Static_assert(offsetof(struct hx_percpu, user_rsp) == PC_USER_RSP, "PC_USER_RSP");
_Static_assert(offsetof(struct hx_percpu, user_stack) == PC_USER_STACK, "PC_USER_STACK");
_Static_assert(offsetof(struct hx_percpu, tss) == PC_TSS, "PC_TSS");
_Static_assert(offsetof(struct hx_percpu, tss.rsp[0]) == PC_TSS_RSP0, "PC_TSS_RSP0");
_Static_assert(sizeof(struct hx_tss) == 104, "TSS size (SDM Vol. 3A, 8.7)");
_Static_assert(sizeof(struct hx_percpu) < 0x400, "per-vCPU state overlaps the user stack");
_Static_assert(HX_CPU_BLOCKS == HX_MAX_VCPUS, "one block per vCPU");

extern char __bss_start[], __bss_end[];

/* Every image carries the trapping sites, even a guest that never calls
 * them, so the runner always finds hx_cpuid_site and friends (and a
 * CPUID/VMCALL anywhere else is the guest author's visible mistake). */
__attribute__((used)) static void (*const keep_sites[])(void) = {
        (void (*)(void))hx_cpuid, (void (*)(void))hx_vmcall, (void (*)(void))hx_vmmcall};

/* In .data, not .bss: other vCPUs poll it while vCPU 0 clears .bss. */
static volatile uint32_t hx_started __attribute__((section(".data")));

uint32_t hx_partition(void)
{
	return hx_this_cpu()->partition;
}

uint32_t hx_vcpu(void)
{
	return hx_this_cpu()->vcpu;
}

const struct hx_boot_info *hx_boot(void)
{
	return hx_this_cpu()->boot;
}

const struct hx_boot_range *hx_find_range(uint32_t kind, uint32_t n)
{
	const struct hx_boot_info *bi = hx_boot();
	uint32_t count = bi->nranges < HX_BOOT_MAX_RANGES ? bi->nranges : HX_BOOT_MAX_RANGES;

	for (uint32_t i = 0; i < count; i++) {
		if (bi->ranges[i].kind != kind)
			continue;
		if (n == 0)
			return &bi->ranges[i];
		n--;
	}
	return NULL;
}

void hx_runtime_start(uint64_t partition, uint64_t vcpu, uint64_t boot_gpa)
{
	struct hx_percpu *pc = hx_this_cpu();
	const struct hx_boot_info *bi = (const struct hx_boot_info *)boot_gpa;

	if (vcpu == 0) {
		memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
	} else {
		while (!hx_started)
			__asm__ volatile("pause");
	}
	memset(pc, 0, sizeof(*pc));
	pc->partition = (uint32_t)partition;
	pc->vcpu = (uint32_t)vcpu;
	pc->boot = bi;
	pc->user_stack = (uint64_t)pc + HX_USER_STACK_TOP;
	pc->guard = HX_PERCPU_GUARD;
	pc->vector = HX_NO_FAULT;
	hx_trap_init(pc, vcpu == 0);
	if (vcpu == 0)
		hx_started = 1;

	if (bi->magic != HX_BOOT_MAGIC)
		hx_fail(HX_FILE, __LINE__, "boot info: bad magic", bi->magic, HX_BOOT_MAGIC);
	if (bi->partition != partition || bi->vcpu != vcpu)
		hx_fail(HX_FILE, __LINE__, "boot info: partition/vcpu differ from RDI/RSI",
		        (uint64_t)bi->partition << 32 | bi->vcpu, partition << 32 | vcpu);
	if (bi->nranges > HX_BOOT_MAX_RANGES)
		hx_fail(HX_FILE, __LINE__, "boot info: too many ranges", bi->nranges,
		        HX_BOOT_MAX_RANGES);

	guest_main();
	hx_done();
}
