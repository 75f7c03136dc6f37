/* A synthetic host for generating traces without hardware: sparse host
 * memory, a CPUID table shaped like an AMD EPYC host (with SVM, and VMX set
 * in leaf 1 on purpose so masking shows), and a small MSR table. Used by
 * hx-gen-seeds; deterministic, so the traces it produces are stable. */
#ifndef HX_SYNTH_HOST_H
#define HX_SYNTH_HOST_H

#include "hv/platform.h"

struct hx_synth_host;

extern const struct hv_platform_ops hx_synth_host_ops;

/* Host memory [0, host_mem_size), all zero. NULL when out of memory. */
struct hx_synth_host *hx_synth_host_new(uint64_t host_mem_size);
void hx_synth_host_free(struct hx_synth_host *h);

void hx_synth_set_cpuid(struct hx_synth_host *h, uint32_t leaf, uint32_t subleaf,
                        const uint32_t regs[4]);
void hx_synth_set_msr(struct hx_synth_host *h, uint32_t msr, uint64_t value);
/* Host-physical access for setting up guest memory. false when outside. */
bool hx_synth_poke(struct hx_synth_host *h, uint64_t hpa, const void *src, uint32_t len);
bool hx_synth_peek(struct hx_synth_host *h, uint64_t hpa, void *dst, uint32_t len);

#endif
