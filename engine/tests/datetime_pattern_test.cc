// DateTimePattern (types/datetime_pattern.h) against an independent oracle: the C library's
// gmtime_r and strftime, which compute the calendar by their own code, over timestamps spread
// across five centuries; and Parse as the inverse of Format.
#include "types/datetime_pattern.h"

#include <gtest/gtest.h>

#include <ctime>
#include <random>
#include <string>

namespace sluice {
namespace {

std::string Strftime(int64_t epoch_millis, const char* format) {
  const int64_t seconds = epoch_millis >= 0 ? epoch_millis / 1000 : -((-epoch_millis + 999) / 1000);
  const time_t t = static_cast<time_t>(seconds);
  struct tm civil;
  gmtime_r(&t, &civil);
  char text[128];
  const size_t length = strftime(text, sizeof(text), format, &civil);
  return std::string(text, length);
}

TEST(DateTimePatternTest, FormatAgreesWithStrftime) {
  // Each pattern beside the strftime format that spells the same text (the C locale's names).
  const std::pair<const char*, const char*> pairs[] = {
      {"yyyy-MM-dd HH:mm:ss", "%Y-%m-%d %H:%M:%S"},
      {"EEE, dd MMM yyyy", "%a, %d %b %Y"},
      {"EEEE d MMMM", "%A %e %B"},
      {"DDD u", "%j %u"},
      {"hh:mm a", "%I:%M %p"},
      {"yy/MM/dd", "%y/%m/%d"},
      {"'T'HH'h'", "T%Hh"},
  };
  std::mt19937_64 random(7);
  // 1600-01-01 to 2399-12-31, and the edges of days, months and leap years.
  std::uniform_int_distribution<int64_t> millis(-11676096000000, 13569465599999);
  std::vector<int64_t> times = {0, -1, 951782400000 /* 2000-02-29 */, 4107456000000 /* 2100-02-28 */,
                                1767225599999 /* 2025-12-31T23:59:59.999 */};
  for (int i = 0; i < 20000; ++i) times.push_back(millis(random));
  for (const auto& [pattern, format] : pairs) {
    auto compiled = DateTimePattern::Compile(pattern);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    for (int64_t t : times) {
      std::string expected = Strftime(t, format);
      if (std::string(format).find("%e") != std::string::npos && expected.find("  ") != std::string::npos) {
        expected.replace(expected.find("  "), 2, " ");  // %e pads the day with a space; d does not
      }
      ASSERT_EQ(compiled->Format(t), expected) << pattern << " at " << t;
      ASSERT_LE(compiled->Format(t).size(), compiled->max_length());
    }
  }
}

TEST(DateTimePatternTest, FractionDigitsAreMillisecondsThenZeros) {
  const int64_t t = 1767251109123;  // 2026-01-01T07:05:09.123Z
  EXPECT_EQ(DateTimePattern::Compile("ss.S")->Format(t), "09.1");
  EXPECT_EQ(DateTimePattern::Compile("ss.SSS")->Format(t), "09.123");
  EXPECT_EQ(DateTimePattern::Compile("ss.SSSSSS")->Format(t), "09.123000");
  EXPECT_EQ(DateTimePattern::Compile("HH:mm Z X z")->Format(t), "07:05 +0000 Z UTC");
  EXPECT_EQ(DateTimePattern::Compile("k K")->Format(1767225600000), "24 0");  // midnight
  EXPECT_EQ(DateTimePattern::Compile("yyyy")->Format(-62167219200001), "-0001");
}

TEST(DateTimePatternTest, ParseInvertsFormat) {
  const char* patterns[] = {"yyyy-MM-dd HH:mm:ss.SSS", "yyyyMMddHHmmssSSS", "dd MMMM yyyy hh:mm:ss.SSS a",
                            "EEE MMM d HH:mm:ss.SSS yyyy", "yyyy DDD HH mm ss SSS"};
  std::mt19937_64 random(11);
  std::uniform_int_distribution<int64_t> millis(0, 13569465599999);  // 1970 to 2399
  for (const char* pattern : patterns) {
    auto compiled = DateTimePattern::Compile(pattern);
    ASSERT_TRUE(compiled.ok()) << compiled.status();
    for (int i = 0; i < 5000; ++i) {
      const int64_t t = millis(random);
      const std::string text = compiled->Format(t);
      ASSERT_EQ(compiled->Parse(text), t) << pattern << ": " << text;
    }
  }
}

TEST(DateTimePatternTest, ParseRejectsWhatDoesNotMatch) {
  auto pattern = DateTimePattern::Compile("yyyy-MM-dd HH:mm");
  ASSERT_TRUE(pattern.ok());
  EXPECT_EQ(pattern->Parse("2024-02-29 23:59"), 1709251140000);
  EXPECT_EQ(pattern->Parse("2023-02-29 10:00"), std::nullopt);  // not a leap year
  EXPECT_EQ(pattern->Parse("2024-13-01 10:00"), std::nullopt);
  EXPECT_EQ(pattern->Parse("2024-01-01 24:00"), std::nullopt);
  EXPECT_EQ(pattern->Parse("2024-01-01 10:00 "), std::nullopt);  // text left over
  EXPECT_EQ(pattern->Parse("2024-01-01"), std::nullopt);
  EXPECT_EQ(pattern->Parse(""), std::nullopt);
  EXPECT_EQ(DateTimePattern::Compile("yyyy-MM-dd HH:mmZ")->Parse("2024-01-01 10:00+0130"), 1704097800000);
  EXPECT_EQ(DateTimePattern::Compile("yy-M-d")->Parse("24-3-1"), 1709251200000);
}

TEST(DateTimePatternTest, CompileNamesWhatItRefuses) {
  auto week = DateTimePattern::Compile("yyyy-ww");
  ASSERT_FALSE(week.ok());
  EXPECT_NE(week.status().message().find("letter 'w' is not supported"), std::string::npos) << week.status();
  auto quote = DateTimePattern::Compile("HH 'o''clock");
  ASSERT_FALSE(quote.ok());
  EXPECT_NE(quote.status().message().find("unterminated quote"), std::string::npos) << quote.status();
  EXPECT_EQ(DateTimePattern::Compile("HH 'o''clock'")->Format(3600000), "01 o'clock");
}

}  // namespace
}  // namespace sluice
