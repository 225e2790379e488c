#include "lm/rope.h"

#include <cmath>
#include <type_traits>

#include "students/layers/elementwise.h"

namespace distill::lm {

template <class T>
void rope_tables(T * cos, T * sin, int64_t positions, int64_t D, double theta) {
    const int64_t half = D / 2;
    for (int64_t i = 0; i < half; ++i) {
        // transformers: inv_freq = 1.0 / (base ** (arange(0, D, 2).float() / D)),
        // freqs = position.float() * inv_freq, all in fp32.
        const T exponent = T(2 * i) / T(D);
        const T inv_freq = T(1) / T(std::pow(T(theta), exponent));
        for (int64_t t = 0; t < positions; ++t) {
            const T angle = T(t) * inv_freq;
            cos[t * half + i] = T(std::cos(double(angle)));
            sin[t * half + i] = T(std::sin(double(angle)));
        }
    }
}

namespace {

// sign = +1: the rotation; −1: its transpose.
template <class T>
void rotate(T * x, const T * cos, const T * sin, int64_t B, int64_t T_, int64_t NH, int64_t D,
            T sign) {
    const int64_t half = D / 2;
    layers::team_elementwise(B * T_, 65536 / (NH * D), [=](int64_t row) {
        const int64_t t = row % T_;
        const T * c = cos + t * half;
        const T * s = sin + t * half;
        for (int64_t h = 0; h < NH; ++h) {
            T * v = x + (row * NH + h) * D;
            for (int64_t i = 0; i < half; ++i) {
                const T a = v[i], b = v[i + half], si = sign * s[i];
                v[i] = a * c[i] - b * si;
                v[i + half] = b * c[i] + a * si;
            }
        }
    });
}

}  // namespace

template <class T>
void rope_forward(T * x, const T * cos, const T * sin, int64_t B, int64_t T_, int64_t NH,
                  int64_t D) {
    rotate(x, cos, sin, B, T_, NH, D, T(1));
}

template <class T>
void rope_backward(T * d, const T * cos, const T * sin, int64_t B, int64_t T_, int64_t NH,
                   int64_t D) {
    rotate(d, cos, sin, B, T_, NH, D, T(-1));
}

template void rope_tables<float>(float *, float *, int64_t, int64_t, double);
template void rope_tables<double>(double *, double *, int64_t, int64_t, double);
template void rope_forward<float>(float *, const float *, const float *, int64_t, int64_t,
                                  int64_t, int64_t);
template void rope_forward<double>(double *, const double *, const double *, int64_t, int64_t,
                                   int64_t, int64_t);
template void rope_backward<float>(float *, const float *, const float *, int64_t, int64_t,
                                   int64_t, int64_t);
template void rope_backward<double>(double *, const double *, const double *, int64_t, int64_t,
                                    int64_t, int64_t);

}  // namespace distill::lm
