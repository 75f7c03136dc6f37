/* The engine's ceiling for `make bench` (harness/bench/fuzz-rate.sh): a
 * target that does nothing, built with exactly the flags and driver of the
 * real targets (harness/fuzz, ASan+UBSan; libFuzzer or AFL++ persistent
 * mode), so its execs/s is the most the engine reaches on this machine when
 * a target costs nothing. It lives
 * here, not in harness/fuzz/, where every file is taken for a real target. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	(void)data;
	(void)size;
	return 0;
}
