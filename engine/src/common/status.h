// Status plumbing shared by every module.
//
// Modules return absl::Status / absl::StatusOr<T> across their boundaries; no exception
// escapes a module. User-facing errors (bad SQL, bad input, bad flags) use
// InvalidArgument/NotFound/Unimplemented with a message meant for the user; broken internal
// invariants abort through SLUICE_CHECK, which prints both the condition and the location.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (an absl::Status) is not ok.
#define SLUICE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status sluice_status_ = (expr);          \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)

// `lhs = value of rexpr` (an absl::StatusOr<T>), or return its error.
#define SLUICE_ASSIGN_OR_RETURN(lhs, rexpr) \
  SLUICE_ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(sluice_statusor_, __LINE__), lhs, rexpr)
#define SLUICE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// Internal invariant checks: always on, even in Release builds; they guard memory safety.
#define SLUICE_CHECK(cond)                                                                          \
  do {                                                                                              \
    if (!(cond)) {                                                                                  \
      std::fprintf(stderr, "%s:%d: internal error: check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                                 \
    }                                                                                               \
  } while (0)

#define SLUICE_CHECK_OP(a, op, b)                                                                      \
  do {                                                                                                 \
    const auto sluice_a_ = (a);                                                                        \
    const auto sluice_b_ = (b);                                                                        \
    if (!(sluice_a_ op sluice_b_)) {                                                                   \
      std::fprintf(stderr, "%s:%d: internal error: check failed: %s %s %s (%lld vs %lld)\n", __FILE__, \
                   __LINE__, #a, #op, #b, static_cast<long long>(sluice_a_),                           \
                   static_cast<long long>(sluice_b_));                                                 \
      std::abort();                                                                                    \
    }                                                                                                  \
  } while (0)

#define SLUICE_CHECK_EQ(a, b) SLUICE_CHECK_OP(a, ==, b)
#define SLUICE_CHECK_LT(a, b) SLUICE_CHECK_OP(a, <, b)
#define SLUICE_CHECK_LE(a, b) SLUICE_CHECK_OP(a, <=, b)
