#include "dataset.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "common/strings.h"
#include "types/decimal.h"

namespace sluice::bench {
namespace {

Schema GeneratorSchema(const DataProfile& profile) {
  switch (profile.kind) {
    case DataKind::kOrders: return OrderGenerator::OrderSchema();
    case DataKind::kTrades: return TradeGenerator::TradeSchema(profile.trades.decimal_price);
    case DataKind::kMarketData: return TradeGenerator::MarketDataSchema();
  }
  return {};
}

// Fills up to `max_records` into `out` with the generator's columns; returns how many.
class AnyGenerator {
 public:
  AnyGenerator(const DataProfile& profile, uint64_t records) : profile_(profile), remaining_(records) {
    if (profile.kind == DataKind::kOrders) {
      orders_ = std::make_unique<OrderGenerator>(profile.orders);
    } else {
      TradeGeneratorOptions options = profile.trades;
      options.count = records;
      trades_ = std::make_unique<TradeGenerator>(options);
    }
  }

  size_t FillBatch(size_t max_records, Batch& out) {
    if (trades_) return trades_->FillBatch(max_records, out);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max_records, remaining_));
    if (n == 0) return 0;
    orders_->FillBatch(n, out);
    remaining_ -= n;
    return n;
  }

  size_t AppendText(size_t max_records, bool csv, bool header, std::string& out) {
    if (trades_)
      return csv ? trades_->AppendCsv(max_records, out, header) : trades_->AppendJsonLines(max_records, out);
    const size_t n = static_cast<size_t>(std::min<uint64_t>(max_records, remaining_));
    if (n == 0) return 0;
    if (csv) {
      orders_->AppendCsv(n, out, header);
    } else {
      orders_->AppendJsonLines(n, out);
    }
    remaining_ -= n;
    return n;
  }

 private:
  DataProfile profile_;
  uint64_t remaining_;
  std::unique_ptr<OrderGenerator> orders_;
  std::unique_ptr<TradeGenerator> trades_;
};

const char* SqliteType(TypeId type) {
  if (IsDecimal(type)) return "REAL";  // the oracle's DECIMAL: exact for whole cents
  switch (type) {
    case TypeId::kDouble: return "REAL";
    case TypeId::kString: return "TEXT";
    default: return "INTEGER";
  }
}

absl::Status SqliteError(sqlite3* db, const std::string& what) {
  return absl::InternalError(StrCat("sqlite: ", what, ": ", sqlite3_errmsg(db)));
}

}  // namespace

std::string SqliteVersion() {
  return StrCat("sqlite ", sqlite3_libversion());
}

absl::Status MakeDirectories(const std::string& path) {
  std::string prefix;
  for (std::string_view part : StrSplit(path, '/')) {
    prefix += std::string(part);
    if (!prefix.empty() && mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::InternalError(StrCat("cannot create '", prefix, "': ", std::strerror(errno)));
    }
    prefix += "/";
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Dataset>> GenerateDataset(const DataProfile& profile, uint64_t records,
                                                         size_t batch_size, const SourceDefinition& source) {
  auto dataset = std::make_unique<Dataset>();
  dataset->profile = profile;
  dataset->records = records;
  dataset->schema = GeneratorSchema(profile);
  const Schema& declared = source.decoder.schema;
  bool same = declared.size() == dataset->schema.size();
  for (size_t i = 0; same && i < declared.size(); ++i) {
    same = declared.field(i).name == dataset->schema.field(i).name &&
           declared.field(i).type == dataset->schema.field(i).type;
  }
  if (!same) {
    return absl::InvalidArgumentError(StrCat("source '", source.name, "' declares '", declared.ToString(),
                                             "' but the ", profile.KindName(), " generator produces '",
                                             dataset->schema.ToString(), "'"));
  }
  if (source.decoder.event_time_field < 0) {
    return absl::InvalidArgumentError(StrCat("source '", source.name, "' needs 'event.time.field'"));
  }
  AnyGenerator generator(profile, records);
  uint64_t produced = 0;
  while (produced < records) {
    Batch batch;
    const size_t n =
        generator.FillBatch(static_cast<size_t>(std::min<uint64_t>(batch_size, records - produced)), batch);
    if (n == 0) break;
    // The generator's strings point into its tables of names, read at random; a source leaves
    // them in the batch (a decoder's read buffer or heap), in row order. So does the lab, so
    // that the first pass over a batch's strings reads memory in order, as in a real pipeline.
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      Column& column = batch.mutable_column(c);
      if (column.type() != TypeId::kString) continue;
      std::string_view* values = column.data<std::string_view>();
      for (size_t row = 0; row < n; ++row) values[row] = column.heap().Add(values[row]);
    }
    batch.AddColumn(batch.shared_column(static_cast<size_t>(source.decoder.event_time_field)));
    dataset->batches.push_back(std::move(batch));
    produced += n;
  }
  return dataset;
}

absl::Status WriteDataFile(const DataProfile& profile, uint64_t records, bool csv, const std::string& path) {
  if (access(path.c_str(), R_OK) == 0) return absl::OkStatus();
  const std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (file == nullptr)
    return absl::InternalError(StrCat("cannot create '", partial, "': ", std::strerror(errno)));
  AnyGenerator generator(profile, records);
  std::string text;
  bool header = csv;
  uint64_t written = 0;
  while (written < records) {
    text.clear();
    const size_t n = generator.AppendText(static_cast<size_t>(std::min<uint64_t>(65536, records - written)),
                                          csv, header, text);
    if (n == 0) break;
    header = false;
    written += n;
    if (std::fwrite(text.data(), 1, text.size(), file) != text.size()) {
      std::fclose(file);
      return absl::InternalError(StrCat("cannot write '", partial, "': ", std::strerror(errno)));
    }
  }
  if (std::fclose(file) != 0 || std::rename(partial.c_str(), path.c_str()) != 0) {
    return absl::InternalError(StrCat("cannot write '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChecksumValue> ComputeExpected(const Scenario& scenario, const Dataset& dataset,
                                              const Schema& output,
                                              const std::vector<size_t>& changelog_key) {
  std::vector<TypeId> output_types;
  for (const Field& field : output.fields()) output_types.push_back(field.type);
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK)
    return absl::InternalError("sqlite: cannot open a database");
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(db, sqlite3_close);
  const Schema& schema = dataset.schema;
  std::string create = StrCat("CREATE TABLE ", scenario.table, " (");
  std::string insert = StrCat("INSERT INTO ", scenario.table, " VALUES (");
  for (size_t c = 0; c < schema.size(); ++c) {
    StrAppend(&create, c > 0 ? ", " : "", schema.field(c).name, " ", SqliteType(schema.field(c).type));
    StrAppend(&insert, c > 0 ? ", " : "", "?");
  }
  create += ")";
  insert += ")";
  if (sqlite3_exec(db, create.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
    return SqliteError(db, create);
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v2(db, insert.c_str(), -1, &statement, nullptr) != SQLITE_OK)
    return SqliteError(db, insert);
  for (const Batch& batch : dataset.batches) {
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      for (size_t c = 0; c < schema.size(); ++c) {
        const Column& column = batch.column(c);
        const int index = static_cast<int>(c) + 1;
        if (!column.validity()[row]) {
          sqlite3_bind_null(statement, index);
          continue;
        }
        if (IsDecimal(schema.field(c).type)) {
          sqlite3_bind_double(statement, index,
                              DecimalToDouble(column.DecimalAt(row), DecimalScale(schema.field(c).type)));
          continue;
        }
        switch (schema.field(c).type) {
          case TypeId::kDouble: sqlite3_bind_double(statement, index, column.data<double>()[row]); break;
          case TypeId::kString: {
            const std::string_view text = column.data<std::string_view>()[row];
            sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
            break;
          }
          case TypeId::kBoolean: sqlite3_bind_int64(statement, index, column.data<uint8_t>()[row]); break;
          default: sqlite3_bind_int64(statement, index, column.data<int64_t>()[row]); break;
        }
      }
      if (sqlite3_step(statement) != SQLITE_DONE) {
        sqlite3_finalize(statement);
        return SqliteError(db, "insert");
      }
      sqlite3_reset(statement);
    }
  }
  sqlite3_finalize(statement);
  sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);

  if (sqlite3_prepare_v2(db, scenario.oracle_sql.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
    return SqliteError(db, StrCat(scenario.folder, "/oracle.sql"));
  }
  if (static_cast<size_t>(sqlite3_column_count(statement)) != output_types.size()) {
    const int columns = sqlite3_column_count(statement);
    sqlite3_finalize(statement);
    return absl::InvalidArgumentError(StrCat(scenario.folder, "/oracle.sql returns ", columns,
                                             " columns but the job outputs ", output_types.size()));
  }
  for (size_t c = 0; c < output.size(); ++c) {
    const std::string name = sqlite3_column_name(statement, static_cast<int>(c));
    if (name != output.field(c).name) {
      sqlite3_finalize(statement);
      return absl::InvalidArgumentError(StrCat(scenario.folder, "/oracle.sql names column ", c + 1, " '",
                                               name, "' where the job outputs '", output.field(c).name, "'"));
    }
  }
  ResultChecksum checksum(output_types, changelog_key);
  std::vector<ResultChecksum::Cell> cells(output_types.size());
  int step;
  while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
    for (size_t c = 0; c < output_types.size(); ++c) {
      const int index = static_cast<int>(c);
      ResultChecksum::Cell& cell = cells[c];
      const int sqlite_type = sqlite3_column_type(statement, index);
      cell.is_null = sqlite_type == SQLITE_NULL;
      int expected_type = SQLITE_INTEGER;
      if (output_types[c] == TypeId::kDouble) expected_type = SQLITE_FLOAT;
      if (output_types[c] == TypeId::kString) expected_type = SQLITE_TEXT;
      const bool boolean_range = output_types[c] != TypeId::kBoolean || sqlite_type != SQLITE_INTEGER ||
                                 static_cast<uint64_t>(sqlite3_column_int64(statement, index)) <= 1;
      if (!cell.is_null && (sqlite_type != expected_type || !boolean_range)) {
        const std::string value(reinterpret_cast<const char*>(sqlite3_column_text(statement, index)),
                                static_cast<size_t>(sqlite3_column_bytes(statement, index)));
        sqlite3_finalize(statement);
        static const char* kSqliteTypes[] = {"", "INTEGER", "REAL", "TEXT", "BLOB", "NULL"};
        return absl::InvalidArgumentError(StrCat(
            scenario.folder, "/oracle.sql returns ", kSqliteTypes[sqlite_type], " ", value, " in column '",
            output.field(c).name, "', which the job outputs as ", TypeName(output_types[c])));
      }
      switch (output_types[c]) {
        case TypeId::kDouble: cell.real = sqlite3_column_double(statement, index); break;
        case TypeId::kString:
          cell.text = std::string_view(reinterpret_cast<const char*>(sqlite3_column_text(statement, index)),
                                       static_cast<size_t>(sqlite3_column_bytes(statement, index)));
          break;
        default: cell.integer = sqlite3_column_int64(statement, index); break;
      }
    }
    checksum.AddRow(cells);
  }
  sqlite3_finalize(statement);
  if (step != SQLITE_DONE) return SqliteError(db, "oracle query");
  ChecksumValue value = checksum.Value();
  value.Sort();
  return value;
}

absl::StatusOr<std::optional<ChecksumValue>> LoadExpected(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::optional<ChecksumValue>();
  const std::string bytes(std::istreambuf_iterator<char>(in), {});
  auto value = ChecksumValue::Deserialize(bytes);
  if (!value.ok()) {
    return absl::DataLossError(StrCat("expected result file '", path, "' is corrupt (",
                                      std::string(value.status().message()),
                                      "); delete it to recompute it with SQLite"));
  }
  if (*value) (*value)->Sort();
  return std::move(*value);
}

absl::Status StoreExpected(const std::string& path, const ChecksumValue& value) {
  const std::string partial = path + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc | std::ios::binary);
    const std::string bytes = value.Serialize();
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return absl::InternalError(StrCat("cannot write '", partial, "'"));
  }
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    return absl::InternalError(StrCat("cannot write '", path, "': ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace sluice::bench
