/* HX_ASAN: defined in builds with AddressSanitizer (clang's __has_feature,
 * gcc's __SANITIZE_ADDRESS__), with ASan's interface declared, for the code
 * that poisons memory no one may touch (the oracles' pool watch, the fuzz
 * fixtures' fences, the trace arena). ASAN_(UN)POISON_MEMORY_REGION are
 * no-ops in other builds. Header-only, like no_coverage.h. */
#ifndef HX_ASAN_BUILD_H
#define HX_ASAN_BUILD_H

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HX_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(HX_ASAN)
#define HX_ASAN 1
#endif
#ifdef HX_ASAN
#include <sanitizer/asan_interface.h>
#else
/* As ASan's own header defines them for builds without it: no-ops. */
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

#endif
