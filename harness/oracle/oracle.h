/* Oracles: after every exit, check the isolation invariants of DESIGN.md
 * ("Isolation invariants") that apply to it, from the system state, the
 * exit record before and after hv_handle_exit, the result and the
 * observer log. Used by the KVM runner, replay, fuzzers and tests.
 *
 *   struct hx_oracle *o = hx_oracle_new(sys, report_fn, ctx);
 *   for each exit i:
 *       hx_observer_begin_exit(obs);
 *       hx_oracle_before(o, sys, &exit);       // the exit record
 *       hv_handle_exit(sys, &exit, &res);
 *       hx_oracle_after(o, sys, i, &exit, &res, &view);   // view of obs->log
 *   hx_oracle_verify_all(o, sys, i);           // full EPT check at the end
 *   hx_oracle_free(o);
 *
 * What an exit must not change is not copied before it: the oracle keeps
 * a picture of the partitions' state and of the pool pages in use, made at
 * hx_oracle_new and brought up to date after each exit, and compares the
 * system with it (one memcmp each, whatever the pool size). A caller that
 * changes the system between exits says so with hx_oracle_sync (or
 * hx_oracle_reset); otherwise the change is reported against the next exit.
 *
 * Checked per exit (ids as in hv/verify.h / hv_invariant_id):
 *  CONTAIN      memory written only inside the caller's own writable RAM or
 *               RW channel windows (none at all for CPUID/MSR/EPT-violation/
 *               other exits); other partitions' struct hv_partition and the
 *               channel mailboxes unchanged (except the mailbox of the channel
 *               a successful send/recv used); of the caller only the exiting
 *               vCPU's state; GPRs only those the exit type may change
 *               (CPUID RAX/RBX/RCX/RDX, RDMSR RAX/RDX, WRMSR none, VMCALL
 *               RAX/RDI, EPT violation the decoded load register) and only
 *               on RESUME; RFLAGS/CR0/CR3/CR4/EFER/CPL and the record's
 *               other fields never; console bytes only from a console
 *               hypercall or console device, tagged with the caller.
 *  RIP          RESUME: rip_out == rip_in + res.insn_len, and insn_len is the
 *               instruction's length: exit->insn_len when the record gives
 *               it (non-zero), else CPUID 2, RDMSR/WRMSR 2, VMCALL/VMMCALL 3;
 *               EPT violation: the decoded length res.mmio.insn_len.
 *               RETRY/INJECT/HALT: rip unchanged.
 *  CPUID-MASK   the oracle's own CPUID spec (spec_cpuid.c, SPEC.md): leaf 1
 *               VMX, SMX, MONITOR clear and the hypervisor bit set,
 *               0x80000001 SVM clear (and SKINIT, MONITORX in range), leaves
 *               5 and 0x8000000A zero in range; 0x40000000 highest leaf and
 *               signature, 0x40000001 = (partition, vCPU, count, 0); upper
 *               halves of RAX..RDX zero, and the same (partition, vCPU, leaf,
 *               subleaf, host answers) gives the same answer within a run
 *               (bounded cache).
 *  MSR-GUARD    from the oracle's own MSR spec (spec_msr.c, SPEC.md), never
 *               the handlers' tables: no host WRMSR in any exit of an MSR the
 *               spec does not classify as safe to write (unknown = unsafe),
 *               no host RDMSR of one whose value reveals host state (or
 *               unknown); a DENY or unknown MSR (and a write to a PASS_R
 *               one) gets #GP, no host access to it and no register change;
 *               a successful RDMSR of a non-passthrough MSR does not return
 *               a value a host RDMSR gave during that exit; a granted write
 *               of a spec linear-address MSR is canonical (57 bits when the
 *               partition's CPUID shows LA57, else 48; CR4.LA57 plays no
 *               part, handlers/docs/msr.md);
 *               an emulated MSR is never written on the host.
 *  HCALL-BOUNDS a hypercall that failed (status != 0) or got #UD made no
 *               memory write, no console output, no channel or EPT change;
 *               CPL > 0 gets #UD; successful calls wrote only where the ABI
 *               says (PARTITION_INFO: the struct at RDI; CHANNEL_SEND: the
 *               channel's pages; CHANNEL_RECV: [RSI, RSI+RDX) through the
 *               caller's EPT with write permission; others nothing).
 *  EPT-OWN/FORM/EXACT  every exit: the pool pages in use byte for byte
 *               and the used count are unchanged unless a successful
 *               MEM_PROTECT changed them (else HCALL-BOUNDS for hypercalls,
 *               EPT-EXACT for EPT violations, CONTAIN for the rest), and
 *               never a table page reachable from another partition
 *               (CONTAIN); a MEM_PROTECT changed the caller's mapping only
 *               inside its range; after any exit that changed tables, roots
 *               or protected_ flags, hv_ept_verify's verdict on every
 *               partition whose verdict can have moved (oracle_pool.c).
 *  TOTAL        the observer log did not overflow (HX_ORACLE_MAX_OPS_PER_EXIT
 *               platform calls); callers count steps against
 *               HX_ORACLE_STEP_BUDGET.
 *  contracts    (oracle_contract.c) at hx_oracle_new, with exit index
 *               UINT64_MAX: the EPT page pool aligned, inside the hypervisor
 *               range and clear of every region and channel (EPT-OWN); the
 *               config's layout one that passed validation (CONTAIN). Per
 *               exit: the same system and an unmoved pool; a malformed
 *               record not refused is named by its bad field.
 * DET is checked by replay (two runs compared), DECODE-EQ by the KVM runner.
 */
#ifndef HX_ORACLE_H
#define HX_ORACLE_H

#include "hv/exit.h"
#include "hv/system.h"
#include "hv/verify.h"
#include "observer.h"

/* TOTAL: platform calls one exit may make (the observer's bound), and the
 * number of exits one trace / run may take before it counts as runaway. */
#define HX_ORACLE_MAX_OPS_PER_EXIT HX_OBS_MAX_ENTRIES
#define HX_ORACLE_STEP_BUDGET (1u << 20)

/* Names of the general-purpose registers in hv/exit.h order ("rax", "rcx",
 * ... "r15"), for messages and dumps. */
extern const char *const hx_gpr_names[HV_GPR_COUNT];

/* Longest message passed to the report callback (including the NUL). */
#define HX_ORACLE_MSG_MAX 256

/* One violation. msg is valid only during the call. */
typedef void (*hx_oracle_report_fn)(void *ctx, enum hv_invariant inv, uint64_t exit_index,
                                    const char *msg);

struct hx_oracle;

/* Oracle state for the system sys (its config, partition count and pool
 * are captured; sys must stay alive). fn may be NULL (count only). The
 * caller contracts of the system are checked here and reported through fn
 * with exit index UINT64_MAX. Returns NULL when out of memory. */
struct hx_oracle *hx_oracle_new(const struct hv_system *sys, hx_oracle_report_fn fn, void *ctx);
void hx_oracle_free(struct hx_oracle *o);

/* Forget the CPUID answer cache and counters (new run, same system) and
 * take the system as it is now (hx_oracle_sync). */
void hx_oracle_reset(struct hx_oracle *o);

/* hx_oracle_reset for a caller that put the system back (a fuzzer
 * restoring a snapshot between inputs) and left each pool page either as
 * the last exit or hx_oracle_verify_all left it, or as it was at the last
 * hx_oracle_new, reset, reset_restored or sync: only the pages the oracle
 * saw change since then can differ from its picture, and only those are
 * compared (the partitions' state and the channels are compared whole).
 * Still fails closed: a pool page changed all the same differs from the
 * picture, and is reported against the next exit that reaches it or by the
 * next hx_oracle_verify_all. */
void hx_oracle_reset_restored(struct hx_oracle *o);

/* The caller changed the system outside an exit (restored a snapshot,
 * planted a table): take it as it is now. The oracle keeps a picture of
 * the partitions' state and the pool pages in use and compares it after
 * each exit instead of copying before it, so a change not announced here
 * (or by hx_oracle_reset / hx_oracle_verify_all) is reported against the
 * next exit. Reports nothing; partitions whose tables changed are verified
 * again by the next verification. */
void hx_oracle_sync(struct hx_oracle *o, const struct hv_system *sys);

/* Fast mode for fuzzers (off by default): after each exit, compare only
 * the pool pages the core reached for writing during it (hv/pool.h, struct
 * hv_pool_watch: hv_pool_ptr, alloc, release; not hv_pool_ptr_ro) with the
 * picture, not every page in use. The core reaches tables only through the
 * pool's functions; during the exit every pool page it did not reach is
 * poisoned for AddressSanitizer, so an access that does not (a stray
 * pointer) stops the process at that instruction with a CONTAIN report.
 * A page changed though the exit only read it, or a change between exits
 * not announced by hx_oracle_sync, is found by the full compare
 * hx_oracle_verify_all makes first, and reported there as CONTAIN; so a
 * run in this mode must end with hx_oracle_verify_all.
 * Only in ASan builds: elsewhere the oracle keeps the full compare, and
 * hx_oracle_pool_watched says which it does. */
void hx_oracle_watch_pool(struct hx_oracle *o, bool on);
bool hx_oracle_pool_watched(const struct hx_oracle *o);

/* Snapshot what the exit must not change. Call right before
 * hv_handle_exit with the exit record as it will be passed in. */
void hx_oracle_before(struct hx_oracle *o, const struct hv_system *sys, const struct hv_exit *in);

/* Check the exit just handled: out is the record after hv_handle_exit, res
 * its result, log the observer's view of the exit's platform calls.
 * Returns the number of violations reported for this exit. */
uint32_t hx_oracle_after(struct hx_oracle *o, const struct hv_system *sys, uint64_t exit_index,
                         const struct hv_exit *out, const struct hv_result *res,
                         const struct hx_obs_view *log);

/* Full EPT-OWN/FORM/EXACT check of every partition (start and end of runs),
 * after hx_oracle_sync. Partitions already verified clean in their current
 * state are not walked again (the verifier is a function of the tables,
 * roots and flags, and no table is shared): what it reports is what
 * hv_ept_verify over the whole system reports. Returns the number of
 * violations. */
uint32_t hx_oracle_verify_all(struct hx_oracle *o, const struct hv_system *sys,
                              uint64_t exit_index);

/* Counters since creation/reset. */
struct hx_oracle_stats {
	uint64_t exits;      /* hx_oracle_after calls */
	uint64_t checks;     /* individual invariant checks performed */
	uint64_t violations; /* reported violations */
	uint64_t per_inv[HV_INV_COUNT];
};
void hx_oracle_stats(const struct hx_oracle *o, struct hx_oracle_stats *out);

#endif
