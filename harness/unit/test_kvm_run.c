/* The KVM runner end to end on /dev/kvm, with tiny guests assembled into
 * this test: ucalls, CPUID through the hardware breakpoint and through
 * single-step, the console device (store located after KVM ran it, load
 * completed by KVM, both compared: DECODE-EQ), containment by halt, MSR
 * and hypercall exits, timeout, triple fault, the broken-EPT negative
 * control, recording, bad input. Skips (with a message) only where
 * /dev/kvm cannot be opened. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/cpuid.h"
#include "hv/hcall.h"
#include "hx/guest_abi.h"
#include "kvm_elf_builder.h"
#include "kvm_vm.h"
#include "mock_config.h"
#include "runner.h"
#include "slots.h"
#include "trace.h"

#define BASE 0x100000ull
#define DATA 0x102000ull
#define UC_DONE 0x102000
#define UC_ASSERT 0x102100
#define UC_FOUND 0x102200
#define UC_SYNC 0x102300

/* Guest code, assembled with this test (never run on the host). */
#define GUEST(name, body)                                                                          \
	__asm__(".pushsection .rodata\n"                                                           \
	        ".globl kt_" #name "_start, kt_" #name "_end\n"                                    \
	        "kt_" #name "_start:\n" body "kt_" #name "_end:\n"                                 \
	        ".popsection\n");                                                                  \
	extern const uint8_t kt_##name##_start[], kt_##name##_end[]
#define UCALL(addr) "mov $" #addr ", %eax\n out %eax, $0xe9\n"
#define DONE UCALL(0x102000) "hlt\n"
#define FAIL UCALL(0x102100) "hlt\n"

GUEST(done, DONE);
GUEST(cpuid, "mov $0x40000000, %eax\n xor %ecx, %ecx\n"
             ".globl kt_cpuid_site\nkt_cpuid_site: cpuid\n"
             "cmp $0x78687868, %ebx\n jne 1f\n" DONE "1: " FAIL);
GUEST(mmio, "mov $0xfed00000, %edi\n movabs $0x1122334455667788, %rax\n"
            "mov %rax, 0x20(%rdi)\n mov 0x20(%rdi), %rbx\n cmp %rax, %rbx\n jne 1f\n"
            "movl 0x8(%rdi), %ecx\n test $1, %ecx\n jz 1f\n" DONE "1: " FAIL);
GUEST(unmapped, "mov $0x80000000, %edi\n movl $1, (%rdi)\n" DONE);
GUEST(hang, "1: jmp 1b\n");
GUEST(repstos, "mov $0xfed00020, %edi\n mov $4, %ecx\n mov $0x42, %al\n rep stosb\n" DONE);
GUEST(triple, "ud2\n");
GUEST(msr, "mov $0xc0000103, %ecx\n mov $0x1234abcd, %eax\n xor %edx, %edx\n wrmsr\n"
           "xor %eax, %eax\n rdmsr\n cmp $0x1234abcd, %eax\n jne 1f\n" DONE "1: " FAIL);
GUEST(vmmcall, "xor %eax, %eax\n xor %edi, %edi\n"
               ".globl kt_vmmcall_site\nkt_vmmcall_site: vmmcall\n"
               "test %rax, %rax\n jnz 1f\n cmp $0x10000, %rdi\n jne 1f\n" DONE "1: " FAIL);
/* One word per page of [6 MiB, 8 MiB): a canary of another owner is
 * reported with HX_UCALL_FOUND (args gpa, value). */
GUEST(canary, "lea 1(%rdi), %r15\n mov $0x600000, %esi\n mov $0x800000, %r14d\n"
              "2: mov (%rsi), %rax\n mov %rax, %rdx\n shr $48, %rdx\n cmp $0xca5a, %edx\n"
              "jne 3f\n mov %rax, %rdx\n shr $40, %rdx\n and $0xff, %edx\n cmp %r15d, %edx\n"
              "je 3f\n mov %rsi, 0x102208\n mov %rax, 0x102210\n" UCALL(
                      0x102200) "jmp 4f\n"
                                "3: add $0x1000, %rsi\n cmp %r14, %rsi\n jb 2b\n"
                                "4: " DONE);
extern const uint8_t kt_cpuid_site[], kt_vmmcall_site[];

/* Skipped only where there is no /dev/kvm at all; a /dev/kvm that exists
 * but cannot be used fails every test. */
static bool kvm_present, kvm_ok;

static int setup(void **state)
{
	(void)state;
	kvm_present = access("/dev/kvm", F_OK) == 0;
	kvm_ok = hxk_kvm_available();
	if (!kvm_present)
		printf("SKIP: no /dev/kvm on this machine: the KVM runner tests need it\n");
	return 0;
}

#define NEED_KVM()                                                                                 \
	do {                                                                                       \
		if (!kvm_present)                                                                  \
			skip();                                                                    \
		if (!kvm_ok)                                                                       \
			fail_msg("/dev/kvm exists but cannot be opened read-write");               \
	} while (0)

struct guest_file {
	char path[64];
};

static void put_ucall(uint8_t *data, uint64_t gpa, uint32_t type, uint32_t line, const char *file,
                      const char *msg)
{
	struct hx_ucall uc;
	memset(&uc, 0, sizeof(uc));
	uc.type = type;
	uc.line = line;
	snprintf(uc.file, sizeof(uc.file), "%s", file);
	snprintf(uc.msg, sizeof(uc.msg), "%s", msg);
	memcpy(data + (gpa - DATA), &uc, sizeof(uc));
}

/* Write an image with code [start, end) at BASE, the ucall structs at
 * DATA and the given site symbols (offsets into the code). */
static void make_guest(struct guest_file *g, const uint8_t *start, const uint8_t *end,
                       const struct kt_sym *syms, size_t nsyms)
{
	static uint8_t data[0x400];
	memset(data, 0, sizeof(data));
	put_ucall(data, UC_DONE, HX_UCALL_DONE, 1, "kt.c", "");
	put_ucall(data, UC_ASSERT, HX_UCALL_ASSERT, 42, "kt.c", "boom");
	put_ucall(data, UC_FOUND, HX_UCALL_FOUND, 7, "kt.c", "");
	put_ucall(data, UC_SYNC, HX_UCALL_SYNC, 3, "kt.c", "");
	struct kt_image img = {
	        .code = start,
	        .code_len = (size_t)(end - start),
	        .base = BASE,
	        .data = data,
	        .data_len = sizeof(data),
	        .data_gpa = DATA,
	        .syms = syms,
	        .nsyms = nsyms,
	};
	static uint8_t buf[16384];
	size_t len = kt_build_elf(&img, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(kt_write_temp(buf, len, g->path), 0);
}

struct run {
	struct hv_system_config cfg;
	struct hxk_options opt;
	struct hxk_report rep;
	struct hxk_err err;
	const char *images[HV_MAX_PARTITIONS];
};

static struct run *new_run(void (*make)(struct hv_system_config *))
{
	struct run *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	make(&r->cfg);
	for (uint32_t i = 0; i < r->cfg.npartitions; i++)
		r->cfg.partitions[i].nvcpus = 1;
	hxk_options_default(&r->opt);
	r->opt.quiet = true;
	r->opt.timeout_s = 5;
	return r;
}

static enum hxk_run_status go(struct run *r, const struct guest_file *g)
{
	for (uint32_t i = 0; i < r->cfg.npartitions; i++)
		r->images[i] = g->path;
	enum hxk_run_status s = hxk_run(&r->cfg, r->images, &r->opt, &r->rep, &r->err);
	if (s != HXK_RUN_DONE)
		printf("hxk_run: %s\n", r->err.msg);
	return s;
}

static void expect_outcome(const struct run *r, uint32_t part, enum hxk_outcome o)
{
	const struct hxk_part_report *p = &r->rep.parts[part];
	if (p->outcome != o) {
		hxk_report_print(stdout, &r->cfg, &r->rep, true);
		fail_msg("partition %u: %s (%s), expected %s", part, hxk_outcome_str(p->outcome),
		         p->detail, hxk_outcome_str(o));
	}
}

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_done(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_done_start, kt_done_end, NULL, 0);
	struct run *r = new_run(mock_config_one);
	int fds = open_fds();
	struct sigaction before, after;
	sigaction(SIGALRM, NULL, &before);
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	/* Every fd closed, the timer stopped and the signal handler restored. */
	assert_int_equal(open_fds(), fds);
	sigaction(SIGALRM, NULL, &after);
	assert_ptr_equal(after.sa_handler, before.sa_handler);
	struct itimerval it;
	getitimer(ITIMER_REAL, &it);
	assert_int_equal(it.it_value.tv_sec, 0);
	assert_int_equal(it.it_value.tv_usec, 0);
	expect_outcome(r, 0, HXK_OUT_PASS);
	assert_int_equal(r->rep.parts[0].by_kind[HXK_K_UCALL], 1);
	assert_int_equal(r->rep.nviolations, 0);
	assert_true(r->rep.passed);
	/* The oracles and the start/end EPT verification ran. */
	assert_true(r->rep.total_checks > 0);
	/* RWX RAM, RW UC MMIO: the runner says what KVM cannot enforce. */
	assert_true(r->rep.parts[0].unenforced & HXK_UNENF_NX_RW);
	free(r);
	unlink(g.path);
}

static void test_cpuid(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	const struct kt_sym sym = {"hx_cpuid_site",
	                           BASE + (uint64_t)(kt_cpuid_site - kt_cpuid_start)};
	make_guest(&g, kt_cpuid_start, kt_cpuid_end, &sym, 1);
	struct run *r = new_run(mock_config_one);
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_PASS); /* the core's signature, not KVM's */
	assert_int_equal(r->rep.parts[0].by_kind[HV_EXIT_CPUID], 1);
	free(r);
	unlink(g.path);

	/* Without the site symbol the CPUID runs natively under KVM and sees
	 * KVM's own leaf 0x40000000: the guest's check fails. */
	make_guest(&g, kt_cpuid_start, kt_cpuid_end, NULL, 0);
	r = new_run(mock_config_one);
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_FAIL);
	assert_non_null(strstr(r->rep.parts[0].detail, "kt.c:42: boom"));
	assert_false(r->rep.passed);
	free(r);

	/* Single-step finds the CPUID by decoding. */
	r = new_run(mock_config_one);
	r->opt.single_step = true;
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_PASS);
	assert_int_equal(r->rep.parts[0].by_kind[HV_EXIT_CPUID], 1);
	assert_true(r->rep.parts[0].by_kind[HXK_K_STEP] >= 2);
	free(r);
	unlink(g.path);
}

static void test_mmio_device(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_mmio_start, kt_mmio_end, NULL, 0);
	for (int step = 0; step < 2; step++) {
		struct run *r = new_run(mock_config_one);
		r->opt.single_step = step;
		assert_int_equal(go(r, &g), HXK_RUN_DONE);
		expect_outcome(r, 0, HXK_OUT_PASS);
		const struct hxk_part_report *p = &r->rep.parts[0];
		assert_int_equal(p->by_kind[HV_EXIT_EPT_VIOLATION], 3);
		assert_int_equal(p->ept_kinds[HXK_EPT_MMIO_WRITE], 1);
		assert_int_equal(p->ept_kinds[HXK_EPT_MMIO_READ], 2);
		assert_int_equal(r->rep.per_inv[HV_INV_DECODE_EQ], 0);
		assert_int_equal(r->rep.nviolations, 0);
		free(r);
	}
	unlink(g.path);
}

static void test_contained_store(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_unmapped_start, kt_unmapped_end, NULL, 0);
	struct run *r = new_run(mock_config_one); /* contain: halt */
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_HALTED);
	assert_int_equal(r->rep.parts[0].halt_reason, HV_HALT_VIOLATION);
	assert_false(r->rep.passed);
	free(r);
	/* A REP STOS to the device: KVM reports its first element with RIP
	 * still at the instruction; the runner hands it to the core, which
	 * does not emulate string stores and halts the partition. */
	struct guest_file g2;
	make_guest(&g2, kt_repstos_start, kt_repstos_end, NULL, 0);
	r = new_run(mock_config_one);
	assert_int_equal(go(r, &g2), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_HALTED);
	assert_int_equal(r->rep.parts[0].halt_reason, HV_HALT_VIOLATION);
	assert_int_equal(r->rep.nviolations, 0);
	free(r);
	unlink(g2.path);
	/* Stated as expected, the same run passes. */
	r = new_run(mock_config_one);
	assert_true(hxk_expect_parse("halted:violation", &r->opt.expect[0]));
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	assert_true(r->rep.passed);
	free(r);
	unlink(g.path);
}

static void test_hang_and_triple_fault(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_hang_start, kt_hang_end, NULL, 0);
	struct run *r = new_run(mock_config_one);
	r->opt.timeout_s = 0.3;
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_TIMEOUT);
	assert_true(r->rep.seconds < 3);
	free(r);
	unlink(g.path);

	make_guest(&g, kt_triple_start, kt_triple_end, NULL, 0);
	r = new_run(mock_config_one);
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_HALTED);
	assert_int_equal(r->rep.parts[0].halt_reason, HV_HALT_TRIPLE_FAULT);
	free(r);
	unlink(g.path);
}

static void test_msr_and_hypercall(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_msr_start, kt_msr_end, NULL, 0);
	struct run *r = new_run(mock_config_one); /* TSC_AUX emulated, low 32 bits */
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_PASS);
	assert_int_equal(r->rep.parts[0].by_kind[HV_EXIT_WRMSR], 1);
	assert_int_equal(r->rep.parts[0].by_kind[HV_EXIT_RDMSR], 1);
	free(r);
	unlink(g.path);

	const struct kt_sym sym = {"hx_vmmcall_site",
	                           BASE + (uint64_t)(kt_vmmcall_site - kt_vmmcall_start)};
	make_guest(&g, kt_vmmcall_start, kt_vmmcall_end, &sym, 1);
	r = new_run(mock_config_one);
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_PASS);
	assert_int_equal(r->rep.parts[0].by_kind[HV_EXIT_VMCALL], 1);
	free(r);
	unlink(g.path);
}

/* The negative control: partition 0's EPT maps a 2 MiB block of partition
 * 1's RAM. The guest sees the foreign canary and the verifier names it. */
static void test_broken_ept_is_detected(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_canary_start, kt_canary_end, NULL, 0);
	struct run *r = new_run(mock_config_two);
	assert_int_equal(go(r, &g), HXK_RUN_DONE); /* intact EPTs: nothing found */
	expect_outcome(r, 0, HXK_OUT_PASS);
	expect_outcome(r, 1, HXK_OUT_PASS);
	assert_int_equal(r->rep.nviolations, 0);
	assert_true(r->rep.passed);
	free(r);

	r = new_run(mock_config_two);
	r->opt.break_ept_foreign = true;
	r->opt.out = fopen("/dev/null", "w");
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	fclose(r->opt.out);
	assert_false(r->rep.passed);
	assert_true(r->rep.per_inv[HV_INV_EPT_OWN] >= 2);
	bool by_guest = false, by_verifier = false;
	for (uint32_t i = 0; i < r->rep.nstored; i++) {
		const struct hxk_violation *v = &r->rep.violations[i];
		if (v->inv != HV_INV_EPT_OWN)
			continue;
		assert_int_equal(v->partition, 0);
		by_guest |= strstr(v->msg, "guest found foreign memory") &&
		            strstr(v->msg, "partition 1") != NULL;
		by_verifier |= strstr(v->msg, "hv_ept_verify") != NULL;
	}
	assert_true(by_guest);
	assert_true(by_verifier);
	assert_int_equal(r->rep.parts[1].violations, 0);
	free(r);

	/* Expected violations make it a passing negative control. */
	r = new_run(mock_config_two);
	r->opt.break_ept_foreign = true;
	r->opt.expect_inv = 1u << HV_INV_EPT_OWN | 1u << HV_INV_EPT_EXACT;
	r->opt.out = fopen("/dev/null", "w");
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	fclose(r->opt.out);
	assert_true(r->rep.passed);
	free(r);
	unlink(g.path);
}

static void test_record(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g;
	make_guest(&g, kt_mmio_start, kt_mmio_end, NULL, 0);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/hx-kvm-trace-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct run *r = new_run(mock_config_one);
	r->opt.record = path;
	assert_int_equal(go(r, &g), HXK_RUN_DONE);
	expect_outcome(r, 0, HXK_OUT_PASS);
	assert_true(r->rep.recorded);
	struct hx_trace *t = NULL;
	struct hx_trace_error terr;
	if (hx_trace_load(path, &t, &terr) != 0)
		fail_msg("trace: %s", terr.msg);
	assert_int_equal(t->nexits, r->rep.total_exits);
	assert_int_equal(t->nexits, 3);
	assert_int_equal(t->exits[0].in.reason, HV_EXIT_EPT_VIOLATION);
	assert_int_equal(t->exits[0].in.qual & HV_QUAL_WRITE, HV_QUAL_WRITE);
	assert_true(t->exits[0].flags & HX_TREC_OUTPUTS);
	hx_trace_free(t);
	free(r);
	unlink(path);
	unlink(g.path);
}

static void test_bad_input(void **state)
{
	(void)state;
	NEED_KVM();
	struct guest_file g = {"/nonexistent/guest.elf"};
	struct run *r = new_run(mock_config_one);
	assert_int_equal(go(r, &g), HXK_RUN_BAD_INPUT);
	assert_non_null(strstr(r->err.msg, "cannot open"));
	free(r);

	make_guest(&g, kt_done_start, kt_done_end, NULL, 0);
	r = new_run(mock_config_one);
	r->cfg.host_mem_size = 16ull << 30;
	assert_int_equal(go(r, &g), HXK_RUN_BAD_INPUT);
	assert_non_null(strstr(r->err.msg, "exceeds the KVM runner's limit"));
	free(r);

	r = new_run(mock_config_one);
	r->opt.only_partition = 3;
	assert_int_equal(go(r, &g), HXK_RUN_BAD_INPUT);
	assert_non_null(strstr(r->err.msg, "--partition 3"));
	free(r);

	/* RAM that does not start at GPA 0 breaks the guest ABI. */
	r = new_run(mock_config_one);
	r->cfg.partitions[0].regions[0].gpa = 0x20000000;
	assert_int_equal(go(r, &g), HXK_RUN_BAD_INPUT);
	assert_non_null(strstr(r->err.msg, "RAM at GPA 0"));
	free(r);

	/* --break-ept foreign needs a second partition. */
	r = new_run(mock_config_one);
	r->opt.break_ept_foreign = true;
	assert_int_equal(go(r, &g), HXK_RUN_BAD_INPUT);
	assert_non_null(strstr(r->err.msg, "two partitions"));
	free(r);
	unlink(g.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_done),
	        cmocka_unit_test(test_cpuid),
	        cmocka_unit_test(test_mmio_device),
	        cmocka_unit_test(test_contained_store),
	        cmocka_unit_test(test_hang_and_triple_fault),
	        cmocka_unit_test(test_msr_and_hypercall),
	        cmocka_unit_test(test_broken_ept_is_detected),
	        cmocka_unit_test(test_record),
	        cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests_name("kvm_run", tests, setup, NULL);
}
