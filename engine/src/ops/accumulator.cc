#include "ops/accumulator.h"

#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "batch/batch.h"
#include "common/state_vector.h"
#include "state/key_table.h"
#include "types/decimal.h"

namespace sluice {
namespace {

// Heap bytes of strings beyond their inline (small-string) storage.
size_t StringBytes(const std::vector<std::string>& values) {
  size_t bytes = 0;
  for (const std::string& value : values) {
    if (value.capacity() > 15) bytes += value.capacity() + 1;
  }
  return bytes;
}

template <typename T>
void WriteVector(StateWriter& writer, const StateVector<T>& values, size_t n) {
  writer.WriteRaw(values.data(), n * sizeof(T));
}
template <typename T>
absl::Status ReadVector(StateReader& reader, StateVector<T>& values, size_t n) {
  values.resize(std::max(values.size(), n));
  return reader.ReadRaw(values.data(), n * sizeof(T));
}

// A StateRows field of groups [0, n) is written as one array, as a field of its own would be.
template <typename T>
void WriteField(StateWriter& writer, const StateRows& rows, size_t field, size_t n) {
  const StateRows::Field<const T> values = rows.Get<T>(field);
  std::vector<T> array(n);
  for (size_t g = 0; g < n; ++g) array[g] = values[static_cast<uint32_t>(g)];
  writer.WriteRaw(array.data(), n * sizeof(T));
}
template <typename T>
absl::Status ReadField(StateReader& reader, StateRows& rows, size_t field, size_t n) {
  if (rows.groups() < n) return absl::InternalError("accumulator state restored before its rows were sized");
  std::vector<T> array(n);
  SLUICE_RETURN_IF_ERROR(reader.ReadRaw(array.data(), n * sizeof(T)));
  const StateRows::Field<T> values = rows.Get<T>(field);
  for (size_t g = 0; g < n; ++g) values[static_cast<uint32_t>(g)] = array[g];
  return absl::OkStatus();
}

// COUNT(*) and COUNT(x).
class CountAccumulator final : public Accumulator {
 public:
  bool state_in_rows() const override { return true; }
  explicit CountAccumulator(StateRows& rows) : rows_(rows), counts_(rows.AddField(sizeof(int64_t))) {}
  void Reset(uint32_t group) override { Counts()[group] = 0; }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const auto from_counts = static_cast<const CountAccumulator&>(source).rows_.Get<int64_t>(counts_);
    Counts()[into] += from_counts[from];
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    Add<false>(argument, selection, count, groups);
  }
  bool retracts() const override { return true; }
  void Retract(const Column* argument, const uint32_t* selection, size_t count,
               const uint32_t* groups) override {
    Add<true>(argument, selection, count, groups);
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    const auto counts = rows_.Get<int64_t>(counts_);
    for (size_t i = 0; i < n; ++i) {
      out.data<int64_t>()[i] = counts[groups[i]];
      out.validity()[i] = 1;
    }
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    WriteField<int64_t>(writer, rows_, counts_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    return ReadField<int64_t>(reader, rows_, counts_, groups);
  }

 private:
  StateRows::Field<int64_t> Counts() { return rows_.Get<int64_t>(counts_); }
  // Update (adds each active row to its group) or Retract (takes it out): the sign is chosen
  // at compile time, so neither loop pays for the other.
  template <bool kRetract>
  void Add(const Column* argument, const uint32_t* selection, size_t count, const uint32_t* groups) {
    constexpr int64_t kSign = kRetract ? -1 : 1;
    const auto counts = Counts();
    if (argument == nullptr) {
      ForEachActiveRow(selection, count, [&](size_t row) { counts[groups[row]] += kSign; });
    } else {
      const uint8_t* valid = argument->validity();
      ForEachActiveRow(selection, count, [&](size_t row) { counts[groups[row]] += kSign * valid[row]; });
    }
  }

  StateRows& rows_;
  size_t counts_;  // field index
};

// SUM and AVG: a running sum (wrapping for BIGINT, like +) and, for AVG, the count of non-NULL
// values; SUM needs only whether there was one (NULL otherwise), a byte instead of a count,
// unless it retracts (kRetractable): then it counts too, to know when no value is left.
// Retraction subtracts: exact for BIGINT; for DOUBLE, rounded like any floating-point sum, and
// the sum restarts from exactly 0 whenever its count of values returns to 0.
template <typename In, typename Sum, bool kAverage, bool kRetractable = false>
class SumAccumulator final : public Accumulator {
 public:
  bool state_in_rows() const override { return true; }
  explicit SumAccumulator(StateRows& rows)
      : rows_(rows), sums_(rows.AddField(sizeof(Sum))), counts_(rows.AddField(sizeof(Count))) {}
  void Reset(uint32_t group) override {
    rows_.Get<Sum>(sums_)[group] = 0;
    rows_.Get<Count>(counts_)[group] = 0;
  }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const auto sums = rows_.Get<Sum>(sums_);
    const auto counts = rows_.Get<Count>(counts_);
    const StateRows& from_rows = static_cast<const SumAccumulator&>(source).rows_;
    const Sum from_sum = from_rows.Get<Sum>(sums_)[from];
    const Count from_count = from_rows.Get<Count>(counts_)[from];
    if constexpr (std::is_same_v<Sum, int64_t>) {
      sums[into] = static_cast<int64_t>(static_cast<uint64_t>(sums[into]) + static_cast<uint64_t>(from_sum));
    } else {
      sums[into] += from_sum;
    }
    if constexpr (kCounted) {
      counts[into] += from_count;
    } else {
      counts[into] |= from_count;
    }
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    Add<false>(argument, selection, count, groups);
  }
  bool retracts() const override { return kRetractable; }
  void Retract(const Column* argument, const uint32_t* selection, size_t count,
               const uint32_t* groups) override {
    SLUICE_CHECK(kRetractable);
    if constexpr (kRetractable) Add<true>(argument, selection, count, groups);
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    const auto sums = rows_.Get<Sum>(sums_);
    const auto counts = rows_.Get<Count>(counts_);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t group = groups[i];
      if (counts[group] == 0) {
        out.SetNull(i);
      } else if constexpr (kAverage) {
        out.validity()[i] = 1;
        out.data<double>()[i] = static_cast<double>(sums[group]) / static_cast<double>(counts[group]);
      } else {
        out.validity()[i] = 1;
        out.data<Sum>()[i] = sums[group];
      }
    }
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    WriteField<Sum>(writer, rows_, sums_, groups);
    WriteField<Count>(writer, rows_, counts_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    SLUICE_RETURN_IF_ERROR(ReadField<Sum>(reader, rows_, sums_, groups));
    return ReadField<Count>(reader, rows_, counts_, groups);
  }

 private:
  // AVG (and a retracting SUM): non-NULL values; SUM: 1 once a value was non-NULL.
  static constexpr bool kCounted = kAverage || kRetractable;
  using Count = std::conditional_t<kCounted, int64_t, uint8_t>;
  // Update (adds each active row's value to its group) or Retract (takes it out): the sign is
  // chosen at compile time, so neither loop pays for the other.
  template <bool kRetract>
  void Add(const Column* argument, const uint32_t* selection, size_t count, const uint32_t* groups) {
    const In* values = argument->data<In>();
    const uint8_t* valid = argument->validity();
    const auto sums = rows_.Get<Sum>(sums_);
    const auto counts = rows_.Get<Count>(counts_);
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = groups[row];
      if constexpr (std::is_same_v<Sum, int64_t>) {
        // NULL slots hold 0, so adding unconditionally is exact.
        const uint64_t sum = static_cast<uint64_t>(sums[group]);
        const uint64_t value = static_cast<uint64_t>(values[row]);
        sums[group] = static_cast<int64_t>(kRetract ? sum - value : sum + value);
      } else if constexpr (kRetract) {
        sums[group] -= valid[row] ? static_cast<Sum>(values[row]) : 0;
      } else {
        sums[group] += valid[row] ? static_cast<Sum>(values[row]) : 0;
      }
      if constexpr (kRetract) {
        counts[group] -= valid[row];
        if (counts[group] == 0) sums[group] = 0;
      } else if constexpr (kCounted) {
        counts[group] += valid[row];
      } else {
        counts[group] |= valid[row];
      }
    });
  }
  StateRows& rows_;
  size_t sums_;  // field indexes
  size_t counts_;
};

// SUM and AVG of DECIMALs (In: the argument's unscaled int64_t or __int128): the exact sum of
// the unscaled values and the count of non-NULL values, so that it retracts. SUM is
// DECIMAL(38, s) of the sum (NULL when it has more than 38 digits), AVG the quotient at its
// result type's scale, HALF_UP. Values of up to 18 digits sum in a signed 128-bit field, which
// fewer than 2^63 of them cannot overflow; wider ones in 192 bits (types/decimal.h: DecimalSum,
// as a 128-bit and a 64-bit field), which no realistic count overflows.
template <typename In, bool kAverage>
class DecimalSumAccumulator final : public Accumulator {
 public:
  bool state_in_rows() const override { return true; }
  DecimalSumAccumulator(StateRows& rows, TypeId argument_type)
      : rows_(rows),
        scale_(DecimalScale(argument_type)),
        lows_(rows.AddField(sizeof(unsigned __int128))),
        highs_(kWide ? rows.AddField(sizeof(int64_t)) : 0),
        counts_(rows.AddField(sizeof(int64_t))) {}
  void Reset(uint32_t group) override {
    rows_.Get<unsigned __int128>(lows_)[group] = 0;
    if constexpr (kWide) rows_.Get<int64_t>(highs_)[group] = 0;
    rows_.Get<int64_t>(counts_)[group] = 0;
  }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const StateRows& from_rows = static_cast<const DecimalSumAccumulator&>(source).rows_;
    unsigned __int128& low = rows_.Get<unsigned __int128>(lows_)[into];
    [[maybe_unused]] int64_t* high = kWide ? &rows_.Get<int64_t>(highs_)[into] : nullptr;
    const unsigned __int128 from_low = from_rows.Get<unsigned __int128>(lows_)[from];
    if constexpr (kWide) {
      const unsigned __int128 before = low;
      low += from_low;
      *high += from_rows.Get<int64_t>(highs_)[from] + static_cast<int64_t>(low < before);
    } else {
      low += from_low;  // two's complement: a signed 128-bit sum
    }
    rows_.Get<int64_t>(counts_)[into] += from_rows.Get<int64_t>(counts_)[from];
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    Add<false>(argument, selection, count, groups);
  }
  bool retracts() const override { return true; }
  void Retract(const Column* argument, const uint32_t* selection, size_t count,
               const uint32_t* groups) override {
    Add<true>(argument, selection, count, groups);
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    const auto lows = rows_.Get<unsigned __int128>(lows_);
    const auto highs = rows_.Get<int64_t>(highs_);
    const auto counts = rows_.Get<int64_t>(counts_);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t group = groups[i];
      std::optional<Int128> result;
      if (counts[group] != 0) {
        const unsigned __int128 low = lows[group];
        const int64_t high = kWide ? highs[group] : (static_cast<Int128>(low) < 0 ? -1 : 0);
        result = FinishDecimalSum(DecimalSum{low, high}, scale_, kAverage ? counts[group] : 0, out.type());
      }
      if (result) {
        out.validity()[i] = 1;
        out.SetDecimal(i, *result);
      } else {
        out.SetNull(i);
      }
    }
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    WriteField<unsigned __int128>(writer, rows_, lows_, groups);
    if constexpr (kWide) WriteField<int64_t>(writer, rows_, highs_, groups);
    WriteField<int64_t>(writer, rows_, counts_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    SLUICE_RETURN_IF_ERROR(ReadField<unsigned __int128>(reader, rows_, lows_, groups));
    if constexpr (kWide) SLUICE_RETURN_IF_ERROR(ReadField<int64_t>(reader, rows_, highs_, groups));
    return ReadField<int64_t>(reader, rows_, counts_, groups);
  }

 private:
  template <bool kRetract>
  void Add(const Column* argument, const uint32_t* selection, size_t count, const uint32_t* groups) {
    const In* values = argument->data<In>();
    const uint8_t* valid = argument->validity();
    const auto lows = rows_.Get<unsigned __int128>(lows_);
    const auto highs = rows_.Get<int64_t>(highs_);
    const auto counts = rows_.Get<int64_t>(counts_);
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = groups[row];
      // NULL slots hold 0, so adding unconditionally is exact.
      if constexpr (kWide) {
        if constexpr (kRetract) {
          SubtractFromDecimalSum(lows[group], highs[group], values[row]);
        } else {
          AddToDecimalSum(lows[group], highs[group], values[row]);
        }
      } else {
        const auto value = static_cast<unsigned __int128>(static_cast<Int128>(values[row]));
        lows[group] = kRetract ? lows[group] - value : lows[group] + value;
      }
      counts[group] = kRetract ? counts[group] - valid[row] : counts[group] + valid[row];
    });
  }

  static constexpr bool kWide = std::is_same_v<In, Int128>;
  StateRows& rows_;
  int scale_;
  size_t lows_;  // field indexes
  size_t highs_;
  size_t counts_;
};

// VAR_SAMP, VAR_POP, STDDEV_SAMP, STDDEV_POP with Welford's update (numerically stable).
template <typename In>
class VarianceAccumulator final : public Accumulator {
 public:
  bool state_in_rows() const override { return true; }
  VarianceAccumulator(StateRows& rows, bool sample, bool root)
      : sample_(sample),
        root_(root),
        rows_(rows),
        counts_(rows.AddField(sizeof(int64_t))),
        means_(rows.AddField(sizeof(double))),
        m2_(rows.AddField(sizeof(double))) {}
  void Reset(uint32_t group) override {
    rows_.Get<int64_t>(counts_)[group] = 0;
    rows_.Get<double>(means_)[group] = 0;
    rows_.Get<double>(m2_)[group] = 0;
  }
  // Chan et al.'s pairwise combination of (count, mean, M2).
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const auto counts = rows_.Get<int64_t>(counts_);
    const auto means = rows_.Get<double>(means_);
    const auto m2 = rows_.Get<double>(m2_);
    const StateRows& from_rows = static_cast<const VarianceAccumulator&>(source).rows_;
    const int64_t n_a = counts[into], n_b = from_rows.Get<int64_t>(counts_)[from];
    const double mean_b = from_rows.Get<double>(means_)[from];
    const double m2_b = from_rows.Get<double>(m2_)[from];
    if (n_b == 0) return;
    if (n_a == 0) {
      counts[into] = n_b;
      means[into] = mean_b;
      m2[into] = m2_b;
      return;
    }
    const double n = static_cast<double>(n_a + n_b);
    const double delta = mean_b - means[into];
    means[into] += delta * static_cast<double>(n_b) / n;
    m2[into] += m2_b + delta * delta * static_cast<double>(n_a) * static_cast<double>(n_b) / n;
    counts[into] = n_a + n_b;
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    const In* values = argument->data<In>();
    const uint8_t* valid = argument->validity();
    const auto counts = rows_.Get<int64_t>(counts_);
    const auto means = rows_.Get<double>(means_);
    const auto m2 = rows_.Get<double>(m2_);
    ForEachActiveRow(selection, count, [&](size_t row) {
      if (!valid[row]) return;
      const uint32_t group = groups[row];
      const double x = static_cast<double>(values[row]);
      const int64_t n = ++counts[group];
      const double delta = x - means[group];
      means[group] += delta / static_cast<double>(n);
      m2[group] += delta * (x - means[group]);
    });
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    const auto counts = rows_.Get<int64_t>(counts_);
    const auto m2 = rows_.Get<double>(m2_);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t group = groups[i];
      const int64_t count = counts[group];
      if (count == 0 || (sample_ && count < 2)) {
        out.SetNull(i);
        continue;
      }
      double variance = m2[group] / static_cast<double>(sample_ ? count - 1 : count);
      if (variance < 0) variance = 0;
      out.validity()[i] = 1;
      out.data<double>()[i] = root_ ? std::sqrt(variance) : variance;
    }
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    WriteField<int64_t>(writer, rows_, counts_, groups);
    WriteField<double>(writer, rows_, means_, groups);
    WriteField<double>(writer, rows_, m2_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    SLUICE_RETURN_IF_ERROR(ReadField<int64_t>(reader, rows_, counts_, groups));
    SLUICE_RETURN_IF_ERROR(ReadField<double>(reader, rows_, means_, groups));
    return ReadField<double>(reader, rows_, m2_, groups);
  }

 private:
  bool sample_;
  bool root_;
  StateRows& rows_;
  size_t counts_;  // field indexes
  size_t means_;
  size_t m2_;
};

enum class Pick : uint8_t { kMin, kMax, kFirst, kLast };

// MIN, MAX, FIRST_VALUE, LAST_VALUE over fixed-width values. MIN/MAX ignore NULLs;
// FIRST/LAST_VALUE take the first/last row's value, NULL included.
template <typename T, Pick kPick>
class PickAccumulator final : public Accumulator {
 public:
  bool state_in_rows() const override { return true; }
  explicit PickAccumulator(StateRows& rows)
      : rows_(rows), values_(rows.AddField(sizeof(T))), state_(rows.AddField(sizeof(uint8_t))) {}
  void Reset(uint32_t group) override {
    rows_.Get<T>(values_)[group] = T();
    rows_.Get<uint8_t>(state_)[group] = 0;
  }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const auto values = rows_.Get<T>(values_);
    const auto state = rows_.Get<uint8_t>(state_);
    const StateRows& from_rows = static_cast<const PickAccumulator&>(source).rows_;
    const T from_value = from_rows.Get<T>(values_)[from];
    const uint8_t from_state = from_rows.Get<uint8_t>(state_)[from];
    if (from_state == 0) return;
    bool take = state[into] == 0;
    if constexpr (kPick == Pick::kMin) take = take || from_value < values[into];
    if constexpr (kPick == Pick::kMax) take = take || from_value > values[into];
    if constexpr (kPick == Pick::kLast) take = true;
    if (take) {
      values[into] = from_value;
      state[into] = from_state;
    }
  }
  // state: bit 0 = has a row, bit 1 = the value is non-NULL.
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    const T* values = argument->data<T>();
    const uint8_t* valid = argument->validity();
    const auto picked = rows_.Get<T>(values_);
    const auto state = rows_.Get<uint8_t>(state_);
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = groups[row];
      if constexpr (kPick == Pick::kMin || kPick == Pick::kMax) {
        if (!valid[row]) return;
        const T value = values[row];
        const bool better = kPick == Pick::kMin ? value < picked[group] : value > picked[group];
        if (state[group] == 0 || better) {
          picked[group] = value;
          state[group] = 3;
        }
      } else {
        if (kPick == Pick::kFirst && state[group] != 0) return;
        picked[group] = values[row];
        state[group] = static_cast<uint8_t>(1 | (valid[row] << 1));
      }
    });
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    const auto values = rows_.Get<T>(values_);
    const auto state = rows_.Get<uint8_t>(state_);
    for (size_t i = 0; i < n; ++i) {
      if ((state[groups[i]] & 2) == 0) {
        out.SetNull(i);
      } else {
        out.validity()[i] = 1;
        out.data<T>()[i] = values[groups[i]];
      }
    }
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    WriteField<T>(writer, rows_, values_, groups);
    WriteField<uint8_t>(writer, rows_, state_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    SLUICE_RETURN_IF_ERROR(ReadField<T>(reader, rows_, values_, groups));
    return ReadField<uint8_t>(reader, rows_, state_, groups);
  }

 private:
  StateRows& rows_;
  size_t values_;  // field indexes
  size_t state_;
};

// The same over strings: each group owns a copy of its current value.
template <Pick kPick>
class StringPickAccumulator final : public Accumulator {
 public:
  void Resize(size_t groups) override {
    values_.resize(groups);
    state_.resize(groups, 0);
  }
  void Reset(uint32_t group) override {
    values_[group].clear();
    state_[group] = 0;
  }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    const auto& other = static_cast<const StringPickAccumulator&>(source);
    if (other.state_[from] == 0) return;
    bool take = state_[into] == 0;
    if constexpr (kPick == Pick::kMin) take = take || other.values_[from] < values_[into];
    if constexpr (kPick == Pick::kMax) take = take || other.values_[from] > values_[into];
    if constexpr (kPick == Pick::kLast) take = true;
    if (take) {
      values_[into] = other.values_[from];
      state_[into] = other.state_[from];
    }
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    const std::string_view* values = argument->data<std::string_view>();
    const uint8_t* valid = argument->validity();
    ForEachActiveRow(selection, count, [&](size_t row) {
      const uint32_t group = groups[row];
      if constexpr (kPick == Pick::kMin || kPick == Pick::kMax) {
        if (!valid[row]) return;
        const std::string_view value = values[row];
        const bool better = kPick == Pick::kMin ? value < values_[group] : value > values_[group];
        if (state_[group] == 0 || better) {
          values_[group].assign(value);
          state_[group] = 3;
        }
      } else {
        if (kPick == Pick::kFirst && state_[group] != 0) return;
        values_[group].assign(values[row]);
        state_[group] = static_cast<uint8_t>(1 | (valid[row] << 1));
      }
    });
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    for (size_t i = 0; i < n; ++i) {
      if ((state_[groups[i]] & 2) == 0) {
        out.SetNull(i);
      } else {
        out.validity()[i] = 1;
        out.data<std::string_view>()[i] = out.heap().Add(values_[groups[i]]);
      }
    }
  }
  size_t MemoryBytes() const override {
    return CapacityBytes(values_) + CapacityBytes(state_) + StringBytes(values_);
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    for (size_t g = 0; g < groups; ++g) writer.WriteBytes(values_[g]);
    WriteVector(writer, state_, groups);
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    values_.resize(std::max(values_.size(), groups));
    for (size_t g = 0; g < groups; ++g) {
      SLUICE_ASSIGN_OR_RETURN(std::string_view value, reader.ReadBytes());
      values_[g].assign(value);
    }
    return ReadVector(reader, state_, groups);
  }

 private:
  std::vector<std::string> values_;
  StateVector<uint8_t> state_;
};

// COUNT(DISTINCT x): a KeyTable of (group, value) pairs; each group remembers its pairs so that
// freeing the group frees them.
class CountDistinctAccumulator final : public Accumulator {
 public:
  explicit CountDistinctAccumulator(TypeId argument_type)
      : value_type_(argument_type), pairs_({TypeId::kInt64, argument_type}), group_column_(TypeId::kInt64) {}

  void Resize(size_t groups) override {
    counts_.resize(groups, 0);
    pair_ids_.resize(groups);
  }
  void Reset(uint32_t group) override {
    for (uint32_t pair : pair_ids_[group]) pairs_.Erase(pair);
    pair_ids_[group].clear();
    counts_[group] = 0;
  }
  void MergeFrom(uint32_t into, const Accumulator& source, uint32_t from) override {
    // Re-key every distinct value of `from` under `into`; values `into` has already are skipped.
    const auto& other = static_cast<const CountDistinctAccumulator&>(source);
    const std::vector<uint32_t> pairs = other.pair_ids_[from];
    if (pairs.empty()) return;
    Column groups(TypeId::kInt64, pairs.size());
    Column values(value_type_, pairs.size());
    for (size_t i = 0; i < pairs.size(); ++i) {
      groups.data<int64_t>()[i] = into;
      groups.validity()[i] = 1;
      other.pairs_.ReadKey(pairs[i], 1, values, i);
    }
    const Column* keys[] = {&groups, &values};
    std::vector<uint32_t> ids(pairs.size());
    std::vector<uint32_t> created;
    pairs_.FindOrInsert(keys, nullptr, pairs.size(), ids.data(), &created);
    counts_[into] += static_cast<int64_t>(created.size());
    pair_ids_[into].insert(pair_ids_[into].end(), created.begin(), created.end());
  }
  void Update(const Column* argument, const uint32_t* selection, size_t count,
              const uint32_t* groups) override {
    // Rows with a NULL argument do not count; the rest go through the pair table.
    const size_t rows = argument->size();
    group_column_.Resize(rows);
    group_column_.SetAllValid(rows);
    pair_of_row_.resize(rows);
    active_.clear();
    const uint8_t* valid = argument->validity();
    ForEachActiveRow(selection, count, [&](size_t row) {
      group_column_.data<int64_t>()[row] = groups[row];
      if (valid[row]) active_.push_back(static_cast<uint32_t>(row));
    });
    const Column* keys[] = {&group_column_, argument};
    created_.clear();
    pairs_.FindOrInsert(keys, active_.data(), active_.size(), pair_of_row_.data(), &created_);
    // Each created pair belongs to the group of the row that created it; find it by row.
    size_t next = 0;
    for (uint32_t row : active_) {
      if (next < created_.size() && pair_of_row_[row] == created_[next]) {
        const uint32_t group = groups[row];
        ++counts_[group];
        pair_ids_[group].push_back(created_[next]);
        ++next;
      }
    }
  }
  void Finalize(const uint32_t* groups, size_t n, Column& out) const override {
    for (size_t i = 0; i < n; ++i) {
      out.validity()[i] = 1;
      out.data<int64_t>()[i] = counts_[groups[i]];
    }
  }
  size_t MemoryBytes() const override {
    return pairs_.MemoryBytes() + CapacityBytes(counts_) + CapacityBytes(pair_ids_) + PairListBytes();
  }
  void Snapshot(StateWriter& writer, size_t groups) const override {
    pairs_.Snapshot(writer);
    WriteVector(writer, counts_, groups);
    for (size_t g = 0; g < groups; ++g) {
      writer.WriteU64(pair_ids_[g].size());
      writer.WriteRaw(pair_ids_[g].data(), pair_ids_[g].size() * sizeof(uint32_t));
    }
  }
  absl::Status Restore(StateReader& reader, size_t groups) override {
    SLUICE_RETURN_IF_ERROR(pairs_.Restore(reader));
    SLUICE_RETURN_IF_ERROR(ReadVector(reader, counts_, groups));
    pair_ids_.resize(std::max(pair_ids_.size(), groups));
    // Each pair in the table is listed once, under the group its key names, and a group's
    // count is its number of pairs: Reset() erases a group's pairs from the table, so a pair
    // listed twice, or free in the table, would be erased twice.
    std::vector<uint8_t> listed(pairs_.id_limit(), 0);
    for (size_t g = 0; g < groups; ++g) {
      SLUICE_ASSIGN_OR_RETURN(uint64_t size, reader.ReadCount(sizeof(uint32_t)));
      pair_ids_[g].resize(size);
      SLUICE_RETURN_IF_ERROR(reader.ReadRaw(pair_ids_[g].data(), size * sizeof(uint32_t)));
      if (counts_[g] != static_cast<int64_t>(size))
        return absl::DataLossError("COUNT(DISTINCT) snapshot: a group's count is not its number of values");
      for (uint32_t pair : pair_ids_[g]) {
        if (pair >= pairs_.id_limit())
          return absl::DataLossError("COUNT(DISTINCT) snapshot: a pair id out of range");
        if (!pairs_.IsLive(pair) || listed[pair] || pairs_.IntegerKey(pair, 0) != static_cast<int64_t>(g))
          return absl::DataLossError(
              "COUNT(DISTINCT) snapshot: a pair is free, repeated or of another group");
        listed[pair] = 1;
      }
    }
    for (uint32_t pair = 0; pair < pairs_.id_limit(); ++pair) {
      if (pairs_.IsLive(pair) && !listed[pair])
        return absl::DataLossError("COUNT(DISTINCT) snapshot: a pair belongs to no group");
    }
    return absl::OkStatus();
  }

 private:
  TypeId value_type_;
  KeyTable pairs_;
  Column group_column_;
  std::vector<uint32_t> pair_of_row_;
  std::vector<uint32_t> active_;
  std::vector<uint32_t> created_;
  StateVector<int64_t> counts_;
  std::vector<std::vector<uint32_t>> pair_ids_;

  size_t PairListBytes() const {
    size_t bytes = 0;
    for (const auto& ids : pair_ids_) bytes += CapacityBytes(ids);
    return bytes;
  }
};

template <Pick kPick>
std::unique_ptr<Accumulator> MakePick(TypeId type, StateRows& rows) {
  // A DECIMAL's unscaled values order as its values.
  if (IsWideDecimal(type)) return std::make_unique<PickAccumulator<Int128, kPick>>(rows);
  if (IsDecimal(type)) return std::make_unique<PickAccumulator<int64_t, kPick>>(rows);
  switch (type) {
    case TypeId::kInt64:
    case TypeId::kTimestamp: return std::make_unique<PickAccumulator<int64_t, kPick>>(rows);
    case TypeId::kDouble: return std::make_unique<PickAccumulator<double, kPick>>(rows);
    case TypeId::kBoolean:
    case TypeId::kNull: return std::make_unique<PickAccumulator<uint8_t, kPick>>(rows);
    case TypeId::kString: return std::make_unique<StringPickAccumulator<kPick>>();
  }
  return nullptr;
}

}  // namespace

size_t StateRows::AddField(size_t size) {
  SLUICE_CHECK(rows_.empty());
  SLUICE_CHECK(size == 1 || size == 2 || size == 4 || size == 8 || size == 16);
  sizes_.push_back(size);
  // Largest fields first: each field's offset is then a multiple of its size.
  offsets_.assign(sizes_.size(), 0);
  size_t offset = 0;
  for (size_t width = 16; width >= 1; width /= 2) {
    for (size_t f = 0; f < sizes_.size(); ++f) {
      if (sizes_[f] != width) continue;
      offsets_[f] = offset;
      offset += width;
    }
  }
  // Rows of a 16-byte field are 16-byte aligned (the rows' memory is, see rows_).
  const size_t alignment = std::find(sizes_.begin(), sizes_.end(), 16) != sizes_.end() ? 16 : 8;
  stride_ = (offset + alignment - 1) / alignment * alignment;
  return sizes_.size() - 1;
}

void StateRows::Resize(size_t groups) {
  rows_.resize(groups * stride_, 0);
  groups_ = groups;
}

std::unique_ptr<Accumulator> MakeAccumulator(AggregateKind kind, TypeId argument_type, TypeId result_type,
                                             StateRows& rows, bool retractable) {
  const bool integer = argument_type == TypeId::kInt64 || argument_type == TypeId::kNull;
  const bool wide = IsWideDecimal(argument_type);
  if (IsDecimal(argument_type) && (kind == AggregateKind::kSum || kind == AggregateKind::kAvg)) {
    if (kind == AggregateKind::kSum) {
      if (wide) return std::make_unique<DecimalSumAccumulator<Int128, false>>(rows, argument_type);
      return std::make_unique<DecimalSumAccumulator<int64_t, false>>(rows, argument_type);
    }
    if (wide) return std::make_unique<DecimalSumAccumulator<Int128, true>>(rows, argument_type);
    return std::make_unique<DecimalSumAccumulator<int64_t, true>>(rows, argument_type);
  }
  // The binder casts a DECIMAL argument of the variance family to DOUBLE.
  SLUICE_CHECK(!IsDecimal(argument_type) || kind == AggregateKind::kMin || kind == AggregateKind::kMax ||
               kind == AggregateKind::kFirstValue || kind == AggregateKind::kLastValue ||
               kind == AggregateKind::kCount || kind == AggregateKind::kCountDistinct);
  switch (kind) {
    case AggregateKind::kCountStar:
    case AggregateKind::kCount: return std::make_unique<CountAccumulator>(rows);
    case AggregateKind::kCountDistinct: return std::make_unique<CountDistinctAccumulator>(argument_type);
    case AggregateKind::kSum:
      if (retractable) {
        if (integer) return std::make_unique<SumAccumulator<int64_t, int64_t, false, true>>(rows);
        return std::make_unique<SumAccumulator<double, double, false, true>>(rows);
      }
      if (integer) return std::make_unique<SumAccumulator<int64_t, int64_t, false>>(rows);
      return std::make_unique<SumAccumulator<double, double, false>>(rows);
    case AggregateKind::kAvg:
      if (integer) return std::make_unique<SumAccumulator<int64_t, double, true, true>>(rows);
      return std::make_unique<SumAccumulator<double, double, true, true>>(rows);
    case AggregateKind::kVarSamp:
    case AggregateKind::kVarPop:
    case AggregateKind::kStddevSamp:
    case AggregateKind::kStddevPop: {
      const bool sample = kind == AggregateKind::kVarSamp || kind == AggregateKind::kStddevSamp;
      const bool root = kind == AggregateKind::kStddevSamp || kind == AggregateKind::kStddevPop;
      if (integer) return std::make_unique<VarianceAccumulator<int64_t>>(rows, sample, root);
      return std::make_unique<VarianceAccumulator<double>>(rows, sample, root);
    }
    case AggregateKind::kMin: return MakePick<Pick::kMin>(argument_type, rows);
    case AggregateKind::kMax: return MakePick<Pick::kMax>(argument_type, rows);
    case AggregateKind::kFirstValue: return MakePick<Pick::kFirst>(argument_type, rows);
    case AggregateKind::kLastValue: return MakePick<Pick::kLast>(argument_type, rows);
  }
  (void)result_type;
  return nullptr;
}

}  // namespace sluice
