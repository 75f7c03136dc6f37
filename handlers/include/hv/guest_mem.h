/* Guest-physical memory access through a partition's EPT. Every byte a
 * handler reads from or writes to a guest goes through these, so the EPT
 * permissions are enforced and platform ops see host-physical addresses. */
#ifndef HV_GUEST_MEM_H
#define HV_GUEST_MEM_H

#include "hv/status.h"
#include "hv/system.h"

/* Copy len bytes from/to guest-physical gpa of partition part. Every page
 * touched must be mapped with `need` permission (HV_PERM_R / HV_PERM_W);
 * the whole range is checked before anything is copied, so a failing write
 * writes nothing. Fails with HV_ERR_RANGE on wrap-around, HV_ERR_FAULT when
 * unmapped or lacking permission. */
hv_status hv_guest_read(struct hv_system *sys, uint32_t part, uint64_t gpa, void *dst,
                        uint32_t len);
hv_status hv_guest_write(struct hv_system *sys, uint32_t part, uint64_t gpa, const void *src,
                         uint32_t len);
/* Check only: every page of [gpa, gpa+len) has `need` permissions. */
hv_status hv_guest_check(struct hv_system *sys, uint32_t part, uint64_t gpa, uint64_t len,
                         uint8_t need);

#endif
