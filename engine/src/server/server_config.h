// ServerConfig: the configuration file of `sluice serve --config FILE`, YAML (read with
// yaml-cpp, Debian libyaml-cpp-dev): one mapping of flat keys,
//
//   address: 127.0.0.1          # listen address (default 127.0.0.1)
//   port: 8081                  # listen port (default 8081; 0: a free port, printed at start)
//   data_dir: /var/lib/sluice   # required: submitted jobs, their checkpoints and savepoints
//   token: s3cret               # bearer token (default: the SLUICE_TOKEN environment variable)
//   allow_unauthenticated: false  # serve without a token on a non-loopback address
//   tls_cert: server.crt        # PEM certificate and private key: HTTPS (both or neither)
//   tls_key: server.key
//   max_body_bytes: 1048576     # a larger request body is refused with 413
//   max_running_jobs: 16        # a submission beyond it is refused with 429
//   default_parallelism: 1      # a job's workers when POST /jobs names none
//   log:                        # the diagnostic log on stderr (common/log.h); the flat keys
//     level: info               #   log.level and log.format say the same; --log-level and
//     format: text              #   --log-format override them
//   jobs:                       # jobs the server runs from its start (ConfiguredJob)
//     - name: volume            #   required, unique in the list: the job's key across restarts
//       sql: jobs/volume.sql    #   required: the job's SQL file
//       checkpoint_dir: /chk/volume  # optional: its checkpoints (default: under data_dir)
//       parallelism: 2          #   optional (default: default_parallelism)
//       properties:             #   optional: ${KEY} values in the SQL, as sluice run --set
//         bootstrap: kafka:9092
//
// An unknown key, a value of the wrong type or out of range is an error naming the key and its
// line; relative paths are relative to the configuration file's folder.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "server/http_server.h"

namespace sluice {

// A job of the configuration's `jobs:` list: the server submits it at its start unless the data
// directory already holds it (server/job_manager.h, StartConfigured).
struct ConfiguredJob {
  std::string name;
  std::string sql_path;                           // absolute
  std::string checkpoint_dir;                     // absolute; empty: the job's directory under data_dir
  int parallelism = 0;                            // 0: default_parallelism
  std::map<std::string, std::string> properties;  // ${KEY} values, as `sluice run --set`
  std::string where;                              // "sluice.yaml:12:5": the entry, for errors
};

struct ServerConfig {
  HttpServerOptions http;  // address, port, token, TLS, body limit
  std::string data_dir;
  int max_running_jobs = 16;
  int default_parallelism = 1;
  spdlog::level::level_enum log_level = spdlog::level::info;
  LogFormat log_format = LogFormat::kText;
  std::vector<ConfiguredJob> jobs;

  // Reads `path`; `environment_token` (SLUICE_TOKEN, may be empty) is the token when the file
  // sets none.
  static absl::StatusOr<ServerConfig> Load(const std::string& path, const std::string& environment_token);
  // The same from YAML text; relative paths against `base_dir`.
  static absl::StatusOr<ServerConfig> Parse(const std::string& text, const std::string& name,
                                            const std::string& base_dir,
                                            const std::string& environment_token);

 private:
  // log.level or log.format (`key`: "level" or "format"); `where` prefixes an error.
  absl::Status SetLog(const std::string& key, const std::string& value, const std::string& where);
};

}  // namespace sluice
