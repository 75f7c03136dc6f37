/* EPT violations (Intel SDM Vol. 3C, 29.3.3.2; NPF on AMD). The only ones
 * that are emulated are data reads and writes to a partition's own emulated
 * devices, whose GPA ranges are never mapped. For those the faulting
 * instruction is fetched at the guest's RIP through its page tables,
 * decoded, and checked against the exit before the device sees anything:
 *   - the instruction's direction matches the qualification (read/write);
 *   - its effective address translates to exit->gpa (and equals exit->gla
 *     when the qualification says the GLA is valid), and an access that
 *     crosses a linear page still ends at exit->gpa + size - 1;
 *   - the whole access lies inside the device (never across its end).
 * Anything else -- a fetch, an unmapped GPA, a permission violation on a
 * mapped page, code that cannot be fetched or decoded, an access that
 * disagrees with the exit, a vCPU not in IA-32e mode (the decoder knows
 * 64-bit code only; the exit record carries no CS, so compatibility mode is
 * not told apart) -- is contained by the partition's policy. This handler
 * never maps anything and never touches the EPT.
 *
 * exit->insn_len is not used: the VM-exit instruction-length field is
 * undefined for EPT violations (SDM Vol. 3C, "Information for VM Exits Due
 * to Instruction Execution"). */
#include "hv/decode.h"
#include "hv/device.h"
#include "hv/gpt.h"
#include "hv/handlers.h"

#define CR0_PG (1ull << 31)
#define EFER_LMA (1ull << 10)
#define QUAL_RW (HV_QUAL_READ | HV_QUAL_WRITE)
#define QUAL_PERMS (7ull << HV_QUAL_PERM_SHIFT)

static void contain(const struct hv_partition_config *pc, struct hv_result *res)
{
	if (pc->contain == HV_CONTAIN_INJECT_GP)
		hv_result_inject(res, HV_VEC_GP, true, 0);
	else
		hv_result_halt(res, HV_HALT_VIOLATION);
}

static bool find_device(const struct hv_partition_config *pc, uint64_t gpa, uint32_t *dev)
{
	for (uint32_t i = 0; i < pc->ndevices && i < HV_MAX_DEVICES; i++) {
		if (hv_range_inside(gpa, 1, pc->devices[i].gpa, pc->devices[i].size)) {
			*dev = i;
			return true;
		}
	}
	return false;
}

static bool is_store(const struct hv_insn *in)
{
	return in->kind == HV_INSN_STORE_REG || in->kind == HV_INSN_STORE_IMM;
}

/* The access [la, la+size) translates to [gpa, gpa+size): the first byte
 * to gpa, and the last byte, if on another linear page, to gpa+size-1. */
static bool access_maps_to(struct hv_system *sys, uint32_t part, const struct hv_vcpu_state *st,
                           uint64_t la, uint8_t size, uint8_t access, uint64_t gpa)
{
	uint64_t got;
	if (hv_gpt_translate(sys, part, st, la, access, &got) != HV_GPT_OK || got != gpa)
		return false;
	uint64_t last = la + size - 1;
	if (((last ^ la) & HV_PAGE_MASK) == 0)
		return true;
	return hv_gpt_translate(sys, part, st, last, access, &got) == HV_GPT_OK &&
	       got == gpa + size - 1;
}

/* Decode and check the access; on success fill *insn and *dev. */
static bool decode_access(struct hv_system *sys, const struct hv_exit *exit, bool is_write,
                          uint32_t dev, struct hv_insn *insn)
{
	const struct hv_partition_config *pc = &sys->cfg->partitions[exit->partition];
	const struct hv_device_config *dc = &pc->devices[dev];
	const struct hv_vcpu_state *st = &exit->st;
	uint8_t bytes[15];
	enum hv_gpt_fault fault;

	if (!(st->cr0 & CR0_PG) || !(st->efer & EFER_LMA))
		return false;
	uint32_t n = hv_gpt_fetch(sys, exit->partition, st, st->rip, bytes, sizeof(bytes), &fault);
	/* A fetch that stopped early is fine if the instruction ended before
	 * the fault; the decoder says TRUNCATED otherwise. */
	if (hv_decode(bytes, n, insn) != HV_DEC_OK)
		return false;
	if (is_store(insn) != is_write)
		return false;
	uint64_t la = hv_insn_address(insn, st->gpr, st->rip);
	if ((exit->qual & HV_QUAL_GLA_VALID) && exit->gla != la)
		return false;
	if (!hv_range_inside(exit->gpa, insn->mem_size, dc->gpa, dc->size))
		return false;
	return access_maps_to(sys, exit->partition, st, la, insn->mem_size,
	                      is_write ? HV_PERM_W : HV_PERM_R, exit->gpa);
}

void hv_handle_ept_violation(struct hv_system *sys, struct hv_exit *exit, struct hv_result *res)
{
	const struct hv_partition_config *pc = &sys->cfg->partitions[exit->partition];
	uint64_t q = exit->qual;
	uint32_t dev;
	struct hv_insn insn;

	/* Exactly one of data read / data write, no fetch, and a GPA that the
	 * EPT does not map at all (permission bits 5:3 clear). */
	bool plain = (q & HV_QUAL_FETCH) == 0 && (q & QUAL_PERMS) == 0 &&
	             ((q & QUAL_RW) == HV_QUAL_READ || (q & QUAL_RW) == HV_QUAL_WRITE);
	bool is_write = (q & HV_QUAL_WRITE) != 0;
	if (!plain || !find_device(pc, exit->gpa, &dev) ||
	    !decode_access(sys, exit, is_write, dev, &insn)) {
		contain(pc, res);
		return;
	}

	uint64_t value = is_write ? hv_insn_store_value(&insn, exit->st.gpr) : 0;
	hv_device_access(sys, exit->partition, dev, exit->gpa - pc->devices[dev].gpa, insn.mem_size,
	                 is_write, &value);
	if (!is_write)
		hv_insn_load_apply(&insn, exit->st.gpr, value);

	res->has_mmio = 1;
	res->mmio.gpa = exit->gpa;
	res->mmio.data = value;
	res->mmio.size = insn.mem_size;
	res->mmio.is_write = is_write;
	/* The GPR read or written: AH..BH live in RAX..RBX. */
	res->mmio.reg = insn.kind == HV_INSN_STORE_IMM ? 0xff
	                : insn.high_byte               ? (uint8_t)(insn.reg - 4)
	                                               : insn.reg;
	res->mmio.insn_len = insn.len;
	hv_result_resume(res, insn.len);
}
