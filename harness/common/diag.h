/* Readable diagnostics for the two kinds of verdict on a system: a config
 * rejected by hv_config_validate and an isolation-invariant violation found
 * by hv_ept_verify (or any oracle reporting a struct hv_violation). Both
 * name partitions and channels by index and by their configured name. */
#ifndef HX_DIAG_H
#define HX_DIAG_H

#include <stddef.h>

#include "hv/config.h"
#include "hv/verify.h"

/* e.g. 'partition 1 "p1" region 3 (ram gpa 0x0-0x7fffff -> hpa
 * 0x800000-0xffffff, rwx wb): region HPA range overlaps host memory owned by
 * someone else; conflicts with partition 0 "p0" region 0 (...)'.
 * cfg may be NULL (then objects are named by index only). Always
 * NUL-terminates buf (len > 0) and returns buf. */
const char *hx_format_config_diag(const struct hv_system_config *cfg,
                                  const struct hv_config_diag *diag, char *buf, size_t len);

/* e.g. 'EPT-OWN: partition 0 "p0" gpa 0x200000 -> hpa 0x1000: leaf maps
 * hypervisor-reserved memory (entry 0x1007)'. cfg may be NULL. Returns buf. */
const char *hx_format_violation(const struct hv_system_config *cfg, const struct hv_violation *v,
                                char *buf, size_t len);

/* Names used by the formatters and the config tools. */
const char *hx_memtype_name(uint8_t memtype);   /* "wb", ...; NULL if invalid */
const char *hx_page_size_name(uint8_t level);   /* "4K", "2M", "1G"; "?" */
void hx_perm_string(uint8_t perm, char out[4]); /* "rw-"; unknown bits as '?' */

#endif
