// fuzz_snapshot: operator state restore from corrupt snapshots.
//
// Input: byte 0 selects the state holder (modulo kSnapshotTargets, see snapshot_fixture.h:
// the aggregate operator with tumbling and sliding windows, GROUP BY on one STRING key and
// under 'state.ttl', the session window operator, the ROWS window operator, and a bare
// KeyTable in each of its three modes); the rest is handed, as a snapshot, to Restore() of a
// fresh instance built from the fixture's fixed jobs.
//
// What it proves, for any byte string: Restore(StateReader&) either succeeds or returns an
// error (DataLoss for a truncated or corrupt snapshot), and never crashes, reads or writes out
// of bounds, runs into undefined behaviour or allocates memory out of proportion to the
// snapshot's length (a corrupt count or length field must not reserve gigabytes: libFuzzer's
// -malloc_limit_mb catches that). And when Restore accepts the bytes, the state it built can be
// snapshotted again, and that snapshot restores to the same state; and the restored operator,
// in its statement's chain, processes the fixture's sample records, watermarks, a snapshot
// and the end of input without crashing (SnapshotFixture::Restore).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "snapshot_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::fuzz;
  if (size < 1) return 0;
  const auto target = static_cast<SnapshotTarget>(data[0] % kSnapshotTargets);
  const std::string_view snapshot(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)SnapshotFixture::Get().Restore(target, snapshot);
  return 0;
}
