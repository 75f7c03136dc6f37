/* Test-only negative control (`hx run --break-ept foreign`): after the
 * production core has built every EPT, rewrite one leaf of partition 0 so
 * it maps partition 1's RAM. The entry is edited in the pool's memory by
 * this harness file; nothing in handlers/ is involved. The memslots built
 * from the broken EPT then really expose the foreign memory, a canary
 * scanning guest must report it (HX_UCALL_FOUND) and hv_ept_verify must
 * name EPT-OWN: both prove the detectors work. */
#include <stdio.h>

#include "hv/ept.h"
#include "hv/s2_leaf.h"
#include "runner_int.h"

static const struct hv_region *first_ram(const struct hv_partition_config *pc)
{
	for (uint32_t i = 0; i < pc->nregions; i++)
		if (pc->regions[i].type == HV_REGION_RAM)
			return &pc->regions[i];
	return NULL;
}

int hxk_break_ept_foreign(struct hxk_runner *R, struct hxk_err *err)
{
	const struct hv_system_config *cfg = R->cfg;
	if (cfg->npartitions < 2)
		return hxk_fail(err, "--break-ept foreign needs a config with two partitions");
	const struct hv_region *mine = first_ram(&cfg->partitions[0]);
	const struct hv_region *theirs = first_ram(&cfg->partitions[1]);
	if (!mine || !theirs)
		return hxk_fail(err, "--break-ept foreign needs RAM in partitions 0 and 1");
	/* The last page of partition 0's first RAM region: far from the image,
	 * the boot structures and the stacks at its start. */
	uint64_t gpa = mine->gpa + mine->size - HV_PAGE_SIZE;
	uint64_t size;
	unsigned level;
	uint64_t *leaf = hv_s2_leaf_of(R->sys->pool, R->sys->parts[0].ept_root, gpa, &level, &size);
	if (!leaf)
		return hxk_fail(err, "--break-ept foreign: GPA 0x%llx of partition 0 is not mapped",
		                (unsigned long long)gpa);
	uint64_t target = (theirs->hpa + size - 1) & ~(size - 1);
	if (target < theirs->hpa || target + size > theirs->hpa + theirs->size)
		return hxk_fail(err,
		                "--break-ept foreign: partition 1's RAM has no %llu KiB block "
		                "aligned like partition 0's leaf at GPA 0x%llx",
		                (unsigned long long)(size >> 10), (unsigned long long)gpa);
	/* Only the address changes: permissions, memory type and (NPT) the PAT
	 * bit of a large leaf stay as built. */
	*leaf = (*leaf & ~hv_s2_leaf_addr(*leaf, level)) | target;
	fprintf(R->out,
	        "hx run: --break-ept foreign (test-only): partition 0 \"%s\" GPA 0x%llx-0x%llx now "
	        "maps HPA 0x%llx, partition 1 \"%s\"'s RAM\n",
	        cfg->partitions[0].name, (unsigned long long)(gpa & ~(size - 1)),
	        (unsigned long long)((gpa & ~(size - 1)) + size - 1), (unsigned long long)target,
	        cfg->partitions[1].name);
	return 0;
}
