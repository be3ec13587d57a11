#pragma once
// MUNGE credentials, as Slurm uses them: a client asks its local munged for a credential that
// says its uid, the controller asks its own munged (same cluster key) who made it. munged
// refuses a replayed or expired credential, so each request gets a fresh one.

#include <sys/types.h>
#include <string>

#include "common/result.hpp"

namespace sy::munge {

// `socket` empty: munged's default socket.
Result<std::string, std::string> encode(const std::string& socket);

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
};
Result<Identity, std::string> decode(const std::string& credential, const std::string& socket);

}  // namespace sy::munge
