#ifndef E2H_TARGET_FEATURES_H
#define E2H_TARGET_FEATURES_H
/* What the engine is compiled for, as constants Swift can read. Swift's importer parses this header with the
   importing target's `-target-cpu`, so the macros describe the build (what the kernels' code may use), never the
   machine that runs it: a `haswell` build on an AVX-512 CPU still reads 0. */
#ifdef __AVX512F__
#define E2H_TARGET_AVX512F 1
#else
#define E2H_TARGET_AVX512F 0
#endif
#endif
