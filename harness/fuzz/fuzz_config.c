/* JSON config loading and validation. The input is config text for
 * hx_config_parse (harness/common/config_json.h). Properties:
 *  - TOTAL: any text terminates without a sanitizer report; the status is
 *    one of ok/syntax/schema/invalid, with a message exactly when it is not
 *    ok, NUL-terminated and naming the file;
 *  - DET, and the checked load is the unchecked load plus
 *    hv_config_validate: loading the same text both ways, into differently
 *    pre-filled structs, gives the same struct byte for byte whatever the
 *    verdict; the same status and message when the text fails before
 *    validation; the validator's diag, and the message made from it, when
 *    only validation rejects it;
 *  - EPT-OWN/FORM/EXACT: every accepted config builds an EPT for each
 *    partition from a pool at the top of its hypervisor range (running out
 *    of pool is allowed and must leave the pool as it was; a pool at HPA 0
 *    must be refused) and hv_ept_verify finds nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_json.h"
#include "diag.h"
#include "escape.h"
#include "fz.h"
#include "hv/ept.h"
#include "hv/s2_entry.h"
#include "hv/verify.h"

/* Table pages for the EPTs of one config: large enough for every sample
 * config, small enough that verifying a full pool stays fast. */
#define POOL_PAGES 256u

static uint8_t pool_mem[POOL_PAGES * HV_PAGE_SIZE] __attribute__((aligned(4096)));

static const char *const NAME = "fuzz.json";

static void print_violation(void *ctx, const struct hv_violation *v)
{
	char buf[512];
	fprintf(stderr, "  %s\n", hx_format_violation(ctx, v, buf, sizeof(buf)));
}

static void check_error(enum hx_config_status st, const struct hx_config_error *err)
{
	FZ_CHECK(st == HX_CONFIG_OK || st == HX_CONFIG_SYNTAX || st == HX_CONFIG_SCHEMA ||
	                 st == HX_CONFIG_INVALID,
	         "TOTAL", "status %d from text in memory", (int)st);
	FZ_CHECK(err->status == st, "TOTAL", "err.status %d, returned %d", (int)err->status,
	         (int)st);
	size_t n = strnlen(err->msg, sizeof(err->msg));
	FZ_CHECK(n < sizeof(err->msg), "TOTAL", "error message not NUL-terminated");
	if (st == HX_CONFIG_OK) {
		FZ_CHECK(n == 0, "TOTAL", "accepted config with message '%s'", err->msg);
		return;
	}
	FZ_CHECK(n > 0 && strncmp(err->msg, NAME, strlen(NAME)) == 0, "TOTAL",
	         "%s config: message '%s' does not name the file", hx_config_status_str(st),
	         err->msg);
	/* Messages quote input text: it must arrive escaped, never raw. */
	FZ_CHECK(hx_is_printable(err->msg, n), "TOTAL",
	         "%s config: message holds a byte outside 0x20..0x7e", hx_config_status_str(st));
}

/* Build every partition's tables in the configured vendor's format (EPT or
 * NPT, as hv_system_init does) and verify the whole system. */
static void build_and_verify(const struct hv_system_config *cfg)
{
	struct hv_pool pool;
	uint64_t pages = cfg->hv_size >> HV_PAGE_SHIFT;
	if (pages > POOL_PAGES)
		pages = POOL_PAGES;
	/* At the top of the hypervisor range, as the hx tools place it. */
	uint64_t hpa = cfg->hv_base + cfg->hv_size - (pages << HV_PAGE_SHIFT);
	hv_status ps = hv_pool_init(&pool, pool_mem, hpa, (uint32_t)pages);
	if (hpa == 0) {
		/* HPA 0 is the "no root" value of EPT roots: refused. */
		FZ_CHECK(ps == HV_ERR_INVAL, "EPT-FORM", "pool at hpa 0 accepted (%s)",
		         hv_status_str(ps));
		return;
	}
	FZ_CHECK(ps == HV_OK, "EPT-FORM", "pool of %llu pages at hpa %#llx refused: %s",
	         (unsigned long long)pages, (unsigned long long)hpa, hv_status_str(ps));
	struct hv_verify_part parts[HV_MAX_PARTITIONS];
	memset(parts, 0, sizeof(parts));
	for (uint32_t p = 0; p < cfg->npartitions; p++) {
		uint32_t mark = pool.used;
		hv_status s = hv_s2_build(&pool, cfg, p, hv_s2_vendor_format(cfg->vendor),
		                          &parts[p].root);
		if (s == HV_ERR_NOMEM) {
			FZ_CHECK(pool.used == mark, "EPT-FORM",
			         "failed build of partition %u kept %u pool pages", p,
			         pool.used - mark);
			return;
		}
		FZ_CHECK(s == HV_OK, "EPT-EXACT",
		         "accepted config: partition %u does not build: %s", p, hv_status_str(s));
	}
	uint32_t bad = hv_ept_verify(cfg, &pool, parts, print_violation, (void *)cfg, 8);
	FZ_CHECK(bad == 0, "EPT-EXACT", "accepted config: verifier found %u violations", bad);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hv_system_config *a, *u;
	static struct hx_config_error ea, eu;
	if (!a) {
		a = malloc(sizeof(*a));
		u = malloc(sizeof(*u));
		if (!a || !u)
			abort();
		memset(u, 0x5a, sizeof(*u));
	}
	const char *text = (const char *)data;
	/* Two loads of the same text, one checked and one not: the checked
	 * load is the unchecked one plus hv_config_validate, which reads the
	 * struct and never writes it, so the two structs must be equal byte
	 * for byte whatever the verdict. a starts as a pattern, u as whatever
	 * the last input left in it (the pattern 0x5a at first): a load that
	 * depended on what the struct held before would differ between them
	 * (DET). A third load, a second checked one, cost a third of the
	 * target's time and compared nothing these two do not. */
	memset(a, 0xa5, sizeof(*a));
	memset(&ea, 0xa5, sizeof(ea));
	memset(&eu, 0x5a, sizeof(eu));
	enum hx_config_status sa = hx_config_parse(NAME, text, size, a, &ea);
	check_error(sa, &ea);
	enum hx_config_status su = hx_config_parse_unchecked(NAME, text, size, u, &eu);
	check_error(su, &eu);
	FZ_CHECK(memcmp(a, u, sizeof(*a)) == 0, "DET",
	         "checked and unchecked loads of the same text give different structs (%s, %s)",
	         hx_config_status_str(sa), hx_config_status_str(su));
	if (su != HX_CONFIG_OK) {
		FZ_CHECK(su == sa && strcmp(ea.msg, eu.msg) == 0, "DET",
		         "unchecked load: %s '%s', checked: %s '%s'", hx_config_status_str(su),
		         eu.msg, hx_config_status_str(sa), ea.msg);
		return 0;
	}
	/* The loader's name rule, on its own: printable ASCII only. */
	for (uint32_t p = 0; p < u->npartitions && p < HV_MAX_PARTITIONS; p++)
		FZ_CHECK(hx_is_printable(u->partitions[p].name, strlen(u->partitions[p].name)),
		         "TOTAL", "partition %u name accepted with a non-printable byte", p);
	for (uint32_t ch = 0; ch < u->nchannels && ch < HV_MAX_CHANNELS; ch++)
		FZ_CHECK(hx_is_printable(u->channels[ch].name, strlen(u->channels[ch].name)),
		         "TOTAL", "channel %u name accepted with a non-printable byte", ch);
	struct hv_config_diag diag;
	memset(&diag, 0, sizeof(diag));
	hv_status v = hv_config_validate(u, &diag);
	if (v != HV_OK) {
		FZ_CHECK(sa == HX_CONFIG_INVALID && ea.diag.error == diag.error &&
		                 ea.diag.partition == diag.partition && ea.diag.index == diag.index,
		         "DET", "validator says %s, checked load says %s (%s)",
		         hv_config_error_str(diag.error), hx_config_status_str(sa), ea.msg);
		char path[256], why[1024], want[sizeof(ea.msg) + 1];
		hx_config_diag_path(&diag, path, sizeof(path));
		hx_format_config_diag(u, &diag, why, sizeof(why));
		FZ_CHECK(strlen(why) < sizeof(why) && why[0] != '\0', "TOTAL", "empty diag text");
		/* The message is "FILE: PATH: reason" (config_json.h), from the
		 * validator's diag; compared whole when it was not cut. */
		int n = path[0] ? snprintf(want, sizeof(want), "%s: %s: %s", NAME, path, why)
		                : snprintf(want, sizeof(want), "%s: %s", NAME, why);
		if (n > 0 && (size_t)n < sizeof(ea.msg) - 1 && strlen(why) < 512)
			FZ_CHECK(strcmp(ea.msg, want) == 0, "DET",
			         "checked load says '%s', the validator's diag reads '%s'", ea.msg,
			         want);
		return 0;
	}
	/* The structs were compared whole after the loads. */
	FZ_CHECK(sa == HX_CONFIG_OK, "DET", "unchecked load validates, checked load says %s (%s)",
	         hx_config_status_str(sa), ea.msg);
	build_and_verify(a);
	return 0;
}
