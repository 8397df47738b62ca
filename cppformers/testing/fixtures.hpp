#pragma once
// Test helpers for the parity fixtures in ../shared/fixtures (next to the checkout).
// Missing fixtures fail the test loudly: parity is not optional.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cppformers/core/tensor.hpp"

namespace cppformers::testing {

// ../shared/fixtures/hf/<name>; fails the calling test (ADD_FAILURE) if it is missing.
std::string hf_fixture(const std::string& name);
nlohmann::json golden_json(const std::string& dir);
// |ours - golden| <= atol + rtol * |golden| everywhere (and shapes equal, no NaN).
::testing::AssertionResult all_close(const Tensor& ours, const Tensor& golden, double atol = 1e-4,
                                     double rtol = 1e-4);

}  // namespace cppformers::testing
