/* Basic types for the hypervisor core. Only the compiler's own freestanding
 * headers are used, so this compiles with -ffreestanding -nostdlib. */
#ifndef HV_TYPES_H
#define HV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HV_PAGE_SHIFT 12
#define HV_PAGE_SIZE (1ull << HV_PAGE_SHIFT)
#define HV_PAGE_MASK (~(HV_PAGE_SIZE - 1))
#define HV_SIZE_2M (1ull << 21)
#define HV_SIZE_1G (1ull << 30)

#define HV_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Memory access permissions, the same bit positions as EPT entries
 * (Intel SDM Vol. 3C, 29.3.2: bit 0 read, bit 1 write, bit 2 execute). */
enum hv_perm {
	HV_PERM_R = 1u << 0,
	HV_PERM_W = 1u << 1,
	HV_PERM_X = 1u << 2,
	HV_PERM_RW = HV_PERM_R | HV_PERM_W,
	HV_PERM_RX = HV_PERM_R | HV_PERM_X,
	HV_PERM_RWX = HV_PERM_R | HV_PERM_W | HV_PERM_X,
};

/* EPT memory types (Intel SDM Vol. 3C, 29.3.7 / Table 12-8 encodings). */
enum hv_memtype {
	HV_MT_UC = 0,
	HV_MT_WC = 1,
	HV_MT_WT = 4,
	HV_MT_WP = 5,
	HV_MT_WB = 6,
};

/* Whose virtualization the core runs on: the VM-exit format, the
 * hypercall instruction and the second-stage table format follow it. */
enum hv_vendor {
	HV_VENDOR_INTEL = 0, /* VMX, EPT, VMCALL */
	HV_VENDOR_AMD = 1,   /* SVM, NPT, VMMCALL */
};

/* Small freestanding helpers; the core never calls libc. */
void hv_memcpy(void *dst, const void *src, size_t n);
void hv_memset(void *dst, int c, size_t n);
int hv_memcmp(const void *a, const void *b, size_t n);

/* true when [base, base+size) does not wrap and size > 0 */
static inline bool hv_range_ok(uint64_t base, uint64_t size)
{
	return size != 0 && base + size > base;
}

/* true when [a, a+as) and [b, b+bs) overlap; both ranges must be valid */
static inline bool hv_ranges_overlap(uint64_t a, uint64_t as, uint64_t b, uint64_t bs)
{
	return a < b + bs && b < a + as;
}

/* true when [inner, inner+is) lies inside [outer, outer+os) */
static inline bool hv_range_inside(uint64_t inner, uint64_t is, uint64_t outer, uint64_t os)
{
	return inner >= outer && is <= os && inner - outer <= os - is;
}

#endif
