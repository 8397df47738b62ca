#pragma once
// Gradient clipping, as torch.nn.utils.clip_grad_norm_ (torch 1.13):
//   total = norm over parameters of each .grad's norm (norm_type 2: sqrt of the sum of squares;
//           inf: the largest |g|), parameters without .grad ignored;
//   coef  = min(1, max_norm / (total + 1e-6)); every .grad *= coef.
// Returns the total norm (before clipping), as torch does.
#include <limits>
#include <vector>

#include "cppformers/core/tensor.hpp"

namespace cppformers::training {

inline constexpr double kInfNorm = std::numeric_limits<double>::infinity();

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
// The total gradient norm without clipping.
double grad_norm(const std::vector<Tensor>& params, double norm_type = 2.0);

}  // namespace cppformers::training
