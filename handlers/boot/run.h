/* The VMRUN loop of the bootable image: one straight path per exit,
 * #VMEXIT -> hv_svm_exit_read -> hv_handle_exit -> checks ->
 * hv_svm_exit_write -> a verdict this loop acts on. */
#ifndef HV_BOOT_RUN_H
#define HV_BOOT_RUN_H

#include "hv/boot.h"
#include "hv/system.h"
#include "hv/verify.h"
#include "svm.h"

struct hvb_run_opts {
	bool record;
	uint32_t max_vcpus;
	uint64_t max_exits;
};

struct hvb_vcpu {
	uint64_t gpr[16];
	bool running;
	bool has_tsc_aux; /* the guest set TSC_AUX: loaded before each of its runs */
	uint64_t tsc_aux;
};

/* The platform calls of the exit being handled (HV_BOOT_OPT_RECORD). */
#define HVB_REC_MAX_DATA                                                                           \
	(HV_BOOT_EVENT_MAX - sizeof(struct hv_ev_record) -                                         \
	 HV_BOOT_REC_MAX_CALLS * sizeof(struct hv_boot_call))
struct hvb_rec {
	bool on; /* inside hv_handle_exit of a recorded run */
	uint32_t ncalls, overflow, data_len;
	struct hv_boot_call calls[HV_BOOT_REC_MAX_CALLS];
	uint8_t data[HVB_REC_MAX_DATA];
};

struct hvb_world {
	const struct hv_system_config *cfg;
	struct hvb_run_opts opts;
	struct hvb_cpu cpu;
	struct hv_pool pool;
	struct hv_system sys;
	uint64_t image_lo, image_hi;
	uint64_t host_vmsave_pa, msrpm_pa, iopm_pa;
	uint32_t nvcpus[HV_MAX_PARTITIONS];
	uint64_t entry[HV_MAX_PARTITIONS];
	uint64_t vmcb_pa[HV_MAX_PARTITIONS][HV_MAX_VCPUS];
	struct hvb_vcpu vcpus[HV_MAX_PARTITIONS][HV_MAX_VCPUS];
	struct hv_ev_counts counts[HV_MAX_PARTITIONS];
	uint64_t counts_sent[HV_MAX_PARTITIONS]; /* exits when the last COUNTS went out */
	uint64_t total_exits;
	uint64_t tsc_handler;
	bool flush[HV_MAX_PARTITIONS]; /* nested tables changed: flush before the next VMRUN */
	int32_t last_vcpu[HV_MAX_PARTITIONS];
	struct hvb_rec rec;
};

/* hv_system_init with this platform's ops. */
hv_status hvb_world_init(struct hvb_world *w, struct hv_config_diag *diag);

/* Run every vCPU round-robin until every partition stopped. */
void hvb_run(struct hvb_world *w);

void hvb_report_violation(struct hvb_world *w, const struct hv_violation *v, uint64_t exit_index);

#ifdef HV_BOOT_TEST_BREAK_NPT
void hvb_test_break_npt(struct hvb_world *w);
#endif

#endif
