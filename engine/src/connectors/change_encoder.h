// ChangeEncoder: writes the rows of a stream as a sink's changelog.mode says (see
// plan/changelog_mode.h), one JSON record per line.
//
//  - changelog: Debezium-style, one record per change:
//      insert                        {"before":null,"after":{row},"op":"c"}
//      update-before + update-after  {"before":{old row},"after":{new row},"op":"u"}
//      delete                        {"before":{row},"after":null,"op":"d"}
//    An update-after without an update-before just before it (a filter downstream of the
//    update dropped the old row) is an insert to the filtered view: "c"; an update-before
//    without its update-after (the filter dropped the new row) is a delete: "d".
//  - upsert: an insert or update-after writes the row as the append format does; a delete (or
//    an update-before without its update-after) writes {"key":{key columns},"deleted":true};
//    an update-before followed by its update-after writes nothing for the update-before.
// A batch without row kinds holds inserts (or, from an updating statement whose consumers need
// no update-before rows, upserts: the same to both formats).
//
// An update-before that ends a batch waits for the next batch's first row (Finish() writes it
// as a delete if none comes). Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batch/batch.h"
#include "formats/record_format.h"
#include "plan/logical_plan.h"
#include "state/state_serializer.h"
#include "types/schema.h"

namespace sluice {

// `kept` shares `batch`'s columns, selecting its active rows but the update-before ones: what
// an upsert writes of a stream that never deletes (a CSV upsert).
void SelectUpserts(const Batch& batch, Batch& kept);

class ChangeEncoder {
 public:
  // One record written by Encode(): bytes [begin, end) of the output (without the newline),
  // whether it is a tombstone (an upsert delete: Kafka writes it as a message with a null
  // value), its row key's JSON object, bytes [key_begin, key_end) of record_keys(), and the
  // physical row of the batch it describes (for a Kafka 'key.field'; -1: the pending
  // update-before of an earlier batch).
  struct Record {
    size_t begin = 0;
    size_t end = 0;
    bool tombstone = false;
    size_t key_begin = 0;
    size_t key_end = 0;
    int64_t row = -1;
  };

  // REQUIRES: mode is kChangelog or kUpsert. `key_columns`: the row key's columns of `schema`.
  ChangeEncoder(const Schema& schema, ChangelogMode mode, std::vector<size_t> key_columns);

  // Appends the records of `batch`'s active rows to `out`, each followed by '\n', and, when
  // `records` is not null, describes each one there (cleared first).
  void Encode(const Batch& batch, std::string& out, std::vector<Record>* records = nullptr);
  // Writes the update-before still waiting, if any, as a delete.
  void Finish(std::string& out, std::vector<Record>* records = nullptr);

  // An update-before waits for the next row.
  bool pending() const { return pending_; }
  // The update-before waiting, for a sink's checkpoint (Restore() on a fresh encoder).
  void Snapshot(StateWriter& writer) const;
  absl::Status Restore(StateReader& reader);
  // The row keys of the records of the last Encode() or Finish() that asked for records.
  const std::string& record_keys() const { return record_keys_; }
  uint64_t invalid_utf8_replaced() const { return rows_->invalid_utf8_replaced(); }

 private:
  // Writes the record for an update-before `before` (with key `key`) that no update-after
  // follows: a delete.
  void WriteDelete(std::string_view before, std::string_view key, int64_t row, std::string& out,
                   std::vector<Record>* records);
  void WriteRecord(std::string& out, size_t begin, bool tombstone, std::string_view key, int64_t row,
                   std::vector<Record>* records);

  ChangelogMode mode_;
  std::vector<size_t> key_columns_;
  std::unique_ptr<RecordEncoder> rows_;
  std::unique_ptr<RecordEncoder> keys_;
  Batch key_batch_;
  std::string row_text_;
  std::string key_text_;
  std::vector<size_t> row_ends_;  // per active row: end of its line in row_text_
  std::vector<size_t> key_ends_;
  bool pending_ = false;  // an update-before ended the last batch
  std::string pending_row_;
  std::string pending_key_;
  std::string record_keys_;
};

}  // namespace sluice
