#pragma once
// Test helpers for the parity fixtures in ../shared/fixtures (next to the checkout).
// Missing fixtures fail the test loudly: parity is not optional.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <functional>
#include <string>

#include "cppformers/core/tensor.hpp"

namespace cppformers::testing {

// ../shared/fixtures/hf/<name>; fails the calling test (ADD_FAILURE) if it is missing.
std::string hf_fixture(const std::string& name);
// ../shared/fixtures/pipelines/<name>, likewise.
std::string pipeline_fixture(const std::string& name);
// Python-object equality as compare_pipelines.py checks it: structure and strings exact,
// numbers within `tol` absolute. On a difference, `why` says where.
bool json_close(const nlohmann::json& ours, const nlohmann::json& golden, double tol = 1e-4, std::string* why = nullptr);
// Replays every recorded call of a pipelines fixture (calls where Python raised are skipped)
// through `call` and expects Python's output; returns the number of calls compared.
int replay_pipeline_golden(const std::string& dir,
                           const std::function<nlohmann::json(const nlohmann::json& call)>& run);
nlohmann::json golden_json(const std::string& dir);
// |ours - golden| <= atol + rtol * |golden| everywhere (and shapes equal, no NaN).
::testing::AssertionResult all_close(const Tensor& ours, const Tensor& golden, double atol = 1e-4,
                                     double rtol = 1e-4);
// The message of the exception `f` throws, or "(no error)".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace cppformers::testing
