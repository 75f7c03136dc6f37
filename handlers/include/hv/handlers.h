/* Per-family exit handlers, called only by the dispatcher (exit.c). Each
 * fills res; the dispatcher advances RIP for HV_ACT_RESUME by res->insn_len. */
#ifndef HV_HANDLERS_H
#define HV_HANDLERS_H

#include "hv/exit.h"
#include "hv/system.h"

void hv_handle_cpuid(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_rdmsr(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_wrmsr(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_vmcall(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_ept_violation(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_io(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);
void hv_handle_cr_write(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);

/* Result helpers shared by handlers. */
void hv_result_resume(struct hv_result *res, uint32_t insn_len);
void hv_result_inject(struct hv_result *res, uint8_t vector, bool has_error, uint32_t error);
void hv_result_halt(struct hv_result *res, uint32_t reason);

#endif
