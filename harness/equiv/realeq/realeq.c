#include "realeq.h"

#include <string.h>

_Static_assert((int)HV_CALL_CPUID == (int)HX_OBS_CPUID && (int)HV_CALL_RDMSR == (int)HX_OBS_RDMSR &&
                       (int)HV_CALL_WRMSR == (int)HX_OBS_WRMSR &&
                       (int)HV_CALL_PHYS_READ == (int)HX_OBS_PHYS_READ &&
                       (int)HV_CALL_PHYS_WRITE == (int)HX_OBS_PHYS_WRITE &&
                       (int)HV_CALL_CONSOLE == (int)HX_OBS_CONSOLE &&
                       (int)HV_CALL_EPT_CHANGED == (int)HX_OBS_EPT_CHANGED,
               "the image's call kinds are the observer's");

/* Bytes a call carries in the record's data, in this order: its own (read,
 * written or console bytes), then for a PHYS_WRITE the bytes that were
 * there before. */
static int take(uint64_t *off, uint32_t n, uint32_t data_len, uint32_t *at)
{
	if (n > data_len || *off > data_len - n)
		return -1;
	*at = (uint32_t)*off;
	*off += n;
	return 0;
}

int hx_realeq_decode(const uint8_t *b, uint32_t len, struct hx_realeq_exit *out)
{
	struct hv_ev_record h;
	if (len < sizeof(h))
		return -1;
	memcpy(&h, b, sizeof(h));
	uint64_t calls_len = (uint64_t)h.ncalls * sizeof(struct hv_boot_call);
	if (h.ncalls > HV_BOOT_REC_MAX_CALLS || sizeof(h) + calls_len + h.data_len != len)
		return -1;
	uint64_t off = 0;
	for (uint32_t i = 0; i < h.ncalls; i++) {
		struct hv_boot_call c;
		memcpy(&c, b + sizeof(h) + (uint64_t)i * sizeof(c), sizeof(c));
		if (c.kind < HV_CALL_CPUID || c.kind > HV_CALL_EPT_CHANGED || c.len > 4096 ||
		    c.failed > 1 || c.has_before > 1)
			return -1;
		struct hx_obs_entry *e = &out->entries[i];
		memset(e, 0, sizeof(*e));
		e->kind = c.kind;
		e->failed = c.failed;
		e->id = c.id;
		e->sub = c.sub;
		e->addr = c.addr;
		e->value = c.value;
		memcpy(e->regs, c.regs, sizeof(e->regs));
		bool bytes = c.kind == HV_CALL_CONSOLE || c.kind == HV_CALL_PHYS_WRITE ||
		             (c.kind == HV_CALL_PHYS_READ && !c.failed);
		if (bytes) {
			e->len = c.len;
			if (take(&off, c.len, h.data_len, &e->data) != 0)
				return -1;
		}
		if (c.has_before) {
			if (c.kind != HV_CALL_PHYS_WRITE ||
			    take(&off, c.len, h.data_len, &e->before) != 0)
				return -1;
			e->has_before = 1;
		}
	}
	if (off != h.data_len)
		return -1;
	out->index = h.index;
	out->in = h.in;
	out->res = h.res;
	out->out = h.in;
	out->out.st = h.out;
	out->log = (struct hx_obs_view){out->entries, h.ncalls, h.overflow,
	                                b + sizeof(h) + calls_len, h.data_len};
	return 0;
}
