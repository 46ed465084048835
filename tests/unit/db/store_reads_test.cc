// The decoders of db/store_reads.h on PostgreSQL's text output and on the
// compact answer copies of migration 0004; no database needed.
#include "db/store_reads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace rqs::db::internal {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

TEST(ParseTextArrayTest, ReadsUnquotedQuotedAndEscapedElements) {
  EXPECT_THAT(ParseTextArray("{}"), IsEmpty());
  EXPECT_THAT(ParseTextArray("{yes}"), ElementsAre("yes"));
  EXPECT_THAT(ParseTextArray("{statistic,resampling}"), ElementsAre("statistic", "resampling"));
  // PostgreSQL quotes what holds spaces, braces, commas, quotes, backslashes
  // and the empty string, escaping quotes and backslashes.
  EXPECT_THAT(ParseTextArray(R"({"a b","{x}","c,d","e\"f","g\\h",""})"),
              ElementsAre("a b", "{x}", "c,d", "e\"f", "g\\h", ""));
  EXPECT_THAT(ParseTextArray(R"({"NULL",NULL,z})"), ElementsAre("NULL", "z"));
}

TEST(ParseTextArrayTest, RefusesMalformedAndNestedArrays) {
  for (const char* text :
       {"", "{", "}", "yes", "{a", "{a,}", "{,a}", "{\"a}", "{a}b", "{{a}}", "{\"a\"b}"}) {
    EXPECT_THROW(ParseTextArray(text), std::runtime_error) << text;
  }
}

TEST(ParseIntArrayTest, ReadsIntegersAndRefusesAnythingElse) {
  EXPECT_THAT(ParseIntArray("{}"), IsEmpty());
  EXPECT_THAT(ParseIntArray("{1,-2,42}"), ElementsAre(1, -2, 42));
  for (const char* text : {"", "{1,}", "{1,NULL}", "{x}", "{1", "{99999999999}", "{{1}}"}) {
    EXPECT_THROW(ParseIntArray(text), std::runtime_error) << text;
  }
}

TEST(ParseBoolArrayTest, ReadsFlagsAndRefusesAnythingElse) {
  EXPECT_THAT(ParseBoolArray("{}"), IsEmpty());
  EXPECT_THAT(ParseBoolArray("{t,f,t}"), ElementsAre(true, false, true));
  for (const char* text : {"", "{true}", "{t,}", "{NULL}", "{t"}) {
    EXPECT_THROW(ParseBoolArray(text), std::runtime_error) << text;
  }
}

TEST(ParseAnswerScoresTest, ReadsEveryAnswerInOrderWithoutTexts) {
  EXPECT_THAT(ParseAnswerScores(""), IsEmpty());
  const std::vector<Answer> answers = ParseAnswerScores(
      R"(1 2 {consensus_method} 17 2 {statistic,resampling} 14 2 {} 5 -3 {"a b","}{"})");
  ASSERT_THAT(answers, SizeIs(4));
  EXPECT_EQ(answers[0].criterion, 1);
  EXPECT_EQ(answers[0].points, 2);
  EXPECT_THAT(answers[0].option_ids, ElementsAre("consensus_method"));
  EXPECT_EQ(answers[1].criterion, 17);
  EXPECT_THAT(answers[1].option_ids, ElementsAre("statistic", "resampling"));
  EXPECT_EQ(answers[2].criterion, 14);
  EXPECT_EQ(answers[2].points, 2);
  EXPECT_THAT(answers[2].option_ids, IsEmpty());
  EXPECT_EQ(answers[3].criterion, 5);
  EXPECT_EQ(answers[3].points, -3);
  EXPECT_THAT(answers[3].option_ids, ElementsAre("a b", "}{"));
  for (const Answer& answer : answers) {
    EXPECT_EQ(answer.rationale, "");
    EXPECT_EQ(answer.evidence.page, "");
    EXPECT_EQ(answer.evidence.section, "");
    EXPECT_EQ(answer.evidence.quote, "");
  }
}

TEST(ParseAnswerScoresTest, RefusesMalformedText) {
  for (const char* text : {" ", "1", "1 2", "1 2 ", "1 2 {a} ", "1  2 {a}", "x 2 {a}", "1 y {a}",
                           "1 2 a", "1 2 {a}x", "1 2 {a} 3", "1 2 {\"a}"}) {
    EXPECT_THROW(ParseAnswerScores(text), std::runtime_error) << text;
  }
}

}  // namespace
}  // namespace rqs::db::internal
