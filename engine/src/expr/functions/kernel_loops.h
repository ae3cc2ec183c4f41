// Loop templates shared by the scalar kernels in expr/functions/*.cc. Private to that folder:
// include it only from there.
//
// Contract:
//  - Every loop visits exactly the active rows of a KernelContext (expr/scalar_function.h)
//    through ForEachActiveRow (batch/batch.h): rows 0..count-1 when selection == nullptr,
//    else selection[0..count-1]. Arguments and out are indexed by physical row; no other row
//    is read or written.
//  - When selection == nullptr the loop is dense (size_t index, local bound), so that GCC
//    vectorizes it if the body is branch-free (at -O3, the Release flags: -O2's cost model
//    refuses the runtime alias checks between arguments and out). UnaryKernel and BinaryKernel
//    keep their bodies branch-free: ZeroIfNull is bitwise, and an Op reports a NULL result
//    through a uint8_t flag rather than a branch. ForEachValidRow branches per row on purpose.
//  - The kernels here are for NullHandling::kPropagate: they read the validity the executor
//    left in out, may clear it but never set it, and write the zero / empty value on every
//    NULL row (the Column invariant, batch/column.h). UnaryKernel and BinaryKernel allocate
//    nothing; ForEachValidRow allocates only what `compute` does (string bytes in out.heap()).
//    No virtual call.
//
// Op, as UnaryKernel and BinaryKernel call it (A, B: argument types, R: result type):
//   static constexpr bool kCanBeNull;
//   false: static R Apply(A value)                   / Apply(A left, B right)
//   true:  static R Apply(A value, uint8_t& valid)   / Apply(A left, B right, uint8_t& valid)
//          valid enters as the row's validity (0 or 1); Apply may clear it, must not set it,
//          and must be total on NULL slots (see expr/scalar_function.h).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "batch/batch.h"
#include "batch/column.h"
#include "expr/scalar_function.h"

namespace sluice {

// `value`, or zero when `valid` is 0 (the NULL-slot invariant). Bitwise rather than `?:` for
// doubles and integers, which GCC does not if-convert in these loops. REQUIRES: valid is 0 or 1.
template <typename R>
inline R ZeroIfNull(R value, uint8_t valid) {
  if constexpr (std::is_same_v<R, double>) {
    return std::bit_cast<double>(std::bit_cast<uint64_t>(value) & (0 - static_cast<uint64_t>(valid)));
  } else if constexpr (std::is_integral_v<R>) {
    return static_cast<R>(value & (0 - static_cast<R>(valid)));
  } else {
    return valid ? value : R();
  }
}

// out[row] = Op::Apply(arguments[0][row]) for every active row (see Op above).
template <typename A, typename R, typename Op>
void UnaryKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const A* input = arguments[0]->data<A>();
  R* result = out.data<R>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    if constexpr (Op::kCanBeNull) {
      uint8_t ok = valid[row];
      const R value = Op::Apply(input[row], ok);
      valid[row] = ok;
      result[row] = ZeroIfNull(value, ok);
    } else {
      result[row] = ZeroIfNull(Op::Apply(input[row]), valid[row]);
    }
  });
}

// out[row] = Op::Apply(arguments[0][row], arguments[1][row]) for every active row.
template <typename A, typename B, typename R, typename Op>
void BinaryKernel(const KernelContext& context, const Column* const* arguments, size_t, Column& out) {
  const A* left = arguments[0]->data<A>();
  const B* right = arguments[1]->data<B>();
  R* result = out.data<R>();
  uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count, [&](size_t row) {
    if constexpr (Op::kCanBeNull) {
      uint8_t ok = valid[row];
      const R value = Op::Apply(left[row], right[row], ok);
      valid[row] = ok;
      result[row] = ZeroIfNull(value, ok);
    } else {
      result[row] = ZeroIfNull(Op::Apply(left[row], right[row]), valid[row]);
    }
  });
}

// For kPropagate kernels whose per-row work is costly or allocates (strings, calendar
// arithmetic): writes compute(row) -> R on the rows the executor left valid and R() on NULL
// rows, without calling compute there. Branches per row, so it is not meant to vectorize.
template <typename R, typename Compute>
inline void ForEachValidRow(const KernelContext& context, Column& out, Compute&& compute) {
  R* result = out.data<R>();
  const uint8_t* valid = out.validity();
  ForEachActiveRow(context.selection, context.count,
                   [&](size_t row) { result[row] = valid[row] ? compute(row) : R(); });
}

}  // namespace sluice
