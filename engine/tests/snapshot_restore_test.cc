// Restore of a corrupt snapshot returns DataLoss: never a crash, an out-of-bounds access or an
// allocation sized by a corrupt count. Each input is one that fuzz_snapshot found (it crashed
// the engine before the fix named in the test), kept in engine/fuzz/corpus/fuzz_snapshot/ as
// regression_<what>: its first byte selects the state holder (engine/fuzz/snapshot_fixture.h),
// the rest is the snapshot. `make asan` runs these under AddressSanitizer too.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "snapshot_fixture.h"

namespace sluice::fuzz {
namespace {

absl::Status RestoreCorpusInput(const std::string& name) {
  const std::filesystem::path path =
      std::filesystem::path(SLUICE_SOURCE_DIR "/engine/fuzz/corpus/fuzz_snapshot") / name;
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const std::string input = bytes.str();
  if (input.empty()) return absl::NotFoundError(StrCat("cannot read ", path.string()));
  const auto target = static_cast<SnapshotTarget>(static_cast<uint8_t>(input[0]) % kSnapshotTargets);
  return SnapshotFixture::Get().Restore(target, std::string_view(input).substr(1));
}

void ExpectDataLoss(const std::string& name) {
  const absl::Status status = RestoreCorpusInput(name);
  EXPECT_TRUE(absl::IsDataLoss(status)) << name << ": " << status;
}

// AggregateOperator::Restore resized its list of changed groups to the count read, unchecked
// (std::length_error, or a request for terabytes).
TEST(SnapshotRestoreTest, AggregateDirtyCountBeyondTheSnapshotIsDataLoss) {
  ExpectDataLoss("regression_aggregate_dirty_count");
}

// ... and marked each listed group changed without checking that it is one of the groups.
TEST(SnapshotRestoreTest, AggregateDirtyGroupOutOfRangeIsDataLoss) {
  ExpectDataLoss("regression_aggregate_dirty_group_out_of_range");
}

// The same for a window's member list ...
TEST(SnapshotRestoreTest, AggregateWindowMemberCountBeyondTheSnapshotIsDataLoss) {
  ExpectDataLoss("regression_aggregate_window_member_count");
}

// ... and the list of groups of closed windows.
TEST(SnapshotRestoreTest, AggregateClosingCountBeyondTheSnapshotIsDataLoss) {
  ExpectDataLoss("regression_aggregate_closing_count");
}

// COUNT(DISTINCT)'s per-group list of (group, value) pairs was sized by the count read.
TEST(SnapshotRestoreTest, CountDistinctPairCountBeyondTheSnapshotIsDataLoss) {
  ExpectDataLoss("regression_count_distinct_pair_count");
}

// SessionWindowOperator::Restore sized a dozen per-group arrays by the group count read (up to
// 2^32 groups: tens of gigabytes).
TEST(SnapshotRestoreTest, SessionGroupCountBeyondTheSnapshotIsDataLoss) {
  ExpectDataLoss("regression_session_group_count");
}

// AggregateOperator::Restore checked each listed group id against the id range only: a
// sliding-window snapshot whose lists of changed groups and of closed windows' groups named
// groups free in its key table restored, and the first batch after it erased such a group
// from the key table (KeyTable::Erase's liveness check aborted the process). Found once
// fuzz_snapshot ran the restored operator over records (SnapshotFixture::RunRestored).
TEST(SnapshotRestoreTest, AggregateGroupListedButFreeInTheKeyTableIsDataLoss) {
  ExpectDataLoss("regression_aggregate_group_free_in_key_table");
}

// COUNT(DISTINCT)'s Restore checked each group's pair ids against the id range only: a
// session snapshot whose per-group pair lists disagreed with its pair table (and with its
// counts) restored, and closing a session erased a pair that was free in the pair table
// (KeyTable::Erase's liveness check aborted the process). Found by fuzz_snapshot with
// RunRestored.
TEST(SnapshotRestoreTest, CountDistinctPairsDisagreeingWithThePairTableIsDataLoss) {
  ExpectDataLoss("regression_count_distinct_pair_free_in_key_table");
}

// SessionWindowOperator::Restore accepted sessions with any flags and key ids: emitting a
// session whose key id was free in the key table read the key's string by a stale id
// (heap-buffer-overflow). Found by fuzz_snapshot with RunRestored.
TEST(SnapshotRestoreTest, SessionOfAFreeKeyIsDataLoss) {
  ExpectDataLoss("regression_session_key_free_in_key_table");
}

// RowsWindowOperator::Restore took a partition's liveness from the snapshot without asking
// its key table: a partition on the expiry list whose id was free in the table was handed out
// again by the next batch, reset while still linked, and linked in a second time. The list
// became a cycle, and the next Snapshot() walked it allocating without end (without the fix
// this test runs out of memory). Found by fuzz_snapshot with RunRestored (-malloc_limit_mb).
TEST(SnapshotRestoreTest, RowsWindowPartitionFreeInTheKeyTableIsDataLoss) {
  ExpectDataLoss("regression_rows_window_partition_free_in_key_table");
}

}  // namespace
}  // namespace sluice::fuzz
