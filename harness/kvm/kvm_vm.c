/* /dev/kvm plumbing (Documentation/virt/kvm/api.rst). */
#include "kvm_vm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define HXK_KVM_API 12

struct hxk_cap {
	long cap;
	const char *name;
	const char *why;
};

/* Everything the runner is built on; DESIGN.md lists them as present on
 * this machine class. */
static const struct hxk_cap required_caps[] = {
        {KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM", "read-only memslots for R/RX EPT pages"},
        {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR", "RDMSR/WRMSR exits"},
        {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER", "the deny-all MSR filter"},
        {KVM_CAP_SET_GUEST_DEBUG, "KVM_CAP_SET_GUEST_DEBUG", "CPUID/VMCALL breakpoints"},
        {KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS", "register state without extra ioctls"},
        {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "timeouts and I/O completion"},
};

bool hxk_kvm_available(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int get_supported_cpuid(struct hxk_kvm *k, struct hxk_err *err)
{
	for (int nent = 64; nent <= 4096; nent *= 2) {
		struct kvm_cpuid2 *c =
		        calloc(1, sizeof(*c) + (size_t)nent * sizeof(struct kvm_cpuid_entry2));
		if (!c)
			return hxk_fail(err, "out of memory for the CPUID table");
		c->nent = (uint32_t)nent;
		if (ioctl(k->fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			k->cpuid = c;
			return 0;
		}
		int e = errno;
		free(c);
		if (e != E2BIG) {
			errno = e;
			return hxk_fail_errno(err, "KVM_GET_SUPPORTED_CPUID failed");
		}
	}
	return hxk_fail(err, "KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
}

int hxk_kvm_open(struct hxk_kvm *k, struct hxk_err *err)
{
	memset(k, 0, sizeof(*k));
	k->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return hxk_fail_errno(err, "cannot open /dev/kvm");
	int api = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (api != HXK_KVM_API) {
		hxk_fail(err, "/dev/kvm speaks API version %d, the runner needs %d", api,
		         HXK_KVM_API);
		goto fail;
	}
	for (size_t i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			hxk_fail(err, "KVM lacks %s (needed for %s)", required_caps[i].name,
			         required_caps[i].why);
			goto fail;
		}
	}
	k->sync_fields = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	if ((k->sync_fields & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) !=
	    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) {
		hxk_fail(err, "KVM_CAP_SYNC_REGS does not cover regs and sregs (0x%x)",
		         k->sync_fields);
		goto fail;
	}
	k->max_slots = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (k->max_slots <= 0)
		k->max_slots = 32;
	k->run_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->run_size < (int)sizeof(struct kvm_run)) {
		hxk_fail_errno(err, "KVM_GET_VCPU_MMAP_SIZE returned %d", k->run_size);
		goto fail;
	}
	if (get_supported_cpuid(k, err) != 0)
		goto fail;
	return 0;
fail:
	hxk_kvm_close(k);
	return -1;
}

void hxk_kvm_close(struct hxk_kvm *k)
{
	if (k->fd > 0)
		close(k->fd);
	free(k->cpuid);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Deny every guest RDMSR/WRMSR so each one exits to userspace. KVM refuses
 * an empty filter (EINVAL), so one range that denies MSRs 0..63 is given
 * besides the default-deny flag. */
static int set_deny_all_filter(struct hxk_vm *vm, struct hxk_err *err)
{
	static uint8_t deny_bitmap[8]; /* all zero: every MSR of the range denied */
	struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR};
	cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN |
	              KVM_MSR_EXIT_REASON_INVAL;
	if (ioctl(vm->fd, KVM_ENABLE_CAP, &cap) != 0)
		return hxk_fail_errno(err, "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR) failed");
	struct kvm_msr_filter f;
	memset(&f, 0, sizeof(f));
	f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
	f.ranges[0].flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
	f.ranges[0].nmsrs = 64;
	f.ranges[0].base = 0;
	f.ranges[0].bitmap = deny_bitmap;
	if (ioctl(vm->fd, KVM_X86_SET_MSR_FILTER, &f) != 0)
		return hxk_fail_errno(err, "KVM_X86_SET_MSR_FILTER (deny all) failed");
	return 0;
}

/* A copy of the supported CPUID with the vCPU's initial APIC ID (leaf 1
 * EBX[31:24], x2APIC ID in leaf 0xB/0x1F EDX; Intel SDM Vol. 2A, CPUID). */
static struct kvm_cpuid2 *vcpu_cpuid(const struct kvm_cpuid2 *base, uint32_t index)
{
	size_t size = sizeof(*base) + base->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *c = malloc(size);
	if (!c)
		return NULL;
	memcpy(c, base, size);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffffu) | index << 24;
		else if (e->function == 0xb || e->function == 0x1f)
			e->edx = index;
	}
	return c;
}

static int vcpu_create(const struct hxk_kvm *k, struct hxk_vm *vm, uint32_t index,
                       struct hxk_err *err)
{
	struct hxk_vcpu *vc = &vm->vcpus[index];
	vc->index = index;
	vc->fd = ioctl(vm->fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (vc->fd < 0)
		return hxk_fail_errno(err, "KVM_CREATE_VCPU %u failed", index);
	vc->run_size = (size_t)k->run_size;
	void *run = mmap(NULL, vc->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vc->fd, 0);
	if (run == MAP_FAILED)
		return hxk_fail_errno(err, "mmap of vCPU %u's run structure failed", index);
	vc->run = run;
	struct kvm_cpuid2 *cpuid = vcpu_cpuid(k->cpuid, index);
	if (!cpuid)
		return hxk_fail(err, "out of memory for vCPU %u's CPUID", index);
	int r = ioctl(vc->fd, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	if (r != 0)
		return hxk_fail_errno(err, "KVM_SET_CPUID2 on vCPU %u failed", index);
	vc->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

int hxk_vm_create(const struct hxk_kvm *k, struct hxk_vm *vm, uint32_t nvcpus, struct hxk_err *err)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	for (uint32_t i = 0; i < HXK_MAX_VCPUS; i++)
		vm->vcpus[i].fd = -1;
	if (nvcpus == 0 || nvcpus > HXK_MAX_VCPUS)
		return hxk_fail(err, "%u vCPUs requested (1..%d supported)", nvcpus, HXK_MAX_VCPUS);
	vm->fd = ioctl(k->fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0)
		return hxk_fail_errno(err, "KVM_CREATE_VM failed");
	if (set_deny_all_filter(vm, err) != 0)
		goto fail;
	for (uint32_t i = 0; i < nvcpus; i++) {
		vm->nvcpus = i + 1;
		if (vcpu_create(k, vm, i, err) != 0)
			goto fail;
	}
	return 0;
fail:
	hxk_vm_destroy(vm);
	return -1;
}

void hxk_vm_destroy(struct hxk_vm *vm)
{
	for (uint32_t i = 0; i < vm->nvcpus && i < HXK_MAX_VCPUS; i++) {
		struct hxk_vcpu *vc = &vm->vcpus[i];
		if (vc->run)
			munmap(vc->run, vc->run_size);
		if (vc->fd >= 0)
			close(vc->fd);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
}

int hxk_vm_set_slot(struct hxk_vm *vm, uint32_t slot, uint64_t gpa, uint64_t size, void *host,
                    bool readonly, struct hxk_err *err)
{
	struct kvm_userspace_memory_region r = {
	        .slot = slot,
	        .flags = readonly        ? KVM_MEM_READONLY
	                 : vm->log_dirty ? KVM_MEM_LOG_DIRTY_PAGES
	                                 : 0,
	        .guest_phys_addr = gpa,
	        .memory_size = size,
	        .userspace_addr = (uint64_t)(uintptr_t)host,
	};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) != 0)
		return hxk_fail_errno(err,
		                      "KVM_SET_USER_MEMORY_REGION slot %u gpa 0x%llx size 0x%llx%s",
		                      slot, (unsigned long long)gpa, (unsigned long long)size,
		                      readonly ? " read-only" : "");
	return 0;
}

int hxk_vm_dirty_log(struct hxk_vm *vm, uint32_t slot, uint64_t *bitmap, struct hxk_err *err)
{
	struct kvm_dirty_log d = {.slot = slot, .dirty_bitmap = bitmap};
	if (ioctl(vm->fd, KVM_GET_DIRTY_LOG, &d) != 0)
		return hxk_fail_errno(err, "KVM_GET_DIRTY_LOG slot %u", slot);
	return 0;
}

int hxk_vcpu_get_fpu(struct hxk_vcpu *vc, struct kvm_fpu *f, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_GET_FPU, f) != 0)
		return hxk_fail_errno(err, "KVM_GET_FPU vcpu %u", vc->index);
	return 0;
}

int hxk_vcpu_set_fpu(struct hxk_vcpu *vc, const struct kvm_fpu *f, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_SET_FPU, f) != 0)
		return hxk_fail_errno(err, "KVM_SET_FPU vcpu %u", vc->index);
	return 0;
}

int hxk_vm_delete_slot(struct hxk_vm *vm, uint32_t slot, uint64_t gpa, struct hxk_err *err)
{
	struct kvm_userspace_memory_region r = {.slot = slot, .guest_phys_addr = gpa};
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) != 0)
		return hxk_fail_errno(err, "deleting memslot %u failed", slot);
	return 0;
}

int hxk_vcpu_set_sregs(struct hxk_vcpu *vc, const struct kvm_sregs *s, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_SET_SREGS, s) != 0)
		return hxk_fail_errno(err, "KVM_SET_SREGS failed");
	return 0;
}

int hxk_vcpu_get_sregs(struct hxk_vcpu *vc, struct kvm_sregs *s, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_GET_SREGS, s) != 0)
		return hxk_fail_errno(err, "KVM_GET_SREGS failed");
	return 0;
}

int hxk_vcpu_set_regs(struct hxk_vcpu *vc, const struct kvm_regs *r, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_SET_REGS, r) != 0)
		return hxk_fail_errno(err, "KVM_SET_REGS failed");
	return 0;
}

int hxk_vcpu_get_regs(struct hxk_vcpu *vc, struct kvm_regs *r, struct hxk_err *err)
{
	if (ioctl(vc->fd, KVM_GET_REGS, r) != 0)
		return hxk_fail_errno(err, "KVM_GET_REGS failed");
	return 0;
}

int hxk_vcpu_set_debug(struct hxk_vcpu *vc, const uint64_t *addr, unsigned naddr, bool single_step,
                       struct hxk_err *err)
{
	struct kvm_guest_debug dbg;
	memset(&dbg, 0, sizeof(dbg));
	if (naddr > 4)
		return hxk_fail(err, "at most 4 hardware breakpoints (asked for %u)", naddr);
	if (naddr || single_step)
		dbg.control = KVM_GUESTDBG_ENABLE;
	if (naddr)
		dbg.control |= KVM_GUESTDBG_USE_HW_BP;
	if (single_step)
		dbg.control |= KVM_GUESTDBG_SINGLESTEP;
	/* DR7 (Intel SDM Vol. 3B, 18.2.4): L0..L3 enable bits 0,2,4,6; R/W and
	 * LEN fields 00 = instruction execution, 1 byte. */
	uint64_t dr7 = 0;
	for (unsigned i = 0; i < naddr; i++) {
		dbg.arch.debugreg[i] = addr[i];
		dr7 |= 1ull << (2 * i);
	}
	dbg.arch.debugreg[7] = dr7;
	if (ioctl(vc->fd, KVM_SET_GUEST_DEBUG, &dbg) != 0)
		return hxk_fail_errno(err, "KVM_SET_GUEST_DEBUG failed");
	return 0;
}

int hxk_vcpu_inject(struct hxk_vcpu *vc, uint8_t vector, bool has_error, uint32_t error,
                    struct hxk_err *err)
{
	struct kvm_vcpu_events ev;
	memset(&ev, 0, sizeof(ev));
	if (ioctl(vc->fd, KVM_GET_VCPU_EVENTS, &ev) != 0)
		return hxk_fail_errno(err, "KVM_GET_VCPU_EVENTS failed");
	ev.exception.injected = 1;
	ev.exception.pending = 0;
	ev.exception.nr = vector;
	ev.exception.has_error_code = has_error ? 1 : 0;
	ev.exception.error_code = has_error ? error : 0;
	if (ioctl(vc->fd, KVM_SET_VCPU_EVENTS, &ev) != 0)
		return hxk_fail_errno(err, "KVM_SET_VCPU_EVENTS (inject vector %u) failed", vector);
	return 0;
}

/* struct kvm_msrs ends in a flexible array: one entry after the header. */
union one_msr {
	struct kvm_msrs hdr;
	uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
};

int hxk_vcpu_get_msr(struct hxk_vcpu *vc, uint32_t msr, uint64_t *value)
{
	union one_msr m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = msr;
	int r = ioctl(vc->fd, KVM_GET_MSRS, &m);
	if (r < 0)
		return -1;
	if (r != 1)
		return 1;
	*value = m.hdr.entries[0].data;
	return 0;
}

int hxk_vcpu_set_msr(struct hxk_vcpu *vc, uint32_t msr, uint64_t value)
{
	union one_msr m;
	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = msr;
	m.hdr.entries[0].data = value;
	int r = ioctl(vc->fd, KVM_SET_MSRS, &m);
	if (r < 0)
		return -1;
	return r == 1 ? 0 : 1;
}

int hxk_vcpu_run(struct hxk_vcpu *vc)
{
	if (ioctl(vc->fd, KVM_RUN, 0) == 0)
		return 0;
	return -errno;
}

int hxk_vcpu_complete_pending(struct hxk_vcpu *vc, struct hxk_err *err)
{
	vc->run->immediate_exit = 1;
	int r = ioctl(vc->fd, KVM_RUN, 0);
	int e = errno;
	vc->run->immediate_exit = 0;
	if (r == 0)
		return 1; /* the instruction went on and made another exit */
	if (e != EINTR) {
		errno = e;
		return hxk_fail_errno(err, "completing a pending exit with immediate_exit failed");
	}
	return 0;
}

static const char *const exit_names[] = {
        [KVM_EXIT_UNKNOWN] = "KVM_EXIT_UNKNOWN",
        [KVM_EXIT_EXCEPTION] = "KVM_EXIT_EXCEPTION",
        [KVM_EXIT_IO] = "KVM_EXIT_IO",
        [KVM_EXIT_HYPERCALL] = "KVM_EXIT_HYPERCALL",
        [KVM_EXIT_DEBUG] = "KVM_EXIT_DEBUG",
        [KVM_EXIT_HLT] = "KVM_EXIT_HLT",
        [KVM_EXIT_MMIO] = "KVM_EXIT_MMIO",
        [KVM_EXIT_IRQ_WINDOW_OPEN] = "KVM_EXIT_IRQ_WINDOW_OPEN",
        [KVM_EXIT_SHUTDOWN] = "KVM_EXIT_SHUTDOWN",
        [KVM_EXIT_FAIL_ENTRY] = "KVM_EXIT_FAIL_ENTRY",
        [KVM_EXIT_INTR] = "KVM_EXIT_INTR",
        [KVM_EXIT_INTERNAL_ERROR] = "KVM_EXIT_INTERNAL_ERROR",
        [KVM_EXIT_SYSTEM_EVENT] = "KVM_EXIT_SYSTEM_EVENT",
        [KVM_EXIT_X86_RDMSR] = "KVM_EXIT_X86_RDMSR",
        [KVM_EXIT_X86_WRMSR] = "KVM_EXIT_X86_WRMSR",
};

const char *hxk_exit_reason_name(uint32_t reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "unknown KVM exit";
}
