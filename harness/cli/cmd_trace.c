/* hx trace dump FILE [--bytes N]: print a trace readably: the header, a
 * summary of the embedded config, then every exit with its input record,
 * the platform calls it made (host CPUID/MSR answers, guest memory read and
 * written with host addresses, console bytes), its result and the
 * registers it changed. Exit 2 (with the reader's precise message) for a
 * malformed trace. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "config_json.h"
#include "escape.h"
#include "cli.h"
#include "hv/exit.h"
#include "oracle.h"
#include "trace.h"

static const char *perm_str(uint8_t perm, char buf[4])
{
	buf[0] = perm & HV_PERM_R ? 'r' : '-';
	buf[1] = perm & HV_PERM_W ? 'w' : '-';
	buf[2] = perm & HV_PERM_X ? 'x' : '-';
	buf[3] = '\0';
	return buf;
}

static void print_config(const struct hx_trace *t)
{
	const struct hv_system_config *c = t->cfg;
	char pb[4];
	printf("config: vendor %s, host memory 0x%" PRIx64 ", hypervisor [0x%" PRIx64
	       ", +0x%" PRIx64 "), %u partitions, %u channels\n",
	       hx_config_vendor_name(c->vendor), c->host_mem_size, c->hv_base, c->hv_size,
	       c->npartitions, c->nchannels);
	for (uint32_t i = 0; i < c->nchannels; i++)
		printf("  channel %u %s: hpa 0x%" PRIx64 " size 0x%" PRIx64 "\n", i,
		       hx_esc(c->channels[i].name), c->channels[i].hpa, c->channels[i].size);
	for (uint32_t p = 0; p < c->npartitions; p++) {
		const struct hv_partition_config *pc = &c->partitions[p];
		printf("  partition %u %s: %u vcpus, hypercalls 0x%x, on violation %s, %u msr "
		       "rules, %u cpuid rules\n",
		       p, hx_esc(pc->name), pc->nvcpus, pc->hcall_allowed,
		       pc->contain == HV_CONTAIN_INJECT_GP ? "inject #GP" : "halt", pc->msr.nrules,
		       pc->cpuid.nrules);
		for (uint32_t i = 0; i < pc->nregions; i++) {
			const struct hv_region *r = &pc->regions[i];
			printf("    %s gpa 0x%" PRIx64 " -> hpa 0x%" PRIx64 " size 0x%" PRIx64
			       " %s type %u\n",
			       r->type == HV_REGION_RAM ? "ram " : "mmio", r->gpa, r->hpa, r->size,
			       perm_str(r->perm, pb), r->memtype);
		}
		for (uint32_t i = 0; i < pc->ndevices; i++)
			printf("    device gpa 0x%" PRIx64 " size 0x%" PRIx64 " type %u\n",
			       pc->devices[i].gpa, pc->devices[i].size, pc->devices[i].type);
		for (uint32_t i = 0; i < pc->nchannels; i++)
			printf("    channel %u at gpa 0x%" PRIx64 " %s\n", pc->channels[i].channel,
			       pc->channels[i].gpa, perm_str(pc->channels[i].perm, pb));
	}
}

static void print_bytes(const struct hx_obs_view *v, uint32_t off, uint32_t len, uint32_t max)
{
	const uint8_t *b = hx_obs_bytes(v, off, len);
	if (!b)
		return;
	for (uint32_t i = 0; i < len && i < max; i++)
		printf(" %02x", b[i]);
	if (len > max)
		printf(" ...");
}

static void print_op(const struct hx_obs_view *v, const struct hx_obs_entry *e, uint32_t max)
{
	printf("    %-11s", hx_obs_kind_str(e->kind));
	switch (e->kind) {
	case HX_OBS_CPUID:
		printf(" leaf 0x%x sub 0x%x -> %08x %08x %08x %08x", e->id, e->sub, e->regs[0],
		       e->regs[1], e->regs[2], e->regs[3]);
		break;
	case HX_OBS_RDMSR:
		if (e->failed)
			printf(" msr 0x%x -> #GP", e->id);
		else
			printf(" msr 0x%x -> 0x%" PRIx64, e->id, e->value);
		break;
	case HX_OBS_WRMSR:
		printf(" msr 0x%x <- 0x%" PRIx64 "%s", e->id, e->value, e->failed ? " (#GP)" : "");
		break;
	case HX_OBS_PHYS_READ:
		printf(" hpa 0x%" PRIx64 " len %u", e->addr, e->len);
		if (e->failed)
			printf(" failed");
		else
			print_bytes(v, e->data, e->len, max);
		break;
	case HX_OBS_PHYS_WRITE:
		printf(" hpa 0x%" PRIx64 " len %u%s:", e->addr, e->len,
		       e->failed ? " (failed)" : "");
		print_bytes(v, e->data, e->len, max);
		if (e->has_before) {
			printf("\n                was:");
			print_bytes(v, e->before, e->len, max);
		}
		break;
	case HX_OBS_CONSOLE: {
		const uint8_t *b = hx_obs_bytes(v, e->data, e->len);
		printf(" partition %u, %u bytes: \"", e->id, e->len);
		for (uint32_t i = 0; b && i < e->len && i < 4 * max; i++)
			putchar(b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' ? b[i] : '.');
		printf("\"");
		break;
	}
	case HX_OBS_EPT_CHANGED:
		printf(" partition %u [0x%" PRIx64 ", +0x%" PRIx64 ")", e->id, e->addr, e->value);
		break;
	default:
		break;
	}
	printf("\n");
}

static void print_state(const char *what, const struct hv_vcpu_state *st,
                        const struct hv_vcpu_state *base)
{
	printf("  %s rip 0x%" PRIx64 " cpl %u", what, st->rip, st->cpl);
	for (int i = 0; i < HV_GPR_COUNT; i++)
		if (base ? st->gpr[i] != base->gpr[i] : st->gpr[i] != 0)
			printf(" %s 0x%" PRIx64, hx_gpr_names[i], st->gpr[i]);
	if (!base)
		printf("\n      rflags 0x%" PRIx64 " cr0 0x%" PRIx64 " cr3 0x%" PRIx64
		       " cr4 0x%" PRIx64 " efer 0x%" PRIx64,
		       st->rflags, st->cr0, st->cr3, st->cr4, st->efer);
	else if (st->rflags != base->rflags || st->cr0 != base->cr0 || st->cr3 != base->cr3 ||
	         st->cr4 != base->cr4 || st->efer != base->efer || st->cpl != base->cpl)
		printf(" (control state changed!)");
	printf("\n");
}

static void print_result(const struct hv_result *r)
{
	printf("  result: %s", hv_action_str(r->action));
	switch (r->action) {
	case HV_ACT_RESUME:
		printf(" insn_len %u", r->insn_len);
		break;
	case HV_ACT_INJECT:
		printf(" vector %u", r->vector);
		if (r->has_error_code)
			printf(" error 0x%x", r->error_code);
		break;
	case HV_ACT_HALT:
		printf(" (%s)", hv_halt_reason_str(r->halt_reason));
		break;
	default:
		break;
	}
	if (r->has_mmio)
		printf("; mmio %s gpa 0x%" PRIx64 " size %u data 0x%" PRIx64 " reg %u len %u",
		       r->mmio.is_write ? "write" : "read", r->mmio.gpa, r->mmio.size, r->mmio.data,
		       r->mmio.reg, r->mmio.insn_len);
	if (r->msr.valid)
		printf("; apply msr 0x%x = 0x%" PRIx64, r->msr.msr, r->msr.value);
	printf("\n");
}

static void print_exit(uint32_t i, const struct hx_trace_exit *e, uint32_t max)
{
	const struct hv_exit *in = &e->in;
	printf("exit %u @%" PRIu64 ": %s partition %u vcpu %u insn_len %u qual 0x%" PRIx64
	       " gpa 0x%" PRIx64 " gla 0x%" PRIx64 "\n",
	       i, e->offset, hv_exit_reason_str(in->reason), in->partition, in->vcpu, in->insn_len,
	       in->qual, in->gpa, in->gla);
	print_state("in: ", &in->st, NULL);
	if (e->log.nentries)
		printf("  calls (%u%s):\n", e->log.nentries,
		       e->log.overflow ? ", LOG OVERFLOWED" : "");
	for (uint32_t k = 0; k < e->log.nentries; k++)
		print_op(&e->log, &e->log.entries[k], max);
	if (!(e->flags & HX_TREC_OUTPUTS)) {
		printf("  (no outputs recorded)\n");
		return;
	}
	print_result(&e->res);
	print_state("out:", &e->out, &in->st);
}

int hx_cmd_trace_dump(int argc, char **argv)
{
	const char *path = NULL;
	uint32_t max = 16;
	bool bytes_seen = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bytes") && i + 1 < argc) {
			uint64_t v;
			if (bytes_seen) {
				fprintf(stderr, "hx trace dump: --bytes is given twice\n");
				return HX_EXIT_USAGE;
			}
			if (!hx_arg_uint(argv[++i], HX_TRACE_MAX_OP_LEN, &v)) {
				fprintf(stderr, "hx trace dump: --bytes %s: wants a number 0..%u\n",
				        hx_esc(argv[i]), HX_TRACE_MAX_OP_LEN);
				return HX_EXIT_USAGE;
			}
			bytes_seen = true;
			max = (uint32_t)v;
		} else if (argv[i][0] == '-' || path) {
			fprintf(stderr, "usage: hx trace dump FILE.hxt [--bytes N]\n");
			return HX_EXIT_USAGE;
		} else {
			path = argv[i];
		}
	}
	if (!path) {
		fprintf(stderr, "usage: hx trace dump FILE.hxt [--bytes N]\n");
		return HX_EXIT_USAGE;
	}
	struct hx_trace *t;
	struct hx_trace_error err;
	if (hx_trace_load(path, &t, &err) != 0) {
		fprintf(stderr, "error: %s: %s\n", hx_esc(path), hx_esc(err.msg));
		return HX_EXIT_USAGE;
	}
	/* Everything printed below that came from the file or the command
	 * line is escaped: a trace's names and note are free bytes. */
	printf("trace %s: format version %u, %u exits, config \"%s\", pool hpa 0x%" PRIx64
	       " (%u pages)\n",
	       hx_esc(path), t->version, t->nexits, hx_esc(t->config_name), t->pool_hpa,
	       t->pool_pages);
	if (t->note[0])
		printf("note: %s\n", hx_esc(t->note));
	print_config(t);
	for (uint32_t i = 0; i < t->nexits; i++)
		print_exit(i, &t->exits[i], max);
	hx_trace_free(t);
	return HX_EXIT_OK;
}
