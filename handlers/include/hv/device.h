/* Emulated console/doorbell device: a 4 KiB register block a partition
 * reaches only through EPT violations (its GPA range is never mapped).
 *
 *   offset size access  register
 *   0x00   1-8  W       DATA      low byte goes to the partition console
 *   0x08   4    R       STATUS    bit 0 always 1 (ready), bits 31:16 = the
 *                                 partition's index
 *   0x10   1-8  W       DOORBELL  value is latched, counter incremented
 *   0x18   4    R       RINGS     doorbell counter
 *   0x20   1-8  RW      SCRATCH   64-bit scratch register (partial widths
 *                                 touch the low bytes)
 * Reads of write-only or unknown offsets return 0; writes to read-only or
 * unknown offsets are ignored (as on real devices). A register is addressed
 * at its own offset only (an access starting inside it is an unknown
 * offset); narrower reads return its low bytes. */
#ifndef HV_DEVICE_H
#define HV_DEVICE_H

#include "hv/types.h"

#define HV_CONSOLE_DATA 0x00
#define HV_CONSOLE_STATUS 0x08
#define HV_CONSOLE_DOORBELL 0x10
#define HV_CONSOLE_RINGS 0x18
#define HV_CONSOLE_SCRATCH 0x20
#define HV_CONSOLE_SIZE 0x1000

struct hv_device_state {
	uint64_t scratch;
	uint64_t last_doorbell;
	uint32_t rings;
	uint32_t pad;
};

struct hv_system;

/* Perform one access of `size` bytes at `offset` in device `dev` of
 * partition `part`. Reads fill *value. */
void hv_device_access(struct hv_system *sys, uint32_t part, uint32_t dev, uint64_t offset,
                      uint8_t size, bool is_write, uint64_t *value);

#endif
