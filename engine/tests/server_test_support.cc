#include "server_test_support.h"

#include <cstdlib>
#include <thread>

#include "job_test_harness.h"

namespace sluice::testing {

std::optional<double> MetricValue(const std::string& exposition, const std::string& metric,
                                  const std::string& label) {
  size_t at = 0;
  while ((at = exposition.find(metric, at)) != std::string::npos) {
    const bool line_start = at == 0 || exposition[at - 1] == '\n';
    const size_t end = exposition.find('\n', at);
    const std::string line = exposition.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? exposition.size() : end;
    if (!line_start || line.size() <= metric.size()) continue;
    const char next = line[metric.size()];
    if (next != '{' && next != ' ') continue;
    if (!label.empty() && line.find(label) == std::string::npos) continue;
    const size_t space = line.rfind(' ');
    return std::strtod(line.c_str() + space + 1, nullptr);
  }
  return std::nullopt;
}

std::string WaitForUrl(const std::string& log, const std::string& marker, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = ReadFile(log);
    const size_t at = text.find(marker);
    if (at != std::string::npos) {
      const size_t begin = at + marker.size();
      size_t end = text.find_first_of(" \n", begin);
      std::string url = text.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
      if (const size_t path = url.find("/metrics"); path != std::string::npos) url.resize(path);
      if (end != std::string::npos) return url;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "";
}

std::string UrlHost(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t begin = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t colon = url.rfind(':');
  return url.substr(begin, colon - begin);
}

int UrlPort(const std::string& url) {
  return std::atoi(url.c_str() + url.rfind(':') + 1);
}

std::optional<double> JsonNumber(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\":";
  const size_t at = json.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  const char* begin = json.c_str() + at + quoted.size();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end == begin) return std::nullopt;
  return value;
}

std::optional<std::string> JsonString(const std::string& json, const std::string& key) {
  const std::string quoted = "\"" + key + "\":\"";
  const size_t at = json.find(quoted);
  if (at == std::string::npos) return std::nullopt;
  const size_t begin = at + quoted.size();
  const size_t end = json.find('"', begin);
  return json.substr(begin, end - begin);
}

}  // namespace sluice::testing
