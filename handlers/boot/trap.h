#ifndef HV_BOOT_TRAP_H
#define HV_BOOT_TRAP_H

#include "hv/types.h"

#define HVB_TIMER_VECTOR 32u
#define HVB_SPURIOUS_VECTOR 255u

void hvb_trap_init(void);
int hvb_rdmsr_safe(uint32_t msr, uint64_t *value);
int hvb_wrmsr_safe(uint32_t msr, uint64_t value);

#endif
