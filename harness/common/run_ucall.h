/* A guest's ucall (hv/guest_abi.h) as the runners report it: the KVM runner
 * reads the struct from guest memory, hx boot from the booted image's
 * event; both turn it into the same lines, outcomes and findings here.
 * The file and message are guest memory: they come out escaped, so a guest
 * cannot forge harness output or drive the terminal through them. */
#ifndef HX_RUN_UCALL_H
#define HX_RUN_UCALL_H

#include <stddef.h>
#include <stdint.h>

#include "hv/config.h"
#include "hv/guest_abi.h"
#include "run_report.h"

enum hxk_uc_kind {
	HXK_UC_SYNC,  /* text: "sync N (file:line)" for verbose output; stage: N */
	HXK_UC_PRINT, /* text: "file:line: message" */
	HXK_UC_DONE,  /* the vCPU is done */
	HXK_UC_STOP,  /* text: why the partition stops with `outcome` */
	HXK_UC_FOUND, /* text: the EPT-OWN finding */
};

struct hxk_ucall_read {
	enum hxk_uc_kind kind;
	enum hxk_outcome outcome; /* HXK_UC_STOP: fail (assertion, exception) or crash */
	uint64_t stage;           /* HXK_UC_SYNC */
	char text[768];           /* room for the escaped file (192) and message (384) */
};

/* Read *uc (its strings need no terminator) of vCPU vcpu. where, when not
 * NULL, says where the platform maps the GPA a FOUND ucall names. */
void hxk_ucall_read(const struct hv_system_config *cfg, const struct hx_ucall *uc, uint32_t vcpu,
                    const char *where, struct hxk_ucall_read *out);

#endif
