/* Building and writing .hxt traces: in memory (seeds, minimizer, tests) and
 * streamed to a file (the KVM runner). Files appear atomically: written
 * to a temp file in the same directory, synced, then renamed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "escape.h"
#include "input_file.h"
#include "trace_internal.h"

/* ---- in-memory traces ---- */

bool tr_reserve(struct hx_trace *t)
{
	if (t->nexits < t->cap)
		return true;
	if (t->nexits >= HX_TRACE_MAX_EXITS)
		return false;
	return tr_reserve_n(t, t->cap ? t->cap * 2 : 16);
}

bool tr_reserve_n(struct hx_trace *t, uint32_t cap)
{
	if (cap <= t->cap)
		return true;
	if (cap > HX_TRACE_MAX_EXITS)
		cap = HX_TRACE_MAX_EXITS;
	struct hx_trace_exit *e = realloc(t->exits, cap * sizeof(*e));
	if (!e)
		return false;
	t->exits = e;
	void **m = realloc(t->exit_mem, cap * sizeof(*m));
	if (!m)
		return false;
	t->exit_mem = m;
	t->cap = cap;
	return true;
}

void *tr_copy_log(const struct hx_obs_view *log, struct hx_obs_view *view)
{
	size_t ents = (size_t)log->nentries * sizeof(struct hx_obs_entry);
	uint8_t *block = malloc(ents + log->data_len + 1);
	if (!block)
		return NULL;
	if (ents)
		memcpy(block, log->entries, ents);
	if (log->data_len)
		memcpy(block + ents, log->data, log->data_len);
	*view = (struct hx_obs_view){
	        .entries = (const struct hx_obs_entry *)block,
	        .nentries = log->nentries,
	        .overflow = log->overflow,
	        .data = block + ents,
	        .data_len = log->data_len,
	};
	return block;
}

struct hx_trace *hx_trace_new(const struct hx_trace_meta *meta)
{
	struct hx_trace *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = tr_cfg_new();
	if (!t->cfg) {
		free(t);
		return NULL;
	}
	t->version = HX_TRACE_VERSION;
	*t->cfg = *meta->cfg;
	snprintf(t->config_name, sizeof(t->config_name), "%s",
	         tr_config_file_name(meta->config_name));
	snprintf(t->note, sizeof(t->note), "%s", meta->note ? meta->note : "");
	t->pool_hpa = meta->pool_hpa;
	t->pool_pages = meta->pool_pages;
	return t;
}

int hx_trace_reorder(struct hx_trace *t, const uint32_t *order, uint32_t n)
{
	if (n > HX_TRACE_MAX_EXITS)
		return -1;
	size_t cap = n ? n : 1;
	struct hx_trace_exit *e = malloc(cap * sizeof(*e));
	void **m = calloc(cap, sizeof(*m));
	/* Each old record's log storage moves to its first use; later uses
	 * get copies. */
	bool *moved = calloc(t->nexits ? t->nexits : 1, sizeof(*moved));
	uint32_t filled = 0;
	bool ok = e && m && moved;
	for (; ok && filled < n; filled++) {
		uint32_t k = order[filled];
		if (k >= t->nexits)
			break;
		e[filled] = t->exits[k];
		if (!moved[k]) {
			moved[k] = true;
			m[filled] = t->exit_mem[k];
		} else if (!(m[filled] = tr_copy_log(&t->exits[k].log, &e[filled].log))) {
			break;
		}
	}
	if (!ok || filled < n) { /* free the copies; moved storage is still t's */
		for (uint32_t i = 0; i < filled; i++)
			if (m[i] != t->exit_mem[order[i]])
				free(m[i]);
		free(e);
		free(m);
		free(moved);
		return -1;
	}
	for (uint32_t k = 0; k < t->nexits; k++)
		if (!moved[k])
			free(t->exit_mem[k]);
	free(moved);
	free(t->exits);
	free(t->exit_mem);
	t->exits = e;
	t->exit_mem = m;
	t->nexits = n;
	t->cap = (uint32_t)cap;
	return 0;
}

static const struct hx_obs_view no_calls = {0};

static int append(struct hx_trace *t, const struct hv_exit *in, const struct hx_obs_view *log,
                  const struct hv_result *res, const struct hv_vcpu_state *out, uint64_t offset)
{
	if (!log)
		log = &no_calls;
	if (!tr_log_ok(log) || !tr_reserve(t))
		return -1;
	struct hx_trace_exit *e = &t->exits[t->nexits];
	memset(e, 0, sizeof(*e));
	void *mem = tr_copy_log(log, &e->log);
	if (!mem)
		return -1;
	e->in = *in;
	if (res && out) {
		e->flags = HX_TREC_OUTPUTS;
		e->res = *res;
		e->out = *out;
	}
	e->offset = offset;
	t->exit_mem[t->nexits++] = mem;
	return 0;
}

int hx_trace_append(struct hx_trace *t, const struct hv_exit *in, const struct hx_obs_view *log,
                    const struct hv_result *res, const struct hv_exit *out)
{
	return append(t, in, log, res, out ? &out->st : NULL, 0);
}

int hx_trace_append_exit(struct hx_trace *t, const struct hx_trace_exit *e)
{
	bool outs = e->flags & HX_TREC_OUTPUTS;
	return append(t, &e->in, &e->log, outs ? &e->res : NULL, outs ? &e->out : NULL, e->offset);
}

static struct hx_trace_meta meta_of(const struct hx_trace *t)
{
	return (struct hx_trace_meta){.cfg = t->cfg,
	                              .config_name = t->config_name,
	                              .note = t->note,
	                              .pool_hpa = t->pool_hpa,
	                              .pool_pages = t->pool_pages};
}

int hx_trace_encode(const struct hx_trace *t, uint8_t **buf, size_t *len)
{
	struct wbuf w = {0};
	*buf = NULL;
	*len = 0;
	uint8_t hdr[HX_TRACE_HEADER_SIZE] = {0};
	wb_bytes(&w, hdr, sizeof(hdr));
	struct hx_trace_meta m = meta_of(t);
	tr_put_meta(&w, &m);
	tr_put_config(&w, t->cfg);
	for (uint32_t i = 0; i < t->nexits; i++) {
		const struct hx_trace_exit *e = &t->exits[i];
		if (!tr_log_ok(&e->log)) {
			wb_free(&w);
			return -1;
		}
		bool outs = e->flags & HX_TREC_OUTPUTS;
		tr_put_exit(&w, &e->in, &e->log, outs ? &e->res : NULL, outs ? &e->out : NULL);
	}
	if (w.failed) {
		wb_free(&w);
		return -1;
	}
	size_t plen = w.len - HX_TRACE_HEADER_SIZE;
	tr_header(w.p, plen, hx_fnv1a64(w.p + HX_TRACE_HEADER_SIZE, plen, HX_FNV1A64_INIT),
	          t->nexits);
	*buf = w.p;
	*len = w.len;
	return 0;
}

/* ---- atomic files ---- */

/* rename() would replace whatever is at path: refuse to put a trace in
 * place of a device (-o /dev/null as root would replace the device node), a
 * FIFO or a directory, also behind a symlink (the link itself would be
 * replaced, its target left alone: fine for a regular file). Checked when
 * the temp file is created and again just before the rename. */
static int check_destination(const char *path, const char *what, char *err, size_t errlen)
{
	if (!*path) {
		snprintf(err, errlen, "empty file name for the %s", what);
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) != 0)
		return 0; /* nothing there (or unreachable: the rename will say) */
	if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
		return 0; /* a dangling link is replaced like a missing file */
	if (S_ISREG(st.st_mode))
		return 0;
	char name[256];
	snprintf(err, errlen, "%s: is %s, not a regular file: refusing to replace it with a %s",
	         hx_escape(path, name, sizeof(name)), hx_file_type_name(st.st_mode), what);
	return -1;
}

/* A temp file next to path, opened for writing. */
static FILE *open_temp(const char *path, const char *what, char **tmp, char *err, size_t errlen)
{
	if (check_destination(path, what, err, errlen) != 0) {
		*tmp = NULL;
		return NULL;
	}
	size_t n = strlen(path) + 16;
	*tmp = malloc(n);
	if (!*tmp) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(*tmp, n, "%s.tmp.XXXXXX", path);
	int fd = mkstemp(*tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a temp file: %s", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	/* mkstemp creates 0600; a trace is an ordinary shareable file. */
	(void)fchmod(fd, 0644);
	FILE *f = fdopen(fd, "wb");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

/* Flush, sync, close and rename into place; on any failure the temp file
 * is removed and nothing appears at path. */
static int finish_temp(FILE *f, char *tmp, const char *path, const char *what, char *err,
                       size_t errlen)
{
	int rc = 0;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		rc = -1;
	}
	if (fclose(f) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: close failed: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0 && check_destination(path, what, err, errlen) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: rename failed: %s", path, strerror(errno));
		rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

int hx_trace_save(const char *path, const struct hx_trace *t, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (hx_trace_encode(t, &buf, &len) != 0) {
		snprintf(err, errlen, "%s: trace exceeds the format's limits or out of memory",
		         path);
		return -1;
	}
	int rc = hx_file_save(path, buf, len, "trace", err, errlen);
	free(buf);
	return rc;
}

int hx_file_save(const char *path, const void *data, size_t len, const char *what, char *err,
                 size_t errlen)
{
	char *tmp;
	FILE *f = open_temp(path, what, &tmp, err, errlen);
	if (!f)
		return -1;
	if (fwrite(data, 1, len, f) != len) {
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno));
		fclose(f);
		unlink(tmp);
		free(tmp);
		return -1;
	}
	return finish_temp(f, tmp, path, what, err, errlen);
}

/* ---- streaming writer ---- */

struct hx_trace_writer {
	FILE *f;
	char *tmp;
	char *path;
	uint64_t payload_len;
	uint64_t sum;
	uint32_t nexits;
	bool failed;
	char why[160];
	struct wbuf rec; /* reused for each record */
};

static void writer_emit(struct hx_trace_writer *w)
{
	if (w->failed)
		return;
	if (w->rec.failed) {
		w->failed = true;
		snprintf(w->why, sizeof(w->why),
		         "record over the format's limits or out of memory");
		return;
	}
	if (w->payload_len + w->rec.len > HX_TRACE_MAX_FILE - HX_TRACE_HEADER_SIZE) {
		w->failed = true;
		snprintf(w->why, sizeof(w->why), "trace would exceed %llu bytes",
		         HX_TRACE_MAX_FILE);
		return;
	}
	if (fwrite(w->rec.p, 1, w->rec.len, w->f) != w->rec.len) {
		w->failed = true;
		snprintf(w->why, sizeof(w->why), "write failed: %s", strerror(errno));
		return;
	}
	w->sum = hx_fnv1a64(w->rec.p, w->rec.len, w->sum);
	w->payload_len += w->rec.len;
}

struct hx_trace_writer *hx_trace_writer_open(const char *path, const struct hx_trace_meta *meta,
                                             char *err, size_t errlen)
{
	struct hx_trace_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		free(w);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->f = open_temp(path, "trace", &w->tmp, err, errlen);
	if (!w->f) {
		free(w->path);
		free(w);
		return NULL;
	}
	setvbuf(w->f, NULL, _IOFBF, 1 << 16);
	w->sum = HX_FNV1A64_INIT;
	uint8_t hdr[HX_TRACE_HEADER_SIZE] = {0}; /* rewritten by commit */
	if (fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr))
		w->failed = true;
	tr_put_meta(&w->rec, meta);
	tr_put_config(&w->rec, meta->cfg);
	writer_emit(w);
	return w;
}

int hx_trace_writer_add(struct hx_trace_writer *w, const struct hv_exit *in,
                        const struct hx_obs_view *log, const struct hv_result *res,
                        const struct hv_exit *out)
{
	if (w->failed)
		return -1;
	if (!log)
		log = &no_calls;
	if (w->nexits >= HX_TRACE_MAX_EXITS || !tr_log_ok(log)) {
		w->failed = true;
		snprintf(w->why, sizeof(w->why), "exit %u breaks a limit of the trace format",
		         w->nexits);
		return -1;
	}
	w->rec.len = 0;
	tr_put_exit(&w->rec, in, log, res, out ? &out->st : NULL);
	writer_emit(w);
	if (w->failed)
		return -1;
	w->nexits++;
	return 0;
}

uint32_t hx_trace_writer_count(const struct hx_trace_writer *w)
{
	return w->nexits;
}

static void writer_free(struct hx_trace_writer *w)
{
	wb_free(&w->rec);
	free(w->path);
	free(w);
}

int hx_trace_writer_commit(struct hx_trace_writer *w, char *err, size_t errlen)
{
	int rc = -1;
	if (w->failed) {
		snprintf(err, errlen, "%s: %s", w->path, w->why[0] ? w->why : "write failed");
		fclose(w->f);
		unlink(w->tmp);
		free(w->tmp);
	} else {
		uint8_t hdr[HX_TRACE_HEADER_SIZE];
		tr_header(hdr, w->payload_len, w->sum, w->nexits);
		if (fflush(w->f) != 0 || fseek(w->f, 0, SEEK_SET) != 0 ||
		    fwrite(hdr, 1, sizeof(hdr), w->f) != sizeof(hdr)) {
			snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(errno));
			fclose(w->f);
			unlink(w->tmp);
			free(w->tmp);
		} else {
			rc = finish_temp(w->f, w->tmp, w->path, "trace", err, errlen);
		}
	}
	writer_free(w);
	return rc;
}

void hx_trace_writer_abort(struct hx_trace_writer *w)
{
	if (!w)
		return;
	fclose(w->f);
	unlink(w->tmp);
	free(w->tmp);
	writer_free(w);
}
