/* IO-GUARD: port I/O never reaches the host, and only a partition's own
 * configured devices answer it. Written from the devices' documentation
 * (hv/io.h, handlers/docs/io.md) and the Intel SDM's I/O exit
 * qualification (Vol. 3C, Table 28-5), not from handlers/src/io.c: the port
 * counts below are this file's own.
 *
 * After a port I/O exit:
 *  - an access that is not entirely inside one device of the partition, a
 *    string access, a size other than 1, 2 or 4, or an exit without an
 *    instruction length must be contained (#GP or halt) with no platform
 *    call at all;
 *  - an emulated one is resumed past the instruction, calls the platform
 *    for nothing but console bytes of a UART write, changes no register
 *    but RAX on IN, and RAX only in the access's width (IN EAX clears bits
 *    63:32, IN AL/AX keep the bits above). */
#include <stdio.h>

#include "oracle_internal.h"

static uint32_t spec_ports(uint32_t type)
{
	static const struct {
		uint32_t type, ports;
	} spec[] = {
	        {HV_IO_RTC, 2},  /* MC146818: index, data */
	        {HV_IO_UART, 8}, /* 16550: THR/RBR .. SCR */
	};
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++)
		if (spec[i].type == type)
			return spec[i].ports;
	return 0;
}

void oracle_check_io(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res,
                     const struct hx_obs_view *log)
{
	const struct hv_exit *in = &o->in;
	const struct hv_partition_config *pc = &o->cfg->partitions[in->partition];
	uint64_t q = in->qual;
	uint32_t size = (uint32_t)(q & 7) + 1;
	uint32_t port = (uint32_t)(q >> 16) & 0xffff;
	bool is_in = q & (1u << 3), string = q & (1u << 4);
	oracle_count(o);

	const struct hv_io_device *dev = NULL;
	for (uint32_t i = 0; i < pc->nio && i < HV_MAX_IO_DEVICES; i++) {
		uint32_t n = spec_ports(pc->io[i].type);
		if (n && port >= pc->io[i].base && port + size <= (uint32_t)pc->io[i].base + n)
			dev = &pc->io[i];
	}
	bool emulable = dev && !string && (size == 1 || size == 2 || size == 4) && in->insn_len;

	if (!emulable) {
		bool gp = res->action == HV_ACT_INJECT && res->vector == HV_VEC_GP &&
		          res->has_error_code && res->error_code == 0;
		bool halt = res->action == HV_ACT_HALT;
		if (!gp && !halt)
			oracle_report(o, HV_INV_IO_GUARD,
			              "%s of %u byte%s at port 0x%x (%s) was answered with %s, not "
			              "contained",
			              is_in ? "IN" : "OUT", size, size == 1 ? "" : "s", port,
			              !dev ? "no device of the partition" : "not emulated",
			              hv_action_str(res->action));
		if (log->nentries)
			oracle_report(o, HV_INV_IO_GUARD,
			              "contained port I/O at 0x%x made %u platform call%s", port,
			              log->nentries, log->nentries == 1 ? "" : "s");
		return;
	}
	if (res->action != HV_ACT_RESUME) {
		oracle_report(o, HV_INV_IO_GUARD,
		              "%s at port 0x%x, inside a device of the partition, was answered "
		              "with %s",
		              is_in ? "IN" : "OUT", port, hv_action_str(res->action));
		return;
	}
	for (uint32_t i = 0; i < log->nentries; i++) {
		const struct hx_obs_entry *e = &log->entries[i];
		bool uart_byte = e->kind == HX_OBS_CONSOLE && dev->type == HV_IO_UART && !is_in &&
		                 port == dev->base && e->len == 1 && e->id == in->partition;
		if (!uart_byte)
			oracle_report(o, HV_INV_IO_GUARD,
			              "port I/O at 0x%x made platform call %u of kind %u: a device "
			              "reaches no host resource but the console",
			              port, i, e->kind);
	}
	uint64_t a = in->st.gpr[HV_RAX], b = out->st.gpr[HV_RAX];
	uint64_t width = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
	if (!is_in && a != b)
		oracle_report(o, HV_INV_IO_GUARD, "OUT at port 0x%x changed RAX", port);
	if (is_in && size == 4 && (b >> 32) != 0)
		oracle_report(o, HV_INV_IO_GUARD,
		              "IN EAX at port 0x%x left RAX bits 63:32 set (0x%llx): a 32-bit "
		              "register write zero-extends",
		              port, (unsigned long long)b);
	if (is_in && size < 4 && (a & ~width) != (b & ~width))
		oracle_report(o, HV_INV_IO_GUARD,
		              "IN of %u byte%s at port 0x%x changed RAX bits above the access "
		              "(0x%llx -> 0x%llx)",
		              size, size == 1 ? "" : "s", port, (unsigned long long)a,
		              (unsigned long long)b);
}
