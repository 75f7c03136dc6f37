/* The outcome of translating a platform exit (a VMCB or a VMCS exit area)
 * into an hv_exit, and the verdict of writing the result back: shared by
 * both vendors' layers (hv/svm.h, hv/vmx.h). */
#ifndef HV_XLAT_H
#define HV_XLAT_H

/* Why an exit could not be translated. The hv_exit is then given reason
 * HV_EXIT_COUNT, which hv_handle_exit refuses (HV_HALT_BAD_EXIT): an exit
 * the core cannot read is never resumed. */
enum hv_xlat {
	HV_XLAT_OK = 0,
	HV_XLAT_UNKNOWN_EXIT, /* an exit code the core does not intercept */
	HV_XLAT_BAD_INFO,     /* EXITINFO the manual does not allow */
	HV_XLAT_NO_LENGTH,    /* the instruction length cannot be determined */
	HV_XLAT_BAD_STATE,    /* CPL above 3 */
	HV_XLAT_COUNT
};

const char *hv_xlat_str(enum hv_xlat x);

/* What the platform's loop does next. */
enum hv_verdict {
	HV_VERDICT_RUN = 0, /* VMRUN / VMRESUME again */
	HV_VERDICT_STOP,    /* the partition halted: never run this vCPU again */
};

#endif
