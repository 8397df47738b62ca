#include "cppformers/training/data/records.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cppformers/core/error.hpp"

namespace cppformers {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("cf_records_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

TEST(Records, FortuneFormat) {
  TempDir d;
  const std::string f = d.write("food", "Eat.\n\t-- Mom\n%\n\n%\nA second\r\nrecord\n%\nlast without separator");
  EXPECT_EQ(read_text_records(f, "%"),
            (std::vector<std::string>{"Eat.\n\t-- Mom", "A second\nrecord", "last without separator"}));
}

TEST(Records, OnePerLineWithoutSeparator) {
  TempDir d;
  const std::string f = d.write("x", "a\n\n  \nb c\n");
  EXPECT_EQ(read_text_records(f, std::nullopt), (std::vector<std::string>{"a", "b c"}));
}

TEST(Records, ErrorsNameTheFile) {
  TempDir d;
  const std::string f = d.write("bad", "ok\n%\n\xff\xfe\n");
  try {
    read_text_records(f, "%");
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad"), std::string::npos);
  }
  EXPECT_THROW(read_text_records((d.path / "missing").string(), "%"), IOError);
}

TEST(Records, DatasetLabelsByFileNameAndDropsAmbiguousDuplicates) {
  TempDir d;
  const std::string love = d.write("love", "kiss\n%\nshared\n%\nkiss\n%\nheart\n");
  const std::string food = d.write("food", "bread\n%\nshared\n");
  Dataset ds = dataset_from_record_files({love, food}, {.separator = "%"});
  EXPECT_EQ(ds.label_names(), (std::vector<std::string>{"food", "love"}));
  ASSERT_EQ(ds.size(), 3u);  // kiss (once), heart, bread; "shared" is under two labels
  EXPECT_EQ(ds[0].text, "kiss");
  EXPECT_EQ(ds[0].label, 1);
  EXPECT_EQ(ds[1].text, "heart");
  EXPECT_EQ(ds[2].text, "bread");
  EXPECT_EQ(ds[2].label, 0);

  const std::string out = (d.path / "out.jsonl").string();
  write_jsonl(ds, out);
  Dataset back = Dataset::from_file(out);
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back.label_names(), ds.label_names());
  EXPECT_EQ(back[2].text, "bread");
  EXPECT_EQ(back[2].label, 0);
}

}  // namespace
}  // namespace cppformers
