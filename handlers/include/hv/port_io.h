/* x86 port I/O (IN/OUT, Intel SDM Vol. 2A/2B; port numbers up to 0xffff,
 * the DX form for any of them): the one copy for the bootable image, the
 * guest programs and the firmware images. Only for code that runs on the
 * target, never for the hosted build. No memory clobber: callers that
 * publish memory through a port write (a ucall) order it themselves. */
#ifndef HV_PORT_IO_H
#define HV_PORT_IO_H

#include "hv/types.h"

static inline void hv_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t hv_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t hv_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void hv_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t hv_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#endif
