#include "cppformers/testing/fixtures.hpp"

#include <cmath>
#include <filesystem>

#include "cppformers/io/json.hpp"

namespace cppformers::testing {

std::string hf_fixture(const std::string& name) {
  const std::string dir = std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/hf/" + name;
  if (!std::filesystem::is_directory(dir))
    ADD_FAILURE() << "fixture folder missing: " << dir << " (../shared must sit beside the checkout)";
  return dir;
}

nlohmann::json golden_json(const std::string& dir) { return io::read_json_file(dir + "/golden.json"); }

::testing::AssertionResult all_close(const Tensor& ours, const Tensor& golden, double atol, double rtol) {
  if (!ours.defined()) return ::testing::AssertionFailure() << "output is undefined";
  if (ours.shape() != golden.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(ours.shape()) << " != golden "
                                         << shape_str(golden.shape());
  const auto a = ours.to_vector<double>(), b = golden.to_vector<double>();
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - b[i]);
    if (std::isnan(a[i]) || d > atol + rtol * std::abs(b[i])) {
      return ::testing::AssertionFailure() << "element " << i << ": " << a[i] << " vs golden " << b[i]
                                           << " (tolerance " << atol << " + " << rtol << "*|golden|)";
    }
    if (d > worst) worst = d, at = i;
  }
  (void)at;
  return ::testing::AssertionSuccess() << "max abs diff " << worst;
}

}  // namespace cppformers::testing
