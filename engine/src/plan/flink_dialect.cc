#include "plan/flink_dialect.h"

#include <algorithm>
#include <span>

#include "common/strings.h"
#include "plan/job_properties.h"
#include "sql/parser.h"
#include "types/logical_type.h"
#include "types/number_format.h"

namespace sluice {

namespace {

bool IsSink(const ParsedJob& job, const std::string& table) {
  return std::any_of(job.statements.begin(), job.statements.end(), [&](const Statement& statement) {
    return statement.kind == Statement::Kind::kInsert && EqualsIgnoreCase(statement.name, table);
  });
}

// Our type name of a column, as '<name>.schema' takes it.
std::string SchemaTypeName(TypeId type) {
  if (IsDecimal(type)) return std::string(TypeName(type));
  switch (type) {
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kString: return "STRING";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kNull: break;
  }
  return "STRING";
}

// A Flink duration ('10 s', '1 min', '500ms', '2 h') in milliseconds, or nullopt.
std::optional<int64_t> FlinkDurationMillis(std::string_view text) {
  text = StripWhitespace(text);
  size_t digits = 0;
  while (digits < text.size() && IsAsciiDigit(text[digits])) ++digits;
  if (digits == 0) return std::nullopt;
  const auto count = ParseInt64(text.substr(0, digits));
  if (!count) return std::nullopt;
  std::string unit = AsciiToLower(StripWhitespace(text.substr(digits)));
  if (unit.empty()) return *count;  // Flink: milliseconds
  if (unit == "min" || unit == "mins") unit = "minute";
  if (unit == "sec" || unit == "secs") unit = "second";
  const auto millis = IntervalUnitMillis(unit);
  int64_t result = 0;
  if (!millis || __builtin_mul_overflow(*count, *millis, &result)) return std::nullopt;
  return result;
}

// One Flink option and the Sluice key it becomes ("" for 'connector', handled apart).
struct OptionMapping {
  const char* flink;
  const char* sluice;
  bool source;
  bool sink;
};

constexpr OptionMapping kFileSystemOptions[] = {
    {"path", "path", true, true},
    {"format", "format", true, true},
    {"csv.field-delimiter", "csv.delimiter", true, true},
    // A partitioned sink's (PARTITIONED BY); LowerPartitionOption maps their values.
    {"partition.default-name", "partition.default.name", false, true},
    {"sink.partition-commit.trigger", "partition.commit.trigger", false, true},
    {"sink.partition-commit.delay", "partition.commit.delay", false, true},
    {"sink.partition-commit.policy.kind", "partition.commit.policy", false, true},
    {"partition.time-extractor.timestamp-pattern", "partition.time.pattern", false, true},
    {"sink.rolling-policy.rollover-interval", "rolling.interval", false, true},
    {"sink.rolling-policy.check-interval", "rolling.check.interval", false, true},
};

// The Sluice keys of a partitioned file sink's Flink options (only a table with PARTITIONED BY
// takes them).
bool IsPartitionKey(std::string_view key) {
  return StartsWith(key, "partition.") || StartsWith(key, "rolling.");
}
constexpr OptionMapping kKafkaOptions[] = {
    {"topic", "topic", true, true},
    {"properties.bootstrap.servers", "bootstrap.servers", true, true},
    {"properties.group.id", "group.id", true, false},
    {"scan.startup.mode", "auto.offset.reset", true, false},
    {"scan.bounded.mode", "stop.at.end", true, false},
    {"format", "format", true, true},
    {"value.format", "format", true, true},
    {"csv.field-delimiter", "csv.delimiter", true, true},
    {"sink.delivery-guarantee", "delivery.guarantee", false, true},
    {"sink.transactional-id-prefix", "transactional.id", false, true},
    {"properties.*", "properties.*", true, true},
};

std::span<const OptionMapping> OptionsOf(std::string_view connector) {
  if (connector == "filesystem") return kFileSystemOptions;
  if (connector == "kafka") return kKafkaOptions;
  return {};
}

// A table's options under their current names: Flink's legacy descriptor options (before 1.11,
// 'connector.type' = 'filesystem', 'connector.path', 'format.type', as Nexmark's q13 still
// writes them) become 'connector', 'path', 'format', ... when the table has no 'connector'.
// Their positions stay, so errors point at what was written.
std::vector<Property> CurrentOptions(const std::vector<Property>& options) {
  static constexpr std::pair<std::string_view, std::string_view> kLegacy[] = {
      {"connector.type", "connector"}, {"connector.path", "path"},
      {"format.type", "format"},       {"format.field-delimiter", "csv.field-delimiter"},
      {"connector.topic", "topic"},    {"connector.startup-mode", "scan.startup.mode"},
  };
  constexpr std::string_view kLegacyProperties = "connector.properties.";
  std::vector<Property> current = options;
  const bool legacy =
      std::none_of(options.begin(), options.end(), [](const Property& o) { return o.key == "connector"; }) &&
      std::any_of(options.begin(), options.end(),
                  [](const Property& o) { return o.key == "connector.type"; });
  if (!legacy) return current;
  for (Property& option : current) {
    for (const auto& [old_name, new_name] : kLegacy) {
      if (option.key == old_name) option.key = std::string(new_name);
    }
    if (StartsWith(option.key, kLegacyProperties)) {
      option.key = StrCat("properties.", option.key.substr(kLegacyProperties.size()));
    }
  }
  return current;
}

class TableLowering {
 public:
  TableLowering(ParsedJob& job, SqlErrorList& errors) : job_(job), errors_(errors) {}

  void Lower(const TableDefinition& table) {
    const bool sink = IsSink(job_, table.name);
    const std::vector<Property> options = CurrentOptions(table.options);
    const Property* connector = nullptr;
    for (const Property& option : options) {
      if (option.key == "connector") connector = &option;
    }
    if (connector == nullptr) {
      Fail(table.name_position, StrCat("table '", table.name, "' has no 'connector' option in WITH"));
      return;
    }
    const std::string& name = connector->value;
    std::string type;
    if (name == "filesystem") {
      type = sink ? "file_sink" : "file_source";
    } else if (name == "kafka") {
      type = sink ? "kafka_sink" : "kafka_source";
    } else if (name == "print" || name == "blackhole") {
      if (!sink) {
        Fail(connector->value_position,
             StrCat("table '", table.name, "' is read, and the '", name, "' connector is a sink only"));
        return;
      }
      type = name == "print" ? "stdout_sink" : "blackhole_sink";
    } else {
      errors_.Add(job_.source.NotSupported(
          connector->value_position,
          StrCat("the Flink connector '", name, "' (Sluice has filesystem, kafka, print and blackhole)")));
      return;
    }
    Emit(table.name, "type", type, *connector);
    const std::span<const OptionMapping> mappings = OptionsOf(name);
    bool csv = false;
    for (const Property& option : options) {
      if (&option == connector) continue;
      const OptionMapping* mapping = nullptr;
      for (const OptionMapping& candidate : mappings) {
        const std::string_view flink = candidate.flink;
        const bool matches = EndsWith(flink, "*") ? StartsWith(option.key, flink.substr(0, flink.size() - 1))
                                                  : option.key == flink;
        if (matches && (sink ? candidate.sink : candidate.source)) {
          mapping = &candidate;
          break;
        }
      }
      if (mapping == nullptr) {
        std::vector<std::string> known;
        for (const auto& [flink, ours] : FlinkOptionsOf(name, sink)) known.push_back(StrCat("'", flink, "'"));
        errors_.Add(job_.source.NotSupported(
            option.key_position,
            StrCat("the Flink option '", option.key, "' of a '", name, "' ", sink ? "sink" : "source",
                   known.empty() ? std::string(" (it takes no option)")
                                 : StrCat(" (Sluice maps ", StrJoin(known, ", "), ")"))));
        continue;
      }
      std::string key = mapping->sluice;
      std::string value = option.value;
      if (key == "properties.*") key = option.key;
      // A file system path as a URI: ours are local paths.
      if (key == "path" && StartsWith(value, "file://"))
        value = value.substr(std::string_view("file://").size());
      if (IsPartitionKey(key)) {
        if (table.partition_by.empty()) {
          errors_.Add(job_.source.NotSupported(
              option.key_position,
              StrCat(
                  "the Flink option '", option.key,
                  "' of a sink without PARTITIONED BY (Sluice's unpartitioned 'filesystem' sink writes one "
                  "file, not rolled part files)")));
          continue;
        }
        if (!LowerPartitionOption(option, value)) continue;
        Emit(table.name, key, value, option);
        continue;
      }
      if (key == "format" && value == "debezium-json" && sink) {
        // Flink's changelog format: ours is Debezium-style too ({"before", "after", "op"}; an
        // update is one "u" record with both rows, where Flink writes a "d" and a "c").
        Emit(table.name, "format", "json", option);
        Emit(table.name, "changelog.mode", "changelog", option);
        continue;
      }
      if (key == "format") {
        if (value != "json" && value != "csv" && !(value == "raw" && name == "kafka" && !sink)) {
          errors_.Add(
              job_.source.NotSupported(option.value_position, StrCat("the Flink format '", value, "'")));
          continue;
        }
        csv = value == "csv";
      } else if (key == "auto.offset.reset") {
        if (value == "earliest-offset") {
          value = "earliest";
        } else if (value == "latest-offset") {
          value = "latest";
        } else if (value == "group-offsets") {
          // Our consumer starts at the group's committed offsets already; without any, at the
          // earliest (Flink: 'properties.auto.offset.reset').
          continue;
        } else {
          errors_.Add(job_.source.NotSupported(
              option.value_position, StrCat("'scan.startup.mode' = '", value,
                                            "' (Sluice has earliest-offset, latest-offset, group-offsets)")));
          continue;
        }
      } else if (key == "stop.at.end") {
        // Flink's 'latest-offset': stop at the offsets that were latest when the job started,
        // which is what our bounded Kafka source does.
        if (value == "latest-offset" || value == "unbounded") {
          value = value == "latest-offset" ? "true" : "false";
        } else {
          errors_.Add(job_.source.NotSupported(
              option.value_position,
              StrCat("'scan.bounded.mode' = '", value, "' (Sluice has latest-offset and unbounded)")));
          continue;
        }
      } else if (key == "delivery.guarantee") {
        if (value == "at-least-once") {
          value = "at_least_once";
        } else if (value == "exactly-once") {
          value = "exactly_once";
        } else {
          errors_.Add(job_.source.NotSupported(
              option.value_position,
              StrCat("'sink.delivery-guarantee' = '", value, "' (Sluice has at-least-once, exactly-once)")));
          continue;
        }
      }
      Emit(table.name, key, value, option);
    }
    // Flink's CSV format has no header line; our file source's default expects one and our
    // file sink's default writes one.
    if (csv && (type == "file_source" || type == "file_sink"))
      Emit(table.name, "csv.header", "false", *connector);
    // And it writes a TIMESTAMP as SQL text ('2026-01-01 07:15:00.25'), where ours writes epoch
    // milliseconds.
    if (csv && type == "file_sink") Emit(table.name, "csv.timestamp.format", "sql", *connector);
    if (!table.partition_by.empty()) {
      if (name != "filesystem") {
        Fail(table.partition_by_position,
             StrCat("PARTITIONED BY on table '", table.name, "', whose connector is '", name,
                    "': only a 'filesystem' table is partitioned"));
        return;
      }
      if (!sink) {
        errors_.Add(job_.source.NotSupported(
            table.partition_by_position,
            StrCat("PARTITIONED BY on table '", table.name,
                   "', which is read (Sluice writes partitioned 'filesystem' tables; it does not read them "
                   "by partition)")));
        return;
      }
      Property partition;
      partition.key_position = partition.value_position = table.partition_by_position;
      Emit(table.name, "partition.by", StrJoin(table.partition_by, ", "), partition);
      // Flink commits no partition without a policy ('success-file' writes _SUCCESS); our
      // default is 'success_file'.
      const bool has_policy = std::any_of(
          table.options.begin(), table.options.end(),
          [](const Property& option) { return option.key == "sink.partition-commit.policy.kind"; });
      if (!has_policy) Emit(table.name, "partition.commit.policy", "none", partition);
    }
    if (sink) {
      if (table.watermark_position.line != 0) {
        errors_.Add(job_.source.NotSupported(table.watermark_position,
                                             "WATERMARK on a table that INSERT INTO writes"));
      }
      if (table.primary_key_position.line != 0) {
        errors_.Add(job_.source.NotSupported(
            table.primary_key_position,
            "PRIMARY KEY on a table that INSERT INTO writes (an updating query's sink is keyed by what the "
            "query groups by)"));
      }
      return;
    }
    std::vector<std::string> columns;
    for (const ColumnDefinition& column : table.columns) {
      columns.push_back(StrCat(column.name, " ", SchemaTypeName(column.type)));
    }
    Property schema;
    schema.key_position = table.name_position;
    schema.value_position = table.name_position;
    Emit(table.name, "schema", StrJoin(columns, ", "), schema);
    if (!table.primary_key.empty()) {
      Property key;
      key.key_position = key.value_position = table.primary_key_position;
      Emit(table.name, "primary.key", StrJoin(table.primary_key, ", "), key);
    }
    if (table.watermark_position.line != 0) {
      Property watermark;
      watermark.key_position = watermark.value_position = table.watermark_position;
      Emit(table.name, "event.time.field", table.watermark_column, watermark);
      if (watermark_table_ != nullptr &&
          watermark_table_->watermark_delay_millis != table.watermark_delay_millis) {
        errors_.Add(job_.source.NotSupported(
            table.watermark_position,
            StrCat("watermarks of different delays (Sluice has one per job: ",
                   watermark_table_->watermark_delay_millis, " ms for table '", watermark_table_->name, "', ",
                   table.watermark_delay_millis, " ms here)")));
        return;
      }
      if (watermark_table_ == nullptr) {
        watermark_table_ = &table;
        AddProperty("watermark.strategy", "bounded_out_of_orderness", watermark);
        AddProperty("watermark.max_out_of_orderness", StrCat(table.watermark_delay_millis, "ms"), watermark);
      }
    }
  }

  // The value of a partitioned sink's Flink option in our terms; false (reported) when Sluice
  // has no such value.
  bool LowerPartitionOption(const Property& option, std::string& value) {
    if (option.key == "sink.partition-commit.trigger") {
      if (value == "process-time" || value == "partition-time") {
        value = value == "process-time" ? "process_time" : "partition_time";
        return true;
      }
      errors_.Add(job_.source.Error(option.value_position,
                                    StrCat("invalid value '", value,
                                           "' for 'sink.partition-commit.trigger' (expected process-time or "
                                           "partition-time)")));
      return false;
    }
    if (option.key == "sink.partition-commit.policy.kind") {
      std::vector<std::string> policies;
      for (std::string_view part : StrSplit(value, ',')) {
        const std::string policy(StripWhitespace(part));
        if (policy == "success-file") {
          policies.push_back("success_file");
        } else if (policy == "metastore") {
          errors_.Add(job_.source.NotSupported(
              option.value_position,
              "'sink.partition-commit.policy.kind' = 'metastore': Sluice has no metastore to add partitions "
              "to (write 'success-file')"));
          return false;
        } else {
          errors_.Add(job_.source.NotSupported(
              option.value_position,
              StrCat("the partition commit policy '", policy, "' (Sluice has success-file)")));
          return false;
        }
      }
      value = StrJoin(policies, ", ");
      return true;
    }
    if (option.key == "sink.partition-commit.delay" ||
        option.key == "sink.rolling-policy.rollover-interval" ||
        option.key == "sink.rolling-policy.check-interval") {
      const std::optional<int64_t> millis = FlinkDurationMillis(value);
      if (!millis) {
        Fail(option.value_position, StrCat("invalid duration '", value, "' for '", option.key, "'"));
        return false;
      }
      value = StrCat(*millis, "ms");
    }
    return true;
  }

  void LowerSetting(const Property& setting) {
    struct Mapping {
      const char* flink;
      const char* sluice;
    };
    static constexpr Mapping kSettings[] = {
        {"execution.checkpointing.interval", "checkpoint.interval"},
        {"execution.checkpointing.dir", "checkpoint.dir"},
        {"state.checkpoints.dir", "checkpoint.dir"},
        {"table.exec.state.ttl", "state.ttl"},
    };
    for (const Mapping& mapping : kSettings) {
      if (setting.key != mapping.flink) continue;
      std::string value = setting.value;
      if (std::string_view(mapping.sluice) != "checkpoint.dir") {
        const std::optional<int64_t> millis = FlinkDurationMillis(value);
        if (!millis) {
          Fail(setting.value_position, StrCat("invalid duration '", value, "' for '", setting.key, "'"));
          return;
        }
        value = StrCat(*millis, "ms");
      }
      AddProperty(mapping.sluice, value, setting);
      return;
    }
    // Sluice's own job-wide keys may be set so too.
    const std::vector<std::string>& ours = JobPropertyKeys();
    if (std::find(ours.begin(), ours.end(), setting.key) != ours.end()) {
      AddProperty(setting.key, setting.value, setting);
      return;
    }
    std::vector<std::string> known;
    for (const Mapping& mapping : kSettings) known.push_back(StrCat("'", mapping.flink, "'"));
    errors_.Add(job_.source.NotSupported(
        setting.key_position,
        StrCat("the Flink setting '", setting.key, "' (Sluice maps ", StrJoin(known, ", "),
               " and takes its own job properties, like 'state.max.bytes')")));
  }

 private:
  void Fail(SourcePosition position, std::string message) {
    errors_.Add(job_.source.Error(position, message));
  }
  void Emit(const std::string& table, const std::string& key, std::string value, const Property& from) {
    AddProperty(StrCat(table, ".", key), std::move(value), from);
  }
  void AddProperty(std::string key, std::string value, const Property& from) {
    Property property;
    property.key = std::move(key);
    property.value = std::move(value);
    property.key_position = from.key_position;
    property.value_position = from.value_position;
    job_.properties.push_back(std::move(property));
  }

  ParsedJob& job_;
  SqlErrorList& errors_;
  const TableDefinition* watermark_table_ = nullptr;
};

// Flink (Calcite) lets a derived table go without a name, as in Nexmark's
// `SELECT ... FROM (SELECT ...) WHERE rownum <= 1`; ours needs one. Each such table of a Flink
// job gets Calcite's name for it, EXPR$<n>, counted over the job; nothing can refer to it by
// that name but its own columns, which is what the query does.
class DerivedTableNamer {
 public:
  void Name(SelectStatement& select) {
    for (auto& cte : select.with) Name(*cte.query);
    Name(select.from.get());
    for (auto& item : select.items) Name(*item.expression);
    if (select.where) Name(*select.where);
    for (auto& key : select.group_by) Name(*key);
    if (select.having) Name(*select.having);
    for (auto& branch : select.union_all) Name(*branch);
  }

 private:
  void Name(TableReference* table) {
    if (table == nullptr) return;
    if (table->kind == TableReference::Kind::kSubquery) {
      if (table->alias.empty()) table->alias = StrCat("EXPR$", next_++);
      Name(*table->subquery);
    }
    Name(table->left.get());
    Name(table->right.get());
    if (table->join_condition) Name(*table->join_condition);
  }
  void Name(ParsedExpression& e) {
    if (e.subquery) Name(*e.subquery);
    for (auto& child : e.children) Name(*child);
  }

  int next_ = 0;
};

}  // namespace

void LowerFlinkDialect(ParsedJob& job, SqlErrorList& errors) {
  if (job.dialect == Dialect::kFlink) {
    DerivedTableNamer namer;
    for (Statement& statement : job.statements) namer.Name(*statement.select);
  }
  // INSERT INTO t SELECT a, b: the query's columns take t's names in order; given here as the
  // items' aliases (when the select list has no * to expand), so that a query whose columns
  // would share a name (Nexmark q20's B.dateTime and A.dateTime) writes the table's. The binder
  // checks the count and types, and names the columns of a select list with * so after binding.
  for (Statement& statement : job.statements) {
    if (statement.kind != Statement::Kind::kInsert) continue;
    const TableDefinition* table = FindTableDefinition(job, statement.name);
    SelectStatement& select = *statement.select;
    if (table == nullptr || !select.union_all.empty() || select.items.size() != table->columns.size())
      continue;
    const bool star = std::any_of(select.items.begin(), select.items.end(), [](const SelectItem& item) {
      return item.expression->kind == ExpressionKind::kStar;
    });
    if (star) continue;
    for (size_t i = 0; i < select.items.size(); ++i) select.items[i].alias = table->columns[i].name;
  }
  // An INSERT writes the table as its CREATE TABLE spells it (names are case-insensitive).
  for (Statement& statement : job.statements) {
    if (statement.kind != Statement::Kind::kInsert) continue;
    if (const TableDefinition* table = FindTableDefinition(job, statement.name)) statement.name = table->name;
  }
  TableLowering lowering(job, errors);
  for (const TableDefinition& table : job.tables) {
    if (errors.full()) return;
    lowering.Lower(table);
  }
  for (const Property& setting : job.settings) {
    if (errors.full()) return;
    lowering.LowerSetting(setting);
  }
}

std::vector<std::pair<std::string, std::string>> FlinkOptionsOf(std::string_view connector, bool sink) {
  std::vector<std::pair<std::string, std::string>> options;
  for (const OptionMapping& mapping : OptionsOf(connector)) {
    if (sink ? mapping.sink : mapping.source) options.emplace_back(mapping.flink, mapping.sluice);
  }
  return options;
}

const TableDefinition* FindTableDefinition(const ParsedJob& job, std::string_view name) {
  for (const TableDefinition& table : job.tables) {
    if (EqualsIgnoreCase(table.name, name)) return &table;
  }
  return nullptr;
}

}  // namespace sluice
