/* A "runtime services" image: the calls an OS makes into UEFI firmware
 * after boot, the way such firmware implements them (UEFI spec 8.3 and
 * 8.2), with the MS x64 convention EFI uses:
 *   GetTime(EFI_TIME *)                    the CMOS RTC at ports 0x70/0x71
 *   GetNextMonotonicCount(uint64_t *)      a counter in the image's data
 *   SetVariable(name, attrs, size, data)   a store in the image's data
 *   GetVariable(name, attrs*, size*, data) (names are ASCII here)
 *   ResetSystem(type)                      the PC reset port 0xcf9: the
 *                                          sandbox contains it
 * State lives in the image's own data, so it persists between calls on one
 * sandbox and is gone when the sandbox is reset. */
#include "fw.h"

FW_NO_ENTRY

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

static uint64_t monotonic;

MS uint64_t get_next_monotonic_count(uint64_t *count);
MS uint64_t get_next_monotonic_count(uint64_t *count)
{
	if (!count)
		return EFI_INVALID_PARAMETER;
	*count = ++monotonic;
	return EFI_SUCCESS;
}

#define VARS 8
#define NAME_MAX 32
#define DATA_MAX 256

static struct var {
	char name[NAME_MAX];
	uint32_t attrs;
	uint64_t size;
	uint8_t data[DATA_MAX];
} vars[VARS];

static int name_eq(const char *a, const char *b)
{
	for (int i = 0; i < NAME_MAX; i++) {
		if (a[i] != b[i])
			return 0;
		if (!a[i])
			return 1;
	}
	return 1;
}

static int name_ok(const char *n)
{
	if (!n || !n[0])
		return 0;
	for (int i = 0; i < NAME_MAX; i++)
		if (!n[i])
			return 1;
	return 0;
}

MS uint64_t set_variable(const char *name, uint32_t attrs, uint64_t size, const void *data);
MS uint64_t set_variable(const char *name, uint32_t attrs, uint64_t size, const void *data)
{
	if (!name_ok(name) || (size && !data))
		return EFI_INVALID_PARAMETER;
	if (size > DATA_MAX)
		return EFI_OUT_OF_RESOURCES;
	struct var *free_slot = 0;
	for (int i = 0; i < VARS; i++) {
		if (vars[i].name[0] && name_eq(vars[i].name, name)) {
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
	free_slot->attrs = attrs;
	free_slot->size = size;
	for (uint64_t i = 0; i < size; i++)
		free_slot->data[i] = ((const uint8_t *)data)[i];
	return EFI_SUCCESS;
}

MS uint64_t get_variable(const char *name, uint32_t *attrs, uint64_t *size, void *data);
MS uint64_t get_variable(const char *name, uint32_t *attrs, uint64_t *size, void *data)
{
	if (!name_ok(name) || !size)
		return EFI_INVALID_PARAMETER;
	for (int i = 0; i < VARS; i++) {
		if (!vars[i].name[0] || !name_eq(vars[i].name, name))
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
