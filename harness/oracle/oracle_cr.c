/* CR-GUARD: a partition's control-register writes keep it in the mode the
 * core runs it in and out of the host's features. Written from the Intel
 * SDM (Vol. 3A, 2.5 and Figure 2-7; Vol. 2A "CLTS"; Vol. 2B "LMSW" and
 * "MOV--Move to/from Control Registers"; Vol. 3C, Table 28-3) and the
 * policy in handlers/docs/cr.md, not from handlers/src/cr.c: the bit
 * lists and the value an instruction loads are this file's own.
 *
 * After a CR write exit:
 *  - the value is the one the instruction loads (MOV: the GPR; CLTS: TS
 *    cleared; LMSW: MP, EM, TS from the source, PE set if either has it);
 *  - resumed only when the value is legal (no reserved bit, NW only with
 *    CD, PG only with PE, PG and PAE kept and LA57 unchanged in long mode,
 *    PCIDE set only with CR3[11:0] zero) and the policy allows it (PE, PG,
 *    WP, PAE set; only the allowed CR4 bits), with the new value in
 *    exactly that CR and nothing else changed;
 *  - otherwise refused: #GP for an illegal value, #GP or a halt for one the
 *    policy forbids; a record that is no CR write the core takes (a read,
 *    another CR, LMSW from memory, no instruction length) is halted. */
#include <stdio.h>

#include "oracle_internal.h"

struct bit {
	uint32_t n;
	const char *name;
};

/* CR0 bits a processor defines (Figure 2-7); everything else is reserved. */
static const struct bit cr0_defined[] = {{0, "PE"},  {1, "MP"},  {2, "EM"},  {3, "TS"},
                                         {4, "ET"},  {5, "NE"},  {16, "WP"}, {18, "AM"},
                                         {29, "NW"}, {30, "CD"}, {31, "PG"}};
/* CR4 bits a processor defines; bit 15 and bits 25 and up are reserved. */
static const struct bit cr4_defined[] = {
        {0, "VME"},         {1, "PVI"},    {2, "TSD"},      {3, "DE"},    {4, "PSE"},
        {5, "PAE"},         {6, "MCE"},    {7, "PGE"},      {8, "PCE"},   {9, "OSFXSR"},
        {10, "OSXMMEXCPT"}, {11, "UMIP"},  {12, "LA57"},    {13, "VMXE"}, {14, "SMXE"},
        {16, "FSGSBASE"},   {17, "PCIDE"}, {18, "OSXSAVE"}, {19, "KL"},   {20, "SMEP"},
        {21, "SMAP"},       {22, "PKE"},   {23, "CET"},     {24, "PKS"}};
/* The policy's CR4: what a partition may hold. */
static const struct bit cr4_allowed[] = {
        {0, "VME"},         {1, "PVI"},   {2, "TSD"},       {3, "DE"},     {4, "PSE"},
        {5, "PAE"},         {6, "MCE"},   {7, "PGE"},       {8, "PCE"},    {9, "OSFXSR"},
        {10, "OSXMMEXCPT"}, {11, "UMIP"}, {16, "FSGSBASE"}, {17, "PCIDE"}, {18, "OSXSAVE"},
        {20, "SMEP"},       {21, "SMAP"}};

static uint64_t mask_of(const struct bit *b, size_t n)
{
	uint64_t m = 0;
	for (size_t i = 0; i < n; i++)
		m |= 1ull << b[i].n;
	return m;
}

#define BIT(n) (1ull << (n))

/* "" when v is a legal value for the CR (the architecture), else why. */
static const char *illegal(uint32_t cr, uint64_t old, uint64_t v, const struct hv_vcpu_state *st)
{
	bool long_mode = st->efer & BIT(10); /* EFER.LMA */
	if (cr == 0) {
		if (v & ~mask_of(cr0_defined, HV_ARRAY_LEN(cr0_defined)))
			return "sets a reserved CR0 bit";
		if ((v & BIT(31)) && !(v & BIT(0)))
			return "sets PG without PE";
		if ((v & BIT(29)) && !(v & BIT(30)))
			return "sets NW without CD";
		if (long_mode && !(v & BIT(31)))
			return "clears PG in long mode";
		return "";
	}
	if (v & ~mask_of(cr4_defined, HV_ARRAY_LEN(cr4_defined)))
		return "sets a reserved CR4 bit";
	if (long_mode && !(v & BIT(5)))
		return "clears PAE in long mode";
	if (long_mode && ((old ^ v) & BIT(12)))
		return "changes LA57 in long mode";
	if ((v & BIT(17)) && !(old & BIT(17)) && (st->cr3 & 0xfff))
		return "sets PCIDE with CR3[11:0] not zero";
	return "";
}

/* "" when the policy lets a partition hold v, else why. */
static const char *forbidden(uint32_t cr, uint64_t v)
{
	if (cr == 0) {
		if (!(v & BIT(0)) || !(v & BIT(31)))
			return "leaves protected mode or paging";
		if (!(v & BIT(16)))
			return "clears WP";
		return "";
	}
	if (!(v & BIT(5)))
		return "clears PAE";
	if (v & ~mask_of(cr4_allowed, HV_ARRAY_LEN(cr4_allowed)))
		return "sets a CR4 bit the policy keeps clear (VMXE, SMXE, LA57, KL, PKE, CET, "
		       "PKS)";
	return "";
}

void oracle_check_cr(struct hx_oracle *o, const struct hv_exit *out, const struct hv_result *res)
{
	const struct hv_exit *in = &o->in;
	oracle_count(o);
	uint64_t q = in->qual;
	uint32_t cr = (uint32_t)(q & 0xf), type = (uint32_t)(q >> 4) & 3;
	bool lmsw_mem = q & BIT(6);
	/* The write the core takes: MOV to CR0 or CR4, CLTS, LMSW r16. */
	bool takes = ((type == 0 && (cr == 0 || cr == 4)) || (type == 2 && cr == 0) ||
	              (type == 3 && cr == 0 && !lmsw_mem)) &&
	             in->insn_len != 0;
	if (!takes) {
		if (res->action != HV_ACT_HALT)
			oracle_report(o, HV_INV_CR_GUARD,
			              "a control-register record the core does not take (CR%u, "
			              "access type %u%s) was not halted: action %s",
			              cr, type, lmsw_mem ? ", memory operand" : "",
			              hv_action_str(res->action));
		return;
	}
	uint64_t old = cr == 0 ? in->st.cr0 : in->st.cr4, v;
	if (type == 0) {
		v = in->st.gpr[(q >> 8) & 0xf];
	} else if (type == 2) {
		v = old & ~BIT(3);
	} else {
		uint64_t src = (q >> 16) & 0xffff;
		v = (old & ~(BIT(1) | BIT(2) | BIT(3))) | (src & (BIT(1) | BIT(2) | BIT(3))) |
		    ((old | src) & BIT(0));
	}
	const char *bad = illegal(cr, old, v, &in->st);
	const char *no = bad[0] ? "" : forbidden(cr, v);
	const char *insn = type == 0   ? "MOV to CR"
	                   : type == 2 ? "CLTS writing CR"
	                               : "LMSW writing CR";
	if (res->action == HV_ACT_RESUME) {
		if (bad[0] || no[0]) {
			oracle_report(o, HV_INV_CR_GUARD, "%s%u of 0x%llx (it %s) was resumed",
			              insn, cr, (unsigned long long)v, bad[0] ? bad : no);
			return;
		}
		uint64_t now = cr == 0 ? out->st.cr0 : out->st.cr4;
		uint64_t other_in = cr == 0 ? in->st.cr4 : in->st.cr0;
		uint64_t other_out = cr == 0 ? out->st.cr4 : out->st.cr0;
		if (now != v)
			oracle_report(o, HV_INV_CR_GUARD,
			              "%s%u: the instruction loads 0x%llx, the resumed state has "
			              "0x%llx",
			              insn, cr, (unsigned long long)v, (unsigned long long)now);
		if (other_in != other_out)
			oracle_report(o, HV_INV_CR_GUARD,
			              "%s%u also changed CR%u: 0x%llx -> 0x%llx", insn, cr,
			              cr == 0 ? 4 : 0, (unsigned long long)other_in,
			              (unsigned long long)other_out);
		return;
	}
	if (bad[0]) {
		if (res->action != HV_ACT_INJECT || res->vector != HV_VEC_GP)
			oracle_report(o, HV_INV_CR_GUARD,
			              "%s%u of 0x%llx %s, which is #GP, but the action was %s",
			              insn, cr, (unsigned long long)v, bad,
			              hv_action_str(res->action));
		return;
	}
	if (!no[0])
		oracle_report(o, HV_INV_CR_GUARD,
		              "%s%u of 0x%llx is legal and allowed, but was refused (%s)", insn, cr,
		              (unsigned long long)v, hv_action_str(res->action));
	else if (res->action == HV_ACT_INJECT && res->vector != HV_VEC_GP)
		oracle_report(o, HV_INV_CR_GUARD, "%s%u refused with vector %u, not #GP", insn, cr,
		              res->vector);
}
