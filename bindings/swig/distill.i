/*
 * distill.i — the one SWIG interface of libdistill, for Java (JNI) and C#
 * (P/Invoke). It wraps the classes of include/distill_swig/, a thin C++
 * layer over distill.h alone (handles as reference-counted classes,
 * statuses as exceptions, arrays checked against shapes), and says how each
 * language sees them: distill_java.swg and distill_csharp.swg hold what differs.
 *
 *   swig -c++ -java   -package ai.distill -doxygen distill.i
 *   swig -c++ -csharp -namespace Distill -dllimport libdistill_csharp distill.i
 *
 * Names: the C++ layer is snake_case; Java gets lowerCamelCase methods and
 * UPPER_CASE enum values, C# PascalCase for both (the %rename rules in the
 * language files).
 */
%module(directors="1") distill

%{
#include "distill_swig/core.hpp"
#include "distill_swig/loss.hpp"
#include "distill_swig/records.hpp"
#include "distill_swig/teachers.hpp"
#include "distill_swig/answers.hpp"
#include "distill_swig/progress.hpp"
#include "distill_swig/students.hpp"
#include "distill_swig/trainer.hpp"
%}

%include <stdint.i>
%include <std_string.i>

/* Host-language callbacks: the bindings' bridges derive from these. */
%feature("director") distill_swig::TeacherCallbackNative;
%feature("director") distill_swig::ProgressListenerNative;

/* Handled by typemaps or internal to the C++ layer. */
%ignore distill_swig::Error;
%ignore distill_swig::FloatArray;
%ignore distill_swig::LongArray;
%ignore distill_swig::IntArray;
%ignore distill_swig::FloatBuffer;
%ignore distill_swig::ProgressListenerNative::fail;
%ignore distill_swig::Library::Library;
%ignore distill_swig::Teacher::Teacher;

/* Results are values the caller owns. */
%newobject distill_swig::Store::get;

#if defined(SWIGJAVA)
%include "distill_java.swg"
#elif defined(SWIGCSHARP)
%include "distill_csharp.swg"
#else
#error "distill.i: only Java and C# are supported"
#endif

%include "distill_swig/core.hpp"
%include "distill_swig/loss.hpp"
%include "distill_swig/records.hpp"
%include "distill_swig/teachers.hpp"
%include "distill_swig/progress.hpp"
%include "distill_swig/students.hpp"
%include "distill_swig/trainer.hpp"
