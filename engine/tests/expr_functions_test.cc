// Tests of the scalar function kernels, called through FunctionRegistry::Default() the way the
// expression executor calls them: out's validity is prepared for kPropagate functions, and
// only the active rows of a selection are computed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "expr/scalar_function.h"
#include "types/number_format.h"

namespace sluice {
namespace {

using OptInt = std::optional<int64_t>;
using OptDouble = std::optional<double>;
using OptBool = std::optional<bool>;
using OptString = std::optional<std::string>;

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// --- building columns -------------------------------------------------------------------

template <typename T, typename Optional>
std::unique_ptr<Column> MakeColumn(TypeId type, const std::vector<Optional>& values) {
  std::unique_ptr<Column> column = std::make_unique<Column>(type, values.size());
  for (size_t row = 0; row < values.size(); ++row) {
    if (!values[row].has_value()) {
      column->SetNull(row);
      continue;
    }
    column->validity()[row] = 1;
    if constexpr (std::is_same_v<T, std::string_view>) {
      column->data<std::string_view>()[row] = column->heap().Add(*values[row]);
    } else {
      column->data<T>()[row] = static_cast<T>(*values[row]);
    }
  }
  return column;
}

std::unique_ptr<Column> Ints(const std::vector<OptInt>& values) {
  return MakeColumn<int64_t>(TypeId::kInt64, values);
}
std::unique_ptr<Column> Timestamps(const std::vector<OptInt>& values) {
  return MakeColumn<int64_t>(TypeId::kTimestamp, values);
}
std::unique_ptr<Column> Doubles(const std::vector<OptDouble>& values) {
  return MakeColumn<double>(TypeId::kDouble, values);
}
std::unique_ptr<Column> Bools(const std::vector<OptBool>& values) {
  return MakeColumn<uint8_t>(TypeId::kBoolean, values);
}
std::unique_ptr<Column> Strings(const std::vector<OptString>& values) {
  return MakeColumn<std::string_view>(TypeId::kString, values);
}
std::unique_ptr<Column> Nulls(size_t rows) {
  auto column = std::make_unique<Column>(TypeId::kNull, rows);
  for (size_t row = 0; row < rows; ++row) column->SetNull(row);
  return column;
}

// --- reading columns --------------------------------------------------------------------

template <typename T, typename Optional>
std::vector<Optional> Read(const Column& column) {
  std::vector<Optional> values;
  for (size_t row = 0; row < column.size(); ++row) {
    if (!column.IsValid(row)) {
      values.push_back(std::nullopt);
    } else if constexpr (std::is_same_v<T, std::string_view>) {
      values.push_back(std::string(column.data<std::string_view>()[row]));
    } else {
      values.push_back(static_cast<typename Optional::value_type>(column.data<T>()[row]));
    }
  }
  return values;
}

std::vector<OptInt> IntsOf(const Column& c) {
  return Read<int64_t, OptInt>(c);
}
std::vector<OptDouble> DoublesOf(const Column& c) {
  return Read<double, OptDouble>(c);
}
std::vector<OptBool> BoolsOf(const Column& c) {
  return Read<uint8_t, OptBool>(c);
}
std::vector<OptString> StringsOf(const Column& c) {
  return Read<std::string_view, OptString>(c);
}

// --- calling functions ------------------------------------------------------------------

// What the executor does before a kPropagate call: validity = AND of the arguments'.
void SetPropagatedValidity(const KernelContext& context, const std::vector<const Column*>& arguments,
                           Column& out) {
  ForEachActiveRow(context.selection, context.count, [&](uint32_t row) {
    uint8_t valid = 1;
    for (const Column* argument : arguments) valid &= argument->validity()[row];
    out.validity()[row] = valid;
  });
}

// The overload of `name` for exactly these argument types. A failure is a mistake in the test
// itself, so it stops the binary rather than read a column of the wrong type.
const ScalarFunctionSignature& Resolve(std::string_view name, const std::vector<TypeId>& types) {
  auto resolved = FunctionRegistry::Default().Resolve(name, types);
  if (!resolved.ok() || resolved->argument_types != types) {
    std::fprintf(
        stderr, "cannot call %s exactly: %s\n", std::string(name).c_str(),
        resolved.ok() ? "arguments would be cast" : std::string(resolved.status().message()).c_str());
    std::abort();
  }
  return *resolved->signature;
}

// Runs `name` over `arguments` (whose types must match an overload exactly) into `out`, for
// the rows given by (selection, count).
void RunInto(std::string_view name, const std::vector<const Column*>& arguments, Column& out,
             const uint32_t* selection, size_t count) {
  std::vector<TypeId> types;
  for (const Column* argument : arguments) types.push_back(argument->type());
  const ScalarFunctionSignature& signature = Resolve(name, types);
  ASSERT_EQ(out.type(), signature.return_type) << name;
  const KernelContext context{selection, count};
  if (signature.null_handling == NullHandling::kPropagate) {
    SetPropagatedValidity(context, arguments, out);
  }
  signature.kernel(context, arguments.data(), arguments.size(), out);
}

// Runs `name` over every row of its arguments (`rows` rows when there are none).
std::unique_ptr<Column> Call(std::string_view name, const std::vector<const Column*>& arguments,
                             size_t rows = 0) {
  if (!arguments.empty()) rows = arguments[0]->size();
  std::vector<TypeId> types;
  for (const Column* argument : arguments) types.push_back(argument->type());
  auto out = std::make_unique<Column>(Resolve(name, types).return_type, rows);
  RunInto(name, arguments, *out, nullptr, rows);
  return out;
}

std::unique_ptr<Column> Cast(const Column& input, TypeId to) {
  const ScalarKernel kernel = GetCastKernel(input.type(), to);
  EXPECT_NE(kernel, nullptr);
  auto out = std::make_unique<Column>(to, input.size());
  const KernelContext context{nullptr, input.size()};
  const Column* arguments[] = {&input};
  SetPropagatedValidity(context, {&input}, *out);  // the executor treats casts as kPropagate
  kernel(context, arguments, 1, *out);
  return out;
}

int64_t Millis(std::string_view text) {
  const std::optional<int64_t> millis = ParseTimestamp(text);
  EXPECT_TRUE(millis.has_value()) << text;
  return millis.value_or(0);
}

// --- arithmetic -------------------------------------------------------------------------

TEST(ScalarFunctionTest, IntegerAddSubtractMultiplyWrapOnOverflow) {
  auto a = Ints({kInt64Max, kInt64Min, kInt64Max, 7});
  auto b = Ints({1, 1, 2, -3});
  EXPECT_EQ(IntsOf(*Call("+", {a.get(), b.get()})),
            (std::vector<OptInt>{kInt64Min, kInt64Min + 1, kInt64Min + 1, 4}));
  EXPECT_EQ(IntsOf(*Call("-", {a.get(), b.get()})),
            (std::vector<OptInt>{kInt64Max - 1, kInt64Max, kInt64Max - 2, 10}));
  EXPECT_EQ(IntsOf(*Call("*", {a.get(), b.get()})), (std::vector<OptInt>{kInt64Max, kInt64Min, -2, -21}));
  auto minimum = Ints({kInt64Min, 5});
  EXPECT_EQ(IntsOf(*Call("negate", {minimum.get()})), (std::vector<OptInt>{kInt64Min, -5}));
}

TEST(ScalarFunctionTest, IntegerDivisionAndModuloByZeroAreNull) {
  auto a = Ints({7, 0, -7});
  auto zero = Ints({0, 0, 0});
  EXPECT_EQ(IntsOf(*Call("/", {a.get(), zero.get()})),
            (std::vector<OptInt>{std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(IntsOf(*Call("%", {a.get(), zero.get()})),
            (std::vector<OptInt>{std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(IntsOf(*Call("mod", {a.get(), zero.get()})),
            (std::vector<OptInt>{std::nullopt, std::nullopt, std::nullopt}));
}

TEST(ScalarFunctionTest, Int64MinDividedByMinusOneDoesNotTrap) {
  auto a = Ints({kInt64Min, kInt64Min});
  auto b = Ints({-1, 1});
  EXPECT_EQ(IntsOf(*Call("/", {a.get(), b.get()})), (std::vector<OptInt>{kInt64Min, kInt64Min}));
  EXPECT_EQ(IntsOf(*Call("%", {a.get(), b.get()})), (std::vector<OptInt>{0, 0}));
  EXPECT_EQ(IntsOf(*Call("mod", {a.get(), b.get()})), (std::vector<OptInt>{0, 0}));
}

TEST(ScalarFunctionTest, IntegerDivisionTruncatesTowardZeroLikeSqlite) {
  auto a = Ints({-7, 7, -7, 7});
  auto b = Ints({2, -2, 3, -3});
  EXPECT_EQ(IntsOf(*Call("/", {a.get(), b.get()})), (std::vector<OptInt>{-3, -3, -2, -2}));
  EXPECT_EQ(IntsOf(*Call("%", {a.get(), b.get()})), (std::vector<OptInt>{-1, 1, -1, 1}));
}

TEST(ScalarFunctionTest, DoubleDivisionByZeroAndNaNResultsAreNull) {
  const double inf = std::numeric_limits<double>::infinity();
  auto a = Doubles({1.0, 0.0, 3.0, inf});
  auto b = Doubles({0.0, 0.0, 2.0, inf});
  EXPECT_EQ(DoublesOf(*Call("/", {a.get(), b.get()})),
            (std::vector<OptDouble>{std::nullopt, std::nullopt, 1.5, std::nullopt}));
  EXPECT_EQ(DoublesOf(*Call("-", {a.get(), b.get()})), (std::vector<OptDouble>{1.0, 0.0, 1.0, std::nullopt}));
}

TEST(ScalarFunctionTest, DoubleModuloTruncatesOperandsLikeSqlite) {
  auto a = Doubles({7.5, -7.5, 7.0, 1e19});
  auto b = Doubles({2.0, 2.0, 0.5, 3.0});
  EXPECT_EQ(DoublesOf(*Call("%", {a.get(), b.get()})),
            (std::vector<OptDouble>{1.0, -1.0, std::nullopt, 1.0}));
  // MOD is fmod.
  EXPECT_EQ(DoublesOf(*Call("mod", {a.get(), b.get()})),
            (std::vector<OptDouble>{1.5, -1.5, 0.0, std::fmod(1e19, 3.0)}));
}

TEST(ScalarFunctionTest, ArithmeticPropagatesNullAndZeroesNullSlots) {
  auto a = Ints({1, std::nullopt, 3});
  auto b = Ints({std::nullopt, 2, 4});
  auto sum = Call("+", {a.get(), b.get()});
  EXPECT_EQ(IntsOf(*sum), (std::vector<OptInt>{std::nullopt, std::nullopt, 7}));
  EXPECT_EQ(sum->data<int64_t>()[0], 0);
  EXPECT_EQ(sum->data<int64_t>()[1], 0);
  auto x = Doubles({std::nullopt, 1.0});
  auto y = Doubles({5.0, 1.0});
  auto difference = Call("-", {x.get(), y.get()});
  EXPECT_EQ(difference->data<double>()[0], 0.0);
}

TEST(ScalarFunctionTest, TimestampArithmeticWithMillisecondIntervals) {
  const int64_t noon = Millis("2024-03-01 12:00:00");
  auto ts = Timestamps({noon});
  auto hour = Ints({3600 * 1000});
  EXPECT_EQ(IntsOf(*Call("+", {ts.get(), hour.get()})), (std::vector<OptInt>{noon + 3600000}));
  EXPECT_EQ(IntsOf(*Call("+", {hour.get(), ts.get()})), (std::vector<OptInt>{noon + 3600000}));
  EXPECT_EQ(IntsOf(*Call("-", {ts.get(), hour.get()})), (std::vector<OptInt>{noon - 3600000}));
  auto earlier = Timestamps({noon - 1500});
  auto difference = Call("-", {ts.get(), earlier.get()});
  EXPECT_EQ(difference->type(), TypeId::kInt64);
  EXPECT_EQ(IntsOf(*difference), (std::vector<OptInt>{1500}));
}

TEST(ScalarFunctionTest, OverloadResolutionWidensBigintToDouble) {
  auto resolved = FunctionRegistry::Default().Resolve("+", {TypeId::kInt64, TypeId::kDouble});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->signature->return_type, TypeId::kDouble);
  resolved =
      FunctionRegistry::Default().Resolve("COALESCE", {TypeId::kNull, TypeId::kInt64, TypeId::kDouble});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->signature->return_type, TypeId::kDouble);
  resolved = FunctionRegistry::Default().Resolve("-", {TypeId::kTimestamp, TypeId::kInt64});
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(resolved->signature->return_type, TypeId::kTimestamp);
}

// --- selection vectors ------------------------------------------------------------------

TEST(ScalarFunctionTest, KernelsWithSelectionLeaveUnselectedRowsUntouched) {
  const uint32_t selection[] = {1, 3};
  auto a = Ints({10, 20, 30, 40});
  auto b = Ints({1, 0, 3, 4});
  {
    Column out(TypeId::kInt64, 4);
    for (size_t row = 0; row < 4; ++row) {
      out.data<int64_t>()[row] = -99;
      out.validity()[row] = 1;
    }
    RunInto("/", {a.get(), b.get()}, out, selection, 2);
    EXPECT_EQ(IntsOf(out), (std::vector<OptInt>{-99, std::nullopt, -99, 10}));
  }
  {
    auto left = Bools({true, std::nullopt, false, std::nullopt});
    auto right = Bools({true, false, true, std::nullopt});
    Column out(TypeId::kBoolean, 4);
    for (size_t row = 0; row < 4; ++row) {
      out.data<uint8_t>()[row] = 1;
      out.validity()[row] = 1;
    }
    RunInto("and", {left.get(), right.get()}, out, selection, 2);
    EXPECT_EQ(BoolsOf(out), (std::vector<OptBool>{true, false, true, std::nullopt}));
  }
  {
    auto text = Strings({"a", "b", "c", "d"});
    Column out(TypeId::kString, 4);
    for (size_t row = 0; row < 4; ++row) {
      out.data<std::string_view>()[row] = "untouched";
      out.validity()[row] = 1;
    }
    RunInto("upper", {text.get()}, out, selection, 2);
    EXPECT_EQ(StringsOf(out), (std::vector<OptString>{"untouched", "B", "untouched", "D"}));
  }
  {
    auto first = Ints({std::nullopt, std::nullopt, std::nullopt, std::nullopt});
    auto second = Ints({1, 2, 3, 4});
    Column out(TypeId::kInt64, 4);
    for (size_t row = 0; row < 4; ++row) {
      out.data<int64_t>()[row] = -1;
      out.validity()[row] = 0;
    }
    RunInto("coalesce", {first.get(), second.get()}, out, selection, 2);
    EXPECT_EQ(IntsOf(out), (std::vector<OptInt>{std::nullopt, 2, std::nullopt, 4}));
  }
  {
    auto ts = Timestamps({0, 0, 0, 0});
    Column out(TypeId::kInt64, 4);
    for (size_t row = 0; row < 4; ++row) {
      out.data<int64_t>()[row] = -1;
      out.validity()[row] = 1;
    }
    RunInto("extract_year", {ts.get()}, out, selection, 2);
    EXPECT_EQ(IntsOf(out), (std::vector<OptInt>{-1, 1970, -1, 1970}));
  }
}

// --- comparison and logic ---------------------------------------------------------------

TEST(ScalarFunctionTest, ComparisonsOfEachType) {
  auto i1 = Ints({1, 2, 3, std::nullopt});
  auto i2 = Ints({2, 2, 2, 2});
  EXPECT_EQ(BoolsOf(*Call("<", {i1.get(), i2.get()})),
            (std::vector<OptBool>{true, false, false, std::nullopt}));
  EXPECT_EQ(BoolsOf(*Call("<=", {i1.get(), i2.get()})),
            (std::vector<OptBool>{true, true, false, std::nullopt}));
  EXPECT_EQ(BoolsOf(*Call("=", {i1.get(), i2.get()})),
            (std::vector<OptBool>{false, true, false, std::nullopt}));
  EXPECT_EQ(BoolsOf(*Call("<>", {i1.get(), i2.get()})),
            (std::vector<OptBool>{true, false, true, std::nullopt}));
  EXPECT_EQ(BoolsOf(*Call(">", {i1.get(), i2.get()})),
            (std::vector<OptBool>{false, false, true, std::nullopt}));
  EXPECT_EQ(BoolsOf(*Call(">=", {i1.get(), i2.get()})),
            (std::vector<OptBool>{false, true, true, std::nullopt}));

  auto d1 = Doubles({1.5, -0.0});
  auto d2 = Doubles({1.25, 0.0});
  EXPECT_EQ(BoolsOf(*Call(">", {d1.get(), d2.get()})), (std::vector<OptBool>{true, false}));
  EXPECT_EQ(BoolsOf(*Call("=", {d1.get(), d2.get()})), (std::vector<OptBool>{false, true}));

  auto b1 = Bools({false, true});
  auto b2 = Bools({true, true});
  EXPECT_EQ(BoolsOf(*Call("<", {b1.get(), b2.get()})), (std::vector<OptBool>{true, false}));

  auto t1 = Timestamps({Millis("2024-01-01"), Millis("2024-01-02")});
  auto t2 = Timestamps({Millis("2024-01-02"), Millis("2024-01-02")});
  EXPECT_EQ(BoolsOf(*Call("<", {t1.get(), t2.get()})), (std::vector<OptBool>{true, false}));
}

TEST(ScalarFunctionTest, StringComparisonIsBytewise) {
  // Uppercase sorts before lowercase; bytes >= 0x80 sort after ASCII; a prefix sorts first.
  auto a = Strings({"B", "\xC3\xA9", "ab", "abc", ""});
  auto b = Strings({"a", "z", "abc", "abc", "a"});
  EXPECT_EQ(BoolsOf(*Call("<", {a.get(), b.get()})), (std::vector<OptBool>{true, false, true, false, true}));
  EXPECT_EQ(BoolsOf(*Call("=", {a.get(), b.get()})),
            (std::vector<OptBool>{false, false, false, true, false}));
}

TEST(ScalarFunctionTest, AndOrFollowThreeValuedLogic) {
  const OptBool t = true;
  const OptBool f = false;
  const OptBool n = std::nullopt;
  auto left = Bools({t, t, t, f, f, f, n, n, n});
  auto right = Bools({t, f, n, t, f, n, t, f, n});
  EXPECT_EQ(BoolsOf(*Call("and", {left.get(), right.get()})),
            (std::vector<OptBool>{t, f, n, f, f, f, n, f, n}));
  EXPECT_EQ(BoolsOf(*Call("or", {left.get(), right.get()})),
            (std::vector<OptBool>{t, t, t, t, f, n, t, n, n}));
  EXPECT_EQ(BoolsOf(*Call("not", {left.get()})), (std::vector<OptBool>{f, f, f, t, t, t, n, n, n}));
}

TEST(ScalarFunctionTest, IsNullAndIsNotNullAreNeverNull) {
  auto values = Strings({"x", std::nullopt, ""});
  EXPECT_EQ(BoolsOf(*Call("is_null", {values.get()})), (std::vector<OptBool>{false, true, false}));
  EXPECT_EQ(BoolsOf(*Call("is_not_null", {values.get()})), (std::vector<OptBool>{true, false, true}));
  auto numbers = Doubles({std::nullopt, 0.0});
  EXPECT_EQ(BoolsOf(*Call("is_null", {numbers.get()})), (std::vector<OptBool>{true, false}));
}

TEST(ScalarFunctionTest, LikeMatchesPercentAndUnderscoreCaseSensitively) {
  struct Case {
    const char* text;
    const char* pattern;
    bool matches;
  };
  const Case cases[] = {
      {"hello", "hello", true},
      {"hello", "h%", true},
      {"hello", "%o", true},
      {"hello", "%ll%", true},
      {"hello", "h_llo", true},
      {"hello", "h_lo", false},
      {"hello", "Hello", false},
      {"hello", "%", true},
      {"", "%", true},
      {"", "_", false},
      {"", "", true},
      {"a", "", false},
      {"abcabc", "%abc", true},
      {"abcab", "%abc", false},
      {"aXbXc", "a%b%c", true},
      {"mississippi", "%iss%ppi", true},
      {"mississippi", "m%ss%ss%ss%", false},
      {"h\xC3\xA9llo", "h_llo", true},  // '_' is one UTF-8 character
      {"h\xC3\xA9llo", "h__llo", false},
      {"50%", "50%", true},
      {"abc", "a%%c", true},
      {"abc", "___", true},
      {"abc", "____", false},
  };
  std::vector<OptString> texts;
  std::vector<OptString> patterns;
  std::vector<OptBool> expected;
  std::vector<OptBool> negated;
  for (const Case& c : cases) {
    texts.push_back(c.text);
    patterns.push_back(c.pattern);
    expected.push_back(c.matches);
    negated.push_back(!c.matches);
  }
  texts.push_back(std::nullopt);
  patterns.push_back("%");
  expected.push_back(std::nullopt);
  negated.push_back(std::nullopt);
  auto text = Strings(texts);
  auto pattern = Strings(patterns);
  EXPECT_EQ(BoolsOf(*Call("like", {text.get(), pattern.get()})), expected);
  EXPECT_EQ(BoolsOf(*Call("not_like", {text.get(), pattern.get()})), negated);
}

// --- conditional ------------------------------------------------------------------------

TEST(ScalarFunctionTest, CoalesceReturnsFirstNonNullArgument) {
  auto a = Ints({std::nullopt, 1, std::nullopt, std::nullopt});
  auto b = Ints({2, 20, std::nullopt, std::nullopt});
  auto c = Ints({3, 30, 300, std::nullopt});
  EXPECT_EQ(IntsOf(*Call("coalesce", {a.get(), b.get(), c.get()})),
            (std::vector<OptInt>{2, 1, 300, std::nullopt}));
  EXPECT_EQ(IntsOf(*Call("coalesce", {a.get()})),
            (std::vector<OptInt>{std::nullopt, 1, std::nullopt, std::nullopt}));
}

TEST(ScalarFunctionTest, CoalesceOfStringsPinsTheArgumentHeaps) {
  auto a = Strings({std::nullopt, "first"});
  auto b = Strings({"second", "unused"});
  auto out = Call("coalesce", {a.get(), b.get()});
  EXPECT_EQ(StringsOf(*out), (std::vector<OptString>{"second", "first"}));
  EXPECT_EQ(a->shared_heap().use_count(), 2);
  EXPECT_EQ(b->shared_heap().use_count(), 2);
  a.reset();
  b.reset();
  EXPECT_EQ(StringsOf(*out), (std::vector<OptString>{"second", "first"}));
}

TEST(ScalarFunctionTest, NullIfIsNullWhenArgumentsAreEqual) {
  auto a = Strings({"x", "x", std::nullopt, "x"});
  auto b = Strings({"x", "y", "x", std::nullopt});
  EXPECT_EQ(StringsOf(*Call("nullif", {a.get(), b.get()})),
            (std::vector<OptString>{std::nullopt, "x", std::nullopt, "x"}));
  auto i = Ints({1, 2});
  auto j = Ints({1, 1});
  EXPECT_EQ(IntsOf(*Call("nullif", {i.get(), j.get()})), (std::vector<OptInt>{std::nullopt, 2}));
}

TEST(ScalarFunctionTest, GreatestAndLeastAreNullWhenAnyArgumentIsNull) {
  auto a = Ints({1, 5, std::nullopt});
  auto b = Ints({3, 2, 1});
  auto c = Ints({2, -1, 1});
  EXPECT_EQ(IntsOf(*Call("greatest", {a.get(), b.get(), c.get()})),
            (std::vector<OptInt>{3, 5, std::nullopt}));
  EXPECT_EQ(IntsOf(*Call("least", {a.get(), b.get(), c.get()})), (std::vector<OptInt>{1, -1, std::nullopt}));
  auto s = Strings({"apple", "b"});
  auto t = Strings({"banana", "a"});
  EXPECT_EQ(StringsOf(*Call("greatest", {s.get(), t.get()})), (std::vector<OptString>{"banana", "b"}));
  auto d = Doubles({1.5});
  EXPECT_EQ(DoublesOf(*Call("least", {d.get()})), (std::vector<OptDouble>{1.5}));
}

// --- strings ----------------------------------------------------------------------------

TEST(ScalarFunctionTest, UpperAndLowerChangeAsciiLettersOnly) {
  auto text = Strings({"Hello, World 1", "\xC3\xA9t\xC3\xA9", "", std::nullopt});
  EXPECT_EQ(StringsOf(*Call("upper", {text.get()})),
            (std::vector<OptString>{"HELLO, WORLD 1", "\xC3\xA9T\xC3\xA9", "", std::nullopt}));
  EXPECT_EQ(StringsOf(*Call("lower", {text.get()})),
            (std::vector<OptString>{"hello, world 1", "\xC3\xA9t\xC3\xA9", "", std::nullopt}));
}

TEST(ScalarFunctionTest, ConcatTreatsNullAsEmptyButPipeOperatorPropagatesNull) {
  auto a = Strings({"ab", std::nullopt, std::nullopt});
  auto b = Strings({"cd", "x", std::nullopt});
  auto c = Strings({"!", "!", std::nullopt});
  EXPECT_EQ(StringsOf(*Call("concat", {a.get(), b.get(), c.get()})),
            (std::vector<OptString>{"abcd!", "x!", ""}));
  EXPECT_EQ(StringsOf(*Call("||", {a.get(), b.get()})),
            (std::vector<OptString>{"abcd", std::nullopt, std::nullopt}));
}

TEST(ScalarFunctionTest, SubstringMatchesSqliteSubstr) {
  struct Case {
    const char* text;
    int64_t start;
    std::optional<int64_t> length;
    const char* expected;  // from SQLite 3.40's substr()
  };
  const Case cases[] = {
      {"h\xC3\xA9llo", 2, std::nullopt, "\xC3\xA9llo"},
      {"h\xC3\xA9llo", 2, 2, "\xC3\xA9l"},
      {"hello", 0, 3, "he"},
      {"hello", -2, std::nullopt, "lo"},
      {"hello", -2, 1, "l"},
      {"hello", 0, std::nullopt, "hello"},
      {"hello", 2, -1, "h"},
      {"hello", 3, -5, "he"},
      {"hello", 10, std::nullopt, ""},
      {"hello", -10, 7, "he"},
      {"hello", 0, -1, ""},
      {"hello", 1, 0, ""},
      {"hello", 6, 1, ""},
      {"hello", -5, -2, ""},
      {"hello", -3, 2, "ll"},
      // Extremes do not overflow; the window is still [start, start + length) (SQLite itself
      // truncates these arguments to 32 bits).
      {"hello", kInt64Min, kInt64Max, "hell"},
      {"hello", kInt64Max, kInt64Min, "hello"},
      {"hello", kInt64Min, std::nullopt, "hello"},
      {"hello", kInt64Max, std::nullopt, ""},
  };
  std::vector<OptString> texts, expected_two, expected_three;
  std::vector<OptInt> starts, lengths;
  for (const Case& c : cases) {
    if (c.length) {
      texts.push_back(c.text);
      starts.push_back(c.start);
      lengths.push_back(*c.length);
      expected_three.push_back(c.expected);
    }
  }
  auto text = Strings(texts);
  auto start = Ints(starts);
  auto length = Ints(lengths);
  EXPECT_EQ(StringsOf(*Call("substring", {text.get(), start.get(), length.get()})), expected_three);
  texts.clear();
  starts.clear();
  for (const Case& c : cases) {
    if (!c.length) {
      texts.push_back(c.text);
      starts.push_back(c.start);
      expected_two.push_back(c.expected);
    }
  }
  auto text2 = Strings(texts);
  auto start2 = Ints(starts);
  EXPECT_EQ(StringsOf(*Call("substring", {text2.get(), start2.get()})), expected_two);
}

TEST(ScalarFunctionTest, TrimRemovesSpacesOrTheGivenCharacters) {
  auto text = Strings({"  a b  ", "xyhixy",
                       "\xC3\xA9\xC3\xA9"
                       "a\xC3\xA9",
                       "", std::nullopt});
  EXPECT_EQ(StringsOf(*Call("trim", {text.get()})), (std::vector<OptString>{"a b", "xyhixy",
                                                                            "\xC3\xA9\xC3\xA9"
                                                                            "a\xC3\xA9",
                                                                            "", std::nullopt}));
  EXPECT_EQ(StringsOf(*Call("ltrim", {text.get()})), (std::vector<OptString>{"a b  ", "xyhixy",
                                                                             "\xC3\xA9\xC3\xA9"
                                                                             "a\xC3\xA9",
                                                                             "", std::nullopt}));
  EXPECT_EQ(StringsOf(*Call("rtrim", {text.get()})), (std::vector<OptString>{"  a b", "xyhixy",
                                                                             "\xC3\xA9\xC3\xA9"
                                                                             "a\xC3\xA9",
                                                                             "", std::nullopt}));
  auto chars = Strings({" ", "xy", "\xC3\xA9", "x", "x"});
  EXPECT_EQ(StringsOf(*Call("trim", {text.get(), chars.get()})),
            (std::vector<OptString>{"a b", "hi", "a", "", std::nullopt}));
  EXPECT_EQ(StringsOf(*Call("ltrim", {text.get(), chars.get()})),
            (std::vector<OptString>{"a b  ", "hixy", "a\xC3\xA9", "", std::nullopt}));
  EXPECT_EQ(StringsOf(*Call("rtrim", {text.get(), chars.get()})), (std::vector<OptString>{"  a b", "xyhi",
                                                                                          "\xC3\xA9\xC3\xA9"
                                                                                          "a",
                                                                                          "", std::nullopt}));
}

TEST(ScalarFunctionTest, LengthCountsUtf8CodePoints) {
  auto text = Strings({"hello", "h\xC3\xA9llo", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "\xF0\x9F\x98\x80",
                       "", std::nullopt});
  EXPECT_EQ(IntsOf(*Call("length", {text.get()})), (std::vector<OptInt>{5, 5, 3, 1, 0, std::nullopt}));
}

TEST(ScalarFunctionTest, ReplaceSubstitutesNonOverlappingOccurrences) {
  auto text = Strings({"aaa", "hello world", "abc", "abc", "abab"});
  auto from = Strings({"aa", "o", "", "x", "ab"});
  auto to = Strings({"b", "0", "x", "y", ""});
  EXPECT_EQ(StringsOf(*Call("replace", {text.get(), from.get(), to.get()})),
            (std::vector<OptString>{"ba", "hell0 w0rld", "abc", "abc", ""}));
}

TEST(ScalarFunctionTest, LeftAndRightCountCharacters) {
  auto text = Strings({"h\xC3\xA9llo", "hello", "hello", "hi"});
  auto n = Ints({2, -2, 0, 10});
  EXPECT_EQ(StringsOf(*Call("left", {text.get(), n.get()})),
            (std::vector<OptString>{"h\xC3\xA9", "hel", "", "hi"}));
  EXPECT_EQ(StringsOf(*Call("right", {text.get(), n.get()})),
            (std::vector<OptString>{"lo", "llo", "", "hi"}));
  auto extreme = Ints({kInt64Min, kInt64Max, kInt64Min, 1});
  EXPECT_EQ(StringsOf(*Call("left", {text.get(), extreme.get()})),
            (std::vector<OptString>{"", "hello", "", "h"}));
}

TEST(ScalarFunctionTest, SplitPartIsOneBasedAndEmptyOutOfRange) {
  auto text = Strings({"a,b,c", "a,b,c", "a,b,c", "a,b,c", "a,b,c", "a,,c", "a--b--c", "abc", "", "a,b,c"});
  auto delimiter = Strings({",", ",", ",", ",", ",", ",", "--", "", ",", ","});
  auto index = Ints({1, 3, 4, 0, -1, 2, 2, 1, 1, -3});
  EXPECT_EQ(StringsOf(*Call("split_part", {text.get(), delimiter.get(), index.get()})),
            (std::vector<OptString>{"a", "c", "", "", "c", "", "b", "abc", "", "a"}));
}

TEST(ScalarFunctionTest, PositionIsOneBasedInCharactersAndZeroWhenAbsent) {
  auto needle = Strings({"l", "z", "", "lo"});
  auto haystack = Strings({"h\xC3\xA9llo", "hello", "hello", "hello"});
  EXPECT_EQ(IntsOf(*Call("position", {needle.get(), haystack.get()})), (std::vector<OptInt>{3, 0, 1, 4}));
}

// --- math -------------------------------------------------------------------------------

TEST(ScalarFunctionTest, RoundHalfAwayFromZeroLikeSqlite) {
  auto values = Doubles({2.5, -2.5, -0.4, 0.5, 1e300, std::nullopt});
  EXPECT_EQ(DoublesOf(*Call("round", {values.get()})),
            (std::vector<OptDouble>{3.0, -3.0, 0.0, 1.0, 1e300, std::nullopt}));
  // Expected values computed by SQLite 3.40.
  auto x = Doubles({1.005, 2.675, 1.45, -1.45, 123.456, 0.1 + 0.2, 1234567.891, 0.285, 1.0 / 3});
  auto digits = Ints({2, 2, 1, 1, -1, 15, 2, 2, 10});
  EXPECT_EQ(DoublesOf(*Call("round", {x.get(), digits.get()})),
            (std::vector<OptDouble>{1.01, 2.68, 1.5, -1.5, 123.0, 0.3, 1234567.89, 0.29, 0.3333333333}));
}

TEST(ScalarFunctionTest, MathFunctionsReturnNullOutsideTheirDomain) {
  auto x = Doubles({4.0, -4.0, 0.0});
  EXPECT_EQ(DoublesOf(*Call("sqrt", {x.get()})), (std::vector<OptDouble>{2.0, std::nullopt, 0.0}));
  EXPECT_EQ(DoublesOf(*Call("ln", {x.get()})),
            (std::vector<OptDouble>{std::log(4.0), std::nullopt, std::nullopt}));
  EXPECT_EQ(DoublesOf(*Call("log10", {x.get()})),
            (std::vector<OptDouble>{std::log10(4.0), std::nullopt, std::nullopt}));
  EXPECT_EQ(DoublesOf(*Call("exp", {x.get()})), (std::vector<OptDouble>{std::exp(4.0), std::exp(-4.0), 1.0}));
  auto base = Doubles({2.0, -8.0});
  auto exponent = Doubles({10.0, 1.0 / 3});
  EXPECT_EQ(DoublesOf(*Call("power", {base.get(), exponent.get()})),
            (std::vector<OptDouble>{1024.0, std::nullopt}));
  EXPECT_EQ(DoublesOf(*Call("pow", {base.get(), exponent.get()})),
            (std::vector<OptDouble>{1024.0, std::nullopt}));
}

TEST(ScalarFunctionTest, AbsFloorCeilKeepTheArgumentType) {
  auto i = Ints({-3, 4, kInt64Min});
  EXPECT_EQ(IntsOf(*Call("abs", {i.get()})), (std::vector<OptInt>{3, 4, kInt64Min}));
  EXPECT_EQ(IntsOf(*Call("floor", {i.get()})), (std::vector<OptInt>{-3, 4, kInt64Min}));
  EXPECT_EQ(IntsOf(*Call("ceil", {i.get()})), (std::vector<OptInt>{-3, 4, kInt64Min}));
  auto d = Doubles({-2.5, 2.5});
  EXPECT_EQ(DoublesOf(*Call("abs", {d.get()})), (std::vector<OptDouble>{2.5, 2.5}));
  EXPECT_EQ(DoublesOf(*Call("floor", {d.get()})), (std::vector<OptDouble>{-3.0, 2.0}));
  EXPECT_EQ(DoublesOf(*Call("ceil", {d.get()})), (std::vector<OptDouble>{-2.0, 3.0}));
  EXPECT_EQ(DoublesOf(*Call("ceiling", {d.get()})), (std::vector<OptDouble>{-2.0, 3.0}));
}

// --- time -------------------------------------------------------------------------------

TEST(ScalarFunctionTest, ExtractFieldsOfATimestamp) {
  // 2024-03-01 was a Friday, the 61st day of a leap year; -1 ms is 1969-12-31 23:59:59.999,
  // a Wednesday.
  auto ts = Timestamps({Millis("2024-03-01 12:34:56.789"), -1, std::nullopt});
  auto extract = [&](const char* field) {
    return IntsOf(*Call(std::string("extract_") + field, {ts.get()}));
  };
  EXPECT_EQ(extract("year"), (std::vector<OptInt>{2024, 1969, std::nullopt}));
  EXPECT_EQ(extract("quarter"), (std::vector<OptInt>{1, 4, std::nullopt}));
  EXPECT_EQ(extract("month"), (std::vector<OptInt>{3, 12, std::nullopt}));
  EXPECT_EQ(extract("day"), (std::vector<OptInt>{1, 31, std::nullopt}));
  EXPECT_EQ(extract("hour"), (std::vector<OptInt>{12, 23, std::nullopt}));
  EXPECT_EQ(extract("minute"), (std::vector<OptInt>{34, 59, std::nullopt}));
  EXPECT_EQ(extract("second"), (std::vector<OptInt>{56, 59, std::nullopt}));
  EXPECT_EQ(extract("millisecond"), (std::vector<OptInt>{789, 999, std::nullopt}));
  EXPECT_EQ(extract("dow"), (std::vector<OptInt>{5, 3, std::nullopt}));
  EXPECT_EQ(extract("doy"), (std::vector<OptInt>{61, 365, std::nullopt}));
  EXPECT_EQ(extract("epoch"), (std::vector<OptInt>{1709296496, -1, std::nullopt}));
  auto extremes = Timestamps({kInt64Min, kInt64Max});
  EXPECT_EQ(IntsOf(*Call("extract_second", {extremes.get()})).size(), 2u);  // total, no trap
}

TEST(ScalarFunctionTest, DateTruncTruncatesToEachUnit) {
  const int64_t ts = Millis("2024-08-15 13:45:30.500");  // a Thursday in Q3
  const std::vector<std::pair<const char*, const char*>> units = {{"second", "2024-08-15 13:45:30"},
                                                                  {"MINUTE", "2024-08-15 13:45:00"},
                                                                  {"Hour", "2024-08-15 13:00:00"},
                                                                  {"day", "2024-08-15"},
                                                                  {"week", "2024-08-12"},
                                                                  {"month", "2024-08-01"},
                                                                  {"quarter", "2024-07-01"},
                                                                  {"year", "2024-01-01"}};
  std::vector<OptString> names;
  std::vector<OptInt> times;
  std::vector<OptInt> expected;
  for (const auto& [unit, start] : units) {
    names.push_back(unit);
    times.push_back(ts);
    expected.push_back(Millis(start));
  }
  names.push_back("fortnight");
  times.push_back(ts);
  expected.push_back(std::nullopt);
  names.push_back("week");  // before 1970: Thursday 1970-01-01 truncates to Monday 1969-12-29
  times.push_back(0);
  expected.push_back(Millis("1969-12-29"));
  names.push_back("day");
  times.push_back(-1);
  expected.push_back(-86400000);
  names.push_back("second");  // the start would be before INT64_MIN: NULL, no overflow
  times.push_back(kInt64Min);
  expected.push_back(std::nullopt);
  auto unit = Strings(names);
  auto time = Timestamps(times);
  EXPECT_EQ(IntsOf(*Call("date_trunc", {unit.get(), time.get()})), expected);
}

TEST(ScalarFunctionTest, UnixTimestampConversionsRoundDownToSeconds) {
  auto seconds = Ints({1709296496, -1, kInt64Max});
  EXPECT_EQ(IntsOf(*Call("from_unixtime", {seconds.get()})),
            (std::vector<OptInt>{1709296496000, -1000, std::nullopt}));
  auto fractional = Doubles({1.234, -0.0015, std::nan("")});
  EXPECT_EQ(IntsOf(*Call("from_unixtime", {fractional.get()})),
            (std::vector<OptInt>{1234, -2, std::nullopt}));
  auto ts = Timestamps({1999, -1, -1000});
  EXPECT_EQ(IntsOf(*Call("unix_timestamp", {ts.get()})), (std::vector<OptInt>{1, -1, -1}));
}

TEST(ScalarFunctionTest, NowReadsTheClockOncePerCall) {
  const int64_t before = Millis("2024-01-01");
  auto now = Call("now", {}, 3);
  ASSERT_EQ(now->type(), TypeId::kTimestamp);
  const std::vector<OptInt> values = IntsOf(*now);
  ASSERT_TRUE(values[0].has_value());
  EXPECT_GT(*values[0], before);
  EXPECT_EQ(values[1], values[0]);
  EXPECT_EQ(values[2], values[0]);
  auto seconds = Call("unix_timestamp", {}, 1);
  ASSERT_TRUE(IntsOf(*seconds)[0].has_value());
  EXPECT_NEAR(static_cast<double>(*IntsOf(*seconds)[0]), static_cast<double>(*values[0] / 1000), 5.0);
  EXPECT_EQ(Call("current_timestamp", {}, 1)->type(), TypeId::kTimestamp);
}

// --- casts ------------------------------------------------------------------------------

TEST(ScalarFunctionTest, CastStringToNumbersIsNullWhenUnparsable) {
  auto text = Strings({"42", "-7", "12.7", "abc", "", std::nullopt});
  EXPECT_EQ(IntsOf(*Cast(*text, TypeId::kInt64)),
            (std::vector<OptInt>{42, -7, std::nullopt, std::nullopt, std::nullopt, std::nullopt}));
  EXPECT_EQ(DoublesOf(*Cast(*text, TypeId::kDouble)),
            (std::vector<OptDouble>{42.0, -7.0, 12.7, std::nullopt, std::nullopt, std::nullopt}));
  auto booleans = Strings({"true", "FALSE", "1", "yes"});
  EXPECT_EQ(BoolsOf(*Cast(*booleans, TypeId::kBoolean)),
            (std::vector<OptBool>{true, false, true, std::nullopt}));
}

TEST(ScalarFunctionTest, CastDoubleToBigintTruncatesTowardZero) {
  auto values =
      Doubles({2.9, -2.9, std::nan(""), 1e19, -9223372036854775808.0, 9223372036854775808.0, std::nullopt});
  EXPECT_EQ(IntsOf(*Cast(*values, TypeId::kInt64)),
            (std::vector<OptInt>{2, -2, std::nullopt, std::nullopt, kInt64Min, std::nullopt, std::nullopt}));
}

TEST(ScalarFunctionTest, CastNumbersAndBooleansToString) {
  auto ints = Ints({0, -9223372036854775807 - 1, 42, std::nullopt});
  EXPECT_EQ(StringsOf(*Cast(*ints, TypeId::kString)),
            (std::vector<OptString>{"0", "-9223372036854775808", "42", std::nullopt}));
  // Shortest round-trip text, written out (not computed by the formatter under test).
  auto doubles = Doubles({0.1, 1.5, -2.0, 100.0, 1e300, 0.1 + 0.2, -1.25e-7, std::nullopt});
  EXPECT_EQ(StringsOf(*Cast(*doubles, TypeId::kString)),
            (std::vector<OptString>{"0.1", "1.5", "-2", "100", "1e+300", "0.30000000000000004", "-1.25e-07",
                                    std::nullopt}));
  auto booleans = Bools({true, false, std::nullopt});
  EXPECT_EQ(StringsOf(*Cast(*booleans, TypeId::kString)),
            (std::vector<OptString>{"true", "false", std::nullopt}));
  EXPECT_EQ(IntsOf(*Cast(*booleans, TypeId::kInt64)), (std::vector<OptInt>{1, 0, std::nullopt}));
  auto numbers = Ints({0, 5, -1});
  EXPECT_EQ(BoolsOf(*Cast(*numbers, TypeId::kBoolean)), (std::vector<OptBool>{false, true, true}));
  EXPECT_EQ(DoublesOf(*Cast(*numbers, TypeId::kDouble)), (std::vector<OptDouble>{0.0, 5.0, -1.0}));
}

TEST(ScalarFunctionTest, CastTimestampToAndFromStringAndBigint) {
  const int64_t millis = 1709294400250;  // 2024-03-01 12:00:00.250 UTC, written out
  auto ts = Timestamps({millis, std::nullopt});
  EXPECT_EQ(StringsOf(*Cast(*ts, TypeId::kString)),
            (std::vector<OptString>{"2024-03-01T12:00:00.250Z", std::nullopt}));
  EXPECT_EQ(IntsOf(*Cast(*ts, TypeId::kInt64)), (std::vector<OptInt>{millis, std::nullopt}));
  auto text = Strings({"2024-03-01 12:00:00.250", "not a time"});
  EXPECT_EQ(IntsOf(*Cast(*text, TypeId::kTimestamp)), (std::vector<OptInt>{millis, std::nullopt}));
  auto ints = Ints({millis});
  auto back = Cast(*ints, TypeId::kTimestamp);
  EXPECT_EQ(back->type(), TypeId::kTimestamp);
  EXPECT_EQ(IntsOf(*back), (std::vector<OptInt>{millis}));
}

TEST(ScalarFunctionTest, CastIdentityNullAndUnsupportedPairs) {
  auto text = Strings({"a", std::nullopt});
  auto copy = Cast(*text, TypeId::kString);
  EXPECT_EQ(StringsOf(*copy), (std::vector<OptString>{"a", std::nullopt}));
  EXPECT_EQ(text->shared_heap().use_count(), 2);  // the copy pins the input's strings
  auto nulls = Nulls(2);
  for (TypeId to : {TypeId::kBoolean, TypeId::kInt64, TypeId::kDouble, TypeId::kString, TypeId::kTimestamp}) {
    auto out = Cast(*nulls, to);
    EXPECT_FALSE(out->IsValid(0));
    EXPECT_FALSE(out->IsValid(1));
  }
  EXPECT_EQ(GetCastKernel(TypeId::kBoolean, TypeId::kTimestamp), nullptr);
  EXPECT_EQ(GetCastKernel(TypeId::kTimestamp, TypeId::kBoolean), nullptr);
  EXPECT_EQ(GetCastKernel(TypeId::kInt64, TypeId::kNull), nullptr);
}

}  // namespace
}  // namespace sluice
