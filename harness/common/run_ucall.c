#include "run_ucall.h"

#include <stdio.h>
#include <string.h>

#include "escape.h"

static const char *owner_name(const struct hv_system_config *cfg, int owner, char *buf, size_t len)
{
	if (owner < 0)
		snprintf(buf, len, "nobody (not a canary)");
	else if (owner == HX_CANARY_OWNER_HV)
		snprintf(buf, len, "the hypervisor");
	else if ((uint32_t)owner <= cfg->npartitions)
		snprintf(buf, len, "partition %d \"%s\"", owner - 1,
		         hx_esc(cfg->partitions[owner - 1].name));
	else
		snprintf(buf, len, "unknown owner %d", owner);
	return buf;
}

void hxk_ucall_read(const struct hv_system_config *cfg, const struct hx_ucall *raw, uint32_t vcpu,
                    const char *where, struct hxk_ucall_read *out)
{
	struct hx_ucall uc = *raw;
	uc.file[sizeof(uc.file) - 1] = 0;
	uc.msg[sizeof(uc.msg) - 1] = 0;
	char efile[4 * sizeof(uc.file)], emsg[4 * sizeof(uc.msg)];
	hx_escape(uc.file, efile, sizeof(efile));
	hx_escape(uc.msg, emsg, sizeof(emsg));
	memset(out, 0, sizeof(*out));
	char *t = out->text;
	size_t n = sizeof(out->text);
	switch (uc.type) {
	case HX_UCALL_SYNC:
		out->kind = HXK_UC_SYNC;
		out->stage = uc.args[0];
		snprintf(t, n, "sync %llu (%s:%u)", (unsigned long long)uc.args[0], efile, uc.line);
		break;
	case HX_UCALL_PRINT:
		out->kind = HXK_UC_PRINT;
		snprintf(t, n, "%s:%u: %s", efile, uc.line, emsg);
		break;
	case HX_UCALL_DONE:
		out->kind = HXK_UC_DONE;
		break;
	case HX_UCALL_ASSERT:
		out->kind = HXK_UC_STOP;
		out->outcome = HXK_OUT_FAIL;
		snprintf(t, n, "assertion %s:%u: %s (0x%llx, 0x%llx) on vCPU %u", efile, uc.line,
		         emsg, (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
		         vcpu);
		break;
	case HX_UCALL_EXCEPTION:
		out->kind = HXK_UC_STOP;
		out->outcome = HXK_OUT_FAIL;
		snprintf(t, n,
		         "unexpected exception %llu (error 0x%llx) at RIP 0x%llx on vCPU %u%s%s",
		         (unsigned long long)uc.args[0], (unsigned long long)uc.args[1],
		         (unsigned long long)uc.args[2], vcpu, uc.msg[0] ? ": " : "", emsg);
		break;
	case HX_UCALL_FOUND: {
		char who[96];
		out->kind = HXK_UC_FOUND;
		snprintf(t, n,
		         "guest found foreign memory: GPA 0x%llx holds a canary of %s "
		         "(0x%016llx%s%s)",
		         (unsigned long long)uc.args[0],
		         owner_name(cfg, hx_canary_owner(uc.args[1]), who, sizeof(who)),
		         (unsigned long long)uc.args[1], where ? "; " : "", where ? where : "");
		break;
	}
	default:
		out->kind = HXK_UC_STOP;
		out->outcome = HXK_OUT_CRASH;
		snprintf(t, n, "unknown ucall type %u from %s:%u", uc.type, efile, uc.line);
		break;
	}
}
