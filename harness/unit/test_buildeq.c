/* BUILD-EQ host side (harness/equiv/buildeq/buildeq*.c) without KVM: the
 * comparison of one exit's outputs (hosted observer log versus the image's
 * struct beq_out) names the one field that differs, row by row; the final
 * state comparison names the pool page, partition field or channel; the
 * replay engine's hooks, which drive the lock-step, see every exit once in
 * order and the final system once; the image reader accepts the built
 * image and refuses files that are not one with a message naming the
 * problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildeq_internal.h"
#include "mock_config.h"
#include "replay.h"

/* ---- one exit ---- */

/* A hosted exit with a few calls of every payload kind, and the image's
 * record of the same. */
struct pair {
	struct hv_exit out;
	struct hv_result res;
	struct hx_obs_entry entries[4];
	uint8_t data[64];
	struct hx_obs_view log;
	struct beq_out g;
};

static void make_pair(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->out.reason = HV_EXIT_VMCALL;
	p->out.insn_len = 3;
	p->out.qual = 0x11;
	for (int i = 0; i < HV_GPR_COUNT; i++)
		p->out.st.gpr[i] = 0x1000u + (uint64_t)i;
	p->out.st.rip = 0x10003;
	p->out.st.cr3 = 0x3000;
	p->res.action = HV_ACT_RESUME;
	p->res.insn_len = 3;
	for (int i = 0; i < 64; i++)
		p->data[i] = (uint8_t)(i * 7 + 1);
	/* cpuid; phys_read 8 bytes at data[0]; phys_write 8 at data[8], before
	 * at data[16]; console 5 at data[24] */
	p->entries[0] = (struct hx_obs_entry){.kind = HX_OBS_CPUID, .id = 1, .regs = {1, 2, 3, 4}};
	p->entries[1] = (struct hx_obs_entry){
	        .kind = HX_OBS_PHYS_READ, .addr = 0x2000, .len = 8, .data = 0};
	p->entries[2] = (struct hx_obs_entry){.kind = HX_OBS_PHYS_WRITE,
	                                      .has_before = 1,
	                                      .addr = 0x3000,
	                                      .len = 8,
	                                      .data = 8,
	                                      .before = 16};
	p->entries[3] =
	        (struct hx_obs_entry){.kind = HX_OBS_CONSOLE, .id = 1, .len = 5, .data = 24};
	p->log = (struct hx_obs_view){
	        .entries = p->entries, .nentries = 4, .data = p->data, .data_len = 29};

	p->g.index = 7;
	p->g.exit = p->out;
	p->g.res = p->res;
	p->g.ncalls = 4;
	/* The image packs its payloads differently: offsets need not match. */
	for (uint32_t k = 0; k < 4; k++) {
		const struct hx_obs_entry *h = &p->entries[k];
		struct beq_call *c = &p->g.calls[k];
		*c = (struct beq_call){.kind = h->kind,
		                       .failed = h->failed,
		                       .has_before = h->has_before,
		                       .id = h->id,
		                       .sub = h->sub,
		                       .len = h->len,
		                       .addr = h->addr,
		                       .value = h->value};
		memcpy(c->regs, h->regs, sizeof(c->regs));
		if (h->kind != HX_OBS_CPUID) {
			c->data = p->g.data_len;
			memcpy(p->g.data + c->data, p->data + h->data, h->len);
			p->g.data_len += h->len;
		}
		if (h->has_before) {
			c->before = p->g.data_len;
			memcpy(p->g.data + c->before, p->data + h->before, h->len);
			p->g.data_len += h->len;
		}
	}
}

typedef void (*mutate_fn)(struct pair *p);

static void m_none(struct pair *p)
{
	(void)p;
}
static void m_index(struct pair *p)
{
	p->g.index = 8;
}
static void m_action(struct pair *p)
{
	p->g.res.action = HV_ACT_INJECT;
}
static void m_vector(struct pair *p)
{
	p->g.res.vector = 13;
}
static void m_pad2(struct pair *p)
{
	p->g.res.pad2 = 1;
}
static void m_msr_value(struct pair *p)
{
	p->g.res.msr.value = 1;
}
static void m_rcx(struct pair *p)
{
	p->g.exit.st.gpr[HV_RCX] ^= 1ull << 31;
}
static void m_r15(struct pair *p)
{
	p->g.exit.st.gpr[HV_R15] = 0;
}
static void m_rip(struct pair *p)
{
	p->g.exit.st.rip += 1;
}
static void m_st_pad(struct pair *p)
{
	p->g.exit.st.pad[6] = 1;
}
static void m_qual(struct pair *p)
{
	p->g.exit.qual = 0;
}
static void m_overflow(struct pair *p)
{
	p->g.overflow = 1;
}
static void m_kind(struct pair *p)
{
	p->g.calls[1].kind = HX_OBS_PHYS_WRITE;
}
static void m_regs(struct pair *p)
{
	p->g.calls[0].regs[3] = 5;
}
static void m_addr(struct pair *p)
{
	p->g.calls[1].addr = 0x2008;
}
static void m_failed(struct pair *p)
{
	p->g.calls[2].failed = 1;
}
static void m_read_byte(struct pair *p)
{
	p->g.data[p->g.calls[1].data + 5] ^= 0x40;
}
static void m_before_byte(struct pair *p)
{
	p->g.data[p->g.calls[2].before] ^= 1;
}
static void m_console_byte(struct pair *p)
{
	p->g.data[p->g.calls[3].data + 4] ^= 1;
}
static void m_data_oob(struct pair *p)
{
	p->g.calls[3].data = BEQ_MAX_DATA - 1;
}
static void m_extra_call(struct pair *p)
{
	p->g.calls[4] = (struct beq_call){.kind = HX_OBS_EPT_CHANGED};
	p->g.ncalls = 5;
}
static void m_missing_call(struct pair *p)
{
	p->g.ncalls = 3;
}
static void m_ncalls_huge(struct pair *p)
{
	p->g.ncalls = BEQ_MAX_CALLS + 1;
}

static const struct {
	const char *name;
	mutate_fn mutate;
	const char *field; /* NULL: equal */
	const char *text;  /* must appear in the message */
} exit_rows[] = {
        {"equal", m_none, NULL, NULL},
        {"answer for another exit", m_index, "out.index", "exit 8, not 7"},
        {"action", m_action, "res.action", "hosted resume, freestanding inject"},
        {"vector", m_vector, "res.vector", "freestanding 0xd"},
        {"explicit padding", m_pad2, "res.pad2", "hosted 0x0"},
        {"msr apply value", m_msr_value, "res.msr.value", NULL},
        {"one bit of rcx", m_rcx, "st.rcx", "hosted 0x1001, freestanding 0x80001001"},
        {"last gpr", m_r15, "st.r15", NULL},
        {"rip", m_rip, "st.rip", "freestanding 0x10004"},
        {"state padding", m_st_pad, "st.pad", NULL},
        {"exit record", m_qual, "exit.qual", NULL},
        {"overflow count", m_overflow, "calls.overflow", NULL},
        {"call kind", m_kind, "call[1].kind", "hosted phys_read, freestanding phys_write"},
        {"cpuid answer", m_regs, "call[0].regs", NULL},
        {"read address", m_addr, "call[1].addr", "freestanding 0x2008"},
        {"write failed", m_failed, "call[2].failed", NULL},
        {"byte read", m_read_byte, "call[1].data", "byte 5 of 8"},
        {"byte before a write", m_before_byte, "call[2].before", "byte 0 of 8"},
        {"console byte", m_console_byte, "call[3].data", "byte 4 of 5"},
        {"payload outside the data area", m_data_oob, "call[3].data", "missing"},
        {"extra call", m_extra_call, "calls.count", "hosted 4 platform calls, freestanding 5"},
        {"missing call", m_missing_call, "calls.count", "first extra call: hosted console"},
        {"call count over the limit", m_ncalls_huge, "calls.count", "over the limit"},
};

static void test_compare_exit_rows(void **state)
{
	(void)state;
	struct pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	for (size_t i = 0; i < HV_ARRAY_LEN(exit_rows); i++) {
		make_pair(p);
		exit_rows[i].mutate(p);
		struct beq_diff d;
		memset(&d, 0, sizeof(d));
		uint64_t calls = 0;
		bool eq = beq_compare_exit(7, &p->out, &p->res, &p->log, &p->g, &calls, &d);
		if (!exit_rows[i].field) {
			if (!eq)
				fail_msg("row '%s': unexpected difference %s: %s",
				         exit_rows[i].name, d.field, d.msg);
			assert_int_equal(calls, 4);
			continue;
		}
		if (eq)
			fail_msg("row '%s': difference in %s not found", exit_rows[i].name,
			         exit_rows[i].field);
		if (strcmp(d.field, exit_rows[i].field) != 0)
			fail_msg("row '%s': field %s, expected %s (%s)", exit_rows[i].name, d.field,
			         exit_rows[i].field, d.msg);
		if (exit_rows[i].text && !strstr(d.msg, exit_rows[i].text))
			fail_msg("row '%s': message '%s' lacks '%s'", exit_rows[i].name, d.msg,
			         exit_rows[i].text);
	}
	free(p);
}

/* ---- final state ---- */

struct fin {
	struct hv_system_config cfg;
	struct hv_system sys;
	struct hv_system g;
	struct hv_pool pool;
	uint8_t pool_mem[4 * 4096];
	uint8_t g_pool[4 * 4096];
	uint32_t g_used;
};

static void make_fin(struct fin *f)
{
	memset(f, 0, sizeof(*f));
	f->cfg.npartitions = 2;
	f->cfg.nchannels = 1;
	f->pool = (struct hv_pool){.mem = f->pool_mem, .hpa = 0x800000, .npages = 4, .used = 3};
	for (size_t i = 0; i < 3 * 4096; i++)
		f->pool_mem[i] = (uint8_t)(i * 13);
	f->sys.cfg = &f->cfg;
	f->sys.pool = &f->pool;
	f->sys.parts[0].ept_root = 0x800000;
	f->sys.parts[1].ept_root = 0x801000;
	f->sys.parts[1].vcpus[2].msr_value[5] = 77;
	f->sys.channels[0].seq = 3;
	f->g = f->sys;
	/* the image's pointers are guest addresses: never looked at */
	f->g.cfg = (void *)1;
	f->g.pool = (void *)2;
	f->g.ops = (void *)3;
	memcpy(f->g_pool, f->pool_mem, sizeof(f->g_pool));
	f->g_used = 3;
}

static void f_none(struct fin *f)
{
	(void)f;
}
static void f_used(struct fin *f)
{
	f->g_used = 2;
}
static void f_pool_byte(struct fin *f)
{
	f->g_pool[2 * 4096 + 8 * 9 + 3] ^= 1;
}
static void f_unused_page(struct fin *f)
{
	f->g_pool[3 * 4096] ^= 1; /* past pool.used: not state */
}
static void f_root(struct fin *f)
{
	f->g.parts[1].ept_root = 0;
}
static void f_halted(struct fin *f)
{
	f->g.parts[0].halted = HV_HALT_SHUTDOWN;
}
static void f_msr(struct fin *f)
{
	f->g.parts[1].vcpus[2].msr_value[5] = 78;
}
static void f_device(struct fin *f)
{
	f->g.parts[0].devices[1].rings = 1;
}
static void f_unconfigured_part(struct fin *f)
{
	f->g.parts[2].halted = 1; /* partition 2 is not configured */
}
static void f_channel(struct fin *f)
{
	f->g.channels[0].seq = 4;
}

static const struct {
	const char *name;
	void (*mutate)(struct fin *f);
	const char *field;
	const char *text;
} final_rows[] = {
        {"equal", f_none, NULL, NULL},
        {"pool pages used", f_used, "pool.used", NULL},
        {"a byte of an EPT page", f_pool_byte, "pool[2]", "hpa 0x802000), entry 9"},
        {"pages past the used ones", f_unused_page, NULL, NULL},
        {"EPT root", f_root, "part[1].ept_root", NULL},
        {"halted", f_halted, "part[0].halted", NULL},
        {"emulated MSR", f_msr, "part[1].vcpu[2].msr_value[5]", "freestanding 0x4e"},
        {"device state", f_device, "part[0].device[1]", NULL},
        {"unconfigured partition", f_unconfigured_part, NULL, NULL},
        {"channel", f_channel, "channel[0].seq", NULL},
};

static void test_compare_final_rows(void **state)
{
	(void)state;
	struct fin *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	for (size_t i = 0; i < HV_ARRAY_LEN(final_rows); i++) {
		make_fin(f);
		final_rows[i].mutate(f);
		struct beq_diff d;
		memset(&d, 0, sizeof(d));
		bool eq = beq_compare_final(&f->sys, &f->g, f->g_used, f->g_pool, &d);
		if (!final_rows[i].field) {
			if (!eq)
				fail_msg("row '%s': unexpected difference %s: %s",
				         final_rows[i].name, d.field, d.msg);
			continue;
		}
		if (eq)
			fail_msg("row '%s': difference not found", final_rows[i].name);
		if (strcmp(d.field, final_rows[i].field) != 0)
			fail_msg("row '%s': field %s, expected %s (%s)", final_rows[i].name,
			         d.field, final_rows[i].field, d.msg);
		if (final_rows[i].text && !strstr(d.msg, final_rows[i].text))
			fail_msg("row '%s': message '%s' lacks '%s'", final_rows[i].name, d.msg,
			         final_rows[i].text);
	}
	free(f);
}

/* ---- the replay hooks BUILD-EQ runs on ---- */

struct hooks_seen {
	uint64_t exits;
	uint64_t next_index;
	bool in_order;
	uint64_t rips[4];
	uint32_t ends;
	uint32_t pool_used;
	uint64_t root0;
};

static void seen_exit(void *ctx, uint64_t index, const struct hv_exit *out,
                      const struct hv_result *res, const struct hx_obs_view *log)
{
	struct hooks_seen *h = ctx;
	if (index != h->next_index)
		h->in_order = false;
	h->next_index = index + 1;
	if (index < 4)
		h->rips[index] = out->st.rip;
	assert_int_equal(res->action, HV_ACT_RESUME);
	assert_true(log->nentries > 0); /* CPUID asks the host */
	h->exits++;
}

static void seen_end(void *ctx, const struct hv_system *sys)
{
	struct hooks_seen *h = ctx;
	h->ends++;
	h->pool_used = sys->pool->used;
	h->root0 = sys->parts[0].ept_root;
}

static void test_replay_hooks(void **state)
{
	(void)state;
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	mock_config_one(cfg);
	struct hx_trace_meta meta = {
	        .cfg = cfg, .pool_hpa = MOCK_POOL_HPA, .pool_pages = MOCK_POOL_PAGES};
	struct hx_trace *t = hx_trace_new(&meta);
	assert_non_null(t);
	for (uint32_t i = 0; i < 3; i++) {
		struct hv_exit x = {.reason = HV_EXIT_CPUID, .insn_len = 2};
		x.st.rip = 0x10000 + 0x100 * i;
		x.st.gpr[HV_RAX] = i;
		x.st.cr0 = 0x80050033ull;
		struct hx_obs_view none = {0};
		assert_int_equal(hx_trace_append(t, &x, &none, NULL, NULL), 0);
	}
	struct hx_replay *r = hx_replay_new();
	assert_non_null(r);
	struct hooks_seen h = {.in_order = true};
	struct hx_replay_opts o;
	hx_replay_opts_default(&o);
	o.on_exit = seen_exit;
	o.on_end = seen_end;
	o.hook_ctx = &h;
	struct hx_replay_result res;
	hx_replay_run(r, t, &o, &res);
	assert_int_equal(h.exits, 3); /* the first run only, not the DET one */
	assert_true(h.in_order);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(h.rips[i], 0x10000 + 0x100 * i + 2); /* the state out */
	assert_int_equal(h.ends, 1);
	assert_true(h.pool_used > 0);
	/* the first pool page, tagged NPT on AMD */
	assert_int_equal(h.root0, MOCK_POOL_HPA | (mock_vendor() == HV_VENDOR_AMD ? 1u : 0u));
	hx_replay_free(r);
	hx_trace_free(t);
	free(cfg);
}

/* ---- the image reader ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	uint8_t *buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static void spill(const char *path, const uint8_t *buf, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

/* First PT_LOAD program header of an image in memory. */
static Elf64_Phdr *first_load(uint8_t *buf)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff + (size_t)i * sizeof(*ph));
		if (ph->p_type == PT_LOAD)
			return ph;
	}
	return NULL;
}

static void test_image_reader(void **state)
{
	(void)state;
	struct beq_image img;
	struct hxk_err err;
	assert_int_equal(beq_image_read(BEQ_TEST_IMAGE, &img, &err), 0);
	assert_true(img.entry >= BEQ_HIGH_BASE + BEQ_IMAGE_LMA);
	assert_true(img.nsegs >= 1);
	assert_int_equal(img.segs[0].lma, BEQ_IMAGE_LMA);
	beq_image_free(&img);

	size_t len;
	uint8_t *orig = slurp(BEQ_TEST_IMAGE, &len);
	assert_non_null(orig);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	char path[] = "/tmp/hx-beq-image-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	static const struct {
		const char *name;
		int what; /* 0 truncate, 1 magic, 2 low paddr, 3 vaddr, 4 entry, 5 filesz,
		           * 6-7 an empty segment hiding a bad file range */
		const char *text;
	} rows[] = {
	        {"truncated", 0, "too short"},
	        {"not ELF", 1, "not a static ELF64 x86-64 executable"},
	        {"loads below the image area", 2, "outside the image area"},
	        {"runs elsewhere", 3, "is not BEQ_HIGH_BASE + p_paddr"},
	        {"entry outside", 4, "entry point"},
	        {"file bytes past the end", 5, "run past the end"},
	        {"empty segment, offset past the end", 6, "segment 0: file bytes run past the end"},
	        {"empty segment, filesz above memsz", 7, "p_filesz 0x100000000 above p_memsz 0x0"},
	};
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		memcpy(buf, orig, len);
		size_t n = len;
		Elf64_Phdr *ph = first_load(buf);
		assert_non_null(ph);
		switch (rows[i].what) {
		case 0:
			n = 20;
			break;
		case 1:
			buf[1] = 'X';
			break;
		case 2:
			ph->p_paddr = 0x1000;
			ph->p_vaddr = BEQ_HIGH_BASE + 0x1000;
			break;
		case 3:
			ph->p_vaddr += 0x1000;
			break;
		case 4:
			((Elf64_Ehdr *)buf)->e_entry = 0x1234;
			break;
		case 5:
			ph->p_filesz = len;
			ph->p_memsz = len;
			break;
		case 6:
			ph->p_memsz = ph->p_filesz = 0;
			ph->p_offset = len + 1;
			break;
		case 7:
			ph->p_memsz = 0;
			ph->p_filesz = 1ull << 32;
			break;
		}
		spill(path, buf, n);
		memset(&err, 0, sizeof(err));
		if (beq_image_read(path, &img, &err) == 0)
			fail_msg("row '%s': accepted", rows[i].name);
		if (!strstr(err.msg, rows[i].text))
			fail_msg("row '%s': message '%s' lacks '%s'", rows[i].name, err.msg,
			         rows[i].text);
		assert_null(img.data);
	}
	unlink(path);
	memset(&err, 0, sizeof(err));
	assert_int_equal(beq_image_read("/nonexistent/hv_replay.elf", &img, &err), -1);
	assert_non_null(strstr(err.msg, "cannot open"));
	free(buf);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_compare_exit_rows),
	        cmocka_unit_test(test_compare_final_rows),
	        cmocka_unit_test(test_replay_hooks),
	        cmocka_unit_test(test_image_reader),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
