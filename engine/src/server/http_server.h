// HttpServer: the HTTP(S) endpoint of `sluice serve` and of `sluice run --metrics-port`, on
// cpp-httplib (Debian libcpp-httplib-dev, built with OpenSSL).
//
// What it enforces before a handler runs:
//   - bearer-token authentication when a token is set: every path but /healthz and those routed
//     with GetPublic (the web UI's static files, which hold no data) needs the header
//     `Authorization: Bearer <token>`; a missing or wrong one is 401 (with `WWW-Authenticate:
//     Bearer`). The token is compared in constant time (the SHA-256 digests of both, with
//     OpenSSL's CRYPTO_memcmp), so neither its bytes nor its length leak through timing;
//   - a request body of at most `max_body_bytes` (413 above it, before the body is read);
//   - TLS when a certificate and key are given (httplib::SSLServer over OpenSSL);
//   - no listening on an address other than loopback without a token, unless
//     `allow_unauthenticated` says so explicitly (Create refuses it).
//
// Threads: handlers run on httplib's thread pool, several at once; they must be thread-safe.
// Start() binds and serves on a thread of its own; Stop() (or the destructor) stops it.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "common/status.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace sluice {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  int port = 0;                        // 0: a free port the system picks (port() tells which)
  std::string token;                   // empty: no authentication
  bool allow_unauthenticated = false;  // may listen beyond loopback without a token
  std::string tls_cert_file;           // PEM; both or neither of cert and key
  std::string tls_key_file;
  size_t max_body_bytes = 1 << 20;
};

// Whether `address` is a loopback address: 127.0.0.0/8, ::1 or "localhost".
bool IsLoopbackAddress(const std::string& address);

// Whether `presented` equals `expected`, in time independent of both.
bool TokensEqual(const std::string& presented, const std::string& expected);

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // Checks the options (the loopback rule, TLS files) and loads the certificate and key.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options);
  ~HttpServer();

  // Routes, before Start(). `pattern` is a regular expression over the path (httplib's).
  void Get(const std::string& pattern, Handler handler);
  void Post(const std::string& pattern, Handler handler);
  void Delete(const std::string& pattern, Handler handler);
  // A GET route served without a token: `path` is matched exactly (not a pattern). For what
  // holds nothing secret: /healthz, the web UI's static files.
  void GetPublic(const std::string& path, Handler handler);

  // Binds the address and port and serves on a thread of its own.
  absl::Status Start();
  // The port bound by Start() (the one the system picked for port 0).
  int port() const { return port_; }
  bool tls() const { return !options_.tls_cert_file.empty(); }
  // "http://127.0.0.1:8081" or "https://…".
  std::string url() const;
  // Stops serving and joins the thread. Idempotent.
  void Stop();

 private:
  HttpServer(const HttpServerOptions& options, std::unique_ptr<httplib::Server> server);

  HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  // Paths served without a token; written before Start(), then only read.
  std::set<std::string> public_paths_ = {"/healthz"};
};

}  // namespace sluice
