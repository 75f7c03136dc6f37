/* The .hxt trace format: write -> read gives back every field; the file and
 * in-memory writers agree byte for byte; and every malformed input (cut at
 * any byte, any byte changed, bad magic/version, absurd counts and lengths)
 * is refused with a message naming the field, exit and offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asan_build.h"
#include "hv/msr.h"
#include "mock_config.h"
#include "trace.h"

struct fx {
	struct hv_system_config cfg;
	struct hx_obs_log log;
	struct hx_trace *t;
	uint8_t *bytes;
	size_t len;
	char dir[64];
};

static void add(struct hx_obs_log *l, struct hx_obs_entry e, const void *data, const void *before)
{
	if (data) {
		e.data = l->data_len;
		memcpy(l->data + l->data_len, data, e.len);
		l->data_len += e.len;
	}
	if (before) {
		e.before = l->data_len;
		memcpy(l->data + l->data_len, before, e.len);
		l->data_len += e.len;
		e.has_before = 1;
	}
	l->entries[l->nentries++] = e;
}

/* A log with one call of every kind. */
static void full_log(struct hx_obs_log *l)
{
	memset(l, 0, offsetof(struct hx_obs_log, entries));
	static const uint8_t rd[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t wr[4] = {9, 9, 9, 9}, was[4] = {0, 1, 0, 1};
	add(l, (struct hx_obs_entry){.kind = HX_OBS_CPUID, .id = 1, .sub = 2, .regs = {3, 4, 5, 6}},
	    NULL, NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_RDMSR, .id = 0x10, .value = 0x1234567890ull},
	    NULL, NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_RDMSR, .id = 0x3a, .failed = 1}, NULL, NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_WRMSR, .id = 0x1234, .value = 77}, NULL, NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_PHYS_READ, .addr = 0x801000, .len = 8}, rd,
	    NULL);
	add(l,
	    (struct hx_obs_entry){
	            .kind = HX_OBS_PHYS_READ, .addr = 0x9000000, .len = 8, .failed = 1},
	    NULL, NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_PHYS_WRITE, .addr = 0x802ffc, .len = 4}, wr,
	    was);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_PHYS_WRITE, .addr = 0x803000, .len = 4}, wr,
	    NULL);
	add(l, (struct hx_obs_entry){.kind = HX_OBS_CONSOLE, .id = 1, .len = 3}, "hey", NULL);
	add(l,
	    (struct hx_obs_entry){
	            .kind = HX_OBS_EPT_CHANGED, .id = 0, .addr = 0x200000, .value = 0x1000},
	    NULL, NULL);
	/* An empty console write: it has a data offset all the same. */
	add(l, (struct hx_obs_entry){.kind = HX_OBS_CONSOLE, .id = 0, .len = 0}, "", NULL);
}

static struct hv_exit some_exit(uint32_t i)
{
	struct hv_exit x = {.reason = i % HV_EXIT_COUNT,
	                    .partition = i & 1,
	                    .vcpu = (i >> 1) & 1,
	                    .insn_len = i % 16,
	                    .qual = 0x1000 + i,
	                    .gpa = 0xfed00000ull + i,
	                    .gla = ~0ull - i};
	for (int r = 0; r < HV_GPR_COUNT; r++)
		x.st.gpr[r] = 0x0101010101010101ull * (uint64_t)(r + 1) + i;
	x.st.rip = 0x401000 + i;
	x.st.rflags = 0x202;
	x.st.cr0 = 0x80050033;
	x.st.cr3 = 0x3000;
	x.st.cr4 = 0x620;
	x.st.efer = 0xd01;
	x.st.cpl = i & 3;
	return x;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	mock_config_two(&f->cfg);
	full_log(&f->log);
	struct hx_trace_meta meta = {.cfg = &f->cfg,
	                             .config_name = "mock-two",
	                             .note = "unit test",
	                             .pool_hpa = MOCK_POOL_HPA,
	                             .pool_pages = MOCK_POOL_PAGES};
	f->t = hx_trace_new(&meta);
	assert_non_null(f->t);
	struct hx_obs_log *empty = calloc(1, sizeof(*empty));
	for (uint32_t i = 0; i < 3; i++) {
		struct hv_exit in = some_exit(i), out = some_exit(i + 100);
		struct hv_result res = {.action = i % HV_ACT_COUNT,
		                        .vector = 13,
		                        .has_error_code = 1,
		                        .error_code = 0xabc,
		                        .halt_reason = 2,
		                        .insn_len = 3,
		                        .has_mmio = 1,
		                        .mmio = {.gpa = 0xfed00020,
		                                 .data = 0x55,
		                                 .size = 8,
		                                 .is_write = 1,
		                                 .reg = 4,
		                                 .insn_len = 7},
		                        .msr = {.msr = HV_MSR_EFER, .valid = 1, .value = 0xd01}};
		struct hx_obs_view v = {.entries = (i == 1 ? empty : &f->log)->entries,
		                        .nentries = (i == 1 ? empty : &f->log)->nentries,
		                        .data = (i == 1 ? empty : &f->log)->data,
		                        .data_len = (i == 1 ? empty : &f->log)->data_len};
		/* Exit 2 has inputs only. */
		assert_int_equal(
		        hx_trace_append(f->t, &in, &v, i == 2 ? NULL : &res, i == 2 ? NULL : &out),
		        0);
	}
	free(empty);
	assert_int_equal(hx_trace_encode(f->t, &f->bytes, &f->len), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hx-test-trace-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	hx_trace_free(f->t);
	free(f->bytes);
	free(f);
	return 0;
}

static void assert_log_equal(const struct hx_obs_view *a, const struct hx_obs_view *b)
{
	assert_int_equal(a->nentries, b->nentries);
	assert_int_equal(a->overflow, b->overflow);
	for (uint32_t i = 0; i < a->nentries; i++) {
		const struct hx_obs_entry *x = &a->entries[i], *y = &b->entries[i];
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->failed, y->failed);
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->addr, y->addr);
		assert_int_equal(x->len, y->len);
		assert_int_equal(x->has_before, y->has_before);
		if (x->kind == HX_OBS_CPUID)
			assert_memory_equal(x->regs, y->regs, sizeof(x->regs));
		if (x->kind == HX_OBS_RDMSR || x->kind == HX_OBS_WRMSR ||
		    x->kind == HX_OBS_EPT_CHANGED)
			assert_int_equal(x->value, y->value);
		bool bytes = x->kind == HX_OBS_PHYS_WRITE || x->kind == HX_OBS_CONSOLE ||
		             (x->kind == HX_OBS_PHYS_READ && !x->failed);
		if (bytes)
			assert_memory_equal(hx_obs_bytes(a, x->data, x->len),
			                    hx_obs_bytes(b, y->data, y->len), x->len);
		if (x->has_before)
			assert_memory_equal(hx_obs_bytes(a, x->before, x->len),
			                    hx_obs_bytes(b, y->before, y->len), x->len);
	}
}

static void assert_trace_equal(const struct hx_trace *a, const struct hx_trace *b)
{
	assert_string_equal(a->config_name, b->config_name);
	assert_string_equal(a->note, b->note);
	assert_int_equal(a->pool_hpa, b->pool_hpa);
	assert_int_equal(a->pool_pages, b->pool_pages);
	assert_memory_equal(a->cfg, b->cfg, sizeof(*a->cfg));
	assert_int_equal(a->nexits, b->nexits);
	for (uint32_t i = 0; i < a->nexits; i++) {
		const struct hx_trace_exit *x = &a->exits[i], *y = &b->exits[i];
		assert_memory_equal(&x->in, &y->in, sizeof(x->in));
		assert_int_equal(x->flags, y->flags);
		if (x->flags & HX_TREC_OUTPUTS) {
			assert_memory_equal(&x->res, &y->res, sizeof(x->res));
			assert_memory_equal(&x->out, &y->out, sizeof(x->out));
		}
		assert_log_equal(&x->log, &y->log);
	}
}

/* t encodes to exactly the len bytes at want. */
static void assert_encodes_to(const struct hx_trace *t, const uint8_t *want, size_t len)
{
	uint8_t *got;
	size_t got_len;
	assert_int_equal(hx_trace_encode(t, &got, &got_len), 0);
	assert_int_equal(got_len, len);
	assert_memory_equal(got, want, len);
	free(got);
}

/* ---- round trips ---- */

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct hx_trace *back;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &back, &err), 0);
	assert_int_equal(back->version, HX_TRACE_VERSION);
	assert_trace_equal(f->t, back);
	assert_int_equal(back->exits[2].flags, 0);
	assert_true(back->exits[1].offset > back->exits[0].offset);
	/* Encoding what was read gives the same bytes. */
	assert_encodes_to(back, f->bytes, f->len);
	hx_trace_free(back);
}

static bool only_file(const char *dir, const char *name)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0, match = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		match += !strcmp(e->d_name, name);
	}
	closedir(d);
	return n == 1 && match == 1;
}

static void test_save_load(void **state)
{
	struct fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/t.hxt", f->dir);
	assert_int_equal(hx_trace_save(path, f->t, err, sizeof(err)), 0);
	assert_true(only_file(f->dir, "t.hxt")); /* no temp file left */
	struct hx_trace *back;
	struct hx_trace_error e;
	assert_int_equal(hx_trace_load(path, &back, &e), 0);
	assert_trace_equal(f->t, back);
	hx_trace_free(back);
	/* Saving into a missing directory fails cleanly. */
	assert_int_equal(hx_trace_save("/nonexistent-dir/t.hxt", f->t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent-dir/t.hxt"));
	assert_int_equal(hx_trace_load("/nonexistent-dir/t.hxt", &back, &e), -1);
	assert_non_null(strstr(e.msg, "cannot open"));
}

/* The rename would replace a FIFO, a directory or a device node at the
 * destination (or behind a symlink): refused, nothing left behind. A
 * symlink to a regular file is replaced like the file. */
static void test_save_refuses_special_destinations(void **state)
{
	struct fx *f = *state;
	char fifo[128], link[128], sub[128], err[256];
	snprintf(fifo, sizeof(fifo), "%s/fifo", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(hx_trace_save(fifo, f->t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "fifo: is a FIFO, not a regular file: refusing to replace it"));
	assert_true(only_file(f->dir, "fifo"));
	assert_int_equal(symlink("/dev/null", link), 0);
	assert_int_equal(hx_trace_save(link, f->t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "link: is a character device, not a regular file"));
	assert_int_equal(unlink(link), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(hx_trace_save(sub, f->t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "sub: is a directory, not a regular file"));
	assert_null(hx_trace_writer_open(sub, &(struct hx_trace_meta){.cfg = &f->cfg}, err,
	                                 sizeof(err)));
	assert_non_null(strstr(err, "is a directory"));
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(unlink(fifo), 0);
	assert_int_equal(hx_trace_save("", f->t, err, sizeof(err)), -1);
	assert_string_equal(err, "empty file name for the trace");
}

/* Both writers keep the config's file name, not the path it was read from:
 * a trace names no directory of the recording machine. */
static void test_config_name_is_file_name(void **state)
{
	struct fx *f = *state;
	struct hx_trace_meta meta = {.cfg = f->t->cfg,
	                             .config_name = "/home/user/configs/two.json",
	                             .pool_hpa = f->t->pool_hpa,
	                             .pool_pages = f->t->pool_pages};
	struct hx_trace *t = hx_trace_new(&meta);
	assert_non_null(t);
	assert_string_equal(t->config_name, "two.json");
	hx_trace_free(t);

	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/named.hxt", f->dir);
	struct hx_trace_writer *w = hx_trace_writer_open(path, &meta, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(hx_trace_writer_commit(w, err, sizeof(err)), 0);
	struct hx_trace *back = NULL;
	struct hx_trace_error e;
	assert_int_equal(hx_trace_load(path, &back, &e), 0);
	assert_string_equal(back->config_name, "two.json");
	hx_trace_free(back);

	meta.config_name = "no-directory.json";
	t = hx_trace_new(&meta);
	assert_non_null(t);
	assert_string_equal(t->config_name, "no-directory.json");
	hx_trace_free(t);
	meta.config_name = NULL;
	t = hx_trace_new(&meta);
	assert_non_null(t);
	assert_string_equal(t->config_name, "");
	hx_trace_free(t);
}

static void test_streaming_writer(void **state)
{
	struct fx *f = *state;
	char path[128], err[256];
	snprintf(path, sizeof(path), "%s/s.hxt", f->dir);
	struct hx_trace_meta meta = {.cfg = f->t->cfg,
	                             .config_name = f->t->config_name,
	                             .note = f->t->note,
	                             .pool_hpa = f->t->pool_hpa,
	                             .pool_pages = f->t->pool_pages};
	struct hx_trace_writer *w = hx_trace_writer_open(path, &meta, err, sizeof(err));
	assert_non_null(w);
	for (uint32_t i = 0; i < f->t->nexits; i++) {
		const struct hx_trace_exit *e = &f->t->exits[i];
		struct hv_exit out = e->in;
		out.st = e->out;
		bool outs = e->flags & HX_TREC_OUTPUTS;
		assert_int_equal(hx_trace_writer_add(w, &e->in, &e->log, outs ? &e->res : NULL,
		                                     outs ? &out : NULL),
		                 0);
	}
	assert_int_equal(hx_trace_writer_count(w), f->t->nexits);
	assert_int_equal(access(path, F_OK), -1); /* nothing at path before commit */
	assert_int_equal(hx_trace_writer_commit(w, err, sizeof(err)), 0);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	uint8_t *buf = malloc(f->len + 1);
	assert_int_equal(fread(buf, 1, f->len + 1, fp), f->len);
	fclose(fp);
	assert_memory_equal(buf, f->bytes, f->len);
	free(buf);

	/* An aborted writer leaves nothing behind. */
	snprintf(path, sizeof(path), "%s/aborted.hxt", f->dir);
	w = hx_trace_writer_open(path, &meta, err, sizeof(err));
	assert_non_null(w);
	hx_trace_writer_abort(w);
	assert_true(only_file(f->dir, "s.hxt"));

	/* A log that breaks the format's limits is refused, and so is commit. */
	w = hx_trace_writer_open(path, &meta, err, sizeof(err));
	struct hx_obs_view bad = f->t->exits[0].log;
	bad.data_len = 2; /* entries point past the data */
	assert_int_equal(hx_trace_writer_add(w, &f->t->exits[0].in, &bad, NULL, NULL), -1);
	assert_int_equal(hx_trace_writer_commit(w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));
	assert_true(only_file(f->dir, "s.hxt"));
}

/* ---- malformed input ---- */

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Recompute the payload checksum after editing a copy. */
static void reseal(uint8_t *b, size_t len)
{
	uint64_t sum =
	        hx_fnv1a64(b + HX_TRACE_HEADER_SIZE, len - HX_TRACE_HEADER_SIZE, HX_FNV1A64_INIT);
	for (int i = 0; i < 8; i++)
		b[24 + i] = (uint8_t)(sum >> (8 * i));
}

static int parse_copy(const uint8_t *src, size_t len, struct hx_trace_error *err)
{
	/* An exact-size heap copy, so ASan sees any read past the end. */
	uint8_t *b = malloc(len ? len : 1);
	memcpy(b, src, len);
	struct hx_trace *t = NULL;
	int rc = hx_trace_parse(b, len, &t, err);
	hx_trace_free(t);
	free(b);
	return rc;
}

static void test_truncated_everywhere(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	struct hx_trace *t;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &t, &err), 0);
	size_t exit1 = (size_t)t->exits[1].offset;
	hx_trace_free(t);
	for (size_t cut = 0; cut < f->len; cut++) {
		memset(&err, 0, sizeof(err));
		if (parse_copy(f->bytes, cut, &err) != -1)
			fail_msg("truncated at %zu of %zu: accepted", cut, f->len);
		assert_true(err.msg[0] != '\0');
		assert_true(err.field[0] != '\0');
		assert_true(err.offset <= cut);
		if (cut >= HX_TRACE_HEADER_SIZE)
			assert_non_null(strstr(err.msg, "truncated"));
		/* Cut inside exit 1's fields: the message names exit 1. */
		if (cut > exit1 + 8 && cut < exit1 + 100) {
			assert_int_equal(err.exit_index, 1);
			assert_non_null(strstr(err.msg, "exit 1"));
			assert_non_null(strstr(err.msg, "field 'in."));
		}
	}
}

static void test_every_byte_changed(void **state)
{
	struct fx *f = *state;
	uint8_t *b = malloc(f->len);
	for (size_t i = 0; i < f->len; i++) {
		memcpy(b, f->bytes, f->len);
		b[i] ^= 0x41;
		struct hx_trace_error err;
		if (parse_copy(b, f->len, &err) != -1)
			fail_msg("byte %zu changed: accepted", i);
		assert_true(err.msg[0] != '\0');
		if (i >= HX_TRACE_HEADER_SIZE)
			assert_non_null(strstr(err.msg, "checksum mismatch"));
	}
	free(b);
}

struct bad_row {
	const char *name;
	size_t off; /* byte to patch; 0 = use the patch function */
	uint32_t value;
	bool reseal;
	const char *want_field;
	const char *want_msg;
};

static void test_header_errors(void **state)
{
	struct fx *f = *state;
	static const struct bad_row rows[] = {
	        {"magic", 0, 0x41414141, false, "header.magic", "bad magic"},
	        {"version 4", 8, 4, false, "header.version", "unsupported trace version 4"},
	        {"version 0", 8, 0, false, "header.version", "reads versions 1 to 3"},
	        {"header size", 12, 64, false, "header.size", "header size 64"},
	        {"flags", 36, 1, false, "header.flags", "unknown flags"},
	        {"exits absurd", 32, 0xffffffffu, false, "header.exits", "over the limit"},
	        {"exits one more", 32, 4, false, "header.exits", "announces 4 exits"},
	        {"exits one less", 32, 2, false, "record", "more exit records than the 2"},
	};
	uint8_t *b = malloc(f->len);
	for (size_t i = 0; i < HV_ARRAY_LEN(rows); i++) {
		memcpy(b, f->bytes, f->len);
		put32(b + rows[i].off, rows[i].value);
		struct hx_trace_error err;
		assert_int_equal(parse_copy(b, f->len, &err), -1);
		if (strcmp(err.field, rows[i].want_field) || !strstr(err.msg, rows[i].want_msg))
			fail_msg("%s: got field '%s' msg '%s'", rows[i].name, err.field, err.msg);
	}
	/* Trailing garbage and a length that claims more than the file. */
	uint8_t *longer = malloc(f->len + 3);
	memcpy(longer, f->bytes, f->len);
	memset(longer + f->len, 0, 3);
	struct hx_trace_error err;
	assert_int_equal(parse_copy(longer, f->len + 3, &err), -1);
	assert_non_null(strstr(err.msg, "3 trailing bytes"));
	free(longer);
	assert_int_equal(parse_copy(f->bytes, 3, &err), -1);
	assert_string_equal(err.field, "header.magic");
	free(b);
}

/* Offsets inside the first exit record of the fixture, found by walking
 * the records (tags and lengths). */
static size_t first_exit_body(const uint8_t *b, size_t len)
{
	size_t pos = HX_TRACE_HEADER_SIZE;
	while (pos + 8 <= len) {
		if (!memcmp(b + pos, "EXIT", 4))
			return pos + 8;
		pos += 8 + le32(b + pos + 4);
	}
	fail_msg("no EXIT record");
	return 0;
}

static void test_absurd_counts(void **state)
{
	struct fx *f = *state;
	uint8_t *b = malloc(f->len);
	struct hx_trace_error err;
	size_t body = first_exit_body(f->bytes, f->len);
	/* in record: 4 u32 + 3 u64 + 22 u64 + 1 u8 = 217 bytes, flags u8,
	 * overflow u32, count u32, then the first op (CPUID). */
	size_t count_at = body + 217 + 1 + 4;
	assert_int_equal(le32(f->bytes + count_at), f->log.nentries);

	memcpy(b, f->bytes, f->len);
	put32(b + count_at, 0xffffffffu);
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "log.count");
	assert_int_equal(err.exit_index, 0);
	assert_int_equal(err.offset, count_at);
	assert_non_null(strstr(err.msg, "over the limit"));

	memcpy(b, f->bytes, f->len);
	put32(b + count_at, 1000); /* under the limit, more than the record holds */
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "log.count");
	assert_non_null(strstr(err.msg, "cannot fit"));

	/* Op 0 is CPUID (2 + 24 bytes), ops 1-2 RDMSR (2 + 12), op 3 WRMSR,
	 * op 4 the first PHYS_READ: its len follows kind, flags and hpa. */
	size_t op4 = count_at + 4 + 26 + 14 + 14 + 14;
	assert_int_equal(b[op4], HX_OBS_PHYS_READ);
	memcpy(b, f->bytes, f->len);
	put32(b + op4 + 2 + 8, 1u << 20);
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "op[4].len");
	assert_int_equal(err.exit_index, 0);

	memcpy(b, f->bytes, f->len);
	b[op4] = 99; /* unknown call kind */
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "op[4].kind");
	assert_non_null(strstr(err.msg, "unknown platform call kind 99"));

	memcpy(b, f->bytes, f->len);
	b[body + 217] = 0x80; /* unknown exit flags */
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "flags");

	/* A record length larger than the file. */
	memcpy(b, f->bytes, f->len);
	put32(b + body - 4, 0x7fffffff);
	reseal(b, f->len);
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "record.length");
	free(b);
}

/* Remove n bytes at off of a trace and fix the CONF record's length, the
 * payload length and the checksum: how an older writer's CONF, which lacks
 * a field, looks. */
static void cut(uint8_t *b, size_t *len, size_t conf, size_t off, size_t n)
{
	memmove(b + off, b + off + n, *len - off - n);
	*len -= n;
	put32(b + conf + 4, le32(b + conf + 4) - (uint32_t)n);
	uint64_t payload = *len - HX_TRACE_HEADER_SIZE;
	put32(b + 16, (uint32_t)payload);
	put32(b + 20, (uint32_t)(payload >> 32));
	reseal(b, *len);
}

/* A trace of cfg without exits, encoded into *b (malloc'd). */
static void encode_config(const struct hv_system_config *cfg, uint8_t **b, size_t *len)
{
	struct hx_trace_meta meta = {.cfg = cfg, .pool_hpa = MOCK_POOL_HPA, .pool_pages = 8};
	struct hx_trace *t = hx_trace_new(&meta);
	assert_non_null(t);
	assert_int_equal(hx_trace_encode(t, b, len), 0);
	hx_trace_free(t);
}

/* cfg cut down to its partition 0, with no channels. */
static void keep_partition_0(struct hv_system_config *cfg)
{
	cfg->npartitions = 1;
	cfg->nchannels = 0;
	cfg->partitions[0].nchannels = 0;
	memset(cfg->partitions[0].channels, 0, sizeof(cfg->partitions[0].channels));
	memset(&cfg->partitions[1], 0, sizeof(cfg->partitions) - sizeof(cfg->partitions[0]));
	memset(cfg->channels, 0, sizeof(cfg->channels));
}

/* Older versions are still read: version 2 without port-I/O devices,
 * version 1 without a vendor either (Intel). Written again, each is a
 * current trace of the same system. A cache never shares a config between
 * versions: the same CONF bytes mean different things in each. */
static void test_versions_1_2_3(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	*cfg = f->cfg;
	cfg->vendor = HV_VENDOR_AMD;
	/* One partition and no channels: its nio is the CONF's last field. */
	keep_partition_0(cfg);
	struct hx_trace *t;
	uint8_t *b;
	size_t len;
	encode_config(cfg, &b, &len);
	assert_int_equal(le32(b + 8), 3);
	assert_int_equal(hx_trace_parse(b, len, &t, &err), 0);
	assert_int_equal(t->version, 3);
	assert_int_equal(t->cfg->vendor, HV_VENDOR_AMD);
	assert_memory_equal(t->cfg, cfg, sizeof(*cfg));
	hx_trace_free(t);

	/* Version 2: the partition's u32 nio (0) is not there. */
	size_t conf = HX_TRACE_HEADER_SIZE;
	conf += 8 + le32(b + conf + 4); /* skip META */
	assert_memory_equal(b + conf, "CONF", 4);
	size_t conf_end = conf + 8 + le32(b + conf + 4);
	assert_int_equal(le32(b + conf_end - 4), 0);
	cut(b, &len, conf, conf_end - 4, 4);
	put32(b + 8, 2);
	reseal(b, len);
	struct hx_trace_cache *cache = hx_trace_cache_new();
	assert_int_equal(hx_trace_parse_cached(b, len, 0, cache, &t, &err), 0);
	assert_int_equal(t->version, 2);
	assert_int_equal(t->cfg->partitions[0].nio, 0);
	assert_memory_equal(t->cfg, cfg, sizeof(*cfg));
	hx_trace_free(t);
	/* The same bytes as version 3 are refused: a cached version 2 config
	 * is not handed out for them. */
	put32(b + 8, 3);
	reseal(b, len);
	assert_int_equal(hx_trace_parse_cached(b, len, 0, cache, &t, &err), -1);
	put32(b + 8, 2);
	reseal(b, len);

	/* Version 1: no vendor field either. */
	size_t vendor_at = conf + 8 + 24;
	assert_int_equal(le32(b + vendor_at), HV_VENDOR_AMD);
	cut(b, &len, conf, vendor_at, 4);
	put32(b + 8, 1);
	reseal(b, len);
	assert_int_equal(hx_trace_parse_cached(b, len, 0, cache, &t, &err), 0);
	assert_int_equal(t->version, 1);
	assert_int_equal(t->cfg->vendor, HV_VENDOR_INTEL);
	cfg->vendor = HV_VENDOR_INTEL;
	assert_memory_equal(t->cfg, cfg, sizeof(*cfg));
	/* Written again, it is a version 3 trace of an Intel system. */
	uint8_t *b2;
	size_t len2;
	assert_int_equal(hx_trace_encode(t, &b2, &len2), 0);
	assert_int_equal(le32(b2 + 8), 3);
	assert_int_equal(len2, len + 8);
	hx_trace_free(t);
	hx_trace_cache_free(cache);
	free(b2);
	free(b);
	free(cfg);
}

/* Port-I/O devices round-trip through the current version. */
static void test_io_devices_round_trip(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	*cfg = f->cfg;
	struct hv_partition_config *pc = &cfg->partitions[1];
	pc->io[pc->nio++] =
	        (struct hv_io_device){.base = 0x70, .type = HV_IO_RTC, .init = 1796342400ull};
	pc->io[pc->nio++] = (struct hv_io_device){.base = 0x3f8, .type = HV_IO_UART};
	struct hx_trace *t;
	uint8_t *b;
	size_t len;
	encode_config(cfg, &b, &len);
	assert_int_equal(hx_trace_parse(b, len, &t, &err), 0);
	assert_memory_equal(t->cfg, cfg, sizeof(*cfg));
	hx_trace_free(t);
	free(b);
	free(cfg);
}

/* Encode a trace of meta (no exits) and expect the reader to refuse it,
 * naming `field` and saying `msg` (NULL: the field alone is checked). */
static void expect_refused(const struct hx_trace_meta *meta, const char *field, const char *msg)
{
	struct hx_trace *t = hx_trace_new(meta);
	uint8_t *b;
	size_t len;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_encode(t, &b, &len), 0);
	hx_trace_free(t);
	assert_int_equal(parse_copy(b, len, &err), -1);
	assert_string_equal(err.field, field);
	if (msg && !strstr(err.msg, msg))
		fail_msg("%s: message '%s' lacks '%s'", field, err.msg, msg);
	free(b);
}

static void test_bad_config(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	/* More partitions than the format allows. */
	struct hv_system_config *cfg = calloc(1, sizeof(*cfg));
	*cfg = f->cfg;
	struct hx_trace_meta meta = {.cfg = cfg, .pool_hpa = MOCK_POOL_HPA, .pool_pages = 8};
	uint8_t *b;
	size_t len;
	encode_config(cfg, &b, &len);
	size_t conf = HX_TRACE_HEADER_SIZE;
	conf += 8 + le32(b + conf + 4); /* skip META */
	assert_memory_equal(b + conf, "CONF", 4);
	put32(b + conf + 8 + 28, 1000); /* npartitions, after the vendor */
	reseal(b, len);
	assert_int_equal(parse_copy(b, len, &err), -1);
	assert_string_equal(err.field, "config.npartitions");
	assert_non_null(strstr(err.msg, "count 1000 over the limit of 64"));
	free(b);

	/* A vendor that is neither Intel nor AMD is refused by validation. */
	cfg->vendor = 7;
	expect_refused(&meta, "config", "unknown vendor");
	cfg->vendor = HV_VENDOR_INTEL;

	/* A config the core rejects (overlapping RAM) is bad input. */
	cfg->partitions[1].regions[0].hpa = cfg->partitions[0].regions[0].hpa;
	expect_refused(&meta, "config", "rejected by validation");

	/* Names follow the config loader's rule: printable ASCII only. */
	*cfg = f->cfg;
	snprintf(cfg->partitions[1].name, sizeof(cfg->partitions[1].name), "b\nok: x");
	expect_refused(&meta, "partitions[1].name", "byte 0x0a at 1 is not printable ASCII");
	*cfg = f->cfg;
	cfg->channels[0].name[0] = 0x1b;
	expect_refused(&meta, "channels[0].name", "byte 0x1b at 0");

	/* A pool outside hypervisor memory. */
	*cfg = f->cfg;
	meta.pool_hpa = MOCK_P0_RAM_HPA;
	expect_refused(&meta, "meta.pool_hpa", NULL);
	free(cfg);
}

static void test_limits_on_append(void **state)
{
	struct fx *f = *state;
	struct hx_obs_view v = {.entries = f->log.entries,
	                        .nentries = HX_TRACE_MAX_OPS + 1,
	                        .data = f->log.data,
	                        .data_len = f->log.data_len};
	struct hv_exit in = some_exit(0);
	assert_int_equal(hx_trace_append(f->t, &in, &v, NULL, NULL), -1);
	assert_int_equal(f->t->nexits, 3);
	/* An overflowed log is kept with its count. */
	v.nentries = 1;
	v.overflow = 9;
	assert_int_equal(hx_trace_append(f->t, &in, &v, NULL, NULL), 0);
	assert_int_equal(hx_trace_append(f->t, &in, NULL, NULL, NULL), 0); /* no calls */
	uint8_t *b;
	size_t len;
	assert_int_equal(hx_trace_encode(f->t, &b, &len), 0);
	struct hx_trace *back;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(b, len, &back, &err), 0);
	assert_int_equal(back->exits[3].log.overflow, 9);
	assert_int_equal(back->exits[4].log.nentries, 0);
	hx_trace_free(back);
	free(b);
}

static void test_unsealed_and_reseal(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	struct hx_trace *t;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &t, &err), 0);
	size_t exit2 = (size_t)t->exits[2].offset; /* body of exit 2 */
	hx_trace_free(t);
	uint8_t *b = malloc(f->len);
	memcpy(b, f->bytes, f->len);
	size_t body = first_exit_body(b, f->len);
	b[body + 16 + 24] ^= 0x01; /* in.st.rax of exit 0, as a fuzzer would */
	assert_int_equal(parse_copy(b, f->len, &err), -1);
	assert_string_equal(err.field, "header.checksum");
	assert_int_equal(hx_trace_parse_ex(b, f->len, HX_TRACE_UNSEALED, &t, &err), 0);
	assert_int_equal(t->exits[0].in.st.gpr[HV_RAX], f->t->exits[0].in.st.gpr[HV_RAX] ^ 1);
	hx_trace_free(t);
	/* Unsealed: the header's length and count do not matter either, so a
	 * trace cut after exit 1 parses with two exits. */
	assert_int_equal(hx_trace_parse_ex(b, exit2 - 8, HX_TRACE_UNSEALED, &t, &err), 0);
	assert_int_equal(t->nexits, 2);
	hx_trace_free(t);
	/* ... but the records themselves are still checked. */
	assert_int_equal(hx_trace_parse_ex(b, exit2 + 3, HX_TRACE_UNSEALED, &t, &err), -1);
	assert_int_equal(err.exit_index, 2);
	/* Resealed, it is a valid file again, also when cut short. */
	assert_int_equal(hx_trace_reseal(b, f->len), 0);
	assert_int_equal(parse_copy(b, f->len, &err), 0);
	size_t cut = exit2 - 8;
	assert_int_equal(hx_trace_reseal(b, cut), 0);
	assert_int_equal(hx_trace_parse(b, cut, &t, &err), 0);
	assert_int_equal(t->nexits, 2);
	hx_trace_free(t);
	b[0] = 'X';
	assert_int_equal(hx_trace_reseal(b, f->len), -1);
	assert_int_equal(hx_trace_reseal(b, 10), -1);
	free(b);
}

/* Each parsed call is, byte for byte, the entry the log was written from,
 * data offsets included: one call of every kind, read at once
 * (get_op_at_once), and an empty console write. Changed bytes and cut
 * records, which that reading leaves to the field-by-field one, are
 * test_every_byte_changed's and test_truncated_everywhere's. */
static void test_parsed_calls_whole(void **state)
{
	struct fx *f = *state;
	struct hx_trace *t;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &t, &err), 0);
	const struct hx_obs_view *l = &t->exits[0].log;
	assert_int_equal(l->nentries, f->log.nentries);
	assert_memory_equal(l->entries, f->log.entries, l->nentries * sizeof(l->entries[0]));
	assert_int_equal(l->data_len, f->log.data_len);
	assert_memory_equal(l->data, f->log.data, l->data_len);
	hx_trace_free(t);
}

/* Config buffers are reused, and a config only the parser wrote is
 * cleared only as far as it wrote: a one-partition config parsed into the
 * buffer a two-partition one left (cached and dropped with its cache, or
 * refused by the parser) equals the config it was written from, byte for
 * byte. Clearing one partition too few fails this. */
static void test_reused_config_buffers_are_clean(void **state)
{
	struct fx *f = *state;
	struct hx_trace_error err;
	struct hx_trace *t;
	struct hv_system_config *one = calloc(1, sizeof(*one));
	mock_config_two(one);
	keep_partition_0(one);
	uint8_t *b;
	size_t len;
	encode_config(one, &b, &len);
	assert_int_equal(f->cfg.npartitions, 2);
	for (int how = 0; how < 2; how++) {
		if (how == 0) { /* cached, then dropped with the cache */
			struct hx_trace_cache *cache = hx_trace_cache_new();
			assert_int_equal(
			        hx_trace_parse_cached(f->bytes, f->len, 0, cache, &t, &err), 0);
			assert_non_null(t->cfg_shared);
			hx_trace_free(t);
			hx_trace_cache_free(cache);
		} else { /* refused in its last byte, after the config */
			assert_int_equal(hx_trace_parse_ex(f->bytes, f->len - 1, HX_TRACE_UNSEALED,
			                                   &t, &err),
			                 -1);
		}
		assert_int_equal(hx_trace_parse(b, len, &t, &err), 0);
		assert_memory_equal(t->cfg, one, sizeof(*one));
		hx_trace_free(t);
	}
	free(b);
	free(one);
}

/* Parsed logs share chunks of storage; in ASan builds the byte after each
 * log's data is poisoned all the same, as the end of a heap block of its
 * own would be, and so is the first byte after the last one. */
static void test_parsed_logs_are_fenced(void **state)
{
#ifdef HX_ASAN
	struct fx *f = *state;
	struct hx_trace *t;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &t, &err), 0);
	uint32_t fenced = 0;
	for (uint32_t i = 0; i < t->nexits; i++) {
		const struct hx_obs_view *l = &t->exits[i].log;
		if (!l->nentries)
			continue;
		assert_false(__asan_address_is_poisoned(&l->entries[0]));
		if (l->data_len)
			assert_false(__asan_address_is_poisoned(l->data + l->data_len - 1));
		assert_true(__asan_address_is_poisoned(l->data + l->data_len));
		fenced++;
	}
	assert_true(fenced >= 2);
	hx_trace_free(t);
#else
	(void)state;
	skip();
#endif
}

/* Reordering in place equals building the reordered trace record by
 * record; a bad index leaves the trace as it was. */
static void test_reorder(void **state)
{
	struct fx *f = *state;
	struct hx_trace *t;
	struct hx_trace_error err;
	assert_int_equal(hx_trace_parse(f->bytes, f->len, &t, &err), 0);
	static const uint32_t bad[] = {0, 3};
	assert_int_equal(hx_trace_reorder(t, bad, 2), -1);
	static const uint32_t twice_bad[] = {1, 1, 7};
	assert_int_equal(hx_trace_reorder(t, twice_bad, 3), -1);
	assert_encodes_to(t, f->bytes, f->len);

	static const uint32_t order[] = {2, 0, 0, 1, 2};
	assert_int_equal(hx_trace_reorder(t, order, 5), 0);
	struct hx_trace_meta meta = {.cfg = f->t->cfg,
	                             .config_name = f->t->config_name,
	                             .note = f->t->note,
	                             .pool_hpa = f->t->pool_hpa,
	                             .pool_pages = f->t->pool_pages};
	struct hx_trace *want = hx_trace_new(&meta);
	assert_non_null(want);
	for (int i = 0; i < 5; i++)
		assert_int_equal(hx_trace_append_exit(want, &f->t->exits[order[i]]), 0);
	uint8_t *want_bytes;
	size_t want_len;
	assert_int_equal(hx_trace_encode(want, &want_bytes, &want_len), 0);
	assert_encodes_to(t, want_bytes, want_len);
	free(want_bytes);
	hx_trace_free(want);

	assert_int_equal(hx_trace_reorder(t, NULL, 0), 0);
	assert_int_equal(t->nexits, 0);
	hx_trace_free(t);
}

static void test_fnv(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values: "" and "a". */
	assert_int_equal(hx_fnv1a64("", 0, HX_FNV1A64_INIT), 0xcbf29ce484222325ull);
	assert_int_equal(hx_fnv1a64("a", 1, HX_FNV1A64_INIT), 0xaf63dc4c8601ec8cull);
	/* Chaining equals one pass. */
	assert_int_equal(hx_fnv1a64("bc", 2, hx_fnv1a64("a", 1, HX_FNV1A64_INIT)),
	                 hx_fnv1a64("abc", 3, HX_FNV1A64_INIT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_save_load, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_save_refuses_special_destinations, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_streaming_writer, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_config_name_is_file_name, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_truncated_everywhere, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_every_byte_changed, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_absurd_counts, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_versions_1_2_3, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_io_devices_round_trip, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_limits_on_append, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_unsealed_and_reseal, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reorder, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_parsed_logs_are_fenced, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_parsed_calls_whole, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_reused_config_buffers_are_clean, setup,
	                                        teardown),
	        cmocka_unit_test(test_fnv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
