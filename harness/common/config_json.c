/* JSON partition configs -> struct hv_system_config; schema in
 * config_json.h. The loader checks what the production structs cannot
 * represent (types, unknown keys, names of things, table sizes); everything
 * else is left to hv_config_validate so there is one set of rules. */
#include "config_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "diag.h"
#include "escape.h"
#include "input_file.h"
#include "json_strings.h"
#include "no_coverage.h"
#include "hv/device.h"
#include "hv/hcall.h"
#include "hv/msr.h"

/* JSON numbers are doubles: integers are exact only below 2^53. */
#define EXACT_INT_LIMIT 9007199254740992.0

/* ---- parse context: file name, current JSON path, error sink ---- */

struct jctx {
	const char *file;
	char path[256];
	size_t plen;
	struct hx_config_error *err;
};

static size_t path_push(struct jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t path_push(struct jctx *c, const char *fmt, ...)
{
	size_t mark = c->plen;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(c->path + c->plen, sizeof(c->path) - c->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->plen += (size_t)n;
	if (c->plen >= sizeof(c->path))
		c->plen = sizeof(c->path) - 1;
	return mark;
}

static size_t path_key(struct jctx *c, const char *key)
{
	return path_push(c, "%s%s", c->plen ? "." : "", key);
}

static size_t path_index(struct jctx *c, int i)
{
	return path_push(c, "[%d]", i);
}

static void path_pop(struct jctx *c, size_t mark)
{
	c->plen = mark;
	c->path[mark] = '\0';
}

static bool jfail(struct jctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool jfail(struct jctx *c, const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	c->err->status = HX_CONFIG_SCHEMA;
	/* The reason may quote input strings and the path holds input keys:
	 * both are escaped (the file name already is). */
	char ereason[sizeof(reason)], epath[sizeof(c->path)];
	hx_escape(reason, ereason, sizeof(ereason));
	hx_escape(c->path, epath, sizeof(epath));
	if (c->plen)
		snprintf(c->err->msg, sizeof(c->err->msg), "%s: %s: %s", c->file, epath, ereason);
	else
		snprintf(c->err->msg, sizeof(c->err->msg), "%s: %s", c->file, ereason);
	return false;
}

static const char *type_name(const cJSON *item)
{
	if (cJSON_IsObject(item))
		return "an object";
	if (cJSON_IsArray(item))
		return "an array";
	if (cJSON_IsString(item))
		return "a string";
	if (cJSON_IsNumber(item))
		return "a number";
	if (cJSON_IsBool(item))
		return "a boolean";
	if (cJSON_IsNull(item))
		return "null";
	return "an invalid value";
}

/* ---- keys ---- */

struct keyspec {
	const char *name;
	bool required;
};

/* Edit distance of two short strings, for "did you mean" hints; returns a
 * large value for strings too long to bother with. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return 99;
	size_t prev[33], cur[33];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static const char *closest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = 3; /* suggest only close matches */
	for (size_t i = 0; i < n; i++) {
		size_t lw = strlen(word), ln = strlen(names[i]);
		size_t d = strcasecmp(word, names[i]) == 0 ? 0 : edit_distance(word, names[i]);
		/* a truncated or extended key: "host_mem", "regionss" */
		if (d > 2 && lw >= 3 && ln >= 3 && strncmp(word, names[i], lw < ln ? lw : ln) == 0)
			d = 2;
		if (d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}

static bool expect_object(struct jctx *c, const cJSON *item)
{
	if (!cJSON_IsObject(item))
		return jfail(c, "expected an object, got %s", type_name(item));
	return true;
}

/* Every key must be known (or "comment", a string) and appear once; the
 * required ones must be there. */
static bool check_keys(struct jctx *c, const cJSON *obj, const struct keyspec *keys, size_t n)
{
	uint64_t seen = 0; /* bit i: keys[i]; bit n: comment */
	const cJSON *child;
	cJSON_ArrayForEach(child, obj)
	{
		const char *k = child->string ? child->string : "";
		size_t idx = n;
		if (strcmp(k, "comment") != 0) {
			for (idx = 0; idx < n && strcmp(k, keys[idx].name) != 0; idx++)
				;
			if (idx == n) {
				const char *names[16];
				for (size_t i = 0; i < n && i < 16; i++)
					names[i] = keys[i].name;
				const char *hint = closest(k, names, n < 16 ? n : 16);
				if (hint)
					return jfail(c,
					             "unknown key \"%.64s\" (did you mean \"%s\"?)",
					             k, hint);
				return jfail(c, "unknown key \"%.64s\"", k);
			}
		} else if (!cJSON_IsString(child)) {
			return jfail(c, "key \"comment\" must be a string, got %s",
			             type_name(child));
		}
		if (seen & (1ull << idx))
			return jfail(c, "key \"%s\" appears twice", k);
		seen |= 1ull << idx;
	}
	for (size_t i = 0; i < n; i++)
		if (keys[i].required && !(seen & (1ull << i)))
			return jfail(c, "missing required key \"%s\"", keys[i].name);
	return true;
}

/* ---- values ---- */

bool hx_parse_u64(const char *text, uint64_t *out, const char **why)
{
	const char *p = text;
	uint64_t v = 0;
	if (!p || !*p) {
		*why = "empty number";
		return false;
	}
	if (*p == '-') {
		*why = "negative value";
		return false;
	}
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	const char *digits = hex ? p + 2 : p;
	p = digits;
	for (;; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (hex && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (hex && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			break;
		uint64_t base = hex ? 16 : 10;
		if (v > (UINT64_MAX - d) / base) {
			*why = "value overflows 64 bits";
			return false;
		}
		v = v * base + d;
	}
	if (p == digits) {
		*why = "not a number (expected decimal or 0x hex digits, optional K/M/G/T suffix)";
		return false;
	}
	unsigned shift = 0;
	switch (*p) {
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	case 't':
	case 'T':
		shift = 40;
		break;
	default:
		break;
	}
	if (shift) {
		p++;
		if (v > (UINT64_MAX >> shift)) {
			*why = "value overflows 64 bits";
			return false;
		}
		v <<= shift;
	}
	if (*p) {
		*why = "not a number (expected decimal or 0x hex digits, optional K/M/G/T suffix)";
		return false;
	}
	*out = v;
	return true;
}

static bool read_uint(struct jctx *c, const cJSON *item, uint64_t max, uint64_t *out)
{
	uint64_t v;
	if (cJSON_IsNumber(item)) {
		double d = item->valuedouble;
		if (d < 0)
			return jfail(c, "negative value");
		if (!(d < EXACT_INT_LIMIT))
			return jfail(c,
			             "integer too large for an exact JSON number (2^53 or more); "
			             "write it as a string, e.g. \"0x20000000000000\"");
		v = (uint64_t)d;
		if ((double)v != d)
			return jfail(c, "not an integer");
	} else if (cJSON_IsString(item)) {
		const char *why;
		if (!hx_parse_u64(item->valuestring, &v, &why))
			return jfail(c, "\"%.64s\": %s", item->valuestring, why);
	} else {
		return jfail(c,
		             "expected an integer or a number string such as \"0x1000\" or \"4K\", "
		             "got %s",
		             type_name(item));
	}
	if (v > max)
		return jfail(c, "value 0x%llx is too large (at most 0x%llx)", (unsigned long long)v,
		             (unsigned long long)max);
	*out = v;
	return true;
}

/* Optional integer field: leaves *out alone when absent. */
static bool field_u64(struct jctx *c, const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = read_uint(c, item, UINT64_MAX, out);
	path_pop(c, m);
	return ok;
}

static bool field_u32(struct jctx *c, const cJSON *obj, const char *key, uint32_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	uint64_t v;
	bool ok = read_uint(c, item, UINT32_MAX, &v);
	path_pop(c, m);
	if (ok)
		*out = (uint32_t)v;
	return ok;
}

/* The first byte of a name outside printable ASCII, described; NULL when
 * there is none. Names are printed in messages, dumps and traces: a
 * control byte or escape sequence in one could rewrite a terminal or forge
 * an "ok:" line, so only 0x20..0x7e is allowed. */
static const char *bad_name_byte(const char *name, char *buf, size_t len)
{
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20)
			snprintf(buf, len, "a control character (0x%02x)", *p);
		else if (*p == 0x7f)
			snprintf(buf, len, "DEL (0x7f)");
		else if (*p > 0x7f)
			snprintf(buf, len, "a non-ASCII byte (0x%02x)", *p);
		else
			continue;
		return buf;
	}
	return NULL;
}

/* A partition or channel name (or a reference to one). */
static bool field_name(struct jctx *c, const cJSON *obj, const char *key, char *out, size_t cap)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = true;
	char what[48];
	const char *bad = NULL;
	if (!cJSON_IsString(item))
		ok = jfail(c, "expected a string, got %s", type_name(item));
	else if ((bad = bad_name_byte(item->valuestring, what, sizeof(what))) != NULL)
		ok = jfail(c,
		           "name \"%.40s\" contains %s; names must be printable ASCII (0x20..0x7e)",
		           item->valuestring, bad);
	else if (strlen(item->valuestring) >= cap)
		ok = jfail(c, "\"%.40s...\" is longer than %zu bytes", item->valuestring, cap - 1);
	else
		memcpy(out, item->valuestring, strlen(item->valuestring) + 1);
	path_pop(c, m);
	return ok;
}

static void join_names(char *buf, size_t len, const char *const *names, size_t n)
{
	size_t pos = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < n && pos < len; i++) {
		int w = snprintf(buf + pos, len - pos, "%s\"%s\"", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		pos += (size_t)w;
	}
}

/* A string that must be one of names[]; *out is its index. */
static bool read_enum(struct jctx *c, const cJSON *item, const char *const *names, size_t n,
                      uint32_t *out)
{
	char list[256];
	join_names(list, sizeof(list), names, n);
	if (!cJSON_IsString(item))
		return jfail(c, "expected one of %s, got %s", list, type_name(item));
	for (size_t i = 0; i < n; i++)
		if (strcmp(item->valuestring, names[i]) == 0) {
			*out = (uint32_t)i;
			return true;
		}
	return jfail(c, "unknown value \"%.64s\"; expected one of %s", item->valuestring, list);
}

static bool field_enum(struct jctx *c, const cJSON *obj, const char *key, const char *const *names,
                       size_t n, uint32_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = read_enum(c, item, names, n, out);
	path_pop(c, m);
	return ok;
}

/* "rwx", "rw-", "r", "" ... */
static bool field_perm(struct jctx *c, const cJSON *obj, const char *key, uint8_t *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = true;
	uint8_t perm = 0;
	if (!cJSON_IsString(item)) {
		ok = jfail(c, "expected a permission string such as \"rw\", got %s",
		           type_name(item));
	} else {
		for (const char *p = item->valuestring; ok && *p; p++) {
			uint8_t bit = *p == 'r'   ? HV_PERM_R
			              : *p == 'w' ? HV_PERM_W
			              : *p == 'x' ? HV_PERM_X
			                          : 0;
			if (*p == '-')
				continue;
			if (!bit)
				ok = jfail(c,
				           "invalid permission \"%.16s\": use the letters r, w, x",
				           item->valuestring);
			else if (perm & bit)
				ok = jfail(c, "invalid permission \"%.16s\": '%c' appears twice",
				           item->valuestring, *p);
			perm |= bit;
		}
	}
	path_pop(c, m);
	if (ok)
		*out = perm;
	return ok;
}

/* An optional array of at most max entries; *arr is NULL when absent. */
static bool field_array(struct jctx *c, const cJSON *obj, const char *key, uint32_t max,
                        const cJSON **arr, uint32_t *n)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	*arr = NULL;
	*n = 0;
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = true;
	if (!cJSON_IsArray(item)) {
		ok = jfail(c, "expected an array, got %s", type_name(item));
	} else {
		uint32_t count = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, item)
		{
			if (++count > max)
				break;
		}
		if (count > max)
			ok = jfail(c, "%d entries, at most %u allowed", cJSON_GetArraySize(item),
			           max);
		*arr = item;
		*n = count;
	}
	path_pop(c, m);
	return ok;
}

/* ---- objects of the schema ---- */

static const char *const region_types[] = {[HV_REGION_RAM] = "ram", [HV_REGION_MMIO] = "mmio"};

static bool parse_region(struct jctx *c, const cJSON *obj, struct hv_region *r)
{
	static const struct keyspec keys[] = {{"type", true}, {"gpa", true},   {"hpa", true},
	                                      {"size", true}, {"perm", false}, {"memtype", false}};
	static const char *const memtypes[] = {"uc", "wc", "wt", "wp", "wb"};
	static const uint8_t memtype_values[] = {HV_MT_UC, HV_MT_WC, HV_MT_WT, HV_MT_WP, HV_MT_WB};
	uint32_t type = 0, mt;
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	if (!field_enum(c, obj, "type", region_types, HV_ARRAY_LEN(region_types), &type))
		return false;
	r->type = (uint8_t)type;
	r->perm = type == HV_REGION_RAM ? HV_PERM_RWX : HV_PERM_RW;
	mt = type == HV_REGION_RAM ? 4 : 0; /* index of "wb" / "uc" */
	if (!field_u64(c, obj, "gpa", &r->gpa) || !field_u64(c, obj, "hpa", &r->hpa) ||
	    !field_u64(c, obj, "size", &r->size) || !field_perm(c, obj, "perm", &r->perm) ||
	    !field_enum(c, obj, "memtype", memtypes, HV_ARRAY_LEN(memtypes), &mt))
		return false;
	r->memtype = memtype_values[mt];
	return true;
}

static bool parse_device(struct jctx *c, const cJSON *obj, struct hv_device_config *d)
{
	static const struct keyspec keys[] = {{"type", true}, {"gpa", true}, {"size", false}};
	static const char *const types[] = {"console"};
	static const uint32_t type_values[] = {HV_DEV_CONSOLE};
	uint32_t t = 0;
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	d->size = HV_CONSOLE_SIZE;
	if (!field_enum(c, obj, "type", types, HV_ARRAY_LEN(types), &t) ||
	    !field_u64(c, obj, "gpa", &d->gpa) || !field_u64(c, obj, "size", &d->size))
		return false;
	d->type = type_values[t];
	return true;
}

/* A port-I/O device: {"device": "rtc" | "uart", "base": PORT, "time":
 * SECONDS} (hv/io.h). base defaults to the PC's (0x70, 0x3f8); time, for
 * an RTC only, is seconds since 1970-01-01 00:00:00 UTC (default 0). */
static bool parse_io(struct jctx *c, const cJSON *obj, struct hv_io_device *io)
{
	static const struct keyspec keys[] = {{"device", true}, {"base", false}, {"time", false}};
	static const char *const types[] = {"rtc", "uart"};
	static const uint32_t type_values[] = {HV_IO_RTC, HV_IO_UART};
	static const uint32_t bases[] = {HV_RTC_DEFAULT_BASE, HV_UART_DEFAULT_BASE};
	uint32_t t = 0;
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)) ||
	    !field_enum(c, obj, "device", types, HV_ARRAY_LEN(types), &t))
		return false;
	io->type = type_values[t];
	uint32_t base = bases[t];
	if (!field_u32(c, obj, "base", &base) || !field_u64(c, obj, "time", &io->init))
		return false;
	if (base > 0xffff) {
		size_t m = path_key(c, "base");
		jfail(c, "port 0x%x is beyond 0xffff", base);
		path_pop(c, m);
		return false;
	}
	io->base = (uint16_t)base;
	return true;
}

static bool parse_member(struct jctx *c, const cJSON *obj, const struct hv_system_config *cfg,
                         struct hv_channel_member *mb)
{
	static const struct keyspec keys[] = {{"name", true}, {"gpa", true}, {"perm", true}};
	char name[HV_NAME_LEN] = "";
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	if (!field_name(c, obj, "name", name, sizeof(name)) ||
	    !field_u64(c, obj, "gpa", &mb->gpa) || !field_perm(c, obj, "perm", &mb->perm))
		return false;
	for (uint32_t i = 0; i < cfg->nchannels; i++)
		if (strcmp(cfg->channels[i].name, name) == 0) {
			mb->channel = i;
			return true;
		}
	size_t m = path_key(c, "name");
	const char *names[HV_MAX_CHANNELS];
	for (uint32_t i = 0; i < cfg->nchannels; i++)
		names[i] = cfg->channels[i].name;
	char list[HV_MAX_CHANNELS * (HV_NAME_LEN + 4) + 1];
	join_names(list, sizeof(list), names, cfg->nchannels);
	jfail(c, "unknown channel \"%s\" (defined channels: %s)", name,
	      cfg->nchannels ? list : "none");
	path_pop(c, m);
	return false;
}

static bool parse_regs(struct jctx *c, const cJSON *obj, const char *key, uint32_t out[4])
{
	static const struct keyspec keys[] = {
	        {"eax", false}, {"ebx", false}, {"ecx", false}, {"edx", false}};
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!item)
		return true;
	size_t m = path_key(c, key);
	bool ok = expect_object(c, item) && check_keys(c, item, keys, HV_ARRAY_LEN(keys));
	for (size_t i = 0; ok && i < 4; i++)
		ok = field_u32(c, item, keys[i].name, &out[i]);
	path_pop(c, m);
	return ok;
}

static bool parse_cpuid_rule(struct jctx *c, const cJSON *obj, struct hv_cpuid_rule *r)
{
	static const struct keyspec keys[] = {
	        {"leaf", true}, {"subleaf", false}, {"and", false}, {"or", false}};
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	r->any_subleaf = 1;
	for (size_t i = 0; i < 4; i++) {
		r->and_mask[i] = UINT32_MAX;
		r->or_bits[i] = 0;
	}
	const cJSON *sub = cJSON_GetObjectItemCaseSensitive(obj, "subleaf");
	if (sub && !(cJSON_IsString(sub) && strcmp(sub->valuestring, "any") == 0)) {
		r->any_subleaf = 0;
		if (!field_u32(c, obj, "subleaf", &r->subleaf))
			return false;
	}
	return field_u32(c, obj, "leaf", &r->leaf) && parse_regs(c, obj, "and", r->and_mask) &&
	       parse_regs(c, obj, "or", r->or_bits);
}

static bool parse_cpuid(struct jctx *c, const cJSON *obj, struct hv_cpuid_policy *pol)
{
	static const struct keyspec keys[] = {
	        {"max_basic_leaf", false}, {"max_ext_leaf", false}, {"rules", false}};
	const cJSON *rules;
	uint32_t n;
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	if (!field_u32(c, obj, "max_basic_leaf", &pol->max_basic_leaf) ||
	    !field_u32(c, obj, "max_ext_leaf", &pol->max_ext_leaf) ||
	    !field_array(c, obj, "rules", HV_MAX_CPUID_RULES, &rules, &n))
		return false;
	size_t m = path_key(c, "rules");
	const cJSON *e;
	uint32_t i = 0;
	bool ok = true;
	cJSON_ArrayForEach(e, rules)
	{
		size_t mi = path_index(c, (int)i);
		ok = parse_cpuid_rule(c, e, &pol->rules[i]);
		path_pop(c, mi);
		if (!ok)
			break;
		i++;
	}
	path_pop(c, m);
	pol->nrules = i;
	return ok;
}

struct msr_name {
	const char *name;
	uint32_t msr;
};

static const struct msr_name msr_names[] = {
        {"TSC", HV_MSR_TSC},
        {"APIC_BASE", HV_MSR_APIC_BASE},
        {"FEATURE_CONTROL", HV_MSR_FEATURE_CONTROL},
        {"SMBASE", HV_MSR_SMBASE},
        {"MTRRCAP", HV_MSR_MTRRCAP},
        {"SMRR_PHYSBASE", HV_MSR_SMRR_PHYSBASE},
        {"SMRR_PHYSMASK", HV_MSR_SMRR_PHYSMASK},
        {"SYSENTER_CS", HV_MSR_SYSENTER_CS},
        {"SYSENTER_ESP", HV_MSR_SYSENTER_ESP},
        {"SYSENTER_EIP", HV_MSR_SYSENTER_EIP},
        {"MTRR_PHYSBASE0", HV_MSR_MTRR_PHYSBASE0},
        {"MTRR_FIX64K", HV_MSR_MTRR_FIX64K},
        {"PAT", HV_MSR_PAT},
        {"MTRR_DEF_TYPE", HV_MSR_MTRR_DEF_TYPE},
        {"VMX_BASIC", HV_MSR_VMX_BASIC},
        {"EFER", HV_MSR_EFER},
        {"STAR", HV_MSR_STAR},
        {"LSTAR", HV_MSR_LSTAR},
        {"CSTAR", HV_MSR_CSTAR},
        {"SFMASK", HV_MSR_SFMASK},
        {"FS_BASE", HV_MSR_FS_BASE},
        {"GS_BASE", HV_MSR_GS_BASE},
        {"KERNEL_GS_BASE", HV_MSR_KERNEL_GS_BASE},
        {"TSC_AUX", HV_MSR_TSC_AUX},
        {"VM_CR", HV_MSR_VM_CR},
        {"VM_HSAVE_PA", HV_MSR_VM_HSAVE_PA},
        {"AMD_SMM_ADDR", HV_MSR_AMD_SMM_ADDR},
        {"AMD_SMM_MASK", HV_MSR_AMD_SMM_MASK},
};

static bool read_msr_number(struct jctx *c, const cJSON *item, uint32_t *out)
{
	if (cJSON_IsString(item)) {
		uint64_t v;
		const char *why;
		if (!hx_parse_u64(item->valuestring, &v, &why)) {
			for (size_t i = 0; i < HV_ARRAY_LEN(msr_names); i++)
				if (strcasecmp(item->valuestring, msr_names[i].name) == 0) {
					*out = msr_names[i].msr;
					return true;
				}
			const char *names[HV_ARRAY_LEN(msr_names)];
			for (size_t i = 0; i < HV_ARRAY_LEN(msr_names); i++)
				names[i] = msr_names[i].name;
			const char *hint = closest(item->valuestring, names, HV_ARRAY_LEN(names));
			if (hint)
				return jfail(c, "unknown MSR name \"%.64s\"; did you mean \"%s\"?",
				             item->valuestring, hint);
			return jfail(
			        c,
			        "unknown MSR name \"%.64s\" (use a number such as \"0xc0000103\" "
			        "or a name of hv/msr.h such as \"TSC_AUX\")",
			        item->valuestring);
		}
	}
	uint64_t v;
	if (!read_uint(c, item, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

static bool parse_msr_rule(struct jctx *c, const cJSON *obj, struct hv_msr_rule *r)
{
	static const struct keyspec keys[] = {
	        {"msr", true}, {"mode", true}, {"init", false}, {"writable", false}};
	static const char *const modes[] = {[HV_MSR_DENY] = "deny",
	                                    [HV_MSR_PASS_R] = "pass-r",
	                                    [HV_MSR_PASS_RW] = "pass-rw",
	                                    [HV_MSR_EMULATED] = "emulated"};
	uint32_t mode = 0;
	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	size_t m = path_key(c, "msr");
	bool ok = read_msr_number(c, cJSON_GetObjectItemCaseSensitive(obj, "msr"), &r->msr);
	path_pop(c, m);
	if (!ok || !field_enum(c, obj, "mode", modes, HV_ARRAY_LEN(modes), &mode))
		return false;
	r->mode = (uint8_t)mode;
	if (mode != HV_MSR_EMULATED) {
		const char *extra = cJSON_GetObjectItemCaseSensitive(obj, "init")       ? "init"
		                    : cJSON_GetObjectItemCaseSensitive(obj, "writable") ? "writable"
		                                                                        : NULL;
		if (extra) {
			m = path_key(c, extra);
			jfail(c, "only allowed with mode \"emulated\" (mode is \"%s\")",
			      modes[mode]);
			path_pop(c, m);
			return false;
		}
	}
	return field_u64(c, obj, "init", &r->init) &&
	       field_u64(c, obj, "writable", &r->writable_mask);
}

static const char *const hcall_names[HV_HC_COUNT] = {
        [HV_HC_VERSION] = "version",
        [HV_HC_CONSOLE_WRITE] = "console_write",
        [HV_HC_PARTITION_INFO] = "partition_info",
        [HV_HC_CHANNEL_SEND] = "channel_send",
        [HV_HC_CHANNEL_RECV] = "channel_recv",
        [HV_HC_MEM_PROTECT] = "mem_protect",
        [HV_HC_YIELD] = "yield",
        [HV_HC_SHUTDOWN] = "shutdown",
        [HV_HC_CALL_RETURN] = "call_return",
        [HV_HC_CALL_FAULT] = "call_fault",
};

static bool parse_hypercalls(struct jctx *c, const cJSON *obj, uint32_t *allowed)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, "hypercalls");
	if (!item)
		return true;
	size_t m = path_key(c, "hypercalls");
	bool ok = true;
	if (cJSON_IsString(item) && strcmp(item->valuestring, "all") == 0) {
		*allowed = HV_HC_ALL;
	} else if (!cJSON_IsArray(item)) {
		ok = jfail(c, "expected \"all\" or an array of hypercall names, got %s",
		           type_name(item));
	} else {
		uint32_t bits = 0, i = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, item)
		{
			size_t mi = path_index(c, (int)i++);
			uint32_t nr;
			ok = read_enum(c, e, hcall_names, HV_HC_COUNT, &nr);
			if (ok && (bits & (1u << nr)))
				ok = jfail(c, "hypercall \"%s\" listed twice", hcall_names[nr]);
			path_pop(c, mi);
			if (!ok)
				break;
			bits |= 1u << nr;
		}
		*allowed = bits;
	}
	path_pop(c, m);
	return ok;
}

/* Parse each element of an array with fn; the path gets "[i]". */
#define FOR_EACH_ENTRY(c, arr, i, e, body)                                                         \
	do {                                                                                       \
		uint32_t i = 0;                                                                    \
		const cJSON *e;                                                                    \
		cJSON_ArrayForEach(e, arr)                                                         \
		{                                                                                  \
			size_t mark_ = path_index(c, (int)i);                                      \
			bool ok_ = (body);                                                         \
			path_pop(c, mark_);                                                        \
			if (!ok_)                                                                  \
				return false;                                                      \
			i++;                                                                       \
		}                                                                                  \
	} while (0)

static bool parse_partition(struct jctx *c, const cJSON *obj, const struct hv_system_config *cfg,
                            struct hv_partition_config *pc)
{
	static const struct keyspec keys[] = {{"name", true},        {"vcpus", false},
	                                      {"hypercalls", false}, {"on_violation", false},
	                                      {"regions", false},    {"devices", false},
	                                      {"channels", false},   {"cpuid", false},
	                                      {"msrs", false},       {"io", false}};
	static const char *const policies[] = {
	        [HV_CONTAIN_HALT] = "halt", [HV_CONTAIN_INJECT_GP] = "inject-gp"};
	const cJSON *arr;
	uint32_t n;
	size_t m;

	if (!expect_object(c, obj) || !check_keys(c, obj, keys, HV_ARRAY_LEN(keys)))
		return false;
	pc->nvcpus = 1;
	pc->hcall_allowed = HV_HC_ALL;
	pc->contain = HV_CONTAIN_HALT;
	if (!field_name(c, obj, "name", pc->name, sizeof(pc->name)) ||
	    !field_u32(c, obj, "vcpus", &pc->nvcpus) ||
	    !parse_hypercalls(c, obj, &pc->hcall_allowed) ||
	    !field_enum(c, obj, "on_violation", policies, HV_ARRAY_LEN(policies), &pc->contain))
		return false;

	if (!field_array(c, obj, "regions", HV_MAX_REGIONS, &arr, &n))
		return false;
	m = path_key(c, "regions");
	FOR_EACH_ENTRY(c, arr, i, e, parse_region(c, e, &pc->regions[i]));
	path_pop(c, m);
	pc->nregions = n;

	if (!field_array(c, obj, "devices", HV_MAX_DEVICES, &arr, &n))
		return false;
	m = path_key(c, "devices");
	FOR_EACH_ENTRY(c, arr, i, e, parse_device(c, e, &pc->devices[i]));
	path_pop(c, m);
	pc->ndevices = n;

	if (!field_array(c, obj, "channels", HV_MAX_CHANNELS, &arr, &n))
		return false;
	m = path_key(c, "channels");
	FOR_EACH_ENTRY(c, arr, i, e, parse_member(c, e, cfg, &pc->channels[i]));
	path_pop(c, m);
	pc->nchannels = n;

	const cJSON *cpuid = cJSON_GetObjectItemCaseSensitive(obj, "cpuid");
	if (cpuid) {
		m = path_key(c, "cpuid");
		bool ok = parse_cpuid(c, cpuid, &pc->cpuid);
		path_pop(c, m);
		if (!ok)
			return false;
	}

	if (!field_array(c, obj, "msrs", HV_MAX_MSR_RULES, &arr, &n))
		return false;
	m = path_key(c, "msrs");
	FOR_EACH_ENTRY(c, arr, i, e, parse_msr_rule(c, e, &pc->msr.rules[i]));
	path_pop(c, m);
	pc->msr.nrules = n;

	if (!field_array(c, obj, "io", HV_MAX_IO_DEVICES, &arr, &n))
		return false;
	m = path_key(c, "io");
	FOR_EACH_ENTRY(c, arr, i, e, parse_io(c, e, &pc->io[i]));
	path_pop(c, m);
	pc->nio = n;
	return true;
}

static bool parse_channel(struct jctx *c, const cJSON *obj, struct hv_channel_config *ch)
{
	static const struct keyspec keys[] = {{"name", true}, {"hpa", true}, {"size", true}};
	return expect_object(c, obj) && check_keys(c, obj, keys, HV_ARRAY_LEN(keys)) &&
	       field_name(c, obj, "name", ch->name, sizeof(ch->name)) &&
	       field_u64(c, obj, "hpa", &ch->hpa) && field_u64(c, obj, "size", &ch->size);
}

static bool parse_hypervisor(struct jctx *c, const cJSON *obj, struct hv_system_config *cfg)
{
	static const struct keyspec keys[] = {{"base", true}, {"size", true}};
	size_t m = path_key(c, "hypervisor");
	bool ok = expect_object(c, obj) && check_keys(c, obj, keys, HV_ARRAY_LEN(keys)) &&
	          field_u64(c, obj, "base", &cfg->hv_base) &&
	          field_u64(c, obj, "size", &cfg->hv_size);
	path_pop(c, m);
	return ok;
}

static const char *const vendor_names[] = {[HV_VENDOR_INTEL] = "intel", [HV_VENDOR_AMD] = "amd"};

const char *hx_config_vendor_name(uint32_t vendor)
{
	return vendor < HV_ARRAY_LEN(vendor_names) ? vendor_names[vendor] : "unknown";
}

static bool parse_system(struct jctx *c, const cJSON *root, struct hv_system_config *cfg)
{
	static const struct keyspec keys[] = {{"vendor", false},
	                                      {"host_memory", true},
	                                      {"hypervisor", true},
	                                      {"channels", false},
	                                      {"partitions", true}};
	const cJSON *arr;
	uint32_t n;
	size_t m;

	if (!expect_object(c, root) || !check_keys(c, root, keys, HV_ARRAY_LEN(keys)))
		return false;
	/* Absent: Intel, the meaning every config had before AMD existed. */
	if (!field_enum(c, root, "vendor", vendor_names, HV_ARRAY_LEN(vendor_names), &cfg->vendor))
		return false;
	if (!field_u64(c, root, "host_memory", &cfg->host_mem_size) ||
	    !parse_hypervisor(c, cJSON_GetObjectItemCaseSensitive(root, "hypervisor"), cfg))
		return false;

	/* Channels first: memberships refer to them by name. */
	if (!field_array(c, root, "channels", HV_MAX_CHANNELS, &arr, &n))
		return false;
	m = path_key(c, "channels");
	FOR_EACH_ENTRY(c, arr, i, e, parse_channel(c, e, &cfg->channels[i]));
	path_pop(c, m);
	cfg->nchannels = n;

	if (!field_array(c, root, "partitions", HV_MAX_PARTITIONS, &arr, &n))
		return false;
	m = path_key(c, "partitions");
	FOR_EACH_ENTRY(c, arr, i, e, parse_partition(c, e, cfg, &cfg->partitions[i]));
	path_pop(c, m);
	cfg->npartitions = n;
	return true;
}

/* ---- entry points ---- */

const char *hx_config_status_str(enum hx_config_status s)
{
	static const char *const names[] = {[HX_CONFIG_OK] = "ok",
	                                    [HX_CONFIG_IO] = "io",
	                                    [HX_CONFIG_SYNTAX] = "syntax",
	                                    [HX_CONFIG_SCHEMA] = "schema",
	                                    [HX_CONFIG_INVALID] = "invalid"};
	return (unsigned)s < HV_ARRAY_LEN(names) ? names[s] : "unknown";
}

static void set_error(struct hx_config_error *err, enum hx_config_status s, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void set_error(struct hx_config_error *err, enum hx_config_status s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err->status = s;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

static bool is_json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Offset of the first raw control character other than JSON whitespace,
 * or len. A byte loop every input passes through (no_coverage.h). */
HX_NO_COVERAGE_LOOP static size_t first_control_char(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
			return i;
	}
	return len;
}

static void syntax_error(struct hx_config_error *err, const char *name, const char *text,
                         size_t len, size_t off, const char *what)
{
	unsigned line, col;
	char near[24];
	size_t k = 0;
	if (off > len)
		off = len;
	hx_json_position(text, off, &line, &col);
	for (size_t i = off; i < len && k < 16 && text[i] != '\n'; i++)
		near[k++] = (text[i] >= 0x20 && text[i] < 0x7f) ? text[i] : '?';
	near[k] = '\0';
	if (k)
		set_error(err, HX_CONFIG_SYNTAX, "%s:%u:%u: %s near '%s'", name, line, col, what,
		          near);
	else
		set_error(err, HX_CONFIG_SYNTAX, "%s:%u:%u: %s at end of input", name, line, col,
		          what);
}

static enum hx_config_status parse(const char *name, const char *text, size_t len,
                                   struct hv_system_config *cfg, struct hx_config_error *err,
                                   bool validate)
{
	struct hx_config_error local;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	memset(cfg, 0, sizeof(*cfg));
	if (!name)
		name = "<config>";
	/* The name starts every message: a file name with control bytes must
	 * not reach the terminal raw. */
	char ename[256];
	name = hx_escape(name, ename, sizeof(ename));

	size_t start = 0;
	while (start < len && is_json_space(text[start]))
		start++;
	if (start == len) {
		set_error(err, HX_CONFIG_SYNTAX, "%s: empty file, expected a JSON object", name);
		return err->status;
	}
	/* Strings first: an escaped NUL would be cut by cJSON without a word,
	 * and a raw TAB or newline inside a string passes the whitespace rule
	 * below; both are named by the path of their string. */
	struct hx_json_string_error serr;
	if (!hx_json_check_strings(text, len, &serr)) {
		const char *sep = serr.path[0] ? ": " : "";
		if (serr.in_key)
			set_error(err, HX_CONFIG_SYNTAX,
			          "%s: %s%skey starting \"%s\": %s (line %u, column %u)", name,
			          serr.path, sep, serr.key, serr.reason, serr.line, serr.column);
		else
			set_error(err, HX_CONFIG_SYNTAX, "%s: %s%s%s (line %u, column %u)", name,
			          serr.path, sep, serr.reason, serr.line, serr.column);
		return err->status;
	}
	/* JSON allows no raw control characters (RFC 8259, sections 2 and 7),
	 * but cJSON skips them, NUL included, as if they were whitespace. */
	size_t bad = first_control_char(text, len);
	if (bad < len) {
		char what[48];
		snprintf(what, sizeof(what), "control character 0x%02x in JSON",
		         (unsigned char)text[bad]);
		syntax_error(err, name, text, len, bad, what);
		return err->status;
	}
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (!root) {
		size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
		syntax_error(err, name, text, len, off, "malformed JSON");
		return err->status;
	}
	size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
	while (off < len && is_json_space(text[off]))
		off++;
	if (off < len) {
		cJSON_Delete(root);
		syntax_error(err, name, text, len, off, "unexpected text after the JSON value");
		return err->status;
	}

	struct jctx c = {.file = name, .err = err};
	bool ok = parse_system(&c, root, cfg);
	cJSON_Delete(root);
	if (!ok)
		return err->status;
	if (validate && hv_config_validate(cfg, &err->diag) != HV_OK) {
		char path[128], text_diag[768];
		hx_config_diag_path(&err->diag, path, sizeof(path));
		hx_format_config_diag(cfg, &err->diag, text_diag, sizeof(text_diag));
		if (path[0])
			set_error(err, HX_CONFIG_INVALID, "%s: %s: %s", name, path, text_diag);
		else
			set_error(err, HX_CONFIG_INVALID, "%s: %s", name, text_diag);
		return err->status;
	}
	err->status = HX_CONFIG_OK;
	return HX_CONFIG_OK;
}

enum hx_config_status hx_config_parse(const char *name, const char *text, size_t len,
                                      struct hv_system_config *cfg, struct hx_config_error *err)
{
	return parse(name, text, len, cfg, err, true);
}

enum hx_config_status hx_config_parse_unchecked(const char *name, const char *text, size_t len,
                                                struct hv_system_config *cfg,
                                                struct hx_config_error *err)
{
	return parse(name, text, len, cfg, err, false);
}

enum hx_config_status hx_config_load(const char *path, struct hv_system_config *cfg,
                                     struct hx_config_error *err)
{
	struct hx_config_error local;
	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	uint8_t *buf;
	size_t len;
	char why[HX_INPUT_ERR_LEN];
	if (hx_read_file(path, HX_CONFIG_MAX_BYTES, &buf, &len, why, sizeof(why)) != 0) {
		char ename[256];
		set_error(err, HX_CONFIG_IO, "%s: %s", hx_escape(path, ename, sizeof(ename)), why);
		return err->status;
	}
	enum hx_config_status s = hx_config_parse(path, (const char *)buf, len, cfg, err);
	free(buf);
	return s;
}

/* ---- diag -> JSON path ---- */

static const char *region_field(enum hv_config_error e)
{
	switch (e) {
	case HV_CFG_REGION_SIZE:
		return ".size";
	case HV_CFG_REGION_TYPE:
		return ".type";
	case HV_CFG_REGION_PERM:
		return ".perm";
	case HV_CFG_REGION_MEMTYPE:
		return ".memtype";
	case HV_CFG_REGION_GPA_WRAP:
	case HV_CFG_REGION_GPA_LIMIT:
	case HV_CFG_REGION_GPA_OVERLAP:
		return ".gpa";
	case HV_CFG_REGION_HPA_WRAP:
	case HV_CFG_REGION_HPA_LIMIT:
	case HV_CFG_REGION_HV_OVERLAP:
	case HV_CFG_REGION_HPA_OVERLAP:
		return ".hpa";
	default:
		return "";
	}
}

const char *hx_config_diag_path(const struct hv_config_diag *d, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (!d)
		return buf;
	int p = d->partition, i = d->index;
	switch (d->error) {
	case HV_CFG_NO_PARTITIONS:
	case HV_CFG_TOO_MANY_PARTITIONS:
		snprintf(buf, len, "partitions");
		return buf;
	case HV_CFG_TOO_MANY_CHANNELS:
		snprintf(buf, len, "channels");
		return buf;
	case HV_CFG_HOST_MEM_SIZE:
		snprintf(buf, len, "host_memory");
		return buf;
	case HV_CFG_VENDOR:
		snprintf(buf, len, "vendor");
		return buf;
	case HV_CFG_HV_RANGE:
		snprintf(buf, len, "hypervisor");
		return buf;
	default:
		break;
	}
	if (d->kind == HV_CFG_OBJ_CHANNEL) {
		const char *field = d->error == HV_CFG_NAME || d->error == HV_CFG_DUPLICATE_NAME
		                            ? ".name"
		                    : d->error == HV_CFG_CHANNEL_UNUSED ? ""
		                                                        : ".hpa";
		snprintf(buf, len, "channels[%d]%s", i, field);
		return buf;
	}
	if (p < 0)
		return buf;
	switch (d->kind) {
	case HV_CFG_OBJ_REGION: {
		const char *field = region_field(d->error);
		if (d->error == HV_CFG_REGION_ALIGN)
			field = ""; /* the diag's address says which */
		snprintf(buf, len, "partitions[%d].regions[%d]%s", p, i, field);
		return buf;
	}
	case HV_CFG_OBJ_DEVICE:
		snprintf(buf, len, "partitions[%d].devices[%d]%s", p, i,
		         d->error == HV_CFG_DEVICE_TYPE ? ".type" : "");
		return buf;
	case HV_CFG_OBJ_MEMBER:
		snprintf(buf, len, "partitions[%d].channels[%d]%s", p, i,
		         d->error == HV_CFG_MEMBER_PERM ? ".perm"
		         : d->error == HV_CFG_MEMBER_UNKNOWN_CHANNEL ||
		                         d->error == HV_CFG_MEMBER_DUPLICATE
		                 ? ".name"
		                 : ".gpa");
		return buf;
	case HV_CFG_OBJ_MSR_RULE:
		snprintf(buf, len, "partitions[%d].msrs[%d]%s", p, i,
		         d->error == HV_CFG_MSR_DUPLICATE ? ".msr"
		         : d->error == HV_CFG_MSR_INIT    ? ".init"
		                                          : ".mode");
		return buf;
	case HV_CFG_OBJ_IO:
		snprintf(buf, len, "partitions[%d].io[%d]%s", p, i,
		         d->error == HV_CFG_IO_TYPE   ? ".device"
		         : d->error == HV_CFG_IO_INIT ? ".time"
		                                      : ".base");
		return buf;
	default:
		break;
	}
	const char *field = "";
	switch (d->error) {
	case HV_CFG_NAME:
	case HV_CFG_DUPLICATE_NAME:
		field = ".name";
		break;
	case HV_CFG_VCPUS:
		field = ".vcpus";
		break;
	case HV_CFG_CONTAIN_POLICY:
		field = ".on_violation";
		break;
	case HV_CFG_TOO_MANY_REGIONS:
		field = ".regions";
		break;
	case HV_CFG_TOO_MANY_DEVICES:
		field = ".devices";
		break;
	case HV_CFG_TOO_MANY_IO_DEVICES:
		field = ".io";
		break;
	case HV_CFG_TOO_MANY_MEMBERSHIPS:
		field = ".channels";
		break;
	case HV_CFG_TOO_MANY_MSR_RULES:
		field = ".msrs";
		break;
	case HV_CFG_TOO_MANY_CPUID_RULES:
		field = ".cpuid.rules";
		break;
	default:
		break;
	}
	snprintf(buf, len, "partitions[%d]%s", p, field);
	return buf;
}
