/* The emulated console/doorbell register block (hv/device.h). Reached only
 * from the EPT-violation handler after it decoded the guest's access, so
 * offset and size come from guest input: every combination is defined.
 *
 * Registers are addressed at their own offset only: an access that starts
 * inside a register but not at its first byte is an access to an unknown
 * offset (read 0, write ignored). Reads narrower than a register return its
 * low bytes; 8-byte reads of the 32-bit registers return them
 * zero-extended. Sizes other than 1, 2, 4 and 8 and accesses that do not
 * fit inside the device's configured range do nothing and read 0. */
#include "hv/device.h"

#include "hv/system.h"

static bool valid_size(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static uint64_t size_mask(uint8_t size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static void console_write(struct hv_system *sys, uint32_t part, struct hv_device_state *ds,
                          uint64_t offset, uint64_t v, uint64_t mask)
{
	switch (offset) {
	case HV_CONSOLE_DATA: {
		char c = (char)(v & 0xff);
		if (sys->ops->console)
			sys->ops->console(sys->ops_ctx, part, &c, 1);
		break;
	}
	case HV_CONSOLE_DOORBELL:
		ds->last_doorbell = v;
		ds->rings++; /* wraps at 2^32 like a hardware counter */
		break;
	case HV_CONSOLE_SCRATCH:
		ds->scratch = (ds->scratch & ~mask) | v;
		break;
	default:
		break; /* read-only or unknown: ignored */
	}
}

static uint64_t console_read(uint32_t part, const struct hv_device_state *ds, uint64_t offset)
{
	switch (offset) {
	case HV_CONSOLE_STATUS:
		return 1u | ((uint64_t)(part & 0xffff) << 16);
	case HV_CONSOLE_RINGS:
		return ds->rings;
	case HV_CONSOLE_SCRATCH:
		return ds->scratch;
	default:
		return 0; /* write-only or unknown */
	}
}

void hv_device_access(struct hv_system *sys, uint32_t part, uint32_t dev, uint64_t offset,
                      uint8_t size, bool is_write, uint64_t *value)
{
	const struct hv_system_config *cfg = sys->cfg;
	bool ok = part < cfg->npartitions && part < HV_MAX_PARTITIONS &&
	          dev < cfg->partitions[part].ndevices && dev < HV_MAX_DEVICES && valid_size(size);
	if (ok) {
		const struct hv_device_config *dc = &cfg->partitions[part].devices[dev];
		ok = dc->type == HV_DEV_CONSOLE && hv_range_inside(offset, size, 0, dc->size);
	}
	if (!ok) {
		if (!is_write)
			*value = 0;
		return;
	}
	struct hv_device_state *ds = &sys->parts[part].devices[dev];
	uint64_t mask = size_mask(size);
	if (is_write)
		console_write(sys, part, ds, offset, *value & mask, mask);
	else
		*value = console_read(part, ds, offset) & mask;
}
