#include "result_checksum.h"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/strings.h"
#include "common/unaligned.h"

namespace sluice::bench {
namespace {

constexpr uint64_t kSeed = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t kNullHash = 0x5bd1e9955bd1e995ULL;

uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a ^ kSeed) * (b ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// A bijection of 64 bits in which every input bit reaches every output bit (the finalizer of
// SplitMix64, with Pelle Evensen's constants): it finishes every row hash.
inline uint64_t Scramble(uint64_t x) {
  x = (x ^ (x >> 31)) * 0x7fb5d329728ea185ULL;
  x = (x ^ (x >> 27)) * 0x81dadef4bc2dd44dULL;
  return x ^ (x >> 33);
}

// Folds one column's value hash into an unfinished row hash: the column's salt keeps columns
// apart, and the multiply by an odd constant (a bijection) between columns makes the hash
// depend on which value sits in which column. One 64-bit multiply, which the per-column loops
// below run eight rows at a time (AVX-512 has a 64-bit vector multiply; a 128-bit product, as
// in Mix, has no vector form). Scramble finishes the hash once every column is in.
inline uint64_t Fold(uint64_t row_hash, size_t column, uint64_t value_hash) {
  return (row_hash ^ (value_hash + (column + 1) * 0xa0761d6478bd642fULL)) * 0x9e3779b97f4a7c15ULL;
}

uint64_t DoubleBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

double BitsDouble(uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

// A double's bits as an unsigned integer in IEEE total order (-NaN < -inf < ... < -0 < +0 < ...
// < +inf < +NaN): negative values have all bits flipped, others only the sign bit.
uint64_t TotalOrderKey(uint64_t bits) {
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

// Two doubles within a relative `tolerance` of each other (equal values always are).
bool Close(double a, double b, double tolerance) {
  if (a == b || DoubleBits(a) == DoubleBits(b)) return true;
  return std::fabs(a - b) <= tolerance * std::max(std::fabs(a), std::fabs(b));
}

std::string Hex(uint64_t value) {
  char text[17];
  std::snprintf(text, sizeof text, "%016" PRIx64, value);
  return text;
}

std::string Shortest(double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

bool IsExact(TypeId type) {
  return type != TypeId::kDouble;
}

// HashBytes, inlined into the per-column loops.
inline uint64_t BytesHash(const char* data, size_t size) {
  uint64_t a = 0;
  uint64_t b = 0;
  if (size <= 16) {
    if (size >= 8) {
      a = LoadUnaligned64(data);
      b = LoadUnaligned64(data + size - 8);
    } else if (size >= 4) {
      a = LoadUnaligned32(data);
      b = LoadUnaligned32(data + size - 4);
    } else if (size > 0) {
      a = (static_cast<uint64_t>(static_cast<uint8_t>(data[0])) << 16) |
          (static_cast<uint64_t>(static_cast<uint8_t>(data[size / 2])) << 8) |
          static_cast<uint64_t>(static_cast<uint8_t>(data[size - 1]));
    }
    // Below 8 bytes `a` takes 32 bits at most: the length goes above them, so that strings of
    // different lengths never meet before the mix ("K0" and "K01" once did, as 'K','0','0' ^ 2
    // and 'K','0','1' ^ 3).
    return Mix(size < 8 ? a | static_cast<uint64_t>(size) << 32 : a ^ size, b);
  }
  uint64_t hash = size;
  size_t i = 0;
  for (; i + 16 <= size; i += 16) hash = Mix(hash ^ LoadUnaligned64(data + i), LoadUnaligned64(data + i + 8));
  return Mix(hash ^ LoadUnaligned64(data + size - 16), LoadUnaligned64(data + size - 8));
}

}  // namespace

uint64_t HashBytes(const char* data, size_t size) {
  return BytesHash(data, size);
}

std::string ChecksumValue::ToString() const {
  return StrCat("rows=", rows, " exact=", Hex(exact), " doubles=", doubles_per_row);
}

double ChecksumValue::value(size_t row, size_t j) const {
  return BitsDouble(words[row * (1 + doubles_per_row) + 1 + j]);
}

void ChecksumValue::Sort() {
  if (sorted) return;
  const size_t stride = 1 + doubles_per_row;
  sorted = true;
  if (stride == 1) {
    std::sort(words.begin(), words.end());
    return;
  }
  // (hash, row) pairs sort fast; rows of equal hash are then ordered by their doubles.
  std::vector<std::pair<uint64_t, uint64_t>> order(rows);
  for (size_t row = 0; row < rows; ++row) order[row] = {words[row * stride], row};
  std::sort(order.begin(), order.end());
  auto doubles_less = [&](const std::pair<uint64_t, uint64_t>& a, const std::pair<uint64_t, uint64_t>& b) {
    for (size_t j = 1; j < stride; ++j) {
      const uint64_t x = TotalOrderKey(words[a.second * stride + j]);
      const uint64_t y = TotalOrderKey(words[b.second * stride + j]);
      if (x != y) return x < y;
    }
    return false;
  };
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && order[end].first == order[begin].first) ++end;
    if (end - begin > 1) std::sort(order.begin() + begin, order.begin() + end, doubles_less);
    begin = end;
  }
  std::vector<uint64_t> sorted_words(words.size());
  for (size_t i = 0; i < order.size(); ++i) {
    std::memcpy(&sorted_words[i * stride], &words[order[i].second * stride], stride * sizeof(uint64_t));
  }
  words = std::move(sorted_words);
}

std::string ChecksumValue::Difference(const ChecksumValue& expected,
                                      const std::vector<std::string>& double_names,
                                      double relative_tolerance) const {
  if (!sorted || !expected.sorted) {
    ChecksumValue a = *this;
    ChecksumValue b = expected;
    a.Sort();
    b.Sort();
    return a.Difference(b, double_names, relative_tolerance);
  }
  const std::string counts = StrCat("rows: output ", rows, ", expected ", expected.rows, "; ");
  if (doubles_per_row != expected.doubles_per_row) {
    return StrCat(counts, "DOUBLE columns: output ", doubles_per_row, ", expected ",
                  expected.doubles_per_row);
  }
  const size_t d = doubles_per_row;
  auto name = [&](size_t j) { return j < double_names.size() ? double_names[j] : StrCat("DOUBLE #", j + 1); };
  auto describe = [&](const ChecksumValue& side, size_t row) {
    std::string text = StrCat("row with exact hash ", Hex(side.hash(row)));
    for (size_t j = 0; j < d; ++j)
      StrAppend(&text, j == 0 ? " (" : ", ", name(j), "=", Shortest(side.value(row, j)));
    return d > 0 ? text + ")" : text;
  };
  auto pair_difference = [&](size_t a, size_t b) -> std::string {
    for (size_t j = 0; j < d; ++j) {
      const double x = value(a, j);
      const double y = expected.value(b, j);
      if (!Close(x, y, relative_tolerance)) {
        const double relative = std::fabs(x - y) / std::max(std::fabs(x), std::fabs(y));
        return StrCat("first difference: row with exact hash ", Hex(hash(a)), ": ", name(j), " expected ",
                      Shortest(y), ", output ", Shortest(x), " (relative difference ", Shortest(relative),
                      ", tolerance ", Shortest(relative_tolerance), ")");
      }
    }
    return "";
  };
  size_t i = 0;
  size_t k = 0;
  while (i < rows || k < expected.rows) {
    if (k == expected.rows || (i < rows && hash(i) < expected.hash(k))) {
      return StrCat(counts, "first difference: a ", describe(*this, i), " only in the output");
    }
    if (i == rows || expected.hash(k) < hash(i)) {
      return StrCat(counts, "first difference: a ", describe(expected, k), " only in the expected result");
    }
    size_t i_end = i + 1;
    while (i_end < rows && hash(i_end) == hash(i)) ++i_end;
    size_t k_end = k + 1;
    while (k_end < expected.rows && expected.hash(k_end) == expected.hash(k)) ++k_end;
    if (i_end - i != k_end - k) {
      return StrCat(counts, "first difference: the output has ", i_end - i, " and the expected result ",
                    k_end - k, " rows with the exact columns of the ", describe(expected, k));
    }
    std::string first;
    for (size_t n = 0; n < i_end - i && first.empty(); ++n) first = pair_difference(i + n, k + n);
    if (!first.empty() && i_end - i > 1) {
      // Rows with the same exact columns whose order noise may have swapped: pair each
      // output row with any unused expected row within tolerance.
      std::vector<bool> used(k_end - k, false);
      bool all = true;
      for (size_t a = i; a < i_end && all; ++a) {
        bool found = false;
        for (size_t b = k; b < k_end && !found; ++b) {
          if (!used[b - k] && pair_difference(a, b).empty()) used[b - k] = found = true;
        }
        all = found;
      }
      if (all) first.clear();
    }
    if (!first.empty()) return StrCat(counts, first);
    i = i_end;
    k = k_end;
  }
  return "";
}

void ChecksumValue::Merge(const ChecksumValue& other) {
  if (rows == 0) doubles_per_row = other.doubles_per_row;
  rows += other.rows;
  exact += other.exact;
  words.insert(words.end(), other.words.begin(), other.words.end());
  sorted = rows == other.rows && other.sorted;
}

namespace {
constexpr char kMagic[8] = {'S', 'L', 'C', 'R', 'O', 'W', 'S', '1'};  // the format's version: the last byte
constexpr size_t kHeaderWords = 4;                                    // magic, rows, exact, doubles per row
}  // namespace

std::string ChecksumValue::Serialize() const {
  std::string out(kHeaderWords * 8 + words.size() * 8, '\0');
  std::memcpy(out.data(), kMagic, 8);
  const uint64_t header[3] = {rows, exact,
                              static_cast<uint64_t>(doubles_per_row) | (sorted ? uint64_t{1} << 63 : 0)};
  std::memcpy(out.data() + 8, header, sizeof header);
  if (!words.empty()) std::memcpy(out.data() + kHeaderWords * 8, words.data(), words.size() * 8);
  return out;
}

absl::StatusOr<std::optional<ChecksumValue>> ChecksumValue::Deserialize(std::string_view bytes) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 7) != 0) {
    return absl::DataLossError("not an expected-rows file");
  }
  if (bytes[7] != kMagic[7]) return std::optional<ChecksumValue>();  // another version: stale
  if (bytes.size() < kHeaderWords * 8) return absl::DataLossError("truncated header");
  uint64_t header[3];
  std::memcpy(header, bytes.data() + 8, sizeof header);
  ChecksumValue value;
  value.rows = header[0];
  value.exact = header[1];
  value.sorted = (header[2] >> 63) != 0;
  value.doubles_per_row = static_cast<size_t>(header[2] & ~(uint64_t{1} << 63));
  const size_t stride = 1 + value.doubles_per_row;
  const size_t payload = bytes.size() - kHeaderWords * 8;
  if (value.doubles_per_row > 4096 || payload % 8 != 0 || payload / 8 != value.rows * stride) {
    return absl::DataLossError(
        StrCat("the header says ", value.rows, " rows of ", stride, " words but ", payload, " bytes follow"));
  }
  value.words.resize(payload / 8);
  if (payload > 0) std::memcpy(value.words.data(), bytes.data() + kHeaderWords * 8, payload);
  uint64_t exact = 0;
  for (size_t row = 0; row < value.rows; ++row) exact += value.words[row * stride];
  if (exact != value.exact) return absl::DataLossError("the rows' hashes do not add up to the header's sum");
  return std::optional<ChecksumValue>(std::move(value));
}

ResultChecksum::ResultChecksum(std::vector<TypeId> types, std::vector<size_t> key_columns, LogBlockPool* pool)
    : types_(std::move(types)), key_columns_(std::move(key_columns)), log_rows_(pool), log_keys_(pool) {
  for (size_t c = 0; c < types_.size(); ++c) {
    if (!IsExact(types_[c])) double_columns_.push_back(c);
  }
}

void ResultChecksum::Accept(uint64_t key_hash, const uint64_t* row_words) {
  log_rows_.Append(row_words, 1 + double_columns_.size());
  if (is_changelog()) log_keys_.Append(&key_hash, 1);
}

namespace {

// The value hash of one non-NULL exact value (BIGINT/TIMESTAMP/BOOLEAN as `integer`, STRING as
// `text`): an integer is its own value hash (the fold and the finishing Scramble mix it), a
// string its bytes' hash.
inline uint64_t ExactHash(TypeId type, int64_t integer, std::string_view text) {
  switch (type) {
    case TypeId::kString: return BytesHash(text.data(), text.size());
    case TypeId::kBoolean: return integer != 0 ? 1 : 0;
    default: return static_cast<uint64_t>(integer);
  }
}

// Writes the value hash of every active row of `column` to hashes[0, n): ExactHash of its value
// (for a DOUBLE column, 0: only its null flag counts; the value goes to the weighted sums), or
// kNullHash for NULL. Kept apart from the fold, which then runs over contiguous values as
// vector code (a string's hash branches on its length, and a selection makes the loads gathers).
template <bool kSelected, typename ValueOf>
void GatherValueHashes(const uint8_t* valid, const uint32_t* selection, size_t n, uint64_t* hashes,
                       ValueOf value_of) {
  for (size_t i = 0; i < n; ++i) {
    const uint32_t row = kSelected ? selection[i] : static_cast<uint32_t>(i);
    hashes[i] = valid[row] ? value_of(row) : kNullHash;
  }
}

template <bool kSelected>
void ValueHashes(const Column& column, TypeId type, const uint32_t* selection, size_t n, uint64_t* hashes) {
  const uint8_t* valid = column.validity();
  switch (type) {
    case TypeId::kDouble:
      GatherValueHashes<kSelected>(valid, selection, n, hashes, [](uint32_t) { return uint64_t{0}; });
      break;
    case TypeId::kString: {
      const std::string_view* values = column.data<std::string_view>();
      GatherValueHashes<kSelected>(valid, selection, n, hashes, [values](uint32_t row) {
        return BytesHash(values[row].data(), values[row].size());
      });
      break;
    }
    case TypeId::kBoolean:
    case TypeId::kNull: {  // a NULL-typed column holds only NULLs
      const uint8_t* values = column.data<uint8_t>();
      GatherValueHashes<kSelected>(valid, selection, n, hashes,
                                   [values](uint32_t row) { return uint64_t{values[row] != 0}; });
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      const int64_t* values = column.data<int64_t>();
      GatherValueHashes<kSelected>(valid, selection, n, hashes,
                                   [values](uint32_t row) { return static_cast<uint64_t>(values[row]); });
      break;
    }
  }
}

// Requests the first cache line of every 4 KiB page in [begin, end).
void PrefetchPageHeads(const void* begin, const void* end) {
  constexpr uintptr_t kPage = 4096;
  for (uintptr_t at = reinterpret_cast<uintptr_t>(begin); at < reinterpret_cast<uintptr_t>(end);
       at = (at & ~(kPage - 1)) + kPage) {
    __builtin_prefetch(reinterpret_cast<const void*>(at));
  }
}

// Folds column c's value hashes into the n row hashes.
void FoldValueHashes(const uint64_t* hashes, size_t n, size_t c, uint64_t* rows) {
  for (size_t i = 0; i < n; ++i) rows[i] = Fold(rows[i], c, hashes[i]);
}

}  // namespace

void ResultChecksum::AddBatch(const Batch& batch) {
  const size_t n = batch.active_rows();
  if (n == 0) return;
  const uint32_t* selection = batch.selection();
  row_hashes_.assign(n, kSeed);
  if (is_changelog()) key_hashes_.assign(n, kSeed);
  value_hashes_.resize(n);
  // The columns come from memory (the lab's input outgrows the caches). The loops below read
  // them one at a time, in 4 KiB pages that the hardware prefetcher only takes up after a miss
  // or two in each; asking for every page's first line now overlaps those first misses.
  const size_t first = batch.ActiveRow(0);
  const size_t end = batch.ActiveRow(n - 1) + 1;
  for (size_t c = 0; c < types_.size(); ++c) {
    const Column& column = batch.column(c);
    const size_t width = PhysicalSize(types_[c]);
    PrefetchPageHeads(column.data<char>() + first * width, column.data<char>() + end * width);
    PrefetchPageHeads(column.validity() + first, column.validity() + end);
  }
  // Column at a time: every column's value hash (for DOUBLE, its null flag's) into the row hash.
  for (size_t c = 0; c < types_.size(); ++c) {
    if (selection != nullptr) {
      ValueHashes<true>(batch.column(c), types_[c], selection, n, value_hashes_.data());
    } else {
      ValueHashes<false>(batch.column(c), types_[c], selection, n, value_hashes_.data());
    }
    FoldValueHashes(value_hashes_.data(), n, c, row_hashes_.data());
    if (std::find(key_columns_.begin(), key_columns_.end(), c) != key_columns_.end()) {
      FoldValueHashes(value_hashes_.data(), n, c, key_hashes_.data());
    }
  }
  for (size_t i = 0; i < n; ++i) row_hashes_[i] = Scramble(row_hashes_[i]);
  if (is_changelog()) {
    for (size_t i = 0; i < n; ++i) key_hashes_[i] = Scramble(key_hashes_[i]);
  }
  // Each row as logged: its hash, then its DOUBLE values' bits (NULL as 0: the hash holds the
  // null flag), column at a time into the scratch rows, then appended at once.
  const size_t d = double_columns_.size();
  const size_t stride = 1 + d;
  row_words_.resize(n * stride);
  for (size_t i = 0; i < n; ++i) row_words_[i * stride] = row_hashes_[i];
  for (size_t j = 0; j < d; ++j) {
    const Column& column = batch.column(double_columns_[j]);
    const double* values = column.data<double>();
    const uint8_t* valid = column.validity();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t row = batch.ActiveRow(i);
      row_words_[i * stride + 1 + j] = valid[row] ? DoubleBits(values[row]) : 0;
    }
  }
  log_rows_.Append(row_words_.data(), n * stride);
  if (is_changelog()) log_keys_.Append(key_hashes_.data(), n);
}

void ResultChecksum::AddRow(const std::vector<Cell>& cells) {
  const size_t d = double_columns_.size();
  uint64_t row_hash = kSeed;
  uint64_t key_hash = kSeed;
  row_words_.resize(1 + d);
  size_t double_index = 0;
  for (size_t c = 0; c < types_.size(); ++c) {
    const Cell& cell = cells[c];
    if (!IsExact(types_[c])) {
      row_words_[1 + double_index++] = cell.is_null ? 0 : DoubleBits(cell.real);
      row_hash = Fold(row_hash, c, cell.is_null ? kNullHash : 0);
      continue;
    }
    const uint64_t value_hash = cell.is_null ? kNullHash : ExactHash(types_[c], cell.integer, cell.text);
    row_hash = Fold(row_hash, c, value_hash);
    if (std::find(key_columns_.begin(), key_columns_.end(), c) != key_columns_.end()) {
      key_hash = Fold(key_hash, c, value_hash);
    }
  }
  row_words_[0] = Scramble(row_hash);
  Accept(Scramble(key_hash), row_words_.data());
}

ChecksumValue ResultChecksum::Value() const {
  ChecksumValue value;
  value.doubles_per_row = double_columns_.size();
  const size_t stride = 1 + value.doubles_per_row;
  auto take = [&](size_t row) {
    for (size_t w = 0; w < stride; ++w) value.words.push_back(log_rows_[row * stride + w]);
    value.exact += log_rows_[row * stride];
    ++value.rows;
  };
  if (!is_changelog()) {
    value.words.reserve(log_rows_.size());
    for (size_t row = 0; row < log_rows_.size() / stride; ++row) take(row);
    return value;
  }
  absl::flat_hash_map<uint64_t, size_t> last;  // key hash -> its last row in the log
  last.reserve(log_keys_.size() / 4);
  for (size_t row = 0; row < log_keys_.size(); ++row) last[log_keys_[row]] = row;
  value.words.reserve(last.size() * stride);
  for (const auto& [key, row] : last) take(row);
  return value;
}

}  // namespace sluice::bench
