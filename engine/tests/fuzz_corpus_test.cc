// The binary seeds of the fuzz targets (engine/fuzz/corpus/): fuzz_snapshot's are snapshots of
// the fixture's state holders after its sample records, fuzz_kafka_message's are poll batches.
//
// FuzzCorpusTest.WriteSeeds writes them when SLUICE_WRITE_FUZZ_SEEDS=1 is set (and is skipped
// otherwise):
//     SLUICE_WRITE_FUZZ_SEEDS=1 build/sluice_tests --gtest_filter='FuzzCorpusTest.WriteSeeds'
// FuzzCorpusTest.SnapshotSeedsRestore checks that the committed snapshot seeds still restore,
// so that a change of a snapshot format cannot leave fuzz_snapshot starting from seeds that
// are all rejected at their version number: regenerate them then.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kafka_message_input.h"
#include "snapshot_fixture.h"

namespace sluice::fuzz {
namespace {

const std::string kCorpus = SLUICE_SOURCE_DIR "/engine/fuzz/corpus";

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  ASSERT_TRUE(out.good()) << path;
}

std::string SnapshotSeed(SnapshotTarget target) {
  return std::string(1, static_cast<char>(target)) + SnapshotFixture::Get().SampleSnapshot(target);
}

KafkaInputMessage Message(std::optional<std::string> key, std::optional<std::string> payload) {
  return KafkaInputMessage{std::move(key), std::move(payload)};
}

// name -> fuzz_kafka_message input.
std::vector<std::pair<std::string, std::string>> KafkaSeeds() {
  const std::vector<KafkaInputMessage> json = {
      Message("k1", R"({"b":true,"i":1,"d":1.5,"s":"x","t":1000})"),
      Message(std::nullopt, R"({"i":2,"t":"2024-03-01T12:00:00Z","s":{"nested":[1,null]}})"),
      Message("k3", std::nullopt),  // a tombstone
      Message("", R"({"i":"not a number","t":3000})"),
      Message("k5", R"({"i":5})"),  // no event time field
      Message("k6", R"({"b":false,"i":-9223372036854775808,"d":-0.0,"s":"esc\"aped","t":6000})"),
      Message("k7", "[1,2]"),
      Message("k8", ""),
  };
  const std::vector<KafkaInputMessage> csv = {
      Message("k1", "true,1,1.5,x,1000"),
      Message("k2", "false,2,,\"quoted, comma\",2024-03-01T12:00:00Z"),
      Message(std::nullopt, ",,,,"),
      Message("k4", "1,2,3"),
      Message("k5", "\"unterminated,1,1,x,1"),
      Message("k6", std::nullopt),
      Message("k7", "true,7,7.5,\"multi\nline\",7000"),
  };
  const std::vector<KafkaInputMessage> raw = {
      Message("k1", "any bytes \x01\x02"),
      Message(std::nullopt, std::nullopt),
      Message("", ""),
      Message("k4", std::string("embedded\0zero", 13)),
  };
  return {
      {"seed_json_event_time_field", EncodeKafkaInput(KafkaInputSource::kJsonWithEventTimeField, 1, json)},
      {"seed_json_event_time_field_batch_1",
       EncodeKafkaInput(KafkaInputSource::kJsonWithEventTimeField, 0, json)},
      {"seed_json_kafka_timestamp", EncodeKafkaInput(KafkaInputSource::kJsonKafkaTimestamp, 2, json)},
      {"seed_csv", EncodeKafkaInput(KafkaInputSource::kCsv, 1, csv)},
      {"seed_csv_batch_1024", EncodeKafkaInput(KafkaInputSource::kCsv, 3, csv)},
      {"seed_raw", EncodeKafkaInput(KafkaInputSource::kRaw, 1, raw)},
      {"seed_empty_poll", EncodeKafkaInput(KafkaInputSource::kJsonWithEventTimeField, 0, {})},
  };
}

TEST(FuzzCorpusTest, WriteSeeds) {
  const char* write = std::getenv("SLUICE_WRITE_FUZZ_SEEDS");
  if (write == nullptr || std::string_view(write) != "1")
    GTEST_SKIP() << "set SLUICE_WRITE_FUZZ_SEEDS=1 to write";
  for (size_t t = 0; t < kSnapshotTargets; ++t) {
    const auto target = static_cast<SnapshotTarget>(t);
    WriteFile(std::filesystem::path(kCorpus) / "fuzz_snapshot" /
                  ("seed_" + std::string(SnapshotTargetName(target))),
              SnapshotSeed(target));
  }
  for (const auto& [name, input] : KafkaSeeds()) {
    WriteFile(std::filesystem::path(kCorpus) / "fuzz_kafka_message" / name, input);
  }
}

TEST(FuzzCorpusTest, SampleSnapshotsRestore) {
  for (size_t t = 0; t < kSnapshotTargets; ++t) {
    const auto target = static_cast<SnapshotTarget>(t);
    const absl::Status status =
        SnapshotFixture::Get().Restore(target, SnapshotFixture::Get().SampleSnapshot(target));
    EXPECT_TRUE(status.ok()) << SnapshotTargetName(target) << ": " << status.message();
  }
}

TEST(FuzzCorpusTest, SnapshotSeedsRestore) {
  size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus + "/fuzz_snapshot")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("seed_", 0) != 0) continue;  // crash reproducers need not restore
    const std::string bytes = ReadFile(entry.path());
    ASSERT_FALSE(bytes.empty()) << name;
    const auto target = static_cast<SnapshotTarget>(static_cast<uint8_t>(bytes[0]) % kSnapshotTargets);
    const absl::Status status = SnapshotFixture::Get().Restore(target, std::string_view(bytes).substr(1));
    EXPECT_TRUE(status.ok()) << name << " no longer restores (" << status.message()
                             << "); regenerate the seeds: see this file's header";
    ++seeds;
  }
  EXPECT_EQ(seeds, kSnapshotTargets);
}

}  // namespace
}  // namespace sluice::fuzz
