/* Single instructions under the exception window: arm with the address of
 * the label after the instruction, run it, disarm. An exception resumes at
 * the label (hx_exception), which skips the instruction. */
#include "percpu.h"

extern char hx_vmcall_resume[], hx_vmmcall_resume[];

/* The window's resume slot, as an asm operand. */
#define ARM "leaq 1f(%%rip), %%r11\n\tmovq %%r11, %c[res](%[pc])\n\t"
#define DISARM "\n1:\n\tmovq $0, %c[res](%[pc])"

int hx_rdmsr_safe(uint32_t msr, uint64_t *val)
{
	struct hx_percpu *pc = hx_this_cpu();
	uint32_t lo = 0, hi = 0;

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "rdmsr" DISARM
	                 : "+a"(lo), "+d"(hi)
	                 : "c"(msr), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	if (val)
		*val = (uint64_t)hi << 32 | lo;
	return (int)pc->vector;
}

int hx_wrmsr_safe(uint32_t msr, uint64_t val)
{
	struct hx_percpu *pc = hx_this_cpu();

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "wrmsr" DISARM
	                 :
	                 : "c"(msr), "a"((uint32_t)val),
	                   "d"((uint32_t)(val >> 32)), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	return (int)pc->vector;
}

int hx_read8_safe(uint64_t addr, uint8_t *val)
{
	struct hx_percpu *pc = hx_this_cpu();
	uint8_t v = 0;

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "movb (%[a]), %[v]" DISARM
	                 : [v] "+q"(v)
	                 : [a] "r"(addr), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	if (val)
		*val = v;
	return (int)pc->vector;
}

int hx_read64_safe(uint64_t addr, uint64_t *val)
{
	struct hx_percpu *pc = hx_this_cpu();
	uint64_t v = 0;

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "movq (%[a]), %[v]" DISARM
	                 : [v] "+r"(v)
	                 : [a] "r"(addr), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	if (val)
		*val = v;
	return (int)pc->vector;
}

int hx_write8_safe(uint64_t addr, uint8_t val)
{
	struct hx_percpu *pc = hx_this_cpu();

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "movb %[v], (%[a])" DISARM
	                 :
	                 : [v] "q"(val), [a] "r"(addr), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	return (int)pc->vector;
}

int hx_write64_safe(uint64_t addr, uint64_t val)
{
	struct hx_percpu *pc = hx_this_cpu();

	pc->vector = HX_NO_FAULT;
	__asm__ volatile(ARM "movq %[v], (%[a])" DISARM
	                 :
	                 : [v] "r"(val), [a] "r"(addr), [pc] "r"(pc), [res] "i"(PC_RESUME)
	                 : "r11", "memory");
	return (int)pc->vector;
}

int hx_exec_safe(uint64_t addr, uint64_t *ret)
{
	return hx_try((uint64_t(*)(uint64_t))addr, 0, ret);
}

int64_t hx_vmcall_safe(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                       uint64_t *rdi_out, int *vector)
{
	struct hx_percpu *pc = hx_this_cpu();
	int64_t r;

	hx_arm(pc, (uint64_t)hx_vmcall_resume);
	r = hx_vmcall(nr, a1, a2, a3, a4, rdi_out);
	pc->resume = 0;
	*vector = (int)pc->vector;
	return r;
}

int64_t hx_vmmcall_safe(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint64_t *rdi_out, int *vector)
{
	struct hx_percpu *pc = hx_this_cpu();
	int64_t r;

	hx_arm(pc, (uint64_t)hx_vmmcall_resume);
	r = hx_vmmcall(nr, a1, a2, a3, a4, rdi_out);
	pc->resume = 0;
	*vector = (int)pc->vector;
	return r;
}

/* 0 unknown, 1 AMD/Hygon, 2 other. Benign race between vCPUs: same answer. */
static uint32_t hx_vendor;

bool hx_host_is_amd(void)
{
	if (!hx_vendor) {
		uint32_t r[4];

		hx_cpuid(0, 0, r);
		/* "AuthenticAMD" / "HygonGenuine": EBX "Auth" / "Hygo" */
		hx_vendor = (r[1] == 0x68747541u || r[1] == 0x6f677948u) ? 1 : 2;
	}
	return hx_vendor == 1;
}

int64_t hx_hcall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t *rdi_out)
{
	if (hx_host_is_amd())
		return hx_vmmcall(nr, a1, a2, a3, a4, rdi_out);
	return hx_vmcall(nr, a1, a2, a3, a4, rdi_out);
}
