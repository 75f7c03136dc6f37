/* Firmware-like images for the sandbox (hx call): static ELF64, linked at
 * 1 MiB like the guest programs (guest.ld) but without the guest runtime:
 * hx call enters a function by its symbol, with the stub of the sandbox as
 * its caller. Nothing here may rely on the guest ABI's boot info. */
#ifndef HX_FW_H
#define HX_FW_H

#include <stdint.h>

#include "hv/port_io.h"

/* EFI status codes (UEFI spec, Appendix D): errors have bit 63 set. */
#define EFI_SUCCESS 0ull
#define EFI_ERR(n) ((1ull << 63) | (n))
#define EFI_INVALID_PARAMETER EFI_ERR(2)
#define EFI_UNSUPPORTED EFI_ERR(3)
#define EFI_BUFFER_TOO_SMALL EFI_ERR(5)
#define EFI_DEVICE_ERROR EFI_ERR(7)
#define EFI_OUT_OF_RESOURCES EFI_ERR(9)
#define EFI_NOT_FOUND EFI_ERR(14)

/* The linker script wants an entry point; the sandbox never uses it. */
#define FW_NO_ENTRY                                                                                \
	void _start(void);                                                                         \
	__attribute__((section(".text.entry"))) void _start(void)                                  \
	{                                                                                          \
		for (;;)                                                                           \
			__asm__ volatile("hlt");                                                   \
	}

#endif
