#include "kvm_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench_util.h"

#define RAW_MEM 0x10000ull /* one 64 KiB memslot at GPA 0 */
#define RAW_CODE 0x1000ull /* the loop */
#define RAW_PORT 0x10u     /* any port: nothing listens */
#define RAW_DS 0x2000u     /* DS base 0x20000: outside the memslot */
#define RAW_MMIO_GPA 0x20000ull
/* A loop that stops exiting (a KVM that handles the access itself) must
 * not hang the benchmark: SIGALRM interrupts KVM_RUN after this long. */
#define RAW_DEADLINE_S 30

static volatile sig_atomic_t raw_timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	raw_timed_out = 1;
}

struct raw_vm {
	int kvm, vm, vcpu;
	void *mem;
	struct kvm_run *run;
	size_t run_size;
};

static int fail(char *err, size_t len, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, len, fmt, ap);
	va_end(ap);
	if (e && n >= 0 && (size_t)n < len)
		snprintf(err + n, len - (size_t)n, ": %s", strerror(e));
	return -1;
}

static void raw_close(struct raw_vm *v)
{
	if (v->run && v->run != MAP_FAILED)
		munmap(v->run, v->run_size);
	if (v->mem && v->mem != MAP_FAILED)
		munmap(v->mem, RAW_MEM);
	if (v->vcpu >= 0)
		close(v->vcpu);
	if (v->vm >= 0)
		close(v->vm);
	if (v->kvm >= 0)
		close(v->kvm);
}

/* Real mode, CS:IP = 0:RAW_CODE, DS base RAW_MMIO_GPA. The code loops:
 *   OUT:  E6 10     out 0x10, al     EB FC  jmp back
 *   MMIO: A2 00 00  mov [0], al      EB FB  jmp back */
static int raw_open(struct raw_vm *v, enum hxb_raw_kind kind, char *err, size_t len)
{
	memset(v, 0, sizeof(*v));
	v->kvm = v->vm = v->vcpu = -1;
	errno = 0;
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		return fail(err, len, "cannot open /dev/kvm");
	if (ioctl(v->kvm, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
		return fail(err, len, "KVM API version is not %d", KVM_API_VERSION);
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return fail(err, len, "KVM_CREATE_VM failed");
	/* Intel needs a TSS area for real mode; AMD ignores it. */
	(void)ioctl(v->vm, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	v->mem = mmap(NULL, RAW_MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		return fail(err, len, "mmap of guest memory failed");
	static const uint8_t out_loop[] = {0xe6, RAW_PORT, 0xeb, 0xfc};
	static const uint8_t mmio_loop[] = {0xa2, 0x00, 0x00, 0xeb, 0xfb};
	if (kind == HXB_RAW_OUT)
		memcpy((uint8_t *)v->mem + RAW_CODE, out_loop, sizeof(out_loop));
	else
		memcpy((uint8_t *)v->mem + RAW_CODE, mmio_loop, sizeof(mmio_loop));
	struct kvm_userspace_memory_region slot = {
	        .slot = 0,
	        .guest_phys_addr = 0,
	        .memory_size = RAW_MEM,
	        .userspace_addr = (uint64_t)(uintptr_t)v->mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot) != 0)
		return fail(err, len, "KVM_SET_USER_MEMORY_REGION failed");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		return fail(err, len, "KVM_CREATE_VCPU failed");
	int sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return fail(err, len, "KVM_GET_VCPU_MMAP_SIZE failed");
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		return fail(err, len, "mmap of kvm_run failed");
	struct kvm_sregs sregs;
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) != 0)
		return fail(err, len, "KVM_GET_SREGS failed");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = RAW_MMIO_GPA;
	sregs.ds.selector = RAW_DS;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) != 0)
		return fail(err, len, "KVM_SET_SREGS failed");
	struct kvm_regs regs = {.rip = RAW_CODE, .rflags = 2};
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) != 0)
		return fail(err, len, "KVM_SET_REGS failed");
	return 0;
}

static int one_exit(struct raw_vm *v, enum hxb_raw_kind kind, char *err, size_t len)
{
	if (ioctl(v->vcpu, KVM_RUN, 0) != 0) {
		if (errno == EINTR && raw_timed_out) {
			errno = 0;
			return fail(err, len, "raw guest: no exit within %d s", RAW_DEADLINE_S);
		}
		if (errno == EINTR)
			return 0; /* another signal: just run again */
		return fail(err, len, "KVM_RUN failed");
	}
	uint32_t want = kind == HXB_RAW_OUT ? KVM_EXIT_IO : KVM_EXIT_MMIO;
	if (v->run->exit_reason != want) {
		errno = 0;
		return fail(err, len, "raw guest: unexpected KVM exit reason %u (expected %u)",
		            v->run->exit_reason, want);
	}
	return 0;
}

int hxb_kvm_raw(enum hxb_raw_kind kind, uint64_t warmup, uint64_t n, uint64_t *samples,
                uint64_t *wall_ns, char *err, size_t errlen)
{
	struct raw_vm v;
	/* No SA_RESTART: the alarm must end a KVM_RUN that never returns. */
	struct sigaction sa = {.sa_handler = on_alarm}, old_sa;
	struct itimerval deadline = {.it_value = {.tv_sec = RAW_DEADLINE_S}}, off = {0}, old_timer;
	sigemptyset(&sa.sa_mask);
	raw_timed_out = 0;
	sigaction(SIGALRM, &sa, &old_sa);
	setitimer(ITIMER_REAL, &deadline, &old_timer);
	int rc = raw_open(&v, kind, err, errlen);
	for (uint64_t i = 0; rc == 0 && i < warmup; i++)
		rc = one_exit(&v, kind, err, errlen);
	uint64_t t0 = hxb_now_ns();
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		uint64_t c0 = hxb_tsc_begin();
		rc = one_exit(&v, kind, err, errlen);
		samples[i] = hxb_tsc_end() - c0;
	}
	*wall_ns = hxb_now_ns() - t0;
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old_sa, NULL);
	(void)old_timer;
	raw_close(&v);
	return rc;
}
