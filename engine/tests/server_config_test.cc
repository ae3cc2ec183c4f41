// The configuration file of `sluice serve` (server/server_config.h).
#include "server/server_config.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string ErrorOf(const std::string& text) {
  const absl::StatusOr<ServerConfig> config = ServerConfig::Parse(text, "sluice.yaml", "/etc/sluice", "");
  return config.ok() ? "" : std::string(config.status().message());
}

TEST(ServerConfigTest, ReadsEveryKey) {
  const absl::StatusOr<ServerConfig> config = ServerConfig::Parse(
      "address: 0.0.0.0\nport: 9000\ndata_dir: data\ntoken: t0ken\nallow_unauthenticated: false\n"
      "tls_cert: tls/server.crt\ntls_key: /keys/server.key\nmax_body_bytes: 2048\nmax_running_jobs: 3\n"
      "default_parallelism: 2\n",
      "sluice.yaml", "/etc/sluice", "from-env");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http.address, "0.0.0.0");
  EXPECT_EQ(config->http.port, 9000);
  EXPECT_EQ(config->data_dir, "/etc/sluice/data");  // relative to the file's folder
  EXPECT_EQ(config->http.token, "t0ken");           // the file's, over the environment's
  EXPECT_EQ(config->http.tls_cert_file, "/etc/sluice/tls/server.crt");
  EXPECT_EQ(config->http.tls_key_file, "/keys/server.key");
  EXPECT_EQ(config->http.max_body_bytes, 2048u);
  EXPECT_EQ(config->max_running_jobs, 3);
  EXPECT_EQ(config->default_parallelism, 2);
}

TEST(ServerConfigTest, DefaultsAndTheEnvironmentsToken) {
  const absl::StatusOr<ServerConfig> config =
      ServerConfig::Parse("data_dir: /var/lib/sluice\n", "sluice.yaml", "/etc/sluice", "from-env");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->http.address, "127.0.0.1");
  EXPECT_EQ(config->http.port, 8081);
  EXPECT_EQ(config->http.token, "from-env");
  EXPECT_FALSE(config->http.allow_unauthenticated);
  EXPECT_EQ(config->http.max_body_bytes, 1u << 20);
}

TEST(ServerConfigTest, ErrorsNameTheKeyAndItsLine) {
  EXPECT_EQ(
      ErrorOf("data_dir: d\nprot: 80\n"),
      "sluice.yaml:2:1: unknown key 'prot' (the keys: address, port, data_dir, token, allow_unauthenticated, "
      "tls_cert, tls_key, max_body_bytes, max_running_jobs, default_parallelism, log, log.level, "
      "log.format, jobs)");
  EXPECT_EQ(ErrorOf("data_dir: d\nport: 70000\n"),
            "sluice.yaml:2:1: 'port' needs a whole number from 0 to 65535, not '70000'");
  EXPECT_EQ(ErrorOf("data_dir: d\nallow_unauthenticated: maybe\n"),
            "sluice.yaml:2:1: 'allow_unauthenticated' needs true or false");
  EXPECT_EQ(ErrorOf("data_dir: d\nport: [1, 2]\n"), "sluice.yaml:2:1: 'port' needs a single value");
  EXPECT_EQ(ErrorOf("port: 80\n"), "sluice.yaml: 'data_dir' is required");
  EXPECT_EQ(ErrorOf(""), "sluice.yaml: empty; 'data_dir' is required");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "sluice.yaml:1:1: expected a mapping of keys to values");
  EXPECT_NE(ErrorOf("data_dir: [\n").find("sluice.yaml:"), std::string::npos);
  EXPECT_EQ(ErrorOf("data_dir: d\ntoken: ''\n"), "sluice.yaml:2:1: 'token' is empty");
}

TEST(ServerConfigTest, LogLevelAndFormatAsAMappingOrFlatKeys) {
  absl::StatusOr<ServerConfig> config =
      ServerConfig::Parse("data_dir: d\n", "sluice.yaml", "/etc/sluice", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_level, spdlog::level::info);
  EXPECT_EQ(config->log_format, LogFormat::kText);
  config = ServerConfig::Parse("data_dir: d\nlog:\n  level: debug\n  format: json\n", "sluice.yaml",
                               "/etc/sluice", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_level, spdlog::level::debug);
  EXPECT_EQ(config->log_format, LogFormat::kJson);
  config = ServerConfig::Parse("data_dir: d\nlog.level: warn\nlog.format: text\n", "sluice.yaml",
                               "/etc/sluice", "");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->log_level, spdlog::level::warn);
  EXPECT_EQ(config->log_format, LogFormat::kText);

  EXPECT_EQ(ErrorOf("data_dir: d\nlog:\n  level: loud\n"),
            "sluice.yaml:3:3: 'log.level': unknown log level 'loud' (the levels: trace, debug, info, warn, "
            "error, off)");
  EXPECT_EQ(ErrorOf("data_dir: d\nlog.format: xml\n"),
            "sluice.yaml:2:1: 'log.format': unknown log format 'xml' (text or json)");
  EXPECT_EQ(ErrorOf("data_dir: d\nlog:\n  colour: red\n"),
            "sluice.yaml:3:3: unknown key 'log.colour' (the keys: log.level, log.format)");
  EXPECT_EQ(ErrorOf("data_dir: d\nlog: debug\n"),
            "sluice.yaml:2:1: 'log' needs a mapping of 'level' and 'format', e.g. log: {level: info}");
}

TEST(ServerConfigTest, JobsAreAListOfNamedSqlFilesWithOptionalSettings) {
  const absl::StatusOr<ServerConfig> config = ServerConfig::Parse(
      "data_dir: d\njobs:\n  - name: volume\n    sql: jobs/volume.sql\n    checkpoint_dir: /chk/volume\n"
      "    parallelism: 2\n    properties:\n      bootstrap: kafka:9092\n      group: g1\n"
      "  - name: copy\n    sql: /srv/copy.sql\n",
      "sluice.yaml", "/etc/sluice", "");
  ASSERT_TRUE(config.ok()) << config.status();
  ASSERT_EQ(config->jobs.size(), 2u);
  const ConfiguredJob& volume = config->jobs[0];
  EXPECT_EQ(volume.name, "volume");
  EXPECT_EQ(volume.sql_path, "/etc/sluice/jobs/volume.sql");  // relative to the file's folder
  EXPECT_EQ(volume.checkpoint_dir, "/chk/volume");
  EXPECT_EQ(volume.parallelism, 2);
  EXPECT_EQ(volume.properties,
            (std::map<std::string, std::string>{{"bootstrap", "kafka:9092"}, {"group", "g1"}}));
  EXPECT_EQ(volume.where, "sluice.yaml:3:5");
  const ConfiguredJob& copy = config->jobs[1];
  EXPECT_EQ(copy.sql_path, "/srv/copy.sql");
  EXPECT_EQ(copy.checkpoint_dir, "");
  EXPECT_EQ(copy.parallelism, 0);
  EXPECT_TRUE(copy.properties.empty());

  EXPECT_EQ(ErrorOf("data_dir: d\njobs: volume.sql\n"),
            "sluice.yaml:2:1: 'jobs' needs a list of jobs, each a mapping with 'name' and 'sql'");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: volume\n"),
            "sluice.yaml:3:5: a job of 'jobs' needs 'sql'");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - sql: a.sql\n"), "sluice.yaml:3:5: a job of 'jobs' needs 'name'");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: a\n    sql: a.sql\n    paralelism: 2\n"),
            "sluice.yaml:5:5: unknown key 'paralelism' in a job (the keys: name, sql, checkpoint_dir, "
            "parallelism, properties)");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: a\n    sql: a.sql\n    parallelism: 0\n"),
            "sluice.yaml:5:5: 'parallelism' needs a whole number from 1 to 1024, not '0'");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: a\n    sql: a.sql\n  - name: a\n    sql: b.sql\n"),
            "sluice.yaml:5:5: a second job named 'a' (the first is at sluice.yaml:3:5)");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: a\n    sql: a.sql\n    properties: [x]\n"),
            "sluice.yaml:5:5: 'properties' needs a mapping of keys to values");
  EXPECT_EQ(ErrorOf("data_dir: d\njobs:\n  - name: a\n    sql: a.sql\n    properties:\n      k: [1]\n"),
            "sluice.yaml:6:7: property 'k' needs a single value");
}

}  // namespace
}  // namespace sluice
