#pragma once
// Summary statistics shared by the benchmarks, defined as Python's `statistics` module does, so a
// C++ program and its Python peer summarise their runs the same way.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace bench {

// The middle value; for an even count, the mean of the two middle values (statistics.median).
inline double median(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("bench::median of no values");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace bench
