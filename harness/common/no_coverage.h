/* HX_NO_COVERAGE: a function the fuzz builds do not instrument for
 * coverage. For byte loops every input passes through (checksums, text
 * scanners, little-endian primitives): with comparison tracing they cost
 * more than the handlers the input reaches, and their branches say nothing
 * about the handlers under test. Other builds ignore it. */
#ifndef HX_NO_COVERAGE_H
#define HX_NO_COVERAGE_H

#if defined(__clang__) && __clang_major__ >= 13
#define HX_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define HX_NO_COVERAGE
#endif

/* HX_NO_COVERAGE for a static function with a loop that instrumented code
 * calls: the compiler would inline it, and the caller's coverage would
 * instrument the loop all the same. */
#define HX_NO_COVERAGE_LOOP HX_NO_COVERAGE __attribute__((noinline))

#endif
