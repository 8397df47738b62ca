#include "cppformers/core/logging.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cppformers {
void log_warning(const std::string& message) {
  const char* v = std::getenv("CPPFORMERS_VERBOSITY");
  if (v && (!std::strcmp(v, "error") || !std::strcmp(v, "critical"))) return;
  std::fprintf(stderr, "cppformers: warning: %s\n", message.c_str());
}
}  // namespace cppformers
