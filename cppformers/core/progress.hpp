#pragma once
// A progress bar on stderr, drawn as tqdm draws one:
//
//   desc:  42%|############                | 42/100 [00:03<00:04, 12.3it/s]
//   model.safetensors:  10%|###           | 52.4MB/524.3MB [00:02<00:18, 26.2MB/s]
//
// Used by the pipelines (many inputs), the Hub client (downloads) and the Trainer. Bars go to
// stderr only, never stdout, and are shown only when enabled:
//   1. set_progress_bars(true / false) (the program's --progress / --no-progress) wins; else
//   2. CPPFORMERS_PROGRESS: 1/true/yes/on forces bars on (also into a file or pipe),
//      0/false/no/off turns them off; else
//   3. bars are on when stderr is a terminal.
// A bar redraws in place ('\r') at most every 100 ms, and once more, complete, when closed.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace cppformers {

enum class ProgressUnit { kItems, kBytes };

// The process-wide choice (1. above); std::nullopt goes back to the environment / terminal rule.
void set_progress_bars(std::optional<bool> on);
// Whether a bar made now with no explicit choice would be shown (the rules above).
bool progress_bars_enabled();

class ProgressBar {
 public:
  ProgressBar() = default;  // a bar that shows nothing
  // total 0: unknown (counts and rate only). enabled: std::nullopt follows progress_bars_enabled().
  ProgressBar(std::string desc, uint64_t total, ProgressUnit unit = ProgressUnit::kItems,
              std::optional<bool> enabled = std::nullopt);
  ProgressBar(ProgressBar&& o) noexcept;
  ProgressBar& operator=(ProgressBar&& o) noexcept;
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar();

  void update(uint64_t n = 1);
  // Sets the count (a resumed download starts at what it had; a restarted one at 0); the rate
  // counts from here.
  void reset(uint64_t done = 0);
  // Draws the final state and ends the line; later updates draw nothing. Idempotent.
  void close();

  bool enabled() const { return on_; }
  uint64_t count() const { return done_; }
  uint64_t total() const { return total_; }
  // The line as it would be drawn now (without '\r'); for tests and logs.
  std::string render() const;

 private:
  void draw();
  std::string desc_;
  uint64_t total_ = 0, done_ = 0, base_ = 0;
  ProgressUnit unit_ = ProgressUnit::kItems;
  bool on_ = false, closed_ = false;
  std::chrono::steady_clock::time_point t0_{}, last_{};
};

}  // namespace cppformers
