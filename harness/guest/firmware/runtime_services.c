/* A "runtime services" image: the calls an OS makes into UEFI firmware
 * after boot, the way such firmware implements them (UEFI spec 8.3 and
 * 8.2), with the MS x64 convention EFI uses:
 *   GetTime(EFI_TIME *)                    the CMOS RTC at ports 0x70/0x71
 *   GetNextMonotonicCount(uint64_t *)      a counter in the image's data
 *   GetNextHighMonotonicCount(uint32_t *)  its high 32 bits
 *   SetVariable(name, guid, attrs, size, data)   a store in the image's
 *   GetVariable(name, guid, attrs*, size*, data) data, UCS-2 names
 *   ResetSystem(type)                      the PC reset port 0xcf9: the
 *                                          sandbox contains it
 * State lives in the image's own data, so it persists between calls on one
 * sandbox and is gone when the sandbox is reset.
 *
 * Built twice: as a static ELF whose functions are called by symbol, and
 * (HX_FW_EFI) as a UEFI runtime driver in PE32+ with gnu-efi, whose entry
 * point installs them in the system table's runtime services table, as a
 * runtime driver does, so they are called by their service names. */
#include "fw.h"

#ifndef HX_FW_EFI
FW_NO_ENTRY
#endif

#define MS __attribute__((ms_abi))

struct efi_time {
	uint16_t year;
	uint8_t month, day, hour, minute, second, pad1;
	uint32_t nanosecond;
	int16_t time_zone;
	uint8_t daylight, pad2;
};
_Static_assert(sizeof(struct efi_time) == 16, "EFI_TIME");

static uint8_t cmos(uint8_t reg)
{
	hv_outb(0x70, reg);
	return hv_inb(0x71);
}

static uint8_t from_bcd(uint8_t v)
{
	return (uint8_t)((v >> 4) * 10 + (v & 0xf));
}

MS uint64_t get_time(struct efi_time *t, void *capabilities);
MS uint64_t get_time(struct efi_time *t, void *capabilities)
{
	(void)capabilities;
	if (!t)
		return EFI_INVALID_PARAMETER;
	for (int tries = 0; cmos(0x0a) & 0x80; tries++) /* update in progress */
		if (tries > 1000)
			return EFI_DEVICE_ERROR;
	uint8_t b = cmos(0x0b);
	uint8_t sec = cmos(0x00), min = cmos(0x02), hour = cmos(0x04);
	uint8_t day = cmos(0x07), mon = cmos(0x08), year = cmos(0x09), cent = cmos(0x32);
	if (!(b & 0x04)) { /* BCD unless status B says binary */
		sec = from_bcd(sec);
		min = from_bcd(min);
		hour = from_bcd(hour);
		day = from_bcd(day);
		mon = from_bcd(mon);
		year = from_bcd(year);
		cent = from_bcd(cent);
	}
	t->year = (uint16_t)(cent * 100 + year);
	t->month = mon;
	t->day = day;
	t->hour = hour;
	t->minute = min;
	t->second = sec;
	t->pad1 = 0;
	t->nanosecond = 0;
	t->time_zone = 0x7ff; /* EFI_UNSPECIFIED_TIMEZONE */
	t->daylight = 0;
	t->pad2 = 0;
	return EFI_SUCCESS;
}

/* The platform's monotonic count (UEFI spec 7.5.2 and 8.5.2): the boot
 * service counts in the low 32 bits; the runtime service moves the high
 * 32 bits on and restarts the low ones. */
static uint64_t monotonic;

MS uint64_t get_next_monotonic_count(uint64_t *count);
MS uint64_t get_next_monotonic_count(uint64_t *count)
{
	if (!count)
		return EFI_INVALID_PARAMETER;
	*count = ++monotonic;
	return EFI_SUCCESS;
}

MS uint64_t get_next_high_monotonic_count(uint32_t *high);
MS uint64_t get_next_high_monotonic_count(uint32_t *high)
{
	if (!high)
		return EFI_INVALID_PARAMETER;
	monotonic = ((monotonic >> 32) + 1) << 32;
	*high = (uint32_t)(monotonic >> 32);
	return EFI_SUCCESS;
}

#define VARS 8
#define NAME_MAX 32 /* UCS-2 characters, the terminating NUL included */
#define DATA_MAX 256

struct efi_guid {
	uint8_t b[16];
};

static struct var {
	uint16_t name[NAME_MAX];
	struct efi_guid guid;
	uint32_t attrs;
	uint64_t size;
	uint8_t data[DATA_MAX];
} vars[VARS];

/* A variable is named by its name and its vendor GUID together (UEFI spec
 * 8.2). */
static int var_is(const struct var *v, const uint16_t *name, const struct efi_guid *guid)
{
	for (int i = 0; i < 16; i++)
		if (v->guid.b[i] != guid->b[i])
			return 0;
	for (int i = 0; i < NAME_MAX; i++) {
		if (v->name[i] != name[i])
			return 0;
		if (!name[i])
			return 1;
	}
	return 1;
}

static int name_ok(const uint16_t *n)
{
	if (!n || !n[0])
		return 0;
	for (int i = 0; i < NAME_MAX; i++)
		if (!n[i])
			return 1;
	return 0;
}

MS uint64_t set_variable(const uint16_t *name, const struct efi_guid *guid, uint32_t attrs,
                         uint64_t size, const void *data);
MS uint64_t set_variable(const uint16_t *name, const struct efi_guid *guid, uint32_t attrs,
                         uint64_t size, const void *data)
{
	if (!name_ok(name) || !guid || (size && !data))
		return EFI_INVALID_PARAMETER;
	if (size > DATA_MAX)
		return EFI_OUT_OF_RESOURCES;
	struct var *free_slot = 0;
	for (int i = 0; i < VARS; i++) {
		if (vars[i].name[0] && var_is(&vars[i], name, guid)) {
			if (size == 0) { /* deleting */
				vars[i].name[0] = 0;
				return EFI_SUCCESS;
			}
			free_slot = &vars[i];
			break;
		}
		if (!vars[i].name[0] && !free_slot)
			free_slot = &vars[i];
	}
	if (size == 0)
		return EFI_NOT_FOUND;
	if (!free_slot)
		return EFI_OUT_OF_RESOURCES;
	for (int i = 0; i < NAME_MAX; i++) {
		free_slot->name[i] = name[i];
		if (!name[i])
			break;
	}
	free_slot->guid = *guid;
	free_slot->attrs = attrs;
	free_slot->size = size;
	for (uint64_t i = 0; i < size; i++)
		free_slot->data[i] = ((const uint8_t *)data)[i];
	return EFI_SUCCESS;
}

MS uint64_t get_variable(const uint16_t *name, const struct efi_guid *guid, uint32_t *attrs,
                         uint64_t *size, void *data);
MS uint64_t get_variable(const uint16_t *name, const struct efi_guid *guid, uint32_t *attrs,
                         uint64_t *size, void *data)
{
	if (!name_ok(name) || !guid || !size)
		return EFI_INVALID_PARAMETER;
	for (int i = 0; i < VARS; i++) {
		if (!vars[i].name[0] || !var_is(&vars[i], name, guid))
			continue;
		if (*size < vars[i].size) {
			*size = vars[i].size;
			return EFI_BUFFER_TOO_SMALL;
		}
		if (!data)
			return EFI_INVALID_PARAMETER;
		for (uint64_t k = 0; k < vars[i].size; k++)
			((uint8_t *)data)[k] = vars[i].data[k];
		*size = vars[i].size;
		if (attrs)
			*attrs = vars[i].attrs;
		return EFI_SUCCESS;
	}
	return EFI_NOT_FOUND;
}

/* EfiResetCold 0, EfiResetWarm 1: the reset control register at 0xcf9
 * (Intel PCH, "Reset Control Register"). */
MS uint64_t reset_system(uint32_t type);
MS uint64_t reset_system(uint32_t type)
{
	hv_outb(0xcf9, type == 0 ? 0x0e : 0x06);
	for (;;)
		__asm__ volatile("hlt");
}

#ifdef HX_FW_EFI
/* EFI_TABLE_HEADER, EFI_SYSTEM_TABLE and EFI_RUNTIME_SERVICES as far as
 * this driver uses them (UEFI spec 4.2, 4.3, 4.5). */
struct efi_table_header {
	uint64_t signature;
	uint32_t revision, header_size, crc32, reserved;
};

/* Stored as the generic function pointer type (C11 6.3.2.3p8): the
 * caller knows each service's real type. */
typedef void (*efi_fn)(void);

struct efi_runtime_services {
	struct efi_table_header hdr;
	efi_fn get_time, set_time, get_wakeup_time, set_wakeup_time;
	efi_fn set_virtual_address_map, convert_pointer;
	efi_fn get_variable, get_next_variable_name, set_variable;
	efi_fn get_next_high_monotonic_count, reset_system;
	efi_fn update_capsule, query_capsule_capabilities, query_variable_info;
};
_Static_assert(__builtin_offsetof(struct efi_runtime_services, get_time) == 0x18, "GetTime");
_Static_assert(__builtin_offsetof(struct efi_runtime_services, reset_system) == 0x68,
               "ResetSystem");
_Static_assert(sizeof(struct efi_runtime_services) == 0x88, "EFI_RUNTIME_SERVICES");

struct efi_system_table {
	struct efi_table_header hdr;
	void *firmware_vendor;
	uint32_t firmware_revision;
	void *con_in_handle, *con_in, *con_out_handle, *con_out, *std_err_handle, *std_err;
	struct efi_runtime_services *runtime_services;
	void *boot_services;
	uint64_t n_configuration_tables;
	void *configuration_table;
};
_Static_assert(__builtin_offsetof(struct efi_system_table, runtime_services) == 0x58,
               "EFI_SYSTEM_TABLE.RuntimeServices");

#define EFI_SYSTEM_TABLE_SIGNATURE 0x5453595320494249ull
#define EFI_RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552ull

/* gnu-efi's crt0 relocates the image and then calls this (SysV). */
uint64_t efi_main(void *image, struct efi_system_table *st);
uint64_t efi_main(void *image, struct efi_system_table *st)
{
	(void)image;
	if (!st || st->hdr.signature != EFI_SYSTEM_TABLE_SIGNATURE || !st->runtime_services ||
	    st->runtime_services->hdr.signature != EFI_RUNTIME_SERVICES_SIGNATURE)
		return EFI_INVALID_PARAMETER;
	struct efi_runtime_services *rt = st->runtime_services;
	rt->get_time = (efi_fn)get_time;
	rt->get_variable = (efi_fn)get_variable;
	rt->set_variable = (efi_fn)set_variable;
	rt->get_next_high_monotonic_count = (efi_fn)get_next_high_monotonic_count;
	rt->reset_system = (efi_fn)reset_system;
	/* The table changed: its CRC is stale. A driver that holds boot
	 * services would call CalculateCrc32; this one has none to call. */
	return EFI_SUCCESS;
}
#endif
