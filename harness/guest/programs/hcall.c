/* Hypercall attacks (HCALL-BOUNDS), run in every partition of
 * kvm-three.json:
 *   alpha: channel "link" (0) RW; all hypercalls
 *   beta:  "link" RO, "side" (1) RW; RAM at 0x50000000 that nobody else
 *          has; no mem_protect
 *   gamma: "side" RW; no yield
 * Every partition also has a read-only region at 0x10000000 and the
 * console device at 0x40000000. Each call is made with VMCALL and with
 * VMMCALL; failing calls must leave their buffers untouched; calls from
 * CPL 3 get #UD and have no effect. The instruction of the other vendor
 * (VMCALL on AMD, VMMCALL on Intel) raises #UD on hardware that really
 * virtualizes (the booted image under SVM): then it must have no effect
 * and is not tested further. Under KVM it reaches the core, emulated. */
#include "hx/guest.h"
#include "hv/hcall.h"

#define RO_GPA 0x10000000ull
#define DEVICE_GPA 0x40000000ull
#define FOREIGN_GPA 0x50000000ull /* beta's own RAM */
#define UNMAPPED_GPA 0x80000000ull
#define NCHANNELS 2u

static uint8_t buf[4096] __attribute__((aligned(4096)));
static uint8_t pattern[4096];

typedef int64_t (*call_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t *);

static const struct {
	const char *name;
	call_fn fn;
} insns[] = {{"vmcall", hx_vmcall}, {"vmmcall", hx_vmmcall}};

static call_fn call;
static const char *insn;

struct ram {
	uint64_t gpa, end;
};

static struct ram own_ram; /* the RAM range at GPA 0 */

static bool own_range(uint64_t gpa, uint64_t len, uint32_t kind)
{
	for (uint32_t n = 0;; n++) {
		const struct hx_boot_range *r = hx_find_range(kind, n);
		if (!r)
			return false;
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa))
			return true;
	}
}

static const struct hx_boot_range *channel(uint32_t index)
{
	for (uint32_t n = 0;; n++) {
		const struct hx_boot_range *r = hx_find_range(HX_RANGE_CHANNEL, n);
		if (!r || r->index == index)
			return r;
	}
}

static void fill_buf(void)
{
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = pattern[i] = (uint8_t)(i * 7 + 3);
}

static void buf_unchanged(const char *what)
{
	GUEST_ASSERT(memcmp(buf, pattern, sizeof(buf)) == 0, "%s %s changed its buffer", insn,
	             what);
}

static void expect(const char *what, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
                   uint64_t a4, int64_t want)
{
	int64_t st = call(nr, a1, a2, a3, a4, NULL);

	GUEST_ASSERT_EQ(st, want, "%s %s", insn, what);
}

/* A failing call whose target is our buffer must not touch it. */
static void expect_fail_buf(const char *what, uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3,
                            int64_t want)
{
	fill_buf();
	expect(what, nr, a1, a2, a3, 0, want);
	buf_unchanged(what);
}

static void test_numbers(void)
{
	static const uint64_t unknown[] = {HV_HC_COUNT, 99,    0xffffffffull,
	                                   1ull << 32,  ~0ull, (1ull << 63) | HV_HC_VERSION};
	uint64_t rdi = 0;

	GUEST_ASSERT_EQ(call(HV_HC_VERSION, 0, 0, 0, 0, &rdi), HV_HC_OK);
	GUEST_ASSERT_EQ(rdi, HV_HC_ABI_VERSION, "%s version", insn);
	for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		rdi = 0;
		GUEST_ASSERT_EQ(call(unknown[i], 0x5151, 0, 0, 0, &rdi), HV_HC_ENOSYS, "%s nr %#lx",
		                insn, unknown[i]);
		GUEST_ASSERT_EQ(rdi, 0x5151, "%s: unknown nr changed RDI", insn);
	}
}

/* Registers other than RAX/RDI survive a hypercall. */
static void test_registers(void)
{
	uint64_t rbx, r11, r12, r13, r14, r15, rsi, rdx, r10, rcx, r8;
	call_fn fn = call;

	__asm__ volatile("movabs $0x1111111111111111, %%rbx\n\t"
	                 "movabs $0xbbbbbbbbbbbbbbbb, %%r11\n\t"
	                 "movabs $0xcccccccccccccccc, %%r12\n\t"
	                 "movabs $0xdddddddddddddddd, %%r13\n\t"
	                 "movabs $0xeeeeeeeeeeeeeeee, %%r14\n\t"
	                 "movabs $0xffffffffffffffff, %%r15\n\t"
	                 "xor %%edi, %%edi\n\t" /* nr VERSION */
	                 "movabs $0x2222222222222222, %%rsi\n\t"
	                 "movabs $0x3333333333333333, %%rdx\n\t"
	                 "movabs $0x4444444444444444, %%rcx\n\t"
	                 "movabs $0x5555555555555555, %%r8\n\t"
	                 "xor %%r9d, %%r9d\n\t"
	                 "call *%[fn]\n\t"
	                 "mov %%rbx, %[rbx]\n\t"
	                 "mov %%r11, %[r11]\n\t"
	                 "mov %%r12, %[r12]\n\t"
	                 "mov %%r13, %[r13]\n\t"
	                 "mov %%r14, %[r14]\n\t"
	                 "mov %%r15, %[r15]\n\t"
	                 "mov %%rsi, %[rsi]\n\t"
	                 "mov %%rdx, %[rdx]\n\t"
	                 "mov %%r10, %[r10]\n\t"
	                 "mov %%rcx, %[rcx]\n\t"
	                 "mov %%r8, %[r8]"
	                 : [rbx] "=m"(rbx), [r11] "=m"(r11), [r12] "=m"(r12), [r13] "=m"(r13),
	                   [r14] "=m"(r14), [r15] "=m"(r15), [rsi] "=m"(rsi), [rdx] "=m"(rdx),
	                   [r10] "=m"(r10), [rcx] "=m"(rcx), [r8] "=m"(r8), [fn] "+a"(fn)
	                 :
	                 : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
	                   "r13", "r14", "r15", "memory", "cc");
	GUEST_ASSERT_EQ(rbx, 0x1111111111111111ull, "%s clobbered RBX", insn);
	GUEST_ASSERT_EQ(r11, 0xbbbbbbbbbbbbbbbbull, "%s clobbered R11", insn);
	GUEST_ASSERT_EQ(r12, 0xccccccccccccccccull, "%s clobbered R12", insn);
	GUEST_ASSERT_EQ(r13, 0xddddddddddddddddull, "%s clobbered R13", insn);
	GUEST_ASSERT_EQ(r14, 0xeeeeeeeeeeeeeeeeull, "%s clobbered R14", insn);
	GUEST_ASSERT_EQ(r15, 0xffffffffffffffffull, "%s clobbered R15", insn);
	GUEST_ASSERT_EQ(rsi, 0x3333333333333333ull, "%s clobbered RSI (arg 2)", insn);
	GUEST_ASSERT_EQ(rdx, 0x4444444444444444ull, "%s clobbered RDX (arg 3)", insn);
	GUEST_ASSERT_EQ(r10, 0x5555555555555555ull, "%s clobbered R10 (arg 4)", insn);
	GUEST_ASSERT_EQ(rcx, 0x4444444444444444ull, "%s clobbered RCX", insn);
	GUEST_ASSERT_EQ(r8, 0x5555555555555555ull, "%s clobbered R8", insn);
}

/* Buffers the console may not read, for any partition. */
static void test_console(void)
{
	static const char hello[] = "hcall: console write\n";
	uint64_t end = own_ram.end;

	expect("console ok", HV_HC_CONSOLE_WRITE, (uint64_t)hello, sizeof(hello) - 1, 0, 0,
	       HV_HC_OK);
	expect("console len 0", HV_HC_CONSOLE_WRITE, UNMAPPED_GPA, 0, 0, 0, HV_HC_OK);
	expect("console too long", HV_HC_CONSOLE_WRITE, (uint64_t)buf, HV_HC_CONSOLE_MAX + 1, 0, 0,
	       HV_HC_E2BIG);
	expect("console len 2^64-1", HV_HC_CONSOLE_WRITE, (uint64_t)buf, ~0ull, 0, 0, HV_HC_E2BIG);
	expect("console unmapped", HV_HC_CONSOLE_WRITE, UNMAPPED_GPA, 16, 0, 0, HV_HC_EFAULT);
	expect("console wraps", HV_HC_CONSOLE_WRITE, ~0ull - 7, 16, 0, 0, HV_HC_EFAULT);
	expect("console past RAM end", HV_HC_CONSOLE_WRITE, end - 8, 16, 0, 0, HV_HC_EFAULT);
	expect("console device window", HV_HC_CONSOLE_WRITE, DEVICE_GPA, 16, 0, 0, HV_HC_EFAULT);
	expect("console from read-only region", HV_HC_CONSOLE_WRITE, RO_GPA, 8, 0, 0, HV_HC_OK);
	if (!own_range(FOREIGN_GPA, 16, HX_RANGE_RAM))
		expect("console other partition's GPA", HV_HC_CONSOLE_WRITE, FOREIGN_GPA, 16, 0, 0,
		       HV_HC_EFAULT);
}

static void test_info(void)
{
	struct hv_hc_info *info = (struct hv_hc_info *)buf;
	uint64_t ram = 0, before, after;

	for (uint32_t n = 0; hx_find_range(HX_RANGE_RAM, n); n++)
		ram += hx_find_range(HX_RANGE_RAM, n)->size;
	memset(buf, 0xee, sizeof(buf));
	expect("info ok", HV_HC_PARTITION_INFO, (uint64_t)buf, sizeof(*info), 0, 0, HV_HC_OK);
	GUEST_ASSERT_EQ(info->partition, hx_partition());
	GUEST_ASSERT_EQ(info->vcpu, hx_vcpu());
	GUEST_ASSERT_EQ(info->nvcpus, 1);
	GUEST_ASSERT_EQ(info->ram_bytes, ram);
	GUEST_ASSERT(info->name[0] != 0 && info->name[31] == 0);
	GUEST_ASSERT_EQ(buf[sizeof(*info)], 0xee, "info wrote past its struct");

	expect_fail_buf("info short", HV_HC_PARTITION_INFO, (uint64_t)buf, sizeof(*info) - 1, 0,
	                HV_HC_E2BIG);
	expect_fail_buf("info len 0", HV_HC_PARTITION_INFO, (uint64_t)buf, 0, 0, HV_HC_E2BIG);
	/* A read-only target: the region keeps its contents. */
	before = *(volatile uint64_t *)RO_GPA;
	expect("info to read-only region", HV_HC_PARTITION_INFO, RO_GPA, sizeof(*info), 0, 0,
	       HV_HC_EFAULT);
	after = *(volatile uint64_t *)RO_GPA;
	GUEST_ASSERT_EQ(after, before, "read-only region changed");
	expect("info unmapped", HV_HC_PARTITION_INFO, UNMAPPED_GPA, sizeof(*info), 0, 0,
	       HV_HC_EFAULT);
	expect("info wraps", HV_HC_PARTITION_INFO, ~0ull - 15, sizeof(*info), 0, 0, HV_HC_EFAULT);
	expect("info past RAM end", HV_HC_PARTITION_INFO, own_ram.end - 8, sizeof(*info), 0, 0,
	       HV_HC_EFAULT);
	expect("info device window", HV_HC_PARTITION_INFO, DEVICE_GPA, sizeof(*info), 0, 0,
	       HV_HC_EFAULT);
	if (!own_range(FOREIGN_GPA, 16, HX_RANGE_RAM))
		expect("info other partition's GPA", HV_HC_PARTITION_INFO, FOREIGN_GPA,
		       sizeof(*info), 0, 0, HV_HC_EFAULT);
	for (uint32_t c = 0; c < NCHANNELS; c++) {
		const struct hx_boot_range *ch = channel(c);
		if (!ch)
			continue;
		if (ch->perm & 2) {
			expect("info to RW channel", HV_HC_PARTITION_INFO, ch->gpa + ch->size - 512,
			       sizeof(*info), 0, 0, HV_HC_OK);
			expect("info straddling channel end", HV_HC_PARTITION_INFO,
			       ch->gpa + ch->size - 8, sizeof(*info), 0, 0, HV_HC_EFAULT);
		} else {
			before = *(volatile uint64_t *)(ch->gpa + 512);
			expect("info to RO channel", HV_HC_PARTITION_INFO, ch->gpa + 512,
			       sizeof(*info), 0, 0, HV_HC_EFAULT);
			GUEST_ASSERT_EQ(*(volatile uint64_t *)(ch->gpa + 512), before);
		}
	}
}

/* Error paths of the channel calls: all are decided before the mailbox
 * state is looked at, so they hold whatever the other partitions do. */
static void test_channel_errors(void)
{
	static const char msg[] = "x";

	expect("send channel out of range", HV_HC_CHANNEL_SEND, NCHANNELS, (uint64_t)msg, 1, 0,
	       HV_HC_EINVAL);
	expect("send channel 2^32", HV_HC_CHANNEL_SEND, 1ull << 32, (uint64_t)msg, 1, 0,
	       HV_HC_EINVAL);
	expect_fail_buf("recv channel out of range", HV_HC_CHANNEL_RECV, ~0ull, (uint64_t)buf,
	                sizeof(buf), HV_HC_EINVAL);
	for (uint32_t c = 0; c < NCHANNELS; c++) {
		const struct hx_boot_range *ch = channel(c);
		if (!ch) {
			expect("send, not a member", HV_HC_CHANNEL_SEND, c, (uint64_t)msg, 1, 0,
			       HV_HC_EPERM);
			expect_fail_buf("recv, not a member", HV_HC_CHANNEL_RECV, c, (uint64_t)buf,
			                sizeof(buf), HV_HC_EPERM);
			continue;
		}
		if (!(ch->perm & 2)) {
			expect("send as RO member", HV_HC_CHANNEL_SEND, c, (uint64_t)msg, 1, 0,
			       HV_HC_EPERM);
		} else {
			expect("send len 0", HV_HC_CHANNEL_SEND, c, (uint64_t)msg, 0, 0,
			       HV_HC_EINVAL);
			expect("send too long", HV_HC_CHANNEL_SEND, c, (uint64_t)buf,
			       HV_HC_MSG_MAX + 1, 0, HV_HC_E2BIG);
			expect("send unmapped source", HV_HC_CHANNEL_SEND, c, UNMAPPED_GPA, 8, 0,
			       HV_HC_EFAULT);
			expect("send wrapping source", HV_HC_CHANNEL_SEND, c, ~0ull - 3, 8, 0,
			       HV_HC_EFAULT);
			expect("send device source", HV_HC_CHANNEL_SEND, c, DEVICE_GPA, 8, 0,
			       HV_HC_EFAULT);
		}
		expect("recv into read-only region", HV_HC_CHANNEL_RECV, c, RO_GPA, 64, 0,
		       HV_HC_EFAULT);
		expect("recv into unmapped", HV_HC_CHANNEL_RECV, c, UNMAPPED_GPA, 64, 0,
		       HV_HC_EFAULT);
		expect("recv wrapping", HV_HC_CHANNEL_RECV, c, ~0ull - 31, 64, 0, HV_HC_EFAULT);
		expect("recv past RAM end", HV_HC_CHANNEL_RECV, c, own_ram.end - 32, 64, 0,
		       HV_HC_EFAULT);
		if (!(ch->perm & 2))
			expect("recv into RO channel", HV_HC_CHANNEL_RECV, c, ch->gpa, 64, 0,
			       HV_HC_EFAULT);
	}
}

/* The lowest-numbered RW member of a channel owns its mailbox in this
 * test: alpha for link, beta for side. */
static void test_channel_roundtrip(void)
{
	static const char ping[] = "ping";
	uint32_t c = hx_partition() == 0 ? 0 : hx_partition() == 1 ? 1 : NCHANNELS;
	const struct hx_boot_range *ch = c < NCHANNELS ? channel(c) : NULL;
	uint64_t len = 0;

	if (!ch)
		return;
	GUEST_ASSERT(ch->perm & 2, "channel %u owner is not RW", c);
	expect("send ping", HV_HC_CHANNEL_SEND, c, (uint64_t)ping, 4, 0, HV_HC_OK);
	GUEST_ASSERT(memcmp((const void *)ch->gpa, ping, 4) == 0,
	             "payload not visible in the channel window");
	expect("send while full", HV_HC_CHANNEL_SEND, c, (uint64_t)ping, 4, 0, HV_HC_EAGAIN);
	expect_fail_buf("recv too small", HV_HC_CHANNEL_RECV, c, (uint64_t)buf, 3, HV_HC_E2BIG);
	fill_buf();
	GUEST_ASSERT_EQ(call(HV_HC_CHANNEL_RECV, c, (uint64_t)buf, sizeof(buf), 0, &len), HV_HC_OK,
	                "%s recv", insn);
	GUEST_ASSERT_EQ(len, 4);
	GUEST_ASSERT(memcmp(buf, ping, 4) == 0 && buf[4] == pattern[4], "recv payload");
	expect_fail_buf("recv empty", HV_HC_CHANNEL_RECV, c, (uint64_t)buf, sizeof(buf),
	                HV_HC_EAGAIN);
}

static void test_protect_errors(void)
{
	uint64_t page = (uint64_t)buf;
	bool allowed = hx_partition() != 1; /* beta has no mem_protect */
	int64_t deny = HV_HC_EPERM;

	expect("protect perm bit 3", HV_HC_MEM_PROTECT, page, 4096, 8, 0,
	       allowed ? HV_HC_EINVAL : deny);
	expect("protect W without R", HV_HC_MEM_PROTECT, page, 4096, 2, 0,
	       allowed ? HV_HC_EINVAL : deny);
	expect("protect unaligned gpa", HV_HC_MEM_PROTECT, page + 8, 4096, 1, 0,
	       allowed ? HV_HC_EINVAL : deny);
	expect("protect unaligned size", HV_HC_MEM_PROTECT, page, 100, 1, 0,
	       allowed ? HV_HC_EINVAL : deny);
	expect("protect size 0", HV_HC_MEM_PROTECT, page, 0, 1, 0, allowed ? HV_HC_EINVAL : deny);
	expect("protect wraps", HV_HC_MEM_PROTECT, ~0ull - 4095, 8192, 1, 0,
	       allowed ? HV_HC_EINVAL : deny);
	expect("protect unmapped", HV_HC_MEM_PROTECT, UNMAPPED_GPA, 4096, 1, 0,
	       allowed ? HV_HC_EFAULT : deny);
	expect("protect device", HV_HC_MEM_PROTECT, DEVICE_GPA, 4096, 0, 0,
	       allowed ? HV_HC_EFAULT : deny);
	expect("protect past RAM end", HV_HC_MEM_PROTECT, own_ram.end - 4096, 8192, 1, 0,
	       allowed ? HV_HC_EFAULT : deny);
	expect("protect read-only region to RW", HV_HC_MEM_PROTECT, RO_GPA, 4096, 3, 0,
	       allowed ? HV_HC_EPERM : deny);
	for (uint32_t c = 0; c < NCHANNELS; c++)
		if (channel(c))
			expect("protect channel window", HV_HC_MEM_PROTECT, channel(c)->gpa, 4096,
			       1, 0, allowed ? HV_HC_EFAULT : deny);
	/* Keeping the permissions a page already has is allowed. */
	expect("protect to the same perms", HV_HC_MEM_PROTECT, page, 4096, 7, 0,
	       allowed ? HV_HC_OK : deny);
	buf[0] = 1;
}

/* true when insn i is a hypercall here; false when it raised #UD, after
 * checking that the attempt had no effect. */
static bool insn_is_hypercall(unsigned i)
{
	int vec;
	uint64_t rdi = 0x5555;
	int64_t st = (i == 0 ? hx_vmcall_safe : hx_vmmcall_safe)(HV_HC_VERSION, 0x5555, 0, 0, 0,
	                                                         &rdi, &vec);
	if (vec == HX_NO_FAULT)
		return true;
	GUEST_ASSERT_EQ(vec, HX_VEC_UD, "%s raised an exception other than #UD", insns[i].name);
	GUEST_ASSERT_EQ(rdi, 0x5555, "%s raised #UD and changed RDI", insns[i].name);
	(void)st;
	GUEST_PRINTF("note: %s raises #UD here (the other vendor's instruction): not tested",
	             insns[i].name);
	return false;
}

static void test_allowed(void)
{
	expect("yield", HV_HC_YIELD, 0, 0, 0, 0, hx_partition() == 2 ? HV_HC_EPERM : HV_HC_OK);
}

/* CPL 3: every hypercall instruction raises #UD, nothing happens. */
struct user_result {
	int vec_version, vec_info, vec_console, vec_vmm_info;
	int64_t st, vmm_st;
	uint64_t rdi;
};
static struct user_result ures;

static uint64_t user_calls(uint64_t arg)
{
	struct hv_hc_info *info = (struct hv_hc_info *)buf;

	ures.rdi = 0x7777;
	ures.st = hx_vmcall_safe(HV_HC_VERSION, 0x7777, 0, 0, 0, &ures.rdi, &ures.vec_version);
	hx_vmcall_safe(HV_HC_PARTITION_INFO, (uint64_t)info, sizeof(*info), 0, 0, NULL,
	               &ures.vec_info);
	hx_vmcall_safe(HV_HC_CONSOLE_WRITE, (uint64_t) "user\n", 5, 0, 0, NULL, &ures.vec_console);
	ures.vmm_st = hx_vmmcall_safe(HV_HC_PARTITION_INFO, (uint64_t)info, sizeof(*info), 0, 0,
	                              NULL, &ures.vec_vmm_info);
	return arg + hx_cpl();
}

/* A hypercall instruction at CPL 3 must have no effect. Which instruction
 * the hardware breakpoints catch depends on the host: the one the vendor
 * does not implement is #UD-intercepted and emulated by KVM (VMCALL on
 * AMD, VMMCALL on Intel) and reaches the core, which raises #UD; the
 * native one is invisible at CPL 3 and goes to KVM's own hypercall code,
 * which refuses CPL 3 with -KVM_EPERM (-1) and no fault. The core is not
 * involved then; what must hold either way is no effect. */
static void expect_refused_at_cpl3(int vec, int64_t st, const char *what)
{
	if (vec == HX_VEC_UD)
		return;
	GUEST_ASSERT_EQ(vec, HX_NO_FAULT, "%s at CPL 3", what);
	GUEST_ASSERT_EQ(st, -1, "%s at CPL 3 not intercepted: KVM's answer", what);
	GUEST_PRINTF("note: %s at CPL 3 was not intercepted (KVM answered %ld itself)", what, st);
}

static void test_cpl3(void)
{
	fill_buf();
	GUEST_ASSERT_EQ(hx_user_call(user_calls, 100), 103, "user code did not run at CPL 3");
	expect_refused_at_cpl3(ures.vec_version, ures.st, "VMCALL VERSION");
	GUEST_ASSERT_EQ(ures.rdi, 0x7777, "VMCALL at CPL 3 changed RDI");
	/* The two VMCALLs below were caught the same way as the first. */
	GUEST_ASSERT_EQ(ures.vec_info, ures.vec_version, "VMCALL PARTITION_INFO at CPL 3");
	GUEST_ASSERT_EQ(ures.vec_console, ures.vec_version, "VMCALL CONSOLE_WRITE at CPL 3");
	expect_refused_at_cpl3(ures.vec_vmm_info, ures.vmm_st, "VMMCALL PARTITION_INFO");
	buf_unchanged("CPL 3 PARTITION_INFO");
	GUEST_ASSERT_EQ(hx_cpl(), 0);
}

void guest_main(void)
{
	const struct hx_boot_range *r = hx_find_range(HX_RANGE_RAM, 0);

	GUEST_ASSERT(r && r->gpa == 0, "no RAM at GPA 0 in boot info");
	own_ram.gpa = r->gpa;
	own_ram.end = r->gpa + r->size;
	for (unsigned i = 0; i < 2; i++) {
		if (!insn_is_hypercall(i))
			continue;
		call = insns[i].fn;
		insn = insns[i].name;
		test_numbers();
		test_registers();
		GUEST_SYNC(10 * i + 1);
		test_console();
		test_info();
		GUEST_SYNC(10 * i + 2);
		test_channel_errors();
		test_channel_roundtrip();
		GUEST_SYNC(10 * i + 3);
		test_protect_errors();
		test_allowed();
	}
	test_cpl3();
	GUEST_DONE();
}
