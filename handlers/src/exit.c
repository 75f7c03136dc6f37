/* The single entry for exits: validate the record, dispatch through one
 * table, advance RIP in exactly one place. */
#include "hv/exit.h"

#include "hv/handlers.h"
#include "hv/system.h"

typedef void (*hv_exit_fn)(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res);

/* Every reason has an entry; reasons this hypervisor does not emulate point
 * at exit_unhandled, which contains them. */
struct hv_exit_entry {
	const char *name;
	hv_exit_fn fn;
};

static void exit_hlt(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	/* No interrupts are ever delivered to partitions of this hypervisor, so
	 * a HLT can never be woken: the partition is done. */
	(void)sys;
	(void)exit;
	hv_result_halt(res, HV_HALT_HLT);
}

static void exit_triple_fault(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	(void)sys;
	(void)exit;
	hv_result_halt(res, HV_HALT_TRIPLE_FAULT);
}

/* Exits this hypervisor does not emulate. XSETBV and an intercepted
 * exception from a partition are contained by its violation policy (as
 * port I/O outside the partition's devices is, io.c); a failed VM entry
 * can only halt. */
static void exit_unhandled(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	const struct hv_partition_config *p = &sys->cfg->partitions[exit->partition];
	if (exit->reason != HV_EXIT_INVALID_STATE && p->contain == HV_CONTAIN_INJECT_GP)
		hv_result_inject(res, HV_VEC_GP, true, 0);
	else
		hv_result_halt(res, HV_HALT_UNHANDLED);
}

static const struct hv_exit_entry exit_table[] = {
        [HV_EXIT_CPUID] = {"cpuid", hv_handle_cpuid},
        [HV_EXIT_RDMSR] = {"rdmsr", hv_handle_rdmsr},
        [HV_EXIT_WRMSR] = {"wrmsr", hv_handle_wrmsr},
        [HV_EXIT_VMCALL] = {"vmcall", hv_handle_vmcall},
        [HV_EXIT_EPT_VIOLATION] = {"ept-violation", hv_handle_ept_violation},
        [HV_EXIT_HLT] = {"hlt", exit_hlt},
        [HV_EXIT_IO] = {"io", hv_handle_io},
        [HV_EXIT_TRIPLE_FAULT] = {"triple-fault", exit_triple_fault},
        [HV_EXIT_XSETBV] = {"xsetbv", exit_unhandled},
        [HV_EXIT_INVALID_STATE] = {"invalid-state", exit_unhandled},
        [HV_EXIT_EXCEPTION] = {"exception", exit_unhandled},
        [HV_EXIT_CR_WRITE] = {"cr-write", hv_handle_cr_write},
};
_Static_assert(HV_ARRAY_LEN(exit_table) == HV_EXIT_COUNT, "every exit reason has an entry");

static const char *const action_names[] = {
        [HV_ACT_RESUME] = "resume",
        [HV_ACT_RETRY] = "retry",
        [HV_ACT_INJECT] = "inject",
        [HV_ACT_HALT] = "halt",
};
_Static_assert(HV_ARRAY_LEN(action_names) == HV_ACT_COUNT, "every action has a name");

static const char *const halt_names[] = {
        [HV_HALT_NONE] = "none",
        [HV_HALT_SHUTDOWN] = "shutdown",
        [HV_HALT_HLT] = "hlt",
        [HV_HALT_TRIPLE_FAULT] = "triple-fault",
        [HV_HALT_VIOLATION] = "violation",
        [HV_HALT_UNHANDLED] = "unhandled-exit",
        [HV_HALT_BAD_EXIT] = "bad-exit-record",
        [HV_HALT_CALL_RETURN] = "call-return",
        [HV_HALT_CALL_FAULT] = "call-fault",
};
_Static_assert(HV_ARRAY_LEN(halt_names) == HV_HALT_COUNT, "every halt reason has a name");

const char *hv_exit_reason_str(uint32_t reason)
{
	return reason < HV_EXIT_COUNT ? exit_table[reason].name : "unknown";
}

const char *hv_action_str(uint32_t action)
{
	return action < HV_ACT_COUNT ? action_names[action] : "unknown";
}

const char *hv_halt_reason_str(uint32_t reason)
{
	return reason < HV_HALT_COUNT ? halt_names[reason] : "unknown";
}

void hv_result_resume(struct hv_result *res, uint32_t insn_len)
{
	res->action = HV_ACT_RESUME;
	res->insn_len = insn_len;
}

void hv_result_inject(struct hv_result *res, uint8_t vector, bool has_error, uint32_t error)
{
	res->action = HV_ACT_INJECT;
	res->vector = vector;
	res->has_error_code = has_error;
	res->error_code = has_error ? error : 0;
}

void hv_result_halt(struct hv_result *res, uint32_t reason)
{
	res->action = HV_ACT_HALT;
	res->halt_reason = reason;
}

void hv_handle_exit(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	hv_memset(res, 0, sizeof(*res));
	if (exit->partition >= sys->cfg->npartitions) {
		/* No partition to halt: refuse the record without touching state. */
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	struct hv_partition *part = &sys->parts[exit->partition];
	if (part->halted != HV_HALT_NONE) {
		hv_result_halt(res, part->halted);
		return;
	}
	/* An instruction is at most 15 bytes (SDM Vol. 2A, 2.3.11). */
	if (exit->reason >= HV_EXIT_COUNT ||
	    exit->vcpu >= sys->cfg->partitions[exit->partition].nvcpus || exit->insn_len > 15 ||
	    exit->st.cpl > 3) {
		hv_result_halt(res, HV_HALT_BAD_EXIT);
	} else {
		exit_table[exit->reason].fn(sys, exit, res);
	}

	switch (res->action) {
	case HV_ACT_RESUME:
		/* The one place RIP moves. */
		exit->st.rip += res->insn_len;
		break;
	case HV_ACT_HALT:
		part->halted = res->halt_reason;
		break;
	default:
		break;
	}
}
