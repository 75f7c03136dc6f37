/* Guest-physical accesses through the partition's EPT. Every page is
 * translated with hv_ept_translate and must carry the needed permission;
 * the whole range is checked before the first byte moves, so a refused
 * access has no effect. Copies go through the platform ops one page piece
 * at a time (they never cross a page boundary, hv/platform.h). */
#include "hv/guest_mem.h"

#include "hv/ept.h"

/* [gpa, gpa+len) may not wrap around the 64-bit address space. */
static bool span_ok(uint64_t gpa, uint64_t len)
{
	return len == 0 || gpa + (len - 1) >= gpa;
}

static hv_status part_root(const struct hv_system *sys, uint32_t part, uint64_t *root)
{
	if (!sys || !sys->cfg || !sys->pool || !sys->ops || part >= sys->cfg->npartitions ||
	    part >= HV_MAX_PARTITIONS)
		return HV_ERR_INVAL;
	*root = sys->parts[part].ept_root;
	return HV_OK;
}

/* The leaf mapping gpa, when it grants `need`: *hpa for gpa and *room, the
 * bytes from gpa to the end of that leaf. */
static hv_status piece(const struct hv_system *sys, uint64_t root, uint64_t gpa, uint8_t need,
                       uint64_t *hpa, uint64_t *room)
{
	struct hv_ept_map map;
	hv_status s = hv_ept_translate(sys->pool, root, gpa, &map);
	if (s != HV_OK)
		return s;
	if (!map.present || (map.perm & need) != need)
		return HV_ERR_FAULT;
	uint64_t leaf = map.level == HV_PG_1G   ? HV_SIZE_1G
	                : map.level == HV_PG_2M ? HV_SIZE_2M
	                                        : HV_PAGE_SIZE;
	*hpa = map.hpa;
	*room = map.page_gpa + leaf - gpa;
	return HV_OK;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Bytes from gpa to the end of its page, at most left. */
static uint64_t piece_len(uint64_t gpa, uint64_t left)
{
	return min_u64(HV_PAGE_SIZE - (gpa & (HV_PAGE_SIZE - 1)), left);
}

/* One translation per leaf touched, so checking a range inside a 1 GiB
 * leaf costs one walk; at most one per 4 KiB page plus one. */
static hv_status check(const struct hv_system *sys, uint64_t root, uint64_t gpa, uint64_t len,
                       uint8_t need)
{
	uint64_t left = len;
	for (uint64_t n = 0; left > 0 && n <= (len >> HV_PAGE_SHIFT) + 1; n++) {
		uint64_t hpa, room;
		hv_status s = piece(sys, root, gpa, need, &hpa, &room);
		if (s != HV_OK)
			return s;
		uint64_t step = min_u64(room, left);
		gpa += step;
		left -= step;
	}
	return HV_OK;
}

hv_status hv_guest_check(struct hv_system *sys, uint32_t part, uint64_t gpa, uint64_t len,
                         uint8_t need)
{
	uint64_t root;
	hv_status s = part_root(sys, part, &root);
	if (s != HV_OK)
		return s;
	if ((need & ~HV_PERM_RWX) != 0)
		return HV_ERR_INVAL;
	if (!span_ok(gpa, len))
		return HV_ERR_RANGE;
	return check(sys, root, gpa, len, need);
}

/* Move len bytes between host-physical hpa (contiguous: one EPT leaf) and
 * dst (read) or src (write), in pieces that never cross a 4 KiB page
 * (hv/platform.h). gpa only places the page boundaries. */
static hv_status move_in_leaf(struct hv_system *sys, uint64_t gpa, uint64_t hpa, uint8_t *dst,
                              const uint8_t *src, uint32_t len)
{
	uint64_t left = len;
	for (uint64_t n = 0; left > 0 && n <= ((uint64_t)len >> HV_PAGE_SHIFT) + 1; n++) {
		uint32_t step = (uint32_t)piece_len(gpa, left);
		int rc = src ? sys->ops->phys_write(sys->ops_ctx, hpa, src, step)
		             : sys->ops->phys_read(sys->ops_ctx, hpa, dst, step);
		if (rc != 0)
			return HV_ERR_PLATFORM;
		if (src)
			src += step;
		else
			dst += step;
		gpa += step;
		hpa += step;
		left -= step;
	}
	return HV_OK;
}

/* Check the whole range, then copy page piece by page piece: into dst
 * (read) or from src (write). */
static hv_status copy(struct hv_system *sys, uint32_t part, uint64_t gpa, uint8_t *dst,
                      const uint8_t *src, uint32_t len)
{
	uint64_t root;
	hv_status s = part_root(sys, part, &root);
	if (s != HV_OK)
		return s;
	uint8_t need = src ? HV_PERM_W : HV_PERM_R;
	if (len > 0 && !dst && !src)
		return HV_ERR_INVAL;
	if (!span_ok(gpa, len))
		return HV_ERR_RANGE;
	if (len == 0)
		return HV_OK;
	/* Almost every access (a guest page-table entry, an instruction, a
	 * hypercall buffer) lies inside one EPT leaf: then the one translation
	 * that checks it also places it, and the range is checked in full
	 * before the first byte moves, as below. */
	uint64_t hpa0, room0;
	s = piece(sys, root, gpa, need, &hpa0, &room0);
	if (s != HV_OK)
		return s;
	if (room0 >= len)
		return move_in_leaf(sys, gpa, hpa0, dst, src, len);
	s = check(sys, root, gpa, len, need);
	if (s != HV_OK)
		return s;
	/* Leaf by leaf, each moved in page pieces like the single-leaf case. */
	uint64_t left = len;
	for (uint64_t n = 0; left > 0 && n <= ((uint64_t)len >> HV_PAGE_SHIFT) + 1; n++) {
		uint64_t hpa, room;
		s = piece(sys, root, gpa, need, &hpa, &room);
		if (s != HV_OK)
			return s;
		uint32_t step = (uint32_t)min_u64(room, left);
		s = move_in_leaf(sys, gpa, hpa, dst, src, step);
		if (s != HV_OK)
			return s;
		if (src)
			src += step;
		else
			dst += step;
		gpa += step;
		left -= step;
	}
	return HV_OK;
}

hv_status hv_guest_read(struct hv_system *sys, uint32_t part, uint64_t gpa, void *dst, uint32_t len)
{
	return copy(sys, part, gpa, dst, NULL, len);
}

hv_status hv_guest_write(struct hv_system *sys, uint32_t part, uint64_t gpa, const void *src,
                         uint32_t len)
{
	return copy(sys, part, gpa, NULL, src, len);
}
