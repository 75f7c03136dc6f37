/* Port I/O, the serial console (COM1) and the event stream of the bootable
 * image (hv/boot.h). Everything the image says leaves through here. */
#ifndef HV_BOOT_IO_H
#define HV_BOOT_IO_H

#include "hv/boot.h"
#include "hv/port_io.h"
#include "hv/types.h"

void hvb_serial_init(void);

/* Formatted text to the serial console: %s %c %u %d %x %llu %llx %lu %lx
 * and %%; nothing else. Guest-controlled text never goes through the
 * format: hx escapes it when it prints the events. */
void hvb_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One frame of the event stream: its payload is the n parts, in order
 * (cut at HV_BOOT_EVENT_MAX bytes). */
void hvb_event_parts(uint32_t type, uint32_t n, const void *const part[], const uint32_t len[]);
/* The same for one or two parts (b may be NULL with blen 0). */
void hvb_event(uint32_t type, const void *a, uint32_t alen, const void *b, uint32_t blen);

/* Say why on the serial console and as a FATAL event, then end QEMU with
 * HV_BOOT_EXIT_FATAL (or halt forever where there is no exit device). */
__attribute__((noreturn)) void hvb_fatal(const char *fmt, ...)
        __attribute__((format(printf, 1, 2)));

__attribute__((noreturn)) void hvb_exit(uint32_t code);

#endif
