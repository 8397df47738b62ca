#include "cppformers/processors/audio.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "cppformers/io/safetensors.hpp"
#include "cppformers/testing/fixtures.hpp"

namespace cppformers::processors {
namespace {

const std::string& dir() {
  static const std::string d = testing::hf_fixture("processors");
  return d;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

TEST(Audio, ReadsPcm16WavAsInt16Over32768) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  Audio a = read_audio(dir() + "/audio.wav");
  EXPECT_EQ(a.sampling_rate, 16000);
  EXPECT_EQ(a.channels, 1);
  Tensor t = Tensor::from_vector(a.samples, {int64_t(a.samples.size())});
  EXPECT_TRUE(testing::all_close(t, gold.at("audio.waveform"), 0, 0));
}

TEST(Audio, WhisperLogMelMatchesBothPythonPaths) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  auto fe = WhisperFeatureExtractor::from_pretrained(dir() + "/whisper");
  // mel filters
  Tensor filters = Tensor::from_vector(std::vector<float>(fe.mel_filters.begin(), fe.mel_filters.end()), {201, 80});
  EXPECT_TRUE(testing::all_close(filters, gold.at("whisper.mel_filters"), 1e-7, 1e-5));
  Tensor feats = fe({load_audio(dir() + "/audio.wav")});
  EXPECT_TRUE(testing::all_close(feats, gold.at("whisper.input_features"), 1e-4, 0));
  EXPECT_TRUE(testing::all_close(feats, gold.at("whisper.input_features_numpy_path"), 1e-4, 0));
}

TEST(Audio, Wav2Vec2NormalisationAndPadding) {
  auto gold = io::load_file(dir() + "/golden.safetensors");
  auto fe = Wav2Vec2FeatureExtractor::from_pretrained(dir() + "/wav2vec2");
  auto wav = load_audio(dir() + "/audio.wav");
  EXPECT_TRUE(testing::all_close(fe({wav}), gold.at("wav2vec2.input_values"), 1e-4, 0));
  Tensor mask;
  Tensor batch = fe({wav, std::vector<float>(wav.begin(), wav.begin() + 16000)}, &mask);
  EXPECT_TRUE(testing::all_close(batch, gold.at("wav2vec2.batch.input_values"), 1e-4, 0));
  EXPECT_EQ(mask.to_vector<int64_t>(), gold.at("wav2vec2.batch.attention_mask").to_vector<int64_t>());
}

TEST(Audio, ResamplesStereoToMono16k) {
  // a 440 Hz tone at 44.1 kHz, two channels (one silent): mono halves it, resampling keeps the tone
  Audio a;
  a.sampling_rate = 44100;
  a.channels = 2;
  for (int i = 0; i < 44100; ++i) {
    a.samples.push_back(float(std::sin(2 * M_PI * 440 * i / 44100.0)));
    a.samples.push_back(0.0f);
  }
  auto mono = to_mono(a);
  ASSERT_EQ(mono.size(), 44100u);
  auto r = resample(mono, 44100, 16000);
  ASSERT_EQ(r.size(), 16000u);
  double err = 0;
  for (int i = 100; i < 15900; ++i) err = std::max(err, std::abs(r[size_t(i)] - 0.5 * std::sin(2 * M_PI * 440 * i / 16000.0)));
  EXPECT_LT(err, 5e-3);
}

TEST(Audio, CorruptAndTruncatedFilesGiveClearErrors) {
  auto bytes = file_bytes(dir() + "/audio.wav");
  // the header promises 24000 samples; only half the data is there
  EXPECT_THROW(decode_audio(bytes.data(), bytes.size() / 2, "cut.wav"), FormatError);
  std::vector<uint8_t> junk(200, 0x11);
  try {
    decode_audio(junk.data(), junk.size(), "junk.wav");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.wav"), std::string::npos);
  }
  EXPECT_THROW(decode_audio(bytes.data(), 20, "header_only.wav"), FormatError);
  EXPECT_THROW(decode_audio(bytes.data(), 0, "empty.wav"), FormatError);
  EXPECT_THROW(read_audio("/nonexistent/a.wav"), IOError);
}

}  // namespace
}  // namespace cppformers::processors
