/* The guest ABI lives with the hypervisor that serves it: hv/guest_abi.h. */
#include "hv/guest_abi.h"
