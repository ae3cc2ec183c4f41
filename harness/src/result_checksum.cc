#include "result_checksum.h"

#include <algorithm>
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

// Weight in [1, 2) from a row hash.
double Weight(uint64_t row_hash) {
  return 1.0 + static_cast<double>(row_hash >> 11) * 0x1.0p-53;
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
  char exact_text[17];
  std::snprintf(exact_text, sizeof exact_text, "%016" PRIx64, exact);
  auto doubles = [](const std::vector<double>& values) {
    std::string out = "[";
    for (size_t i = 0; i < values.size(); ++i) {
      char text[32];
      std::snprintf(text, sizeof text, "%.17g", values[i]);
      StrAppend(&out, i > 0 ? "," : "", text);
    }
    return out + "]";
  };
  return StrCat("rows=", rows, " exact=", exact_text, " sums=", doubles(weighted),
                " scale=", doubles(magnitude));
}

absl::StatusOr<ChecksumValue> ChecksumValue::Parse(std::string_view text) {
  ChecksumValue value;
  const std::string copy(text);
  auto field = [&copy](const char* name) -> std::string {
    const std::string prefix = StrCat(name, "=");
    const size_t at = copy.find(prefix);
    if (at == std::string::npos) return "";
    const size_t end = copy.find(' ', at);
    return copy.substr(at + prefix.size(),
                       end == std::string::npos ? std::string::npos : end - at - prefix.size());
  };
  auto doubles = [](const std::string& list, std::vector<double>& out) {
    if (list.size() < 2 || list.front() != '[' || list.back() != ']') return false;
    const std::string inner = list.substr(1, list.size() - 2);  // outlives the views into it
    for (std::string_view piece : StrSplit(inner, ',', /*skip_blank=*/true)) {
      const std::string item(piece);
      char* end = nullptr;
      out.push_back(std::strtod(item.c_str(), &end));
      if (end == item.c_str() || *end != '\0') return false;
    }
    return true;
  };
  const std::string rows = field("rows");
  const std::string exact = field("exact");
  char* end = nullptr;
  value.rows = std::strtoull(rows.c_str(), &end, 10);
  bool ok = !rows.empty() && *end == '\0';
  value.exact = std::strtoull(exact.c_str(), &end, 16);
  ok = ok && exact.size() == 16 && *end == '\0';
  ok = ok && doubles(field("sums"), value.weighted) && doubles(field("scale"), value.magnitude) &&
       value.weighted.size() == value.magnitude.size();
  if (!ok) return absl::InvalidArgumentError(StrCat("malformed checksum '", copy, "'"));
  return value;
}

bool ChecksumValue::Matches(const ChecksumValue& other, double relative_tolerance) const {
  if (rows != other.rows || exact != other.exact || weighted.size() != other.weighted.size()) return false;
  for (size_t i = 0; i < weighted.size(); ++i) {
    const double scale = std::max(magnitude[i], other.magnitude[i]);
    if (!(std::fabs(weighted[i] - other.weighted[i]) <= relative_tolerance * scale)) return false;
  }
  return true;
}

void ChecksumValue::Merge(const ChecksumValue& other) {
  rows += other.rows;
  exact += other.exact;
  if (weighted.empty()) {
    weighted.assign(other.weighted.size(), 0);
    magnitude.assign(other.magnitude.size(), 0);
  }
  for (size_t i = 0; i < weighted.size() && i < other.weighted.size(); ++i) {
    weighted[i] += other.weighted[i];
    magnitude[i] += other.magnitude[i];
  }
}

ResultChecksum::ResultChecksum(std::vector<TypeId> types, std::vector<size_t> key_columns, LogBlockPool* pool)
    : types_(std::move(types)),
      key_columns_(std::move(key_columns)),
      log_keys_(pool),
      log_hashes_(pool),
      log_doubles_(pool),
      log_double_nulls_(pool) {
  for (size_t c = 0; c < types_.size(); ++c) {
    if (!IsExact(types_[c])) double_columns_.push_back(c);
  }
  totals_.weighted.assign(double_columns_.size(), 0);
  totals_.magnitude.assign(double_columns_.size(), 0);
}

void ResultChecksum::Accept(uint64_t key_hash, uint64_t row_hash, const double* doubles,
                            const uint8_t* double_nulls) {
  const size_t d = double_columns_.size();
  if (!is_changelog()) {
    const double weight = Weight(row_hash);
    ++totals_.rows;
    totals_.exact += row_hash;
    for (size_t i = 0; i < d; ++i) {
      if (double_nulls[i]) continue;
      totals_.weighted[i] += weight * doubles[i];
      totals_.magnitude[i] += std::fabs(weight * doubles[i]);
    }
    return;
  }
  // Logged in arrival order; Value() keeps the last row of each key.
  log_keys_.Append(&key_hash, 1);
  log_hashes_.Append(&row_hash, 1);
  log_doubles_.Append(doubles, d);
  log_double_nulls_.Append(double_nulls, d);
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

// Adds w(row) * value over the n active rows of a DOUBLE column, in eight running sums (one per
// vector lane: a single sum would make every addition wait for the one before).
template <bool kSelected>
void SumColumn(const Column& column, const uint32_t* selection, size_t n, const uint64_t* rows, double& sum,
               double& magnitude) {
  constexpr size_t kLanes = 8;
  const double* values = column.data<double>();
  const uint8_t* valid = column.validity();
  double s[kLanes] = {};
  double m[kLanes] = {};
  auto term = [&](size_t i) {
    const uint32_t row = kSelected ? selection[i] : static_cast<uint32_t>(i);
    return valid[row] ? Weight(rows[i]) * values[row] : 0.0;
  };
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t lane = 0; lane < kLanes; ++lane) {
      const double t = term(i + lane);
      s[lane] += t;
      m[lane] += std::fabs(t);
    }
  }
  for (; i < n; ++i) {
    const double t = term(i);
    s[0] += t;
    m[0] += std::fabs(t);
  }
  for (size_t lane = 0; lane < kLanes; ++lane) {
    sum += s[lane];
    magnitude += m[lane];
  }
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
  if (!is_changelog()) {
    totals_.rows += n;
    for (size_t i = 0; i < n; ++i) totals_.exact += row_hashes_[i];
    for (size_t j = 0; j < double_columns_.size(); ++j) {
      const Column& column = batch.column(double_columns_[j]);
      if (selection != nullptr) {
        SumColumn<true>(column, selection, n, row_hashes_.data(), totals_.weighted[j], totals_.magnitude[j]);
      } else {
        SumColumn<false>(column, selection, n, row_hashes_.data(), totals_.weighted[j], totals_.magnitude[j]);
      }
    }
    return;
  }
  // Changelog: the latest row per key.
  const size_t d = double_columns_.size();
  row_doubles_.resize(n * d);
  row_double_nulls_.resize(n * d);
  for (size_t j = 0; j < d; ++j) {
    const Column& column = batch.column(double_columns_[j]);
    const double* values = column.data<double>();
    const uint8_t* valid = column.validity();
    for (size_t i = 0; i < n; ++i) {
      const uint32_t row = batch.ActiveRow(i);
      row_doubles_[i * d + j] = valid[row] ? values[row] : 0;
      row_double_nulls_[i * d + j] = !valid[row];
    }
  }
  for (size_t i = 0; i < n; ++i) {
    Accept(key_hashes_[i], row_hashes_[i], row_doubles_.data() + i * d, row_double_nulls_.data() + i * d);
  }
}

void ResultChecksum::AddRow(const std::vector<Cell>& cells) {
  const size_t d = double_columns_.size();
  uint64_t row_hash = kSeed;
  uint64_t key_hash = kSeed;
  row_doubles_.resize(d);
  row_double_nulls_.resize(d);
  size_t double_index = 0;
  for (size_t c = 0; c < types_.size(); ++c) {
    const Cell& cell = cells[c];
    if (!IsExact(types_[c])) {
      row_doubles_[double_index] = cell.is_null ? 0 : cell.real;
      row_double_nulls_[double_index] = cell.is_null;
      ++double_index;
      row_hash = Fold(row_hash, c, cell.is_null ? kNullHash : 0);
      continue;
    }
    const uint64_t value_hash = cell.is_null ? kNullHash : ExactHash(types_[c], cell.integer, cell.text);
    row_hash = Fold(row_hash, c, value_hash);
    if (std::find(key_columns_.begin(), key_columns_.end(), c) != key_columns_.end()) {
      key_hash = Fold(key_hash, c, value_hash);
    }
  }
  Accept(Scramble(key_hash), Scramble(row_hash), row_doubles_.data(), row_double_nulls_.data());
}

ChecksumValue ResultChecksum::Value() const {
  if (!is_changelog()) return totals_;
  ChecksumValue value = totals_;
  absl::flat_hash_map<uint64_t, size_t> last;  // key hash -> its last row in the log
  last.reserve(log_keys_.size() / 4);
  for (size_t row = 0; row < log_keys_.size(); ++row) last[log_keys_[row]] = row;
  const size_t d = double_columns_.size();
  for (const auto& [key, row] : last) {
    const double weight = Weight(log_hashes_[row]);
    ++value.rows;
    value.exact += log_hashes_[row];
    for (size_t i = 0; i < d; ++i) {
      if (log_double_nulls_[row * d + i]) continue;
      value.weighted[i] += weight * log_doubles_[row * d + i];
      value.magnitude[i] += std::fabs(weight * log_doubles_[row * d + i]);
    }
  }
  return value;
}

}  // namespace sluice::bench
