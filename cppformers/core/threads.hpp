#pragma once
// The one thread pool: OpenMP's (oneDNN, built with OpenMP, shares it).
namespace cppformers {
int get_num_threads();
void set_num_threads(int n);
}  // namespace cppformers
