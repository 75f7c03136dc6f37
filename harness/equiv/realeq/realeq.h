/* REAL-EQ: the exits the booted hypervisor handled under QEMU's SVM
 * emulation (handlers/boot), as the image recorded them, turned into trace
 * exit records so `hx replay` answers each one with the hosted core and
 * compares every output. The image records (hv/boot.h, struct
 * hv_ev_record): the hv_exit its VMCB layer produced, the result, the
 * vCPU state it left and every platform call of hv_handle_exit with its
 * bytes. This file checks such a record byte by byte before any of it is
 * used: it comes from a program under test. */
#ifndef HX_REALEQ_H
#define HX_REALEQ_H

#include <stdint.h>

#include "hv/boot.h"
#include "observer.h"

struct hx_realeq_exit {
	uint64_t index; /* exits the image had handled before this one */
	struct hv_exit in;
	struct hv_result res;
	struct hv_exit out;     /* in with the state the image left */
	struct hx_obs_view log; /* entries below; data points into the record */
	struct hx_obs_entry entries[HV_BOOT_REC_MAX_CALLS];
};

/* Decode one HV_EV_RECORD payload (b stays referenced by out->log.data).
 * Returns 0, or -1 when the record is malformed: counts or lengths that do
 * not add up, an unknown call kind, a call longer than a page. */
int hx_realeq_decode(const uint8_t *b, uint32_t len, struct hx_realeq_exit *out);

#endif
