// The web UI of `sluice serve`: a page (plain HTML, JavaScript and CSS, compiled into the
// binary: ui_assets.h) that shows the job list, and for a selected job its graph, live charts of
// throughput, event-time lag and checkpoint duration, its SQL and plan, and its checkpoints.
//
//   GET /        302 to /ui/
//   GET /ui/     the page (index.html); /ui/app.js, /ui/app.css its script and style
//
// These need no token (HttpServer::GetPublic): they hold no data. The page reads everything
// through the REST API (rest_api.h) and sends the token with each call: it takes it from the
// URL's fragment (`/ui/#token=…`, which the browser never sends to the server) or from a form
// it shows on a 401, and keeps it in the tab's sessionStorage.
#pragma once

#include "server/http_server.h"

namespace sluice {

void InstallWebUi(HttpServer& server);

}  // namespace sluice
