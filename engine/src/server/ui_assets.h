// The web UI's files (engine/src/server/ui/: index.html, app.js, app.css), compiled into the
// binary: the build turns each into a byte array of a generated source (ui/embed.cmake), so
// `sluice serve` needs no file beside it and fetches nothing from the network.
#pragma once

#include <string_view>
#include <vector>

namespace sluice {

struct UiAsset {
  std::string_view name;          // "index.html"
  std::string_view content_type;  // "text/html; charset=utf-8"
  std::string_view body;
};

// Every asset, in the order the build lists them. Static data: thread-safe, never freed.
const std::vector<UiAsset>& UiAssets();

}  // namespace sluice
