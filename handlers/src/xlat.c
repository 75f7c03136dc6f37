/* Names of the exit-translation outcomes (hv/xlat.h). In a file of its own
 * so a one-vendor image links only its own vendor's layer. */
#include "hv/xlat.h"
#include "hv/types.h"

static const char *const xlat_names[] = {
        [HV_XLAT_OK] = "ok",
        [HV_XLAT_UNKNOWN_EXIT] = "exit code not intercepted by the core",
        [HV_XLAT_BAD_INFO] = "exit information the manual does not allow",
        [HV_XLAT_NO_LENGTH] = "instruction length unknown",
        [HV_XLAT_BAD_STATE] = "CPL above 3",
};
_Static_assert(HV_ARRAY_LEN(xlat_names) == HV_XLAT_COUNT, "every status has a name");

const char *hv_xlat_str(enum hv_xlat x)
{
	return (unsigned)x < HV_XLAT_COUNT ? xlat_names[x] : "unknown";
}
