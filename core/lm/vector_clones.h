// DISTILL_LM_VECTOR_CLONES before a function: GCC compiles it twice on
// x86-64, for AVX2 and for the baseline ISA, and the loader picks one by the
// CPU (function multi-versioning, as train/optimizer.cpp's update loops).
// For the few fp32 loops of the transformer that are neither GEMMs nor
// memory-bound — the softmax passes of the loss and of the attention —
// AVX2 doubles the vector width. ISO C++ mode keeps FMA contraction off;
// the two versions may still differ in the last bits of a vector sum (its
// lanes), never between runs or thread counts on one machine.
// Not under ThreadSanitizer: it instruments the resolvers, which the
// loader runs before the sanitizer's runtime has started.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_THREAD__)
#define DISTILL_LM_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define DISTILL_LM_VECTOR_CLONES
#endif
