/* Hypercalls (VMCALL) on a mocked three-partition system, checked by the
 * oracles of harness/oracle after every call and against a model of the
 * ABI written from hv/hcall.h (not from hcall.c).
 *
 * The layout puts windows of different kinds right next to each other, so
 * an off-by-one at any window end reaches memory the caller must not touch:
 *
 *   p0  0x0       2 MiB  RAM rwx (one 2 MiB leaf: MEM_PROTECT splits it)
 *       0x200000  16 KiB RAM r
 *       0x204000  4 KiB  passthrough MMIO rw (never a hypercall buffer)
 *       0x205000  8 KiB  RAM rw
 *       0x207000  8 KiB  channel "link", read-write member
 *       0x209000  4 KiB  console device (never mapped)
 *       0x20a000  4 KiB  RAM rwx
 *       0x300000  4 KiB  channel "back", read-only member
 *       0x400000  4 KiB  RAM x (execute only)
 *       2^48-16K  16 KiB RAM rw, ending at the top of the GPA space
 *   p1  0x0       64 KiB RAM rwx, then "link" (r) at 0x10000, "back" (rw)
 *       at 0x12000; MEM_PROTECT not allowed
 *   p2  0x0       16 KiB RAM rwx, channel "side" (rw, shared with p1 only);
 *       only VERSION, CHANNEL_RECV and SHUTDOWN allowed
 *
 * The input is a sequence of operations: hypercalls from any partition and
 * vCPU (sometimes an invalid one), at CPL 0 or 3 (rarely 1, 2 or invalid),
 * with arguments drawn near the interesting boundaries (window starts and
 * ends, end - length, 2^48, 2^64 wrap-around, lengths around every limit),
 * and writes of random bytes into guest memory between calls.
 *
 * Invariants: every oracle (HCALL-BOUNDS, CONTAIN, RIP, EPT-*, TOTAL);
 * HCALL-BOUNDS also when a call gets further through the ABI's order of
 * checks than the model allows (e.g. a buffer the ABI refuses is accepted);
 * HCALL-ABI when it stops earlier than the ABI says or leaves other bytes
 * (console, info struct, message) than the ABI describes.
 *
 * With HX_FUZZ_TRACE_OUT=FILE set, the calls of the input (up to and
 * including a failing one) are also written to FILE as an .hxt trace with
 * their outputs, so `hx replay FILE` runs the same exits with the oracles
 * (ci/fuzz-dedup.sh does this for every crash). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fz.h"
#include "hv/exit.h"
#include "hv/hcall.h"
#include "mock_config.h"
#include "oracle.h"
#include "trace.h"

#define KIB 1024ull
#define MIB (1024ull * 1024ull)
#define PG 4096ull
#define GPA_TOP (1ull << 48)
#define INFO_SIZE ((uint64_t)sizeof(struct hv_hc_info))
#define MAX_OPS 48
#define NPARTS 3

/* ---- the system ---- */

/* One system per vendor (Intel EPT, AMD nested page tables), built once;
 * the low bit of an input's last byte picks one without taking a byte from
 * the operations, so every seed runs on both. */
struct fixture {
	struct mock_env env;
	struct hx_observer obs;
	struct hx_oracle *oracle;
	/* the system right after hv_system_init, restored for each input */
	struct hv_system sys_snap;
	struct hv_pool pool_snap;
	uint8_t *pool_pages_snap;
	/* parts[] past the config's partitions are fenced (fz_fence) */
	bool fenced;
	/* Whether an input may have changed the EPT tables since the last
	 * reset: only a memory-protect call writes them. A write by any other
	 * exit is a violation the oracles report at that exit (they compare
	 * every pool page the exit reached, and the pool watch catches the
	 * rest), which ends the input. */
	bool tables_touched;
};
static struct fixture *fixtures; /* [HV_VENDOR_INTEL], [HV_VENDOR_AMD] */
static struct fixture *fx;       /* the current input's */

/* Where the current exit is, for failure messages: the call is kept as
 * it came and formatted only when a message needs it (formatting it up
 * front cost more than the hypercall itself). */
static uint64_t cur_index;
static struct hv_exit cur_exit;
static const char *call_desc(void);

/* Recording of the input as a trace (HX_FUZZ_TRACE_OUT). */
static const char *trace_out;
static struct hx_trace *rec;
static struct {
	bool pending; /* an exit handled but not yet appended */
	struct hv_exit in, out;
	struct hv_result res;
	struct hx_obs_view view;
} rec_cur;

static void rec_start(void)
{
	if (!trace_out)
		return;
	hx_trace_free(rec);
	struct hx_trace_meta meta = {.cfg = &fx->env.cfg,
	                             .config_name = "",
	                             .note = "fuzz_hcall input (mocked three-partition system)",
	                             .pool_hpa = MOCK_POOL_HPA,
	                             .pool_pages = MOCK_POOL_PAGES};
	rec = hx_trace_new(&meta);
	if (!rec)
		abort();
}

static void rec_flush_exit(void)
{
	if (!rec || !rec_cur.pending)
		return;
	rec_cur.pending = false;
	if (hx_trace_append(rec, &rec_cur.in, &rec_cur.view, &rec_cur.res, &rec_cur.out) != 0)
		fprintf(stderr, "fuzz_hcall: trace limit reached, recording stops\n");
}

static void rec_save(void)
{
	if (!rec)
		return;
	rec_flush_exit();
	char err[256];
	if (hx_trace_save(trace_out, rec, err, sizeof(err)) != 0)
		fprintf(stderr, "fuzz_hcall: %s\n", err);
	else
		fprintf(stderr, "fuzz_hcall: %u exits written to %s (hx replay %s)\n", rec->nexits,
		        trace_out, trace_out);
}

static void add_ram(struct hv_partition_config *p, uint64_t gpa, uint64_t hpa, uint64_t size,
                    uint8_t perm)
{
	p->regions[p->nregions++] = (struct hv_region){.gpa = gpa,
	                                               .hpa = hpa,
	                                               .size = size,
	                                               .type = HV_REGION_RAM,
	                                               .perm = perm,
	                                               .memtype = HV_MT_WB};
}

static void add_member(struct hv_partition_config *p, uint32_t ch, uint64_t gpa, uint8_t perm)
{
	p->channels[p->nchannels++] =
	        (struct hv_channel_member){.channel = ch, .perm = perm, .gpa = gpa};
}

static void build_config(struct hv_system_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->host_mem_size = MOCK_HOST_MEM;
	cfg->hv_base = 0;
	cfg->hv_size = MOCK_HV_SIZE;
	cfg->npartitions = NPARTS;
	cfg->nchannels = 3;
	cfg->channels[0] = (struct hv_channel_config){"link", 40 * MIB, 8 * KIB};
	cfg->channels[1] = (struct hv_channel_config){"back", 40 * MIB + 64 * KIB, 4 * KIB};
	cfg->channels[2] = (struct hv_channel_config){"side", 40 * MIB + 128 * KIB, 4 * KIB};

	struct hv_partition_config *p0 = &cfg->partitions[0];
	strcpy(p0->name, "p0");
	p0->nvcpus = 2;
	p0->hcall_allowed = HV_HC_ALL;
	add_ram(p0, 0x0, 8 * MIB, 2 * MIB, HV_PERM_RWX);
	add_ram(p0, 0x200000, 10 * MIB, 16 * KIB, HV_PERM_R);
	p0->regions[p0->nregions++] = (struct hv_region){.gpa = 0x204000,
	                                                 .hpa = 48 * MIB,
	                                                 .size = PG,
	                                                 .type = HV_REGION_MMIO,
	                                                 .perm = HV_PERM_RW,
	                                                 .memtype = HV_MT_UC};
	add_ram(p0, 0x205000, 10 * MIB + 64 * KIB, 8 * KIB, HV_PERM_RW);
	add_member(p0, 0, 0x207000, HV_PERM_RW);
	p0->devices[p0->ndevices++] =
	        (struct hv_device_config){.gpa = 0x209000, .size = PG, .type = HV_DEV_CONSOLE};
	add_ram(p0, 0x20a000, 10 * MIB + 128 * KIB, PG, HV_PERM_RWX);
	add_member(p0, 1, 0x300000, HV_PERM_R);
	/* RX: neither configs nor MEM_PROTECT can make a page execute-only. */
	add_ram(p0, 0x400000, 10 * MIB + 192 * KIB, PG, HV_PERM_RX);
	add_ram(p0, GPA_TOP - 16 * KIB, 10 * MIB + 256 * KIB, 16 * KIB, HV_PERM_RW);

	struct hv_partition_config *p1 = &cfg->partitions[1];
	strcpy(p1->name, "p1");
	p1->nvcpus = 1;
	p1->hcall_allowed = HV_HC_ALL & ~(1u << HV_HC_MEM_PROTECT);
	add_ram(p1, 0x0, 12 * MIB, 64 * KIB, HV_PERM_RWX);
	add_member(p1, 0, 0x10000, HV_PERM_R);
	add_member(p1, 1, 0x12000, HV_PERM_RW);
	add_member(p1, 2, 0x13000, HV_PERM_RW);

	struct hv_partition_config *p2 = &cfg->partitions[2];
	strcpy(p2->name, "p2");
	p2->nvcpus = 1;
	p2->hcall_allowed =
	        (1u << HV_HC_VERSION) | (1u << HV_HC_CHANNEL_RECV) | (1u << HV_HC_SHUTDOWN);
	add_ram(p2, 0x0, 14 * MIB, 16 * KIB, HV_PERM_RWX);
	add_member(p2, 2, 0x4000, HV_PERM_RW);
}

/* ---- the model of the ABI (hv/hcall.h) ---- */

enum win_kind { WIN_RAM, WIN_CHAN, WIN_MMIO };

struct window {
	uint64_t gpa, size, hpa;
	uint8_t perm; /* configured */
	uint8_t kind;
	uint32_t channel;
	uint8_t *cur; /* RAM: current EPT perms per page (after MEM_PROTECT) */
};

struct model_part {
	struct window win[16];
	uint32_t nwin;
	uint32_t halted; /* enum hv_halt_reason */
};

static struct model {
	struct model_part part[NPARTS];
	uint32_t msg_len[3]; /* mailbox of each channel */
} model;

static uint8_t perm_store[(2 * MIB + 64 * KIB) / PG + 64];

static void model_init(const struct hv_system_config *cfg)
{
	uint32_t used = 0;
	memset(&model, 0, sizeof(model));
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		struct model_part *mp = &model.part[p];
		for (uint32_t i = 0; i < pc->nregions; i++) {
			const struct hv_region *r = &pc->regions[i];
			struct window *w = &mp->win[mp->nwin++];
			*w = (struct window){r->gpa,
			                     r->size,
			                     r->hpa,
			                     r->perm,
			                     r->type == HV_REGION_RAM ? WIN_RAM : WIN_MMIO,
			                     0,
			                     NULL};
			if (w->kind == WIN_RAM) {
				uint64_t pages = r->size / PG;
				if (used + pages > sizeof(perm_store))
					abort();
				w->cur = &perm_store[used];
				memset(w->cur, r->perm, pages);
				used += (uint32_t)pages;
			}
		}
		for (uint32_t i = 0; i < pc->nchannels; i++) {
			const struct hv_channel_member *m = &pc->channels[i];
			const struct hv_channel_config *c = &cfg->channels[m->channel];
			mp->win[mp->nwin++] = (struct window){m->gpa,   c->size,    c->hpa, m->perm,
			                                      WIN_CHAN, m->channel, NULL};
		}
	}
}

static struct window *window_at(uint32_t p, uint64_t gpa)
{
	struct model_part *mp = &model.part[p];
	for (uint32_t i = 0; i < mp->nwin; i++)
		if (gpa >= mp->win[i].gpa && gpa - mp->win[i].gpa < mp->win[i].size)
			return &mp->win[i];
	return NULL;
}

static uint8_t page_perm(const struct window *w, uint64_t gpa)
{
	return w->kind == WIN_RAM ? w->cur[(gpa - w->gpa) / PG] : w->perm;
}

/* A guest buffer: no wrap-around, every byte in the caller's RAM or channel
 * windows with `need` both as configured and as mapped now. */
static bool buffer_ok(uint32_t p, uint64_t gpa, uint64_t len, uint8_t need)
{
	if (len == 0 || gpa + len <= gpa)
		return false;
	uint64_t end = gpa + len;
	for (uint64_t cur = gpa; cur < end;) {
		const struct window *w = window_at(p, cur);
		if (!w || w->kind == WIN_MMIO || (w->perm & need) != need)
			return false;
		uint64_t stop = w->gpa + w->size < end ? w->gpa + w->size : end;
		for (uint64_t pg = cur & ~(PG - 1); pg < stop; pg += PG)
			if ((page_perm(w, pg) & need) != need)
				return false;
		cur = stop;
	}
	return true;
}

/* A window at a time: windows are contiguous in host memory. */
static void read_guest(uint32_t p, uint64_t gpa, void *dst, uint64_t len)
{
	for (uint64_t done = 0; done < len;) {
		const struct window *w = window_at(p, gpa + done);
		if (!w)
			abort();
		uint64_t off = gpa + done - w->gpa, n = w->size - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)dst + done, fx->env.plat.mem + w->hpa + off, n);
		done += n;
	}
}

/* MEM_PROTECT range checks: consecutive RAM windows of the caller. Returns
 * 0 (fine), HV_HC_EFAULT or HV_HC_EPERM. */
static int64_t protect_ranges(uint32_t p, uint64_t gpa, uint64_t size, uint8_t perm)
{
	uint64_t end = gpa + size;
	int64_t st = 0;
	for (uint64_t cur = gpa; cur < end;) {
		const struct window *w = window_at(p, cur);
		if (!w || w->kind != WIN_RAM)
			return HV_HC_EFAULT;
		if ((w->perm & perm) != perm)
			st = HV_HC_EPERM; /* but a later gap is still EFAULT */
		cur = w->gpa + w->size < end ? w->gpa + w->size : end;
	}
	if (st != 0 || perm == 0)
		return st;
	for (uint64_t cur = gpa; cur < end; cur += PG) {
		const struct window *w = window_at(p, cur);
		if ((page_perm(w, cur) & perm) != perm)
			return HV_HC_EPERM;
	}
	return 0;
}

static void protect_apply(uint32_t p, uint64_t gpa, uint64_t size, uint8_t perm)
{
	for (uint64_t cur = gpa; cur < gpa + size; cur += PG) {
		struct window *w = window_at(p, cur);
		w->cur[(cur - w->gpa) / PG] = perm;
	}
}

static bool member(uint32_t p, uint64_t ch, uint8_t *perm)
{
	const struct model_part *mp = &model.part[p];
	for (uint32_t i = 0; i < mp->nwin; i++)
		if (mp->win[i].kind == WIN_CHAN && mp->win[i].channel == ch) {
			*perm = mp->win[i].perm;
			return true;
		}
	return false;
}

/* What the ABI says a CPL-0 call of an allowed number returns, before it
 * runs (first failing check wins, hv/hcall.h "Order of checks"). */
static int64_t model_status(const struct hv_system_config *cfg, uint32_t p, uint64_t nr,
                            const uint64_t a[4])
{
	if (nr >= HV_HC_COUNT)
		return HV_HC_ENOSYS;
	if (!(cfg->partitions[p].hcall_allowed & (1u << nr)))
		return HV_HC_EPERM;
	uint8_t mperm = 0;
	switch (nr) {
	case HV_HC_CONSOLE_WRITE:
		if (a[1] > HV_HC_CONSOLE_MAX)
			return HV_HC_E2BIG;
		if (a[1] == 0)
			return HV_HC_OK;
		return buffer_ok(p, a[0], a[1], HV_PERM_R) ? HV_HC_OK : HV_HC_EFAULT;
	case HV_HC_PARTITION_INFO:
		if (a[1] < INFO_SIZE)
			return HV_HC_E2BIG;
		return buffer_ok(p, a[0], INFO_SIZE, HV_PERM_W) ? HV_HC_OK : HV_HC_EFAULT;
	case HV_HC_CHANNEL_SEND: {
		if (a[0] >= cfg->nchannels)
			return HV_HC_EINVAL;
		if (!member(p, a[0], &mperm) || !(mperm & HV_PERM_W))
			return HV_HC_EPERM;
		uint64_t limit = cfg->channels[a[0]].size;
		if (limit > HV_HC_MSG_MAX)
			limit = HV_HC_MSG_MAX;
		if (a[2] == 0)
			return HV_HC_EINVAL;
		if (a[2] > limit)
			return HV_HC_E2BIG;
		if (!buffer_ok(p, a[1], a[2], HV_PERM_R))
			return HV_HC_EFAULT;
		return model.msg_len[a[0]] ? HV_HC_EAGAIN : HV_HC_OK;
	}
	case HV_HC_CHANNEL_RECV: {
		if (a[0] >= cfg->nchannels)
			return HV_HC_EINVAL;
		if (!member(p, a[0], &mperm))
			return HV_HC_EPERM;
		uint64_t cap = a[2] < HV_HC_MSG_MAX ? a[2] : HV_HC_MSG_MAX;
		if (cap && !buffer_ok(p, a[1], cap, HV_PERM_W))
			return HV_HC_EFAULT;
		if (model.msg_len[a[0]] == 0)
			return HV_HC_EAGAIN;
		return a[2] < model.msg_len[a[0]] ? HV_HC_E2BIG : HV_HC_OK;
	}
	case HV_HC_MEM_PROTECT:
		if ((a[2] & ~(uint64_t)HV_PERM_RWX) || (a[2] != 0 && !(a[2] & HV_PERM_R)))
			return HV_HC_EINVAL;
		if (((a[0] | a[1]) & (PG - 1)) || a[1] == 0 || a[0] + a[1] <= a[0])
			return HV_HC_EINVAL;
		return protect_ranges(p, a[0], a[1], (uint8_t)a[2]);
	case HV_HC_CALL_FAULT:
		return a[0] >= HV_HC_FAULT_VECTORS || a[1] > 0xffffffffull ? HV_HC_EINVAL
		                                                           : HV_HC_OK;
	default: /* VERSION, YIELD, SHUTDOWN, CALL_RETURN */
		return HV_HC_OK;
	}
}

/* The halt a successful call ends the run with, or HV_HALT_NONE. */
static uint32_t model_halt(uint64_t nr)
{
	return nr == HV_HC_SHUTDOWN      ? HV_HALT_SHUTDOWN
	       : nr == HV_HC_CALL_RETURN ? HV_HALT_CALL_RETURN
	       : nr == HV_HC_CALL_FAULT  ? HV_HALT_CALL_FAULT
	                                 : HV_HALT_NONE;
}

#define HC_FIRST_EIGHT 8u
_Static_assert(HV_HC_CALL_RETURN == HC_FIRST_EIGHT, "the call protocol follows the first eight");

/* ---- running one call ---- */

static void on_violation(void *ctx, enum hv_invariant inv, uint64_t index, const char *msg)
{
	(void)ctx;
	fz_fail(hv_invariant_id(inv), "exit %llu: %s: %s", (unsigned long long)index, call_desc(),
	        msg);
}

static const char *hc_name(uint64_t nr)
{
	static const char *const names[] = {"VERSION",      "CONSOLE_WRITE", "PARTITION_INFO",
	                                    "CHANNEL_SEND", "CHANNEL_RECV",  "MEM_PROTECT",
	                                    "YIELD",        "SHUTDOWN"};
	return nr < HV_ARRAY_LEN(names) ? names[nr] : "unknown";
}

static const char *call_desc(void)
{
	static char buf[256];
	const struct hv_exit *e = &cur_exit;
	uint64_t nr = e->st.gpr[HV_RAX];
	snprintf(buf, sizeof(buf),
	         "p%u vcpu %u cpl %u %s (rax %#llx rdi %#llx rsi %#llx rdx %#llx r10 %#llx)",
	         e->partition, e->vcpu, e->st.cpl, hc_name(nr), (unsigned long long)nr,
	         (unsigned long long)e->st.gpr[HV_RDI], (unsigned long long)e->st.gpr[HV_RSI],
	         (unsigned long long)e->st.gpr[HV_RDX], (unsigned long long)e->st.gpr[HV_R10]);
	return buf;
}

#define BAD(inv, ...) fz_fail(inv, "exit %llu: %s: " __VA_ARGS__)

/* Bytes the call sees or is expected to leave, gathered before it runs. */
struct expect {
	uint8_t src[HV_HC_MSG_MAX]; /* CONSOLE_WRITE / CHANNEL_SEND source, RECV message */
	uint64_t len;
};

static void check_effects(const struct hv_system_config *cfg, uint32_t p, uint32_t vcpu,
                          uint64_t nr, const uint64_t a[4], const struct expect *ex,
                          const struct hv_exit *out, const struct hx_obs_view *log)
{
	uint8_t got[HV_HC_MSG_MAX];
	unsigned long long i = (unsigned long long)cur_index;
	switch (nr) {
	case HV_HC_VERSION:
		if (out->st.gpr[HV_RDI] != HV_HC_ABI_VERSION)
			BAD("HCALL-ABI", "VERSION returned %#llx", i, call_desc(),
			    (unsigned long long)out->st.gpr[HV_RDI]);
		break;
	case HV_HC_CONSOLE_WRITE: {
		uint64_t n = 0;
		for (uint32_t k = 0; k < log->nentries; k++) {
			const struct hx_obs_entry *e = &log->entries[k];
			if (e->kind != HX_OBS_CONSOLE)
				continue;
			const uint8_t *b = hx_obs_bytes(log, e->data, e->len);
			if (e->id != p || !b || n + e->len > ex->len ||
			    memcmp(b, ex->src + n, e->len) != 0)
				BAD("HCALL-ABI", "console output is not the guest's bytes", i,
				    call_desc());
			n += e->len;
		}
		if (n != ex->len)
			BAD("HCALL-ABI", "console got %llu bytes, expected %llu", i, call_desc(),
			    (unsigned long long)n, (unsigned long long)ex->len);
		break;
	}
	case HV_HC_PARTITION_INFO: {
		struct hv_hc_info want;
		memset(&want, 0, sizeof(want));
		const struct hv_partition_config *pc = &cfg->partitions[p];
		want.partition = p;
		want.vcpu = vcpu;
		want.nvcpus = pc->nvcpus;
		want.nregions = pc->nregions;
		for (uint32_t k = 0; k < pc->nregions; k++)
			if (pc->regions[k].type == HV_REGION_RAM)
				want.ram_bytes += pc->regions[k].size;
		memcpy(want.name, pc->name, sizeof(want.name) - 1);
		read_guest(p, a[0], got, INFO_SIZE);
		if (memcmp(got, &want, sizeof(want)) != 0)
			BAD("HCALL-ABI", "the info struct at the buffer is wrong", i, call_desc());
		break;
	}
	case HV_HC_CHANNEL_SEND: {
		const struct hv_channel_config *c = &cfg->channels[a[0]];
		if (memcmp(fx->env.plat.mem + c->hpa, ex->src, a[2]) != 0)
			BAD("HCALL-ABI", "channel memory does not hold the message", i,
			    call_desc());
		break;
	}
	case HV_HC_CHANNEL_RECV:
		if (out->st.gpr[HV_RDI] != ex->len)
			BAD("HCALL-ABI", "RECV returned length %llu, message was %llu", i,
			    call_desc(), (unsigned long long)out->st.gpr[HV_RDI],
			    (unsigned long long)ex->len);
		read_guest(p, a[1], got, ex->len);
		if (memcmp(got, ex->src, ex->len) != 0)
			BAD("HCALL-ABI", "received bytes differ from the message", i, call_desc());
		break;
	default:
		break;
	}
}

/* Host ranges written during this input, zeroed again at its end. */
static struct {
	uint64_t hpa, len;
} dirty[1024];
static uint32_t ndirty;
static bool dirty_overflow;

static void mark_dirty(uint64_t hpa, uint64_t len)
{
	if (ndirty == HV_ARRAY_LEN(dirty)) {
		dirty_overflow = true;
		return;
	}
	dirty[ndirty].hpa = hpa;
	dirty[ndirty++].len = len;
}

/* How far a call got through the ABI's order of checks before its status
 * was decided. A handler that gets further than the ABI allows accepted an
 * argument or buffer it must refuse (HCALL-BOUNDS); one that stops earlier
 * refused a valid call (HCALL-ABI). */
static int check_stage(uint64_t nr, int64_t st)
{
	/* CHANNEL_RECV's E2BIG is about the waiting message: a state check. */
	if (nr == HV_HC_CHANNEL_RECV && st == HV_HC_E2BIG)
		return 4;
	switch (st) {
	case HV_HC_ENOSYS:
		return 0;
	case HV_HC_EPERM:
		return 1;
	case HV_HC_EINVAL:
	case HV_HC_E2BIG:
		return 2;
	case HV_HC_EFAULT:
		return 3;
	case HV_HC_EAGAIN:
		return 4;
	case HV_HC_ENOMEM:
		return 5;
	default:
		return 6; /* HV_HC_OK */
	}
}

static void run_call(const struct hv_system_config *cfg, struct hv_exit *exit)
{
	struct hv_system *sys = &fx->env.sys;
	uint32_t p = exit->partition;
	uint64_t nr = exit->st.gpr[HV_RAX];
	const uint64_t a[4] = {exit->st.gpr[HV_RDI], exit->st.gpr[HV_RSI], exit->st.gpr[HV_RDX],
	                       exit->st.gpr[HV_R10]};
	cur_exit = *exit;
	unsigned long long idx = (unsigned long long)cur_index;

	/* Expected action and status. */
	struct model_part *mp = &model.part[p];
	bool bad_record =
	        exit->vcpu >= cfg->partitions[p].nvcpus || exit->insn_len > 15 || exit->st.cpl > 3;
	int64_t want = 0;
	bool run_abi = !mp->halted && !bad_record && exit->st.cpl == 0;
	if (run_abi)
		want = model_status(cfg, p, nr, a);
	static struct expect ex;
	ex.len = 0;
	if (run_abi && want == HV_HC_OK) {
		if (nr == HV_HC_CONSOLE_WRITE || nr == HV_HC_CHANNEL_SEND) {
			ex.len = nr == HV_HC_CONSOLE_WRITE ? a[1] : a[2];
			read_guest(p, nr == HV_HC_CONSOLE_WRITE ? a[0] : a[1], ex.src, ex.len);
		} else if (nr == HV_HC_CHANNEL_RECV) {
			ex.len = model.msg_len[a[0]];
			memcpy(ex.src, fx->env.plat.mem + cfg->channels[a[0]].hpa, ex.len);
		}
	}

	struct hv_result res;
	struct hv_exit in = *exit;
	fx->tables_touched |= nr == HV_HC_MEM_PROTECT;
	hx_observer_begin_exit(&fx->obs);
	hx_oracle_before(fx->oracle, sys, exit);
	hv_handle_exit(sys, exit, &res);
	struct hx_obs_view view = hx_observer_view(&fx->obs);
	if (rec) {
		rec_cur.pending = true;
		rec_cur.in = in;
		rec_cur.out = *exit;
		rec_cur.res = res;
		rec_cur.view = view;
	}
	for (uint32_t k = 0; k < view.nentries; k++)
		if (view.entries[k].kind == HX_OBS_PHYS_WRITE)
			mark_dirty(view.entries[k].addr, view.entries[k].len);
	hx_oracle_after(fx->oracle, sys, cur_index, exit, &res, &view);

	if (mp->halted) {
		if (res.action != HV_ACT_HALT || res.halt_reason != mp->halted)
			BAD("CONTAIN", "halted partition answered with %s", idx, call_desc(),
			    hv_action_str(res.action));
		return;
	}
	if (bad_record) {
		if (res.action != HV_ACT_HALT || res.halt_reason != HV_HALT_BAD_EXIT)
			BAD("CONTAIN", "malformed record answered with %s", idx, call_desc(),
			    hv_action_str(res.action));
		mp->halted = HV_HALT_BAD_EXIT;
		return;
	}
	if (exit->st.cpl != 0) {
		if (res.action != HV_ACT_INJECT || res.vector != HV_VEC_UD)
			BAD("HCALL-BOUNDS", "CPL %u call answered with %s, not #UD", idx,
			    call_desc(), exit->st.cpl, hv_action_str(res.action));
		return;
	}
	if (model_halt(nr) != HV_HALT_NONE && want == HV_HC_OK) {
		if (res.action != HV_ACT_HALT || res.halt_reason != model_halt(nr))
			BAD("HCALL-ABI", "a call that ends the run answered with %s (%s)", idx,
			    call_desc(), hv_action_str(res.action),
			    hv_halt_reason_str(res.halt_reason));
		mp->halted = model_halt(nr);
		return;
	}
	if (res.action != HV_ACT_RESUME)
		BAD("HCALL-ABI", "answered with %s (%s), not resume", idx, call_desc(),
		    hv_action_str(res.action), hv_halt_reason_str(res.halt_reason));
	int64_t got = (int64_t)exit->st.gpr[HV_RAX];
	if (nr == HV_HC_MEM_PROTECT && want == HV_HC_OK && got == HV_HC_ENOMEM)
		return; /* the pool may run out while splitting; nothing changed */
	if (got != want)
		BAD(check_stage(nr, got) > check_stage(nr, want) ? "HCALL-BOUNDS" : "HCALL-ABI",
		    "status %lld, the ABI says %lld", idx, call_desc(), (long long)got,
		    (long long)want);
	if (got != HV_HC_OK)
		return;
	check_effects(cfg, p, exit->vcpu, nr, a, &ex, exit, &view);
	if (nr == HV_HC_CHANNEL_SEND)
		model.msg_len[a[0]] = (uint32_t)a[2];
	else if (nr == HV_HC_CHANNEL_RECV)
		model.msg_len[a[0]] = 0;
	else if (nr == HV_HC_MEM_PROTECT)
		protect_apply(p, a[0], a[1], (uint8_t)a[2]);
}

/* ---- drawing arguments ---- */

/* Boundaries of every window of every partition (the same GPA means
 * different memory in each), and of the address space. */
static uint64_t edges[64];
static uint32_t nedges;

static void collect_edges(const struct hv_system_config *cfg)
{
	nedges = 0;
	edges[nedges++] = 0;
	edges[nedges++] = GPA_TOP;
	edges[nedges++] = 1ull << 63;
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		const struct hv_partition_config *pc = &cfg->partitions[p];
		for (uint32_t i = 0; i < pc->nregions && nedges + 2 <= HV_ARRAY_LEN(edges); i++) {
			edges[nedges++] = pc->regions[i].gpa;
			edges[nedges++] = pc->regions[i].gpa + pc->regions[i].size;
		}
		for (uint32_t i = 0; i < pc->nchannels && nedges + 2 <= HV_ARRAY_LEN(edges); i++) {
			edges[nedges++] = pc->channels[i].gpa;
			edges[nedges++] =
			        pc->channels[i].gpa + cfg->channels[pc->channels[i].channel].size;
		}
		for (uint32_t i = 0; i < pc->ndevices && nedges + 2 <= HV_ARRAY_LEN(edges); i++) {
			edges[nedges++] = pc->devices[i].gpa;
			edges[nedges++] = pc->devices[i].gpa + pc->devices[i].size;
		}
	}
}

static const uint64_t lengths[] = {
        0,
        1,
        2,
        7,
        8,
        INFO_SIZE - 1,
        INFO_SIZE,
        INFO_SIZE + 1,
        255,
        256,
        257,
        4095,
        4096,
        4097,
        8191,
        8192,
        8193,
        1ull << 32,
        (1ull << 32) + 1,
        ~0ull,
        1ull << 63,
        16,
};

static uint64_t draw_len(struct fz *f)
{
	uint8_t k = fz_u8(f);
	if (k < 200)
		return lengths[k % HV_ARRAY_LEN(lengths)];
	if (k < 240)
		return fz_below(f, 300);
	return fz_u64(f);
}

/* A guest address near an edge: the edge itself +/- a little, or exactly
 * `len` bytes before it (+/- 1) so buffers end right at window ends. */
static uint64_t draw_gpa(struct fz *f, uint64_t len)
{
	uint8_t k = fz_u8(f);
	uint64_t edge = edges[fz_below(f, nedges)];
	if (k < 96)
		return edge + (uint64_t)(int64_t)(int8_t)fz_u8(f);
	if (k < 192)
		return edge - len + (uint64_t)(int64_t)((int)fz_below(f, 3) - 1);
	if (k < 240)
		return edge + fz_below(f, 0x4000);
	return fz_u64(f);
}

static uint64_t draw_channel(struct fz *f)
{
	static const uint64_t ch[] = {0, 1, 2, 0, 1, 2, 3, 1ull << 32, ~0ull};
	return fz_pick(f, ch, HV_ARRAY_LEN(ch));
}

static void draw_protect(struct fz *f, uint64_t *gpa, uint64_t *size, uint64_t *perm)
{
	static const uint64_t sizes[] = {
	        PG,     2 * PG, 16 * KIB,          2 * MIB,  2 * MIB - PG, 2 * MIB + PG,
	        4 * PG, 0,      ~0ull & ~(PG - 1), 64 * KIB, 3 * PG};
	*size = fz_pick(f, sizes, HV_ARRAY_LEN(sizes));
	uint8_t k = fz_u8(f);
	uint64_t edge = edges[fz_below(f, nedges)];
	if (k < 160)
		*gpa = edge + ((uint64_t)(int64_t)(int8_t)fz_u8(f) << 12);
	else if (k < 224)
		*gpa = edge - *size;
	else
		*gpa = fz_u64(f);
	if (fz_u8(f) < 16)
		*gpa |= 1 + fz_below(f, PG - 1); /* unaligned */
	uint8_t q = fz_u8(f);
	*perm = q < 240 ? (q & 7) : fz_u64(f);
}

static void draw_call(struct fz *f, struct hv_exit *e)
{
	memset(e, 0, sizeof(*e));
	e->reason = HV_EXIT_VMCALL;
	uint8_t who = fz_u8(f);
	e->partition = who % 8 < 5 ? 0 : who % 8 < 7 ? 1 : 2;
	e->vcpu = (who & 0x80) ? 1 : 0;
	if ((who & 0x78) == 0x78)
		e->vcpu = 2 + fz_below(f, 8); /* maybe beyond nvcpus */
	uint8_t c = fz_u8(f);
	e->st.cpl = c < 224 ? 0 : c < 248 ? 3 : (uint8_t)(c & 7);
	uint8_t l = fz_u8(f);
	e->insn_len = l < 128 ? 3 : l < 224 ? 0 : (uint32_t)(l & 31);
	for (int r = 0; r < HV_GPR_COUNT; r++)
		e->st.gpr[r] = 0x1111111111111111ull * (uint64_t)(r + 1);
	e->st.rip = 0x20a000 + fz_below(f, 0x100);
	e->st.rflags = 0x2;
	e->st.cr0 = 0x80050033;
	e->st.cr3 = 0x1000;
	e->st.cr4 = 0x20;
	e->st.efer = 0xd00;

	/* The draw of the first eight hypercalls and of the numbers above
	 * them is as it was before CALL_RETURN and CALL_FAULT (8, 9) existed,
	 * so the kept corpus means what it meant; those two now come from the
	 * "above" bucket. */
	uint8_t n = fz_u8(f);
	uint64_t nr = n < 240   ? (uint64_t)(n % HC_FIRST_EIGHT)
	              : n < 248 ? (uint64_t)(HC_FIRST_EIGHT + (n & 7))
	                        : fz_u64(f);
	uint64_t *g = e->st.gpr;
	g[HV_RAX] = nr;
	if (fz_u8(f) >= 232) {
		/* Raw arguments. */
		g[HV_RDI] = fz_u64(f);
		g[HV_RSI] = fz_u64(f);
		g[HV_RDX] = fz_u64(f);
		g[HV_R10] = fz_u64(f);
		return;
	}
	switch (nr) {
	case HV_HC_CONSOLE_WRITE:
	case HV_HC_PARTITION_INFO: {
		uint64_t len = draw_len(f);
		g[HV_RSI] = len;
		g[HV_RDI] = draw_gpa(f, nr == HV_HC_PARTITION_INFO ? INFO_SIZE : len);
		break;
	}
	case HV_HC_CHANNEL_SEND:
	case HV_HC_CHANNEL_RECV: {
		g[HV_RDI] = draw_channel(f);
		uint64_t len = draw_len(f);
		/* A receive buffer just around the waiting message's size. */
		if (nr == HV_HC_CHANNEL_RECV && g[HV_RDI] < HV_ARRAY_LEN(model.msg_len) &&
		    model.msg_len[g[HV_RDI]] && fz_u8(f) < 128)
			len = model.msg_len[g[HV_RDI]] + fz_below(f, 3) - 1;
		g[HV_RDX] = len;
		g[HV_RSI] = draw_gpa(f, len > HV_HC_MSG_MAX ? HV_HC_MSG_MAX : len);
		break;
	}
	case HV_HC_MEM_PROTECT:
		draw_protect(f, &g[HV_RDI], &g[HV_RSI], &g[HV_RDX]);
		break;
	case HV_HC_CALL_FAULT:
		/* Vectors around the architecture's 32, error codes around 2^32. */
		g[HV_RDI] = fz_below(f, HV_HC_FAULT_VECTORS + 8);
		g[HV_RSI] = fz_u8(f) < 200 ? fz_u32(f) : fz_u64(f);
		g[HV_RDX] = fz_u64(f);
		g[HV_R10] = fz_u64(f);
		break;
	default:
		break;
	}
}

/* Random bytes into a window of a partition (RAM, channel or MMIO). */
static void poke(struct fz *f, const struct hv_system_config *cfg)
{
	uint32_t p = fz_below(f, NPARTS);
	struct model_part *mp = &model.part[p];
	const struct window *w = &mp->win[fz_below(f, mp->nwin)];
	uint8_t buf[64];
	uint64_t len = 1 + fz_below(f, sizeof(buf));
	if (len > w->size)
		len = w->size;
	uint64_t off = fz_u8(f) & 1 ? fz_below(f, (uint32_t)(w->size - len + 1))
	                            : w->size - len; /* at the end */
	memset(buf, 0, sizeof(buf));
	fz_bytes(f, buf, len);
	mock_poke(&fx->env, w->hpa + off, buf, len);
	mark_dirty(w->hpa + off, len);
	(void)cfg;
}

/* The system right after hv_system_init (with the observer installed)
 * and the table pages it built: restored for each input, which is much
 * cheaper than building it again. The state slots of the 61 partitions
 * the config does not have are fenced off instead of restored: no handler
 * may reach them, and under ASan any access is a report. */
static void snapshot(void)
{
	struct mock_env *env = &fx->env;
	hx_observer_install(&fx->obs, &env->sys);
	fx->sys_snap = env->sys;
	fx->pool_snap = env->pool;
	size_t bytes = (size_t)env->pool.used << HV_PAGE_SHIFT;
	fx->pool_pages_snap = malloc(bytes ? bytes : 1);
	if (!fx->pool_pages_snap)
		abort();
	memcpy(fx->pool_pages_snap, env->pool.mem, bytes);
	uint32_t n = env->cfg.npartitions;
	fx->fenced =
	        fz_fence(&env->sys.parts[n], (HV_MAX_PARTITIONS - n) * sizeof(env->sys.parts[0]));
}

/* Partition slots a reset restores and check_reset compares: the
 * config's when the others are fenced, else all of them. */
static uint32_t restored_parts(void)
{
	return fx->fenced ? fx->env.cfg.npartitions : HV_MAX_PARTITIONS;
}

/* HX_FUZZ_CHECK_RESET: the reset system is the built one, byte for byte
 * (system struct, pool struct, pool pages in use, guest memory zero). */
static void check_reset(void)
{
	const struct mock_env *env = &fx->env;
	const struct hv_system *a = &env->sys, *b = &fx->sys_snap;
	FZ_CHECK(a->cfg == b->cfg && a->ops == b->ops && a->ops_ctx == b->ops_ctx &&
	                 a->pool == b->pool,
	         "RESET", "system pointers differ from the built system");
	FZ_CHECK(!memcmp(a->parts, b->parts, restored_parts() * sizeof(a->parts[0])), "RESET",
	         "partition state differs from the built system");
	FZ_CHECK(!memcmp(a->channels, b->channels, sizeof(a->channels)), "RESET",
	         "channel mailboxes differ from the built system");
	FZ_CHECK(!memcmp(&env->pool, &fx->pool_snap, sizeof(env->pool)), "RESET",
	         "pool struct differs from the built system");
	FZ_CHECK(!memcmp(env->pool.mem, fx->pool_pages_snap,
	                 (size_t)env->pool.used << HV_PAGE_SHIFT),
	         "RESET", "EPT table pages differ from the built system");
	const struct hv_system_config *cfg = &env->cfg;
	for (uint32_t p = 0; p < cfg->npartitions; p++)
		for (uint32_t i = 0; i < cfg->partitions[p].nregions; i++) {
			const struct hv_region *r = &cfg->partitions[p].regions[i];
			FZ_CHECK(fz_all_zero(env->plat.mem + r->hpa, r->size), "RESET",
			         "guest memory of partition %u region %u not zero", p, i);
		}
	for (uint32_t c = 0; c < cfg->nchannels; c++)
		FZ_CHECK(fz_all_zero(env->plat.mem + cfg->channels[c].hpa, cfg->channels[c].size),
		         "RESET", "channel %u pages not zero", c);
}

/* reset restores struct hv_system field by field: a field added to it must
 * be added there (and to check_reset) too. */
_Static_assert(sizeof(struct hv_system) == 4 * sizeof(void *) +
                                                   sizeof(((struct hv_system *)0)->parts) +
                                                   sizeof(((struct hv_system *)0)->channels),
               "struct hv_system has a field reset does not restore");

/* Fresh system for each input: the partitions (those of the config when
 * the rest is fenced), the mailboxes, and the pool when a memory-protect
 * may have changed it. */
static void reset(void)
{
	struct mock_env *env = &fx->env;
	struct hv_system *sys = &env->sys;
	const struct hv_system *snap = &fx->sys_snap;
	sys->cfg = snap->cfg;
	sys->ops = snap->ops;
	sys->ops_ctx = snap->ops_ctx;
	sys->pool = snap->pool;
	memcpy(sys->parts, snap->parts, restored_parts() * sizeof(sys->parts[0]));
	memcpy(sys->channels, snap->channels, sizeof(sys->channels));
	if (fx->tables_touched || env->pool.used != fx->pool_snap.used) {
		if (env->pool.used > fx->pool_snap.used)
			hv_pool_release_to(&env->pool, fx->pool_snap.used);
		env->pool = fx->pool_snap;
		memcpy(env->pool.mem, fx->pool_pages_snap, (size_t)env->pool.used << HV_PAGE_SHIFT);
	}
	fx->tables_touched = false;
	/* Every pool page is the built one again, or was left alone since
	 * the last input ended (HX_FUZZ_CHECK_RESET: check_reset below proves
	 * them the built ones): the oracle compares only those it saw change. */
	hx_oracle_reset_restored(fx->oracle);
	env->plat.console_len = 0;
	model_init(&env->cfg);
	ndirty = 0;
	dirty_overflow = false;
	if (fz_check_reset())
		check_reset();
}

static void setup(void)
{
	fixtures = calloc(2, sizeof(*fixtures));
	if (!fixtures)
		abort();
	for (uint32_t v = HV_VENDOR_INTEL; v <= HV_VENDOR_AMD; v++) {
		fx = &fixtures[v];
		build_config(&fx->env.cfg);
		fx->env.cfg.vendor = v;
		hv_status s = mock_env_start(&fx->env);
		if (s != HV_OK) {
			fprintf(stderr, "fuzz_hcall: mock system: %s\n", hv_status_str(s));
			abort();
		}
		hx_observer_init(&fx->obs, &mock_platform_ops, &fx->env.plat);
		fx->oracle = hx_oracle_new(&fx->env.sys, on_violation, NULL);
		if (!fx->oracle)
			abort();
		hx_oracle_watch_pool(fx->oracle, fz_watch_pool());
		snapshot();
	}
	/* The two configs differ only in their vendor: one set of edges. */
	collect_edges(&fx->env.cfg);
	trace_out = getenv("HX_FUZZ_TRACE_OUT");
	if (trace_out && !*trace_out)
		trace_out = NULL;
	if (trace_out)
		fz_set_fail_hook(rec_save);
}

static void clean_memory(void)
{
	const struct hv_system_config *cfg = &fx->env.cfg;
	if (!dirty_overflow) {
		for (uint32_t i = 0; i < ndirty; i++)
			memset(fx->env.plat.mem + dirty[i].hpa, 0, dirty[i].len);
		return;
	}
	for (uint32_t p = 0; p < cfg->npartitions; p++)
		for (uint32_t i = 0; i < cfg->partitions[p].nregions; i++)
			memset(fx->env.plat.mem + cfg->partitions[p].regions[i].hpa, 0,
			       cfg->partitions[p].regions[i].size);
	for (uint32_t c = 0; c < cfg->nchannels; c++)
		memset(fx->env.plat.mem + cfg->channels[c].hpa, 0, cfg->channels[c].size);
}

/* The fixture is built once, before the first input (and, under AFL++,
 * before the fork server starts). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (!fixtures)
		setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fixtures)
		setup();
	fx = &fixtures[size > 0 && (data[size - 1] & 1) ? HV_VENDOR_AMD : HV_VENDOR_INTEL];
	reset();
	rec_start();
	const struct hv_system_config *cfg = &fx->env.cfg;
	struct fz f;
	fz_init(&f, data, size);
	uint32_t npoke = fz_below(&f, 4);
	for (uint32_t i = 0; i < npoke; i++)
		poke(&f, cfg);
	for (cur_index = 0; cur_index < MAX_OPS && f.n > 0; cur_index++) {
		if (fz_u8(&f) < 24) {
			poke(&f, cfg);
			continue;
		}
		struct hv_exit e;
		draw_call(&f, &e);
		run_call(cfg, &e);
		rec_flush_exit();
	}
	hx_oracle_verify_all(fx->oracle, &fx->env.sys, cur_index);
	if (rec)
		rec_save();
	clean_memory();
	return 0;
}
