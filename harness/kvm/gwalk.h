/* The runner's own guest page-table walk (IA-32e 4-level paging, Intel SDM
 * Vol. 3A, 4.5), independent of the core's walker: used to find guest
 * instruction bytes and the GPA of ucall structs and faulting fetches.
 * Only presence is checked (the runner reads, it does not emulate). */
#ifndef HXK_GWALK_H
#define HXK_GWALK_H

#include <stdbool.h>
#include <stdint.h>

/* Read guest-physical memory the partition can read; false if it cannot. */
typedef bool (*hxk_gpa_read_fn)(void *ctx, uint64_t gpa, void *dst, uint32_t len);

struct hxk_paging {
	uint64_t cr0, cr3, cr4, efer;
};

/* Linear -> guest-physical. false when not present, non-canonical, a table
 * is unreadable, or the paging mode is not supported (LA57, 32-bit PAE). */
bool hxk_gva_to_gpa(hxk_gpa_read_fn rd, void *ctx, const struct hxk_paging *pg, uint64_t gva,
                    uint64_t *gpa);

/* Copy len bytes at linear address gva (may cross pages); returns the
 * number of bytes copied before the first failure. */
uint32_t hxk_read_linear(hxk_gpa_read_fn rd, void *ctx, const struct hxk_paging *pg, uint64_t gva,
                         uint8_t *buf, uint32_t len);

#endif
