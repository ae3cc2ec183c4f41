// CheckBatchInvariants: what every decoded batch must satisfy, checked by the fuzz targets
// (a violation traps, so libFuzzer keeps the input as a crash).
//
//  - every column holds at least num_rows() rows and has the expected type;
//  - validity bytes are 0 or 1, and a NULL slot holds zero bytes (column.h's invariant that
//    lets kernels compute over NULL slots);
//  - every string view can be read whole: its bytes are touched, so AddressSanitizer reports
//    a view into freed or foreign memory at the decoder that produced it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "batch/batch.h"

namespace sluice::fuzz {

inline void CheckBatchInvariants(const Batch& batch, std::span<const TypeId> types) {
  if (batch.num_columns() != types.size()) __builtin_trap();
  const size_t rows = batch.num_rows();
  volatile uint8_t sink = 0;
  for (size_t c = 0; c < types.size(); ++c) {
    const Column& column = batch.column(c);
    if (column.type() != types[c] || column.size() < rows) __builtin_trap();
    const size_t width = PhysicalSize(column.type());
    const uint8_t* validity = column.validity();
    const uint8_t* bytes = column.data<uint8_t>();
    for (size_t r = 0; r < rows; ++r) {
      if (validity[r] > 1) __builtin_trap();
      if (validity[r] == 0) {
        for (size_t b = 0; b < width; ++b) {
          if (bytes[r * width + b] != 0) __builtin_trap();
        }
      } else if (column.type() == TypeId::kString) {
        const std::string_view text = column.data<std::string_view>()[r];
        uint8_t sum = 0;
        for (char ch : text) sum = static_cast<uint8_t>(sum + static_cast<uint8_t>(ch));
        sink = static_cast<uint8_t>(sink + sum);
      }
    }
  }
  (void)sink;
}

}  // namespace sluice::fuzz
