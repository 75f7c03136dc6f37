/* Two partitions over a channel (HCALL-BOUNDS, CONTAIN), kvm-two.json:
 * alpha (partition 0) is the RW member of channel 0, beta (partition 1)
 * the RO member, both at the same GPA.
 *  alpha: writes a note into the shared window, sends a message;
 *  beta:  cannot send (EPERM) nor write the window (#GP, unchanged), then
 *         receives the message (yielding while the mailbox is empty) and
 *         sees alpha's note through its own mapping. */
#include "hx/guest.h"
#include "hv/hcall.h"

#define CH 0u
#define NOTE_OFF 1024u
#define POLL_LIMIT 200000u

static const char note[] = "note from alpha";
static const char message[] = "ping from alpha";
static char rx[256];

static const struct hx_boot_range *window(void)
{
	const struct hx_boot_range *r;

	for (uint32_t n = 0; (r = hx_find_range(HX_RANGE_CHANNEL, n)) != NULL; n++)
		if (r->index == CH)
			return r;
	hx_fail(HX_FILE, __LINE__, "not a member of channel 0", 0, 0);
}

static void alpha(const struct hx_boot_range *w)
{
	int64_t st;
	uint32_t tries = 0;

	GUEST_ASSERT(w->perm & 2, "alpha must be the RW member");
	memcpy((void *)(w->gpa + NOTE_OFF), note, sizeof(note));
	while ((st = hx_hcall(HV_HC_CHANNEL_SEND, CH, (uint64_t)message, sizeof(message), 0,
	                      NULL)) == HV_HC_EAGAIN &&
	       ++tries < POLL_LIMIT)
		hx_hcall(HV_HC_YIELD, 0, 0, 0, 0, NULL);
	GUEST_ASSERT_EQ(st, HV_HC_OK, "send");
	GUEST_PRINTF("alpha: sent %u bytes", (unsigned)sizeof(message));
}

static void beta(const struct hx_boot_range *w)
{
	uint64_t len = 0, before;
	int64_t st;
	uint32_t tries = 0;

	GUEST_ASSERT(!(w->perm & 2), "beta must be the RO member");
	GUEST_ASSERT_EQ(hx_hcall(HV_HC_CHANNEL_SEND, CH, (uint64_t) "no", 2, 0, NULL), HV_HC_EPERM,
	                "RO member sent");
	before = *(volatile uint64_t *)(w->gpa + 2048);
	GUEST_ASSERT_EQ(hx_write64_safe(w->gpa + 2048, 0x6262626262626262ull), HX_VEC_GP,
	                "RO member wrote the window");
	GUEST_ASSERT_EQ(hx_write8_safe(w->gpa, 0x62), HX_VEC_GP, "RO member wrote the payload");
	GUEST_ASSERT_EQ(*(volatile uint64_t *)(w->gpa + 2048), before);

	while ((st = hx_hcall(HV_HC_CHANNEL_RECV, CH, (uint64_t)rx, sizeof(rx), 0, &len)) ==
	               HV_HC_EAGAIN &&
	       ++tries < POLL_LIMIT)
		hx_hcall(HV_HC_YIELD, 0, 0, 0, 0, NULL);
	GUEST_ASSERT_EQ(st, HV_HC_OK, "recv after %u tries", tries);
	GUEST_ASSERT_EQ(len, sizeof(message));
	GUEST_ASSERT(memcmp(rx, message, sizeof(message)) == 0, "message corrupted");
	GUEST_ASSERT(memcmp((const void *)(w->gpa + NOTE_OFF), note, sizeof(note)) == 0,
	             "alpha's note not visible through the RO mapping");
	GUEST_PRINTF("beta: received '%s' after %u polls", rx, tries);
}

void guest_main(void)
{
	const struct hx_boot_range *w = window();

	if (hx_partition() == 0)
		alpha(w);
	else
		beta(w);
	GUEST_DONE();
}
