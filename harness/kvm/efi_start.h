/* EFI images in the sandbox. A PE32+ image of an EFI subsystem is started
 * before its first call the way UEFI starts a driver (UEFI spec 2.10,
 * 7.4, EFI_IMAGE_ENTRY_POINT): its entry point is called, MS x64, with an
 * image handle and a system table that hx builds in the sandbox. Every
 * service of that table's boot and runtime services tables points at a
 * stub of the sandbox that returns EFI_UNSUPPORTED: there is no firmware
 * behind it. A runtime driver installs its own services in the runtime
 * services table; a call by a service's name (GetTime, SetVariable, ...)
 * then calls what the image installed there. */
#ifndef HXK_EFI_START_H
#define HXK_EFI_START_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_load.h"

/* In the page of the stub's IDT, after its 32 gates (call.h). */
#define HXK_EFI_TABLES_GPA 0xf400ull
#define HXK_EFI_SYSTAB_GPA 0xf400ull /* EFI_SYSTEM_TABLE, 0x78 bytes */
#define HXK_EFI_RT_GPA 0xf480ull     /* EFI_RUNTIME_SERVICES, 0x88 bytes */
#define HXK_EFI_BS_GPA 0xf510ull     /* EFI_BOOT_SERVICES, 0x178 bytes */
#define HXK_EFI_VENDOR_GPA 0xf690ull /* FirmwareVendor, UCS-2 "hx" */
#define HXK_EFI_HANDLE_GPA 0xf6a0ull /* the image handle: 16 opaque bytes */
#define HXK_EFI_TABLES_SIZE 0x2b0u   /* [HXK_EFI_TABLES_GPA, +this) */

#define HXK_EFI_SYSTAB_SIZE 0x78u
#define HXK_EFI_RT_SIZE 0x88u
#define HXK_EFI_BS_SIZE 0x178u
#define HXK_EFI_UNSUPPORTED 0x8000000000000003ull

/* A PE32+ image whose Subsystem is an EFI application or driver. */
bool hxk_efi_image(const struct hxk_elf *e);

/* The tables as they sit at HXK_EFI_TABLES_GPA, every service pointing at
 * unsupported (the stub's GPA). */
void hxk_efi_tables(uint8_t out[HXK_EFI_TABLES_SIZE], uint64_t unsupported);

/* The offset of a runtime service in EFI_RUNTIME_SERVICES by its name in
 * the spec (GetTime, ..., QueryVariableInfo), or 0 for no such name. */
uint32_t hxk_efi_rt_offset(const char *name);

/* The CRC-32 of the EFI table headers (UEFI spec 4.2: IEEE 802.3, over
 * HeaderSize bytes with the CRC32 field zero). */
uint32_t hxk_efi_crc32(const uint8_t *p, uint32_t n);

#endif
