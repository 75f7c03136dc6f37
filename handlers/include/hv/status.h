/* Status codes returned by every fallible function of the core. */
#ifndef HV_STATUS_H
#define HV_STATUS_H

#include "hv/types.h"

typedef enum hv_status {
	HV_OK = 0,
	HV_ERR_INVAL,       /* malformed argument */
	HV_ERR_NOMEM,       /* page pool exhausted */
	HV_ERR_RANGE,       /* address or size out of range / wraps */
	HV_ERR_ALIGN,       /* misaligned address or size */
	HV_ERR_OVERLAP,     /* ranges overlap */
	HV_ERR_PERM,        /* permission denied */
	HV_ERR_NOTFOUND,    /* no such object */
	HV_ERR_FAULT,       /* guest memory not accessible */
	HV_ERR_UNSUPPORTED, /* recognised but not supported */
	HV_ERR_LIMIT,       /* a fixed table limit was exceeded */
	HV_ERR_PLATFORM,    /* a platform op failed */
	HV_STATUS_COUNT
} hv_status;

/* Stable lower-case name, e.g. "nomem"; "unknown" for out-of-range values. */
const char *hv_status_str(hv_status s);

#endif
