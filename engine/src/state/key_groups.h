// Key groups: the unit in which keyed state is divided between the workers of a job, so that a
// savepoint taken at one parallelism restores at another (as Flink's key groups).
//
// Every key of a keyed stage has a routing hash (RoutingHashes below: the hash the keyed
// exchange computes for the row). Its top bits name one of kKeyGroups key groups, and each of N
// workers owns a contiguous range of them: worker w owns the groups g with g * N / kKeyGroups ==
// w. The exchange sends a row to the owner of its key's group; a stateful operator restoring a
// snapshot taken at another parallelism keeps the keys of the groups its new worker owns
// (Operator::RestoreRescaled), recomputing each key's routing hash from its values. No hash is
// persisted: a snapshot holds key values, and the groups are derived from them when restored.
//
// With more workers than key groups, the workers past kKeyGroups own none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "batch/column.h"

namespace sluice {

inline constexpr uint32_t kKeyGroups = 128;
inline constexpr int kKeyGroupBits = 7;
static_assert(uint32_t{1} << kKeyGroupBits == kKeyGroups);

// The key group of a routing hash: its top bits (the bits that spread keys best).
inline uint32_t KeyGroupOf(uint64_t routing_hash) {
  return static_cast<uint32_t>(routing_hash >> (64 - kKeyGroupBits));
}

// The worker of `workers` that owns key group `group`.
inline uint32_t WorkerOfKeyGroup(uint32_t group, uint32_t workers) {
  return group * workers / kKeyGroups;
}

// Key groups [first, end).
struct KeyGroupRange {
  uint32_t first = 0;
  uint32_t end = kKeyGroups;

  bool Contains(uint32_t group) const { return group >= first && group < end; }
  bool all() const { return first == 0 && end == kKeyGroups; }
  bool operator==(const KeyGroupRange&) const = default;
};

// The key groups worker `worker` of `workers` owns (those WorkerOfKeyGroup maps to it).
KeyGroupRange KeyGroupRangeOf(uint32_t worker, uint32_t workers);

// Routing hashes of the `count` active rows of key columns `keys[0, key_count)`, written to
// hashes[i] for the i-th active row: equal keys (as a key table compares them: NULLs alike, 0.0
// and -0.0 alike) get equal hashes. `carried`: the keys travel as carried key words
// (KeyTable::EncodeCarriedKeys), whose hash is then the routing hash; otherwise each column is
// folded with FoldKeyColumn and the result mixed. Without key columns every row hashes to 0
// (key group 0: one worker holds all the state). `scratch` is reused between calls.
struct RoutingScratch {
  std::vector<std::vector<uint64_t>> words;
  std::vector<uint64_t*> word_pointers;
  std::vector<uint64_t> nulls;
};
void RoutingHashes(const Column* const* keys, size_t key_count, bool carried, const uint32_t* selection,
                   size_t count, uint64_t* hashes, RoutingScratch& scratch);

// Folds key column `column`'s value of every active row into hashes[i] (one multiply per value).
// RoutingHashes (uncarried) is: hashes zeroed, each key column folded, then HashMix64.
void FoldKeyColumn(const Column& column, const uint32_t* selection, size_t count, uint64_t* hashes);

}  // namespace sluice
