/* The EFI tables of the sandbox (efi_start.h). Layouts from the UEFI spec
 * 2.10: EFI_TABLE_HEADER (4.2), EFI_SYSTEM_TABLE (4.3), EFI_BOOT_SERVICES
 * (4.4, 44 services), EFI_RUNTIME_SERVICES (4.5, 14 services). */
#include "efi_start.h"

#include <string.h>

#include "pe_load.h"

#define SIG_SYSTEM 0x5453595320494249ull  /* "IBI SYST" */
#define SIG_BOOT 0x56524553544f4f42ull    /* "BOOTSERV" */
#define SIG_RUNTIME 0x56524553544e5552ull /* "RUNTSERV" */
#define EFI_REVISION ((2u << 16) | 70u)   /* 2.70, what EDK2 reports */
#define HDR 24u                           /* EFI_TABLE_HEADER */
#define ST_FIRMWARE_VENDOR 0x18u
#define ST_RUNTIME 0x58u
#define ST_BOOT 0x60u

_Static_assert(HXK_EFI_SYSTAB_SIZE == 0x78, "EFI_SYSTEM_TABLE: header and 12 fields");
_Static_assert(HXK_EFI_RT_SIZE == HDR + 14 * 8, "EFI_RUNTIME_SERVICES");
_Static_assert(HXK_EFI_BS_SIZE == HDR + 44 * 8, "EFI_BOOT_SERVICES");
_Static_assert(HXK_EFI_RT_GPA >= HXK_EFI_SYSTAB_GPA + HXK_EFI_SYSTAB_SIZE &&
                       HXK_EFI_BS_GPA >= HXK_EFI_RT_GPA + HXK_EFI_RT_SIZE &&
                       HXK_EFI_VENDOR_GPA >= HXK_EFI_BS_GPA + HXK_EFI_BS_SIZE &&
                       HXK_EFI_HANDLE_GPA + 16 <= HXK_EFI_TABLES_GPA + HXK_EFI_TABLES_SIZE &&
                       HXK_EFI_TABLES_GPA + HXK_EFI_TABLES_SIZE <= 0x10000,
               "the EFI tables do not overlap and stay in their page");

bool hxk_efi_image(const struct hxk_elf *e)
{
	return e->pe && e->subsystem >= HXK_PE_SUBSYSTEM_EFI_APP &&
	       e->subsystem <= HXK_PE_SUBSYSTEM_EFI_RUNTIME_DRIVER;
}

uint32_t hxk_efi_crc32(const uint8_t *p, uint32_t n)
{
	uint32_t c = 0xffffffffu;
	for (uint32_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void header(uint8_t *t, uint64_t sig, uint32_t size)
{
	put64(t, sig);
	uint32_t rev = EFI_REVISION, crc;
	memcpy(t + 8, &rev, 4);
	memcpy(t + 12, &size, 4);
	memset(t + 16, 0, 8);
	crc = hxk_efi_crc32(t, size);
	memcpy(t + 16, &crc, 4);
}

void hxk_efi_tables(uint8_t out[HXK_EFI_TABLES_SIZE], uint64_t unsupported)
{
	memset(out, 0, HXK_EFI_TABLES_SIZE);
	uint8_t *st = out + (HXK_EFI_SYSTAB_GPA - HXK_EFI_TABLES_GPA);
	uint8_t *rt = out + (HXK_EFI_RT_GPA - HXK_EFI_TABLES_GPA);
	uint8_t *bs = out + (HXK_EFI_BS_GPA - HXK_EFI_TABLES_GPA);
	uint8_t *vendor = out + (HXK_EFI_VENDOR_GPA - HXK_EFI_TABLES_GPA);
	vendor[0] = 'h';
	vendor[2] = 'x';
	for (uint32_t o = HDR; o < HXK_EFI_RT_SIZE; o += 8)
		put64(rt + o, unsupported);
	for (uint32_t o = HDR; o < HXK_EFI_BS_SIZE; o += 8)
		put64(bs + o, unsupported);
	header(rt, SIG_RUNTIME, HXK_EFI_RT_SIZE);
	header(bs, SIG_BOOT, HXK_EFI_BS_SIZE);
	/* No console, no configuration tables: those handles and pointers
	 * stay NULL, as the spec allows for a headless system. */
	put64(st + ST_FIRMWARE_VENDOR, HXK_EFI_VENDOR_GPA);
	put64(st + ST_RUNTIME, HXK_EFI_RT_GPA);
	put64(st + ST_BOOT, HXK_EFI_BS_GPA);
	header(st, SIG_SYSTEM, HXK_EFI_SYSTAB_SIZE);
}

uint32_t hxk_efi_rt_offset(const char *name)
{
	static const char *const services[14] = {"GetTime",
	                                         "SetTime",
	                                         "GetWakeupTime",
	                                         "SetWakeupTime",
	                                         "SetVirtualAddressMap",
	                                         "ConvertPointer",
	                                         "GetVariable",
	                                         "GetNextVariableName",
	                                         "SetVariable",
	                                         "GetNextHighMonotonicCount",
	                                         "ResetSystem",
	                                         "UpdateCapsule",
	                                         "QueryCapsuleCapabilities",
	                                         "QueryVariableInfo"};
	for (uint32_t i = 0; i < 14; i++)
		if (!strcmp(name, services[i]))
			return HDR + 8 * i;
	return 0;
}
