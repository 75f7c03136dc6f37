/* The static partitioning model: host physical memory holds a
 * hypervisor-reserved range and partitions; each partition has RAM and
 * passthrough MMIO regions, emulated devices, channel memberships, a CPUID
 * policy, an MSR policy and allowed hypercalls. Configs are plain data,
 * produced by the firmware image builder or the hosted JSON loader. */
#ifndef HV_CONFIG_H
#define HV_CONFIG_H

#include "hv/io.h"
#include "hv/status.h"
#include "hv/types.h"

#define HV_NAME_LEN 32
#define HV_MAX_PARTITIONS 64
#define HV_MAX_REGIONS 64     /* per partition */
#define HV_MAX_DEVICES 4      /* emulated devices per partition */
#define HV_MAX_CHANNELS 16    /* system-wide, and memberships per partition */
#define HV_MAX_VCPUS 8        /* per partition */
#define HV_MAX_MSR_RULES 48   /* per partition */
#define HV_MAX_CPUID_RULES 16 /* per partition */
#define HV_MAX_IO_DEVICES 4   /* emulated port-I/O devices per partition (hv/io.h) */

/* 4-level EPT translates 48-bit guest-physical addresses. */
#define HV_GPA_LIMIT (1ull << 48)
/* Largest single region accepted: 1 TiB. */
#define HV_MAX_REGION_SIZE (1ull << 40)
/* Host physical address width supported (EPT entries carry bits 51:12,
 * but no machine this runs on has more than 46 bits). */
#define HV_HPA_LIMIT (1ull << 46)

enum hv_region_type {
	HV_REGION_RAM = 0,  /* private RAM, canary-filled in the KVM runner */
	HV_REGION_MMIO = 1, /* passthrough device MMIO, must be UC */
};

struct hv_region {
	uint64_t gpa;
	uint64_t hpa;
	uint64_t size;
	uint8_t type;    /* enum hv_region_type */
	uint8_t perm;    /* enum hv_perm bits */
	uint8_t memtype; /* enum hv_memtype */
	uint8_t pad[5];
};

enum hv_device_type {
	HV_DEV_CONSOLE = 1, /* console/doorbell register block, hv/device.h */
};

/* An emulated device: its GPA range is never mapped in the EPT, so every
 * access is an EPT violation that the core decodes and emulates. */
struct hv_device_config {
	uint64_t gpa;
	uint64_t size;
	uint32_t type; /* enum hv_device_type */
	uint32_t pad;
};

/* Shared memory between named partitions. */
struct hv_channel_config {
	char name[HV_NAME_LEN];
	uint64_t hpa;
	uint64_t size;
};

/* Membership of a partition in a channel: where it sees it and how. */
struct hv_channel_member {
	uint32_t channel; /* index into hv_system_config.channels */
	uint8_t perm;     /* HV_PERM_R or HV_PERM_RW */
	uint8_t pad[3];
	uint64_t gpa;
};

/* CPUID policy: answers are host values, then the override rules apply
 * (out = (host & and_mask) | or_bits), then the fixed rules of hv/cpuid.h
 * (VMX/SVM hidden, hypervisor bit, APIC IDs) which no rule can undo. */
struct hv_cpuid_rule {
	uint32_t leaf;
	uint32_t subleaf;
	uint8_t any_subleaf; /* rule applies to every subleaf of leaf */
	uint8_t pad[3];
	uint32_t and_mask[4]; /* EAX, EBX, ECX, EDX */
	uint32_t or_bits[4];
};

struct hv_cpuid_policy {
	uint32_t max_basic_leaf; /* 0: the host's */
	uint32_t max_ext_leaf;   /* 0: the host's */
	uint32_t nrules;
	struct hv_cpuid_rule rules[HV_MAX_CPUID_RULES];
};

enum hv_msr_mode {
	HV_MSR_DENY = 0,     /* #GP on read and write */
	HV_MSR_PASS_R = 1,   /* read returns host value; write #GP */
	HV_MSR_PASS_RW = 2,  /* host read and write (never for protected MSRs) */
	HV_MSR_EMULATED = 3, /* per-vCPU value; bits outside writable_mask #GP */
};

struct hv_msr_rule {
	uint32_t msr;
	uint8_t mode; /* enum hv_msr_mode */
	uint8_t pad[3];
	uint64_t init;          /* emulated: reset value */
	uint64_t writable_mask; /* emulated: bits the guest may change */
};

struct hv_msr_policy {
	uint32_t nrules;
	uint32_t pad;
	struct hv_msr_rule rules[HV_MAX_MSR_RULES];
};

/* What happens on an EPT violation that is not an emulated-device access. */
enum hv_contain_policy {
	HV_CONTAIN_HALT = 0,      /* halt the partition */
	HV_CONTAIN_INJECT_GP = 1, /* inject #GP(0) into the vCPU */
};

struct hv_partition_config {
	char name[HV_NAME_LEN];
	uint32_t nvcpus;
	uint32_t hcall_allowed; /* bit n set: hypercall number n allowed */
	uint32_t contain;       /* enum hv_contain_policy */
	uint32_t nregions;
	struct hv_region regions[HV_MAX_REGIONS];
	uint32_t ndevices;
	uint32_t nchannels;
	struct hv_device_config devices[HV_MAX_DEVICES];
	struct hv_channel_member channels[HV_MAX_CHANNELS];
	struct hv_cpuid_policy cpuid;
	struct hv_msr_policy msr;
	uint32_t nio; /* emulated port-I/O devices; every other port is contained */
	uint32_t pad_io;
	struct hv_io_device io[HV_MAX_IO_DEVICES];
};

struct hv_system_config {
	uint64_t host_mem_size; /* host physical memory is [0, host_mem_size) */
	uint64_t hv_base;       /* hypervisor-reserved range (code, data, pool) */
	uint64_t hv_size;
	/* enum hv_vendor: which virtualization extensions the core runs on,
	 * and so the format of every partition's second-stage tables (Intel:
	 * EPT, AMD: nested page tables). 0 is Intel, so a config that never
	 * says keeps its meaning. */
	uint32_t vendor;
	uint32_t npartitions;
	uint32_t nchannels;
	struct hv_partition_config partitions[HV_MAX_PARTITIONS];
	struct hv_channel_config channels[HV_MAX_CHANNELS];
};

/* Why a config was rejected. Each code has a fixed message
 * (hv_config_error_str); the diag names the objects involved. */
enum hv_config_error {
	HV_CFG_OK = 0,
	HV_CFG_NO_PARTITIONS,
	HV_CFG_TOO_MANY_PARTITIONS,
	HV_CFG_TOO_MANY_CHANNELS,
	HV_CFG_HOST_MEM_SIZE, /* zero, unaligned or above HV_HPA_LIMIT */
	HV_CFG_HV_RANGE,      /* hypervisor range empty, unaligned or outside host memory */
	HV_CFG_NAME,          /* empty or unterminated name */
	HV_CFG_DUPLICATE_NAME,
	HV_CFG_VCPUS, /* 0 or more than HV_MAX_VCPUS */
	HV_CFG_CONTAIN_POLICY,
	HV_CFG_TOO_MANY_REGIONS,
	HV_CFG_REGION_SIZE,  /* zero or larger than HV_MAX_REGION_SIZE */
	HV_CFG_REGION_ALIGN, /* GPA, HPA or size not 4 KiB aligned */
	HV_CFG_REGION_GPA_WRAP,
	HV_CFG_REGION_HPA_WRAP,
	HV_CFG_REGION_GPA_LIMIT, /* beyond the 48-bit guest-physical space */
	HV_CFG_REGION_HPA_LIMIT, /* beyond host memory */
	HV_CFG_REGION_TYPE,
	HV_CFG_REGION_PERM,        /* no access, write without read, or unknown bits */
	HV_CFG_REGION_MEMTYPE,     /* invalid encoding, or MMIO not UC */
	HV_CFG_REGION_HV_OVERLAP,  /* touches hypervisor memory */
	HV_CFG_REGION_GPA_OVERLAP, /* overlaps another GPA range of the partition */
	HV_CFG_REGION_HPA_OVERLAP, /* overlaps host memory owned by anyone else */
	HV_CFG_TOO_MANY_DEVICES,
	HV_CFG_DEVICE_TYPE,
	HV_CFG_DEVICE_RANGE, /* zero, unaligned, wrapping or beyond GPA space */
	HV_CFG_DEVICE_OVERLAP,
	HV_CFG_CHANNEL_RANGE, /* channel HPA range empty, unaligned, wraps, beyond host memory */
	HV_CFG_CHANNEL_HV_OVERLAP,
	HV_CFG_CHANNEL_OVERLAP, /* channel HPA overlaps another channel */
	HV_CFG_CHANNEL_UNUSED,  /* fewer than two members */
	HV_CFG_TOO_MANY_MEMBERSHIPS,
	HV_CFG_MEMBER_UNKNOWN_CHANNEL,
	HV_CFG_MEMBER_DUPLICATE, /* same channel twice in one partition */
	HV_CFG_MEMBER_PERM,      /* not R or RW */
	HV_CFG_MEMBER_RANGE,     /* GPA unaligned, wraps or beyond GPA space */
	HV_CFG_MEMBER_OVERLAP,   /* GPA overlaps another range of the partition */
	HV_CFG_TOO_MANY_MSR_RULES,
	HV_CFG_MSR_MODE,
	HV_CFG_MSR_DUPLICATE,
	HV_CFG_MSR_PROTECTED, /* passthrough of an MSR not on the allow-list (hv/msr.h) */
	HV_CFG_TOO_MANY_CPUID_RULES,
	/* Appended, so earlier codes keep their values in traces. */
	HV_CFG_POOL_PLACEMENT,     /* hv_system_init: pool not inside the hypervisor range */
	HV_CFG_MSR_PASS_READ_ONLY, /* pass-rw of an MSR allowed for pass-r only */
	HV_CFG_MSR_INIT,           /* emulated init value a WRMSR of it would #GP on */
	HV_CFG_VENDOR,             /* vendor neither Intel nor AMD */
	HV_CFG_TOO_MANY_IO_DEVICES,
	HV_CFG_IO_TYPE,    /* unknown port-I/O device type */
	HV_CFG_IO_RANGE,   /* ports beyond 0xffff */
	HV_CFG_IO_OVERLAP, /* a port of two devices */
	HV_CFG_IO_INIT,    /* RTC time beyond HV_RTC_MAX_TIME, or an init on a UART */
	HV_CFG_ERROR_COUNT
};

/* What a diag index refers to. */
enum hv_config_object {
	HV_CFG_OBJ_NONE = 0,  /* index is -1 */
	HV_CFG_OBJ_REGION,    /* partition's regions[] */
	HV_CFG_OBJ_DEVICE,    /* partition's devices[] */
	HV_CFG_OBJ_MEMBER,    /* partition's channels[] (memberships) */
	HV_CFG_OBJ_MSR_RULE,  /* partition's msr.rules[] */
	HV_CFG_OBJ_CHANNEL,   /* system channels[] (partition is -1) */
	HV_CFG_OBJ_PARTITION, /* the other object is a whole partition */
	HV_CFG_OBJ_IO,        /* partition's io[] (port-I/O devices) */
};

/* Where a config was rejected. Indices are -1 when not applicable; kind and
 * other_kind (enum hv_config_object) say what index and other_index refer
 * to, since e.g. a region may collide with a device or a channel. */
struct hv_config_diag {
	enum hv_config_error error;
	int32_t partition; /* partition index */
	int32_t index;     /* region / device / membership / rule / channel index */
	int32_t other_partition;
	int32_t other_index;
	uint8_t kind;
	uint8_t other_kind;
	uint8_t pad[2];
	uint64_t addr; /* the offending address, where one applies */
};

const char *hv_config_error_str(enum hv_config_error e);

/* Validate a whole system config. Returns HV_OK, or an error status with
 * *diag (if non-NULL) describing the first problem found. */
hv_status hv_config_validate(const struct hv_system_config *cfg, struct hv_config_diag *diag);

#endif
