/* JSON config loader: number syntax, every schema field and default, every
 * error path with its JSON path, validation errors mapped back to JSON
 * paths, file I/O errors, and the shipped corpus configs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_json.h"
#include "diag.h"
#include "hv/device.h"
#include "hv/hcall.h"
#include "hv/msr.h"

#ifndef HX_SOURCE_DIR
#error "HX_SOURCE_DIR must name the source tree (set in harness/unit/CMakeLists.txt)"
#endif

/* Rows are written with ' for " to stay readable. */
static char *json(const char *text)
{
	char *s = strdup(text);
	assert_non_null(s);
	for (char *p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static struct hv_system_config *new_cfg(void)
{
	struct hv_system_config *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	return c;
}

/* ---- numbers ---- */

static const struct {
	const char *text;
	bool ok;
	uint64_t value;
	const char *why;
} numbers[] = {
        {"0", true, 0, NULL},
        {"4096", true, 4096, NULL},
        {"010", true, 10, NULL}, /* decimal, never octal */
        {"0x1000", true, 0x1000, NULL},
        {"0X1f", true, 0x1f, NULL},
        {"0xABCdef", true, 0xabcdef, NULL},
        {"4K", true, 4096, NULL},
        {"4k", true, 4096, NULL},
        {"2M", true, 2ull << 20, NULL},
        {"1G", true, 1ull << 30, NULL},
        {"1g", true, 1ull << 30, NULL},
        {"3T", true, 3ull << 40, NULL},
        {"0x10M", true, 16ull << 20, NULL},
        {"16777215T", true, 16777215ull << 40, NULL},
        {"18446744073709551615", true, UINT64_MAX, NULL},
        {"0xffffffffffffffff", true, UINT64_MAX, NULL},
        {"18446744073709551616", false, 0, "overflows"},
        {"99999999999999999999", false, 0, "overflows"},
        {"0x10000000000000000", false, 0, "overflows"},
        {"16777216T", false, 0, "overflows"},
        {"0x100000000000G", false, 0, "overflows"},
        {"", false, 0, "empty"},
        {"-1", false, 0, "negative"},
        {"-0x10", false, 0, "negative"},
        {"+1", false, 0, "not a number"},
        {"0x", false, 0, "not a number"},
        {"0xg", false, 0, "not a number"},
        {"1.5", false, 0, "not a number"},
        {" 1", false, 0, "not a number"},
        {"1 ", false, 0, "not a number"},
        {"4KB", false, 0, "not a number"},
        {"4KK", false, 0, "not a number"},
        {"K", false, 0, "not a number"},
        {"4P", false, 0, "not a number"},
        {"1e3", false, 0, "not a number"},
        {"0b101", false, 0, "not a number"},
};

static void test_numbers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		uint64_t v = 0xdead;
		const char *why = NULL;
		bool ok = hx_parse_u64(numbers[i].text, &v, &why);
		if (ok != numbers[i].ok)
			fail_msg("\"%s\": ok %d, want %d (%s)", numbers[i].text, ok, numbers[i].ok,
			         why ? why : "");
		if (ok && v != numbers[i].value)
			fail_msg("\"%s\": 0x%llx, want 0x%llx", numbers[i].text,
			         (unsigned long long)v, (unsigned long long)numbers[i].value);
		if (!ok && !strstr(why, numbers[i].why))
			fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", numbers[i].text, why,
			         numbers[i].why);
		if (!ok)
			assert_int_equal(v, 0xdead); /* untouched on failure */
	}
	uint64_t v;
	const char *why;
	assert_false(hx_parse_u64(NULL, &v, &why));
}

/* ---- a config using every field ---- */

static const char full_config[] =
        "{ 'comment': 'every field',"
        "  'host_memory': 268435456,"
        "  'hypervisor': { 'base': '0x0', 'size': '16M' },"
        "  'channels': [ { 'name': 'link', 'hpa': '128M', 'size': '8K' },"
        "                { 'name': 'bulk', 'hpa': '0x8100000', 'size': 4096, 'comment': 'c' } ],"
        "  'partitions': ["
        "    { 'name': 'alpha', 'vcpus': '3', 'hypercalls': ['version', 'shutdown', 'yield'],"
        "      'on_violation': 'inject-gp',"
        "      'regions': ["
        "        { 'type': 'ram', 'gpa': 0, 'hpa': '32M', 'size': '16M' },"
        "        { 'type': 'mmio', 'gpa': '0xfe000000', 'hpa': '0xc000000', 'size': '4K' },"
        "        { 'type': 'ram', 'gpa': '0x2000000', 'hpa': '0x3000000', 'size': '8K',"
        "          'perm': 'r-x', 'memtype': 'wt' },"
        "        { 'type': 'ram', 'gpa': '0x2004000', 'hpa': '0x3004000', 'size': '4K',"
        "          'perm': 'xr', 'memtype': 'wp' },"
        "        { 'type': 'ram', 'gpa': '0x2006000', 'hpa': '0x3006000', 'size': '4K',"
        "          'perm': 'r', 'memtype': 'wc' },"
        "        { 'type': 'mmio', 'gpa': '0xfe100000', 'hpa': '0xc100000', 'size': '4K',"
        "          'perm': 'r', 'memtype': 'uc' } ],"
        "      'devices': [ { 'type': 'console', 'gpa': '0xfed00000' },"
        "                   { 'type': 'console', 'gpa': '0xfed10000', 'size': '8K' } ],"
        "      'channels': [ { 'name': 'bulk', 'gpa': '0x90000000', 'perm': 'rw' },"
        "                    { 'name': 'link', 'gpa': '0x80000000', 'perm': 'r' } ],"
        "      'cpuid': { 'max_basic_leaf': '0xd', 'max_ext_leaf': '0x80000008',"
        "                 'rules': [ { 'leaf': 1, 'subleaf': 'any', 'and': { 'ecx': '0xfffffffe' } "
        "},"
        "                            { 'leaf': 7, 'subleaf': 0, 'or': { 'ebx': 8, 'edx': '0x10' } "
        "},"
        "                            { 'leaf': '0x80000001' } ] },"
        "      'msrs': [ { 'msr': 'TSC_AUX', 'mode': 'emulated', 'init': 5,"
        "                  'writable': '0xffffffff' },"
        "                { 'msr': 'efer', 'mode': 'emulated', 'init': '0x500' },"
        "                { 'msr': '0x49', 'mode': 'pass-rw' },"
        "                { 'msr': 254, 'mode': 'pass-r' },"
        "                { 'msr': 'Feature_Control', 'mode': 'deny' } ] },"
        "    { 'name': 'beta', 'hypercalls': 'all',"
        "      'regions': [ { 'type': 'ram', 'gpa': 0, 'hpa': '64M', 'size': '16M' } ],"
        "      'channels': [ { 'name': 'link', 'gpa': '0x80000000', 'perm': 'rw-' },"
        "                    { 'name': 'bulk', 'gpa': '0x80100000', 'perm': 'r' } ] },"
        "    { 'name': 'gamma', 'hypercalls': [] } ] }";

static void test_every_field(void **state)
{
	(void)state;
	struct hv_system_config *c = new_cfg();
	struct hx_config_error err;
	char *text = json(full_config);
	enum hx_config_status s = hx_config_parse("full.json", text, strlen(text), c, &err);
	if (s != HX_CONFIG_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(err.status, HX_CONFIG_OK);
	assert_string_equal(err.msg, "");

	assert_int_equal(c->host_mem_size, 256ull << 20);
	assert_int_equal(c->hv_base, 0);
	assert_int_equal(c->hv_size, 16ull << 20);
	assert_int_equal(c->nchannels, 2);
	assert_string_equal(c->channels[0].name, "link");
	assert_int_equal(c->channels[0].hpa, 128ull << 20);
	assert_int_equal(c->channels[0].size, 8192);
	assert_string_equal(c->channels[1].name, "bulk");
	assert_int_equal(c->channels[1].size, 4096);
	assert_int_equal(c->npartitions, 3);

	const struct hv_partition_config *a = &c->partitions[0];
	assert_string_equal(a->name, "alpha");
	assert_int_equal(a->nvcpus, 3);
	assert_int_equal(a->hcall_allowed,
	                 (1u << HV_HC_VERSION) | (1u << HV_HC_SHUTDOWN) | (1u << HV_HC_YIELD));
	assert_int_equal(a->contain, HV_CONTAIN_INJECT_GP);
	assert_int_equal(a->nregions, 6);
	/* defaults: ram rwx wb, mmio rw uc */
	assert_int_equal(a->regions[0].type, HV_REGION_RAM);
	assert_int_equal(a->regions[0].perm, HV_PERM_RWX);
	assert_int_equal(a->regions[0].memtype, HV_MT_WB);
	assert_int_equal(a->regions[0].hpa, 32ull << 20);
	assert_int_equal(a->regions[1].type, HV_REGION_MMIO);
	assert_int_equal(a->regions[1].perm, HV_PERM_RW);
	assert_int_equal(a->regions[1].memtype, HV_MT_UC);
	assert_int_equal(a->regions[1].gpa, 0xfe000000ull);
	assert_int_equal(a->regions[2].perm, HV_PERM_RX);
	assert_int_equal(a->regions[2].memtype, HV_MT_WT);
	assert_int_equal(a->regions[3].perm, HV_PERM_RX);
	assert_int_equal(a->regions[3].memtype, HV_MT_WP);
	assert_int_equal(a->regions[4].perm, HV_PERM_R);
	assert_int_equal(a->regions[4].memtype, HV_MT_WC);
	assert_int_equal(a->regions[5].perm, HV_PERM_R);
	assert_int_equal(a->ndevices, 2);
	assert_int_equal(a->devices[0].type, HV_DEV_CONSOLE);
	assert_int_equal(a->devices[0].size, HV_CONSOLE_SIZE);
	assert_int_equal(a->devices[1].gpa, 0xfed10000ull);
	assert_int_equal(a->devices[1].size, 8192);
	assert_int_equal(a->nchannels, 2);
	assert_int_equal(a->channels[0].channel, 1);
	assert_int_equal(a->channels[0].perm, HV_PERM_RW);
	assert_int_equal(a->channels[1].channel, 0);
	assert_int_equal(a->channels[1].perm, HV_PERM_R);
	assert_int_equal(a->channels[1].gpa, 0x80000000ull);

	assert_int_equal(a->cpuid.max_basic_leaf, 0xd);
	assert_int_equal(a->cpuid.max_ext_leaf, 0x80000008u);
	assert_int_equal(a->cpuid.nrules, 3);
	const struct hv_cpuid_rule *r0 = &a->cpuid.rules[0], *r1 = &a->cpuid.rules[1];
	assert_int_equal(r0->leaf, 1);
	assert_int_equal(r0->any_subleaf, 1);
	assert_int_equal(r0->and_mask[0], 0xffffffffu);
	assert_int_equal(r0->and_mask[2], 0xfffffffeu);
	assert_int_equal(r0->or_bits[2], 0);
	assert_int_equal(r1->leaf, 7);
	assert_int_equal(r1->any_subleaf, 0);
	assert_int_equal(r1->subleaf, 0);
	assert_int_equal(r1->and_mask[1], 0xffffffffu);
	assert_int_equal(r1->or_bits[1], 8);
	assert_int_equal(r1->or_bits[3], 0x10);
	assert_int_equal(a->cpuid.rules[2].leaf, 0x80000001u);
	assert_int_equal(a->cpuid.rules[2].any_subleaf, 1); /* default */

	assert_int_equal(a->msr.nrules, 5);
	assert_int_equal(a->msr.rules[0].msr, HV_MSR_TSC_AUX);
	assert_int_equal(a->msr.rules[0].mode, HV_MSR_EMULATED);
	assert_int_equal(a->msr.rules[0].init, 5);
	assert_int_equal(a->msr.rules[0].writable_mask, 0xffffffffu);
	assert_int_equal(a->msr.rules[1].msr, HV_MSR_EFER);
	assert_int_equal(a->msr.rules[1].init, 0x500);
	assert_int_equal(a->msr.rules[1].writable_mask, 0);
	assert_int_equal(a->msr.rules[2].msr, 0x49);
	assert_int_equal(a->msr.rules[2].mode, HV_MSR_PASS_RW);
	assert_int_equal(a->msr.rules[3].msr, HV_MSR_MTRRCAP);
	assert_int_equal(a->msr.rules[3].mode, HV_MSR_PASS_R);
	assert_int_equal(a->msr.rules[4].msr, HV_MSR_FEATURE_CONTROL);
	assert_int_equal(a->msr.rules[4].mode, HV_MSR_DENY);

	const struct hv_partition_config *b = &c->partitions[1];
	assert_int_equal(b->nvcpus, 1);                    /* default */
	assert_int_equal(b->contain, HV_CONTAIN_HALT);     /* default */
	assert_int_equal(b->hcall_allowed, HV_HC_ALL);     /* "all" */
	assert_int_equal(b->channels[0].perm, HV_PERM_RW); /* "rw-" */
	assert_int_equal(b->ndevices, 0);
	assert_int_equal(b->msr.nrules, 0);
	assert_int_equal(b->cpuid.nrules, 0);
	assert_int_equal(c->partitions[2].hcall_allowed, 0);
	assert_int_equal(c->partitions[2].nregions, 0);

	/* The text need not be NUL-terminated: parsing a prefix that ends
	 * mid-document is a syntax error, not a read past the end. */
	char *copy = malloc(strlen(text));
	memcpy(copy, text, strlen(text));
	assert_int_equal(hx_config_parse("cut.json", copy, strlen(text) - 3, c, &err),
	                 HX_CONFIG_SYNTAX);
	assert_int_equal(hx_config_parse("whole.json", copy, strlen(text), c, &err), HX_CONFIG_OK);
	free(copy);
	free(text);
	free(c);
}

/* ---- error paths ---- */

#define TOP "'host_memory': '256M', 'hypervisor': { 'base': 0, 'size': '16M' }"
#define RAM "{ 'type': 'ram', 'gpa': 0, 'hpa': '32M', 'size': '16M' }"
/* A config with one partition p0 (one RAM region); x is spliced into p0. */
#define P0(x) "{" TOP ", 'partitions': [ { 'name': 'p0', 'regions': [" RAM "]" x " } ] }"
/* p0 with a region given by r */
#define REG(r) "{" TOP ", 'partitions': [ { 'name': 'p0', 'regions': [" r "] } ] }"
/* top-level extras t with p0 */
#define TOPX(t) "{" TOP t ", 'partitions': [ { 'name': 'p0', 'regions': [" RAM "] } ] }"
#define CHAN ", 'channels': [ { 'name': 'link', 'hpa': '128M', 'size': '8K' } ]"
#define MSR(m) P0(", 'msrs': [" m "]")
#define CPUID(x) P0(", 'cpuid': " x)

struct err_case {
	const char *name;
	const char *text; /* NULL: use make() */
	char *(*make)(void);
	enum hx_config_status status;
	const char *fragment;
};

/* JSON with `n` copies of `item` in the array opened by prefix. */
static char *repeat(const char *prefix, const char *item, unsigned n, const char *suffix)
{
	size_t len = strlen(prefix) + n * (strlen(item) + 1) + strlen(suffix) + 1;
	char *s = malloc(len), *p = s;
	p += sprintf(p, "%s", prefix);
	for (unsigned i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", item);
	sprintf(p, "%s", suffix);
	for (p = s; *p; p++)
		if (*p == '\'')
			*p = '"';
	return s;
}

static char *many_partitions(void)
{
	return repeat("{" TOP ", 'partitions': [", "{ 'name': 'p' }", 65, "] }");
}
static char *many_channels(void)
{
	return repeat("{" TOP ", 'channels': [", "{ 'name': 'c', 'hpa': 0, 'size': 0 }", 17,
	              "], 'partitions': [] }");
}
static char *many_regions(void)
{
	return repeat("{" TOP ", 'partitions': [ { 'name': 'p0', 'regions': [", RAM, 65, "] } ] }");
}
static char *many_devices(void)
{
	return repeat("{" TOP ", 'partitions': [ { 'name': 'p0', 'devices': [",
	              "{ 'type': 'console', 'gpa': 0 }", 5, "] } ] }");
}
static char *many_members(void)
{
	return repeat("{" TOP CHAN ", 'partitions': [ { 'name': 'p0', 'channels': [",
	              "{ 'name': 'link', 'gpa': 0, 'perm': 'r' }", 17, "] } ] }");
}
static char *many_msrs(void)
{
	return repeat("{" TOP ", 'partitions': [ { 'name': 'p0', 'msrs': [",
	              "{ 'msr': 1, 'mode': 'deny' }", 49, "] } ] }");
}
static char *many_cpuid_rules(void)
{
	return repeat("{" TOP ", 'partitions': [ { 'name': 'p0', 'cpuid': { 'rules': [",
	              "{ 'leaf': 1 }", 17, "] } } ] }");
}
static char *deep_nesting(void)
{
	size_t n = 5000;
	char *s = malloc(2 * n + 1);
	memset(s, '[', n);
	memset(s + n, ']', n);
	s[2 * n] = '\0';
	return s;
}

#define SYN HX_CONFIG_SYNTAX
#define SCH HX_CONFIG_SCHEMA
#define INV HX_CONFIG_INVALID

static const struct err_case err_cases[] = {
        /* syntax */
        {"empty", "", NULL, SYN, "t.json: empty file, expected a JSON object"},
        {"blank", " \n\t ", NULL, SYN, "t.json: empty file"},
        {"unterminated", "{ 'host_memory': ", NULL, SYN, "t.json:1:17: malformed JSON"},
        {"missing comma", "{\n 'a': 1\n 'b': 2 }", NULL, SYN,
         "t.json:3:2: malformed JSON near '\"b\": 2 }'"},
        {"trailing text", "{} x", NULL, SYN, "t.json:1:4: unexpected text after the JSON value"},
        {"two documents", "{}\n{}", NULL, SYN, "t.json:2:1: unexpected text"},
        {"control character", "{ 'a':\x01 1 }", NULL, SYN, "t.json:1:7: control character 0x01"},
        {"CRLF is whitespace", "{\r\n}", NULL, SCH, "missing required key \"host_memory\""},
        {"deep nesting", NULL, deep_nesting, SYN, "malformed JSON"},
        /* strings cJSON would cut or accept */
        {"NUL in a name", "{" TOP ", 'partitions': [ { 'name': 'alpha\\u0000evil' } ] }", NULL, SYN,
         "t.json: partitions[0].name: string contains a NUL character (\\u0000) (line 1"},
        {"NUL in a size", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': '32M', 'size': '16M\\u0000x' }"),
         NULL, SYN, "t.json: partitions[0].regions[0].size: string contains a NUL character"},
        {"NUL in a hypercall", P0(", 'hypercalls': [ 'version', 'yield\\u0000' ]"), NULL, SYN,
         "t.json: partitions[0].hypercalls[1]: string contains a NUL character"},
        {"NUL in a key", TOPX(", 'channels\\u0000x': []"), NULL, SYN,
         "t.json: key starting \"channels\": string contains a NUL character"},
        {"raw tab in a string", P0(", 'on_violation': 'halt\t'"), NULL, SYN,
         "t.json: partitions[0].on_violation: string contains a raw control character 0x09 (tab)"},
        {"raw newline in a key", TOPX(", 'com\nment': 'x'"), NULL, SYN,
         "t.json: key starting \"com\": string contains a raw control character 0x0a"},
        /* names: printable ASCII only */
        {"escape in a name", "{" TOP ", 'partitions': [ { 'name': '\\u001b[2J' } ] }", NULL, SCH,
         "t.json: partitions[0].name: name \"\\x1b[2J\" contains a control character (0x1b); "
         "names must be printable ASCII (0x20..0x7e)"},
        {"newline in a name", "{" TOP ", 'partitions': [ { 'name': 'p\\nok: x' } ] }", NULL, SCH,
         "partitions[0].name: name \"p\\x0aok: x\" contains a control character (0x0a)"},
        {"DEL in a channel name",
         TOPX(", 'channels': [ { 'name': 'l\\u007f', 'hpa': 0, 'size': 0 } ]"), NULL, SCH,
         "t.json: channels[0].name: name \"l\\x7f\" contains DEL (0x7f)"},
        {"non-ASCII membership",
         P0(", 'channels': [ { 'name': 'caf\\u00e9', 'gpa': 0, 'perm': 'r' } ]"), NULL, SCH,
         "partitions[0].channels[0].name: name \"caf\\xc3\\xa9\" contains a non-ASCII "
         "byte (0xc3)"},
        {"escape in an enum is escaped", P0(", 'on_violation': '\\u001b[31mhalt'"), NULL, SCH,
         "partitions[0].on_violation: unknown value \"\\x1b[31mhalt\""},
        {"escape in a key is escaped", TOPX(", '\\u001b[2J': 1"), NULL, SCH,
         "t.json: unknown key \"\\x1b[2J\""},
        /* shape */
        {"array at top", "[]", NULL, SCH, "t.json: expected an object, got an array"},
        {"string at top", "'x'", NULL, SCH, "expected an object, got a string"},
        {"unknown top key", "{ 'host_memry': 1 }", NULL, SCH,
         "t.json: unknown key \"host_memry\" (did you mean \"host_memory\"?)"},
        {"unknown key no hint", TOPX(", 'zzzzzz': 1"), NULL, SCH, "t.json: unknown key \"zzzzzz\""},
        {"key case matters", P0(", 'Name': 'x'"), NULL, SCH,
         "partitions[0]: unknown key \"Name\" (did you mean \"name\"?)"},
        {"duplicate key", TOPX(", 'host_memory': '1G'"), NULL, SCH,
         "t.json: key \"host_memory\" appears twice"},
        {"duplicate comment", TOPX(", 'comment': 'a', 'comment': 'b'"), NULL, SCH,
         "key \"comment\" appears twice"},
        {"comment not a string", P0(", 'comment': 5"), NULL, SCH,
         "partitions[0]: key \"comment\" must be a string, got a number"},
        {"missing host_memory", "{ 'hypervisor': {}, 'partitions': [] }", NULL, SCH,
         "t.json: missing required key \"host_memory\""},
        {"missing hypervisor", "{ 'host_memory': 1, 'partitions': [] }", NULL, SCH,
         "missing required key \"hypervisor\""},
        {"missing partitions", "{" TOP "}", NULL, SCH, "missing required key \"partitions\""},
        {"missing hypervisor size",
         "{ 'host_memory': 1, 'hypervisor': { 'base': 0 }, "
         "'partitions': [] }",
         NULL, SCH, "hypervisor: missing required key \"size\""},
        {"hypervisor not object", "{ 'host_memory': 1, 'hypervisor': 5, 'partitions': [] }", NULL,
         SCH, "hypervisor: expected an object, got a number"},
        {"partitions not array", "{" TOP ", 'partitions': {} }", NULL, SCH,
         "partitions: expected an array, got an object"},
        {"partition not object", "{" TOP ", 'partitions': [ 1 ] }", NULL, SCH,
         "partitions[0]: expected an object, got a number"},
        {"partition without name", "{" TOP ", 'partitions': [ {} ] }", NULL, SCH,
         "partitions[0]: missing required key \"name\""},
        {"regions not array", P0(", 'devices': 'x'"), NULL, SCH,
         "partitions[0].devices: expected an array, got a string"},
        {"region missing gpa", REG("{ 'type': 'ram', 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "partitions[0].regions[0]: missing required key \"gpa\""},
        {"region unknown key", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': 0, 'size': 0, 'pem': 'r' }"),
         NULL, SCH, "partitions[0].regions[0]: unknown key \"pem\" (did you mean \"perm\"?)"},
        {"device missing gpa", P0(", 'devices': [ { 'type': 'console' } ]"), NULL, SCH,
         "partitions[0].devices[0]: missing required key \"gpa\""},
        {"member missing perm",
         "{" TOP CHAN ", 'partitions': [ { 'name': 'p0', 'channels': [ "
         "{ 'name': 'link', 'gpa': 0 } ] } ] }",
         NULL, SCH, "partitions[0].channels[0]: missing required key \"perm\""},
        {"channel missing size",
         "{" TOP ", 'channels': [ { 'name': 'c', 'hpa': 0 } ], "
         "'partitions': [] }",
         NULL, SCH, "channels[0]: missing required key \"size\""},
        {"cpuid not object", CPUID("[]"), NULL, SCH,
         "partitions[0].cpuid: expected an object, got an array"},
        {"cpuid rules not array", CPUID("{ 'rules': 1 }"), NULL, SCH,
         "partitions[0].cpuid.rules: expected an array, got a number"},
        {"cpuid rule missing leaf", CPUID("{ 'rules': [ { 'subleaf': 1 } ] }"), NULL, SCH,
         "partitions[0].cpuid.rules[0]: missing required key \"leaf\""},
        {"cpuid unknown register", CPUID("{ 'rules': [ { 'leaf': 1, 'and': { 'exx': 1 } } ] }"),
         NULL, SCH,
         "partitions[0].cpuid.rules[0].and: unknown key \"exx\" (did you mean \"eax\"?)"},
        {"cpuid or not object", CPUID("{ 'rules': [ { 'leaf': 1, 'or': 5 } ] }"), NULL, SCH,
         "partitions[0].cpuid.rules[0].or: expected an object, got a number"},
        {"cpuid subleaf word", CPUID("{ 'rules': [ { 'leaf': 1, 'subleaf': 'all' } ] }"), NULL, SCH,
         "partitions[0].cpuid.rules[0].subleaf: \"all\": not a number"},
        {"cpuid max leaf too wide", CPUID("{ 'max_ext_leaf': '0x100000000' }"), NULL, SCH,
         "partitions[0].cpuid.max_ext_leaf: value 0x100000000 is too large (at most 0xffffffff)"},
        {"msr missing mode", MSR("{ 'msr': 1 }"), NULL, SCH,
         "partitions[0].msrs[0]: missing required key \"mode\""},
        /* values */
        {"negative number", TOPX(", 'channels': [ { 'name': 'c', 'hpa': -1, 'size': 0 } ]"), NULL,
         SCH, "channels[0].hpa: negative value"},
        {"fraction", P0(", 'vcpus': 1.5"), NULL, SCH, "partitions[0].vcpus: not an integer"},
        {"2^53", REG("{ 'type': 'ram', 'gpa': 9007199254740992, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "partitions[0].regions[0].gpa: integer too large for an exact JSON number"},
        {"1e300", REG("{ 'type': 'ram', 'gpa': 1e300, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "integer too large for an exact JSON number"},
        {"bad number string", REG("{ 'type': 'ram', 'gpa': '12 K', 'hpa': 0, 'size': 0 }"), NULL,
         SCH, "partitions[0].regions[0].gpa: \"12 K\": not a number"},
        {"number null", REG("{ 'type': 'ram', 'gpa': null, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "partitions[0].regions[0].gpa: expected an integer or a number string such as "
         "\"0x1000\" or \"4K\", got null"},
        {"number array", REG("{ 'type': 'ram', 'gpa': [1], 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "got an array"},
        {"number object", REG("{ 'type': 'ram', 'gpa': {}, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "got an object"},
        {"vcpus 2^32", P0(", 'vcpus': 4294967296"), NULL, SCH,
         "partitions[0].vcpus: value 0x100000000 is too large (at most 0xffffffff)"},
        {"name not string", "{" TOP ", 'partitions': [ { 'name': 7 } ] }", NULL, SCH,
         "partitions[0].name: expected a string, got a number"},
        {"name 32 bytes",
         "{" TOP ", 'partitions': [ { 'name': '0123456789abcdef0123456789abcdef' } ] }", NULL, SCH,
         "partitions[0].name: \"0123456789abcdef0123456789abcdef...\" is longer than 31 bytes"},
        {"channel name 40 bytes",
         "{" TOP ", 'channels': [ { 'name': "
         "'0123456789012345678901234567890123456789', 'hpa': 0, 'size': 0 } ], "
         "'partitions': [] }",
         NULL, SCH, "channels[0].name: "},
        {"region type unknown", REG("{ 'type': 'RAM', 'gpa': 0, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "partitions[0].regions[0].type: unknown value \"RAM\"; expected one of \"ram\", \"mmio\""},
        {"region type number", REG("{ 'type': 0, 'gpa': 0, 'hpa': 0, 'size': 0 }"), NULL, SCH,
         "partitions[0].regions[0].type: expected one of \"ram\", \"mmio\", got a number"},
        {"memtype unknown",
         REG("{ 'type': 'ram', 'gpa': 0, 'hpa': 0, 'size': 0, 'memtype': 'wx' }"), NULL, SCH,
         "partitions[0].regions[0].memtype: unknown value \"wx\"; expected one of \"uc\", "
         "\"wc\", \"wt\", \"wp\", \"wb\""},
        {"perm letter", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': 0, 'size': 0, 'perm': 'R' }"), NULL,
         SCH, "partitions[0].regions[0].perm: invalid permission \"R\": use the letters r, w, x"},
        {"perm twice", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': 0, 'size': 0, 'perm': 'rwr' }"), NULL,
         SCH, "invalid permission \"rwr\": 'r' appears twice"},
        {"perm not string", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': 0, 'size': 0, 'perm': 7 }"),
         NULL, SCH,
         "partitions[0].regions[0].perm: expected a permission string such as \"rw\", got a "
         "number"},
        {"device type", P0(", 'devices': [ { 'type': 'uart', 'gpa': 0 } ]"), NULL, SCH,
         "partitions[0].devices[0].type: unknown value \"uart\"; expected one of \"console\""},
        {"on_violation", P0(", 'on_violation': 'panic'"), NULL, SCH,
         "partitions[0].on_violation: unknown value \"panic\"; expected one of \"halt\", "
         "\"inject-gp\""},
        {"msr mode", MSR("{ 'msr': 1, 'mode': 'passthrough' }"), NULL, SCH,
         "partitions[0].msrs[0].mode: unknown value \"passthrough\"; expected one of \"deny\", "
         "\"pass-r\", \"pass-rw\", \"emulated\""},
        {"msr unknown name hint", MSR("{ 'msr': 'LSTR', 'mode': 'deny' }"), NULL, SCH,
         "partitions[0].msrs[0].msr: unknown MSR name \"LSTR\"; did you mean \"LSTAR\"?"},
        {"msr unknown name", MSR("{ 'msr': 'whatever_this_is', 'mode': 'deny' }"), NULL, SCH,
         "unknown MSR name \"whatever_this_is\" (use a number such as \"0xc0000103\""},
        {"msr number too wide", MSR("{ 'msr': '0x100000000', 'mode': 'deny' }"), NULL, SCH,
         "partitions[0].msrs[0].msr: value 0x100000000 is too large"},
        {"msr negative", MSR("{ 'msr': -1, 'mode': 'deny' }"), NULL, SCH,
         "partitions[0].msrs[0].msr: negative value"},
        {"msr bool", MSR("{ 'msr': true, 'mode': 'deny' }"), NULL, SCH,
         "partitions[0].msrs[0].msr: expected an integer"},
        {"init with pass-r", MSR("{ 'msr': 1, 'mode': 'pass-r', 'init': 0 }"), NULL, SCH,
         "partitions[0].msrs[0].init: only allowed with mode \"emulated\" (mode is \"pass-r\")"},
        {"writable with deny", MSR("{ 'msr': 1, 'mode': 'deny', 'writable': 1 }"), NULL, SCH,
         "partitions[0].msrs[0].writable: only allowed with mode \"emulated\" (mode is \"deny\")"},
        {"emulated init overflow",
         MSR("{ 'msr': 1, 'mode': 'emulated', 'init': '0x1ffffffffffffffff' }"), NULL, SCH,
         "partitions[0].msrs[0].init: \"0x1ffffffffffffffff\": value overflows 64 bits"},
        {"hypercalls word", P0(", 'hypercalls': 'none'"), NULL, SCH,
         "partitions[0].hypercalls: expected \"all\" or an array of hypercall names, got a string"},
        {"hypercalls number", P0(", 'hypercalls': 255"), NULL, SCH,
         "partitions[0].hypercalls: expected \"all\" or an array"},
        {"hypercall unknown", P0(", 'hypercalls': [ 'version', 'reboot' ]"), NULL, SCH,
         "partitions[0].hypercalls[1]: unknown value \"reboot\""},
        {"hypercall number", P0(", 'hypercalls': [ 0 ]"), NULL, SCH,
         "partitions[0].hypercalls[0]: expected one of \"version\""},
        {"hypercall twice", P0(", 'hypercalls': [ 'yield', 'version', 'yield' ]"), NULL, SCH,
         "partitions[0].hypercalls[2]: hypercall \"yield\" listed twice"},
        {"unknown channel",
         "{" TOP CHAN ", 'partitions': [ { 'name': 'p0', 'channels': [ "
         "{ 'name': 'lnk', 'gpa': 0, 'perm': 'r' } ] } ] }",
         NULL, SCH,
         "partitions[0].channels[0].name: unknown channel \"lnk\" (defined channels: \"link\")"},
        {"no channels defined", P0(", 'channels': [ { 'name': 'link', 'gpa': 0, 'perm': 'r' } ]"),
         NULL, SCH, "unknown channel \"link\" (defined channels: none)"},
        {"member name too long",
         P0(", 'channels': [ { 'name': 'abcdefghijabcdefghijabcdefghijabc', "
            "'gpa': 0, 'perm': 'r' } ]"),
         NULL, SCH, "partitions[0].channels[0].name: \"abcdefghij"},
        /* table sizes */
        {"65 partitions", NULL, many_partitions, SCH,
         "t.json: partitions: 65 entries, at most 64 allowed"},
        {"17 channels", NULL, many_channels, SCH,
         "t.json: channels: 17 entries, at most 16 allowed"},
        {"65 regions", NULL, many_regions, SCH,
         "partitions[0].regions: 65 entries, at most 64 allowed"},
        {"5 devices", NULL, many_devices, SCH,
         "partitions[0].devices: 5 entries, at most 4 allowed"},
        {"17 memberships", NULL, many_members, SCH,
         "partitions[0].channels: 17 entries, at most 16 allowed"},
        {"49 MSR rules", NULL, many_msrs, SCH,
         "partitions[0].msrs: 49 entries, at most 48 allowed"},
        {"17 CPUID rules", NULL, many_cpuid_rules, SCH,
         "partitions[0].cpuid.rules: 17 entries, at most 16 allowed"},
        /* representable but invalid: hv_config_validate, mapped to JSON paths */
        {"no partitions", "{" TOP ", 'partitions': [] }", NULL, INV,
         "t.json: partitions: no partitions"},
        {"host memory 0",
         "{ 'host_memory': 0, 'hypervisor': { 'base': 0, 'size': '16M' }, "
         "'partitions': [ { 'name': 'p' } ] }",
         NULL, INV, "t.json: host_memory: host memory size is zero"},
        {"hypervisor empty",
         "{ 'host_memory': '1G', 'hypervisor': { 'base': 0, 'size': 0 }, "
         "'partitions': [ { 'name': 'p' } ] }",
         NULL, INV, "t.json: hypervisor: hypervisor range is empty"},
        {"empty name", "{" TOP ", 'partitions': [ { 'name': '' } ] }", NULL, INV,
         "t.json: partitions[0].name: partition 0 \"\": name is empty"},
        {"vcpus 0", P0(", 'vcpus': 0"), NULL, INV,
         "partitions[0].vcpus: partition 0 \"p0\": vCPU count"},
        {"region size 0", REG("{ 'type': 'ram', 'gpa': 0, 'hpa': '32M', 'size': 0 }"), NULL, INV,
         "partitions[0].regions[0].size: partition 0 \"p0\" region 0 (ram gpa 0x0 (empty)"},
        {"region empty perm",
         REG("{ 'type': 'ram', 'gpa': 0, 'hpa': '32M', 'size': '4K', 'perm': '' }"), NULL, INV,
         "partitions[0].regions[0].perm: partition 0 \"p0\" region 0 (ram gpa 0x0-0xfff -> "
         "hpa 0x2000000-0x2000fff, --- wb)"},
        {"region hpa unaligned",
         REG("{ 'type': 'ram', 'gpa': 0, 'hpa': '0x2000800', 'size': '4K' }"), NULL, INV,
         "partitions[0].regions[0]: partition 0 \"p0\" region 0 (ram gpa 0x0-0xfff -> hpa "
         "0x2000800-0x20017ff, rwx wb): region GPA, HPA or size is not 4 KiB aligned "
         "(0x2000800 is not a multiple of 0x1000)"},
        {"device type ok but overlapping",
         P0(", 'devices': [ { 'type': 'console', 'gpa': '0x1000' } ]"), NULL, INV,
         "partitions[0].devices[0]: partition 0 \"p0\" device 0 (console gpa "
         "0x1000-0x1fff): device GPA range overlaps"},
        {"channel unused", TOPX(CHAN), NULL, INV,
         "channels[0]: channel 0 \"link\" (hpa 0x8000000-0x8001fff): channel has fewer than two "
         "members"},
        {"channel empty name",
         TOPX(", 'channels': [ { 'name': '', 'hpa': '128M', 'size': '8K' } ]"), NULL, INV,
         "channels[0].name: channel 0 \"\""},
        {"member perm w",
         "{" TOP CHAN ", 'partitions': [ { 'name': 'p0', 'channels': [ "
         "{ 'name': 'link', 'gpa': '1G', 'perm': 'w' } ] } ] }",
         NULL, INV,
         "partitions[0].channels[0].perm: partition 0 \"p0\" channel membership 0 "
         "(\"link\" at gpa 0x40000000-0x40001fff, -w-)"},
        {"member unaligned",
         "{" TOP CHAN ", 'partitions': [ { 'name': 'p0', 'channels': [ "
         "{ 'name': 'link', 'gpa': '0x40000010', 'perm': 'r' } ] } ] }",
         NULL, INV, "partitions[0].channels[0].gpa: partition 0 \"p0\" channel membership 0"},
        {"msr protected", MSR("{ 'msr': 'SMRR_PHYSBASE', 'mode': 'pass-r' }"), NULL, INV,
         "partitions[0].msrs[0].mode: partition 0 \"p0\" MSR rule 0 (MSR 0x1f2, pass-r): MSR is "
         "not on the passthrough allow-list (MSR 0x1f2: SMRR locate SMRAM)"},
        {"msr twice", MSR("{ 'msr': 'PAT', 'mode': 'deny' }, { 'msr': '0x277', 'mode': 'deny' }"),
         NULL, INV,
         "partitions[0].msrs[1].msr: partition 0 \"p0\" MSR rule 1 (MSR 0x277, deny): MSR has "
         "two rules"},
};

static void test_errors(void **state)
{
	(void)state;
	struct hv_system_config *c = new_cfg();
	struct hx_config_error err;
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *ec = &err_cases[i];
		char *text = ec->text ? json(ec->text) : ec->make();
		memset(&err, 0x5a, sizeof(err));
		enum hx_config_status s = hx_config_parse("t.json", text, strlen(text), c, &err);
		if (s != ec->status || err.status != s)
			fail_msg("%s: status %s, want %s: %s", ec->name, hx_config_status_str(s),
			         hx_config_status_str(ec->status), err.msg);
		if (!strstr(err.msg, ec->fragment))
			fail_msg("%s: message \"%s\" lacks \"%s\"", ec->name, err.msg,
			         ec->fragment);
		/* Every message starts with the file name. */
		assert_memory_equal(err.msg, "t.json", 6);
		/* NULL err is allowed and gives the same verdict. */
		assert_int_equal(hx_config_parse("t.json", text, strlen(text), c, NULL), s);
		free(text);
	}
	free(c);
}

static void test_invalid_keeps_diag(void **state)
{
	(void)state;
	struct hv_system_config *c = new_cfg();
	struct hx_config_error err;
	char *text = json("{" TOP ", 'partitions': [ { 'name': 'p0', 'regions': [" RAM "] }, "
	                  "{ 'name': 'p1', 'regions': [ { 'type': 'ram', 'gpa': 0, 'hpa': '40M', "
	                  "'size': '4K' } ] } ] }");
	assert_int_equal(hx_config_parse("t.json", text, strlen(text), c, &err), HX_CONFIG_INVALID);
	assert_int_equal(err.diag.error, HV_CFG_REGION_HPA_OVERLAP);
	assert_int_equal(err.diag.partition, 1);
	assert_int_equal(err.diag.index, 0);
	assert_int_equal(err.diag.other_partition, 0);
	assert_int_equal(err.diag.other_index, 0);
	assert_string_equal(
	        err.msg,
	        "t.json: partitions[1].regions[0].hpa: partition 1 \"p1\" region 0 (ram gpa "
	        "0x0-0xfff -> hpa 0x2800000-0x2800fff, rwx wb): region HPA range overlaps host "
	        "memory owned by someone else; conflicts with partition 0 \"p0\" region 0 (ram gpa "
	        "0x0-0xffffff -> hpa 0x2000000-0x2ffffff, rwx wb)");
	/* Without validation the same text loads. */
	assert_int_equal(hx_config_parse_unchecked("t.json", text, strlen(text), c, &err),
	                 HX_CONFIG_OK);
	assert_int_equal(c->npartitions, 2);
	assert_int_equal(c->partitions[1].regions[0].hpa, 40ull << 20);
	free(text);
	free(c);
}

/* ---- diag -> JSON path ---- */

static void test_diag_paths(void **state)
{
	(void)state;
	static const struct {
		struct hv_config_diag d;
		const char *path;
	} rows[] = {
	        {{HV_CFG_NO_PARTITIONS, -1, -1, -1, -1, 0, 0, {0}, 0}, "partitions"},
	        {{HV_CFG_TOO_MANY_PARTITIONS, -1, -1, -1, -1, 0, 0, {0}, 0}, "partitions"},
	        {{HV_CFG_TOO_MANY_CHANNELS, -1, -1, -1, -1, 0, 0, {0}, 0}, "channels"},
	        {{HV_CFG_HOST_MEM_SIZE, -1, -1, -1, -1, 0, 0, {0}, 0}, "host_memory"},
	        {{HV_CFG_HV_RANGE, -1, -1, -1, -1, 0, 0, {0}, 0}, "hypervisor"},
	        {{HV_CFG_NAME, 3, -1, -1, -1, 0, 0, {0}, 0}, "partitions[3].name"},
	        {{HV_CFG_NAME, -1, 2, -1, -1, HV_CFG_OBJ_CHANNEL, 0, {0}, 0}, "channels[2].name"},
	        {{HV_CFG_DUPLICATE_NAME,
	          -1,
	          2,
	          -1,
	          1,
	          HV_CFG_OBJ_CHANNEL,
	          HV_CFG_OBJ_CHANNEL,
	          {0},
	          0},
	         "channels[2].name"},
	        {{HV_CFG_CHANNEL_RANGE, -1, 4, -1, -1, HV_CFG_OBJ_CHANNEL, 0, {0}, 0},
	         "channels[4].hpa"},
	        {{HV_CFG_CHANNEL_UNUSED, -1, 4, -1, -1, HV_CFG_OBJ_CHANNEL, 0, {0}, 0},
	         "channels[4]"},
	        {{HV_CFG_VCPUS, 1, -1, -1, -1, 0, 0, {0}, 0}, "partitions[1].vcpus"},
	        {{HV_CFG_CONTAIN_POLICY, 1, -1, -1, -1, 0, 0, {0}, 0},
	         "partitions[1].on_violation"},
	        {{HV_CFG_TOO_MANY_REGIONS, 1, -1, -1, -1, 0, 0, {0}, 0}, "partitions[1].regions"},
	        {{HV_CFG_TOO_MANY_DEVICES, 1, -1, -1, -1, 0, 0, {0}, 0}, "partitions[1].devices"},
	        {{HV_CFG_TOO_MANY_MEMBERSHIPS, 1, -1, -1, -1, 0, 0, {0}, 0},
	         "partitions[1].channels"},
	        {{HV_CFG_TOO_MANY_MSR_RULES, 1, -1, -1, -1, 0, 0, {0}, 0}, "partitions[1].msrs"},
	        {{HV_CFG_TOO_MANY_CPUID_RULES, 1, -1, -1, -1, 0, 0, {0}, 0},
	         "partitions[1].cpuid.rules"},
	        {{HV_CFG_REGION_SIZE, 0, 5, -1, -1, HV_CFG_OBJ_REGION, 0, {0}, 0},
	         "partitions[0].regions[5].size"},
	        {{HV_CFG_REGION_ALIGN, 0, 5, -1, -1, HV_CFG_OBJ_REGION, 0, {0}, 0},
	         "partitions[0].regions[5]"},
	        {{HV_CFG_REGION_TYPE, 0, 5, -1, -1, HV_CFG_OBJ_REGION, 0, {0}, 0},
	         "partitions[0].regions[5].type"},
	        {{HV_CFG_REGION_GPA_WRAP, 0, 5, -1, -1, HV_CFG_OBJ_REGION, 0, {0}, 0},
	         "partitions[0].regions[5].gpa"},
	        {{HV_CFG_REGION_HPA_LIMIT, 0, 5, -1, -1, HV_CFG_OBJ_REGION, 0, {0}, 0},
	         "partitions[0].regions[5].hpa"},
	        {{HV_CFG_DEVICE_TYPE, 0, 1, -1, -1, HV_CFG_OBJ_DEVICE, 0, {0}, 0},
	         "partitions[0].devices[1].type"},
	        {{HV_CFG_DEVICE_RANGE, 0, 1, -1, -1, HV_CFG_OBJ_DEVICE, 0, {0}, 0},
	         "partitions[0].devices[1]"},
	        {{HV_CFG_MEMBER_UNKNOWN_CHANNEL, 2, 1, -1, -1, HV_CFG_OBJ_MEMBER, 0, {0}, 0},
	         "partitions[2].channels[1].name"},
	        {{HV_CFG_MEMBER_PERM, 2, 1, -1, -1, HV_CFG_OBJ_MEMBER, 0, {0}, 0},
	         "partitions[2].channels[1].perm"},
	        {{HV_CFG_MEMBER_OVERLAP, 2, 1, 2, 0, HV_CFG_OBJ_MEMBER, HV_CFG_OBJ_REGION, {0}, 0},
	         "partitions[2].channels[1].gpa"},
	        {{HV_CFG_MSR_MODE, 2, 7, -1, -1, HV_CFG_OBJ_MSR_RULE, 0, {0}, 0},
	         "partitions[2].msrs[7].mode"},
	        {{HV_CFG_MSR_DUPLICATE,
	          2,
	          7,
	          2,
	          1,
	          HV_CFG_OBJ_MSR_RULE,
	          HV_CFG_OBJ_MSR_RULE,
	          {0},
	          0},
	         "partitions[2].msrs[7].msr"},
	        {{HV_CFG_OK, -1, -1, -1, -1, 0, 0, {0}, 0}, ""},
	};
	char buf[128];
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		hx_config_diag_path(&rows[i].d, buf, sizeof(buf));
		if (strcmp(buf, rows[i].path) != 0)
			fail_msg("row %zu (%s): \"%s\", want \"%s\"", i,
			         hv_config_error_str(rows[i].d.error), buf, rows[i].path);
	}
	assert_string_equal(hx_config_diag_path(NULL, buf, sizeof(buf)), "");
	/* truncation keeps the buffer terminated */
	char small[8];
	hx_config_diag_path(&rows[5].d, small, sizeof(small));
	assert_string_equal(small, "partiti");
}

/* ---- files ---- */

static void test_load_errors(void **state)
{
	(void)state;
	struct hv_system_config *c = new_cfg();
	struct hx_config_error err;
	assert_int_equal(hx_config_load("/nonexistent/x.json", c, &err), HX_CONFIG_IO);
	assert_string_equal(err.msg, "/nonexistent/x.json: cannot open: No such file or directory");
	assert_int_equal(hx_config_load(HX_SOURCE_DIR "/corpus", c, &err), HX_CONFIG_IO);
	assert_non_null(strstr(err.msg, "/corpus: is a directory, not a regular file"));
	assert_int_equal(hx_config_load("/nonexistent/x.json", c, NULL), HX_CONFIG_IO);

	char path[] = "/tmp/hx-test-config-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static char chunk[1 << 16];
	memset(chunk, ' ', sizeof(chunk));
	for (size_t n = 0; n <= HX_CONFIG_MAX_BYTES; n += sizeof(chunk))
		assert_int_equal(write(fd, chunk, sizeof(chunk)), sizeof(chunk));
	close(fd);
	assert_int_equal(hx_config_load(path, c, &err), HX_CONFIG_IO);
	assert_non_null(strstr(err.msg, "file is larger than 16777216 bytes"));
	unlink(path);
	free(c);
}

static void load_ok(const char *name, struct hv_system_config *c)
{
	char path[512];
	struct hx_config_error err;
	snprintf(path, sizeof(path), "%s/corpus/configs/%s", HX_SOURCE_DIR, name);
	if (hx_config_load(path, c, &err) != HX_CONFIG_OK)
		fail_msg("%s", err.msg);
}

static void test_corpus_good(void **state)
{
	(void)state;
	struct hv_system_config *c = new_cfg();

	load_ok("one.json", c);
	assert_int_equal(c->npartitions, 1);
	assert_string_equal(c->partitions[0].name, "solo");
	assert_int_equal(c->partitions[0].nregions, 2);
	assert_int_equal(c->partitions[0].regions[1].type, HV_REGION_MMIO);
	assert_int_equal(c->partitions[0].regions[1].memtype, HV_MT_UC);
	assert_int_equal(c->partitions[0].ndevices, 1);
	assert_true(c->host_mem_size <= (4ull << 30));

	load_ok("two-channel.json", c);
	assert_int_equal(c->npartitions, 2);
	assert_int_equal(c->nchannels, 1);
	uint8_t perms = 0;
	for (uint32_t p = 0; p < 2; p++) {
		assert_int_equal(c->partitions[p].nchannels, 1);
		assert_int_equal(c->partitions[p].channels[0].channel, 0);
		perms |= (uint8_t)(1u << c->partitions[p].channels[0].perm);
	}
	assert_int_equal(perms, (1u << HV_PERM_R) | (1u << HV_PERM_RW)); /* one RO, one RW */
	assert_true(c->host_mem_size <= (4ull << 30));

	load_ok("dense.json", c);
	uint32_t regions = 0;
	bool gig = false;
	for (uint32_t p = 0; p < c->npartitions; p++)
		for (uint32_t i = 0; i < c->partitions[p].nregions; i++) {
			const struct hv_region *r = &c->partitions[p].regions[i];
			regions++;
			if (r->size >= HV_SIZE_1G && r->gpa % HV_SIZE_1G == 0 &&
			    r->hpa % HV_SIZE_1G == 0)
				gig = true;
		}
	assert_true(regions >= 64);
	assert_true(gig);
	free(c);
}

static void test_corpus_bad(void **state)
{
	(void)state;
	static const char *const names[] = {"malformed",   "unknown-key",        "overlap-gpa",
	                                    "overlap-hpa", "wrap-gpa",           "huge-size",
	                                    "misaligned",  "hypervisor-overlap", "unknown-channel",
	                                    "shared-mmio", "trailing-garbage",   "empty"};
	struct hv_system_config *c = new_cfg();
	struct hx_config_error err;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/corpus/configs/bad/%s.json", HX_SOURCE_DIR,
		         names[i]);
		enum hx_config_status s = hx_config_load(path, c, &err);
		if (s == HX_CONFIG_OK || s == HX_CONFIG_IO)
			fail_msg("%s: status %s: %s", names[i], hx_config_status_str(s), err.msg);
		assert_memory_equal(err.msg, path, strlen(path));
	}
	free(c);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(hx_config_status_str(HX_CONFIG_OK), "ok");
	assert_string_equal(hx_config_status_str(HX_CONFIG_IO), "io");
	assert_string_equal(hx_config_status_str(HX_CONFIG_SYNTAX), "syntax");
	assert_string_equal(hx_config_status_str(HX_CONFIG_SCHEMA), "schema");
	assert_string_equal(hx_config_status_str(HX_CONFIG_INVALID), "invalid");
	assert_string_equal(hx_config_status_str((enum hx_config_status)99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_numbers),      cmocka_unit_test(test_every_field),
	        cmocka_unit_test(test_errors),       cmocka_unit_test(test_invalid_keeps_diag),
	        cmocka_unit_test(test_diag_paths),   cmocka_unit_test(test_load_errors),
	        cmocka_unit_test(test_corpus_good),  cmocka_unit_test(test_corpus_bad),
	        cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests_name("config_json", tests, NULL, NULL);
}
