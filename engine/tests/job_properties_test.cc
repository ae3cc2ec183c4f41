// WITH properties: substitution, durations and key validation.
#include "plan/job_properties.h"

#include <gtest/gtest.h>

#include "sql/parser.h"

namespace sluice {
namespace {

absl::StatusOr<JobProperties> Collect(const std::string& with, std::map<std::string, std::string> variables) {
  auto job = ParseJob("SELECT a FROM s WITH (" + with + ")");
  if (!job.ok()) return job.status();
  SubstitutionContext context;
  context.variables = std::move(variables);
  context.use_environment = false;
  return JobProperties::Collect(*job, context);
}

TEST(JobPropertiesTest, SubstitutesVariablesAndDefaults) {
  auto properties =
      Collect("'s.path' = '${DIR}/in.jsonl', 's.format' = '${FORMAT:json}'", {{"DIR", "/data"}});
  ASSERT_TRUE(properties.ok()) << properties.status().message();
  EXPECT_EQ(properties->Find("s.path")->value, "/data/in.jsonl");
  EXPECT_EQ(properties->Find("s.format")->value, "json");
}

TEST(JobPropertiesTest, SetValueBeatsDefault) {
  auto properties = Collect("'s.format' = '${FORMAT:json}'", {{"FORMAT", "csv"}});
  ASSERT_TRUE(properties.ok());
  EXPECT_EQ(properties->Find("s.format")->value, "csv");
}

TEST(JobPropertiesTest, MissingVariableIsAnErrorAtTheValue) {
  auto properties = Collect("'s.path' = '${NOPE}'", {});
  ASSERT_FALSE(properties.ok());
  EXPECT_NE(std::string(properties.status().message()).find("line 1, column 34: variable 'NOPE' is not set"),
            std::string::npos)
      << properties.status().message();
}

TEST(JobPropertiesTest, ParsesDurations) {
  EXPECT_EQ(ParseDurationText("500ms"), 500);
  EXPECT_EQ(ParseDurationText("5s"), 5000);
  EXPECT_EQ(ParseDurationText("2 minutes"), 120000);
  EXPECT_EQ(ParseDurationText("1h"), 3600000);
  EXPECT_EQ(ParseDurationText("INTERVAL '1' DAY"), 86400000);
  EXPECT_EQ(ParseDurationText("250"), 250);
  EXPECT_EQ(ParseDurationText("soon"), std::nullopt);
  EXPECT_EQ(ParseDurationText("5 fortnights"), std::nullopt);
}

TEST(JobPropertiesTest, ParsesByteSizesInPowersOf1024) {
  EXPECT_EQ(ParseByteSize("1048576"), 1048576u);
  EXPECT_EQ(ParseByteSize("17B"), 17u);
  EXPECT_EQ(ParseByteSize("64k"), 65536u);
  EXPECT_EQ(ParseByteSize("512MB"), 512u << 20);
  EXPECT_EQ(ParseByteSize(" 2 GiB "), 2ull << 30);
  EXPECT_EQ(ParseByteSize("1tb"), 1ull << 40);
  EXPECT_EQ(ParseByteSize("8388608T"), 1ull << 63);
  EXPECT_EQ(ParseByteSize("8388609T"), std::nullopt);
  EXPECT_EQ(ParseByteSize("0"), std::nullopt);
  EXPECT_EQ(ParseByteSize("-5MB"), std::nullopt);
  EXPECT_EQ(ParseByteSize("MB"), std::nullopt);
  EXPECT_EQ(ParseByteSize("5 PB"), std::nullopt);
  EXPECT_EQ(ParseByteSize("5 megs"), std::nullopt);
  EXPECT_EQ(ParseByteSize("99999999999999999999"), std::nullopt);
}

TEST(JobPropertiesTest, ValidateAcceptsKnownScopedAndJobKeys) {
  auto job = ParseJob(
      "SELECT a FROM s WITH ('s.type' = 'kafka_source', 'event.time.field' = 'a', "
      "'s.properties.fetch.min.bytes' = '1')");
  ASSERT_TRUE(job.ok());
  auto properties = JobProperties::Collect(*job, SubstitutionContext{});
  ASSERT_TRUE(properties.ok());
  EXPECT_TRUE(properties->Validate(job->source, {"s"}).ok());
  EXPECT_FALSE(properties->Validate(job->source, {"other"}).ok());
}

TEST(JobPropertiesTest, ValidateChecksKeysAgainstTheConnectorType) {
  auto job = ParseJob(
      "SELECT a FROM s WITH ('s.type' = 'file_source', 's.path' = 'x.jsonl',\n"
      "  's.topic' = 'trades', 's.properties.fetch.min.bytes' = '1')");
  ASSERT_TRUE(job.ok());
  auto properties = JobProperties::Collect(*job, SubstitutionContext{});
  ASSERT_TRUE(properties.ok());
  SqlErrorList errors;
  properties->Validate(job->source, {"s"}, errors);
  // Every offending key, in the order of the text, at its position, named against the type.
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(
      std::string(errors.errors()[0].message())
          .rfind(
              "line 2, column 3: property 's.topic' does not apply to a file_source (its keys: type, path,",
              0),
      0u)
      << errors.errors()[0].message();
  EXPECT_EQ(std::string(errors.errors()[1].message())
                .rfind("line 2, column 25: property 's.properties.fetch.min.bytes' does "
                       "not apply to a file_source (its keys: type, path,",
                       0),
            0u)
      << errors.errors()[1].message();
  // The first-error form returns the first of them.
  EXPECT_EQ(properties->Validate(job->source, {"s"}), errors.first());
}

}  // namespace
}  // namespace sluice
