#include "hv/status.h"

static const char *const status_names[] = {
        [HV_OK] = "ok",
        [HV_ERR_INVAL] = "invalid argument",
        [HV_ERR_NOMEM] = "page pool exhausted",
        [HV_ERR_RANGE] = "address out of range",
        [HV_ERR_ALIGN] = "misaligned",
        [HV_ERR_OVERLAP] = "overlap",
        [HV_ERR_PERM] = "permission denied",
        [HV_ERR_NOTFOUND] = "not found",
        [HV_ERR_FAULT] = "guest memory fault",
        [HV_ERR_UNSUPPORTED] = "unsupported",
        [HV_ERR_LIMIT] = "limit exceeded",
        [HV_ERR_PLATFORM] = "platform operation failed",
};
_Static_assert(HV_ARRAY_LEN(status_names) == HV_STATUS_COUNT, "every status has a name");

const char *hv_status_str(hv_status s)
{
	if ((unsigned)s >= HV_STATUS_COUNT || !status_names[s])
		return "unknown";
	return status_names[s];
}
