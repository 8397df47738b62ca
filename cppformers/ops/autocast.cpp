#include "cppformers/ops/autocast.hpp"

#include "cppformers/ops/cpu/gemm.hpp"

namespace cppformers::ops {

namespace {
thread_local bool g_autocast = false;
}

AutocastGuard::AutocastGuard(bool enabled) : previous_(g_autocast) { g_autocast = enabled; }
AutocastGuard::~AutocastGuard() { g_autocast = previous_; }

bool native_bf16_gemm() { return cpu::native_bf16(); }

bool autocast_bf16() { return g_autocast && native_bf16_gemm(); }

}  // namespace cppformers::ops
