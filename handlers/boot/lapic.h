/* The local APIC timer that ends guest time slices, so that a guest which
 * never exits cannot keep the other partitions from running. */
#ifndef HV_BOOT_LAPIC_H
#define HV_BOOT_LAPIC_H

#include "hv/types.h"

/* Periodic interrupts on HVB_TIMER_VECTOR every `ticks` timer ticks
 * (divide by 16). Fails (hvb_fatal) when the xAPIC is not enabled. */
void hvb_lapic_timer_start(uint32_t ticks);
void hvb_lapic_eoi(void);

#endif
