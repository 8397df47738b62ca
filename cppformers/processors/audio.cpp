#include "cppformers/processors/audio.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <numeric>

#include <fftw3.h>
#include <sndfile.h>

#include "cppformers/core/error.hpp"
#include "cppformers/io/json.hpp"

namespace cppformers::processors {

namespace {

// libsndfile's virtual I/O over a byte buffer.
struct MemFile {
  const uint8_t* data;
  sf_count_t size, pos = 0;
};
sf_count_t mem_len(void* u) { return static_cast<MemFile*>(u)->size; }
sf_count_t mem_seek(sf_count_t off, int whence, void* u) {
  auto* m = static_cast<MemFile*>(u);
  sf_count_t p = whence == SEEK_SET ? off : whence == SEEK_CUR ? m->pos + off : m->size + off;
  m->pos = std::clamp<sf_count_t>(p, 0, m->size);
  return m->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* u) {
  auto* m = static_cast<MemFile*>(u);
  const sf_count_t n = std::max<sf_count_t>(0, std::min(count, m->size - m->pos));
  if (n > 0) std::memcpy(ptr, m->data + m->pos, size_t(n));
  m->pos += n;
  return n;
}
sf_count_t mem_write(const void*, sf_count_t, void*) { return 0; }
sf_count_t mem_tell(void* u) { return static_cast<MemFile*>(u)->pos; }

}  // namespace

Audio decode_audio(const uint8_t* data, size_t size, const std::string& name) {
  if (size == 0) throw FormatError(name + ": empty audio file");
  MemFile mf{data, sf_count_t(size)};
  SF_VIRTUAL_IO io{mem_len, mem_seek, mem_read, mem_write, mem_tell};
  SF_INFO info{};
  SNDFILE* f = sf_open_virtual(&io, SFM_READ, &info, &mf);
  if (!f)
    throw FormatError(name + ": not a readable audio file (" + std::string(sf_strerror(nullptr)) +
                      "; supported: WAV, FLAC, OGG/Vorbis, AIFF, ...)");
  struct Closer {
    SNDFILE* f;
    ~Closer() { sf_close(f); }
  } closer{f};
  if (info.channels <= 0 || info.channels > 64 || info.samplerate <= 0 || info.frames < 0)
    throw FormatError(name + ": invalid audio header (" + std::to_string(info.channels) + " channels, " +
                      std::to_string(info.samplerate) + " Hz)");
  if (info.frames > (int64_t(1) << 32) / info.channels) throw FormatError(name + ": audio too long");
  // libsndfile shortens the frame count of a data chunk cut short and notes it in its log.
  char log[4096] = {0};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof(log));
  const std::string logs(log);
  if (logs.find("truncated") != std::string::npos || logs.find("should be") != std::string::npos)
    throw FormatError(name + ": truncated audio file (the header promises more data than the file holds)");
  Audio a;
  a.sampling_rate = info.samplerate;
  a.channels = info.channels;
  a.samples.resize(size_t(info.frames) * size_t(info.channels));
  const sf_count_t got = sf_readf_float(f, a.samples.data(), info.frames);
  if (got != info.frames)
    throw FormatError(name + ": truncated or corrupt audio data (read " + std::to_string(got) + " of " +
                      std::to_string(info.frames) + " frames)");
  if (sf_error(f) != SF_ERR_NO_ERROR) throw FormatError(name + ": corrupt audio data (" + std::string(sf_strerror(f)) + ")");
  return a;
}

Audio read_audio(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw IOError(path + ": cannot open audio file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return decode_audio(bytes.data(), bytes.size(), path);
}

std::vector<float> to_mono(const Audio& a) {
  if (a.channels == 1) return a.samples;
  const int64_t n = a.frames();
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t c = 0; c < a.channels; ++c) s += a.samples[size_t(i * a.channels + c)];
    out[size_t(i)] = float(s / double(a.channels));
  }
  return out;
}

std::vector<float> resample(const std::vector<float>& x, int64_t from_rate, int64_t to_rate) {
  if (from_rate <= 0 || to_rate <= 0) throw ValueError("resample: sampling rates must be positive");
  if (from_rate == to_rate || x.empty()) return x;
  const int64_t g = std::gcd(from_rate, to_rate);
  const int64_t orig = from_rate / g, neu = to_rate / g;
  const double lpw = 6.0, rolloff = 0.99;
  const double base_freq = double(std::min(orig, neu)) * rolloff;
  const int64_t width = int64_t(std::ceil(lpw * double(orig) / base_freq));
  const int64_t L = 2 * width + orig;
  std::vector<double> kernels(static_cast<size_t>(neu * L));
  const double scale = base_freq / double(orig);
  for (int64_t p = 0; p < neu; ++p)
    for (int64_t l = 0; l < L; ++l) {
      double t = (-double(p) / double(neu) + double(l - width) / double(orig)) * base_freq;
      t = std::clamp(t, -lpw, lpw);
      const double w = std::pow(std::cos(t * M_PI / lpw / 2), 2);
      t *= M_PI;
      kernels[size_t(p * L + l)] = (t == 0 ? 1.0 : std::sin(t) / t) * w * scale;
    }
  const int64_t n = int64_t(x.size());
  auto at = [&](int64_t i) -> double { return (i < 0 || i >= n) ? 0.0 : double(x[size_t(i)]); };  // zero padding
  const int64_t target = int64_t(std::ceil(double(neu) * double(n) / double(orig)));
  std::vector<float> out(static_cast<size_t>(target));
  for (int64_t o = 0; o < target; ++o) {
    const int64_t j = o / neu, p = o % neu;
    double s = 0;
    for (int64_t l = 0; l < L; ++l) s += at(j * orig + l - width) * kernels[size_t(p * L + l)];
    out[size_t(o)] = float(s);
  }
  return out;
}

std::vector<float> load_audio(const std::string& path, int64_t sampling_rate) {
  Audio a = read_audio(path);
  return resample(to_mono(a), a.sampling_rate, sampling_rate);
}

// ---- mel filters (transformers.audio_utils, slaney scale and norm)
namespace {
double hz_to_mel(double f) {
  const double min_log_hz = 1000.0, min_log_mel = 15.0, logstep = 27.0 / std::log(6.4);
  double m = 3.0 * f / 200.0;
  if (f >= min_log_hz) m = min_log_mel + std::log(f / min_log_hz) * logstep;
  return m;
}
double mel_to_hz(double m) {
  const double min_log_hz = 1000.0, min_log_mel = 15.0, logstep = std::log(6.4) / 27.0;
  double f = 200.0 * m / 3.0;
  if (m >= min_log_mel) f = min_log_hz * std::exp(logstep * (m - min_log_mel));
  return f;
}
}  // namespace

std::vector<double> mel_filter_bank(int64_t nbins, int64_t nmels, double fmin, double fmax, int64_t sr) {
  const double mmin = hz_to_mel(fmin), mmax = hz_to_mel(fmax);
  std::vector<double> filter_freqs(static_cast<size_t>(nmels + 2));
  for (int64_t i = 0; i < nmels + 2; ++i)
    filter_freqs[size_t(i)] = mel_to_hz(mmin + (mmax - mmin) * double(i) / double(nmels + 1));
  std::vector<double> fft_freqs(static_cast<size_t>(nbins));
  const double top = double(sr / 2);
  for (int64_t i = 0; i < nbins; ++i) fft_freqs[size_t(i)] = nbins == 1 ? 0 : top * double(i) / double(nbins - 1);
  std::vector<double> fb(static_cast<size_t>(nbins * nmels));
  for (int64_t b = 0; b < nbins; ++b)
    for (int64_t m = 0; m < nmels; ++m) {
      const double down = -(filter_freqs[size_t(m)] - fft_freqs[size_t(b)]) / (filter_freqs[size_t(m + 1)] - filter_freqs[size_t(m)]);
      const double up = (filter_freqs[size_t(m + 2)] - fft_freqs[size_t(b)]) / (filter_freqs[size_t(m + 2)] - filter_freqs[size_t(m + 1)]);
      const double enorm = 2.0 / (filter_freqs[size_t(m + 2)] - filter_freqs[size_t(m)]);
      fb[size_t(b * nmels + m)] = std::max(0.0, std::min(down, up)) * enorm;
    }
  return fb;
}

// ---- Whisper
WhisperFeatureExtractor::WhisperFeatureExtractor() { init_filters(); }

void WhisperFeatureExtractor::init_filters() {
  n_samples = chunk_length * sampling_rate;
  nb_max_frames = n_samples / hop_length;
  mel_filters = mel_filter_bank(1 + n_fft / 2, feature_size, 0.0, 8000.0, sampling_rate);
}

WhisperFeatureExtractor WhisperFeatureExtractor::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  using io::json_get;
  WhisperFeatureExtractor w;
  w.feature_size = json_get<int64_t>(j, "feature_size", w.feature_size, file);
  w.sampling_rate = json_get<int64_t>(j, "sampling_rate", w.sampling_rate, file);
  w.hop_length = json_get<int64_t>(j, "hop_length", w.hop_length, file);
  w.chunk_length = json_get<int64_t>(j, "chunk_length", w.chunk_length, file);
  w.n_fft = json_get<int64_t>(j, "n_fft", w.n_fft, file);
  w.padding_value = json_get<double>(j, "padding_value", w.padding_value, file);
  if (w.feature_size <= 0 || w.sampling_rate <= 0 || w.hop_length <= 0 || w.chunk_length <= 0 || w.n_fft < 2)
    throw FormatError(file + ": feature_size, sampling_rate, hop_length, chunk_length and n_fft must be positive");
  w.init_filters();
  return w;
}

WhisperFeatureExtractor WhisperFeatureExtractor::from_pretrained(const std::string& dir) {
  const std::string file = (std::filesystem::path(dir) / "preprocessor_config.json").string();
  if (!std::filesystem::exists(file)) throw IOError(dir + ": no preprocessor_config.json in the model folder");
  return from_json(io::read_json_file(file), file);
}

std::vector<float> WhisperFeatureExtractor::log_mel(const std::vector<float>& x, int64_t* frames_out) const {
  const int64_t n = int64_t(x.size()), half = n_fft / 2;
  if (n <= half) throw ValueError("WhisperFeatureExtractor: waveform shorter than n_fft / 2 cannot be reflect-padded");
  // center=True: reflect padding by n_fft / 2 on both sides
  std::vector<double> padded(static_cast<size_t>(n + 2 * half));
  for (int64_t i = 0; i < n + 2 * half; ++i) {
    int64_t j = i - half;
    if (j < 0) j = -j;
    if (j >= n) j = 2 * (n - 1) - j;
    padded[size_t(i)] = x[size_t(j)];
  }
  const int64_t num_frames = 1 + (int64_t(padded.size()) - n_fft) / hop_length;
  const int64_t frames = num_frames - 1;  // the last frame is dropped
  const int64_t nbins = n_fft / 2 + 1, M = feature_size;
  std::vector<double> window(static_cast<size_t>(n_fft));
  for (int64_t i = 0; i < n_fft; ++i) window[size_t(i)] = 0.5 - 0.5 * std::cos(2.0 * M_PI * double(i) / double(n_fft));
  double* in = fftw_alloc_real(size_t(n_fft));
  fftw_complex* out = fftw_alloc_complex(size_t(nbins));
  fftw_plan plan;
  {
    static std::mutex planner;  // FFTW's planner is not thread-safe
    std::lock_guard<std::mutex> lock(planner);
    plan = fftw_plan_dft_r2c_1d(int(n_fft), in, out, FFTW_ESTIMATE);
  }
  std::vector<double> logmel(static_cast<size_t>(M * frames));
  std::vector<double> power(static_cast<size_t>(nbins));
  double maxv = -1e300;
  for (int64_t t = 0; t < frames; ++t) {
    for (int64_t i = 0; i < n_fft; ++i) in[i] = padded[size_t(t * hop_length + i)] * window[size_t(i)];
    fftw_execute(plan);
    for (int64_t b = 0; b < nbins; ++b) power[size_t(b)] = out[b][0] * out[b][0] + out[b][1] * out[b][1];
    for (int64_t m = 0; m < M; ++m) {
      double s = 0;
      for (int64_t b = 0; b < nbins; ++b) s += mel_filters[size_t(b * M + m)] * power[size_t(b)];
      const double v = std::log10(std::max(s, 1e-10));
      logmel[size_t(m * frames + t)] = v;
      maxv = std::max(maxv, v);
    }
  }
  {
    static std::mutex planner;
    std::lock_guard<std::mutex> lock(planner);
    fftw_destroy_plan(plan);
  }
  fftw_free(in);
  fftw_free(out);
  std::vector<float> res(logmel.size());
  for (size_t i = 0; i < logmel.size(); ++i) res[i] = float((std::max(logmel[i], maxv - 8.0) + 4.0) / 4.0);
  *frames_out = frames;
  return res;
}

Tensor WhisperFeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms) const {
  if (waveforms.empty()) throw ValueError("WhisperFeatureExtractor: no audio given");
  Tensor out = Tensor::empty({int64_t(waveforms.size()), feature_size, nb_max_frames});
  float* p = out.data<float>();
  for (size_t b = 0; b < waveforms.size(); ++b) {
    std::vector<float> x(static_cast<size_t>(n_samples), float(padding_value));
    std::copy_n(waveforms[b].begin(), std::min<size_t>(waveforms[b].size(), size_t(n_samples)), x.begin());
    int64_t frames = 0;
    std::vector<float> lm = log_mel(x, &frames);
    if (frames != nb_max_frames) throw ValueError("WhisperFeatureExtractor: unexpected frame count");
    std::copy(lm.begin(), lm.end(), p + b * size_t(feature_size * nb_max_frames));
  }
  return out;
}

// ---- Wav2Vec2
Wav2Vec2FeatureExtractor Wav2Vec2FeatureExtractor::from_json(const nlohmann::json& j, const std::string& file) {
  if (!j.is_object()) throw FormatError(file + ": expected a JSON object");
  using io::json_get;
  Wav2Vec2FeatureExtractor w;
  w.feature_size = json_get<int64_t>(j, "feature_size", w.feature_size, file);
  w.sampling_rate = json_get<int64_t>(j, "sampling_rate", w.sampling_rate, file);
  w.padding_value = json_get<double>(j, "padding_value", w.padding_value, file);
  w.do_normalize = json_get<bool>(j, "do_normalize", w.do_normalize, file);
  w.return_attention_mask = json_get<bool>(j, "return_attention_mask", w.return_attention_mask, file);
  return w;
}

Wav2Vec2FeatureExtractor Wav2Vec2FeatureExtractor::from_pretrained(const std::string& dir) {
  const std::string file = (std::filesystem::path(dir) / "preprocessor_config.json").string();
  if (!std::filesystem::exists(file)) throw IOError(dir + ": no preprocessor_config.json in the model folder");
  return from_json(io::read_json_file(file), file);
}

std::vector<float> Wav2Vec2FeatureExtractor::normalize(const std::vector<float>& x) const {
  if (x.empty()) return x;
  double mean = 0;
  for (float v : x) mean += v;
  mean /= double(x.size());
  double var = 0;
  for (float v : x) var += (v - mean) * (v - mean);
  var /= double(x.size());
  const double denom = std::sqrt(var + 1e-7);
  std::vector<float> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = float((x[i] - mean) / denom);
  return out;
}

Tensor Wav2Vec2FeatureExtractor::operator()(const std::vector<std::vector<float>>& waveforms, Tensor* attention_mask) const {
  if (waveforms.empty()) throw ValueError("Wav2Vec2FeatureExtractor: no audio given");
  size_t longest = 0;
  for (const auto& w : waveforms) longest = std::max(longest, w.size());
  Tensor out = Tensor::full({int64_t(waveforms.size()), int64_t(longest)}, padding_value);
  Tensor mask = Tensor::zeros({int64_t(waveforms.size()), int64_t(longest)}, kI64);
  for (size_t b = 0; b < waveforms.size(); ++b) {
    std::vector<float> v = do_normalize ? normalize(waveforms[b]) : waveforms[b];
    std::copy(v.begin(), v.end(), out.data<float>() + b * longest);
    std::fill_n(mask.data<int64_t>() + b * longest, waveforms[b].size(), 1);
  }
  if (attention_mask) *attention_mask = mask;
  return out;
}

}  // namespace cppformers::processors
