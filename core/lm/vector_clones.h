// DISTILL_LM_VECTOR_CLONES before a function: GCC compiles it twice on
// x86-64, for the baseline ISA and for x86-64-v3 (AVX2 + FMA), and the
// loader picks one by the CPU (an ifunc). For the few fp32 loops of the
// transformer that are neither GEMMs nor memory-bound (the softmax passes
// of the loss and the attention): AVX2 doubles their vectors. Results may
// differ in the last bits between the two (FMA contraction), never
// between runs or thread counts on one machine.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define DISTILL_LM_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define DISTILL_LM_VECTOR_CLONES
#endif
