/* Control-register writes (hv/cr.h). */
#include "hv/cr.h"

#include "hv/exit.h"
#include "hv/handlers.h"
#include "hv/system.h"

static enum hv_cr_verdict say(const char **why, const char *rule, enum hv_cr_verdict v)
{
	*why = rule;
	return v;
}

enum hv_cr_verdict hv_cr_check(uint32_t cr, uint64_t old, uint64_t v, uint64_t efer, uint64_t cr3,
                               const char **why)
{
	bool lma = efer & HV_EFER_LMA;
	if (cr == 0) {
		/* MOV to CR0 (SDM Vol. 2B): #GP for bits 63:32, PG without PE,
		 * NW without CD; clearing PG in 64-bit mode is #GP too (Vol.
		 * 3A, 10.8.5.4: long mode is left from compatibility mode). */
		if (v & ~HV_CR0_DEFINED)
			return say(why, "a reserved CR0 bit", HV_CR_FAULT);
		if ((v & HV_CR0_PG) && !(v & HV_CR0_PE))
			return say(why, "CR0.PG without CR0.PE", HV_CR_FAULT);
		if ((v & HV_CR0_NW) && !(v & HV_CR0_CD))
			return say(why, "CR0.NW without CR0.CD", HV_CR_FAULT);
		if (lma && !(v & HV_CR0_PG))
			return say(why, "clearing CR0.PG in long mode", HV_CR_FAULT);
		if (!(v & HV_CR0_PE) || !(v & HV_CR0_PG))
			return say(why, "leaving protected mode or paging", HV_CR_DENIED);
		if (!(v & HV_CR0_WP))
			return say(why, "clearing CR0.WP", HV_CR_DENIED);
		(void)old;
		return say(why, "", HV_CR_ALLOW);
	}
	if (cr == 4) {
		/* MOV to CR4: #GP for reserved bits, for clearing PAE or
		 * changing LA57 in long mode, for PCIDE with CR3[11:0] != 0
		 * (SDM Vol. 2B, "MOV--Move to/from Control Registers"). */
		if (v & ~HV_CR4_DEFINED)
			return say(why, "a reserved CR4 bit", HV_CR_FAULT);
		if (lma && !(v & HV_CR4_PAE))
			return say(why, "clearing CR4.PAE in long mode", HV_CR_FAULT);
		if (lma && ((v ^ old) & HV_CR4_LA57))
			return say(why, "changing CR4.LA57 in long mode", HV_CR_FAULT);
		if ((v & HV_CR4_PCIDE) && !(old & HV_CR4_PCIDE) && (cr3 & 0xfff))
			return say(why, "setting CR4.PCIDE with CR3[11:0] not zero", HV_CR_FAULT);
		if (!(v & HV_CR4_PAE))
			return say(why, "clearing CR4.PAE", HV_CR_DENIED);
		if (v & HV_CR4_VMXE)
			return say(why, "setting CR4.VMXE (no nested VMX)", HV_CR_DENIED);
		if (v & HV_CR4_SMXE)
			return say(why, "setting CR4.SMXE (no SMX)", HV_CR_DENIED);
		if (v & ~HV_CR4_ALLOWED)
			return say(why, "a CR4 bit the partition may not set", HV_CR_DENIED);
		return say(why, "", HV_CR_ALLOW);
	}
	return say(why, "a control register the core does not take writes of", HV_CR_DENIED);
}

void hv_handle_cr_write(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	const struct hv_partition_config *p = &sys->cfg->partitions[exit->partition];
	uint64_t q = exit->qual;
	uint32_t cr = (uint32_t)(q & HV_QUAL_CR_NUM_MASK);
	uint64_t type = q & HV_QUAL_CR_TYPE_MASK;
	uint64_t old = cr == 0 ? exit->st.cr0 : exit->st.cr4;
	uint64_t v;
	/* CLTS and LMSW write CR0 only; LMSW sets PE but never clears it, and
	 * loads MP, EM, TS only besides (SDM Vol. 2B, "LMSW"). */
	if (type == HV_QUAL_CR_MOV && (cr == 0 || cr == 4)) {
		v = exit->st.gpr[(q >> HV_QUAL_CR_GPR_SHIFT) & 0xf];
	} else if (type == HV_QUAL_CR_CLTS && cr == 0) {
		v = old & ~HV_CR0_TS;
	} else if (type == HV_QUAL_CR_LMSW && cr == 0 && !(q & HV_QUAL_CR_LMSW_MEM)) {
		uint64_t src = (q >> HV_QUAL_CR_LMSW_SHIFT) & 0xffff;
		v = (old & ~(HV_CR0_MP | HV_CR0_EM | HV_CR0_TS)) | (src & 0xe) |
		    ((old | src) & HV_CR0_PE);
	} else {
		/* Not a CR write the core emulates (a read, another CR, LMSW
		 * from memory, whose operand the record does not carry): a
		 * malformed record. */
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	if (exit->insn_len == 0) {
		hv_result_halt(res, HV_HALT_BAD_EXIT);
		return;
	}
	const char *why;
	switch (hv_cr_check(cr, old, v, exit->st.efer, exit->st.cr3, &why)) {
	case HV_CR_ALLOW:
		if (cr == 0)
			exit->st.cr0 = v;
		else
			exit->st.cr4 = v;
		hv_result_resume(res, exit->insn_len);
		break;
	case HV_CR_FAULT:
		hv_result_inject(res, HV_VEC_GP, true, 0);
		break;
	default:
		if (p->contain == HV_CONTAIN_INJECT_GP)
			hv_result_inject(res, HV_VEC_GP, true, 0);
		else
			hv_result_halt(res, HV_HALT_VIOLATION);
		break;
	}
}
