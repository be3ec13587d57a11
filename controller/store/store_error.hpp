#pragma once
// StoreError: the one error type of the controller's persistence layer.

#include <string>

namespace sy::store {

struct StoreError {
  // invalid: the request names something that does not exist or cannot be (field says where).
  enum class Code { not_found, conflict, internal, invalid };
  Code code = Code::internal;
  std::string message;
  std::string field;

  static StoreError not_found(std::string m) { return {Code::not_found, std::move(m), {}}; }
  static StoreError conflict(std::string m) { return {Code::conflict, std::move(m), {}}; }
  static StoreError internal(std::string m) { return {Code::internal, std::move(m), {}}; }
  static StoreError invalid(std::string field, std::string m) {
    return {Code::invalid, std::move(m), std::move(field)};
  }
};

}  // namespace sy::store
