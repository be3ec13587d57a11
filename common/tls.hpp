#pragma once
// TLS for every Switchyard connection: contexts built from a cluster CA, a certificate and its
// key (made by scripts/cluster-ca), and the verified name of a peer. Both ends verify: agents and
// clients check the controller's certificate against the CA and its host name; the controller
// checks agents' certificates (their common name is the node name).

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include "common/result.hpp"

namespace sy::tls {

struct Files {
  std::string ca;    // the cluster CA's certificate (PEM)
  std::string cert;  // this program's certificate (PEM); may hold the chain
  std::string key;   // its private key (PEM)
  bool any() const { return !ca.empty() || !cert.empty() || !key.empty(); }
};

using Context = std::shared_ptr<boost::asio::ssl::context>;

// The controller's: needs all three files. Asks connecting peers for a certificate without
// requiring one (users come with MUNGE credentials instead); one that is sent must verify.
Result<Context, std::string> server_context(const Files& files);
// A client's: needs the CA; cert and key only where the peer must know who connects (agents).
Result<Context, std::string> client_context(const Files& files);

// Prepares a client stream to reach `host`: SNI, and the server's certificate must name `host`.
template <class SslStream>
void expect_server(SslStream& stream, const std::string& host);
void set_server_name(SSL* ssl, const std::string& host);

// The common name of the peer's certificate when the handshake verified one, else "".
std::string verified_peer_name(SSL* ssl);

template <class SslStream>
void expect_server(SslStream& stream, const std::string& host) {
  set_server_name(stream.native_handle(), host);
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace sy::tls
