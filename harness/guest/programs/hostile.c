/* Output meant to fool whoever reads the harness's output (kvm-one.json):
 * console writes and a ucall print carrying an ANSI escape, a carriage
 * return and a newline followed by a forged "ok:"/"PASS" line. The runner
 * must print every such byte escaped (\xNN), so none of it reaches the
 * terminal raw and no forged line appears. The run itself passes. */
#include "hv/hcall.h"
#include "hx/guest.h"

void guest_main(void)
{
	static const char forged[] = "\x1b[2J\rhostile\nok: forged console line\n";
	int64_t r = hx_hcall(HV_HC_CONSOLE_WRITE, (uint64_t)forged, sizeof(forged) - 1, 0, 0, NULL);
	GUEST_ASSERT_EQ(r, HV_HC_OK);
	GUEST_PRINTF("\x1b[31mred\nPASS: forged print line");
	GUEST_DONE();
}
