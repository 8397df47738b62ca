#pragma once
// Test helper for the vision / audio / encoder-decoder parity tests: runs a fixture's model on
// its golden inputs (hidden states and attentions on, as the goldens were recorded) and
// compares every golden output at the fixtures' tolerance.
#include <gtest/gtest.h>

#include "cppformers/auto/auto_model.hpp"
#include "cppformers/autograd/node.hpp"
#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers::testing {

inline void expect_golden_outputs(const std::string& name) {
  const std::string dir = hf_fixture(name);
  auto model = load_model_from_architectures(dir);
  auto gold = io::load_file(dir + "/golden.safetensors");
  ModelInputs in = ModelInputs::from_tensors(gold);
  in.output_hidden_states = in.output_attentions = in.return_loss = true;
  autograd::NoGradGuard no_grad;
  ModelOutput out = model->forward(in);
  std::map<std::string, Tensor> ours;
  for (auto& [n, t] : out.named()) ours[n] = t;
  const auto meta = golden_json(dir);
  int compared = 0;
  for (const auto& n : meta["outputs"]) {
    const std::string name = n.get<std::string>();
    SCOPED_TRACE(name);
    ASSERT_TRUE(ours.count(name)) << "missing output " << name;
    if (name == "loss")
      EXPECT_NEAR(ours[name].item(), gold.at(name).item(), 1e-4 * std::max(1.0, std::abs(gold.at(name).item())));
    else
      EXPECT_TRUE(all_close(ours[name], gold.at(name)));
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

}  // namespace cppformers::testing
