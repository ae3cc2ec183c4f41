// What the tests of `sluice serve` and `sluice run --metrics-port` share: reading a metric from
// a Prometheus text exposition, finding the URL a child process printed, JSON fields.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace sluice::testing {

// The value of the sample of `metric` whose labels contain `label` (e.g. `job_id="1"`; empty:
// any), or nullopt.
std::optional<double> MetricValue(const std::string& exposition, const std::string& metric,
                                  const std::string& label = "");

// Waits until the file `log` holds `marker` followed by a URL ("http://…" or "https://…" up to
// a space, newline or "/metrics") and returns the URL; empty after `timeout`.
std::string WaitForUrl(const std::string& log, const std::string& marker, std::chrono::milliseconds timeout);

// The host and port of a URL "http://127.0.0.1:8081".
std::string UrlHost(const std::string& url);
int UrlPort(const std::string& url);

// The number or string value of "key" in a flat part of a JSON text (the first occurrence).
std::optional<double> JsonNumber(const std::string& json, const std::string& key);
std::optional<std::string> JsonString(const std::string& json, const std::string& key);

}  // namespace sluice::testing
