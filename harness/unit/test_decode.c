/* MMIO instruction decoder: every supported form and size, every addressing
 * mode, the prefix rules, malformed and unsupported encodings, and the
 * register semantics of loads and stores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/decode.h"
#include "hv/exit.h"

#define NONE 0xff
#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})

/* ---- successful decodes ------------------------------------------------ */

struct ok_case {
	const char *name;
	uint8_t bytes[16];
	uint32_t n;
	uint8_t len, kind, mem_size, reg_size, reg, high_byte;
	uint8_t has_sib, rip_relative, base, index, scale;
	int32_t disp;
	uint64_t imm;
};

#define ST HV_INSN_STORE_REG
#define SI HV_INSN_STORE_IMM
#define LD HV_INSN_LOAD
#define ZX HV_INSN_LOAD_ZX
#define SX HV_INSN_LOAD_SX

/* name, bytes, len kind mem reg_size reg high, sib riprel base index scale, disp, imm */
static const struct ok_case ok_cases[] = {
        /* MOV r/m8, r8 (88) and the byte registers */
        {"mov [rax],al", B(0x88, 0x00), 2, ST, 1, 1, 0, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],ah", B(0x88, 0x20), 2, ST, 1, 1, 4, 1, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],ch", B(0x88, 0x28), 2, ST, 1, 1, 5, 1, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],dh", B(0x88, 0x30), 2, ST, 1, 1, 6, 1, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],bh", B(0x88, 0x38), 2, ST, 1, 1, 7, 1, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],bl", B(0x88, 0x18), 2, ST, 1, 1, 3, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],spl", B(0x40, 0x88, 0x20), 3, ST, 1, 1, 4, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],bpl", B(0x40, 0x88, 0x28), 3, ST, 1, 1, 5, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],sil", B(0x40, 0x88, 0x30), 3, ST, 1, 1, 6, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],dil", B(0x40, 0x88, 0x38), 3, ST, 1, 1, 7, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],r8b", B(0x44, 0x88, 0x00), 3, ST, 1, 1, 8, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"mov [rax],r12b", B(0x44, 0x88, 0x20), 3, ST, 1, 1, 12, 0, 0, 0, 0, NONE, 1, 0, 0},
        {"rex.w ignored by 88", B(0x48, 0x88, 0x01), 3, ST, 1, 1, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"66 ignored by 88", B(0x66, 0x88, 0x01), 3, ST, 1, 1, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        /* MOV r/m, r (89): 16/32/64 */
        {"mov [rcx],eax", B(0x89, 0x01), 2, ST, 4, 4, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"mov [rcx],ax", B(0x66, 0x89, 0x01), 3, ST, 2, 2, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"mov [rcx],rax", B(0x48, 0x89, 0x01), 3, ST, 8, 8, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"66 rex.w: rex.w wins", B(0x66, 0x48, 0x89, 0x01), 4, ST, 8, 8, 0, 0, 0, 0, 1, NONE, 1, 0,
         0},
        {"mov [r9],r10", B(0x4d, 0x89, 0x11), 3, ST, 8, 8, 10, 0, 0, 0, 9, NONE, 1, 0, 0},
        {"mov [rdi],esp", B(0x89, 0x27), 2, ST, 4, 4, 4, 0, 0, 0, 7, NONE, 1, 0, 0},
        /* MOV r, r/m (8A/8B) */
        {"mov al,[rdx]", B(0x8a, 0x02), 2, LD, 1, 1, 0, 0, 0, 0, 2, NONE, 1, 0, 0},
        {"mov ch,[rdx]", B(0x8a, 0x2a), 2, LD, 1, 1, 5, 1, 0, 0, 2, NONE, 1, 0, 0},
        {"mov bpl,[rdx]", B(0x40, 0x8a, 0x2a), 3, LD, 1, 1, 5, 0, 0, 0, 2, NONE, 1, 0, 0},
        {"mov r13b,[r11]", B(0x45, 0x8a, 0x2b), 3, LD, 1, 1, 13, 0, 0, 0, 11, NONE, 1, 0, 0},
        {"mov eax,[rdx]", B(0x8b, 0x02), 2, LD, 4, 4, 0, 0, 0, 0, 2, NONE, 1, 0, 0},
        {"mov dx,[rdx]", B(0x66, 0x8b, 0x12), 3, LD, 2, 2, 2, 0, 0, 0, 2, NONE, 1, 0, 0},
        {"mov r15,[r13+0]", B(0x4d, 0x8b, 0x7d, 0x00), 4, LD, 8, 8, 15, 0, 0, 0, 13, NONE, 1, 0, 0},
        /* displacements */
        {"disp8", B(0x89, 0x45, 0x10), 3, ST, 4, 4, 0, 0, 0, 0, 5, NONE, 1, 16, 0},
        {"negative disp8", B(0x89, 0x45, 0xf0), 3, ST, 4, 4, 0, 0, 0, 0, 5, NONE, 1, -16, 0},
        {"disp32", B(0x89, 0x85, 0x78, 0x56, 0x34, 0x12), 6, ST, 4, 4, 0, 0, 0, 0, 5, NONE, 1,
         0x12345678, 0},
        {"negative disp32", B(0x89, 0x85, 0x00, 0x00, 0x00, 0x80), 6, ST, 4, 4, 0, 0, 0, 0, 5, NONE,
         1, INT32_MIN, 0},
        /* RIP-relative (mod 00, rm 101), REX.B does not change it */
        {"rip-relative", B(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), 6, LD, 4, 4, 0, 0, 0, 1, NONE, NONE,
         1, 16, 0},
        {"rip-relative rex.b", B(0x41, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff), 7, LD, 4, 4, 0, 0, 0, 1,
         NONE, NONE, 1, -16, 0},
        /* SIB */
        {"[rax+rcx*4]", B(0x89, 0x04, 0x88), 3, ST, 4, 4, 0, 0, 1, 0, 0, 1, 4, 0, 0},
        {"[rax+rcx*1]", B(0x89, 0x04, 0x08), 3, ST, 4, 4, 0, 0, 1, 0, 0, 1, 1, 0, 0},
        {"[rax+rcx*2]", B(0x89, 0x04, 0x48), 3, ST, 4, 4, 0, 0, 1, 0, 0, 1, 2, 0, 0},
        {"[rax+rcx*8]", B(0x89, 0x04, 0xc8), 3, ST, 4, 4, 0, 0, 1, 0, 0, 1, 8, 0, 0},
        {"[rsp] no index", B(0x89, 0x04, 0x24), 3, ST, 4, 4, 0, 0, 1, 0, 4, NONE, 1, 0, 0},
        {"no index ignores scale", B(0x89, 0x04, 0xe4), 3, ST, 4, 4, 0, 0, 1, 0, 4, NONE, 1, 0, 0},
        {"[rsp+r12] rex.x index", B(0x42, 0x89, 0x04, 0x24), 4, ST, 4, 4, 0, 0, 1, 0, 4, 12, 1, 0,
         0},
        {"[r12] rex.b base", B(0x41, 0x89, 0x04, 0x24), 4, ST, 4, 4, 0, 0, 1, 0, 12, NONE, 1, 0, 0},
        {"[disp32] no base no index", B(0x89, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 7, ST, 4, 4, 0,
         0, 1, 0, NONE, NONE, 1, 0x1000, 0},
        {"[rcx*8+disp32] no base", B(0x89, 0x04, 0xcd, 0x00, 0x10, 0x00, 0x00), 7, ST, 4, 4, 0, 0,
         1, 0, NONE, 1, 8, 0x1000, 0},
        {"no base ignores rex.b", B(0x41, 0x89, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 8, ST, 4, 4, 0,
         0, 1, 0, NONE, NONE, 1, 0x1000, 0},
        {"[rbp+disp8] sib base 101 mod 01", B(0x89, 0x44, 0x25, 0x08), 4, ST, 4, 4, 0, 0, 1, 0, 5,
         NONE, 1, 8, 0},
        {"[r13+r9*2+disp32]", B(0x4b, 0x89, 0x84, 0x4d, 0x44, 0x33, 0x22, 0x11), 8, ST, 8, 8, 0, 0,
         1, 0, 13, 9, 2, 0x11223344, 0},
        /* MOV r/m, imm (C6/C7 /0) */
        {"mov byte [rax],0x7f", B(0xc6, 0x00, 0x7f), 3, SI, 1, 0, NONE, 0, 0, 0, 0, NONE, 1, 0,
         0x7f},
        {"mov byte [rax],0xff", B(0xc6, 0x00, 0xff), 3, SI, 1, 0, NONE, 0, 0, 0, 0, NONE, 1, 0,
         0xff},
        {"mov word [rax],imm16", B(0x66, 0xc7, 0x00, 0x34, 0x12), 5, SI, 2, 0, NONE, 0, 0, 0, 0,
         NONE, 1, 0, 0x1234},
        {"mov word [rax],0x8000", B(0x66, 0xc7, 0x00, 0x00, 0x80), 5, SI, 2, 0, NONE, 0, 0, 0, 0,
         NONE, 1, 0, 0x8000},
        {"mov dword [rax],imm32", B(0xc7, 0x00, 0x78, 0x56, 0x34, 0x12), 6, SI, 4, 0, NONE, 0, 0, 0,
         0, NONE, 1, 0, 0x12345678},
        {"mov dword [rax],0x80000000", B(0xc7, 0x00, 0x00, 0x00, 0x00, 0x80), 6, SI, 4, 0, NONE, 0,
         0, 0, 0, NONE, 1, 0, 0x80000000},
        {"mov qword [rax],-imm32 sign-extends", B(0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80), 7, SI,
         8, 0, NONE, 0, 0, 0, 0, NONE, 1, 0, 0xffffffff80000000ull},
        {"mov qword [rax],+imm32", B(0x48, 0xc7, 0x00, 0xff, 0xff, 0xff, 0x7f), 7, SI, 8, 0, NONE,
         0, 0, 0, 0, NONE, 1, 0, 0x7fffffff},
        {"66 rex.w c7: imm32", B(0x66, 0x48, 0xc7, 0x00, 0x01, 0x00, 0x00, 0x00), 8, SI, 8, 0, NONE,
         0, 0, 0, 0, NONE, 1, 0, 1},
        {"rex.r ignored by c6 /0", B(0x44, 0xc6, 0x00, 0x01), 4, SI, 1, 0, NONE, 0, 0, 0, 0, NONE,
         1, 0, 1},
        {"mov byte [rsp+8],imm8", B(0xc6, 0x44, 0x24, 0x08, 0xaa), 5, SI, 1, 0, NONE, 0, 1, 0, 4,
         NONE, 1, 8, 0xaa},
        {"mov dword [rip+16],imm32", B(0xc7, 0x05, 0x10, 0x00, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12),
         10, SI, 4, 0, NONE, 0, 0, 1, NONE, NONE, 1, 16, 0x12345678},
        /* MOVZX / MOVSX */
        {"movzx eax,byte [rbx]", B(0x0f, 0xb6, 0x03), 3, ZX, 1, 4, 0, 0, 0, 0, 3, NONE, 1, 0, 0},
        {"movzx ax,byte [rbx]", B(0x66, 0x0f, 0xb6, 0x03), 4, ZX, 1, 2, 0, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movzx rax,byte [rbx]", B(0x48, 0x0f, 0xb6, 0x03), 4, ZX, 1, 8, 0, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movzx eax,word [rbx]", B(0x0f, 0xb7, 0x03), 3, ZX, 2, 4, 0, 0, 0, 0, 3, NONE, 1, 0, 0},
        {"movzx rax,word [rbx]", B(0x48, 0x0f, 0xb7, 0x03), 4, ZX, 2, 8, 0, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movzx ax,word [rbx]", B(0x66, 0x0f, 0xb7, 0x03), 4, ZX, 2, 2, 0, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movzx r9d,byte [r10]", B(0x45, 0x0f, 0xb6, 0x0a), 4, ZX, 1, 4, 9, 0, 0, 0, 10, NONE, 1, 0,
         0},
        {"movzx esp,byte [rax]: no high byte", B(0x0f, 0xb6, 0x20), 3, ZX, 1, 4, 4, 0, 0, 0, 0,
         NONE, 1, 0, 0},
        {"movsx eax,byte [rbx]", B(0x0f, 0xbe, 0x03), 3, SX, 1, 4, 0, 0, 0, 0, 3, NONE, 1, 0, 0},
        {"movsx cx,byte [rbx]", B(0x66, 0x0f, 0xbe, 0x0b), 4, SX, 1, 2, 1, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movsx rax,byte [rbx]", B(0x48, 0x0f, 0xbe, 0x03), 4, SX, 1, 8, 0, 0, 0, 0, 3, NONE, 1, 0,
         0},
        {"movsx eax,word [rbx]", B(0x0f, 0xbf, 0x03), 3, SX, 2, 4, 0, 0, 0, 0, 3, NONE, 1, 0, 0},
        {"movsx r8,word [rip+disp]", B(0x4c, 0x0f, 0xbf, 0x05, 0x00, 0x01, 0x00, 0x00), 8, SX, 2, 8,
         8, 0, 0, 1, NONE, NONE, 1, 0x100, 0},
        /* ignored segment overrides */
        {"cs override", B(0x2e, 0x89, 0x01), 3, ST, 4, 4, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"ds override", B(0x3e, 0x89, 0x01), 3, ST, 4, 4, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"es override", B(0x26, 0x89, 0x01), 3, ST, 4, 4, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        {"ss override", B(0x36, 0x89, 0x01), 3, ST, 4, 4, 0, 0, 0, 0, 1, NONE, 1, 0, 0},
        /* REX placement */
        {"rex then 66: rex ignored", B(0x48, 0x66, 0x89, 0x01), 4, ST, 2, 2, 0, 0, 0, 0, 1, NONE, 1,
         0, 0},
        {"rex then ds: high byte again", B(0x40, 0x3e, 0x88, 0x20), 4, ST, 1, 1, 4, 1, 0, 0, 0,
         NONE, 1, 0, 0},
        {"two rex: last counts", B(0x48, 0x41, 0x89, 0x01), 4, ST, 4, 4, 0, 0, 0, 0, 9, NONE, 1, 0,
         0},
        {"rex before 0f", B(0x44, 0x0f, 0xb6, 0x00), 4, ZX, 1, 4, 8, 0, 0, 0, 0, NONE, 1, 0, 0},
        /* 15 bytes exactly */
        {"15 bytes",
         B(0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34,
           0x12),
         15, SI, 8, 0, NONE, 0, 1, 0, 0, 1, 4, 0x11223344, 0x12345678},
        {"trailing bytes ignored", B(0x89, 0x01, 0x90, 0x90, 0x90), 2, ST, 4, 4, 0, 0, 0, 0, 1,
         NONE, 1, 0, 0},
};

/* Decode exactly n bytes from a heap copy so ASan catches any read past n. */
static enum hv_decode_status decode_exact(const uint8_t *bytes, uint32_t n, struct hv_insn *in)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, bytes, n);
	enum hv_decode_status s = hv_decode(copy, n, in);
	free(copy);
	return s;
}

#define EXPECT(name, field, got, want)                                                             \
	do {                                                                                       \
		if ((uint64_t)(got) != (uint64_t)(want))                                           \
			fail_msg("%s: %s is 0x%llx, expected 0x%llx", name, field,                 \
			         (unsigned long long)(got), (unsigned long long)(want));           \
	} while (0)

static void test_decode_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		struct hv_insn in;
		memset(&in, 0xa5, sizeof(in));
		enum hv_decode_status s = decode_exact(c->bytes, c->n, &in);
		EXPECT(c->name, "status", s, HV_DEC_OK);
		EXPECT(c->name, "len", in.len, c->len);
		EXPECT(c->name, "kind", in.kind, c->kind);
		EXPECT(c->name, "mem_size", in.mem_size, c->mem_size);
		EXPECT(c->name, "reg_size", in.reg_size, c->reg_size);
		EXPECT(c->name, "reg", in.reg, c->reg);
		EXPECT(c->name, "high_byte", in.high_byte, c->high_byte);
		EXPECT(c->name, "has_sib", in.has_sib, c->has_sib);
		EXPECT(c->name, "rip_relative", in.rip_relative, c->rip_relative);
		EXPECT(c->name, "base", in.base, c->base);
		EXPECT(c->name, "index", in.index, c->index);
		EXPECT(c->name, "scale", in.scale, c->scale);
		EXPECT(c->name, "disp", (uint32_t)in.disp, (uint32_t)c->disp);
		EXPECT(c->name, "imm", in.imm, c->imm);
	}
}

/* Every proper prefix of a valid instruction is TRUNCATED, and the decoder
 * never reads past the bytes it was given (heap copies under ASan). */
static void test_decode_truncated_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(ok_cases); i++) {
		const struct ok_case *c = &ok_cases[i];
		for (uint32_t k = 0; k < c->len; k++) {
			struct hv_insn in;
			memset(&in, 0xa5, sizeof(in));
			enum hv_decode_status s = decode_exact(c->bytes, k, &in);
			if (s != HV_DEC_TRUNCATED)
				fail_msg("%s cut to %u bytes: %s", c->name, k,
				         hv_decode_status_str(s));
			EXPECT(c->name, "len after failure", in.len, 0);
			EXPECT(c->name, "mem_size after failure", in.mem_size, 0);
		}
	}
}

/* ---- rejected encodings ------------------------------------------------ */

struct bad_case {
	const char *name;
	uint8_t bytes[20];
	uint32_t n;
	enum hv_decode_status want;
};

#define P16                                                                                        \
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,  \
	        0x66

static const struct bad_case bad_cases[] = {
        {"empty", {0}, 0, HV_DEC_TRUNCATED},
        {"prefix only", B(0x66), HV_DEC_TRUNCATED},
        {"rex only", B(0x48), HV_DEC_TRUNCATED},
        {"escape only", B(0x0f), HV_DEC_TRUNCATED},
        {"16 prefixes", B(P16, 0x89, 0x01), HV_DEC_TOO_LONG},
        {"16 prefixes, nothing else given", B(P16), HV_DEC_TOO_LONG},
        {"15 prefixes, 15 bytes given", {P16}, 15, HV_DEC_TOO_LONG},
        {"15 prefixes then opcode",
         B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e,
           0x89, 0x01),
         HV_DEC_TOO_LONG},
        {"modrm is byte 16",
         B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89,
           0x01),
         HV_DEC_TOO_LONG},
        {"imm ends at byte 16",
         B(0x2e, 0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x88, 0x44, 0x33, 0x22, 0x11, 0x78, 0x56, 0x34,
           0x12),
         HV_DEC_TOO_LONG},
        {"disp ends at byte 16",
         B(0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x2e, 0x89, 0x84, 0x88, 0x44, 0x33,
           0x22),
         HV_DEC_TOO_LONG},
        /* register operands: no memory access */
        {"mod 3 mov", B(0x89, 0xc0), HV_DEC_INVALID},
        {"mod 3 mov byte", B(0x8a, 0xc4), HV_DEC_INVALID},
        {"mod 3 mov imm", B(0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00), HV_DEC_INVALID},
        {"mod 3 movzx", B(0x0f, 0xb6, 0xc0), HV_DEC_INVALID},
        {"mod 3 mov imm truncated", B(0xc6, 0xc0), HV_DEC_TRUNCATED},
        {"c6 /1", B(0xc6, 0x08, 0x12), HV_DEC_INVALID},
        {"c7 /7", B(0xc7, 0x38, 0x01, 0x00, 0x00, 0x00), HV_DEC_INVALID},
        {"xabort (c6 f8)", B(0xc6, 0xf8, 0x01), HV_DEC_INVALID},
        /* prefixes */
        {"lock mov", B(0xf0, 0x89, 0x01), HV_DEC_INVALID},
        {"lock movzx", B(0xf0, 0x0f, 0xb6, 0x01), HV_DEC_INVALID},
        {"xrelease mov (f3)", B(0xf3, 0x89, 0x01), HV_DEC_UNSUPPORTED},
        {"xacquire mov (f2)", B(0xf2, 0x89, 0x01), HV_DEC_UNSUPPORTED},
        {"f3 movzx", B(0xf3, 0x0f, 0xb6, 0x01), HV_DEC_UNSUPPORTED},
        {"addr32 (67)", B(0x67, 0x89, 0x01), HV_DEC_UNSUPPORTED},
        {"fs override", B(0x64, 0x89, 0x01), HV_DEC_UNSUPPORTED},
        {"gs override", B(0x65, 0x8b, 0x01), HV_DEC_UNSUPPORTED},
        {"fs then rex", B(0x64, 0x48, 0x8b, 0x01), HV_DEC_UNSUPPORTED},
        /* other opcodes */
        {"add [rax],eax", B(0x01, 0x00), HV_DEC_UNSUPPORTED},
        {"mov r/m,sreg", B(0x8c, 0x00), HV_DEC_UNSUPPORTED},
        {"mov sreg,r/m", B(0x8e, 0x00), HV_DEC_UNSUPPORTED},
        {"lea", B(0x8d, 0x00), HV_DEC_UNSUPPORTED},
        {"xchg", B(0x87, 0x00), HV_DEC_UNSUPPORTED},
        {"mov al,moffs", B(0xa0, 0, 0, 0, 0, 0, 0, 0, 0), HV_DEC_UNSUPPORTED},
        {"mov moffs,eax", B(0xa3, 0, 0, 0, 0, 0, 0, 0, 0), HV_DEC_UNSUPPORTED},
        {"movsxd", B(0x48, 0x63, 0x00), HV_DEC_UNSUPPORTED},
        {"movs", B(0xa5), HV_DEC_UNSUPPORTED},
        {"stos", B(0xf3, 0xab), HV_DEC_UNSUPPORTED},
        {"test [rax],imm8", B(0xf6, 0x00, 0x01), HV_DEC_UNSUPPORTED},
        {"inc [rax]", B(0xff, 0x00), HV_DEC_UNSUPPORTED},
        {"movups", B(0x0f, 0x10, 0x00), HV_DEC_UNSUPPORTED},
        {"movnti", B(0x0f, 0xc3, 0x00), HV_DEC_UNSUPPORTED},
        {"bsr (0f bd)", B(0x0f, 0xbd, 0x00), HV_DEC_UNSUPPORTED},
        {"0f 38 escape", B(0x0f, 0x38, 0xf0, 0x00), HV_DEC_UNSUPPORTED},
        {"vex c5", B(0xc5, 0xf9, 0x6e, 0x00), HV_DEC_UNSUPPORTED},
        {"vex c4", B(0xc4, 0xe1, 0x79, 0x6e, 0x00), HV_DEC_UNSUPPORTED},
        {"evex 62", B(0x62, 0xf1, 0x7d, 0x48, 0x6f, 0x00), HV_DEC_UNSUPPORTED},
        {"nop", B(0x90), HV_DEC_UNSUPPORTED},
};

static void test_decode_rejected(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct hv_insn in;
		memset(&in, 0xa5, sizeof(in));
		enum hv_decode_status s = decode_exact(c->bytes, c->n, &in);
		if (s != c->want)
			fail_msg("%s: got %s, expected %s", c->name, hv_decode_status_str(s),
			         hv_decode_status_str(c->want));
		struct hv_insn zero;
		memset(&zero, 0, sizeof(zero));
		if (memcmp(&in, &zero, sizeof(in)) != 0)
			fail_msg("%s: output not cleared on failure", c->name);
	}
}

static void test_decode_status_strings(void **state)
{
	(void)state;
	assert_string_equal(hv_decode_status_str(HV_DEC_OK), "ok");
	assert_string_equal(hv_decode_status_str(HV_DEC_TRUNCATED), "truncated");
	assert_string_equal(hv_decode_status_str(HV_DEC_TOO_LONG), "longer than 15 bytes");
	assert_string_equal(hv_decode_status_str(HV_DEC_UNSUPPORTED), "unsupported instruction");
	assert_string_equal(hv_decode_status_str(HV_DEC_INVALID), "invalid encoding");
	assert_string_equal(hv_decode_status_str(HV_DEC_STATUS_COUNT), "unknown");
	assert_string_equal(hv_decode_status_str((enum hv_decode_status) - 1), "unknown");
}

/* ---- effective addresses ----------------------------------------------- */

struct addr_case {
	const char *name;
	uint8_t bytes[16];
	uint32_t n;
	uint64_t rip;
	uint64_t want;
};

static void set_regs(uint64_t gpr[16])
{
	for (int i = 0; i < 16; i++)
		gpr[i] = 0x1000ull * (uint64_t)(i + 1); /* rax 0x1000, rcx 0x2000, ... */
}

static const struct addr_case addr_cases[] = {
        {"[rax]", B(0x89, 0x00), 0, 0x1000},
        {"[rbp+0x10]", B(0x89, 0x45, 0x10), 0, 0x6010},
        {"[rbp-0x10]", B(0x89, 0x45, 0xf0), 0, 0x5ff0},
        {"[rax+rcx*4]", B(0x89, 0x04, 0x88), 0, 0x1000 + 4 * 0x2000},
        {"[rsp] no index", B(0x89, 0x04, 0x24), 0, 0x5000},
        {"[rsp+r12]", B(0x42, 0x89, 0x04, 0x24), 0, 0x5000 + 0xd000},
        {"[r13+r9*2+0x11223344]", B(0x4b, 0x89, 0x84, 0x4d, 0x44, 0x33, 0x22, 0x11), 0,
         0xe000 + 2 * 0xa000 + 0x11223344ull},
        {"[disp32] no base", B(0x89, 0x04, 0x25, 0x00, 0x10, 0x00, 0x00), 0, 0x1000},
        {"[-disp32] sign-extends", B(0x89, 0x04, 0x25, 0x00, 0x00, 0x00, 0xfe), 0,
         0xfffffffffe000000ull},
        {"[rcx*8+disp32]", B(0x89, 0x04, 0xcd, 0x00, 0x10, 0x00, 0x00), 0, 0x2000 * 8 + 0x1000},
        {"rip-relative: next insn + disp", B(0x8b, 0x05, 0x10, 0x00, 0x00, 0x00), 0x400000,
         0x400006 + 0x10},
        {"rip-relative negative", B(0xc7, 0x05, 0xf0, 0xff, 0xff, 0xff, 1, 0, 0, 0), 0x400000,
         0x40000a - 0x10},
};

static void test_insn_address(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(addr_cases); i++) {
		const struct addr_case *c = &addr_cases[i];
		struct hv_insn in;
		uint64_t gpr[16];
		set_regs(gpr);
		EXPECT(c->name, "status", hv_decode(c->bytes, c->n, &in), HV_DEC_OK);
		EXPECT(c->name, "address", hv_insn_address(&in, gpr, c->rip), c->want);
	}
	/* 64-bit address arithmetic wraps */
	struct hv_insn in;
	uint64_t gpr[16] = {0};
	gpr[HV_RAX] = 0xfffffffffffffff0ull;
	const uint8_t wrap[] = {0x89, 0x40, 0x20};
	assert_int_equal(hv_decode(wrap, sizeof(wrap), &in), HV_DEC_OK);
	assert_int_equal(hv_insn_address(&in, gpr, 0), 0x10);
}

/* ---- store values ------------------------------------------------------ */

struct store_case {
	const char *name;
	uint8_t bytes[16];
	uint32_t n;
	uint64_t want;
};

#define REGVAL(i) (0x1122334455667788ull + 0x0101010101010101ull * (uint64_t)(i))

static const struct store_case store_cases[] = {
        {"al", B(0x88, 0x00), 0x88},
        {"ah", B(0x88, 0x20), 0x77},
        {"ch", B(0x88, 0x28), 0x78},
        {"bh", B(0x88, 0x38), 0x7a},
        {"spl", B(0x40, 0x88, 0x20), 0x8c},
        {"r15b", B(0x44, 0x88, 0x38), 0x97},
        {"ax", B(0x66, 0x89, 0x00), 0x7788},
        {"ecx", B(0x89, 0x08), 0x56677889},
        {"rdx", B(0x48, 0x89, 0x10), REGVAL(2)},
        {"r11", B(0x4c, 0x89, 0x18), REGVAL(11)},
        {"imm8", B(0xc6, 0x00, 0xfe), 0xfe},
        {"imm16", B(0x66, 0xc7, 0x00, 0xcd, 0xab), 0xabcd},
        {"imm32", B(0xc7, 0x00, 0xef, 0xbe, 0xad, 0xde), 0xdeadbeef},
        {"imm32 sign-extended to 64", B(0x48, 0xc7, 0x00, 0xef, 0xbe, 0xad, 0xde),
         0xffffffffdeadbeefull},
        {"load has no store value", B(0x8b, 0x00), 0},
        {"movzx has no store value", B(0x0f, 0xb6, 0x00), 0},
};

static void test_insn_store_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(store_cases); i++) {
		const struct store_case *c = &store_cases[i];
		struct hv_insn in;
		uint64_t gpr[16];
		for (int r = 0; r < 16; r++)
			gpr[r] = REGVAL(r);
		EXPECT(c->name, "status", hv_decode(c->bytes, c->n, &in), HV_DEC_OK);
		EXPECT(c->name, "value", hv_insn_store_value(&in, gpr), c->want);
	}
}

/* ---- load semantics (SDM Vol. 1, 3.4.1.1) ------------------------------ */

struct load_case {
	const char *name;
	uint8_t bytes[16];
	uint32_t n;
	uint64_t value; /* raw value read from memory */
	int reg;        /* register expected to change */
	uint64_t want;  /* its new value; all registers start as ~0 - reg */
};

#define INIT(r) (0xfedcba9876543210ull ^ (uint64_t)(r))

static const struct load_case load_cases[] = {
        {"mov rax,[m64]", B(0x48, 0x8b, 0x00), 0x0123456789abcdefull, HV_RAX,
         0x0123456789abcdefull},
        {"mov eax,[m32] zero-extends", B(0x8b, 0x00), 0x89abcdef, HV_RAX, 0x89abcdef},
        {"mov eax,[m32] ignores bits above size", B(0x8b, 0x00), 0xffffffff00000001ull, HV_RAX, 1},
        {"mov ax,[m16] merges", B(0x66, 0x8b, 0x00), 0xabcd, HV_RAX, 0xfedcba987654abcdull},
        {"mov al,[m8] merges", B(0x8a, 0x00), 0x1ab, HV_RAX, 0xfedcba98765432abull},
        {"mov ah,[m8] merges bits 15:8", B(0x8a, 0x20), 0xab, HV_RAX, 0xfedcba987654ab10ull},
        {"mov bh,[m8]", B(0x8a, 0x38), 0x01, HV_RBX, 0xfedcba9876540113ull},
        {"mov spl,[m8]", B(0x40, 0x8a, 0x20), 0xab, HV_RSP, 0xfedcba98765432abull},
        {"mov r9b,[m8]", B(0x44, 0x8a, 0x08), 0x00, HV_R9, 0xfedcba9876543200ull},
        {"mov r10w,[m16]", B(0x66, 0x44, 0x8b, 0x10), 0x1111, HV_R10, 0xfedcba9876541111ull},
        {"mov r11d,[m32]", B(0x44, 0x8b, 0x18), 0xffffffff, HV_R11, 0xffffffff},
        {"movzx eax,m8", B(0x0f, 0xb6, 0x00), 0x80, HV_RAX, 0x80},
        {"movzx ax,m8 merges", B(0x66, 0x0f, 0xb6, 0x00), 0x80, HV_RAX, 0xfedcba9876540080ull},
        {"movzx rax,m16", B(0x48, 0x0f, 0xb7, 0x00), 0xffff, HV_RAX, 0xffff},
        {"movzx esp,m8 (not ah)", B(0x0f, 0xb6, 0x20), 0x7f, HV_RSP, 0x7f},
        {"movsx eax,m8 negative", B(0x0f, 0xbe, 0x00), 0x80, HV_RAX, 0xffffff80},
        {"movsx eax,m8 positive", B(0x0f, 0xbe, 0x00), 0x7f, HV_RAX, 0x7f},
        {"movsx rax,m8", B(0x48, 0x0f, 0xbe, 0x00), 0x80, HV_RAX, 0xffffffffffffff80ull},
        {"movsx ax,m8 merges", B(0x66, 0x0f, 0xbe, 0x00), 0x80, HV_RAX, 0xfedcba987654ff80ull},
        {"movsx rcx,m16", B(0x48, 0x0f, 0xbf, 0x08), 0x8000, HV_RCX, 0xffffffffffff8000ull},
        {"movsx ecx,m16", B(0x0f, 0xbf, 0x08), 0x8000, HV_RCX, 0xffff8000ull},
        {"movsx r15,m16 positive", B(0x4c, 0x0f, 0xbf, 0x38), 0x17fff, HV_R15, 0x7fff},
};

static void test_insn_load_apply(void **state)
{
	(void)state;
	for (size_t i = 0; i < HV_ARRAY_LEN(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		struct hv_insn in;
		uint64_t gpr[16];
		for (int r = 0; r < 16; r++)
			gpr[r] = INIT(r);
		EXPECT(c->name, "status", hv_decode(c->bytes, c->n, &in), HV_DEC_OK);
		hv_insn_load_apply(&in, gpr, c->value);
		for (int r = 0; r < 16; r++) {
			uint64_t want = r == c->reg ? c->want : INIT(r);
			if (gpr[r] != want)
				fail_msg("%s: r%d is 0x%llx, expected 0x%llx", c->name, r,
				         (unsigned long long)gpr[r], (unsigned long long)want);
		}
	}
}

/* Stores never change registers through load_apply, and a malformed insn
 * (register size 0) changes nothing either. */
static void test_insn_load_apply_noop(void **state)
{
	(void)state;
	const uint8_t stores[][8] = {{0x89, 0x00}, {0xc7, 0x00, 1, 0, 0, 0}};
	for (size_t i = 0; i < HV_ARRAY_LEN(stores); i++) {
		struct hv_insn in;
		uint64_t gpr[16], before[16];
		for (int r = 0; r < 16; r++)
			gpr[r] = before[r] = INIT(r);
		assert_int_equal(hv_decode(stores[i], sizeof(stores[i]), &in), HV_DEC_OK);
		hv_insn_load_apply(&in, gpr, 0x1234);
		assert_memory_equal(gpr, before, sizeof(gpr));
	}
	struct hv_insn odd;
	memset(&odd, 0, sizeof(odd));
	odd.kind = HV_INSN_LOAD;
	odd.mem_size = 4;
	odd.reg_size = 3;
	uint64_t gpr[16] = {0}, zero[16] = {0};
	hv_insn_load_apply(&odd, gpr, 0x1234);
	assert_memory_equal(gpr, zero, sizeof(gpr));
}

/* ---- properties over pseudo-random bytes ------------------------------- */

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Whatever the bytes: a successful decode is at most 15 bytes and no more
 * than given, has a legal size, decodes identically from exactly its own
 * bytes, and any shorter prefix is TRUNCATED. */
static void test_decode_random_properties(void **state)
{
	(void)state;
	/* Bias toward the interesting bytes so that many decodes succeed. */
	static const uint8_t pool[] = {0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x3e, 0x64, 0x40,
	                               0x41, 0x44, 0x48, 0x4c, 0x4f, 0x0f, 0xb6, 0xb7, 0xbe,
	                               0xbf, 0x88, 0x89, 0x8a, 0x8b, 0xc6, 0xc7, 0x04, 0x05,
	                               0x24, 0x25, 0x44, 0x84, 0x00, 0xff, 0x80};
	uint64_t seed = 12345;
	unsigned ok = 0;
	for (int iter = 0; iter < 200000; iter++) {
		uint8_t buf[16];
		uint32_t n = (uint32_t)(lcg(&seed) % 17);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (lcg(&seed) & 1) ? pool[lcg(&seed) % sizeof(pool)]
			                          : (uint8_t)lcg(&seed);
		struct hv_insn in, again;
		if (hv_decode(buf, n, &in) != HV_DEC_OK)
			continue;
		ok++;
		assert_true(in.len >= 2 && in.len <= 15 && in.len <= n);
		assert_true(in.mem_size == 1 || in.mem_size == 2 || in.mem_size == 4 ||
		            in.mem_size == 8);
		assert_int_equal(hv_decode(buf, in.len, &again), HV_DEC_OK);
		assert_memory_equal(&in, &again, sizeof(in));
		assert_int_equal(hv_decode(buf, in.len - 1u, &again), HV_DEC_TRUNCATED);
	}
	assert_true(ok > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_decode_ok),
	        cmocka_unit_test(test_decode_truncated_everywhere),
	        cmocka_unit_test(test_decode_rejected),
	        cmocka_unit_test(test_decode_status_strings),
	        cmocka_unit_test(test_insn_address),
	        cmocka_unit_test(test_insn_store_value),
	        cmocka_unit_test(test_insn_load_apply),
	        cmocka_unit_test(test_insn_load_apply_noop),
	        cmocka_unit_test(test_decode_random_properties),
	};
	return cmocka_run_group_tests_name("decode", tests, NULL, NULL);
}
