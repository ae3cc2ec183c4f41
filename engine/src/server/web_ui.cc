#include "server/web_ui.h"

#include <httplib.h>

#include "server/ui_assets.h"

namespace sluice {
namespace {

void Serve(const UiAsset& asset, httplib::Response& response) {
  response.set_content(std::string(asset.body), std::string(asset.content_type));
  // The page may run no script but its own and fetch nothing but this server.
  response.set_header("Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'");
  response.set_header("X-Content-Type-Options", "nosniff");
  response.set_header("Cache-Control", "no-cache");
}

}  // namespace

void InstallWebUi(HttpServer& server) {
  const auto redirect = [](const httplib::Request&, httplib::Response& response) {
    response.set_redirect("/ui/");
  };
  server.GetPublic("/", redirect);
  server.GetPublic("/ui", redirect);
  for (const UiAsset& asset : UiAssets()) {
    const HttpServer::Handler handler = [&asset](const httplib::Request&, httplib::Response& response) {
      Serve(asset, response);
    };
    server.GetPublic(std::string("/ui/") + std::string(asset.name), handler);
    if (asset.name == "index.html") server.GetPublic("/ui/", handler);
  }
}

}  // namespace sluice
