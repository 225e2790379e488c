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
#include "distill_swig/progress.hpp"
#include "distill_swig/students.hpp"
#include "distill_swig/tokenizer.hpp"
#include "distill_swig/text_dataset.hpp"
#include "distill_swig/language_model.hpp"
#include "distill_swig/trainer.hpp"
#include "distill_swig/hf_folder.hpp"

#include <string>

namespace distill_swig {
// "" when the loaded libdistill serves the distill.h this glue was compiled
// (and its Java or C# generated) from, else why not: distill.hpp's rule
// (check_library_version), the same major version and an ABI at least as
// new. Each language checks it once, as its native class loads.
inline std::string library_mismatch() {
    const std::string version = distill_version();
    const std::string major = std::to_string(DISTILL_VERSION_MAJOR) + ".";
    if (version.compare(0, major.size(), major) == 0 && distill_abi_version() >= DISTILL_ABI_VERSION)
        return "";
    return "libdistill " + version + " (ABI " + std::to_string(distill_abi_version()) +
           ") does not match the distill.h " DISTILL_VERSION_STRING " (ABI " +
           std::to_string(DISTILL_ABI_VERSION) + ") these bindings were generated from";
}
}  // namespace distill_swig
%}

%include <stdint.i>
%include <std_string.i>

/* Host-language callbacks: the bindings' bridges derive from these. */
%feature("director") distill_swig::TeacherCallbackNative;
%feature("director") distill_swig::ProgressListenerNative;
%feature("director") distill_swig::TokenizeListenerNative;
%feature("director") distill_swig::TextFitListenerNative;

/* Handled by typemaps or internal to the C++ layer. */
%ignore distill_swig::Error;
%ignore distill_swig::FloatArray;
%ignore distill_swig::LongArray;
%ignore distill_swig::IntArray;
%ignore distill_swig::ByteArray;
%ignore distill_swig::FloatBuffer;
%ignore distill_swig::ProgressListenerNative::fail;
%ignore distill_swig::TokenizeListenerNative::fail;
%ignore distill_swig::TextFitListenerNative::fail;
%ignore distill_swig::Library::Library;
%ignore distill_swig::Teacher::Teacher;
%ignore distill_swig::Tokenizer::Tokenizer;
%ignore distill_swig::HfFolder::HfFolder;

/* Results are values the caller owns. */
%newobject distill_swig::Store::get;
%newobject distill_swig::LmEvalOptions::get_teacher;
%newobject distill_swig::TextFitOptions::get_teacher;

/* Results the library makes, never the caller. */
%nodefaultctor distill_swig::TextFitProgress;
%nodefaultctor distill_swig::TextFitSummary;
%nodefaultctor distill_swig::StoredFitSummary;
/* Static calls only. */
%nodefaultctor distill_swig::Lm;

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
%include "distill_swig/tokenizer.hpp"
%include "distill_swig/text_dataset.hpp"
%include "distill_swig/language_model.hpp"
%include "distill_swig/trainer.hpp"
%include "distill_swig/hf_folder.hpp"
