// The namespace the CPU kernels of this translation unit live in. The
// kernel files are compiled once per instruction set (-march=x86-64,
// x86-64-v3, x86-64-v4) with DISTILL_CPU_ISA set to isa_generic,
// isa_x86_64_v3 or isa_x86_64_v4, so that everything in them — helpers
// included — is vectorised for that ISA; kd_loss_cpu_dispatch.cpp picks one.
#pragma once

#ifndef DISTILL_CPU_ISA
#define DISTILL_CPU_ISA isa_generic
#endif

// A helper loop kept out of line: GCC vectorises it on its own but may
// fail to if-convert its selects once inlined into a larger row loop.
#define DISTILL_VECTOR_LOOP [[gnu::noinline]]
