/* Thin layer over the /dev/kvm ioctls the runner needs: one VM with one
 * vCPU per partition, memslots, the deny-all MSR filter, hardware
 * breakpoints / single-step, exception injection and MSR access. Every
 * function returns 0 or -1 with a message in *err naming the ioctl and
 * errno. Nothing here knows about the hypervisor core. */
#ifndef HXK_KVM_VM_H
#define HXK_KVM_VM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm_err.h"

/* The KVM device: capabilities checked once, CPUID the vCPUs get. */
struct hxk_kvm {
	int fd;
	int run_size;    /* mmap size of struct kvm_run */
	int max_slots;   /* KVM_CAP_NR_MEMSLOTS */
	int sync_fields; /* KVM_CAP_SYNC_REGS */
	struct kvm_cpuid2 *cpuid;
};

/* Open /dev/kvm and check every capability the runner depends on
 * (DESIGN.md, "KVM facts checked on this machine class"). */
int hxk_kvm_open(struct hxk_kvm *k, struct hxk_err *err);
void hxk_kvm_close(struct hxk_kvm *k);

/* true when /dev/kvm can be opened read-write (for tests that skip). */
bool hxk_kvm_available(void);

#define HXK_MAX_VCPUS 8

struct hxk_vcpu {
	int fd;
	uint32_t index;
	struct kvm_run *run;
	size_t run_size;
};

struct hxk_vm {
	int fd;
	bool log_dirty; /* memslots set from now on log guest writes */
	uint32_t nvcpus;
	struct hxk_vcpu vcpus[HXK_MAX_VCPUS];
};

/* Create a VM with vCPUs 0..nvcpus-1, user-space MSR exits and the
 * deny-all MSR filter, CPUID from KVM_GET_SUPPORTED_CPUID (with each
 * vCPU's APIC ID) and sync regs enabled (regs + sregs are in run->s.regs
 * after every exit). No in-kernel irqchip: HLT exits to userspace. */
int hxk_vm_create(const struct hxk_kvm *k, struct hxk_vm *vm, uint32_t nvcpus, struct hxk_err *err);
void hxk_vm_destroy(struct hxk_vm *vm);

int hxk_vm_set_slot(struct hxk_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                    bool readonly, struct hxk_err *err);
int hxk_vm_delete_slot(struct hxk_vm *vm, uint32_t slot, uint64_t gpa, struct hxk_err *err);
/* KVM_GET_DIRTY_LOG: the slot's pages the guest wrote since the last call
 * (one bit per page), and the log cleared. */
int hxk_vm_dirty_log(struct hxk_vm *vm, uint32_t slot, uint64_t *bitmap, struct hxk_err *err);

int hxk_vcpu_set_sregs(struct hxk_vcpu *vc, const struct kvm_sregs *s, struct hxk_err *err);
int hxk_vcpu_get_sregs(struct hxk_vcpu *vc, struct kvm_sregs *s, struct hxk_err *err);
int hxk_vcpu_set_regs(struct hxk_vcpu *vc, const struct kvm_regs *r, struct hxk_err *err);
int hxk_vcpu_get_regs(struct hxk_vcpu *vc, struct kvm_regs *r, struct hxk_err *err);
int hxk_vcpu_get_fpu(struct hxk_vcpu *vc, struct kvm_fpu *f, struct hxk_err *err);
int hxk_vcpu_set_fpu(struct hxk_vcpu *vc, const struct kvm_fpu *f, struct hxk_err *err);

/* Guest debug: hardware execute breakpoints on up to 4 linear addresses
 * (naddr may be 0) and optionally single-step. */
int hxk_vcpu_set_debug(struct hxk_vcpu *vc, const uint64_t *addr, unsigned naddr, bool single_step,
                       struct hxk_err *err);

/* Inject an exception through KVM_SET_VCPU_EVENTS (the other event state
 * is read first and kept). */
int hxk_vcpu_inject(struct hxk_vcpu *vc, uint8_t vector, bool has_error, uint32_t error,
                    struct hxk_err *err);

/* Host-initiated MSR access to the vCPU (not subject to the MSR filter).
 * Return 0, 1 when KVM refused the MSR (unknown or bad value), -1 on an
 * ioctl error. */
int hxk_vcpu_get_msr(struct hxk_vcpu *vc, uint32_t msr, uint64_t *value);
int hxk_vcpu_set_msr(struct hxk_vcpu *vc, uint32_t msr, uint64_t value);

/* One KVM_RUN. Returns 0, or -errno (-EINTR when immediate_exit was set or
 * a signal arrived). */
int hxk_vcpu_run(struct hxk_vcpu *vc);

/* Complete a pending I/O, MMIO or MSR exit without running guest code
 * (KVM_RUN with immediate_exit set: KVM finishes the operation, then
 * returns -EINTR). Afterwards run->s.regs holds the completed state.
 * Returns 0, or 1 when finishing the instruction made another exit (e.g.
 * the write half of a read-modify-write on MMIO; run describes it), or -1. */
int hxk_vcpu_complete_pending(struct hxk_vcpu *vc, struct hxk_err *err);

/* "KVM_EXIT_MMIO", ...; "unknown KVM exit" otherwise. */
const char *hxk_exit_reason_name(uint32_t reason);

#endif
