/* ucalls: the guest's reports over the I/O port (hx/guest_abi.h), read
 * and turned into findings and a verdict for the exit path. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "hx/guest_abi.h"
#include "run_ucall.h"
#include "runner_int.h"

static void set_stop(struct hxk_exit *x, enum hxk_outcome o, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_stop(struct hxk_exit *x, enum hxk_outcome o, const char *fmt, ...)
{
	x->verdict.next = HXK_NEXT_STOP;
	x->verdict.outcome = o;
	x->verdict.halt_reason = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->verdict.why, sizeof(x->verdict.why), fmt, ap);
	va_end(ap);
}

void hxk_ucall(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct hxk_pstate *p = v->p;
	uint64_t gpa = x->ucall_gpa;
	struct hx_ucall uc;
	if (!hxk_gpa_read(p, gpa, &uc, sizeof(uc))) {
		set_stop(x, HXK_OUT_CRASH,
		         "ucall struct at GPA 0x%llx is not readable guest memory",
		         (unsigned long long)gpa);
		return;
	}
	/* For a FOUND: where the runner's memslots say the GPA goes. */
	char where[96] = "not mapped by the memslots";
	const struct hxk_slot *s = hxk_slot_find(&p->slots, uc.args[0]);
	if (uc.type == HX_UCALL_FOUND && s)
		snprintf(where, sizeof(where), "memslot maps it to HPA 0x%llx",
		         (unsigned long long)(s->hpa + (uc.args[0] - s->gpa)));
	struct hxk_ucall_read u;
	hxk_ucall_read(R->cfg, &uc, v->index, where, &u);
	const char *pname = hx_esc(R->cfg->partitions[p->index].name);
	switch (u.kind) {
	case HXK_UC_SYNC:
		p->rep->syncs++;
		p->rep->last_sync = u.stage;
		if (R->opt->verbose)
			fprintf(R->out, "[%s/%u] %s\n", pname, v->index, u.text);
		x->verdict.next = HXK_NEXT_YIELD;
		break;
	case HXK_UC_PRINT:
		if (!R->opt->quiet)
			fprintf(R->out, "[%s/%u] %s\n", pname, v->index, u.text);
		break;
	case HXK_UC_DONE:
		x->verdict.next = HXK_NEXT_DONE;
		break;
	case HXK_UC_STOP:
		set_stop(x, u.outcome, "%s", u.text);
		break;
	case HXK_UC_FOUND:
		if (x->nfindings < HXK_MAX_FINDINGS) {
			struct hxk_finding *f = &x->findings[x->nfindings++];
			f->inv = HV_INV_EPT_OWN;
			snprintf(f->msg, sizeof(f->msg), "%.*s", (int)sizeof(f->msg) - 1, u.text);
		}
		break;
	}
}
