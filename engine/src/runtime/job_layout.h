// JobLayout: how a job was divided when a checkpoint was taken, stored with the checkpoint under
// the task name kLayoutTask, so that a restore at another parallelism (rescaling) knows it:
//   - the number of workers (1: fused), which tells a rescaled restore from a plain one;
//   - the readers of each source that is read in pieces the runtime chose (a file's byte-range
//     splits, which depend on the number of workers): the restored job reads the same pieces, so
//     that each piece resumes from its own position, whatever its new parallelism. Sources
//     whose connector deals partitions out itself (a Kafka consumer group) are not listed: their
//     positions are pooled on restore (see ParallelRunner).
// Keyed state needs nothing here: a rescaled restore reads every old instance's snapshot of an
// operator and keeps the keys of its new key groups (state/key_groups.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "runtime/checkpoint_store.h"

namespace sluice {

struct JobLayout {
  static constexpr const char* kLayoutTask = "layout";

  struct Reader {
    std::string source;  // the job source's name
    uint64_t definition_partition = 0;
    bool split = false;  // a byte range [begin, end) of that partition
    uint64_t begin = 0;
    uint64_t end = UINT64_MAX;
    std::string description;
  };

  uint32_t workers = 1;
  std::vector<Reader> readers;  // source by source, in reader order

  std::string Encode() const;
  static absl::StatusOr<JobLayout> Decode(std::string_view bytes);
  // The layout stored with `checkpoint`, or nullopt for a checkpoint written before layouts
  // were (restored as taken at the present parallelism).
  static absl::StatusOr<std::optional<JobLayout>> Read(CheckpointStore& store, uint64_t checkpoint);
};

}  // namespace sluice
