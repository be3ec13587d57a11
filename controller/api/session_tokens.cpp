#include "controller/api/session_tokens.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include <openssl/rand.h>
#include <openssl/sha.h>

namespace sy::api {

namespace {

std::string hex(const unsigned char* raw, std::size_t bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[raw[i] >> 4];
    out += kHex[raw[i] & 15];
  }
  return out;
}

std::string random_hex(std::size_t bytes) {
  std::array<unsigned char, 64> raw{};
  if (bytes > raw.size() || RAND_bytes(raw.data(), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("no randomness for a session token");
  }
  return hex(raw.data(), bytes);
}

// Sessions are kept under the token's SHA-256: a lookup's timing then tells an attacker about
// digests, which says nothing of any live token.
std::string digest_of(const std::string& token) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), d.data());
  return hex(d.data(), d.size());
}

}  // namespace

std::string SessionTokens::issue(const std::string& user, std::int64_t now_ms,
                                 std::int64_t ttl_ms) {
  std::string token = random_hex(32);
  const std::scoped_lock lock(mutex_);
  std::erase_if(sessions_, [now_ms](const auto& s) { return s.second.expires_ms <= now_ms; });
  while (sessions_.size() >= kMaxLive) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.expires_ms < b.second.expires_ms;
    });
    sessions_.erase(oldest);
  }
  sessions_[digest_of(token)] = {user, now_ms + ttl_ms};
  return token;
}

std::optional<SessionTokens::Session> SessionTokens::find(const std::string& token,
                                                          std::int64_t now_ms) const {
  const std::string key = digest_of(token);
  const std::scoped_lock lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) return std::nullopt;
  return it->second;
}

std::size_t SessionTokens::live(std::int64_t now_ms) const {
  const std::scoped_lock lock(mutex_);
  return static_cast<std::size_t>(
      std::count_if(sessions_.begin(), sessions_.end(),
                    [now_ms](auto& s) { return s.second.expires_ms > now_ms; }));
}

}  // namespace sy::api
