#include "cppformers/core/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>

namespace cppformers {

namespace {

// -1: no choice made (environment / terminal), 0: off, 1: on.
std::atomic<int> g_choice{-1};

std::optional<bool> env_choice() {
  const char* v = std::getenv("CPPFORMERS_PROGRESS");
  if (!v || !*v) return std::nullopt;
  std::string s(v);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (s == "1" || s == "true" || s == "yes" || s == "on") return true;
  if (s == "0" || s == "false" || s == "no" || s == "off") return false;
  return std::nullopt;  // anything else: as if unset
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.1f%s", bytes, units[u]);
  return buf;
}

std::string clock_text(double secs) {
  if (!(secs >= 0) || secs > 1e7) return "?";
  long s = long(secs + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02ld:%02ld", s / 60, s % 60);
  return buf;
}

}  // namespace

void set_progress_bars(std::optional<bool> on) { g_choice = on ? int(*on) : -1; }

bool progress_bars_enabled() {
  const int c = g_choice;
  if (c >= 0) return c == 1;
  if (auto e = env_choice()) return *e;
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::string desc, uint64_t total, ProgressUnit unit, std::optional<bool> enabled)
    : desc_(std::move(desc)), total_(total), unit_(unit) {
  on_ = enabled ? *enabled : progress_bars_enabled();
  t0_ = std::chrono::steady_clock::now();
  last_ = t0_;
  if (on_) draw();
}

ProgressBar::ProgressBar(ProgressBar&& o) noexcept { *this = std::move(o); }

ProgressBar& ProgressBar::operator=(ProgressBar&& o) noexcept {
  if (this != &o) {
    close();
    desc_ = std::move(o.desc_);
    total_ = o.total_, done_ = o.done_, base_ = o.base_;
    unit_ = o.unit_;
    on_ = o.on_, closed_ = o.closed_;
    t0_ = o.t0_, last_ = o.last_;
    o.on_ = false;  // the moved-from bar draws nothing more
    o.closed_ = true;
  }
  return *this;
}

ProgressBar::~ProgressBar() { close(); }

void ProgressBar::update(uint64_t n) {
  done_ += n;
  if (!on_ || closed_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(100) && !(total_ && done_ >= total_)) return;
  last_ = now;
  draw();
}

void ProgressBar::reset(uint64_t done) {
  done_ = base_ = done;
  t0_ = std::chrono::steady_clock::now();
  if (on_ && !closed_) draw();
}

void ProgressBar::close() {
  if (closed_) return;
  closed_ = true;
  if (!on_) return;
  std::fprintf(stderr, "\r%s\n", render().c_str());
  std::fflush(stderr);
}

void ProgressBar::draw() {
  std::fprintf(stderr, "\r%s", render().c_str());
  std::fflush(stderr);
}

std::string ProgressBar::render() const {
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double rate = secs > 0 ? double(done_ - std::min(done_, base_)) / secs : 0;
  const bool bytes = unit_ == ProgressUnit::kBytes;
  auto amount = [&](uint64_t v) { return bytes ? human_bytes(double(v)) : std::to_string(v); };
  char rate_buf[48];
  if (bytes) std::snprintf(rate_buf, sizeof rate_buf, "%s/s", human_bytes(rate).c_str());
  else std::snprintf(rate_buf, sizeof rate_buf, "%.2fit/s", rate);
  std::string shown = desc_.size() > 40 ? "..." + desc_.substr(desc_.size() - 37) : desc_;
  std::string line = shown.empty() ? "" : shown + ": ";
  if (total_ == 0) return line + amount(done_) + " [" + clock_text(secs) + ", " + rate_buf + "]";
  const double frac = std::min(1.0, double(done_) / double(total_));
  const int width = 30, filled = int(frac * width);
  char pct[8];
  std::snprintf(pct, sizeof pct, "%3d%%", int(frac * 100));
  const double remaining = rate > 0 ? double(total_ - std::min(done_, total_)) / rate : -1;
  return line + pct + "|" + std::string(filled, '#') + std::string(width - filled, ' ') + "| " + amount(done_) + "/" +
         amount(total_) + " [" + clock_text(secs) + "<" + clock_text(remaining) + ", " + rate_buf + "]";
}

}  // namespace cppformers
