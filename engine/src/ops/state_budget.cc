#include "ops/state_budget.h"

#include <cstdio>

#include "common/strings.h"

namespace sluice {

std::string FormatBytes(size_t bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}

absl::Status StateBudget::Charge(size_t before, size_t after, const std::string& describe, size_t keys) {
  size_t total;
  if (after >= before) {
    total = used_.fetch_add(after - before, std::memory_order_relaxed) + (after - before);
  } else {
    total = used_.fetch_sub(before - after, std::memory_order_relaxed) - (before - after);
  }
  if (total <= limit_) return absl::OkStatus();
  return absl::ResourceExhaustedError(StrCat(
      "state limit exceeded: the job's state holds ", FormatBytes(total),
      ", over 'state.max.bytes' = ", FormatBytes(limit_), " (", limit_, " bytes); operator ", describe,
      " holds ", keys, " keys in ", FormatBytes(after),
      ". Raise 'state.max.bytes' (or --memory-limit), bound the state with a window or 'state.ttl', or "
      "spread the keys over more workers"));
}

}  // namespace sluice
