#include "server/server_config.h"

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace sluice {
namespace {

constexpr const char* kKeys[] = {"address",
                                 "port",
                                 "data_dir",
                                 "token",
                                 "allow_unauthenticated",
                                 "tls_cert",
                                 "tls_key",
                                 "max_body_bytes",
                                 "max_running_jobs",
                                 "default_parallelism",
                                 "log",
                                 "log.level",
                                 "log.format",
                                 "jobs"};

constexpr const char* kJobKeys[] = {"name", "sql", "checkpoint_dir", "parallelism", "properties"};

std::string Where(const std::string& name, const YAML::Mark& mark) {
  if (mark.is_null()) return name;
  return StrCat(name, ":", mark.line + 1, ":", mark.column + 1);
}

}  // namespace

absl::Status ServerConfig::SetLog(const std::string& key, const std::string& value,
                                  const std::string& where) {
  if (key == "level") {
    absl::StatusOr<spdlog::level::level_enum> level = ParseLogLevel(value);
    if (!level.ok())
      return absl::InvalidArgumentError(StrCat(where, ": 'log.level': ", level.status().message()));
    log_level = *level;
  } else {
    absl::StatusOr<LogFormat> format = ParseLogFormat(value);
    if (!format.ok())
      return absl::InvalidArgumentError(StrCat(where, ": 'log.format': ", format.status().message()));
    log_format = *format;
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ServerConfig::Load(const std::string& path,
                                                const std::string& environment_token) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("cannot read the configuration file '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return Parse(text.str(), path, parent.empty() ? "." : parent.string(), environment_token);
}

absl::StatusOr<ServerConfig> ServerConfig::Parse(const std::string& text, const std::string& name,
                                                 const std::string& base_dir,
                                                 const std::string& environment_token) {
  ServerConfig config;
  config.http.port = 8081;
  // yaml-cpp reports errors by exceptions: none leaves this function.
  try {
    const YAML::Node root = YAML::Load(text);
    if (root.IsNull()) return absl::InvalidArgumentError(StrCat(name, ": empty; 'data_dir' is required"));
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          StrCat(Where(name, root.Mark()), ": expected a mapping of keys to values"));
    }
    bool has_token = false;
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      const std::string where = Where(name, entry.first.Mark());
      bool known = false;
      for (const char* candidate : kKeys) known = known || key == candidate;
      if (!known) {
        std::string keys;
        for (const char* candidate : kKeys) StrAppend(&keys, keys.empty() ? "" : ", ", candidate);
        return absl::InvalidArgumentError(StrCat(where, ": unknown key '", key, "' (the keys: ", keys, ")"));
      }
      if (key == "log") {
        // log: {level: debug, format: json}, the same as the flat keys log.level and log.format.
        if (!value.IsMap()) {
          return absl::InvalidArgumentError(
              StrCat(where, ": 'log' needs a mapping of 'level' and 'format', e.g. log: {level: info}"));
        }
        for (const auto& log_entry : value) {
          const std::string log_key = log_entry.first.as<std::string>();
          const std::string log_where = Where(name, log_entry.first.Mark());
          if (log_key != "level" && log_key != "format") {
            return absl::InvalidArgumentError(
                StrCat(log_where, ": unknown key 'log.", log_key, "' (the keys: log.level, log.format)"));
          }
          if (!log_entry.second.IsScalar()) {
            return absl::InvalidArgumentError(
                StrCat(log_where, ": 'log.", log_key, "' needs a single value"));
          }
          SLUICE_RETURN_IF_ERROR(config.SetLog(log_key, log_entry.second.Scalar(), log_where));
        }
        continue;
      }
      auto absolute = [&](const std::string& text) {
        const std::filesystem::path file(text);
        return std::filesystem::absolute(file.is_absolute() ? file : std::filesystem::path(base_dir) / file)
            .lexically_normal()
            .string();
      };
      if (key == "jobs") {
        if (!value.IsSequence()) {
          return absl::InvalidArgumentError(
              StrCat(where, ": 'jobs' needs a list of jobs, each a mapping with 'name' and 'sql'"));
        }
        for (const YAML::Node& entry : value) {
          ConfiguredJob job;
          job.where = Where(name, entry.Mark());
          if (!entry.IsMap()) {
            return absl::InvalidArgumentError(
                StrCat(job.where, ": a job of 'jobs' needs a mapping with 'name' and 'sql'"));
          }
          for (const auto& field : entry) {
            const std::string field_key = field.first.as<std::string>();
            const std::string field_where = Where(name, field.first.Mark());
            bool known_field = false;
            for (const char* candidate : kJobKeys) known_field = known_field || field_key == candidate;
            if (!known_field) {
              return absl::InvalidArgumentError(StrCat(field_where, ": unknown key '", field_key,
                                                       "' in a job (the keys: name, sql, checkpoint_dir, "
                                                       "parallelism, properties)"));
            }
            const YAML::Node& field_value = field.second;
            if (field_key == "properties") {
              if (!field_value.IsMap()) {
                return absl::InvalidArgumentError(
                    StrCat(field_where, ": 'properties' needs a mapping of keys to values"));
              }
              for (const auto& property : field_value) {
                if (!property.second.IsScalar()) {
                  return absl::InvalidArgumentError(StrCat(Where(name, property.first.Mark()), ": property '",
                                                           property.first.as<std::string>(),
                                                           "' needs a single value"));
                }
                job.properties[property.first.as<std::string>()] = property.second.Scalar();
              }
              continue;
            }
            if (!field_value.IsScalar() || field_value.Scalar().empty()) {
              return absl::InvalidArgumentError(StrCat(field_where, ": '", field_key, "' needs a value"));
            }
            if (field_key == "name") {
              job.name = field_value.Scalar();
            } else if (field_key == "sql") {
              job.sql_path = absolute(field_value.Scalar());
            } else if (field_key == "checkpoint_dir") {
              job.checkpoint_dir = absolute(field_value.Scalar());
            } else if (field_key == "parallelism") {
              int64_t workers = 0;
              if (!YAML::convert<int64_t>::decode(field_value, workers) || workers < 1 || workers > 1024) {
                return absl::InvalidArgumentError(StrCat(field_where,
                                                         ": 'parallelism' needs a whole number from 1 to "
                                                         "1024, not '",
                                                         field_value.Scalar(), "'"));
              }
              job.parallelism = static_cast<int>(workers);
            }
          }
          if (job.name.empty() || job.sql_path.empty()) {
            return absl::InvalidArgumentError(
                StrCat(job.where, ": a job of 'jobs' needs '", job.name.empty() ? "name" : "sql", "'"));
          }
          for (const ConfiguredJob& other : config.jobs) {
            if (other.name == job.name) {
              return absl::InvalidArgumentError(StrCat(job.where, ": a second job named '", job.name,
                                                       "' (the first is at ", other.where, ")"));
            }
          }
          config.jobs.push_back(std::move(job));
        }
        continue;
      }
      if (!value.IsScalar()) {
        return absl::InvalidArgumentError(StrCat(where, ": '", key, "' needs a single value"));
      }
      auto integer = [&](int64_t low, int64_t high) -> absl::StatusOr<int64_t> {
        int64_t number = 0;
        if (!YAML::convert<int64_t>::decode(value, number) || number < low || number > high) {
          return absl::InvalidArgumentError(StrCat(where, ": '", key, "' needs a whole number from ", low,
                                                   " to ", high, ", not '", value.Scalar(), "'"));
        }
        return number;
      };
      auto path = [&]() {
        const std::filesystem::path file(value.Scalar());
        return std::filesystem::absolute(file.is_absolute() ? file : std::filesystem::path(base_dir) / file)
            .lexically_normal()
            .string();
      };
      if (key == "address") {
        config.http.address = value.Scalar();
      } else if (key == "port") {
        SLUICE_ASSIGN_OR_RETURN(const int64_t port, integer(0, 65535));
        config.http.port = static_cast<int>(port);
      } else if (key == "data_dir") {
        config.data_dir = path();
      } else if (key == "token") {
        if (value.Scalar().empty()) return absl::InvalidArgumentError(StrCat(where, ": 'token' is empty"));
        config.http.token = value.Scalar();
        has_token = true;
      } else if (key == "allow_unauthenticated") {
        bool allow = false;
        if (!YAML::convert<bool>::decode(value, allow)) {
          return absl::InvalidArgumentError(StrCat(where, ": 'allow_unauthenticated' needs true or false"));
        }
        config.http.allow_unauthenticated = allow;
      } else if (key == "tls_cert") {
        config.http.tls_cert_file = path();
      } else if (key == "tls_key") {
        config.http.tls_key_file = path();
      } else if (key == "max_body_bytes") {
        SLUICE_ASSIGN_OR_RETURN(const int64_t bytes, integer(1, int64_t{1} << 30));
        config.http.max_body_bytes = static_cast<size_t>(bytes);
      } else if (key == "max_running_jobs") {
        SLUICE_ASSIGN_OR_RETURN(const int64_t jobs, integer(1, 4096));
        config.max_running_jobs = static_cast<int>(jobs);
      } else if (key == "log.level" || key == "log.format") {
        SLUICE_RETURN_IF_ERROR(config.SetLog(key.substr(4), value.Scalar(), where));
      } else if (key == "default_parallelism") {
        SLUICE_ASSIGN_OR_RETURN(const int64_t workers, integer(1, 1024));
        config.default_parallelism = static_cast<int>(workers);
      }
    }
    if (!has_token) config.http.token = environment_token;
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(StrCat(Where(name, error.mark), ": ", error.msg));
  }
  if (config.data_dir.empty()) return absl::InvalidArgumentError(StrCat(name, ": 'data_dir' is required"));
  return config;
}

}  // namespace sluice
