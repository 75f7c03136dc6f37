/* hv_config_validate: every error code from a minimal mutation of a valid
 * config (the two-partition mock), with the exact diag (objects, address)
 * and a readable message naming them; then valid edge cases (adjacent
 * ranges, exact limits, maximum counts, the largest region). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "diag.h"
#include "hv/config.h"
#include "hv/msr.h"
#include "mock_config.h"

#define NO (-1)
#define R HV_CFG_OBJ_REGION
#define D HV_CFG_OBJ_DEVICE
#define M HV_CFG_OBJ_MEMBER
#define MR HV_CFG_OBJ_MSR_RULE
#define CH HV_CFG_OBJ_CHANNEL
#define P HV_CFG_OBJ_PARTITION
#define N HV_CFG_OBJ_NONE
#define ANY_ADDR 0xdeadbeefdeadbeefull /* row does not check addr */

typedef void (*mutation)(struct hv_system_config *c);

struct bad_case {
	const char *name;
	mutation mutate;
	enum hv_config_error error;
	int32_t partition;
	uint8_t kind;
	int32_t index;
	int32_t other_partition;
	uint8_t other_kind;
	int32_t other_index;
	uint64_t addr;
	const char *fragment; /* must appear in the formatted diag */
};

static struct hv_region *p0r(struct hv_system_config *c, uint32_t i)
{
	return &c->partitions[0].regions[i];
}

static struct hv_region *add_region(struct hv_system_config *c, uint32_t p, uint64_t gpa,
                                    uint64_t hpa, uint64_t size, uint8_t type)
{
	struct hv_partition_config *pc = &c->partitions[p];
	struct hv_region *r = &pc->regions[pc->nregions++];
	*r = (struct hv_region){.gpa = gpa,
	                        .hpa = hpa,
	                        .size = size,
	                        .type = type,
	                        .perm = type == HV_REGION_RAM ? HV_PERM_RWX : HV_PERM_RW,
	                        .memtype = type == HV_REGION_RAM ? HV_MT_WB : HV_MT_UC};
	return r;
}

static void add_channel(struct hv_system_config *c, const char *name, uint64_t hpa, uint64_t size)
{
	struct hv_channel_config *ch = &c->channels[c->nchannels++];
	memset(ch, 0, sizeof(*ch));
	strncpy(ch->name, name, HV_NAME_LEN - 1);
	ch->hpa = hpa;
	ch->size = size;
}

static void add_member(struct hv_system_config *c, uint32_t p, uint32_t ch, uint64_t gpa,
                       uint8_t perm)
{
	struct hv_partition_config *pc = &c->partitions[p];
	pc->channels[pc->nchannels++] =
	        (struct hv_channel_member){.channel = ch, .perm = perm, .gpa = gpa};
}

#define MUT(fn, ...)                                                                               \
	static void fn(struct hv_system_config *c)                                                 \
	{                                                                                          \
		__VA_ARGS__;                                                                       \
	}

/* system */
MUT(no_partitions, c->npartitions = 0)
MUT(too_many_partitions, c->npartitions = HV_MAX_PARTITIONS + 1)
MUT(too_many_channels, c->nchannels = HV_MAX_CHANNELS + 1)
MUT(host_mem_zero, c->host_mem_size = 0)
MUT(host_mem_unaligned, c->host_mem_size += 0x800)
MUT(host_mem_too_big, c->host_mem_size = HV_HPA_LIMIT + HV_PAGE_SIZE)
MUT(hv_empty, c->hv_size = 0)
MUT(hv_base_unaligned, c->hv_base = 0x10)
MUT(hv_size_unaligned, c->hv_size += 1)
MUT(hv_outside_host, c->hv_base = MOCK_HOST_MEM - HV_PAGE_SIZE)
MUT(hv_wraps, {
	c->hv_base = 0xfffffffffffff000ull;
	c->hv_size = 0x2000;
})
/* identity */
MUT(name_empty, c->partitions[1].name[0] = '\0')
MUT(name_unterminated, memset(c->partitions[1].name, 'a', HV_NAME_LEN))
MUT(name_escape, strcpy(c->partitions[1].name, "\x1b[2J"))
MUT(name_newline, strcpy(c->partitions[1].name, "p1\nok: forged"))
MUT(name_high_byte, strcpy(c->partitions[1].name, "p\xc3\xa9"))
MUT(channel_name_tab, strcpy(c->channels[0].name, "li\tnk"))
MUT(channel_name_empty, c->channels[0].name[0] = '\0')
MUT(name_duplicate, strcpy(c->partitions[1].name, "p0"))
MUT(channel_name_duplicate, add_channel(c, "link", MOCK_CHAN_HPA + 0x10000, 0x1000))
MUT(vcpus_zero, c->partitions[1].nvcpus = 0)
MUT(vcpus_many, c->partitions[1].nvcpus = HV_MAX_VCPUS + 1)
MUT(contain_bad, c->partitions[0].contain = 2)
/* counts */
MUT(too_many_regions, c->partitions[1].nregions = HV_MAX_REGIONS + 1)
MUT(too_many_devices, c->partitions[0].ndevices = HV_MAX_DEVICES + 1)
MUT(too_many_memberships, c->partitions[0].nchannels = HV_MAX_CHANNELS + 1)
MUT(too_many_msr_rules, c->partitions[0].msr.nrules = HV_MAX_MSR_RULES + 1)
MUT(too_many_cpuid_rules, c->partitions[0].cpuid.nrules = HV_MAX_CPUID_RULES + 1)
/* regions on their own */
MUT(region_size_zero, p0r(c, 1)->size = 0)
MUT(region_size_huge, {
	c->host_mem_size = HV_HPA_LIMIT;
	p0r(c, 0)->size = HV_MAX_REGION_SIZE + HV_PAGE_SIZE;
})
MUT(region_gpa_unaligned, p0r(c, 0)->gpa = 0x800)
MUT(region_hpa_unaligned, p0r(c, 0)->hpa += 0x10)
MUT(region_size_unaligned, p0r(c, 0)->size = 0x1800)
MUT(region_gpa_wraps, p0r(c, 0)->gpa = 0xfffffffffffff000ull)
MUT(region_hpa_wraps, p0r(c, 0)->hpa = 0xffffffffffe00000ull)
MUT(region_gpa_limit, {
	p0r(c, 1)->gpa = HV_GPA_LIMIT - HV_PAGE_SIZE;
	p0r(c, 1)->size = 2 * HV_PAGE_SIZE;
	p0r(c, 1)->hpa = MOCK_MMIO_HPA;
})
MUT(region_gpa_far, p0r(c, 1)->gpa = HV_GPA_LIMIT)
MUT(region_hpa_limit, p0r(c, 0)->hpa = MOCK_HOST_MEM - HV_PAGE_SIZE)
MUT(region_type_bad, p0r(c, 1)->type = 2)
MUT(region_perm_none, p0r(c, 0)->perm = 0)
MUT(region_perm_w_only, p0r(c, 0)->perm = HV_PERM_W)
MUT(region_perm_wx, p0r(c, 0)->perm = HV_PERM_W | HV_PERM_X)
MUT(region_perm_x_only, p0r(c, 0)->perm = HV_PERM_X)
MUT(region_perm_unknown, p0r(c, 0)->perm = HV_PERM_RWX | 8)
MUT(region_memtype_2, p0r(c, 0)->memtype = 2)
MUT(region_memtype_3, p0r(c, 0)->memtype = 3)
MUT(region_memtype_7, p0r(c, 0)->memtype = 7)
MUT(region_mmio_wb, p0r(c, 1)->memtype = HV_MT_WB)
MUT(region_mmio_wc, p0r(c, 1)->memtype = HV_MT_WC)
MUT(region_hv_start, p0r(c, 0)->hpa = 0)
MUT(region_hv_tail, p0r(c, 1)->hpa = MOCK_HV_SIZE - HV_PAGE_SIZE)
/* regions against others */
MUT(region_gpa_overlap, add_region(c, 0, 4ull << 20, 52ull << 20, HV_PAGE_SIZE, HV_REGION_RAM))
MUT(region_gpa_overlap_tail,
    add_region(c, 0, MOCK_RAM_SIZE - HV_PAGE_SIZE, 52ull << 20, 0x2000, HV_REGION_RAM))
MUT(region_hpa_other_partition, c->partitions[1].regions[0].hpa = MOCK_P0_RAM_HPA + 0x200000)
MUT(region_hpa_shared_mmio,
    add_region(c, 1, MOCK_MMIO_GPA, MOCK_MMIO_HPA, HV_PAGE_SIZE, HV_REGION_MMIO))
MUT(region_hpa_channel, add_region(c, 1, 0x20000000, MOCK_CHAN_HPA + 0x1000, 0x1000, HV_REGION_RAM))
MUT(region_hpa_same_partition,
    add_region(c, 0, 0x20000000, MOCK_P0_RAM_HPA + 0x1000, 0x1000, HV_REGION_RAM))
/* devices */
MUT(device_type_bad, c->partitions[0].devices[0].type = 9)
MUT(device_size_zero, c->partitions[0].devices[0].size = 0)
MUT(device_gpa_unaligned, c->partitions[0].devices[0].gpa += 8)
MUT(device_size_unaligned, c->partitions[0].devices[0].size = 0x100)
MUT(device_wraps, {
	c->partitions[0].devices[0].gpa = 0xfffffffffffff000ull;
	c->partitions[0].devices[0].size = 0x2000;
})
MUT(device_gpa_limit, c->partitions[0].devices[0].gpa = HV_GPA_LIMIT)
MUT(device_over_ram, c->partitions[0].devices[0].gpa = 0x1000)
MUT(device_over_device, {
	struct hv_partition_config *p = &c->partitions[0];
	p->devices[p->ndevices++] = (struct hv_device_config){
	        .gpa = MOCK_CONSOLE_GPA, .size = HV_PAGE_SIZE, .type = HV_DEV_CONSOLE};
})
/* channels */
MUT(channel_size_zero, c->channels[0].size = 0)
MUT(channel_unaligned, c->channels[0].hpa += 0x80)
MUT(channel_size_unaligned, c->channels[0].size = 0x1001)
MUT(channel_outside_host, c->channels[0].hpa = MOCK_HOST_MEM)
MUT(channel_wraps, c->channels[0].hpa = 0xfffffffffffff000ull)
MUT(channel_too_big, {
	c->host_mem_size = HV_HPA_LIMIT;
	c->channels[0].hpa = 1ull << 44;
	c->channels[0].size = HV_MAX_REGION_SIZE + HV_PAGE_SIZE;
})
MUT(channel_hv, c->channels[0].hpa = MOCK_HV_SIZE - HV_PAGE_SIZE)
MUT(channel_overlap, add_channel(c, "other", MOCK_CHAN_HPA + 0x1000, 0x1000))
MUT(channel_one_member, c->partitions[1].nchannels = 0)
MUT(channel_no_member, {
	c->partitions[0].nchannels = 0;
	c->partitions[1].nchannels = 0;
})
/* memberships */
MUT(member_unknown, c->partitions[1].channels[0].channel = 1)
MUT(member_unknown_huge, c->partitions[1].channels[0].channel = 0xffffffffu)
MUT(member_duplicate, add_member(c, 0, 0, 0x30000000, HV_PERM_R))
MUT(member_perm_rwx, c->partitions[1].channels[0].perm = HV_PERM_RWX)
MUT(member_perm_none, c->partitions[1].channels[0].perm = 0)
MUT(member_perm_w, c->partitions[1].channels[0].perm = HV_PERM_W)
MUT(member_gpa_unaligned, c->partitions[1].channels[0].gpa += 4)
MUT(member_gpa_limit, c->partitions[1].channels[0].gpa = HV_GPA_LIMIT - HV_PAGE_SIZE)
MUT(member_gpa_wraps, c->partitions[1].channels[0].gpa = 0xfffffffffffff000ull)
MUT(member_over_ram, c->partitions[1].channels[0].gpa = MOCK_RAM_SIZE - HV_PAGE_SIZE)
MUT(member_over_device, c->partitions[0].channels[0].gpa = MOCK_CONSOLE_GPA)
MUT(member_over_member, {
	add_channel(c, "second", MOCK_CHAN_HPA + 0x10000, 0x1000);
	add_member(c, 0, 1, MOCK_CHAN_GPA + 0x1000, HV_PERM_RW);
	add_member(c, 1, 1, 0x30000000, HV_PERM_RW);
})
/* MSR rules */
MUT(msr_mode_bad, c->partitions[0].msr.rules[2].mode = 4)
MUT(msr_duplicate, c->partitions[1].msr.rules[3].msr = HV_MSR_TSC_AUX)
MUT(msr_protected_rw, {
	struct hv_msr_policy *m = &c->partitions[1].msr;
	m->rules[m->nrules++] =
	        (struct hv_msr_rule){.msr = HV_MSR_FEATURE_CONTROL, .mode = HV_MSR_PASS_RW};
})
MUT(msr_protected_r, {
	struct hv_msr_policy *m = &c->partitions[1].msr;
	m->rules[m->nrules++] =
	        (struct hv_msr_rule){.msr = HV_MSR_VMX_BASIC, .mode = HV_MSR_PASS_R};
})
MUT(msr_tsc_adjust_rw, {
	struct hv_msr_policy *m = &c->partitions[1].msr;
	m->rules[m->nrules++] = (struct hv_msr_rule){.msr = 0x3b, .mode = HV_MSR_PASS_RW};
})
MUT(msr_tsc_rw, {
	struct hv_msr_policy *m = &c->partitions[1].msr;
	m->rules[m->nrules++] = (struct hv_msr_rule){.msr = HV_MSR_TSC, .mode = HV_MSR_PASS_RW};
})
MUT(msr_efer_init_svme, c->partitions[0].msr.rules[1].init |= HV_EFER_SVME)
MUT(vendor_unknown, c->vendor = 2)
/* port-I/O devices */
static void add_io(struct hv_system_config *c, uint32_t p, uint32_t type, uint16_t base,
                   uint64_t init)
{
	struct hv_partition_config *pc = &c->partitions[p];
	pc->io[pc->nio++] = (struct hv_io_device){.base = base, .type = type, .init = init};
}
MUT(io_too_many, { c->partitions[1].nio = HV_MAX_IO_DEVICES + 1; })
MUT(io_type_bad, add_io(c, 0, 9, 0x80, 0))
MUT(io_type_zero, add_io(c, 0, 0, 0x80, 0))
MUT(io_beyond_ffff, add_io(c, 0, HV_IO_UART, 0xfffc, 0))
MUT(io_overlap, {
	add_io(c, 0, HV_IO_UART, 0x3f8, 0);
	add_io(c, 0, HV_IO_RTC, 0x3ff, 0);
})
MUT(io_rtc_after_9999, add_io(c, 1, HV_IO_RTC, 0x70, HV_RTC_MAX_TIME + 1))
MUT(io_uart_init, add_io(c, 1, HV_IO_UART, 0x2f8, 1))

#define IO HV_CFG_OBJ_IO
static const struct bad_case bad_cases[] = {
        {"5 port-I/O devices", io_too_many, HV_CFG_TOO_MANY_IO_DEVICES, 1, N, NO, NO, N, NO, 0,
         "(5, at most 4)"},
        {"port-I/O type 9", io_type_bad, HV_CFG_IO_TYPE, 0, IO, 0, NO, N, NO, 9,
         "port-I/O device 0 (type 9)"},
        {"port-I/O type 0", io_type_zero, HV_CFG_IO_TYPE, 0, IO, 0, NO, N, NO, 0,
         "unknown port-I/O device type"},
        {"UART past 0xffff", io_beyond_ffff, HV_CFG_IO_RANGE, 0, IO, 0, NO, N, NO, 0xfffc,
         "uart ports 0xfffc-0x10003"},
        {"RTC inside a UART", io_overlap, HV_CFG_IO_OVERLAP, 0, IO, 1, 0, IO, 0, 0x3ff,
         "shares a port"},
        {"RTC after 9999", io_rtc_after_9999, HV_CFG_IO_INIT, 1, IO, 0, NO, N, NO,
         HV_RTC_MAX_TIME + 1, "9999-12-31"},
        {"UART with a start value", io_uart_init, HV_CFG_IO_INIT, 1, IO, 0, NO, N, NO, 1,
         "or any value for a UART"},
        {"no partitions", no_partitions, HV_CFG_NO_PARTITIONS, NO, N, NO, NO, N, NO, 0,
         "no partitions"},
        {"vendor 2", vendor_unknown, HV_CFG_VENDOR, NO, N, NO, NO, N, NO, 2,
         "unknown vendor (Intel or AMD) (vendor 2; 0 Intel, 1 AMD)"},
        {"65 partitions", too_many_partitions, HV_CFG_TOO_MANY_PARTITIONS, NO, N, NO, NO, N, NO, 0,
         "(65, at most 64)"},
        {"17 channels", too_many_channels, HV_CFG_TOO_MANY_CHANNELS, NO, N, NO, NO, N, NO, 0,
         "(17, at most 16)"},
        {"host memory 0", host_mem_zero, HV_CFG_HOST_MEM_SIZE, NO, N, NO, NO, N, NO, 0,
         "host memory size"},
        {"host memory unaligned", host_mem_unaligned, HV_CFG_HOST_MEM_SIZE, NO, N, NO, NO, N, NO,
         MOCK_HOST_MEM + 0x800, "0x4000800"},
        {"host memory beyond 46 bits", host_mem_too_big, HV_CFG_HOST_MEM_SIZE, NO, N, NO, NO, N, NO,
         HV_HPA_LIMIT + HV_PAGE_SIZE, "limit 0x400000000000"},
        {"hypervisor empty", hv_empty, HV_CFG_HV_RANGE, NO, N, NO, NO, N, NO, 0, "(empty)"},
        {"hypervisor base unaligned", hv_base_unaligned, HV_CFG_HV_RANGE, NO, N, NO, NO, N, NO,
         0x10, "hypervisor range"},
        {"hypervisor size unaligned", hv_size_unaligned, HV_CFG_HV_RANGE, NO, N, NO, NO, N, NO, 0,
         "hypervisor 0x0-0x400000"},
        {"hypervisor beyond host", hv_outside_host, HV_CFG_HV_RANGE, NO, N, NO, NO, N, NO,
         MOCK_HOST_MEM - HV_PAGE_SIZE, "host memory 0x0-0x3ffffff"},
        {"hypervisor wraps", hv_wraps, HV_CFG_HV_RANGE, NO, N, NO, NO, N, NO, 0xfffffffffffff000ull,
         "(wraps)"},

        {"partition name empty", name_empty, HV_CFG_NAME, 1, N, NO, NO, N, NO, 0,
         "partition 1 \"\": name is empty"},
        {"partition name unterminated", name_unterminated, HV_CFG_NAME, 1, N, NO, NO, N, NO, 0,
         "aaaa...\""},
        {"partition name with ESC", name_escape, HV_CFG_NAME, 1, N, NO, NO, N, NO, 0,
         "partition 1 \"\\x1b[2J\": name is empty, not NUL-terminated or has a character "
         "outside printable ASCII"},
        {"partition name with a newline", name_newline, HV_CFG_NAME, 1, N, NO, NO, N, NO, 0,
         "\"p1\\x0aok: forged\""},
        {"partition name with a non-ASCII byte", name_high_byte, HV_CFG_NAME, 1, N, NO, NO, N, NO,
         0, "\"p\\xc3\\xa9\""},
        {"channel name with a TAB", channel_name_tab, HV_CFG_NAME, NO, CH, 0, NO, N, NO, 0,
         "channel 0 \"li\\x09nk\""},
        {"channel name empty", channel_name_empty, HV_CFG_NAME, NO, CH, 0, NO, N, NO, 0,
         "channel 0 \"\""},
        {"partition name twice", name_duplicate, HV_CFG_DUPLICATE_NAME, 1, N, NO, 0, P, NO, 0,
         "conflicts with partition 0 \"p0\""},
        {"channel name twice", channel_name_duplicate, HV_CFG_DUPLICATE_NAME, NO, CH, 1, NO, CH, 0,
         0, "channel 1 \"link\""},
        {"0 vCPUs", vcpus_zero, HV_CFG_VCPUS, 1, N, NO, NO, N, NO, 0, "(0, allowed 1..8)"},
        {"9 vCPUs", vcpus_many, HV_CFG_VCPUS, 1, N, NO, NO, N, NO, 0, "(9, allowed 1..8)"},
        {"violation policy 2", contain_bad, HV_CFG_CONTAIN_POLICY, 0, N, NO, NO, N, NO, 0,
         "unknown violation policy (2)"},

        {"65 regions", too_many_regions, HV_CFG_TOO_MANY_REGIONS, 1, N, NO, NO, N, NO, 0,
         "partition 1 \"p1\": too many regions (65, at most 64)"},
        {"5 devices", too_many_devices, HV_CFG_TOO_MANY_DEVICES, 0, N, NO, NO, N, NO, 0,
         "(5, at most 4)"},
        {"17 memberships", too_many_memberships, HV_CFG_TOO_MANY_MEMBERSHIPS, 0, N, NO, NO, N, NO,
         0, "(17, at most 16)"},
        {"49 MSR rules", too_many_msr_rules, HV_CFG_TOO_MANY_MSR_RULES, 0, N, NO, NO, N, NO, 0,
         "(49, at most 48)"},
        {"17 CPUID rules", too_many_cpuid_rules, HV_CFG_TOO_MANY_CPUID_RULES, 0, N, NO, NO, N, NO,
         0, "(17, at most 16)"},

        {"region size 0", region_size_zero, HV_CFG_REGION_SIZE, 0, R, 1, NO, N, NO, MOCK_MMIO_GPA,
         "partition 0 \"p0\" region 1 (mmio gpa 0xfe000000 (empty)"},
        {"region size 1 TiB + 4 KiB", region_size_huge, HV_CFG_REGION_SIZE, 0, R, 0, NO, N, NO, 0,
         "limit 0x10000000000"},
        {"region gpa unaligned", region_gpa_unaligned, HV_CFG_REGION_ALIGN, 0, R, 0, NO, N, NO,
         0x800, "(0x800 is not a multiple of 0x1000)"},
        {"region hpa unaligned", region_hpa_unaligned, HV_CFG_REGION_ALIGN, 0, R, 0, NO, N, NO,
         MOCK_P0_RAM_HPA + 0x10, "0x800010 is not"},
        {"region size unaligned", region_size_unaligned, HV_CFG_REGION_ALIGN, 0, R, 0, NO, N, NO,
         0x1800, "0x1800 is not"},
        {"region gpa wraps", region_gpa_wraps, HV_CFG_REGION_GPA_WRAP, 0, R, 0, NO, N, NO,
         0xfffffffffffff000ull, "gpa 0xfffffffffffff000+0x800000 (wraps)"},
        {"region hpa wraps", region_hpa_wraps, HV_CFG_REGION_HPA_WRAP, 0, R, 0, NO, N, NO,
         0xffffffffffe00000ull, "HPA range wraps"},
        {"region beyond 48-bit GPA", region_gpa_limit, HV_CFG_REGION_GPA_LIMIT, 0, R, 1, NO, N, NO,
         HV_GPA_LIMIT - HV_PAGE_SIZE, "GPA space ends at 0xffffffffffff"},
        {"region at 2^48", region_gpa_far, HV_CFG_REGION_GPA_LIMIT, 0, R, 1, NO, N, NO,
         HV_GPA_LIMIT, "48-bit"},
        {"region beyond host memory", region_hpa_limit, HV_CFG_REGION_HPA_LIMIT, 0, R, 0, NO, N, NO,
         MOCK_HOST_MEM - HV_PAGE_SIZE, "host memory ends at 0x3ffffff"},
        {"region type 2", region_type_bad, HV_CFG_REGION_TYPE, 0, R, 1, NO, N, NO, MOCK_MMIO_GPA,
         "region 1 (type 2 gpa"},
        {"region no access", region_perm_none, HV_CFG_REGION_PERM, 0, R, 0, NO, N, NO, 0, "---"},
        {"region write-only", region_perm_w_only, HV_CFG_REGION_PERM, 0, R, 0, NO, N, NO, 0, "-w-"},
        {"region write+execute", region_perm_wx, HV_CFG_REGION_PERM, 0, R, 0, NO, N, NO, 0, "-wx"},
        {"region execute-only", region_perm_x_only, HV_CFG_REGION_PERM, 0, R, 0, NO, N, NO, 0,
         "--x"},
        {"region unknown perm bit", region_perm_unknown, HV_CFG_REGION_PERM, 0, R, 0, NO, N, NO, 0,
         "perm 0xf"},
        {"region memtype 2", region_memtype_2, HV_CFG_REGION_MEMTYPE, 0, R, 0, NO, N, NO, 0,
         "memtype 2"},
        {"region memtype 3", region_memtype_3, HV_CFG_REGION_MEMTYPE, 0, R, 0, NO, N, NO, 0,
         "memtype 3"},
        {"region memtype 7", region_memtype_7, HV_CFG_REGION_MEMTYPE, 0, R, 0, NO, N, NO, 0,
         "memtype 7"},
        {"mmio write-back", region_mmio_wb, HV_CFG_REGION_MEMTYPE, 0, R, 1, NO, N, NO,
         MOCK_MMIO_GPA, "rw- wb"},
        {"mmio write-combining", region_mmio_wc, HV_CFG_REGION_MEMTYPE, 0, R, 1, NO, N, NO,
         MOCK_MMIO_GPA, "MMIO must be UC"},
        {"region at hypervisor start", region_hv_start, HV_CFG_REGION_HV_OVERLAP, 0, R, 0, NO, N,
         NO, 0, "(hypervisor 0x0-0x3fffff)"},
        {"region on hypervisor tail", region_hv_tail, HV_CFG_REGION_HV_OVERLAP, 0, R, 1, NO, N, NO,
         MOCK_HV_SIZE - HV_PAGE_SIZE, "touches hypervisor memory"},
        {"region gpa inside ram", region_gpa_overlap, HV_CFG_REGION_GPA_OVERLAP, 0, R, 2, 0, R, 0,
         4ull << 20, "conflicts with partition 0 \"p0\" region 0 (ram gpa 0x0-0x7fffff"},
        {"region gpa across ram end", region_gpa_overlap_tail, HV_CFG_REGION_GPA_OVERLAP, 0, R, 2,
         0, R, 0, MOCK_RAM_SIZE - HV_PAGE_SIZE, "region 2"},
        {"ram of another partition", region_hpa_other_partition, HV_CFG_REGION_HPA_OVERLAP, 1, R, 0,
         0, R, 0, MOCK_P0_RAM_HPA + 0x200000,
         "partition 1 \"p1\" region 0 (ram gpa 0x0-0x7fffff -> hpa 0xa00000-0x11fffff, rwx wb): "
         "region HPA range overlaps host memory owned by someone else; conflicts with partition 0 "
         "\"p0\" region 0"},
        {"passthrough mmio shared", region_hpa_shared_mmio, HV_CFG_REGION_HPA_OVERLAP, 1, R, 1, 0,
         R, 1, MOCK_MMIO_HPA, "partition 0 \"p0\" region 1 (mmio"},
        {"ram on a channel", region_hpa_channel, HV_CFG_REGION_HPA_OVERLAP, 1, R, 1, NO, CH, 0,
         MOCK_CHAN_HPA + 0x1000, "conflicts with channel 0 \"link\" (hpa 0x2800000-0x2801fff)"},
        {"aliasing ram in one partition", region_hpa_same_partition, HV_CFG_REGION_HPA_OVERLAP, 0,
         R, 2, 0, R, 0, MOCK_P0_RAM_HPA + 0x1000, "region 2"},

        {"device type 9", device_type_bad, HV_CFG_DEVICE_TYPE, 0, D, 0, NO, N, NO, MOCK_CONSOLE_GPA,
         "device 0 (type 9"},
        {"device size 0", device_size_zero, HV_CFG_DEVICE_RANGE, 0, D, 0, NO, N, NO,
         MOCK_CONSOLE_GPA, "(empty)"},
        {"device gpa unaligned", device_gpa_unaligned, HV_CFG_DEVICE_RANGE, 0, D, 0, NO, N, NO,
         MOCK_CONSOLE_GPA + 8, "console gpa 0xfed00008"},
        {"device size unaligned", device_size_unaligned, HV_CFG_DEVICE_RANGE, 0, D, 0, NO, N, NO,
         MOCK_CONSOLE_GPA, "device GPA range"},
        {"device wraps", device_wraps, HV_CFG_DEVICE_RANGE, 0, D, 0, NO, N, NO,
         0xfffffffffffff000ull, "(wraps)"},
        {"device beyond 48 bits", device_gpa_limit, HV_CFG_DEVICE_RANGE, 0, D, 0, NO, N, NO,
         HV_GPA_LIMIT, "GPA space ends"},
        {"device inside ram", device_over_ram, HV_CFG_DEVICE_OVERLAP, 0, D, 0, 0, R, 0, 0x1000,
         "conflicts with partition 0 \"p0\" region 0"},
        {"two devices at one gpa", device_over_device, HV_CFG_DEVICE_OVERLAP, 0, D, 1, 0, D, 0,
         MOCK_CONSOLE_GPA, "conflicts with partition 0 \"p0\" device 0 (console"},

        {"channel size 0", channel_size_zero, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N, NO,
         MOCK_CHAN_HPA, "channel 0 \"link\" (hpa 0x2800000 (empty))"},
        {"channel unaligned", channel_unaligned, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N, NO,
         MOCK_CHAN_HPA + 0x80, "not 4 KiB aligned"},
        {"channel size unaligned", channel_size_unaligned, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N,
         NO, MOCK_CHAN_HPA, "channel HPA range"},
        {"channel beyond host", channel_outside_host, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N, NO,
         MOCK_HOST_MEM, "host memory ends at 0x3ffffff"},
        {"channel wraps", channel_wraps, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N, NO,
         0xfffffffffffff000ull, "(wraps)"},
        {"channel over 1 TiB", channel_too_big, HV_CFG_CHANNEL_RANGE, NO, CH, 0, NO, N, NO,
         1ull << 44, "too large"},
        {"channel in hypervisor", channel_hv, HV_CFG_CHANNEL_HV_OVERLAP, NO, CH, 0, NO, N, NO,
         MOCK_HV_SIZE - HV_PAGE_SIZE,
         "channel touches hypervisor memory (hypervisor 0x0-0x3fffff)"},
        {"channels overlap", channel_overlap, HV_CFG_CHANNEL_OVERLAP, NO, CH, 1, NO, CH, 0,
         MOCK_CHAN_HPA + 0x1000, "channel 1 \"other\""},
        {"channel with one member", channel_one_member, HV_CFG_CHANNEL_UNUSED, NO, CH, 0, NO, N, NO,
         MOCK_CHAN_HPA, "fewer than two members"},
        {"channel with no member", channel_no_member, HV_CFG_CHANNEL_UNUSED, NO, CH, 0, NO, N, NO,
         MOCK_CHAN_HPA, "channel 0 \"link\""},

        {"member of channel 1 of 1", member_unknown, HV_CFG_MEMBER_UNKNOWN_CHANNEL, 1, M, 0, NO, N,
         NO, MOCK_CHAN_GPA, "unknown channel 1"},
        {"member of channel 2^32-1", member_unknown_huge, HV_CFG_MEMBER_UNKNOWN_CHANNEL, 1, M, 0,
         NO, N, NO, MOCK_CHAN_GPA, "unknown channel 4294967295"},
        {"member twice", member_duplicate, HV_CFG_MEMBER_DUPLICATE, 0, M, 1, 0, M, 0, 0x30000000,
         "channel membership 1 (\"link\" at gpa 0x30000000-0x30001fff, r--)"},
        {"member rwx", member_perm_rwx, HV_CFG_MEMBER_PERM, 1, M, 0, NO, N, NO, MOCK_CHAN_GPA,
         "rwx): membership permission"},
        {"member no access", member_perm_none, HV_CFG_MEMBER_PERM, 1, M, 0, NO, N, NO,
         MOCK_CHAN_GPA, "---"},
        {"member write-only", member_perm_w, HV_CFG_MEMBER_PERM, 1, M, 0, NO, N, NO, MOCK_CHAN_GPA,
         "-w-"},
        {"member gpa unaligned", member_gpa_unaligned, HV_CFG_MEMBER_RANGE, 1, M, 0, NO, N, NO,
         MOCK_CHAN_GPA + 4, "at gpa 0x10000004"},
        {"member beyond 48 bits", member_gpa_limit, HV_CFG_MEMBER_RANGE, 1, M, 0, NO, N, NO,
         HV_GPA_LIMIT - HV_PAGE_SIZE, "GPA space ends"},
        {"member wraps", member_gpa_wraps, HV_CFG_MEMBER_RANGE, 1, M, 0, NO, N, NO,
         0xfffffffffffff000ull, "(wraps)"},
        {"member over ram", member_over_ram, HV_CFG_MEMBER_OVERLAP, 1, M, 0, 1, R, 0,
         MOCK_RAM_SIZE - HV_PAGE_SIZE, "conflicts with partition 1 \"p1\" region 0"},
        {"member over device", member_over_device, HV_CFG_MEMBER_OVERLAP, 0, M, 0, 0, D, 0,
         MOCK_CONSOLE_GPA, "device 0 (console gpa 0xfed00000-0xfed00fff)"},
        {"member over member", member_over_member, HV_CFG_MEMBER_OVERLAP, 0, M, 1, 0, M, 0,
         MOCK_CHAN_GPA + 0x1000, "channel membership 0 (\"link\""},

        {"MSR mode 4", msr_mode_bad, HV_CFG_MSR_MODE, 0, MR, 2, NO, N, NO, HV_MSR_PAT,
         "MSR rule 2 (MSR 0x277, mode 4)"},
        {"MSR twice", msr_duplicate, HV_CFG_MSR_DUPLICATE, 1, MR, 3, 1, MR, 0, HV_MSR_TSC_AUX,
         "conflicts with partition 1 \"p1\" MSR rule 0 (MSR 0xc0000103, emulated)"},
        {"feature control pass-rw", msr_protected_rw, HV_CFG_MSR_PROTECTED, 1, MR, 7, NO, N, NO,
         HV_MSR_FEATURE_CONTROL, "(MSR 0x3a, pass-rw)"},
        {"VMX basic pass-r", msr_protected_r, HV_CFG_MSR_PROTECTED, 1, MR, 7, NO, N, NO,
         HV_MSR_VMX_BASIC, "MSR is not on the passthrough allow-list (MSR 0x480: VMX"},
        {"TSC_ADJUST pass-rw", msr_tsc_adjust_rw, HV_CFG_MSR_PROTECTED, 1, MR, 7, NO, N, NO, 0x3b,
         "(MSR 0x3b: IA32_TSC_ADJUST moves the TSC the hypervisor and every partition share)"},
        {"TSC pass-rw", msr_tsc_rw, HV_CFG_MSR_PASS_READ_ONLY, 1, MR, 7, NO, N, NO, HV_MSR_TSC,
         "MSR may be passed through for reading only (pass-r) (MSR 0x10)"},
        {"EFER init with SVME", msr_efer_init_svme, HV_CFG_MSR_INIT, 0, MR, 1, NO, N, NO,
         HV_MSR_EFER,
         "init value is one a WRMSR of it would refuse with #GP (MSR 0xc0000080, init 0x1500;"},
};

static struct hv_system_config *new_two(void)
{
	struct hv_system_config *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	mock_config_two(c);
	return c;
}

static void test_every_error_has_a_case(void **state)
{
	(void)state;
	bool covered[HV_CFG_ERROR_COUNT] = {false};
	for (size_t i = 0; i < HV_ARRAY_LEN(bad_cases); i++)
		covered[bad_cases[i].error] = true;
	/* Not a config property: hv_system_init reports it (test_verify.c,
	 * test_pool_outside_hypervisor). */
	covered[HV_CFG_POOL_PLACEMENT] = true;
	for (int e = HV_CFG_OK + 1; e < HV_CFG_ERROR_COUNT; e++) {
		if (!covered[e])
			fail_msg("no test case produces %s",
			         hv_config_error_str((enum hv_config_error)e));
	}
}

static void test_bad_configs(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	char text[1024];
	for (size_t i = 0; i < HV_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		mock_config_two(c);
		bc->mutate(c);
		struct hv_config_diag d;
		memset(&d, 0x5a, sizeof(d));
		hv_status s = hv_config_validate(c, &d);
		hx_format_config_diag(c, &d, text, sizeof(text));
		if (s == HV_OK || d.error != bc->error || d.partition != bc->partition ||
		    d.kind != bc->kind || d.index != bc->index ||
		    d.other_partition != bc->other_partition || d.other_kind != bc->other_kind ||
		    d.other_index != bc->other_index ||
		    (bc->addr != ANY_ADDR && d.addr != bc->addr))
			fail_msg("%s: got status %s error \"%s\" p%d k%u i%d / p%d k%u i%d addr "
			         "0x%llx; "
			         "want \"%s\" p%d k%u i%d / p%d k%u i%d addr 0x%llx",
			         bc->name, hv_status_str(s), hv_config_error_str(d.error),
			         d.partition, d.kind, d.index, d.other_partition, d.other_kind,
			         d.other_index, (unsigned long long)d.addr,
			         hv_config_error_str(bc->error), bc->partition, bc->kind, bc->index,
			         bc->other_partition, bc->other_kind, bc->other_index,
			         (unsigned long long)bc->addr);
		if (!strstr(text, bc->fragment))
			fail_msg("%s: message \"%s\" lacks \"%s\"", bc->name, text, bc->fragment);
		/* The diag is optional and the verdict must not depend on it. */
		assert_int_equal(hv_config_validate(c, NULL), s);
	}
	free(c);
}

static void test_status_classes(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	struct {
		mutation m;
		hv_status want;
	} rows[] = {
	        {region_gpa_unaligned, HV_ERR_ALIGN}, {region_hpa_other_partition, HV_ERR_OVERLAP},
	        {too_many_regions, HV_ERR_LIMIT},     {region_hpa_limit, HV_ERR_RANGE},
	        {member_unknown, HV_ERR_NOTFOUND},    {msr_protected_rw, HV_ERR_PERM},
	        {name_empty, HV_ERR_INVAL},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		mock_config_two(c);
		rows[i].m(c);
		assert_int_equal(hv_config_validate(c, NULL), rows[i].want);
	}
	free(c);
}

static void test_error_strings(void **state)
{
	(void)state;
	for (int a = 0; a < HV_CFG_ERROR_COUNT; a++) {
		const char *sa = hv_config_error_str((enum hv_config_error)a);
		assert_non_null(sa);
		assert_true(strlen(sa) > 1);
		for (int b = 0; b < a; b++)
			assert_string_not_equal(sa, hv_config_error_str((enum hv_config_error)b));
	}
	assert_string_equal(hv_config_error_str(HV_CFG_ERROR_COUNT), "unknown config error");
	assert_string_equal(hv_config_error_str((enum hv_config_error) - 1),
	                    "unknown config error");
}

static void test_null_config(void **state)
{
	(void)state;
	struct hv_config_diag d;
	assert_int_equal(hv_config_validate(NULL, &d), HV_ERR_INVAL);
	assert_int_equal(hv_config_validate(NULL, NULL), HV_ERR_INVAL);
}

/* ---- valid configs ---- */

static void expect_valid(const struct hv_system_config *c, const char *what)
{
	struct hv_config_diag d;
	char text[1024];
	if (hv_config_validate(c, &d) != HV_OK)
		fail_msg("%s: rejected: %s", what,
		         hx_format_config_diag(c, &d, text, sizeof(text)));
	assert_int_equal(d.error, HV_CFG_OK);
	assert_int_equal(d.partition, -1);
	assert_int_equal(d.index, -1);
}

static void test_mock_configs_valid(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	expect_valid(c, "mock two");
	mock_config_one(c);
	expect_valid(c, "mock one");
	free(c);
}

MUT(ok_adjacent_gpa_and_hpa,
    add_region(c, 0, MOCK_RAM_SIZE, MOCK_P0_RAM_HPA + MOCK_RAM_SIZE, 0x1000, HV_REGION_RAM))
MUT(ok_right_after_hypervisor, p0r(c, 1)->hpa = MOCK_HV_SIZE)
MUT(ok_right_before_hypervisor, {
	c->hv_base = 60ull << 20;
	p0r(c, 1)->hpa = c->hv_base - HV_PAGE_SIZE;
})
MUT(ok_ends_at_host_end, p0r(c, 1)->hpa = MOCK_HOST_MEM - HV_PAGE_SIZE)
MUT(ok_ends_at_gpa_limit, p0r(c, 1)->gpa = HV_GPA_LIMIT - HV_PAGE_SIZE)
MUT(ok_device_adjacent_ram, c->partitions[0].devices[0].gpa = MOCK_RAM_SIZE)
MUT(ok_member_adjacent_ram, c->partitions[1].channels[0].gpa = MOCK_RAM_SIZE)
MUT(ok_same_gpa_other_partition,
    add_region(c, 1, MOCK_MMIO_GPA, 52ull << 20, 0x1000, HV_REGION_MMIO))
MUT(ok_read_only, p0r(c, 0)->perm = HV_PERM_R)
MUT(ok_ram_uc, p0r(c, 0)->memtype = HV_MT_UC)
MUT(ok_ram_wc, p0r(c, 0)->memtype = HV_MT_WC)
MUT(ok_ram_wt, p0r(c, 0)->memtype = HV_MT_WT)
MUT(ok_ram_wp, p0r(c, 0)->memtype = HV_MT_WP)
MUT(ok_inject_gp, c->partitions[1].contain = HV_CONTAIN_INJECT_GP)
MUT(ok_max_vcpus, c->partitions[1].nvcpus = HV_MAX_VCPUS)
MUT(ok_hypervisor_at_top, {
	c->hv_base = MOCK_HOST_MEM - MOCK_HV_SIZE;
	c->host_mem_size = MOCK_HOST_MEM;
})
MUT(ok_no_regions, c->partitions[1].nregions = 0)
MUT(ok_name_31_chars, memset(c->partitions[1].name, 'z', HV_NAME_LEN - 1))
MUT(ok_emulated_protected_msr, {
	struct hv_msr_policy *m = &c->partitions[1].msr;
	m->rules[m->nrules++] =
	        (struct hv_msr_rule){.msr = HV_MSR_FEATURE_CONTROL, .mode = HV_MSR_EMULATED};
	m->rules[m->nrules++] = (struct hv_msr_rule){.msr = HV_MSR_VMX_BASIC, .mode = HV_MSR_DENY};
})
MUT(ok_three_members, {
	c->npartitions = 3;
	struct hv_partition_config *p2 = &c->partitions[2];
	memset(p2, 0, sizeof(*p2));
	strcpy(p2->name, "p2");
	p2->nvcpus = 1;
	add_region(c, 2, 0, 52ull << 20, 0x100000, HV_REGION_RAM);
	add_member(c, 2, 0, 0x40000000, HV_PERM_R);
})
MUT(ok_host_mem_at_limit, c->host_mem_size = HV_HPA_LIMIT)

static const struct {
	const char *name;
	mutation mutate;
} ok_cases[] = {
        {"adjacent GPA and HPA", ok_adjacent_gpa_and_hpa},
        {"right after hypervisor", ok_right_after_hypervisor},
        {"right before hypervisor", ok_right_before_hypervisor},
        {"ends at host memory end", ok_ends_at_host_end},
        {"ends at 2^48", ok_ends_at_gpa_limit},
        {"device adjacent to RAM", ok_device_adjacent_ram},
        {"membership adjacent to RAM", ok_member_adjacent_ram},
        {"same GPA in two partitions", ok_same_gpa_other_partition},
        {"read-only", ok_read_only},
        {"RAM UC", ok_ram_uc},
        {"RAM WC", ok_ram_wc},
        {"RAM WT", ok_ram_wt},
        {"RAM WP", ok_ram_wp},
        {"inject #GP", ok_inject_gp},
        {"8 vCPUs", ok_max_vcpus},
        {"hypervisor at top of memory", ok_hypervisor_at_top},
        {"partition without regions", ok_no_regions},
        {"31-character name", ok_name_31_chars},
        {"protected MSR emulated/denied", ok_emulated_protected_msr},
        {"three members", ok_three_members},
        {"host memory 2^46", ok_host_mem_at_limit},
};

static void test_valid_edges(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	for (size_t i = 0; i < HV_ARRAY_LEN(ok_cases); i++) {
		mock_config_two(c);
		ok_cases[i].mutate(c);
		expect_valid(c, ok_cases[i].name);
	}
	free(c);
}

static void test_largest_region(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	c->host_mem_size = 4 * HV_MAX_REGION_SIZE;
	struct hv_region *r = p0r(c, 0);
	r->gpa = HV_GPA_LIMIT - HV_MAX_REGION_SIZE;
	r->hpa = 2 * HV_MAX_REGION_SIZE;
	r->size = HV_MAX_REGION_SIZE;
	expect_valid(c, "1 TiB region at the top of GPA space");
	/* And one page more is refused with the size rule. */
	r->size += HV_PAGE_SIZE;
	r->gpa -= HV_PAGE_SIZE;
	struct hv_config_diag d;
	assert_int_not_equal(hv_config_validate(c, &d), HV_OK);
	assert_int_equal(d.error, HV_CFG_REGION_SIZE);
	free(c);
}

/* Every table full: 64 partitions x 64 regions, 4 devices, 16 memberships,
 * 48 MSR rules, 16 CPUID rules, 8 vCPUs; 16 channels each with 64 members.
 * This is the worst case of the quadratic overlap checks. */
static void fill_max(struct hv_system_config *c)
{
	memset(c, 0, sizeof(*c));
	c->hv_base = 0;
	c->hv_size = 16ull << 20;
	c->host_mem_size = 1ull << 32;
	c->npartitions = HV_MAX_PARTITIONS;
	c->nchannels = HV_MAX_CHANNELS;
	uint64_t hpa = c->hv_size;
	for (uint32_t ch = 0; ch < HV_MAX_CHANNELS; ch++) {
		char name[HV_NAME_LEN];
		snprintf(name, sizeof(name), "chan%u", ch);
		c->nchannels = ch;
		add_channel(c, name, hpa, 0x2000);
		hpa += 0x2000;
	}
	for (uint32_t p = 0; p < HV_MAX_PARTITIONS; p++) {
		struct hv_partition_config *pc = &c->partitions[p];
		snprintf(pc->name, sizeof(pc->name), "partition-%u", p);
		pc->nvcpus = HV_MAX_VCPUS;
		for (uint32_t i = 0; i < HV_MAX_REGIONS; i++) {
			/* 4 KiB holes between regions, alternating types */
			uint8_t type = i % 8 == 7 ? HV_REGION_MMIO : HV_REGION_RAM;
			add_region(c, p, (uint64_t)i * 0x2000, hpa, 0x1000, type);
			hpa += 0x1000;
		}
		for (uint32_t i = 0; i < HV_MAX_DEVICES; i++)
			pc->devices[pc->ndevices++] =
			        (struct hv_device_config){.gpa = 0xfed00000ull + i * 0x1000,
			                                  .size = 0x1000,
			                                  .type = HV_DEV_CONSOLE};
		for (uint32_t ch = 0; ch < HV_MAX_CHANNELS; ch++)
			add_member(c, p, ch, 0x80000000ull + ch * 0x2000,
			           (p + ch) % 2 ? HV_PERM_R : HV_PERM_RW);
		for (uint32_t i = 0; i < HV_MAX_MSR_RULES; i++)
			pc->msr.rules[pc->msr.nrules++] =
			        (struct hv_msr_rule){.msr = 0x40000000u + i,
			                             .mode = HV_MSR_EMULATED,
			                             .writable_mask = ~0ull};
		pc->cpuid.nrules = HV_MAX_CPUID_RULES;
	}
}

static void test_max_counts(void **state)
{
	(void)state;
	struct hv_system_config *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	fill_max(c);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_valid(c, "every table full");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	print_message("full config validated in %.1f ms\n",
	              (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	                      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);

	/* The very last region of the very last partition still gets its
	 * HPA checked against the very first one. */
	struct hv_region *last = &c->partitions[HV_MAX_PARTITIONS - 1].regions[HV_MAX_REGIONS - 1];
	last->hpa = c->partitions[0].regions[0].hpa;
	struct hv_config_diag d;
	assert_int_not_equal(hv_config_validate(c, &d), HV_OK);
	assert_int_equal(d.error, HV_CFG_REGION_HPA_OVERLAP);
	assert_int_equal(d.partition, HV_MAX_PARTITIONS - 1);
	assert_int_equal(d.index, HV_MAX_REGIONS - 1);
	assert_int_equal(d.other_partition, 0);
	assert_int_equal(d.other_index, 0);
	free(c);
}

/* Mutations of any field must never crash or read out of bounds, whatever
 * the counts say: a cheap deterministic scramble over the mock config. */
static void test_scrambled_counts_terminate(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < 2000; round++) {
		mock_config_two(c);
		for (int k = 0; k < 4; k++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			uint32_t *fields[] = {&c->npartitions,
			                      &c->nchannels,
			                      &c->partitions[0].nregions,
			                      &c->partitions[1].ndevices,
			                      &c->partitions[0].nchannels,
			                      &c->partitions[1].msr.nrules,
			                      &c->partitions[1].channels[0].channel,
			                      &c->partitions[0].cpuid.nrules};
			*fields[x % HV_ARRAY_LEN(fields)] = (uint32_t)(x >> 32) % 80;
		}
		struct hv_config_diag d;
		hv_status s = hv_config_validate(c, &d);
		assert_true((s == HV_OK) == (d.error == HV_CFG_OK));
		assert_true(d.error < HV_CFG_ERROR_COUNT);
	}
	free(c);
}

/* ---- the formatters themselves ---- */

static void test_format_violation(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	char buf[256], want[256];
	struct hv_violation v = {.inv = HV_INV_EPT_OWN,
	                         .reason = HV_VR_HV_MEMORY,
	                         .partition = 1,
	                         .gpa = 0x200000,
	                         .hpa = 0x1000,
	                         .entry = 0x1007};
	snprintf(want, sizeof(want),
	         "EPT-OWN: partition 1 \"p1\" gpa 0x200000 -> hpa 0x1000: %s (entry 0x1007)",
	         hv_verify_reason_str(HV_VR_HV_MEMORY));
	assert_string_equal(hx_format_violation(c, &v, buf, sizeof(buf)), want);

	v.inv = HV_INV_EPT_FORM;
	v.reason = HV_VR_WRITE_NO_READ;
	v.entry = 0;
	snprintf(want, sizeof(want), "EPT-FORM: partition 1 gpa 0x200000 -> hpa 0x1000: %s",
	         hv_verify_reason_str(HV_VR_WRITE_NO_READ));
	assert_string_equal(hx_format_violation(NULL, &v, buf, sizeof(buf)), want);

	v.partition = 99; /* beyond the config: named by number only */
	hx_format_violation(c, &v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "EPT-FORM: partition 99 gpa"));
	v.partition = 0xffffffffu;
	hx_format_violation(c, &v, buf, sizeof(buf));
	assert_non_null(strstr(buf, "partition 4294967295 gpa"));

	/* truncation always leaves a terminated prefix */
	char small[10];
	hx_format_violation(c, &v, small, sizeof(small));
	assert_string_equal(small, "EPT-FORM:");
	assert_string_equal(hx_format_violation(c, NULL, buf, sizeof(buf)), "no violation");
	assert_null(hx_format_violation(c, &v, NULL, 0));
	free(c);
}

static void test_format_diag_edges(void **state)
{
	(void)state;
	struct hv_system_config *c = new_two();
	char buf[512];
	struct hv_config_diag d;
	assert_int_equal(hv_config_validate(c, &d), HV_OK);
	assert_string_equal(hx_format_config_diag(c, &d, buf, sizeof(buf)), "ok");
	assert_string_equal(hx_format_config_diag(c, NULL, buf, sizeof(buf)), "no diagnostic");

	/* Without a config, objects are named by index only. */
	region_hpa_other_partition(c);
	assert_int_not_equal(hv_config_validate(c, &d), HV_OK);
	hx_format_config_diag(NULL, &d, buf, sizeof(buf));
	assert_string_equal(buf,
	                    "partition 1 region 0: region HPA range overlaps host memory owned "
	                    "by someone else; conflicts with partition 0 region 0");

	/* Control bytes and quotes in a rejected name are escaped. */
	mock_config_two(c);
	memcpy(c->partitions[0].name, "a\"b\\c\n\x7f", 8);
	strcpy(c->partitions[1].name, "a\"b\\c\n\x7f");
	assert_int_not_equal(hv_config_validate(c, &d), HV_OK);
	hx_format_config_diag(c, &d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "partition 0 \"a\\\"b\\\\c\\x0a\\x7f\": name is empty"));

	/* A tiny buffer truncates cleanly. */
	char small[12];
	hx_format_config_diag(c, &d, small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);

	/* Helpers */
	assert_string_equal(hx_memtype_name(HV_MT_WB), "wb");
	assert_null(hx_memtype_name(2));
	assert_string_equal(hx_page_size_name(2), "1G");
	assert_string_equal(hx_page_size_name(7), "?");
	char perm[4];
	hx_perm_string(HV_PERM_RX, perm);
	assert_string_equal(perm, "r-x");
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_error_has_a_case),
	        cmocka_unit_test(test_bad_configs),
	        cmocka_unit_test(test_status_classes),
	        cmocka_unit_test(test_error_strings),
	        cmocka_unit_test(test_null_config),
	        cmocka_unit_test(test_mock_configs_valid),
	        cmocka_unit_test(test_valid_edges),
	        cmocka_unit_test(test_largest_region),
	        cmocka_unit_test(test_max_counts),
	        cmocka_unit_test(test_scrambled_counts_terminate),
	        cmocka_unit_test(test_format_violation),
	        cmocka_unit_test(test_format_diag_edges),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
