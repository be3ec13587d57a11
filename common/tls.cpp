#include "common/tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/system/error_code.hpp>

namespace sy::tls {
namespace {

namespace ssl = boost::asio::ssl;

Result<Context, std::string> base_context(ssl::context::method method, const Files& files) {
  auto ctx = std::make_shared<ssl::context>(method);
  boost::system::error_code ec;
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (files.ca.empty()) return fail(std::string("no CA certificate given (--tls-ca)"));
  if (ctx->load_verify_file(files.ca, ec); ec) {
    return fail("cannot load CA certificate " + files.ca + ": " + ec.message());
  }
  if (!files.cert.empty() || !files.key.empty()) {
    if (files.cert.empty() || files.key.empty()) {
      return fail(std::string("a certificate needs its key and a key its certificate"));
    }
    if (ctx->use_certificate_chain_file(files.cert, ec); ec) {
      return fail("cannot load certificate " + files.cert + ": " + ec.message());
    }
    if (ctx->use_private_key_file(files.key, ssl::context::pem, ec); ec) {
      return fail("cannot load private key " + files.key + ": " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
      return fail("private key " + files.key + " does not match certificate " + files.cert);
    }
  }
  return ctx;
}

}  // namespace

Result<Context, std::string> server_context(const Files& files) {
  if (files.cert.empty() || files.key.empty()) {
    return fail(
        std::string("TLS needs the controller's certificate and key (--tls-cert, --tls-key)"));
  }
  auto ctx = base_context(ssl::context::tls_server, files);
  if (!ctx) return ctx;
  boost::system::error_code ec;
  (*ctx)->set_verify_mode(ssl::verify_peer, ec);
  // Only the cluster CA's name is offered to clients choosing a certificate.
  if (auto* names = SSL_load_client_CA_file(files.ca.c_str())) {
    SSL_CTX_set_client_CA_list((*ctx)->native_handle(), names);
  }
  // Browsers resume sessions (the dashboard's WebSocket after its page): with peer verification
  // on, OpenSSL refuses every resumption unless sessions carry this server's context id.
  static constexpr unsigned char kSessionContext[] = "switchyard";
  SSL_CTX_set_session_id_context((*ctx)->native_handle(), kSessionContext,
                                 sizeof kSessionContext - 1);
  return ctx;
}

Result<Context, std::string> client_context(const Files& files) {
  auto ctx = base_context(ssl::context::tls_client, files);
  if (!ctx) return ctx;
  boost::system::error_code ec;
  (*ctx)->set_verify_mode(ssl::verify_peer, ec);
  return ctx;
}

void set_server_name(SSL* ssl, const std::string& host) {
  // SSL_set_tlsext_host_name is a macro with a C cast; this is what it expands to.
  SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
           const_cast<char*>(host.c_str()));
}

std::string verified_peer_name(SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return "";
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  std::string name;
  char buffer[256];
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof buffer);
  if (n > 0) name.assign(buffer, static_cast<std::size_t>(n));
  X509_free(cert);
  return name;
}

}  // namespace sy::tls
