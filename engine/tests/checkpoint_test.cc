// Durable checkpoints piece by piece: CRC32C, the checkpoint directory (publish, retention, a
// torn or corrupt checkpoint passed over, another job's refused), the file sink's two-phase
// commit (rows visible only once their checkpoint completes; a restore redoes an interrupted
// commit and takes back what an unused checkpoint appended) and the file source's read
// position. The kill -9 campaign over whole jobs is chaos_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/crc32c.h"
#include "common/strings.h"
#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "job_test_harness.h"
#include "runtime/file_checkpoint_store.h"

namespace sluice::testing {
namespace {

TEST(Crc32cTest, KnownValues) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);  // the standard check value
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros), 0x8A9136AAu);  // RFC 3720, B.4
  // Extending piece by piece equals one pass, whatever the cut (words and tail bytes).
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    EXPECT_EQ(Crc32cExtend(Crc32cExtend(0, text.data(), cut), text.data() + cut, text.size() - cut), Crc32c(text));
  }
}

CheckpointJobIdentity Identity(int parallelism = 1) { return CheckpointJobIdentity::Of("SELECT 1", parallelism); }

// Writes checkpoints 1..n, each with one snapshot "state <i>".
void WriteCheckpoints(FileCheckpointStore& store, int n) {
  for (int i = 1; i <= n; ++i) {
    ASSERT_TRUE(store.Put(i, "task", 0, StrCat("state ", i)).ok());
    ASSERT_TRUE(store.Complete(i).ok());
  }
}

TEST(FileCheckpointStoreTest, RecoversTheNewestAndKeepsTheRetainedNumber) {
  TemporaryDirectory directory;
  const std::string dir = directory.File("checkpoints");
  {
    auto store = FileCheckpointStore::Open(dir, Identity(), 2);
    ASSERT_TRUE(store.ok()) << store.status().message();
    WriteCheckpoints(**store, 4);
  }
  std::vector<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) present.push_back(entry.path().filename());
  std::sort(present.begin(), present.end());
  EXPECT_EQ(present, (std::vector<std::string>{"chk-0000000003", "chk-0000000004"}));
  auto store = FileCheckpointStore::Open(dir, Identity(), 2);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> notes;
  auto recovered = (*store)->Recover(&notes);
  ASSERT_TRUE(recovered.ok() && recovered->has_value()) << recovered.status().message();
  EXPECT_EQ((*recovered)->id, 4u);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(*(*store)->Get(4, "task", 0), "state 4");
  EXPECT_FALSE((*store)->Get(4, "task", 1).ok());
  // A resumed run numbers on from the newest: its first checkpoint is 5, not 1.
  ASSERT_TRUE((*store)->Put(1, "task", 0, "after").ok());
  ASSERT_TRUE((*store)->Complete(1).ok());  // written on the store's thread
  ASSERT_TRUE((*store)->WaitDurable().ok());
  EXPECT_EQ((*store)->durable_checkpoint(), 1u);  // the run's numbering
  EXPECT_EQ((*store)->last_completed(), 5u);      // the directory's
  auto reopened = FileCheckpointStore::Open(dir, Identity(), 2);
  ASSERT_TRUE(reopened.ok());
  recovered = (*reopened)->Recover(&notes);
  ASSERT_TRUE(recovered.ok() && recovered->has_value());
  EXPECT_EQ((*recovered)->id, 5u);
  EXPECT_EQ(*(*reopened)->Get(5, "task", 0), "after");
}

// With commit records (a Kafka transactional sink), a checkpoint is restorable only once its
// commit is recorded: the newest one without the record is passed over with a note, and
// retention counts only recorded ones, keeping that newest one until its record comes.
TEST(FileCheckpointStoreTest, WithCommitRecordsOnlyCommittedCheckpointsAreRestored) {
  TemporaryDirectory directory;
  const std::string dir = directory.File("checkpoints");
  {
    auto store = FileCheckpointStore::Open(dir, Identity(), 1);
    ASSERT_TRUE(store.ok());
    (*store)->RequireCommitRecords();
    for (uint64_t n = 1; n <= 3; ++n) {
      ASSERT_TRUE((*store)->Put(n, "task", 0, StrCat("state ", n)).ok());
      ASSERT_TRUE((*store)->Complete(n).ok());
      ASSERT_TRUE((*store)->WaitDurable().ok());
      if (n < 3) {
        ASSERT_TRUE((*store)->RecordCommitted(n).ok());  // 3: a crash before its commit
      }
    }
  }
  std::vector<std::string> present;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    present.push_back(entry.path().filename());
  std::sort(present.begin(), present.end());
  // Retained 1: the newest committed (2) and the newest complete one not yet committed (3).
  EXPECT_EQ(present, (std::vector<std::string>{"chk-0000000002", "chk-0000000003"}));
  auto store = FileCheckpointStore::Open(dir, Identity(), 1);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> notes;
  auto recovered = (*store)->Recover(&notes);
  ASSERT_TRUE(recovered.ok() && recovered->has_value()) << recovered.status().message();
  EXPECT_EQ((*recovered)->id, 2u);
  EXPECT_EQ(*(*store)->Get(2, "task", 0), "state 2");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("checkpoint 3"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("never committed"), std::string::npos) << notes[0];
}

TEST(FileCheckpointStoreTest, ATornOrCorruptCheckpointIsPassedOverWithANote) {
  TemporaryDirectory directory;
  const std::string dir = directory.File("checkpoints");
  {
    auto store = FileCheckpointStore::Open(dir, Identity(), 5);
    ASSERT_TRUE(store.ok());
    WriteCheckpoints(**store, 4);
  }
  // 4: torn (a crash before its MANIFEST was published); 3: a bit flipped in its state file.
  std::filesystem::remove(StrCat(dir, "/chk-0000000004/MANIFEST"));
  {
    std::fstream state(StrCat(dir, "/chk-0000000003/state"), std::ios::in | std::ios::out | std::ios::binary);
    state.seekp(-1, std::ios::end);
    state.put('X');
  }
  auto store = FileCheckpointStore::Open(dir, Identity(), 5);
  ASSERT_TRUE(store.ok());
  std::vector<std::string> notes;
  auto recovered = (*store)->Recover(&notes);
  ASSERT_TRUE(recovered.ok() && recovered->has_value());
  EXPECT_EQ((*recovered)->id, 2u);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("checkpoint 4"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("no MANIFEST"), std::string::npos) << notes[0];
  EXPECT_NE(notes[1].find("checkpoint 3"), std::string::npos) << notes[1];
  EXPECT_NE(notes[1].find("CRC32C does not match"), std::string::npos) << notes[1];
  EXPECT_EQ(*(*store)->Get(2, "task", 0), "state 2");

  // A MANIFEST edited by hand fails its own checksum.
  {
    std::ofstream manifest(StrCat(dir, "/chk-0000000002/MANIFEST"), std::ios::app);
    manifest << "extra=1\n";
  }
  notes.clear();
  recovered = (*store)->Recover(&notes);
  ASSERT_TRUE(recovered.ok() && recovered->has_value());
  EXPECT_EQ((*recovered)->id, 1u);
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_NE(notes[2].find("MANIFEST"), std::string::npos) << notes[2];
}

TEST(FileCheckpointStoreTest, AnotherJobsCheckpointIsRefusedNamingWhatDiffers) {
  TemporaryDirectory directory;
  const std::string dir = directory.File("checkpoints");
  {
    auto store = FileCheckpointStore::Open(dir, Identity(2), 3);
    ASSERT_TRUE(store.ok());
    WriteCheckpoints(**store, 1);
  }
  // Another parallelism is not another job: the checkpoint is recovered, saying what it was
  // taken at (the runtime rescales it).
  auto other_parallelism = FileCheckpointStore::Open(dir, Identity(1), 3);
  auto recovered = (*other_parallelism)->Recover(nullptr);
  ASSERT_TRUE(recovered.ok() && recovered->has_value()) << recovered.status();
  EXPECT_EQ((*recovered)->parallelism, 2);
  auto other_text = FileCheckpointStore::Open(dir, CheckpointJobIdentity::Of("SELECT 2", 2), 3);
  recovered = (*other_text)->Recover(nullptr);
  ASSERT_FALSE(recovered.ok());
  EXPECT_NE(recovered.status().message().find("belongs to another job"), std::string::npos)
      << recovered.status().message();
}

// --- the file sink's two-phase commit ------------------------------------------------------

Schema OneColumn() {
  Schema schema;
  schema.Add(Field{"n", TypeId::kInt64, false});
  return schema;
}

Batch Numbers(int64_t from, int64_t to) {
  auto values = std::make_shared<Column>(TypeId::kInt64, static_cast<size_t>(to - from));
  for (int64_t n = from; n < to; ++n) {
    values->data<int64_t>()[n - from] = n;
    values->validity()[n - from] = 1;
  }
  Batch batch;
  batch.SetColumns({values}, static_cast<size_t>(to - from));
  return batch;
}

std::string Lines(int64_t from, int64_t to) {
  std::string out;
  for (int64_t n = from; n < to; ++n) out += StrCat("{\"n\":", n, "}\n");
  return out;
}

std::unique_ptr<FileSink> TwoPhaseSink(const std::string& path) {
  SinkDefinition definition;
  definition.name = "out";
  definition.type = "file_sink";
  std::unique_ptr<FileSink> sink = FileSink::CreateFile(definition, OneColumn(), path);
  EXPECT_TRUE(sink->EnableTwoPhaseCommit(/*periodic=*/true));
  return sink;
}

TEST(FileSinkTwoPhaseTest, RowsBecomeVisibleWhenTheirCheckpointCompletes) {
  TemporaryDirectory directory;
  const std::string path = directory.File("out.jsonl");
  auto sink = TwoPhaseSink(path);
  ASSERT_TRUE(sink->Open().ok());
  ASSERT_TRUE(sink->Push(Numbers(0, 3)).ok());
  ASSERT_TRUE(sink->Flush().ok());
  EXPECT_EQ(ReadFile(path), "");  // written to the staging file only
  ASSERT_TRUE(sink->PreCommit(1).ok());
  ASSERT_TRUE(sink->Push(Numbers(3, 5)).ok());
  ASSERT_TRUE(sink->PreCommit(2).ok());
  EXPECT_EQ(ReadFile(path), "");  // sealed, not committed
  ASSERT_TRUE(sink->Commit(1).ok());
  EXPECT_EQ(ReadFile(path), Lines(0, 3));
  ASSERT_TRUE(sink->Commit(2).ok());
  EXPECT_EQ(ReadFile(path), Lines(0, 5));
  ASSERT_TRUE(sink->Push(Numbers(5, 6)).ok());
  ASSERT_TRUE(sink->Finish().ok());  // a finished run publishes its last rows
  EXPECT_EQ(ReadFile(path), Lines(0, 6));
  for (const auto& entry : std::filesystem::directory_iterator(directory.path())) {
    EXPECT_EQ(entry.path().filename(), "out.jsonl") << "left behind";
  }
}

TEST(FileSinkTwoPhaseTest, ARestoreRedoesAnInterruptedCommitAndTakesBackLaterOutput) {
  TemporaryDirectory directory;
  const std::string path = directory.File("out.jsonl");
  std::string snapshot_1, snapshot_2;
  {
    auto sink = TwoPhaseSink(path);
    ASSERT_TRUE(sink->Open().ok());
    ASSERT_TRUE(sink->Push(Numbers(0, 3)).ok());
    ASSERT_TRUE(sink->PreCommit(1).ok());
    StateWriter writer;
    ASSERT_TRUE(sink->Snapshot(writer).ok());
    snapshot_1 = writer.Release();
    ASSERT_TRUE(sink->Commit(1).ok());
    ASSERT_TRUE(sink->Push(Numbers(3, 6)).ok());
    ASSERT_TRUE(sink->PreCommit(2).ok());
    StateWriter second;
    ASSERT_TRUE(sink->Snapshot(second).ok());
    snapshot_2 = second.Release();
    ASSERT_TRUE(sink->Push(Numbers(6, 8)).ok());
    ASSERT_TRUE(sink->Flush().ok());
    // Killed here: checkpoint 2 completed but its part was not appended; rows 6, 7 staged.
  }
  EXPECT_EQ(ReadFile(path), Lines(0, 3));
  {
    // Resuming from checkpoint 2 commits its part first.
    auto sink = TwoPhaseSink(path);
    StateReader reader(snapshot_2);
    ASSERT_TRUE(sink->Restore(reader).ok());
    EXPECT_EQ(ReadFile(path), Lines(0, 6));
    ASSERT_TRUE(sink->Open().ok());
    ASSERT_TRUE(sink->Push(Numbers(6, 9)).ok());
    ASSERT_TRUE(sink->Finish().ok());
    EXPECT_EQ(ReadFile(path), Lines(0, 9));
  }
  {
    // Resuming from checkpoint 1 (2 found corrupt, say): its part is in the output already;
    // what came after it is taken back, for the resumed run to write again.
    auto sink = TwoPhaseSink(path);
    StateReader reader(snapshot_1);
    ASSERT_TRUE(sink->Restore(reader).ok());
    EXPECT_EQ(ReadFile(path), Lines(0, 3));
  }
  {
    // An output shorter than the checkpoint committed was changed outside Sluice: refused.
    std::filesystem::resize_file(path, 4);
    auto sink = TwoPhaseSink(path);
    StateReader reader(snapshot_2);
    const absl::Status status = sink->Restore(reader);
    EXPECT_FALSE(status.ok());
    EXPECT_NE(status.message().find("fewer than"), std::string::npos) << status.message();
  }
}

// --- the file source's read position --------------------------------------------------------

TEST(FileSourceCheckpointTest, ResumesAtTheNextRecordWithItsLineNumber) {
  TemporaryDirectory directory;
  const std::string path = directory.File("in.jsonl");
  std::string text;
  for (int i = 0; i < 100; ++i) text += i == 57 ? "not json\n" : StrCat("{\"n\":", i, "}\n");
  WriteFile(path, text);
  SourceDefinition definition;
  definition.name = "in";
  definition.type = "file_source";
  definition.format = "json";
  definition.decoder.schema = OneColumn();
  definition.schema = OneColumn();
  definition.schema.Add(Field{"_event_time", TypeId::kTimestamp, false});  // ingestion time here
  definition.dead_letter_path = directory.File("dead.jsonl");
  auto dead_letters = std::make_shared<DeadLetterWriter>("in", definition.dead_letter_path);
  auto first = FileSource::Create(definition, path, dead_letters, 10, false);
  ASSERT_TRUE(first->SupportsCheckpoints());
  ASSERT_TRUE(first->Open().ok());
  Batch batch;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(*first->Next(batch));  // 30 records
  StateWriter writer;
  ASSERT_TRUE(first->Snapshot(writer).ok());
  const int64_t watermark = first->watermark();

  auto second = FileSource::Create(definition, path, dead_letters, 10, false);
  StateReader reader(writer.bytes());
  ASSERT_TRUE(second->Restore(reader).ok());
  ASSERT_TRUE(second->Open().ok());
  EXPECT_EQ(second->watermark(), watermark);
  std::vector<int64_t> seen;
  while (*second->Next(batch)) {
    for (size_t row = 0; row < batch.num_rows(); ++row) seen.push_back(batch.column(0).data<int64_t>()[row]);
  }
  ASSERT_TRUE(second->Close().ok());
  std::vector<int64_t> expected;
  for (int i = 30; i < 100; ++i) {
    if (i != 57) expected.push_back(i);
  }
  EXPECT_EQ(seen, expected);
  // The bad record keeps its line number in the whole file.
  EXPECT_NE(ReadFile(definition.dead_letter_path).find("\"line\":58"), std::string::npos)
      << ReadFile(definition.dead_letter_path);

  // A file shorter than the position is another input: refused.
  WriteFile(path, "{\"n\":1}\n");
  auto third = FileSource::Create(definition, path, dead_letters, 10, false);
  StateReader again(writer.bytes());
  const absl::Status status = third->Restore(again);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("shorter than the checkpoint's read position"), std::string::npos)
      << status.message();
}

}  // namespace
}  // namespace sluice::testing
