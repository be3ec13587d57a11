#include "common/munge_credential.hpp"

#include <munge.h>

#include <cstdlib>
#include <memory>

namespace sy::munge {
namespace {

struct ContextDeleter {
  void operator()(munge_ctx_t ctx) const { munge_ctx_destroy(ctx); }
};
using ContextPtr = std::unique_ptr<std::remove_pointer_t<munge_ctx_t>, ContextDeleter>;

Result<ContextPtr, std::string> context(const std::string& socket) {
  ContextPtr ctx(munge_ctx_create());
  if (!ctx) return fail(std::string("MUNGE: out of memory"));
  if (!socket.empty() &&
      munge_ctx_set(ctx.get(), MUNGE_OPT_SOCKET, socket.c_str()) != EMUNGE_SUCCESS) {
    return fail("MUNGE: cannot use socket " + socket);
  }
  return ctx;
}

std::string error_text(munge_err_t e, munge_ctx_t ctx) {
  const char* detail = ctx ? munge_ctx_strerror(ctx) : nullptr;
  return std::string("MUNGE: ") + (detail ? detail : munge_strerror(e));
}

}  // namespace

Result<std::string, std::string> encode(const std::string& socket) {
  auto ctx = context(socket);
  if (!ctx) return fail(std::move(ctx).error());
  char* cred = nullptr;
  const munge_err_t e = munge_encode(&cred, ctx->get(), nullptr, 0);
  if (e != EMUNGE_SUCCESS) return fail(error_text(e, ctx->get()));
  std::string out(cred);
  std::free(cred);
  return out;
}

Result<Identity, std::string> decode(const std::string& credential, const std::string& socket) {
  auto ctx = context(socket);
  if (!ctx) return fail(std::move(ctx).error());
  void* payload = nullptr;
  int length = 0;
  Identity who;
  const munge_err_t e =
      munge_decode(credential.c_str(), ctx->get(), &payload, &length, &who.uid, &who.gid);
  std::free(payload);
  if (e != EMUNGE_SUCCESS) return fail(error_text(e, ctx->get()));
  return who;
}

}  // namespace sy::munge
