/* xAPIC registers (Intel SDM Vol. 3A, 11.4 and 11.5.4; AMD64 APM Vol. 2,
 * 16.3 and 16.4): memory-mapped at the APIC base, uncached in the image's
 * page tables (entry.S maps the top GiB PCD|PWT). */
#include "lapic.h"

#include "io.h"
#include "trap.h"

#define MSR_APIC_BASE 0x1bu
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_MASK 0xffffff000ull
#define REG_EOI 0x0b0u
#define REG_SVR 0x0f0u
#define REG_LVT_TIMER 0x320u
#define REG_TIMER_INIT 0x380u
#define REG_TIMER_DIV 0x3e0u
#define SVR_ENABLE (1u << 8)
#define LVT_PERIODIC (1u << 17)
#define DIV_16 0x3u

static volatile uint32_t *apic;

static void wr(uint32_t reg, uint32_t v)
{
	apic[reg / 4] = v;
}

void hvb_lapic_timer_start(uint32_t ticks)
{
	uint64_t base;
	if (hvb_rdmsr_safe(MSR_APIC_BASE, &base) != 0 || !(base & APIC_BASE_ENABLE))
		hvb_fatal("the local APIC is disabled (IA32_APIC_BASE 0x%lx)", (unsigned long)base);
	if ((base & APIC_BASE_MASK) >= (4ull << 30))
		hvb_fatal("the local APIC at 0x%lx is above the identity map",
		          (unsigned long)(base & APIC_BASE_MASK));
	/* The BIOS leaves the 8259 PICs delivering the PIT's IRQ 0 on vector
	 * 8, where it would look like a double fault: mask every line (OCW1,
	 * Intel 8259A datasheet). Only the local APIC timer interrupts. */
	hv_outb(0x21, 0xff);
	hv_outb(0xa1, 0xff);
	apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_MASK);
	wr(REG_SVR, SVR_ENABLE | HVB_SPURIOUS_VECTOR);
	wr(REG_TIMER_DIV, DIV_16);
	wr(REG_LVT_TIMER, LVT_PERIODIC | HVB_TIMER_VECTOR);
	wr(REG_TIMER_INIT, ticks);
}

void hvb_lapic_eoi(void)
{
	wr(REG_EOI, 0);
}
