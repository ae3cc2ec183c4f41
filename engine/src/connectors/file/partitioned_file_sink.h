// PartitionedFileSink: a file_sink with '<sink>.partition.by' (Flink's PARTITIONED BY on a
// 'filesystem' table). Each row goes to the Hive-style directory its partition columns' values
// name, `<path>/dt=2026-01-01/hm=07%3A15/`, into part files `part-0-<n>.<csv|jsonl>` (0: the
// sink's task; the job's sinks run on one thread), and the partition columns are not written
// into the files, as Flink's filesystem connector does: they are in the path. Values are escaped
// as Flink's PartitionPathUtils.escapePathName does (EscapePartitionPathName); NULL and '' go to
// the default partition name.
//
// Files: a part file is written as a hidden `.part-0-<n>.<ext>.inprogress` and renamed to its
// name when closed, so a reader of the directories only sees whole files. A file is closed when
// it has been open for the rollover interval (checked every check interval), when its
// partition is committed, when more than `max_open_files` files are open (the least recently
// written one: the number of open files is bounded), and when the job ends. Rows for a
// partition whose file was closed open the next part file.
//
// Committing a partition (with the 'success_file' policy: writing `<partition>/_SUCCESS`) when
// its trigger fires: 'partition_time' once the watermark passes the partition's time (its values
// through the time pattern) plus the delay; 'process_time' once the wall clock passes the
// partition's creation plus the delay (checked every check interval). A run whose input ended
// (the watermark kMaxWatermark, then Finish()) commits every partition; a cancelled or failed
// one only closes its files. Rows that arrive for a committed partition are written to a new
// part file and the partition is committed again.
//
// Checkpoints: not supported yet. The sink cannot yet make its part files exactly once (visible
// only when the checkpoint covering them completes), so a job with checkpoints or a savepoint is
// refused by Open() (and by the binder when 'checkpoint.dir' is set in the job).
//
// Per row: the partition's key is built into a reused buffer and looked up in a hash map by
// that view; consecutive rows of the same partition skip the lookup. Nothing is allocated per
// row once a partition exists.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "catalog/connector_definition.h"
#include "connectors/file/file_connector.h"
#include "connectors/sink.h"
#include "formats/record_format.h"

namespace sluice {

// Flink's (and Hive's) escaping of a partition column's name or value in a directory name:
// control characters and "#%'*/:=?\{[]^ and DEL become '%' and two upper-case hex digits.
std::string EscapePartitionPathName(std::string_view text);

// The partition time of `values` (of `columns`, in order) through Flink's timestamp pattern
// ('$dt $hm:00'; empty: the first value), read as 'yyyy-MM-dd[ HH:mm:ss[.SSS]]' UTC; nullopt when
// the text is not a timestamp.
std::optional<int64_t> ExtractPartitionTime(std::string_view pattern, const std::vector<std::string>& columns,
                                            const std::vector<std::string>& values);

class PartitionedFileSink final : public SinkOperator {
 public:
  // Builds the sink without touching the file system (EXPLAIN builds plans too).
  PartitionedFileSink(const SinkDefinition& definition, const Schema& schema);
  ~PartitionedFileSink() override;

  // Removes what an earlier run of the sink left in the partition directories (part files,
  // in-progress files, _SUCCESS; nothing else), and creates the directory.
  absl::Status Open() override;
  absl::Status Push(const Batch& batch) override;
  absl::Status OnWatermark(int64_t watermark) override;
  absl::Status Flush() override;
  absl::Status Finish() override;
  bool EnableTwoPhaseCommit(bool periodic) override;
  std::string Describe() const override;
  uint64_t rows_written() const override { return rows_written_; }

  // Tests: the wall clock the sink reads (epoch milliseconds).
  void SetClockForTesting(std::function<int64_t()> clock) { clock_ = std::move(clock); }
  // Partitions committed so far (each commit counted).
  uint64_t commits() const { return commits_; }
  // Part files closed so far.
  uint64_t files_closed() const { return files_closed_; }

 private:
  struct Partition {
    std::vector<std::string> values;  // as in the directory name, before escaping
    std::string directory;
    std::optional<int64_t> time;  // the partition time (partition_time trigger)
    int64_t created_millis = 0;
    // The open part file, if any.
    std::FILE* file = nullptr;
    std::unique_ptr<RecordEncoder> encoder;
    std::string file_name;  // part-0-<n>.<ext>
    int64_t opened_millis = 0;
    uint64_t last_written = 0;   // LRU: the batch that last wrote it
    bool uncommitted = false;    // rows written since the last commit
    std::vector<uint32_t> rows;  // scratch: this batch's rows
  };

  Partition& PartitionOf(const Batch& batch, uint32_t row);
  absl::Status OpenFile(Partition& partition);
  absl::Status CloseFile(Partition& partition);
  absl::Status CommitPartition(Partition& partition);
  // Rolls files open for the rollover interval and fires process-time commits, at most every
  // check interval.
  absl::Status CheckTimers();
  // Commits the partitions whose time plus delay the watermark passed.
  absl::Status CommitByWatermark();
  absl::Status Error(const std::string& what, const std::string& path) const;
  int64_t Now() const;

  SinkDefinition definition_;
  std::string path_;
  FilePartitioning partitioning_;
  Schema data_schema_;                     // the columns written into the files
  std::vector<size_t> data_columns_;       // their indexes in the output
  std::vector<std::string> column_names_;  // of the partition columns
  std::vector<TypeId> column_types_;
  std::string extension_;
  bool refuse_checkpoints_ = false;

  absl::flat_hash_map<std::string, std::unique_ptr<Partition>> partitions_;
  std::string key_;                // scratch: a row's partition key
  Partition* previous_ = nullptr;  // the last row's partition, whose key is previous_key_
  std::string previous_key_;
  std::vector<Partition*> touched_;  // scratch: the partitions of this batch
  Batch view_;                       // the data columns of a batch, selected per partition
  std::string buffer_;
  size_t open_files_ = 0;
  uint64_t next_part_ = 0;
  uint64_t batches_ = 0;
  int64_t watermark_ = INT64_MIN;
  int64_t next_check_millis_ = 0;
  uint64_t rows_written_ = 0;
  uint64_t commits_ = 0;
  uint64_t files_closed_ = 0;
  std::function<int64_t()> clock_;
};

}  // namespace sluice
