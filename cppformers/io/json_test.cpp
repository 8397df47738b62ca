#include "cppformers/io/json.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cppformers/core/error.hpp"

namespace cppformers::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class JsonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cf_json_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string p = (fs::path(dir_) / name).string();
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string dir_;
};

// The message of the FormatError that f throws ("" and a test failure if none).
template <class F>
std::string format_error(F f) {
  try {
    f();
  } catch (const FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

TEST_F(JsonTest, ReadJsonFile) {
  std::string p = write("config.json", R"({"hidden_size": 32, "name": "bert"})");
  json j = read_json_file(p);
  EXPECT_EQ(j["hidden_size"], 32);
  EXPECT_EQ(j["name"], "bert");
}

TEST_F(JsonTest, ReadJsonFileMissingIsIOError) {
  std::string p = (fs::path(dir_) / "missing.json").string();
  try {
    read_json_file(p);
    ADD_FAILURE();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_json_file(dir_), IOError);
}

TEST_F(JsonTest, ReadJsonFileMalformedNamesFileAndPosition) {
  std::string p = write("bad.json", "{\n  \"a\": 1,\n  \"b\": ,\n}");
  std::string m = format_error([&] { read_json_file(p); });
  EXPECT_NE(m.find(p), std::string::npos) << m;
  EXPECT_NE(m.find("line 3"), std::string::npos) << m;
  EXPECT_NE(m.find("column"), std::string::npos) << m;
  std::string e = write("empty.json", "");
  EXPECT_NE(format_error([&] { read_json_file(e); }).find(e), std::string::npos);
  std::string t = write("trailing.json", "{} x");
  EXPECT_NE(format_error([&] { read_json_file(t); }).find(t), std::string::npos);
}

const json kCfg = json::parse(R"({
  "flag": true, "n": 12, "neg": -3, "big": 3000000000, "huge": 18446744073709551615,
  "f": 0.5, "whole": 2.0, "eps": 1e-12, "s": "gelu", "nil": null,
  "ids": [1, 2, 3], "names": ["a", "b"], "mixed": [1, "x"], "obj": {"k": 1}
})");

TEST(JsonGet, DefaultsWhenAbsentOrNull) {
  EXPECT_EQ(json_get<int64_t>(kCfg, "missing", 7, "config.json"), 7);
  EXPECT_EQ(json_get<int>(kCfg, "nil", 5, "config.json"), 5);
  EXPECT_EQ(json_get<std::string>(kCfg, "nil", "x", "config.json"), "x");
  EXPECT_EQ(json_get<bool>(kCfg, "missing", true, "config.json"), true);
  EXPECT_EQ(json_get<double>(kCfg, "missing", 0.25, "config.json"), 0.25);
  EXPECT_EQ(json_get<std::vector<int64_t>>(kCfg, "missing", {4}, "config.json"), (std::vector<int64_t>{4}));
  EXPECT_EQ(json_get<std::vector<std::string>>(kCfg, "nil", {"z"}, "config.json"),
            (std::vector<std::string>{"z"}));
}

TEST(JsonGet, ReadsEveryType) {
  EXPECT_EQ(json_get<bool>(kCfg, "flag", false, "c"), true);
  EXPECT_EQ(json_get<int64_t>(kCfg, "n", 0, "c"), 12);
  EXPECT_EQ(json_get<int64_t>(kCfg, "neg", 0, "c"), -3);
  EXPECT_EQ(json_get<int64_t>(kCfg, "big", 0, "c"), 3000000000LL);
  EXPECT_EQ(json_get<int>(kCfg, "n", 0, "c"), 12);
  EXPECT_EQ(json_get<double>(kCfg, "f", 0, "c"), 0.5);
  EXPECT_EQ(json_get<float>(kCfg, "eps", 0, "c"), 1e-12f);
  EXPECT_EQ(json_get<std::string>(kCfg, "s", "", "c"), "gelu");
  EXPECT_EQ(json_get<std::vector<int64_t>>(kCfg, "ids", {}, "c"), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(json_get<std::vector<std::string>>(kCfg, "names", {}, "c"),
            (std::vector<std::string>{"a", "b"}));
}

TEST(JsonGet, DeducesTheTypeFromTheDefault) {
  EXPECT_EQ(json_get(kCfg, "n", 768, "c"), 12);
  EXPECT_EQ(json_get(kCfg, "f", 1e-12, "c"), 0.5);
  EXPECT_EQ(json_get(kCfg, "s", "relu", "c"), "gelu");
  EXPECT_EQ(json_get(kCfg, "missing", "relu", "c"), "relu");
  EXPECT_EQ(json_get(kCfg, "flag", false, "c"), true);
}

TEST(JsonGet, IntegersAreNumbers) {
  EXPECT_EQ(json_get<double>(kCfg, "n", 0, "c"), 12.0);
  EXPECT_EQ(json_get<float>(kCfg, "neg", 0, "c"), -3.0f);
  // a whole float is an integer
  EXPECT_EQ(json_get<int64_t>(kCfg, "whole", 0, "c"), 2);
  EXPECT_EQ(json_get<int>(kCfg, "whole", 0, "c"), 2);
}

TEST(JsonGet, WrongTypesNameFileKeyAndTypes) {
  EXPECT_EQ(format_error([] { json_get<int64_t>(kCfg, "s", 0, "config.json"); }),
            "config.json: key 's' should be an integer, got string \"gelu\"");
  EXPECT_EQ(format_error([] { json_get<int64_t>(kCfg, "f", 0, "config.json"); }),
            "config.json: key 'f' should be an integer, got number 0.5");
  EXPECT_EQ(format_error([] { json_get<int>(kCfg, "flag", 0, "config.json"); }),
            "config.json: key 'flag' should be a 32-bit integer, got boolean true");
  EXPECT_NE(format_error([] { json_get<int>(kCfg, "big", 0, "config.json"); })
                .find("config.json: key 'big' should be a 32-bit integer"),
            std::string::npos);
  EXPECT_NE(format_error([] { json_get<int64_t>(kCfg, "huge", 0, "config.json"); })
                .find("key 'huge' should be an integer"),
            std::string::npos);
  EXPECT_EQ(format_error([] { json_get<bool>(kCfg, "n", false, "config.json"); }),
            "config.json: key 'n' should be a boolean, got number 12");
  EXPECT_EQ(format_error([] { json_get<double>(kCfg, "flag", 0, "config.json"); }),
            "config.json: key 'flag' should be a number, got boolean true");
  EXPECT_EQ(format_error([] { json_get<float>(kCfg, "s", 0, "config.json"); }),
            "config.json: key 's' should be a number in float range, got string \"gelu\"");
  EXPECT_EQ(format_error([] { json_get<std::string>(kCfg, "n", "", "config.json"); }),
            "config.json: key 'n' should be a string, got number 12");
  EXPECT_EQ(format_error([] { json_get<std::string>(kCfg, "obj", "", "config.json"); }),
            "config.json: key 'obj' should be a string, got object");
  EXPECT_EQ(format_error([] { json_get<std::vector<int64_t>>(kCfg, "n", {}, "config.json"); }),
            "config.json: key 'n' should be a list of integers, got number 12");
  EXPECT_EQ(format_error([] { json_get<std::vector<int64_t>>(kCfg, "mixed", {}, "config.json"); }),
            "config.json: key 'mixed' should be a list of integers, got array with string \"x\" at index 1");
  EXPECT_EQ(format_error([] { json_get<std::vector<std::string>>(kCfg, "mixed", {}, "config.json"); }),
            "config.json: key 'mixed' should be a list of strings, got array with number 1 at index 0");
  EXPECT_EQ(format_error([] { json_get<std::vector<std::string>>(kCfg, "s", {}, "config.json"); }),
            "config.json: key 's' should be a list of strings, got string \"gelu\"");
}

TEST(JsonGet, NotAnObject) {
  json arr = json::array({1, 2});
  std::string m = format_error([&] { json_get<int>(arr, "k", 0, "config.json"); });
  EXPECT_NE(m.find("config.json"), std::string::npos) << m;
  EXPECT_NE(m.find("'k'"), std::string::npos) << m;
}

TEST(JsonGet, FloatRange) {
  json j = json::parse(R"({"x": 1e300, "y": -1e39})");
  EXPECT_THROW(json_get<float>(j, "x", 0, "c"), FormatError);
  EXPECT_THROW(json_get<float>(j, "y", 0, "c"), FormatError);
  EXPECT_EQ(json_get<double>(j, "x", 0, "c"), 1e300);
  EXPECT_THROW(json_get<int64_t>(j, "x", 0, "c"), FormatError);
}

}  // namespace
}  // namespace cppformers::io
