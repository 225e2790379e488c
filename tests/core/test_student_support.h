// Helpers of the student tests (test_student_*.cpp): seeded random values
// and a central finite-difference gradient.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace student_test {

template <class T>
std::vector<T> random_values(size_t n, uint64_t seed, double low = -1.0, double high = 1.0) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(low, high);
    std::vector<T> v(n);
    for (T & x : v) x = static_cast<T>(u(rng));
    return v;
}

template <class To, class From>
std::vector<To> cast(const std::vector<From> & v) {
    return std::vector<To>(v.begin(), v.end());
}

template <class T>
double dot(const std::vector<T> & a, const std::vector<T> & b) {
    double sum = 0;
    for (size_t i = 0; i < a.size(); ++i) sum += double(a[i]) * double(b[i]);
    return sum;
}

// max |a − b| / max |b|: the error of a against a reference b, relative to
// the reference's scale (per-element ratios blow up where b ≈ 0).
template <class A, class B>
double relative_error(const std::vector<A> & a, const std::vector<B> & b) {
    double worst = 0, scale = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::fabs(double(a[i]) - double(b[i])));
        scale = std::max(scale, std::fabs(double(b[i])));
    }
    return scale > 0 ? worst / scale : worst;
}

// d loss / d x[i] for every i, by central differences with step h (x is
// restored). loss() reads x.
template <class T, class Loss>
std::vector<double> finite_difference(std::vector<T> & x, T h, Loss && loss) {
    std::vector<double> gradient(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const T saved = x[i];
        x[i] = saved + h;
        const double up = loss();
        const T x_up = x[i];
        x[i] = saved - h;
        const double down = loss();
        const T x_down = x[i];
        x[i] = saved;
        gradient[i] = (up - down) / double(x_up - x_down);
    }
    return gradient;
}

}  // namespace student_test
