#pragma once
// Warnings as transformers' logger prints them; silenced with CPPFORMERS_VERBOSITY=error.
#include <string>

namespace cppformers {
void log_warning(const std::string& message);
}  // namespace cppformers
