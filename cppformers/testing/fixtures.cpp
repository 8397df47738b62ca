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

std::string pipeline_fixture(const std::string& name) {
  const std::string dir = std::string(CPPFORMERS_SOURCE_DIR) + "/../shared/fixtures/pipelines/" + name;
  if (!std::filesystem::is_directory(dir))
    ADD_FAILURE() << "fixture folder missing: " << dir << " (../shared must sit beside the checkout)";
  return dir;
}

bool json_close(const nlohmann::json& a, const nlohmann::json& b, double tol, std::string* why) {
  auto fail = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  if (b.is_number_float() || a.is_number_float()) {
    if (!a.is_number() || !b.is_number() || std::abs(a.get<double>() - b.get<double>()) > tol)
      return fail(a.dump() + " != " + b.dump());
    return true;
  }
  if (b.is_object()) {
    if (!a.is_object() || a.size() != b.size()) return fail("keys differ: " + a.dump().substr(0, 200));
    for (auto& [k, v] : b.items()) {
      if (!a.contains(k)) return fail("missing key '" + k + "'");
      if (!json_close(a[k], v, tol, why)) return why ? (*why = "." + k + *why, false) : false;
    }
    return true;
  }
  if (b.is_array()) {
    if (!a.is_array() || a.size() != b.size()) return fail("list length differs: " + a.dump().substr(0, 200));
    for (size_t i = 0; i < b.size(); ++i)
      if (!json_close(a[i], b[i], tol, why)) return why ? (*why = "[" + std::to_string(i) + "]" + *why, false) : false;
    return true;
  }
  return a == b ? true : fail(a.dump() + " != " + b.dump());
}

int replay_pipeline_golden(const std::string& dir, const std::function<nlohmann::json(const nlohmann::json&)>& run) {
  const nlohmann::json calls = io::read_json_file(dir + "/pipeline_golden.json");
  int n = 0;
  for (const auto& call : calls) {
    if (call.contains("error")) continue;
    ++n;
    SCOPED_TRACE(call["id"].get<std::string>());
    std::string why;
    const nlohmann::json got = run(call);
    EXPECT_TRUE(json_close(got, call["output"], 1e-4, &why)) << why << "\n got: " << got.dump().substr(0, 600);
  }
  return n;
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
