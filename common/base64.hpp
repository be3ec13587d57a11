#pragma once
// Base64 (RFC 4648, with padding) through OpenSSL: srun's task lists on a command line, and
// WebDriver's screenshots in tests.

#include <optional>
#include <string>

namespace sy {

std::string base64(const std::string& bytes);
// nullopt for text that is not padded base64.
std::optional<std::string> unbase64(const std::string& text);

}  // namespace sy
