#pragma once
// StoreError: the one error type of the controller's persistence layer.

#include <string>

namespace sy::store {

struct StoreError {
  enum class Code { not_found, conflict, internal };
  Code code = Code::internal;
  std::string message;

  static StoreError not_found(std::string m) { return {Code::not_found, std::move(m)}; }
  static StoreError conflict(std::string m) { return {Code::conflict, std::move(m)}; }
  static StoreError internal(std::string m) { return {Code::internal, std::move(m)}; }
};

}  // namespace sy::store
