/* Loader for PE32+ images (Microsoft PE/COFF specification; the format of
 * UEFI images, UEFI spec 2.10 section 2.1.1). The image is laid out in
 * memory as a loader would: headers and sections at their RVAs, base
 * relocations applied for the address hx chooses, into the same struct
 * hxk_elf the ELF loader fills (one segment per section, plus the
 * headers), so placement, loading and calling treat both formats alike.
 * Every field is untrusted; each refusal names the field and its value. */
#ifndef HXK_PE_LOAD_H
#define HXK_PE_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "elf_load.h"

/* Where an image goes when its ImageBase is not an address a partition can
 * load at (gnu-efi links at 0): 1 MiB, where the ELF guests are linked. */
#define HXK_PE_DEFAULT_BASE 0x100000ull
#define HXK_PE_MAX_SECTIONS (HXK_ELF_MAX_SEGS - 1) /* one segment holds the headers */
#define HXK_PE_MAX_SYMS 4096u

/* PE/COFF "Windows Subsystem" values of the EFI image types. */
#define HXK_PE_SUBSYSTEM_EFI_APP 10u
#define HXK_PE_SUBSYSTEM_EFI_BOOT_DRIVER 11u
#define HXK_PE_SUBSYSTEM_EFI_RUNTIME_DRIVER 12u

/* true when data starts like a PE image (the MZ stub). */
bool hxk_pe_is_pe(const uint8_t *data, size_t size);

/* Parse data[0, size) into e (which owns a relocated memory image). */
int hxk_pe_parse(const uint8_t *data, size_t size, struct hxk_elf *e, struct hxk_err *err);

#endif
