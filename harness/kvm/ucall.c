/* ucalls: the guest's reports over the I/O port (hx/guest_abi.h), read
 * and turned into findings and a verdict for the exit path. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"
#include "hv/ept.h"
#include "hx/guest_abi.h"
#include "runner_int.h"

static const char *owner_name(const struct hv_system_config *cfg, int owner, char *buf, size_t len)
{
	if (owner == HX_CANARY_OWNER_HV)
		snprintf(buf, len, "the hypervisor");
	else if (owner > 0 && (uint32_t)owner <= cfg->npartitions)
		snprintf(buf, len, "partition %d \"%s\"", owner - 1,
		         hx_esc(cfg->partitions[owner - 1].name));
	else
		snprintf(buf, len, "unknown owner %d", owner);
	return buf;
}

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

static void on_found(struct hxk_runner *R, struct hxk_vstate *v, const struct hx_ucall *uc,
                     struct hxk_exit *x)
{
	struct hxk_pstate *p = v->p;
	uint64_t gpa = uc->args[0], value = uc->args[1];
	int owner = hx_canary_owner(value);
	char who[96];
	owner_name(R->cfg, owner, who, sizeof(who));
	/* Where the runner's memslots say that GPA goes. */
	const struct hxk_slot *s = hxk_slot_find(&p->slots, gpa);
	char where[96] = "not mapped by the memslots";
	if (s)
		snprintf(where, sizeof(where), "memslot maps it to HPA 0x%llx",
		         (unsigned long long)(s->hpa + (gpa - s->gpa)));
	if (x->nfindings == HXK_MAX_FINDINGS)
		return;
	struct hxk_finding *f = &x->findings[x->nfindings++];
	f->inv = HV_INV_EPT_OWN;
	snprintf(f->msg, sizeof(f->msg),
	         "guest found foreign memory: GPA 0x%llx holds a canary of %s (0x%016llx; %s)",
	         (unsigned long long)gpa, owner >= 0 ? who : "nobody (not a canary)",
	         (unsigned long long)value, where);
}

void hxk_ucall(struct hxk_runner *R, struct hxk_vstate *v, struct hxk_exit *x)
{
	struct hxk_pstate *p = v->p;
	uint64_t gpa = x->ucall_gpa;
	const char *pname = R->cfg->partitions[p->index].name;
	struct hx_ucall uc;
	if (!hxk_gpa_read(p, gpa, &uc, sizeof(uc))) {
		set_stop(x, HXK_OUT_CRASH,
		         "ucall struct at GPA 0x%llx is not readable guest memory",
		         (unsigned long long)gpa);
		return;
	}
	uc.file[sizeof(uc.file) - 1] = 0;
	uc.msg[sizeof(uc.msg) - 1] = 0;
	/* File and message are guest memory: a guest must not be able to
	 * forge harness output lines or drive the terminal through them. */
	char efile[4 * sizeof(uc.file)], emsg[4 * sizeof(uc.msg)];
	hx_escape(uc.file, efile, sizeof(efile));
	hx_escape(uc.msg, emsg, sizeof(emsg));
	pname = hx_esc(pname);
	switch (uc.type) {
	case HX_UCALL_SYNC:
		p->rep->syncs++;
		p->rep->last_sync = uc.args[0];
		if (R->opt->verbose)
			fprintf(R->out, "[%s/%u] sync %llu (%s:%u)\n", pname, v->index,
			        (unsigned long long)uc.args[0], efile, uc.line);
		x->verdict.next = HXK_NEXT_YIELD;
		break;
	case HX_UCALL_PRINT:
		if (!R->opt->quiet)
			fprintf(R->out, "[%s/%u] %s:%u: %s\n", pname, v->index, efile, uc.line,
			        emsg);
		break;
	case HX_UCALL_DONE:
		x->verdict.next = HXK_NEXT_DONE;
		break;
	case HX_UCALL_ASSERT:
		set_stop(x, HXK_OUT_FAIL, "assertion %s:%u: %s (0x%llx, 0x%llx) on vCPU %u", efile,
		         uc.line, emsg, (unsigned long long)uc.args[0],
		         (unsigned long long)uc.args[1], v->index);
		break;
	case HX_UCALL_EXCEPTION:
		set_stop(x, HXK_OUT_FAIL,
		         "unexpected exception %llu (error 0x%llx) at RIP 0x%llx on vCPU %u%s%s",
		         (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
		         (unsigned long long)uc.args[2], v->index, uc.msg[0] ? ": " : "", emsg);
		break;
	case HX_UCALL_FOUND:
		on_found(R, v, &uc, x);
		break;
	default:
		set_stop(x, HXK_OUT_CRASH, "unknown ucall type %u from %s:%u", uc.type, efile,
		         uc.line);
		break;
	}
}
