/* Loading partition configs from JSON files into struct hv_system_config.
 *
 * Schema (every key not listed is an error; "comment" with a string value is
 * allowed in every object and ignored; keys are case-sensitive):
 *
 * {
 *   "vendor": "intel" | "amd",                 default "intel": EPT or nested
 *                                               page tables (NPT) for stage 2
 *   "host_memory": SIZE,                       required; host memory is [0, SIZE)
 *   "hypervisor": {"base": ADDR, "size": SIZE}, required; hypervisor-reserved
 *   "channels": [                               optional, at most 16
 *     {"name": STR, "hpa": ADDR, "size": SIZE}  all required
 *   ],
 *   "partitions": [                             required, 1..64
 *     {
 *       "name": STR,                            required, at most 31 bytes
 *       "vcpus": INT,                           default 1 (1..8)
 *       "hypercalls": "all" | [NAME...],        default "all"; names: version,
 *                                               console_write, partition_info,
 *                                               channel_send, channel_recv,
 *                                               mem_protect, yield, shutdown
 *       "on_violation": "halt" | "inject-gp",   default "halt"
 *       "regions": [                            default [], at most 64
 *         {"type": "ram" | "mmio",              required
 *          "gpa": ADDR, "hpa": ADDR, "size": SIZE, required
 *          "perm": PERM,                        default "rwx" (ram), "rw" (mmio)
 *          "memtype": "uc"|"wc"|"wt"|"wp"|"wb"} default "wb" (ram), "uc" (mmio)
 *       ],
 *       "devices": [                            default [], at most 4
 *         {"type": "console", "gpa": ADDR,      required
 *          "size": SIZE}                        default 4K
 *       ],
 *       "channels": [                           memberships, default [], at most 16
 *         {"name": STR, "gpa": ADDR,            required; name of a top-level channel
 *          "perm": "r" | "rw"}                  required
 *       ],
 *       "cpuid": {                              optional
 *         "max_basic_leaf": INT,                default 0 (the host's)
 *         "max_ext_leaf": INT,                  default 0 (the host's)
 *         "rules": [                            default [], at most 16
 *           {"leaf": INT,                       required
 *            "subleaf": INT | "any",            default "any"
 *            "and": {"eax"|"ebx"|"ecx"|"edx": INT}, default all ones
 *            "or":  {"eax"|"ebx"|"ecx"|"edx": INT}} default 0
 *         ]
 *       },
 *       "msrs": [                               default [] (every MSR denied), at most 48
 *         {"msr": INT | MSR_NAME,               required, e.g. "0xc0000103" or "TSC_AUX"
 *          "mode": "deny"|"pass-r"|"pass-rw"|"emulated", required
 *          "init": INT, "writable": INT}        emulated only; default 0
 *       ]
 *     }
 *   ]
 * }
 *
 * INT, ADDR and SIZE: a JSON integer below 2^53, or a string holding a
 * decimal or 0x-prefixed hexadecimal number with an optional binary suffix
 * K, M, G or T (case-insensitive): "4096", "0x1000", "4K", "2M", "0x10M".
 * Negative, fractional and overflowing values are errors, as are values
 * beyond the field's width (32-bit fields: leaf, masks, msr, vcpus).
 * PERM: letters from "rwx", each at most once, '-' allowed as a placeholder
 * ("rw-"). MSR_NAME: one of the names of hv/msr.h without the HV_MSR_
 * prefix (TSC, APIC_BASE, EFER, PAT, FS_BASE, TSC_AUX, ...), any case.
 *
 * Everything the production structs can represent (overlaps, alignment,
 * empty or duplicate names, protected passthrough MSRs, ...) is checked by
 * hv_config_validate, so one set of rules covers JSON and firmware configs.
 * Errors read "FILE: JSON.PATH: reason", e.g.
 * "two.json: partitions[1].regions[3].gpa: expected an integer ...". */
#ifndef HX_CONFIG_JSON_H
#define HX_CONFIG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/config.h"

enum hx_config_status {
	HX_CONFIG_OK = 0,
	HX_CONFIG_IO,      /* the file could not be read */
	HX_CONFIG_SYNTAX,  /* not well-formed JSON */
	HX_CONFIG_SCHEMA,  /* well-formed JSON that does not fit the schema */
	HX_CONFIG_INVALID, /* rejected by hv_config_validate */
};

/* Longest file size accepted. */
#define HX_CONFIG_MAX_BYTES (16u << 20)

struct hx_config_error {
	enum hx_config_status status;
	struct hv_config_diag diag; /* set for HX_CONFIG_INVALID */
	char msg[1024];             /* "FILE: PATH: reason"; "" when OK */
};

/* Read, parse and validate a config file. cfg is overwritten (it is large:
 * allocate it on the heap). err may be NULL. */
enum hx_config_status hx_config_load(const char *path, struct hv_system_config *cfg,
                                     struct hx_config_error *err);

/* The same for text in memory; `name` stands for the file in messages. The
 * text need not be NUL-terminated. */
enum hx_config_status hx_config_parse(const char *name, const char *text, size_t len,
                                      struct hv_system_config *cfg, struct hx_config_error *err);

/* hx_config_parse without hv_config_validate: for tests and fuzzers that
 * want to feed the validator configs it would reject. */
enum hx_config_status hx_config_parse_unchecked(const char *name, const char *text, size_t len,
                                                struct hv_system_config *cfg,
                                                struct hx_config_error *err);

/* The JSON name of a vendor ("intel", "amd"); "unknown" for any other value. */
const char *hx_config_vendor_name(uint32_t vendor);

/* "ok", "io", "syntax", "schema", "invalid". */
const char *hx_config_status_str(enum hx_config_status s);

/* Parse INT/ADDR/SIZE text as described above. On failure returns false
 * and *why says why (a static string). */
bool hx_parse_u64(const char *text, uint64_t *out, const char **why);

/* The JSON path of the object a diag names, e.g. "partitions[1].regions[3].hpa"
 * (the field when one is clear). Returns buf. */
const char *hx_config_diag_path(const struct hv_config_diag *diag, char *buf, size_t len);

#endif
