/* The emulated console device through every MOV form the decoder accepts
 * (DECODE-EQ, RIP), kvm-one.json with the device at hx_console_link
 * (0x40000000) and on_violation inject-gp. Values round-trip through
 * SCRATCH (stores: 88, 89, C6, C7 in sizes 1/2/4/8; loads: 8A, 8B, MOVZX,
 * MOVSX), with AH-style high-byte registers, REX registers r8-r15, SIB,
 * disp8/disp32, base r12/r13, no-base SIB and RIP-relative addressing,
 * and a DS prefix. DATA prints to the console, DOORBELL counts in RINGS,
 * STATUS names the partition. Forms the decoder does not emulate (ALU on
 * memory, MOVSXD, XCHG, FS override, 32-bit addressing) are contained
 * with #GP and change nothing. The runner compares each decode with KVM's
 * own emulation of the same access. */
#include "hx/guest.h"
#include "hv/device.h"

extern char hx_console_link[];

#define S_VAL 0x0123456789ab80f1ull /* low byte, word and dword negative */
#define PRESET 0xa5a5a5a5a5a5a5a5ull
#define DISP32 0x1000000ull

/* One access; the base register holds dev - adj. */
#define LOAD(name, base, adj, dst, text)                                                           \
	static uint64_t name(uint64_t dev, uint64_t preset)                                        \
	{                                                                                          \
		register uint64_t d_ __asm__(dst) = preset;                                        \
		register uint64_t b_ __asm__(base) = dev - (adj);                                  \
		__asm__ volatile(text : "+r"(d_) : "r"(b_) : "memory");                            \
		return d_;                                                                         \
	}
#define STORE(name, base, adj, src, text)                                                          \
	static void name(uint64_t dev, uint64_t val)                                               \
	{                                                                                          \
		register uint64_t s_ __asm__(src) = val;                                           \
		register uint64_t b_ __asm__(base) = dev - (adj);                                  \
		__asm__ volatile(text ::"r"(s_), "r"(b_) : "memory");                              \
	}

/* ---- stores to SCRATCH ---- */
STORE(st_88_al, "rdi", 0, "rax", "movb %%al, 0x20(%%rdi)")
STORE(st_88_ah, "rdi", 0, "rax", "movb %%ah, 0x20(%%rdi)")
STORE(st_88_r9b_r12, "r12", 0, "r9", "movb %%r9b, 0x20(%%r12)")
STORE(st_88_sil, "rdi", 0, "rsi", "movb %%sil, 0x20(%%rdi)")
STORE(st_89_dx, "rdi", 0, "rdx", "movw %%dx, 0x20(%%rdi)")
STORE(st_89_r10d_r13, "r13", 0, "r10", "movl %%r10d, 0x20(%%r13)")
STORE(st_89_r15, "rdi", 0, "r15", "movq %%r15, 0x20(%%rdi)")
STORE(st_89_rbx_disp32, "rdi", DISP32, "rbx", "movq %%rbx, 0x1000020(%%rdi)")
STORE(st_89_rip, "rdi", 0, "rax", "movq %%rax, hx_console_link+0x20(%%rip)")
STORE(st_89_ds, "rdi", 0, "rax", ".byte 0x3e\n\tmovq %%rax, 0x20(%%rdi)")
STORE(st_c6, "rdi", 0, "rax", "movb $0x5a, 0x20(%%rdi)")
STORE(st_c7_16, "rdi", 0, "rax", "movw $0x1234, 0x20(%%rdi)")
STORE(st_c7_32, "rdi", 0, "rax", "movl $0x89abcdef, 0x20(%%rdi)")
STORE(st_c7_64, "rdi", 0, "rax", "movq $-2, 0x20(%%rdi)")
STORE(st_c7_64_r12, "r12", 0, "rax", "movq $0x7fffffff, 0x20(%%r12)")

/* SIB with index, and SIB without base. */
static void st_89_sib(uint64_t dev, uint64_t val)
{
	__asm__ volatile("movl %%eax, 0x10(%%rdi,%%rsi,2)" ::"a"(val), "D"(dev), "S"(8ull)
	                 : "memory");
}
static void st_89_nobase(uint64_t dev, uint64_t val)
{
	__asm__ volatile("movq %%rcx, 0x20(,%%rdx,1)" ::"c"(val), "d"(dev) : "memory");
}
static void st_88_sib8(uint64_t dev, uint64_t val)
{
	__asm__ volatile("movb %%sil, (%%rdi,%%rcx,8)" ::"S"(val), "D"(dev), "c"(4ull) : "memory");
}

/* ---- loads from SCRATCH ---- */
LOAD(ld_8a_al, "rdi", 0, "rax", "movb 0x20(%%rdi), %%al")
LOAD(ld_8a_ah, "rdi", 0, "rax", "movb 0x20(%%rdi), %%ah")
LOAD(ld_8a_r11b, "rdi", 0, "r11", "movb 0x20(%%rdi), %%r11b")
LOAD(ld_8a_dil, "rsi", 0, "rdi", "movb 0x20(%%rsi), %%dil")
LOAD(ld_8b_dx, "rdi", 0, "rdx", "movw 0x20(%%rdi), %%dx")
LOAD(ld_8b_r14d, "rdi", 0, "r14", "movl 0x20(%%rdi), %%r14d")
LOAD(ld_8b_r8, "rdi", 0, "r8", "movq 0x20(%%rdi), %%r8")
LOAD(ld_8b_r12base, "r12", 0, "rax", "movq 0x20(%%r12), %%rax")
LOAD(ld_8b_r13disp32, "r13", DISP32, "r9", "movq 0x1000020(%%r13), %%r9")
LOAD(ld_8b_rip, "rdi", 0, "rax", "movq hx_console_link+0x20(%%rip), %%rax")
LOAD(ld_8b_ds, "rdi", 0, "rax", ".byte 0x3e\n\tmovq 0x20(%%rdi), %%rax")
LOAD(ld_b6_32, "rdi", 0, "rax", "movzbl 0x20(%%rdi), %%eax")
LOAD(ld_b6_64, "rdi", 0, "r10", "movzbq 0x20(%%rdi), %%r10")
LOAD(ld_b6_16, "rdi", 0, "rdx", "movzbw 0x20(%%rdi), %%dx")
LOAD(ld_b7_32, "rdi", 0, "rcx", "movzwl 0x20(%%rdi), %%ecx")
LOAD(ld_b7_64, "rdi", 0, "r12", "movzwq 0x20(%%rdi), %%r12")
LOAD(ld_be_32, "rdi", 0, "rax", "movsbl 0x20(%%rdi), %%eax")
LOAD(ld_be_64, "rdi", 0, "rbx", "movsbq 0x20(%%rdi), %%rbx")
LOAD(ld_be_16, "rdi", 0, "rdx", "movsbw 0x20(%%rdi), %%dx")
LOAD(ld_bf_32, "rdi", 0, "rsi", "movswl 0x20(%%rdi), %%esi")
LOAD(ld_bf_64, "rdi", 0, "r15", "movswq 0x20(%%rdi), %%r15")

static uint64_t ld_8b_sib(uint64_t dev, uint64_t preset)
{
	uint64_t d = preset;
	__asm__ volatile("movq (%%rdi,%%rcx,8), %0" : "+b"(d) : "D"(dev), "c"(4ull) : "memory");
	return d;
}

#define B(v) ((v)&0xffull)
#define W(v) ((v)&0xffffull)
#define D(v) ((v)&0xffffffffull)
#define SX8(v) ((uint64_t)(int64_t)(int8_t)(v))
#define SX16(v) ((uint64_t)(int64_t)(int16_t)(v))
#define VAL 0x1122334455667788ull

static const struct store_case {
	const char *name;
	void (*fn)(uint64_t, uint64_t);
	uint64_t val;
	uint64_t expect;
} stores[] = {
        {"88 al disp8", st_88_al, VAL, (PRESET & ~0xffull) | B(VAL)},
        {"88 ah", st_88_ah, VAL, (PRESET & ~0xffull) | B(VAL >> 8)},
        {"88 r9b [r12+d8]", st_88_r9b_r12, VAL, (PRESET & ~0xffull) | B(VAL)},
        {"88 sil (REX)", st_88_sil, VAL, (PRESET & ~0xffull) | B(VAL)},
        {"88 sil SIB*8", st_88_sib8, VAL, (PRESET & ~0xffull) | B(VAL)},
        {"66 89 dx", st_89_dx, VAL, (PRESET & ~0xffffull) | W(VAL)},
        {"89 r10d [r13+d8]", st_89_r10d_r13, VAL, (PRESET & ~0xffffffffull) | D(VAL)},
        {"89 eax SIB*2", st_89_sib, VAL, (PRESET & ~0xffffffffull) | D(VAL)},
        {"4c 89 r15", st_89_r15, VAL, VAL},
        {"48 89 rbx disp32", st_89_rbx_disp32, VAL, VAL},
        {"48 89 rax rip-relative", st_89_rip, VAL, VAL},
        {"48 89 rcx SIB no base", st_89_nobase, VAL, VAL},
        {"3e 48 89 (DS prefix)", st_89_ds, VAL, VAL},
        {"c6 imm8", st_c6, 0, (PRESET & ~0xffull) | 0x5a},
        {"66 c7 imm16", st_c7_16, 0, (PRESET & ~0xffffull) | 0x1234},
        {"c7 imm32", st_c7_32, 0, (PRESET & ~0xffffffffull) | 0x89abcdef},
        {"48 c7 imm32 sign-extended", st_c7_64, 0, 0xfffffffffffffffeull},
        {"49 c7 [r12] imm32", st_c7_64_r12, 0, 0x7fffffffull},
};

static const struct load_case {
	const char *name;
	uint64_t (*fn)(uint64_t, uint64_t);
	uint64_t expect;
} loads[] = {
        {"8a al", ld_8a_al, (PRESET & ~0xffull) | B(S_VAL)},
        {"8a ah", ld_8a_ah, (PRESET & ~0xff00ull) | B(S_VAL) << 8},
        {"44 8a r11b", ld_8a_r11b, (PRESET & ~0xffull) | B(S_VAL)},
        {"40 8a dil", ld_8a_dil, (PRESET & ~0xffull) | B(S_VAL)},
        {"66 8b dx", ld_8b_dx, (PRESET & ~0xffffull) | W(S_VAL)},
        {"44 8b r14d zero-extends", ld_8b_r14d, D(S_VAL)},
        {"4c 8b r8", ld_8b_r8, S_VAL},
        {"49 8b [r12]", ld_8b_r12base, S_VAL},
        {"4d 8b [r13+d32]", ld_8b_r13disp32, S_VAL},
        {"48 8b rip-relative", ld_8b_rip, S_VAL},
        {"48 8b SIB*8", ld_8b_sib, S_VAL},
        {"3e 48 8b (DS prefix)", ld_8b_ds, S_VAL},
        {"0f b6 movzx r32,m8", ld_b6_32, B(S_VAL)},
        {"4c 0f b6 movzx r64,m8", ld_b6_64, B(S_VAL)},
        {"66 0f b6 movzx r16,m8", ld_b6_16, (PRESET & ~0xffffull) | B(S_VAL)},
        {"0f b7 movzx r32,m16", ld_b7_32, W(S_VAL)},
        {"4c 0f b7 movzx r64,m16", ld_b7_64, W(S_VAL)},
        {"0f be movsx r32,m8", ld_be_32, D(SX8(S_VAL))},
        {"48 0f be movsx r64,m8", ld_be_64, SX8(S_VAL)},
        {"66 0f be movsx r16,m8", ld_be_16, (PRESET & ~0xffffull) | W(SX8(S_VAL))},
        {"0f bf movsx r32,m16", ld_bf_32, D(SX16(S_VAL))},
        {"4c 0f bf movsx r64,m16", ld_bf_64, SX16(S_VAL)},
};

/* ---- forms that must be contained ---- */
static uint64_t bad_add(uint64_t dev)
{
	__asm__ volatile("addl $1, 0x20(%0)" ::"r"(dev) : "memory");
	return 0;
}
static uint64_t bad_movsxd(uint64_t dev)
{
	uint64_t v = 0;
	__asm__ volatile("movslq 0x20(%1), %0" : "+r"(v) : "r"(dev) : "memory");
	return v;
}
static uint64_t bad_xchg(uint64_t dev)
{
	uint64_t v = 1;
	__asm__ volatile("xchgq %0, 0x20(%1)" : "+r"(v) : "r"(dev) : "memory");
	return v;
}
static uint64_t bad_fs(uint64_t dev)
{
	uint64_t v = 0;
	__asm__ volatile("movq %%fs:0x20(%1), %0" : "+r"(v) : "r"(dev) : "memory");
	return v;
}
static uint64_t bad_addr32(uint64_t dev)
{
	uint32_t v = 0;
	__asm__ volatile("movl 0x20(%%edi), %0" : "+r"(v) : "D"(dev) : "memory");
	return v;
}
static uint64_t bad_store_fs(uint64_t dev)
{
	__asm__ volatile("movq %0, %%fs:0x20(%0)" ::"r"(dev) : "memory");
	return 0;
}

static const struct {
	const char *name;
	uint64_t (*fn)(uint64_t);
} contained[] = {
        {"add imm to memory", bad_add},
        {"movsxd", bad_movsxd},
        {"xchg", bad_xchg},
        {"fs override load", bad_fs},
        {"fs override store", bad_store_fs},
        {"67 address-size", bad_addr32},
};

/* ---- plain accessors for the register tests ---- */
static void scratch_set(uint64_t dev, uint64_t v)
{
	st_89_r15(dev, v);
}
static uint64_t scratch_get(uint64_t dev)
{
	return ld_8b_r8(dev, 0);
}
static uint32_t rd32(uint64_t addr)
{
	uint32_t v;
	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}
static void wr8(uint64_t addr, uint8_t v)
{
	__asm__ volatile("movb %0, (%1)" ::"q"(v), "r"(addr) : "memory");
}
static void wr32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" ::"r"(v), "r"(addr) : "memory");
}
static void wr_imm8(uint64_t addr)
{
	__asm__ volatile("movb $0x0a, (%0)" ::"r"(addr) : "memory");
}

void guest_main(void)
{
	const struct hx_boot_range *d = hx_find_range(HX_RANGE_DEVICE, 0);
	uint64_t dev = (uint64_t)hx_console_link;
	static const char hello[] = "mmio: hello through MOV";

	GUEST_ASSERT(d != NULL, "no console device in the boot info");
	GUEST_ASSERT_EQ(d->gpa, dev, "device not at the linked GPA: fix the config or guest.ld");

	/* STATUS: ready, and our partition index. */
	{
		uint32_t st = rd32(dev + HV_CONSOLE_STATUS);
		GUEST_ASSERT(st & 1, "STATUS %#x not ready", st);
		GUEST_ASSERT_EQ(st >> 16, hx_partition(), "STATUS id");
	}
	/* SCRATCH full width both ways first: every other case relies on it. */
	scratch_set(dev, S_VAL);
	GUEST_ASSERT_EQ(scratch_get(dev), S_VAL, "64-bit round trip");
	GUEST_SYNC(1);

	for (unsigned i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
		scratch_set(dev, PRESET);
		stores[i].fn(dev, stores[i].val);
		GUEST_ASSERT_EQ(scratch_get(dev), stores[i].expect, "store %s", stores[i].name);
	}
	GUEST_SYNC(2);
	for (unsigned i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		scratch_set(dev, S_VAL);
		GUEST_ASSERT_EQ(loads[i].fn(dev, PRESET), loads[i].expect, "load %s",
		                loads[i].name);
	}
	GUEST_SYNC(3);

	/* Register semantics. */
	{
		uint32_t rings = rd32(dev + HV_CONSOLE_RINGS), st = rd32(dev + HV_CONSOLE_STATUS);
		wr8(dev + HV_CONSOLE_DOORBELL, 1);
		wr32(dev + HV_CONSOLE_DOORBELL, 2);
		scratch_set(dev - 0x10, 3); /* a 64-bit store to DOORBELL */
		GUEST_ASSERT_EQ(rd32(dev + HV_CONSOLE_RINGS), rings + 3, "doorbell count");
		GUEST_ASSERT_EQ(rd32(dev + HV_CONSOLE_DATA), 0, "DATA is write-only");
		wr32(dev + HV_CONSOLE_STATUS, 0);
		GUEST_ASSERT_EQ(rd32(dev + HV_CONSOLE_STATUS), st, "STATUS is read-only");
		scratch_set(dev, S_VAL);
		GUEST_ASSERT_EQ(rd32(dev + 0x800), 0, "unknown offset reads 0");
		wr32(dev + 0x800, 0xffffffff);
		GUEST_ASSERT_EQ(rd32(dev + HV_CONSOLE_SCRATCH + 1), 0, "inside SCRATCH is unknown");
		wr8(dev + HV_CONSOLE_SCRATCH + 1, 0);
		GUEST_ASSERT_EQ(scratch_get(dev), S_VAL, "ignored writes changed SCRATCH");
	}
	/* DATA: one byte per store, through the register and immediate forms. */
	for (const char *p = hello; *p; p++)
		wr8(dev + HV_CONSOLE_DATA, (uint8_t)*p);
	wr_imm8(dev + HV_CONSOLE_DATA);
	GUEST_SYNC(4);

	for (unsigned i = 0; i < sizeof(contained) / sizeof(contained[0]); i++) {
		scratch_set(dev, S_VAL);
		GUEST_ASSERT_EQ(hx_try(contained[i].fn, dev, NULL), HX_VEC_GP, "%s",
		                contained[i].name);
		GUEST_ASSERT_EQ(scratch_get(dev), S_VAL, "%s changed SCRATCH", contained[i].name);
	}
	GUEST_DONE();
}
