/* Static validation of a system config: everything the EPT builder, the
 * handlers and the verifier rely on is checked here once, so that nothing
 * later has to trust the config. Checks run in a fixed order and stop at the
 * first problem, which the diag describes (partition, object, the object it
 * collides with, the offending address).
 *
 * Order: system limits, host memory, hypervisor range, channels, then each
 * partition in turn (identity, counts, regions, devices, memberships, MSR
 * rules), finally channel membership counts. Overlap checks compare each
 * object with the objects checked before it, so every collision is reported
 * once, on the later object. All loops are bounded by the HV_MAX_* limits,
 * which are checked before any loop uses a count. */
#include "hv/config.h"

#include "hv/msr.h"

struct error_info {
	const char *msg;
	hv_status status;
};

static const struct error_info error_infos[] = {
        [HV_CFG_OK] = {"ok", HV_OK},
        [HV_CFG_NO_PARTITIONS] = {"no partitions", HV_ERR_INVAL},
        [HV_CFG_TOO_MANY_PARTITIONS] = {"too many partitions", HV_ERR_LIMIT},
        [HV_CFG_TOO_MANY_CHANNELS] = {"too many channels", HV_ERR_LIMIT},
        [HV_CFG_HOST_MEM_SIZE] = {"host memory size is zero, not 4 KiB aligned or above the "
                                  "supported physical address width",
                                  HV_ERR_RANGE},
        [HV_CFG_HV_RANGE] = {"hypervisor range is empty, not 4 KiB aligned or outside host "
                             "memory",
                             HV_ERR_RANGE},
        [HV_CFG_NAME] = {"name is empty, not NUL-terminated or has a character outside "
                         "printable ASCII",
                         HV_ERR_INVAL},
        [HV_CFG_DUPLICATE_NAME] = {"name is used twice", HV_ERR_INVAL},
        [HV_CFG_VCPUS] = {"vCPU count is 0 or above the limit", HV_ERR_LIMIT},
        [HV_CFG_CONTAIN_POLICY] = {"unknown violation policy", HV_ERR_INVAL},
        [HV_CFG_TOO_MANY_REGIONS] = {"too many regions", HV_ERR_LIMIT},
        [HV_CFG_REGION_SIZE] = {"region size is zero or above the 1 TiB limit", HV_ERR_RANGE},
        [HV_CFG_REGION_ALIGN] = {"region GPA, HPA or size is not 4 KiB aligned", HV_ERR_ALIGN},
        [HV_CFG_REGION_GPA_WRAP] = {"region GPA range wraps around", HV_ERR_RANGE},
        [HV_CFG_REGION_HPA_WRAP] = {"region HPA range wraps around", HV_ERR_RANGE},
        [HV_CFG_REGION_GPA_LIMIT] = {"region GPA range goes beyond the 48-bit guest-physical "
                                     "space",
                                     HV_ERR_RANGE},
        [HV_CFG_REGION_HPA_LIMIT] = {"region HPA range goes beyond host memory", HV_ERR_RANGE},
        [HV_CFG_REGION_TYPE] = {"unknown region type", HV_ERR_INVAL},
        [HV_CFG_REGION_PERM] = {"region permissions are empty, lack read (write-only and "
                                "execute-only pages are refused), or have unknown bits",
                                HV_ERR_INVAL},
        [HV_CFG_REGION_MEMTYPE] = {"invalid memory type (MMIO must be UC)", HV_ERR_INVAL},
        [HV_CFG_REGION_HV_OVERLAP] = {"region touches hypervisor memory", HV_ERR_OVERLAP},
        [HV_CFG_REGION_GPA_OVERLAP] = {"region GPA range overlaps another range of the "
                                       "partition",
                                       HV_ERR_OVERLAP},
        [HV_CFG_REGION_HPA_OVERLAP] = {"region HPA range overlaps host memory owned by someone "
                                       "else",
                                       HV_ERR_OVERLAP},
        [HV_CFG_TOO_MANY_DEVICES] = {"too many devices", HV_ERR_LIMIT},
        [HV_CFG_DEVICE_TYPE] = {"unknown device type", HV_ERR_INVAL},
        [HV_CFG_DEVICE_RANGE] = {"device GPA range is empty, not 4 KiB aligned, wraps or goes "
                                 "beyond the guest-physical space",
                                 HV_ERR_RANGE},
        [HV_CFG_DEVICE_OVERLAP] = {"device GPA range overlaps another range of the partition",
                                   HV_ERR_OVERLAP},
        [HV_CFG_CHANNEL_RANGE] = {"channel HPA range is empty, not 4 KiB aligned, too large, "
                                  "wraps or goes beyond host memory",
                                  HV_ERR_RANGE},
        [HV_CFG_CHANNEL_HV_OVERLAP] = {"channel touches hypervisor memory", HV_ERR_OVERLAP},
        [HV_CFG_CHANNEL_OVERLAP] = {"channel HPA range overlaps another channel", HV_ERR_OVERLAP},
        [HV_CFG_CHANNEL_UNUSED] = {"channel has fewer than two members", HV_ERR_INVAL},
        [HV_CFG_TOO_MANY_MEMBERSHIPS] = {"too many channel memberships", HV_ERR_LIMIT},
        [HV_CFG_MEMBER_UNKNOWN_CHANNEL] = {"membership names an unknown channel", HV_ERR_NOTFOUND},
        [HV_CFG_MEMBER_DUPLICATE] = {"partition is a member of the same channel twice",
                                     HV_ERR_INVAL},
        [HV_CFG_MEMBER_PERM] = {"membership permission is neither R nor RW", HV_ERR_INVAL},
        [HV_CFG_MEMBER_RANGE] = {"membership GPA is not 4 KiB aligned, wraps or goes beyond "
                                 "the guest-physical space",
                                 HV_ERR_RANGE},
        [HV_CFG_MEMBER_OVERLAP] = {"membership GPA range overlaps another range of the "
                                   "partition",
                                   HV_ERR_OVERLAP},
        [HV_CFG_TOO_MANY_MSR_RULES] = {"too many MSR rules", HV_ERR_LIMIT},
        [HV_CFG_MSR_MODE] = {"unknown MSR mode", HV_ERR_INVAL},
        [HV_CFG_MSR_DUPLICATE] = {"MSR has two rules", HV_ERR_INVAL},
        [HV_CFG_MSR_PROTECTED] = {"MSR is not on the passthrough allow-list", HV_ERR_PERM},
        [HV_CFG_TOO_MANY_CPUID_RULES] = {"too many CPUID rules", HV_ERR_LIMIT},
        [HV_CFG_POOL_PLACEMENT] = {"EPT page pool is not inside the hypervisor range",
                                   HV_ERR_RANGE},
        [HV_CFG_MSR_PASS_READ_ONLY] = {"MSR may be passed through for reading only (pass-r)",
                                       HV_ERR_PERM},
        [HV_CFG_MSR_INIT] = {"emulated MSR init value is one a WRMSR of it would refuse with "
                             "#GP",
                             HV_ERR_INVAL},
        [HV_CFG_VENDOR] = {"unknown vendor (Intel or AMD)", HV_ERR_INVAL},
        [HV_CFG_TOO_MANY_IO_DEVICES] = {"too many port-I/O devices in partition", HV_ERR_LIMIT},
        [HV_CFG_IO_TYPE] = {"unknown port-I/O device type (rtc or uart)", HV_ERR_INVAL},
        [HV_CFG_IO_RANGE] = {"port-I/O device goes beyond port 0xffff", HV_ERR_RANGE},
        [HV_CFG_IO_OVERLAP] = {"port-I/O device shares a port with another device of the "
                               "partition",
                               HV_ERR_OVERLAP},
        [HV_CFG_IO_INIT] = {"port-I/O device start value is not allowed (an RTC time after "
                            "9999-12-31 23:59:59 UTC, or any value for a UART)",
                            HV_ERR_RANGE},
};
_Static_assert(HV_ARRAY_LEN(error_infos) == HV_CFG_ERROR_COUNT, "every config error has a text");

const char *hv_config_error_str(enum hv_config_error e)
{
	if ((unsigned)e >= HV_CFG_ERROR_COUNT || !error_infos[e].msg)
		return "unknown config error";
	return error_infos[e].msg;
}

/* Object references for diags. */
struct ref {
	int32_t partition;
	int32_t index;
	uint8_t kind;
};

static const struct ref no_ref = {-1, -1, HV_CFG_OBJ_NONE};

static struct ref ref_of(uint32_t partition, uint8_t kind, uint32_t index)
{
	struct ref r = {(int32_t)partition, (int32_t)index, kind};
	return r;
}

static struct ref ref_partition(uint32_t partition)
{
	struct ref r = {(int32_t)partition, -1, HV_CFG_OBJ_NONE};
	return r;
}

/* The other side of a duplicate partition name: a whole partition. */
static struct ref ref_whole(uint32_t partition)
{
	struct ref r = {(int32_t)partition, -1, HV_CFG_OBJ_PARTITION};
	return r;
}

static struct ref ref_channel(uint32_t channel)
{
	struct ref r = {-1, (int32_t)channel, HV_CFG_OBJ_CHANNEL};
	return r;
}

static hv_status fail2(struct hv_config_diag *d, enum hv_config_error e, struct ref what,
                       struct ref other, uint64_t addr)
{
	d->error = e;
	d->partition = what.partition;
	d->index = what.index;
	d->kind = what.kind;
	d->other_partition = other.partition;
	d->other_index = other.index;
	d->other_kind = other.kind;
	d->addr = addr;
	return error_infos[e].status;
}

static hv_status fail(struct hv_config_diag *d, enum hv_config_error e, struct ref what,
                      uint64_t addr)
{
	return fail2(d, e, what, no_ref, addr);
}

static bool aligned(uint64_t v)
{
	return (v & (HV_PAGE_SIZE - 1)) == 0;
}

/* [base, base+size) fits below limit; size > 0 and no wrap assumed. */
static bool below(uint64_t base, uint64_t size, uint64_t limit)
{
	return base <= limit && size <= limit - base;
}

/* Names end up in logs, consoles and reports: printable ASCII only, so a
 * name can never carry a terminal escape or a forged line. */
static bool name_ok(const char *name)
{
	if (name[0] == '\0')
		return false;
	for (uint32_t i = 0; i < HV_NAME_LEN; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '\0')
			return true;
		if (c < 0x20 || c > 0x7e)
			return false;
	}
	return false;
}

/* Both names are known to be NUL-terminated inside HV_NAME_LEN. */
static bool name_eq(const char *a, const char *b)
{
	for (uint32_t i = 0; i < HV_NAME_LEN; i++) {
		if (a[i] != b[i])
			return false;
		if (a[i] == '\0')
			return true;
	}
	return true;
}

static bool memtype_valid(uint8_t mt)
{
	/* EPT memory types (SDM Vol. 3C, 29.3.7): 2, 3 and 7 are reserved. */
	return mt == HV_MT_UC || mt == HV_MT_WC || mt == HV_MT_WT || mt == HV_MT_WP ||
	       mt == HV_MT_WB;
}

static bool perm_valid(uint8_t perm)
{
	if (perm == 0 || (perm & ~(uint8_t)HV_PERM_RWX) != 0)
		return false;
	/* Write without read is an EPT misconfiguration (SDM Vol. 3C,
	 * 29.3.3.1). Execute-only exists on Intel only where
	 * IA32_VMX_EPT_VPID_CAP bit 0 says so (SDM Vol. 3C, 29.3.2), and AMD
	 * nested page tables cannot express it at all (a present entry is
	 * readable, APM Vol. 2, 15.25.5), so every mapping must be readable. */
	return (perm & HV_PERM_R) != 0;
}

static hv_status check_system(const struct hv_system_config *cfg, struct hv_config_diag *d)
{
	if (cfg->vendor != HV_VENDOR_INTEL && cfg->vendor != HV_VENDOR_AMD)
		return fail(d, HV_CFG_VENDOR, no_ref, cfg->vendor);
	if (cfg->npartitions == 0)
		return fail(d, HV_CFG_NO_PARTITIONS, no_ref, 0);
	if (cfg->npartitions > HV_MAX_PARTITIONS)
		return fail(d, HV_CFG_TOO_MANY_PARTITIONS, no_ref, 0);
	if (cfg->nchannels > HV_MAX_CHANNELS)
		return fail(d, HV_CFG_TOO_MANY_CHANNELS, no_ref, 0);
	if (cfg->host_mem_size == 0 || !aligned(cfg->host_mem_size) ||
	    cfg->host_mem_size > HV_HPA_LIMIT)
		return fail(d, HV_CFG_HOST_MEM_SIZE, no_ref, cfg->host_mem_size);
	if (!aligned(cfg->hv_base))
		return fail(d, HV_CFG_HV_RANGE, no_ref, cfg->hv_base);
	if (!aligned(cfg->hv_size) || !hv_range_ok(cfg->hv_base, cfg->hv_size) ||
	    !below(cfg->hv_base, cfg->hv_size, cfg->host_mem_size))
		return fail(d, HV_CFG_HV_RANGE, no_ref, cfg->hv_base);
	return HV_OK;
}

static hv_status check_channels(const struct hv_system_config *cfg, struct hv_config_diag *d)
{
	for (uint32_t c = 0; c < cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		const struct hv_channel_config *ch = &cfg->channels[c];
		if (!name_ok(ch->name))
			return fail(d, HV_CFG_NAME, ref_channel(c), 0);
		for (uint32_t o = 0; o < c; o++)
			if (name_eq(ch->name, cfg->channels[o].name))
				return fail2(d, HV_CFG_DUPLICATE_NAME, ref_channel(c),
				             ref_channel(o), 0);
		if (!aligned(ch->hpa) || !aligned(ch->size) || !hv_range_ok(ch->hpa, ch->size) ||
		    ch->size > HV_MAX_REGION_SIZE || !below(ch->hpa, ch->size, cfg->host_mem_size))
			return fail(d, HV_CFG_CHANNEL_RANGE, ref_channel(c), ch->hpa);
		if (hv_ranges_overlap(ch->hpa, ch->size, cfg->hv_base, cfg->hv_size))
			return fail(d, HV_CFG_CHANNEL_HV_OVERLAP, ref_channel(c), ch->hpa);
		for (uint32_t o = 0; o < c; o++) {
			const struct hv_channel_config *oc = &cfg->channels[o];
			if (hv_ranges_overlap(ch->hpa, ch->size, oc->hpa, oc->size))
				return fail2(d, HV_CFG_CHANNEL_OVERLAP, ref_channel(c),
				             ref_channel(o), ch->hpa);
		}
	}
	return HV_OK;
}

/* Name, vCPUs, policy, and every count, so later loops can trust them. */
static hv_status check_identity(const struct hv_system_config *cfg, uint32_t p,
                                struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	if (!name_ok(pc->name))
		return fail(d, HV_CFG_NAME, ref_partition(p), 0);
	for (uint32_t o = 0; o < p; o++)
		if (name_eq(pc->name, cfg->partitions[o].name))
			return fail2(d, HV_CFG_DUPLICATE_NAME, ref_partition(p), ref_whole(o), 0);
	if (pc->nvcpus == 0 || pc->nvcpus > HV_MAX_VCPUS)
		return fail(d, HV_CFG_VCPUS, ref_partition(p), 0);
	if (pc->contain != HV_CONTAIN_HALT && pc->contain != HV_CONTAIN_INJECT_GP)
		return fail(d, HV_CFG_CONTAIN_POLICY, ref_partition(p), 0);
	if (pc->nregions > HV_MAX_REGIONS)
		return fail(d, HV_CFG_TOO_MANY_REGIONS, ref_partition(p), 0);
	if (pc->ndevices > HV_MAX_DEVICES)
		return fail(d, HV_CFG_TOO_MANY_DEVICES, ref_partition(p), 0);
	if (pc->nchannels > HV_MAX_CHANNELS)
		return fail(d, HV_CFG_TOO_MANY_MEMBERSHIPS, ref_partition(p), 0);
	if (pc->msr.nrules > HV_MAX_MSR_RULES)
		return fail(d, HV_CFG_TOO_MANY_MSR_RULES, ref_partition(p), 0);
	if (pc->cpuid.nrules > HV_MAX_CPUID_RULES)
		return fail(d, HV_CFG_TOO_MANY_CPUID_RULES, ref_partition(p), 0);
	return HV_OK;
}

/* A region on its own: type, size, alignment, limits, perms, memory type,
 * hypervisor memory. */
static hv_status check_region_alone(const struct hv_system_config *cfg, uint32_t p, uint32_t i,
                                    struct hv_config_diag *d)
{
	const struct hv_region *r = &cfg->partitions[p].regions[i];
	struct ref me = ref_of(p, HV_CFG_OBJ_REGION, i);

	if (r->type != HV_REGION_RAM && r->type != HV_REGION_MMIO)
		return fail(d, HV_CFG_REGION_TYPE, me, r->gpa);
	if (r->size == 0 || r->size > HV_MAX_REGION_SIZE)
		return fail(d, HV_CFG_REGION_SIZE, me, r->gpa);
	if (!aligned(r->gpa))
		return fail(d, HV_CFG_REGION_ALIGN, me, r->gpa);
	if (!aligned(r->hpa))
		return fail(d, HV_CFG_REGION_ALIGN, me, r->hpa);
	if (!aligned(r->size))
		return fail(d, HV_CFG_REGION_ALIGN, me, r->size);
	if (!hv_range_ok(r->gpa, r->size))
		return fail(d, HV_CFG_REGION_GPA_WRAP, me, r->gpa);
	if (!hv_range_ok(r->hpa, r->size))
		return fail(d, HV_CFG_REGION_HPA_WRAP, me, r->hpa);
	if (!below(r->gpa, r->size, HV_GPA_LIMIT))
		return fail(d, HV_CFG_REGION_GPA_LIMIT, me, r->gpa);
	if (!below(r->hpa, r->size, cfg->host_mem_size))
		return fail(d, HV_CFG_REGION_HPA_LIMIT, me, r->hpa);
	if (!perm_valid(r->perm))
		return fail(d, HV_CFG_REGION_PERM, me, r->gpa);
	/* Passthrough MMIO must be uncacheable: device registers have side
	 * effects that caching or write combining would reorder or drop. */
	if (!memtype_valid(r->memtype) || (r->type == HV_REGION_MMIO && r->memtype != HV_MT_UC))
		return fail(d, HV_CFG_REGION_MEMTYPE, me, r->gpa);
	if (hv_ranges_overlap(r->hpa, r->size, cfg->hv_base, cfg->hv_size))
		return fail(d, HV_CFG_REGION_HV_OVERLAP, me, r->hpa);
	return HV_OK;
}

/* Host memory is statically partitioned: a region's HPA range may not
 * overlap any channel or any region checked before it, in this partition or
 * another (shared passthrough MMIO included). */
static hv_status check_region_hpa(const struct hv_system_config *cfg, uint32_t p, uint32_t i,
                                  struct hv_config_diag *d)
{
	const struct hv_region *r = &cfg->partitions[p].regions[i];
	struct ref me = ref_of(p, HV_CFG_OBJ_REGION, i);

	for (uint32_t c = 0; c < cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		const struct hv_channel_config *ch = &cfg->channels[c];
		if (hv_ranges_overlap(r->hpa, r->size, ch->hpa, ch->size))
			return fail2(d, HV_CFG_REGION_HPA_OVERLAP, me, ref_channel(c), r->hpa);
	}
	for (uint32_t q = 0; q <= p && q < HV_MAX_PARTITIONS; q++) {
		const struct hv_partition_config *qc = &cfg->partitions[q];
		uint32_t n = q == p ? i : qc->nregions;
		for (uint32_t j = 0; j < n && j < HV_MAX_REGIONS; j++) {
			const struct hv_region *o = &qc->regions[j];
			if (hv_ranges_overlap(r->hpa, r->size, o->hpa, o->size))
				return fail2(d, HV_CFG_REGION_HPA_OVERLAP, me,
				             ref_of(q, HV_CFG_OBJ_REGION, j), r->hpa);
		}
	}
	return HV_OK;
}

/* The GPA ranges a partition has checked so far: regions, devices and
 * memberships (the latter sized by their channel). Each new range is
 * compared with all earlier ones. */
struct gpa_seen {
	uint32_t nregions, ndevices, nmembers;
};

static bool gpa_collides(const struct hv_system_config *cfg, uint32_t p,
                         const struct gpa_seen *seen, uint64_t gpa, uint64_t size,
                         struct ref *other)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t j = 0; j < seen->nregions && j < HV_MAX_REGIONS; j++)
		if (hv_ranges_overlap(gpa, size, pc->regions[j].gpa, pc->regions[j].size)) {
			*other = ref_of(p, HV_CFG_OBJ_REGION, j);
			return true;
		}
	for (uint32_t j = 0; j < seen->ndevices && j < HV_MAX_DEVICES; j++)
		if (hv_ranges_overlap(gpa, size, pc->devices[j].gpa, pc->devices[j].size)) {
			*other = ref_of(p, HV_CFG_OBJ_DEVICE, j);
			return true;
		}
	for (uint32_t j = 0; j < seen->nmembers && j < HV_MAX_CHANNELS; j++) {
		const struct hv_channel_member *m = &pc->channels[j];
		if (hv_ranges_overlap(gpa, size, m->gpa, cfg->channels[m->channel].size)) {
			*other = ref_of(p, HV_CFG_OBJ_MEMBER, j);
			return true;
		}
	}
	return false;
}

static hv_status check_regions(const struct hv_system_config *cfg, uint32_t p,
                               struct gpa_seen *seen, struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t i = 0; i < pc->nregions && i < HV_MAX_REGIONS; i++) {
		const struct hv_region *r = &pc->regions[i];
		hv_status s = check_region_alone(cfg, p, i, d);
		if (s != HV_OK)
			return s;
		struct ref other;
		if (gpa_collides(cfg, p, seen, r->gpa, r->size, &other))
			return fail2(d, HV_CFG_REGION_GPA_OVERLAP, ref_of(p, HV_CFG_OBJ_REGION, i),
			             other, r->gpa);
		s = check_region_hpa(cfg, p, i, d);
		if (s != HV_OK)
			return s;
		seen->nregions = i + 1;
	}
	return HV_OK;
}

static hv_status check_devices(const struct hv_system_config *cfg, uint32_t p,
                               struct gpa_seen *seen, struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t i = 0; i < pc->ndevices && i < HV_MAX_DEVICES; i++) {
		const struct hv_device_config *dev = &pc->devices[i];
		struct ref me = ref_of(p, HV_CFG_OBJ_DEVICE, i);
		if (dev->type != HV_DEV_CONSOLE)
			return fail(d, HV_CFG_DEVICE_TYPE, me, dev->gpa);
		if (!aligned(dev->gpa) || !aligned(dev->size) ||
		    !hv_range_ok(dev->gpa, dev->size) || !below(dev->gpa, dev->size, HV_GPA_LIMIT))
			return fail(d, HV_CFG_DEVICE_RANGE, me, dev->gpa);
		struct ref other;
		if (gpa_collides(cfg, p, seen, dev->gpa, dev->size, &other))
			return fail2(d, HV_CFG_DEVICE_OVERLAP, me, other, dev->gpa);
		seen->ndevices = i + 1;
	}
	return HV_OK;
}

static hv_status check_members(const struct hv_system_config *cfg, uint32_t p,
                               struct gpa_seen *seen, struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	for (uint32_t i = 0; i < pc->nchannels && i < HV_MAX_CHANNELS; i++) {
		const struct hv_channel_member *m = &pc->channels[i];
		struct ref me = ref_of(p, HV_CFG_OBJ_MEMBER, i);
		if (m->channel >= cfg->nchannels)
			return fail(d, HV_CFG_MEMBER_UNKNOWN_CHANNEL, me, m->gpa);
		for (uint32_t j = 0; j < i; j++)
			if (pc->channels[j].channel == m->channel)
				return fail2(d, HV_CFG_MEMBER_DUPLICATE, me,
				             ref_of(p, HV_CFG_OBJ_MEMBER, j), m->gpa);
		if (m->perm != HV_PERM_R && m->perm != HV_PERM_RW)
			return fail(d, HV_CFG_MEMBER_PERM, me, m->gpa);
		uint64_t size = cfg->channels[m->channel].size;
		if (!aligned(m->gpa) || !hv_range_ok(m->gpa, size) ||
		    !below(m->gpa, size, HV_GPA_LIMIT))
			return fail(d, HV_CFG_MEMBER_RANGE, me, m->gpa);
		struct ref other;
		if (gpa_collides(cfg, p, seen, m->gpa, size, &other))
			return fail2(d, HV_CFG_MEMBER_OVERLAP, me, other, m->gpa);
		seen->nmembers = i + 1;
	}
	return HV_OK;
}

static hv_status check_msrs(const struct hv_system_config *cfg, uint32_t p,
                            struct hv_config_diag *d)
{
	const struct hv_msr_policy *pol = &cfg->partitions[p].msr;
	for (uint32_t i = 0; i < pol->nrules && i < HV_MAX_MSR_RULES; i++) {
		const struct hv_msr_rule *r = &pol->rules[i];
		struct ref me = ref_of(p, HV_CFG_OBJ_MSR_RULE, i);
		if (r->mode > HV_MSR_EMULATED)
			return fail(d, HV_CFG_MSR_MODE, me, r->msr);
		for (uint32_t j = 0; j < i; j++)
			if (pol->rules[j].msr == r->msr)
				return fail2(d, HV_CFG_MSR_DUPLICATE, me,
				             ref_of(p, HV_CFG_OBJ_MSR_RULE, j), r->msr);
		/* Passthrough only from the allow-list (hv/msr.h): an MSR the
		 * list does not name may never reach the host. */
		if ((r->mode == HV_MSR_PASS_R || r->mode == HV_MSR_PASS_RW) &&
		    !hv_msr_pass_allowed(r->msr, HV_MSR_PASS_R))
			return fail(d, HV_CFG_MSR_PROTECTED, me, r->msr);
		if (r->mode == HV_MSR_PASS_RW && !hv_msr_pass_allowed(r->msr, HV_MSR_PASS_RW))
			return fail(d, HV_CFG_MSR_PASS_READ_ONLY, me, r->msr);
		/* A guest that reads its MSR and writes the value back must not
		 * fault, so init obeys what a WRMSR of it would be checked
		 * against. */
		if (r->mode == HV_MSR_EMULATED && !hv_msr_init_ok(r->msr, r->init))
			return fail(d, HV_CFG_MSR_INIT, me, r->msr);
	}
	return HV_OK;
}

/* Port-I/O devices: known types, inside the 64 Ki ports, no port shared. */
static hv_status check_io(const struct hv_system_config *cfg, uint32_t p, struct hv_config_diag *d)
{
	const struct hv_partition_config *pc = &cfg->partitions[p];
	if (pc->nio > HV_MAX_IO_DEVICES)
		return fail(d, HV_CFG_TOO_MANY_IO_DEVICES, ref_partition(p), 0);
	for (uint32_t i = 0; i < pc->nio; i++) {
		const struct hv_io_device *io = &pc->io[i];
		struct ref me = ref_of(p, HV_CFG_OBJ_IO, i);
		uint32_t n = hv_io_ports(io->type);
		if (n == 0)
			return fail(d, HV_CFG_IO_TYPE, me, io->type);
		if ((uint32_t)io->base + n > 0x10000u)
			return fail(d, HV_CFG_IO_RANGE, me, io->base);
		if ((io->type == HV_IO_RTC && io->init > HV_RTC_MAX_TIME) ||
		    (io->type == HV_IO_UART && io->init != 0))
			return fail(d, HV_CFG_IO_INIT, me, io->init);
		for (uint32_t j = 0; j < i; j++) {
			const struct hv_io_device *o = &pc->io[j];
			if (hv_ranges_overlap(io->base, n, o->base, hv_io_ports(o->type)))
				return fail2(d, HV_CFG_IO_OVERLAP, me, ref_of(p, HV_CFG_OBJ_IO, j),
				             io->base);
		}
	}
	return HV_OK;
}

static hv_status check_partition(const struct hv_system_config *cfg, uint32_t p,
                                 struct hv_config_diag *d)
{
	struct gpa_seen seen = {0, 0, 0};
	hv_status s = check_identity(cfg, p, d);
	if (s == HV_OK)
		s = check_regions(cfg, p, &seen, d);
	if (s == HV_OK)
		s = check_devices(cfg, p, &seen, d);
	if (s == HV_OK)
		s = check_members(cfg, p, &seen, d);
	if (s == HV_OK)
		s = check_msrs(cfg, p, d);
	if (s == HV_OK)
		s = check_io(cfg, p, d);
	return s;
}

/* A channel is shared memory between partitions: with one member it is
 * just misconfigured private memory, with none it is dead. */
static hv_status check_channel_use(const struct hv_system_config *cfg, struct hv_config_diag *d)
{
	for (uint32_t c = 0; c < cfg->nchannels && c < HV_MAX_CHANNELS; c++) {
		uint32_t members = 0;
		for (uint32_t p = 0; p < cfg->npartitions && p < HV_MAX_PARTITIONS; p++) {
			const struct hv_partition_config *pc = &cfg->partitions[p];
			for (uint32_t i = 0; i < pc->nchannels && i < HV_MAX_CHANNELS; i++)
				if (pc->channels[i].channel == c)
					members++;
		}
		if (members < 2)
			return fail(d, HV_CFG_CHANNEL_UNUSED, ref_channel(c), cfg->channels[c].hpa);
	}
	return HV_OK;
}

hv_status hv_config_validate(const struct hv_system_config *cfg, struct hv_config_diag *diag)
{
	struct hv_config_diag local;
	struct hv_config_diag *d = diag ? diag : &local;
	hv_memset(d, 0, sizeof(*d));
	fail(d, HV_CFG_OK, no_ref, 0);
	if (!cfg)
		return HV_ERR_INVAL;

	hv_status s = check_system(cfg, d);
	if (s == HV_OK)
		s = check_channels(cfg, d);
	for (uint32_t p = 0; s == HV_OK && p < cfg->npartitions && p < HV_MAX_PARTITIONS; p++)
		s = check_partition(cfg, p, d);
	if (s == HV_OK)
		s = check_channel_use(cfg, d);
	return s;
}
