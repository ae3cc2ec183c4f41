// The diagnostic log of Sluice on spdlog (Debian libspdlog-dev): one logger per component, all
// writing to one sink (stderr unless a test gives another), at one level, as text or JSON lines.
//
//   text:  2026-12-07T18:30:00.123Z info [server] job 1: started
//   json:  {"ts":"2026-12-07T18:30:00.123Z","level":"info","logger":"server","msg":"job 1: started"}
//
// Times are UTC. Levels: trace, debug, info (the default), warn, error, critical; `off` logs
// nothing. What goes here: the job server's and the runtime's diagnostics (jobs started,
// finished, failed, resumed; checkpoints completed and restored; restarts), Kafka clients'
// errors and librdkafka's own log lines (component "librdkafka", at their syslog level). What
// does not: a command's own output (the run summary, progress, SQL errors, usage), which goes
// to stdout/stderr directly.
//
// Thread-safe: the loggers may be used from any thread, librdkafka's included; ConfigureLogging
// may be called while they are (it swaps the sink under the sink's lock).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/status.h"

namespace sluice {

enum class LogComponent {
  kServer,      // sluice serve: the job manager, the HTTP server
  kRuntime,     // runs: checkpoints, restores, restarts
  kKafka,       // Sluice's Kafka source and sink
  kLibrdkafka,  // librdkafka's own log lines
};

enum class LogFormat { kText, kJson };

// The logger of a component (created on first use, with the current level and sink).
spdlog::logger& Log(LogComponent component);

// "trace", "debug", "info", "warn", "error", "off" (also "critical"); anything else is an
// InvalidArgument error naming the accepted values.
absl::StatusOr<spdlog::level::level_enum> ParseLogLevel(std::string_view text);
// "text" or "json".
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);

// Sets every logger's level and the format; `sink` null: stderr. Later calls replace earlier
// ones (tests give an ostream sink, then restore stderr).
void ConfigureLogging(spdlog::level::level_enum level, LogFormat format, spdlog::sink_ptr sink = nullptr);

// A syslog severity (0 emergency .. 7 debug, as librdkafka reports them) as a spdlog level:
// 0-2 critical, 3 error, 4 warn, 5-6 info, 7 debug.
spdlog::level::level_enum LevelOfSyslog(int severity);

}  // namespace sluice
