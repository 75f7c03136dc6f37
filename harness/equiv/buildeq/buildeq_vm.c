/* The guest machine of BUILD-EQ: one KVM VM with one vCPU that runs the
 * freestanding replay image. The VM, its memslots and long mode come from
 * the KVM runner's layer (harness/kvm: kvm_vm, guest_setup, hostmem); this
 * file adds what the image needs beyond a guest program: the upper-half
 * mapping it is linked for, the host-memory window above 4 GiB, and a run
 * loop that stops at the image's signals or at a deadline. */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>

#include "buildeq_internal.h"
#include "guest_setup.h"
#include "hostmem.h"
#include "escape.h"
#include "hx/guest_abi.h"
#include "input_file.h"

#define SIZE_2M (2ull << 20)
#define SIZE_1G (1ull << 30)
#define IMAGE_FILE_MAX (16u << 20)

/* Page-table entry bits (Intel SDM Vol. 3A, 4.5, Tables 4-15 to 4-18). */
#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)

double beq_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the image ---- */

static bool in_file(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

static int read_file(const char *path, struct beq_image *img, struct hxk_err *err)
{
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, IMAGE_FILE_MAX, &img->data, &img->size, why, sizeof(why)) != 0)
		return hxk_fail(err, "the freestanding image %s: %s", hx_esc(path), why);
	return 0;
}

static int check_segment(const char *path, const Elf64_Phdr *ph, uint32_t i, size_t size,
                         struct hxk_err *err)
{
	if (ph->p_filesz > ph->p_memsz)
		return hxk_fail(err, "%s: segment %u: p_filesz 0x%llx above p_memsz 0x%llx", path,
		                i, (unsigned long long)ph->p_filesz,
		                (unsigned long long)ph->p_memsz);
	if (!in_file(ph->p_offset, ph->p_filesz, size))
		return hxk_fail(err, "%s: segment %u: file bytes run past the end (%zu bytes)",
		                path, i, size);
	return 0;
}

static int check_placement(const char *path, const Elf64_Phdr *ph, uint32_t i, struct hxk_err *err)
{
	if (ph->p_paddr < BEQ_IMAGE_LMA || ph->p_memsz > BEQ_IMAGE_MAX ||
	    ph->p_paddr - BEQ_IMAGE_LMA > BEQ_IMAGE_MAX - ph->p_memsz)
		return hxk_fail(err,
		                "%s: segment %u: loads at [0x%llx, +0x%llx), outside the image "
		                "area [0x%llx, +0x%llx) (link with harness/equiv/buildeq/"
		                "image.ld)",
		                path, i, (unsigned long long)ph->p_paddr,
		                (unsigned long long)ph->p_memsz, (unsigned long long)BEQ_IMAGE_LMA,
		                (unsigned long long)BEQ_IMAGE_MAX);
	if (ph->p_vaddr != BEQ_HIGH_BASE + ph->p_paddr)
		return hxk_fail(err,
		                "%s: segment %u: p_vaddr 0x%llx is not BEQ_HIGH_BASE + p_paddr "
		                "(0x%llx)",
		                path, i, (unsigned long long)ph->p_vaddr,
		                (unsigned long long)(BEQ_HIGH_BASE + ph->p_paddr));
	return 0;
}

/* The symbol table is optional: a stripped or odd one just means reports
 * without function names. */
static void read_symbols(struct beq_image *img, const Elf64_Ehdr *eh)
{
	if (eh->e_shoff == 0 || eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), img->size))
		return;
	for (uint32_t i = 0; i < eh->e_shnum; i++) {
		Elf64_Shdr sh, st;
		memcpy(&sh, img->data + eh->e_shoff + (uint64_t)i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB || sh.sh_entsize != sizeof(Elf64_Sym) ||
		    !in_file(sh.sh_offset, sh.sh_size, img->size) || sh.sh_link >= eh->e_shnum)
			continue;
		memcpy(&st, img->data + eh->e_shoff + (uint64_t)sh.sh_link * sizeof(st),
		       sizeof(st));
		if (st.sh_type != SHT_STRTAB || !in_file(st.sh_offset, st.sh_size, img->size))
			continue;
		img->symoff = sh.sh_offset;
		img->nsyms = sh.sh_size / sizeof(Elf64_Sym);
		img->stroff = st.sh_offset;
		img->strsz = st.sh_size;
		return;
	}
}

void beq_image_symbolize(const struct beq_image *img, uint64_t va, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!img)
		return;
	Elf64_Sym best = {0};
	for (uint64_t i = 0; i < img->nsyms; i++) {
		Elf64_Sym s;
		memcpy(&s, img->data + img->symoff + i * sizeof(s), sizeof(s));
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || s.st_value > va ||
		    (s.st_size && va - s.st_value >= s.st_size) || s.st_name >= img->strsz)
			continue;
		if (s.st_value >= best.st_value)
			best = s;
	}
	if (!best.st_value)
		return;
	const char *name = (const char *)img->data + img->stroff + best.st_name;
	size_t max = img->strsz - best.st_name;
	snprintf(buf, len, " (%.*s+0x%llx)", (int)strnlen(name, max > 128 ? 128 : max), name,
	         (unsigned long long)(va - best.st_value));
}

int beq_image_read(const char *path, struct beq_image *img, struct hxk_err *err)
{
	memset(img, 0, sizeof(*img));
	if (read_file(path, img, err) != 0)
		goto fail;
	char epath[256];
	path = hx_escape(path, epath, sizeof(epath));
	Elf64_Ehdr eh;
	if (img->size < sizeof(eh)) {
		hxk_fail(err, "%s: %zu bytes: too short for an ELF header", path, img->size);
		goto fail;
	}
	memcpy(&eh, img->data, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64 ||
	    eh.e_type != ET_EXEC) {
		hxk_fail(err, "%s: not a static ELF64 x86-64 executable", path);
		goto fail;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr), img->size)) {
		hxk_fail(err, "%s: program headers (e_phoff 0x%llx, %u of %u bytes) are malformed",
		         path, (unsigned long long)eh.e_phoff, eh.e_phnum, eh.e_phentsize);
		goto fail;
	}
	for (uint32_t i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img->data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC || ph.p_type == PT_TLS) {
			hxk_fail(err, "%s: program header %u: type %u: not a bare-metal image",
			         path, i, ph.p_type);
			goto fail;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		/* Checked before an empty segment is skipped: p_memsz 0 must not
		 * hide file bytes that run past the end. */
		if (check_segment(path, &ph, i, img->size, err) != 0)
			goto fail;
		if (ph.p_memsz == 0)
			continue;
		if (img->nsegs == BEQ_MAX_SEGS) {
			hxk_fail(err, "%s: more than %d loadable segments", path, BEQ_MAX_SEGS);
			goto fail;
		}
		if (check_placement(path, &ph, i, err) != 0)
			goto fail;
		img->segs[img->nsegs].lma = ph.p_paddr;
		img->segs[img->nsegs].filesz = ph.p_filesz;
		img->segs[img->nsegs].memsz = ph.p_memsz;
		img->segs[img->nsegs].offset = ph.p_offset;
		img->nsegs++;
	}
	read_symbols(img, &eh);
	img->entry = eh.e_entry;
	for (uint32_t i = 0; i < img->nsegs; i++) {
		uint64_t va = BEQ_HIGH_BASE + img->segs[i].lma;
		if (img->entry >= va && img->entry - va < img->segs[i].memsz)
			return 0;
	}
	hxk_fail(err, "%s: entry point 0x%llx lies outside every loadable segment", path,
	         (unsigned long long)img->entry);
fail:
	beq_image_free(img);
	return -1;
}

void beq_image_free(struct beq_image *img)
{
	free(img->data);
	memset(img, 0, sizeof(*img));
}

/* ---- the machine ---- */

void *beq_vm_ram(const struct beq_vm *m, uint64_t gpa, uint64_t len)
{
	if (!m->ram || gpa > m->ram_size || len > m->ram_size - gpa)
		return NULL;
	return m->ram + gpa;
}

static void *ram_ptr(void *ctx, uint64_t gpa, uint64_t len)
{
	return beq_vm_ram(ctx, gpa, len);
}

static uint64_t *table(struct beq_vm *m, uint64_t gpa)
{
	return beq_vm_ram(m, gpa, 0x1000);
}

/* The runner's tables map [0, 4 GiB) (PML4 at HX_GUEST_PT_GPA, PDPT after
 * it). Added here: PML4[511] -> PDPT[510] -> a PD that maps guest-physical
 * [0, 1 GiB) at BEQ_HIGH_BASE (the kernel code model's -2 GiB), and PDPT
 * entries 4.. for the window, each with a PD of 2 MiB pages. */
static int write_extra_tables(struct beq_vm *m, struct hxk_err *err)
{
	const uint64_t tbl = PTE_P | PTE_RW | PTE_A;
	const uint64_t leaf = PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS;
	uint64_t *pml4 = table(m, HX_GUEST_PT_GPA);
	uint64_t *pdpt = table(m, HX_GUEST_PT_GPA + 0x1000);
	uint64_t *hi_pdpt = table(m, BEQ_XPT_GPA);
	uint64_t *hi_pd = table(m, BEQ_XPT_GPA + 0x1000);
	if (!pml4 || !pdpt || !hi_pdpt || !hi_pd)
		return hxk_fail(err, "guest RAM too small for the page tables");
	pml4[511] = BEQ_XPT_GPA | tbl;
	hi_pdpt[510] = (BEQ_XPT_GPA + 0x1000) | tbl;
	for (uint64_t j = 0; j < 512; j++)
		hi_pd[j] = (j * SIZE_2M) | leaf;
	uint64_t gib = (m->window_size + SIZE_1G - 1) / SIZE_1G;
	for (uint64_t i = 0; i < gib; i++) {
		uint64_t pd_gpa = BEQ_XPT_GPA + (2 + i) * 0x1000;
		uint64_t *pd = table(m, pd_gpa);
		if (!pd)
			return hxk_fail(err, "guest RAM too small for the window tables");
		pdpt[(BEQ_WINDOW_GPA >> 30) + i] = pd_gpa | tbl;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = (BEQ_WINDOW_GPA + i * SIZE_1G + j * SIZE_2M) | leaf;
	}
	return 0;
}

static int load_image(struct beq_vm *m, const struct beq_image *img, struct hxk_err *err)
{
	for (uint32_t i = 0; i < img->nsegs; i++) {
		uint8_t *dst = beq_vm_ram(m, img->segs[i].lma, img->segs[i].memsz);
		if (!dst)
			return hxk_fail(err, "image segment %u does not fit guest RAM", i);
		memcpy(dst, img->data + img->segs[i].offset, img->segs[i].filesz);
		memset(dst + img->segs[i].filesz, 0, img->segs[i].memsz - img->segs[i].filesz);
	}
	return 0;
}

static int start_cpu(struct beq_vm *m, const struct beq_image *img, struct hxk_err *err)
{
	struct hxk_vcpu *vc = &m->vm.vcpus[0];
	struct kvm_sregs s;
	if (hxk_vcpu_get_sregs(vc, &s, err) != 0)
		return -1;
	hxk_guest_sregs(&s);
	if (hxk_vcpu_set_sregs(vc, &s, err) != 0)
		return -1;
	struct kvm_regs r;
	hxk_guest_regs(&r, img->entry, 0, 0);
	return hxk_vcpu_set_regs(vc, &r, err);
}

int beq_vm_create(struct beq_vm *m, const struct hxk_kvm *kvm, const struct beq_image *img,
                  uint32_t pool_pages, uint64_t host_size, struct hxk_err *err)
{
	memset(m, 0, sizeof(*m));
	if (host_size == 0 || host_size > BEQ_WINDOW_MAX)
		return hxk_fail(err,
		                "host memory of 0x%llx bytes (%llu MiB) does not fit the "
		                "freestanding image's window of at most %llu MiB",
		                (unsigned long long)host_size,
		                (unsigned long long)(host_size >> 20),
		                (unsigned long long)(BEQ_WINDOW_MAX >> 20));
	m->host_size = host_size;
	m->img = img;
	m->window_size = (host_size + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1);
	m->ram_size = BEQ_POOL_GPA + ((uint64_t)pool_pages << HV_PAGE_SHIFT);
	m->ram_size = (m->ram_size + SIZE_2M - 1) & ~(SIZE_2M - 1);
	void *ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED) {
		m->ram = NULL;
		return hxk_fail_errno(err, "mmap of %llu MiB guest RAM failed",
		                      (unsigned long long)(m->ram_size >> 20));
	}
	m->ram = ram;
	struct hxk_hostmem win;
	if (hxk_hostmem_map(&win, m->window_size, err) != 0)
		goto fail;
	m->window = win.base;
	if (hxk_vm_create(kvm, &m->vm, 1, err) != 0)
		goto fail;
	m->have_vm = true;
	if (hxk_vm_set_slot(&m->vm, 0, 0, m->ram_size, m->ram, false, err) != 0 ||
	    hxk_vm_set_slot(&m->vm, 1, BEQ_WINDOW_GPA, m->window_size, m->window, false, err) != 0)
		goto fail;
	if (hxk_guest_write_tables(ram_ptr, m, err) != 0 || write_extra_tables(m, err) != 0 ||
	    load_image(m, img, err) != 0 || start_cpu(m, img, err) != 0)
		goto fail;
	return 0;
fail:
	beq_vm_destroy(m);
	return -1;
}

void beq_vm_destroy(struct beq_vm *m)
{
	if (m->have_vm)
		hxk_vm_destroy(&m->vm);
	if (m->ram)
		munmap(m->ram, m->ram_size);
	if (m->window)
		munmap(m->window, m->window_size);
	memset(m, 0, sizeof(*m));
}

/* ---- running ---- */

/* The vCPU being run; the timer's handler kicks it out of KVM_RUN. */
static struct kvm_run *volatile kick_run;
static struct sigaction old_alarm;
static bool timer_installed;

static void on_tick(int sig)
{
	(void)sig;
	struct kvm_run *r = kick_run;
	if (r)
		r->immediate_exit = 1;
}

int beq_timer_start(struct hxk_err *err)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_tick;
	sa.sa_flags = SA_RESTART; /* KVM_RUN still returns EINTR; other calls restart */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, &old_alarm) != 0)
		return hxk_fail_errno(err, "sigaction(SIGALRM)");
	timer_installed = true;
	return 0;
}

void beq_timer_stop(void)
{
	if (!timer_installed)
		return;
	struct itimerval off;
	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
	sigaction(SIGALRM, &old_alarm, NULL);
	timer_installed = false;
}

static void arm(bool on)
{
	struct itimerval it;
	memset(&it, 0, sizeof(it));
	if (on) {
		it.it_interval.tv_usec = 20000;
		it.it_value.tv_usec = 20000;
	}
	setitimer(ITIMER_REAL, &it, NULL);
}

static int crash(const struct beq_vm *m, const struct kvm_run *run, struct hxk_err *err)
{
	unsigned long long rip = (unsigned long long)run->s.regs.regs.rip;
	char fn[160];
	beq_image_symbolize(m->img, rip, fn, sizeof(fn));
	switch (run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		return hxk_fail(err,
		                "the image triple-faulted (KVM_EXIT_SHUTDOWN), last rip 0x%llx%s",
		                rip, fn);
	case KVM_EXIT_HLT:
		return hxk_fail(err, "the image halted (HLT) at rip 0x%llx%s", rip, fn);
	case KVM_EXIT_MMIO:
		return hxk_fail(err,
		                "the image %s %u bytes at unbacked guest-physical 0x%llx (rip "
		                "0x%llx%s)",
		                run->mmio.is_write ? "wrote" : "read", run->mmio.len,
		                (unsigned long long)run->mmio.phys_addr, rip, fn);
	case KVM_EXIT_IO:
		return hxk_fail(err,
		                "the image did port I/O (%s port 0x%x, %u bytes) at rip 0x%llx%s",
		                run->io.direction == KVM_EXIT_IO_OUT ? "out to" : "in from",
		                run->io.port, run->io.size, rip, fn);
	case KVM_EXIT_X86_RDMSR:
	case KVM_EXIT_X86_WRMSR:
		return hxk_fail(err, "the image executed %s of MSR 0x%x at rip 0x%llx%s",
		                run->exit_reason == KVM_EXIT_X86_RDMSR ? "RDMSR" : "WRMSR",
		                run->msr.index, rip, fn);
	case KVM_EXIT_INTERNAL_ERROR:
		return hxk_fail(err,
		                "KVM internal error (suberror %u) in the image at rip 0x%llx%s",
		                run->internal.suberror, rip, fn);
	case KVM_EXIT_FAIL_ENTRY:
		return hxk_fail(err, "VM entry failed (reason 0x%llx)",
		                (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		return hxk_fail(err, "unexpected %s (%u) at rip 0x%llx%s",
		                hxk_exit_reason_name(run->exit_reason), run->exit_reason, rip, fn);
	}
}

int beq_vm_run(struct beq_vm *m, double deadline, uint32_t *sig, struct hxk_err *err)
{
	struct hxk_vcpu *vc = &m->vm.vcpus[0];
	struct kvm_run *run = vc->run;
	kick_run = run;
	arm(true);
	int stop;
	for (;;) {
		if (beq_now() >= deadline) {
			char fn[160];
			beq_image_symbolize(m->img, run->s.regs.regs.rip, fn, sizeof(fn));
			hxk_fail(err, "the image was at rip 0x%llx%s",
			         (unsigned long long)run->s.regs.regs.rip, fn);
			stop = BEQ_STOP_TIMEOUT;
			break;
		}
		run->immediate_exit = 0;
		double t0 = beq_now();
		int r = hxk_vcpu_run(vc);
		m->run_seconds += beq_now() - t0;
		if (r == -EINTR)
			continue;
		if (r < 0) {
			errno = -r;
			hxk_fail_errno(err, "KVM_RUN failed");
			stop = BEQ_STOP_KVM;
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == BEQ_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 4 &&
		    run->io.count == 1) {
			memcpy(sig, (const uint8_t *)run + run->io.data_offset, 4);
			stop = BEQ_STOP_SIGNAL;
			break;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		crash(m, run, err);
		stop = BEQ_STOP_CRASH;
		break;
	}
	arm(false);
	kick_run = NULL;
	return stop;
}
