/* A bare KVM loop for the hardware exit floor: a tiny real-mode guest that
 * exits in a tight loop, and a KVM_RUN loop that does nothing but count the
 * exits. No memslots from an EPT, no handler, no oracles. */
#ifndef HXB_KVM_RAW_H
#define HXB_KVM_RAW_H

#include <stddef.h>
#include <stdint.h>

enum hxb_raw_kind {
	HXB_RAW_OUT,  /* OUT imm8, AL: KVM_EXIT_IO */
	HXB_RAW_MMIO, /* MOV [moffs], AL to an unmapped GPA: KVM_EXIT_MMIO */
};

/* Run `warmup` then `n` exits of `kind`; samples[i] = TSC cycles of the
 * i-th KVM_RUN (exit to the next exit), *wall_ns the whole timed loop.
 * Returns 0, or -1 with a sentence in err. */
int hxb_kvm_raw(enum hxb_raw_kind kind, uint64_t warmup, uint64_t n, uint64_t *samples,
                uint64_t *wall_ns, char *err, size_t errlen);

#endif
