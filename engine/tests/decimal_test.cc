// Exact DECIMAL arithmetic (types/decimal.h): text in and out, rounding, overflow and Flink's
// result types. The oracle test (ci/decimal_oracle_test.py) checks the same through SQL against
// Python's decimal module on random values.
#include "types/decimal.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

Int128 Parse(const std::string& text, int precision, int scale) {
  const std::optional<Int128> value = ParseDecimal(text, precision, scale);
  EXPECT_TRUE(value.has_value()) << text;
  return value.value_or(0);
}

std::string Text(std::optional<Int128> value, int scale) {
  return value ? DecimalToString(*value, scale) : "NULL";
}

TEST(DecimalTest, ParsesExactlyAndPrintsEveryDigitOfTheScale) {
  EXPECT_EQ(DecimalToString(Parse("1232733.488", 23, 3), 3), "1232733.488");
  EXPECT_EQ(DecimalToString(Parse("-0.5", 5, 2), 2), "-0.50");
  EXPECT_EQ(DecimalToString(Parse(".5", 5, 2), 2), "0.50");
  EXPECT_EQ(DecimalToString(Parse("  +12  ", 5, 2), 2), "12.00");
  EXPECT_EQ(DecimalToString(Parse("1.25e3", 10, 1), 1), "1250.0");
  EXPECT_EQ(DecimalToString(Parse("125E-3", 10, 3), 3), "0.125");
  EXPECT_EQ(DecimalToString(Parse("0.001", 3, 3), 3), "0.001");
  EXPECT_EQ(DecimalToString(Parse("-0.001", 3, 3), 3), "-0.001");
  EXPECT_EQ(DecimalToString(Parse("42", 2, 0), 0), "42");
  // 38 digits: beyond 64 bits.
  const std::string big = "-12345678901234567890123456789.012345678";
  EXPECT_EQ(DecimalToString(Parse(big, 38, 9), 9), big);
  EXPECT_EQ(DecimalToString(Parse("99999999999999999999999999999999999999", 38, 0), 0),
            "99999999999999999999999999999999999999");
}

TEST(DecimalTest, RoundsHalfUpAwayFromZero) {
  EXPECT_EQ(DecimalToString(Parse("2.345", 5, 2), 2), "2.35");
  EXPECT_EQ(DecimalToString(Parse("-2.345", 5, 2), 2), "-2.35");
  EXPECT_EQ(DecimalToString(Parse("2.3449999", 5, 2), 2), "2.34");
  EXPECT_EQ(DecimalToString(Parse("0.5", 1, 0), 0), "1");
  EXPECT_EQ(DecimalToString(Parse("0.05", 1, 0), 0), "0");
  EXPECT_EQ(Text(RescaleDecimal(12345, 3, 1, 5), 1), "12.3");
  EXPECT_EQ(Text(RescaleDecimal(12350, 3, 1, 5), 1), "12.4");
  EXPECT_EQ(Text(RescaleDecimal(-12350, 3, 1, 5), 1), "-12.4");
  // Java's BigDecimal.valueOf(1.005) is 1.005, which rounds up; its binary value would not.
  EXPECT_EQ(Text(DoubleToDecimal(1.005, 5, 2), 2), "1.01");
  EXPECT_EQ(Text(DoubleToDecimal(-0.125, 5, 2), 2), "-0.13");
}

TEST(DecimalTest, ValuesThatDoNotFitAreNullopt) {
  EXPECT_FALSE(ParseDecimal("1000", 3, 0).has_value());
  EXPECT_FALSE(ParseDecimal("99.995", 4, 2).has_value());  // rounds up to 100.00
  EXPECT_FALSE(ParseDecimal("abc", 10, 2).has_value());
  EXPECT_FALSE(ParseDecimal("1.2.3", 10, 2).has_value());
  EXPECT_FALSE(ParseDecimal("1e", 10, 2).has_value());
  EXPECT_FALSE(ParseDecimal("", 10, 2).has_value());
  EXPECT_FALSE(ParseDecimal("1e400", 38, 0).has_value());
  EXPECT_FALSE(RescaleDecimal(PowerOfTen(17), 0, 2, 18).has_value());
  EXPECT_FALSE(DoubleToDecimal(1.0 / 0.0, 10, 2).has_value());
  EXPECT_EQ(Text(ParseDecimal("1e-400", 38, 2), 2), "0.00");
}

TEST(DecimalTest, ResultTypesFollowFlink) {
  // Nexmark q1: 0.908 * price (a BIGINT) is DECIMAL(23, 3).
  EXPECT_EQ(TypeName(DecimalMultiplyType(DecimalType(3, 3), kBigintAsDecimal)), "DECIMAL(23, 3)");
  EXPECT_EQ(TypeName(DecimalAddType(DecimalType(12, 4), DecimalType(2, 1))), "DECIMAL(13, 4)");
  EXPECT_EQ(TypeName(DecimalDivideType(DecimalType(12, 4), kBigintAsDecimal)), "DECIMAL(32, 24)");
  EXPECT_EQ(TypeName(DecimalDivideType(DecimalType(38, 10), DecimalType(38, 10))), "DECIMAL(38, 6)");
  EXPECT_EQ(TypeName(DecimalMultiplyType(DecimalType(38, 10), DecimalType(38, 10))), "DECIMAL(38, 6)");
  EXPECT_EQ(TypeName(DecimalModuloType(DecimalType(10, 2), DecimalType(5, 3))), "DECIMAL(5, 3)");
  EXPECT_EQ(TypeName(DecimalSumType(DecimalType(12, 4))), "DECIMAL(38, 4)");
  EXPECT_EQ(TypeName(DecimalAverageType(DecimalType(12, 4))), "DECIMAL(38, 6)");
  EXPECT_EQ(TypeName(DecimalAverageType(DecimalType(20, 8))), "DECIMAL(38, 8)");
}

TEST(DecimalTest, OperatorsAreExactBeyond128BitIntermediates) {
  const TypeId wide = DecimalType(38, 10);
  const Int128 a = Parse("1234567890123456789012345678.0123456789", 38, 10);
  const Int128 b = Parse("-0.0000000001", 38, 10);
  EXPECT_EQ(Text(DecimalAdd(a, 10, b, 10, DecimalAddType(wide, wide)), 9),
            "1234567890123456789012345678.012345679");
  const TypeId product = DecimalMultiplyType(wide, wide);  // DECIMAL(38, 6)
  EXPECT_EQ(Text(DecimalMultiply(a, 10, Parse("2.5", 38, 10), 10, product), 6),
            "3086419725308641972530864195.030864");
  const TypeId quotient = DecimalDivideType(wide, wide);  // DECIMAL(38, 6)
  EXPECT_EQ(Text(DecimalDivide(Parse("1", 38, 10), 10, Parse("3", 38, 10), 10, quotient), 6), "0.333333");
  EXPECT_EQ(Text(DecimalDivide(Parse("-2", 38, 10), 10, Parse("3", 38, 10), 10, quotient), 6), "-0.666667");
  EXPECT_FALSE(DecimalDivide(1, 0, 0, 0, quotient).has_value());
  EXPECT_FALSE(DecimalMultiply(a, 10, a, 10, product).has_value());  // 10^55: overflow
  EXPECT_EQ(Text(DecimalModulo(Parse("-7.5", 5, 1), 1, 2, 0,
                               DecimalModuloType(DecimalType(5, 1), DecimalType(1, 0))),
                 1),
            "-1.5");
  EXPECT_EQ(CompareDecimals(Parse("1.10", 5, 2), 2, Parse("1.1", 5, 1), 1), 0);
  EXPECT_EQ(CompareDecimals(a, 10, Parse("1234567890123456789012345678.0123456788", 38, 10), 10), 1);
  EXPECT_EQ(CompareDecimals(Parse("-1", 38, 0), 0, Parse("0.5", 38, 37), 37), -1);
  EXPECT_DOUBLE_EQ(DecimalToDouble(Parse("0.1", 5, 3), 3), 0.1);
}

}  // namespace
}  // namespace sluice
