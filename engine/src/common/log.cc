#include "common/log.h"

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <array>
#include <atomic>
#include <ctime>
#include <memory>
#include <mutex>

#include "common/strings.h"

namespace sluice {
namespace {

constexpr std::array<const char*, 4> kComponentNames = {"server", "runtime", "kafka", "librdkafka"};

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void Append(spdlog::memory_buf_t& dest, std::string_view text) {
  dest.append(text.data(), text.data() + text.size());
}

// 2026-12-07T18:30:00.123Z
void AppendTimestamp(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) {
  const auto since_epoch = message.time.time_since_epoch();
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const size_t length = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  Append(dest, std::string_view(text, length));
  char fraction[8];
  std::snprintf(fraction, sizeof(fraction), ".%03dZ", static_cast<int>(millis % 1000));
  Append(dest, fraction);
}

void AppendJsonString(std::string_view text, spdlog::memory_buf_t& dest) {
  dest.push_back('"');
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      dest.push_back('\\');
      dest.push_back(c);
    } else if (c == '\n') {
      Append(dest, "\\n");
    } else if (c == '\r') {
      Append(dest, "\\r");
    } else if (c == '\t') {
      Append(dest, "\\t");
    } else if (byte < 0x20 || byte == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", byte);
      Append(dest, escaped);
    } else {
      dest.push_back(c);
    }
  }
  dest.push_back('"');
}

// 2026-12-07T18:30:00.123Z info [server] message
class TextFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override {
    AppendTimestamp(message, dest);
    dest.push_back(' ');
    Append(dest, LevelName(message.level));
    Append(dest, " [");
    Append(dest, std::string_view(message.logger_name.data(), message.logger_name.size()));
    Append(dest, "] ");
    Append(dest, std::string_view(message.payload.data(), message.payload.size()));
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<TextFormatter>(); }
};

// {"ts":"…","level":"info","logger":"server","msg":"…"}: one object per line.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& dest) override {
    Append(dest, "{\"ts\":\"");
    AppendTimestamp(message, dest);
    Append(dest, "\",\"level\":\"");
    Append(dest, LevelName(message.level));
    Append(dest, "\",\"logger\":");
    AppendJsonString(std::string_view(message.logger_name.data(), message.logger_name.size()), dest);
    Append(dest, ",\"msg\":");
    AppendJsonString(std::string_view(message.payload.data(), message.payload.size()), dest);
    Append(dest, "}\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

spdlog::sink_ptr MakeSink(LogFormat format, spdlog::sink_ptr sink) {
  if (sink == nullptr) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (format == LogFormat::kJson) {
    sink->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    sink->set_formatter(std::make_unique<TextFormatter>());
  }
  sink->set_level(spdlog::level::trace);
  return sink;
}

struct Loggers {
  std::mutex mutex;  // creating loggers, setting levels
  std::atomic<spdlog::level::level_enum> level{spdlog::level::info};
  // Every logger writes here; ConfigureLogging swaps what it forwards to.
  std::shared_ptr<spdlog::sinks::dist_sink_mt> sink = std::make_shared<spdlog::sinks::dist_sink_mt>(
      std::vector<spdlog::sink_ptr>{MakeSink(LogFormat::kText, nullptr)});
  std::array<std::shared_ptr<spdlog::logger>, kComponentNames.size()> loggers;
};

Loggers& TheLoggers() {
  static Loggers* loggers = new Loggers();  // never destroyed: logging may outlive main()'s statics
  return *loggers;
}

}  // namespace

spdlog::logger& Log(LogComponent component) {
  Loggers& all = TheLoggers();
  const size_t index = static_cast<size_t>(component);
  std::lock_guard<std::mutex> lock(all.mutex);
  std::shared_ptr<spdlog::logger>& logger = all.loggers[index];
  if (logger == nullptr) {
    logger = std::make_shared<spdlog::logger>(kComponentNames[index], all.sink);
    logger->set_level(all.level.load());
    logger->flush_on(spdlog::level::trace);
  }
  return *logger;
}

absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text) {
  if (text == "trace") return spdlog::level::trace;
  if (text == "debug") return spdlog::level::debug;
  if (text == "info") return spdlog::level::info;
  if (text == "warn") return spdlog::level::warn;
  if (text == "error") return spdlog::level::err;
  if (text == "critical") return spdlog::level::critical;
  if (text == "off") return spdlog::level::off;
  return absl::InvalidArgumentError(
      StrCat("unknown log level '", text, "' (the levels: trace, debug, info, warn, error, off)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(StrCat("unknown log format '", text, "' (text or json)"));
}

void ConfigureLogging(spdlog::level::level_enum level, LogFormat format, spdlog::sink_ptr sink) {
  Loggers& all = TheLoggers();
  all.sink->set_sinks({MakeSink(format, std::move(sink))});
  std::lock_guard<std::mutex> lock(all.mutex);
  all.level.store(level);
  for (const std::shared_ptr<spdlog::logger>& logger : all.loggers) {
    if (logger != nullptr) logger->set_level(level);
  }
}

spdlog::level::level_enum LevelOfSyslog(int severity) {
  if (severity <= 2) return spdlog::level::critical;
  if (severity == 3) return spdlog::level::err;
  if (severity == 4) return spdlog::level::warn;
  if (severity <= 6) return spdlog::level::info;
  return spdlog::level::debug;
}

}  // namespace sluice
