// StateWriter / StateReader: the byte format every stateful operator snapshots into.
//
// A snapshot is a flat little-endian byte string: fixed-width integers and doubles, and
// length-prefixed byte strings. Readers check bounds and return DataLoss on a truncated or
// corrupt snapshot instead of crashing, and check every count before it sizes an allocation
// (CheckCount, ReadCount). engine/fuzz/fuzz_snapshot.cc feeds every operator's Restore with
// arbitrary bytes. The format is private to the operator that wrote it;
// operators write a version number first so they can evolve it.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sluice {

class StateWriter {
 public:
  StateWriter() = default;
  // Writes into `buffer` (emptied, its capacity kept): a checkpoint store hands back the buffer
  // of the same operator's last snapshot, so that a large state is not written into fresh,
  // growing memory every time.
  explicit StateWriter(std::string buffer) : bytes_(std::move(buffer)) { bytes_.clear(); }

  void WriteU8(uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
  void WriteU32(uint32_t value) { WriteRaw(&value, sizeof(value)); }
  void WriteI64(int64_t value) { WriteRaw(&value, sizeof(value)); }
  void WriteU64(uint64_t value) { WriteRaw(&value, sizeof(value)); }
  void WriteDouble(double value) { WriteRaw(&value, sizeof(value)); }
  void WriteBytes(std::string_view bytes) {
    WriteU64(bytes.size());
    bytes_.append(bytes.data(), bytes.size());
  }
  void WriteRaw(const void* data, size_t size) {
    if (size > 0) bytes_.append(static_cast<const char*>(data), size);  // `data` may be null when empty
  }

  const std::string& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }
  std::string Release() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

class StateReader {
 public:
  explicit StateReader(std::string_view bytes) : bytes_(bytes) {}

  absl::StatusOr<uint8_t> ReadU8() { return ReadFixed<uint8_t>(); }
  absl::StatusOr<uint32_t> ReadU32() { return ReadFixed<uint32_t>(); }
  absl::StatusOr<int64_t> ReadI64() { return ReadFixed<int64_t>(); }
  absl::StatusOr<uint64_t> ReadU64() { return ReadFixed<uint64_t>(); }
  absl::StatusOr<double> ReadDouble() { return ReadFixed<double>(); }
  // A view into the snapshot bytes, valid as long as they are.
  absl::StatusOr<std::string_view> ReadBytes() {
    SLUICE_ASSIGN_OR_RETURN(uint64_t size, ReadU64());
    if (size > bytes_.size() - offset_) return Truncated();
    std::string_view out = bytes_.substr(offset_, size);
    offset_ += size;
    return out;
  }
  absl::Status ReadRaw(void* data, size_t size) {
    if (size == 0) return absl::OkStatus();  // `data` may be null (an empty vector)
    if (size > bytes_.size() - offset_) return Truncated();
    std::memcpy(data, bytes_.data() + offset_, size);
    offset_ += size;
    return absl::OkStatus();
  }
  bool AtEnd() const { return offset_ == bytes_.size(); }
  // The bytes not read yet.
  size_t remaining() const { return bytes_.size() - offset_; }

  // Counts that size an allocation must be checked before it is made: a corrupt count would
  // otherwise ask for gigabytes. CheckCount accepts `count` items that each take at least
  // `min_item_bytes` (>= 1) of the bytes not read yet, so that what a restore allocates stays in
  // proportion to the snapshot's length; ReadCount reads a U64 count and checks it.
  absl::Status CheckCount(uint64_t count, size_t min_item_bytes) const {
    if (count > remaining() / min_item_bytes) return Truncated();
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> ReadCount(size_t min_item_bytes) {
    SLUICE_ASSIGN_OR_RETURN(uint64_t count, ReadU64());
    SLUICE_RETURN_IF_ERROR(CheckCount(count, min_item_bytes));
    return count;
  }

 private:
  template <typename T>
  absl::StatusOr<T> ReadFixed() {
    T value{};
    SLUICE_RETURN_IF_ERROR(ReadRaw(&value, sizeof(value)));
    return value;
  }
  static absl::Status Truncated() { return absl::DataLossError("state snapshot is truncated or corrupt"); }

  std::string_view bytes_;
  size_t offset_ = 0;
};

}  // namespace sluice
