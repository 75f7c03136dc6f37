/* Readable config diags and invariant violations; see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hv/device.h"
#include "hv/ept.h"
#include "hv/msr.h"

/* An append-only text buffer that truncates silently and always stays
 * NUL-terminated. */
struct out {
	char *buf;
	size_t len;
	size_t pos;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	if (o->pos + 1 >= o->len)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	o->pos += (size_t)n;
	if (o->pos >= o->len)
		o->pos = o->len - 1;
}

const char *hx_memtype_name(uint8_t memtype)
{
	switch (memtype) {
	case HV_MT_UC:
		return "uc";
	case HV_MT_WC:
		return "wc";
	case HV_MT_WT:
		return "wt";
	case HV_MT_WP:
		return "wp";
	case HV_MT_WB:
		return "wb";
	default:
		return NULL;
	}
}

const char *hx_page_size_name(uint8_t level)
{
	static const char *const names[] = {
	        [HV_PG_4K] = "4K", [HV_PG_2M] = "2M", [HV_PG_1G] = "1G"};
	return level < HV_ARRAY_LEN(names) ? names[level] : "?";
}

void hx_perm_string(uint8_t perm, char out[4])
{
	out[0] = (perm & HV_PERM_R) ? 'r' : '-';
	out[1] = (perm & HV_PERM_W) ? 'w' : '-';
	out[2] = (perm & HV_PERM_X) ? 'x' : '-';
	out[3] = '\0';
}

/* A name from the config, which may be unterminated or hold control bytes
 * when the config is the one being rejected. */
static void put_name(struct out *o, const char *name)
{
	put(o, "\"");
	for (size_t i = 0; i < HV_NAME_LEN && name[i]; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '"' || c == '\\')
			put(o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			put(o, "\\x%02x", c);
		else
			put(o, "%c", c);
	}
	if (!memchr(name, '\0', HV_NAME_LEN))
		put(o, "...");
	put(o, "\"");
}

/* [base, base+size) as "0xa-0xb", without overflowing on bad input. */
static void put_range(struct out *o, uint64_t base, uint64_t size)
{
	if (size == 0)
		put(o, "0x%llx (empty)", (unsigned long long)base);
	else if (base + (size - 1) < base)
		put(o, "0x%llx+0x%llx (wraps)", (unsigned long long)base, (unsigned long long)size);
	else
		put(o, "0x%llx-0x%llx", (unsigned long long)base,
		    (unsigned long long)(base + (size - 1)));
}

static void put_perm(struct out *o, uint8_t perm)
{
	char s[4];
	hx_perm_string(perm, s);
	if (perm & ~(uint8_t)HV_PERM_RWX)
		put(o, "perm 0x%x", perm);
	else
		put(o, "%s", s);
}

static void put_memtype(struct out *o, uint8_t memtype)
{
	const char *n = hx_memtype_name(memtype);
	if (n)
		put(o, "%s", n);
	else
		put(o, "memtype %u", memtype);
}

static const struct hv_partition_config *partition_at(const struct hv_system_config *cfg, int32_t p)
{
	if (!cfg || p < 0 || p >= HV_MAX_PARTITIONS)
		return NULL;
	return &cfg->partitions[p];
}

static const struct hv_channel_config *channel_at(const struct hv_system_config *cfg, int32_t c)
{
	if (!cfg || c < 0 || c >= HV_MAX_CHANNELS)
		return NULL;
	return &cfg->channels[c];
}

static void put_partition(struct out *o, const struct hv_system_config *cfg, int32_t p)
{
	put(o, "partition %d", p);
	const struct hv_partition_config *pc = partition_at(cfg, p);
	if (pc) {
		put(o, " ");
		put_name(o, pc->name);
	}
}

static void put_channel(struct out *o, const struct hv_system_config *cfg, int32_t c)
{
	put(o, "channel %d", c);
	const struct hv_channel_config *ch = channel_at(cfg, c);
	if (ch) {
		put(o, " ");
		put_name(o, ch->name);
		put(o, " (hpa ");
		put_range(o, ch->hpa, ch->size);
		put(o, ")");
	}
}

static void put_region(struct out *o, const struct hv_region *r)
{
	if (r->type == HV_REGION_RAM)
		put(o, "ram");
	else if (r->type == HV_REGION_MMIO)
		put(o, "mmio");
	else
		put(o, "type %u", r->type);
	put(o, " gpa ");
	put_range(o, r->gpa, r->size);
	put(o, " -> hpa ");
	put_range(o, r->hpa, r->size);
	put(o, ", ");
	put_perm(o, r->perm);
	put(o, " ");
	put_memtype(o, r->memtype);
}

static void put_member(struct out *o, const struct hv_system_config *cfg,
                       const struct hv_channel_member *m)
{
	const struct hv_channel_config *ch =
	        m->channel < cfg->nchannels ? channel_at(cfg, (int32_t)m->channel) : NULL;
	if (ch) {
		put_name(o, ch->name);
		put(o, " at gpa ");
		put_range(o, m->gpa, ch->size);
	} else {
		put(o, "unknown channel %u at gpa 0x%llx", m->channel, (unsigned long long)m->gpa);
	}
	put(o, ", ");
	put_perm(o, m->perm);
}

static const char *msr_mode_name(uint8_t mode)
{
	static const char *const names[] = {[HV_MSR_DENY] = "deny",
	                                    [HV_MSR_PASS_R] = "pass-r",
	                                    [HV_MSR_PASS_RW] = "pass-rw",
	                                    [HV_MSR_EMULATED] = "emulated"};
	return mode < HV_ARRAY_LEN(names) ? names[mode] : NULL;
}

/* One object of a diag: a partition, a thing inside one, or a channel. */
static void put_object(struct out *o, const struct hv_system_config *cfg, int32_t p, uint8_t kind,
                       int32_t i)
{
	if (kind == HV_CFG_OBJ_CHANNEL) {
		put_channel(o, cfg, i);
		return;
	}
	if (p < 0) {
		put(o, "the system");
		return;
	}
	put_partition(o, cfg, p);
	const struct hv_partition_config *pc = partition_at(cfg, p);
	switch (kind) {
	case HV_CFG_OBJ_REGION:
		put(o, " region %d", i);
		if (pc && i >= 0 && i < HV_MAX_REGIONS) {
			put(o, " (");
			put_region(o, &pc->regions[i]);
			put(o, ")");
		}
		break;
	case HV_CFG_OBJ_DEVICE:
		put(o, " device %d", i);
		if (pc && i >= 0 && i < HV_MAX_DEVICES) {
			const struct hv_device_config *d = &pc->devices[i];
			if (d->type == HV_DEV_CONSOLE)
				put(o, " (console");
			else
				put(o, " (type %u", d->type);
			put(o, " gpa ");
			put_range(o, d->gpa, d->size);
			put(o, ")");
		}
		break;
	case HV_CFG_OBJ_MEMBER:
		put(o, " channel membership %d", i);
		if (pc && i >= 0 && i < HV_MAX_CHANNELS) {
			put(o, " (");
			put_member(o, cfg, &pc->channels[i]);
			put(o, ")");
		}
		break;
	case HV_CFG_OBJ_IO:
		put(o, " port-I/O device %d", i);
		if (pc && i >= 0 && i < HV_MAX_IO_DEVICES) {
			const struct hv_io_device *io = &pc->io[i];
			uint32_t n = hv_io_ports(io->type);
			if (n)
				put(o, " (%s ports 0x%x-0x%x)",
				    io->type == HV_IO_RTC ? "rtc" : "uart", io->base,
				    io->base + n - 1);
			else
				put(o, " (type %u)", io->type);
		}
		break;
	case HV_CFG_OBJ_MSR_RULE:
		put(o, " MSR rule %d", i);
		if (pc && i >= 0 && i < HV_MAX_MSR_RULES) {
			const struct hv_msr_rule *r = &pc->msr.rules[i];
			const char *mode = msr_mode_name(r->mode);
			put(o, " (MSR 0x%x, ", r->msr);
			if (mode)
				put(o, "%s)", mode);
			else
				put(o, "mode %u)", r->mode);
		}
		break;
	default:
		break;
	}
}

/* Error-specific numbers that make the reason concrete. */
static void put_detail(struct out *o, const struct hv_system_config *cfg,
                       const struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = partition_at(cfg, d->partition);
	unsigned long long addr = (unsigned long long)d->addr;
	switch (d->error) {
	case HV_CFG_TOO_MANY_PARTITIONS:
		if (cfg)
			put(o, " (%u, at most %u)", cfg->npartitions, HV_MAX_PARTITIONS);
		break;
	case HV_CFG_TOO_MANY_CHANNELS:
		if (cfg)
			put(o, " (%u, at most %u)", cfg->nchannels, HV_MAX_CHANNELS);
		break;
	case HV_CFG_HOST_MEM_SIZE:
		put(o, " (0x%llx; limit 0x%llx)", addr, (unsigned long long)HV_HPA_LIMIT);
		break;
	case HV_CFG_VENDOR:
		put(o, " (vendor %llu; 0 Intel, 1 AMD)", addr);
		break;
	case HV_CFG_HV_RANGE:
		if (cfg) {
			put(o, " (hypervisor ");
			put_range(o, cfg->hv_base, cfg->hv_size);
			put(o, ", host memory 0x0-0x%llx)",
			    (unsigned long long)cfg->host_mem_size - (cfg->host_mem_size != 0));
		}
		break;
	case HV_CFG_VCPUS:
		if (pc)
			put(o, " (%u, allowed 1..%u)", pc->nvcpus, HV_MAX_VCPUS);
		break;
	case HV_CFG_CONTAIN_POLICY:
		if (pc)
			put(o, " (%u)", pc->contain);
		break;
	case HV_CFG_TOO_MANY_REGIONS:
		if (pc)
			put(o, " (%u, at most %u)", pc->nregions, HV_MAX_REGIONS);
		break;
	case HV_CFG_TOO_MANY_DEVICES:
		if (pc)
			put(o, " (%u, at most %u)", pc->ndevices, HV_MAX_DEVICES);
		break;
	case HV_CFG_TOO_MANY_MEMBERSHIPS:
		if (pc)
			put(o, " (%u, at most %u)", pc->nchannels, HV_MAX_CHANNELS);
		break;
	case HV_CFG_TOO_MANY_IO_DEVICES:
		if (pc)
			put(o, " (%u, at most %u)", pc->nio, HV_MAX_IO_DEVICES);
		break;
	case HV_CFG_TOO_MANY_MSR_RULES:
		if (pc)
			put(o, " (%u, at most %u)", pc->msr.nrules, HV_MAX_MSR_RULES);
		break;
	case HV_CFG_TOO_MANY_CPUID_RULES:
		if (pc)
			put(o, " (%u, at most %u)", pc->cpuid.nrules, HV_MAX_CPUID_RULES);
		break;
	case HV_CFG_REGION_ALIGN:
		put(o, " (0x%llx is not a multiple of 0x1000)", addr);
		break;
	case HV_CFG_REGION_SIZE:
		put(o, " (limit 0x%llx)", (unsigned long long)HV_MAX_REGION_SIZE);
		break;
	case HV_CFG_REGION_GPA_LIMIT:
	case HV_CFG_DEVICE_RANGE:
	case HV_CFG_MEMBER_RANGE:
		put(o, " (GPA space ends at 0x%llx)", (unsigned long long)HV_GPA_LIMIT - 1);
		break;
	case HV_CFG_REGION_HPA_LIMIT:
	case HV_CFG_CHANNEL_RANGE:
		if (cfg)
			put(o, " (host memory ends at 0x%llx)",
			    (unsigned long long)cfg->host_mem_size - (cfg->host_mem_size != 0));
		break;
	case HV_CFG_REGION_HV_OVERLAP:
	case HV_CFG_CHANNEL_HV_OVERLAP:
		if (cfg) {
			put(o, " (hypervisor ");
			put_range(o, cfg->hv_base, cfg->hv_size);
			put(o, ")");
		}
		break;
	case HV_CFG_MSR_PROTECTED:
		put(o, " (MSR 0x%llx: %s)", addr, hv_msr_pass_refusal((uint32_t)addr));
		break;
	case HV_CFG_MSR_DUPLICATE:
	case HV_CFG_MSR_MODE:
	case HV_CFG_MSR_PASS_READ_ONLY:
		put(o, " (MSR 0x%llx)", addr);
		break;
	case HV_CFG_MSR_INIT:
		if (pc && d->index >= 0 && d->index < HV_MAX_MSR_RULES)
			put(o, " (MSR 0x%llx, init 0x%llx; handlers/docs/msr.md, \"Reset values\")",
			    addr, (unsigned long long)pc->msr.rules[d->index].init);
		else
			put(o, " (MSR 0x%llx)", addr);
		break;
	case HV_CFG_POOL_PLACEMENT:
		if (cfg) {
			put(o, " (pool at hpa 0x%llx; hypervisor ", addr);
			put_range(o, cfg->hv_base, cfg->hv_size);
			put(o, ")");
		}
		break;
	default:
		break;
	}
}

const char *hx_format_config_diag(const struct hv_system_config *cfg,
                                  const struct hv_config_diag *diag, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	struct out o = {buf, len, 0};
	buf[0] = '\0';
	if (!diag) {
		put(&o, "no diagnostic");
		return buf;
	}
	if (diag->error == HV_CFG_OK) {
		put(&o, "ok");
		return buf;
	}
	bool has_subject = diag->partition >= 0 || diag->kind == HV_CFG_OBJ_CHANNEL;
	if (has_subject) {
		put_object(&o, cfg, diag->partition, diag->kind, diag->index);
		put(&o, ": ");
	}
	put(&o, "%s", hv_config_error_str(diag->error));
	put_detail(&o, cfg, diag);
	if (diag->other_kind != HV_CFG_OBJ_NONE) {
		put(&o, "; conflicts with ");
		put_object(&o, cfg, diag->other_partition, diag->other_kind, diag->other_index);
	}
	return buf;
}

const char *hx_format_violation(const struct hv_system_config *cfg, const struct hv_violation *v,
                                char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	struct out o = {buf, len, 0};
	buf[0] = '\0';
	if (!v) {
		put(&o, "no violation");
		return buf;
	}
	put(&o, "%s: ", hv_invariant_id(v->inv));
	int32_t p = v->partition < HV_MAX_PARTITIONS ? (int32_t)v->partition : -1;
	if (p >= 0 && (!cfg || v->partition < cfg->npartitions))
		put_partition(&o, cfg, p);
	else
		put(&o, "partition %u", v->partition);
	put(&o, " gpa 0x%llx -> hpa 0x%llx: %s", (unsigned long long)v->gpa,
	    (unsigned long long)v->hpa, hv_verify_reason_str(v->reason));
	if (v->entry)
		put(&o, " (entry 0x%llx)", (unsigned long long)v->entry);
	return buf;
}
