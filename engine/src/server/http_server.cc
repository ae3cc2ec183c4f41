#include "server/http_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <filesystem>

#include "common/strings.h"

namespace sluice {

bool IsLoopbackAddress(const std::string& address) {
  if (address == "localhost" || address == "::1" || address == "[::1]") return true;
  in_addr ipv4{};
  if (inet_pton(AF_INET, address.c_str(), &ipv4) == 1) return (ntohl(ipv4.s_addr) >> 24) == 127;
  return false;
}

bool TokensEqual(const std::string& presented, const std::string& expected) {
  unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(presented.data()), presented.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(const HttpServerOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError(StrCat("port ", options.port, " is not in 0..65535"));
  }
  if (options.address.empty()) return absl::InvalidArgumentError("the listen address is empty");
  if (options.token.empty() && !options.allow_unauthenticated && !IsLoopbackAddress(options.address)) {
    return absl::FailedPreconditionError(
        StrCat("refusing to listen on '", options.address,
               "' (not a loopback address) without a token: set 'token' in the configuration or "
               "SLUICE_TOKEN, or 'allow_unauthenticated: true' to serve without authentication"));
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate ('tls_cert') and a key ('tls_key')");
  }
  std::unique_ptr<httplib::Server> server;
  if (!options.tls_cert_file.empty()) {
    for (const std::string& file : {options.tls_cert_file, options.tls_key_file}) {
      std::error_code error;
      if (!std::filesystem::is_regular_file(file, error)) {
        return absl::NotFoundError(StrCat("TLS: cannot read '", file, "'"));
      }
    }
    auto tls =
        std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(), options.tls_key_file.c_str());
    if (!tls->is_valid()) {
      return absl::InvalidArgumentError(StrCat("TLS: '", options.tls_cert_file, "' and '",
                                               options.tls_key_file,
                                               "' are not a PEM certificate and its private key"));
    }
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  return std::unique_ptr<HttpServer>(new HttpServer(options, std::move(server)));
}

HttpServer::HttpServer(const HttpServerOptions& options, std::unique_ptr<httplib::Server> server)
    : options_(options), server_(std::move(server)) {
  server_->set_payload_max_length(options_.max_body_bytes);
  const std::string token = options_.token;
  server_->set_pre_routing_handler(
      [this, token](const httplib::Request& request, httplib::Response& response) {
        // A POST without a body and without Content-Length (`curl -X POST URL`) has an empty body;
        // httplib would answer 400. The request is httplib's own mutable object, handed over const.
        if (request.method == "POST" && !request.has_header("Content-Length") &&
            !request.has_header("Transfer-Encoding")) {
          const_cast<httplib::Request&>(request).headers.emplace("Content-Length", "0");
        }
        if (token.empty() || (request.method == "GET" && public_paths_.count(request.path) > 0))
          return httplib::Server::HandlerResponse::Unhandled;
        const std::string header = request.get_header_value("Authorization");
        constexpr std::string_view kBearer = "Bearer ";
        if (header.size() > kBearer.size() && StartsWithIgnoreCase(header, kBearer) &&
            TokensEqual(header.substr(kBearer.size()), token)) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        response.status = 401;
        response.set_header("WWW-Authenticate", "Bearer");
        response.set_content("{\"error\":\"missing or wrong bearer token\"}\n", "application/json");
        return httplib::Server::HandlerResponse::Handled;
      });
  // Errors without a body of their own (no such route: 404; a body over the limit: 413) get one.
  server_->set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        const char* message = response.status == 404   ? "no such resource"
                              : response.status == 413 ? "request body too large (max_body_bytes)"
                              : response.status == 405 ? "method not allowed"
                              : response.status == 411 ? "a body needs a Content-Length"
                                                       : "bad request";
        response.set_content(StrCat("{\"error\":\"", message, "\"}\n"), "application/json");
        return httplib::Server::HandlerResponse::Handled;
      }));
  // A handler's exception (none is expected) becomes a 500, never a crash of the server.
  server_->set_exception_handler(
      [](const httplib::Request&, httplib::Response& response, std::exception_ptr) {
        response.status = 500;
        response.set_content("{\"error\":\"internal error\"}\n", "application/json");
      });
}

HttpServer::~HttpServer() {
  Stop();
}

void HttpServer::Get(const std::string& pattern, Handler handler) {
  server_->Get(pattern, std::move(handler));
}
void HttpServer::Post(const std::string& pattern, Handler handler) {
  // Through a content reader: httplib would otherwise parse a form-encoded body (what `curl
  // --data-binary` sends by default) into parameters, and refuse one over 8 KiB with 413.
  server_->Post(pattern,
                [handler = std::move(handler)](const httplib::Request& request, httplib::Response& response,
                                               const httplib::ContentReader& reader) {
                  httplib::Request with_body = request;
                  const bool read = reader([&with_body](const char* data, size_t length) {
                    with_body.body.append(data, length);
                    return true;
                  });
                  if (!read) {
                    if (response.status == -1) response.status = 400;
                    return;
                  }
                  handler(with_body, response);
                });
}
void HttpServer::Delete(const std::string& pattern, Handler handler) {
  server_->Delete(pattern, std::move(handler));
}
void HttpServer::GetPublic(const std::string& path, Handler handler) {
  public_paths_.insert(path);
  // httplib matches a pattern as a regular expression: the path's special characters escaped.
  std::string pattern;
  for (const char c : path) {
    if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  server_->Get(pattern, std::move(handler));
}

absl::Status HttpServer::Start() {
  if (options_.port == 0) {
    port_ = server_->bind_to_any_port(options_.address);
    if (port_ <= 0) return absl::UnavailableError(StrCat("cannot listen on ", options_.address));
  } else {
    if (!server_->bind_to_port(options_.address, options_.port)) {
      return absl::UnavailableError(StrCat("cannot listen on ", options_.address, ":", options_.port,
                                           " (in use, or not an address of this machine)"));
    }
    port_ = options_.port;
  }
  thread_ = std::thread([this]() { server_->listen_after_bind(); });
  return absl::OkStatus();
}

std::string HttpServer::url() const {
  const bool ipv6 = options_.address.find(':') != std::string::npos && options_.address.front() != '[';
  return StrCat(tls() ? "https://" : "http://", ipv6 ? "[" : "", options_.address, ipv6 ? "]" : "", ":",
                port_);
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace sluice
