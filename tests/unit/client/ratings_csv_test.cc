#include "client/ratings_csv.h"

#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// The table's values row by row, with missing entries as -1 so that gmock
// matchers can compare them.
std::vector<double> Values(const CriterionRatings& table) {
  std::vector<double> values;
  for (double value : table.values) values.push_back(std::isnan(value) ? -1.0 : value);
  return values;
}

std::vector<std::string> Ids(const std::vector<uint32_t>& indices,
                             const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (uint32_t index : indices) out.push_back(ids[index]);
  return out;
}

absl::Status ParseError(const std::string& text) { return ParseRatingsCsv(text).status(); }

// gmock's string matchers take std::string; Debian's Abseil has its own
// string_view.
std::string Message(const absl::Status& status) { return std::string(status.message()); }
std::string ErrorOf(const std::string& text) { return Message(ParseError(text)); }

TEST(ParseRatingsCsvTest, BuildsOneDenseTablePerCriterionInOrderOfAppearance) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,alice,c2,1\n"
      "s1,bob,c2,0\n"
      "s1,alice,c1,3\n"
      "s2,bob,c1,2.5\n"
      "s2,alice,c2,-1e1\n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->num_records, 5u);
  EXPECT_THAT(data->study_ids, ElementsAre("s1", "s2"));
  EXPECT_THAT(data->rater_ids, ElementsAre("alice", "bob"));
  ASSERT_EQ(data->criteria.size(), 2u);

  const CriterionRatings& c2 = data->criteria[0];
  EXPECT_EQ(c2.criterion, "c2");
  EXPECT_THAT(Ids(c2.studies, data->study_ids), ElementsAre("s1", "s2"));
  EXPECT_THAT(Ids(c2.raters, data->rater_ids), ElementsAre("alice", "bob"));
  EXPECT_THAT(Values(c2), ElementsAre(1, 0, -10, -1));  // s2/bob has no record.

  const CriterionRatings& c1 = data->criteria[1];
  EXPECT_EQ(c1.criterion, "c1");
  EXPECT_THAT(Ids(c1.studies, data->study_ids), ElementsAre("s1", "s2"));
  EXPECT_THAT(Ids(c1.raters, data->rater_ids), ElementsAre("alice", "bob"));
  EXPECT_THAT(Values(c1), ElementsAre(3, -1, -1, 2.5));
  EXPECT_TRUE(c1.missing(0, 1));
  EXPECT_FALSE(c1.missing(1, 1));
  EXPECT_EQ(c1.at(1, 1), 2.5);
}

TEST(ParseRatingsCsvTest, ColumnsInAnyOrderAndExtraColumnsIgnored) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "note,Value,criterion,rater,study\n"
      "hello,4,c,r1,s1\n"
      "\"x,y\",5,c,r2,s1\n");
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->criteria.size(), 1u);
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(4, 5));
  EXPECT_THAT(data->rater_ids, ElementsAre("r1", "r2"));
}

TEST(ParseRatingsCsvTest, EmptyValueIsMissing) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,c,\n"
      "s1,r2,c,  \n"
      "s1,r3,c,\"\"\n"
      "s1,r4,c,7\n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(-1, -1, -1, 7));
}

TEST(ParseRatingsCsvTest, HandlesRfc4180Quoting) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "\"study\",\"rater\",\"criterion\",\"value\"\n"
      "\"Smith, 2020\",\"Dr \"\"Q\"\"\",\"multi\nline\",\"2\"\n"
      "\"\"\"a\"\"\",\"b\"\"\"\"c\",x,\" 3 \"\n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(data->study_ids, ElementsAre("Smith, 2020", "\"a\""));
  EXPECT_THAT(data->rater_ids, ElementsAre("Dr \"Q\"", "b\"\"c"));
  ASSERT_EQ(data->criteria.size(), 2u);
  EXPECT_EQ(data->criteria[0].criterion, "multi\nline");
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(2));
  EXPECT_THAT(Values(data->criteria[1]), ElementsAre(3));
}

TEST(ParseRatingsCsvTest, HandlesCrlfBomAndBlankLines) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "\xEF\xBB\xBFstudy,rater,criterion,value\r\n"
      "s1,r1,c,1\r\n"
      "\r\n"
      "s1,r2,c,2\r\n"
      "\r\n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(data->study_ids, ElementsAre("s1"));
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(1, 2));
}

TEST(ParseRatingsCsvTest, LastRecordNeedsNoLineEnd) {
  const absl::StatusOr<RatingsData> data =
      ParseRatingsCsv("study,rater,criterion,value\ns1,r1,c,1\ns1,r2,c,2");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(1, 2));
}

TEST(ParseRatingsCsvTest, AcceptsNumberSpellings) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,c,+2\n"
      "s1,r2,c,.5\n"
      "s1,r3,c,1E2\n"
      "s1,r4,c,\t-0.25 \n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(2, 0.5, 100, -0.25));
}

TEST(ParseRatingsCsvTest, MissingHeaderColumnNamesLineAndColumn) {
  const absl::Status status = ParseError("study,rater,score\ns1,r1,1\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), StartsWith("line 1: "));
  EXPECT_THAT(Message(status), HasSubstr("'criterion', 'value'"));
}

TEST(ParseRatingsCsvTest, HeaderAfterBlankLinesReportsItsOwnLine) {
  const absl::Status status = ParseError("\n\nstudy,rater,value\n");
  EXPECT_THAT(Message(status), StartsWith("line 3: "));
  EXPECT_THAT(Message(status), HasSubstr("'criterion'"));
}

TEST(ParseRatingsCsvTest, ColumnNamedTwiceIsAnError) {
  const absl::Status status = ParseError("study,rater,criterion,value,value\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), StartsWith("line 1: "));
  EXPECT_THAT(Message(status), HasSubstr("'value' appears twice"));
}

TEST(ParseRatingsCsvTest, ValueThatIsNotANumberNamesLine) {
  for (const char* bad : {"abc", "1,5", "2x", "nan", "inf", "0x10", "--1", "+-1", "1 2", "NA"}) {
    const absl::Status status = ParseError(
        "study,rater,criterion,value\n"
        "s1,r1,c,1\n"
        "s1,r2,c,\"" +
        std::string(bad) + "\"\n");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(Message(status), StartsWith("line 3: ")) << bad;
    EXPECT_THAT(Message(status), HasSubstr("is not a number")) << bad;
  }
}

TEST(ParseRatingsCsvTest, LongBadValueIsShortenedInTheMessage) {
  const std::string status =
      ErrorOf("study,rater,criterion,value\ns1,r1,c," + std::string(1000, 'x') + "\n");
  EXPECT_THAT(status, HasSubstr("value '" + std::string(40, 'x') + "...' is not a number"));
  EXPECT_LT(status.size(), 200u);
}

TEST(ParseRatingsCsvTest, DuplicateRatingNamesBothLines) {
  const absl::Status status = ParseError(
      "study,rater,criterion,value\n"
      "s1,r1,c,1\n"
      "s1,r2,c,2\n"
      "s1,r1,d,1\n"
      "s1,r1,c,3\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), StartsWith("line 5: duplicate rating"));
  EXPECT_THAT(Message(status), HasSubstr("study 's1', rater 'r1', criterion 'c'"));
  EXPECT_THAT(Message(status), HasSubstr("already rated on line 2"));
}

TEST(ParseRatingsCsvTest, DuplicateOfMissingValueIsStillADuplicate) {
  const absl::Status status = ParseError("study,rater,criterion,value\ns1,r1,c,\ns1,r1,c,\n");
  EXPECT_THAT(Message(status), StartsWith("line 3: duplicate rating"));
}

TEST(ParseRatingsCsvTest, EarliestProblemIsReported) {
  // The duplicate on line 4 comes before the bad number on line 5 ...
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\n"
                      "s1,r1,c,1\n"
                      "s1,r1,d,1\n"
                      "s1,r1,c,1\n"
                      "s1,r2,c,x\n"),
              StartsWith("line 4: duplicate"));
  // ... and the bad number on line 3 before the duplicate on line 4, even
  // though duplicates are only found after reading.
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\n"
                      "s1,r1,c,1\n"
                      "s1,r2,c,x\n"
                      "s1,r1,c,1\n"),
              StartsWith("line 3: "));
  // Among duplicates in different criteria, the earlier line wins.
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\n"
                      "s1,r1,a,1\n"
                      "s1,r1,b,1\n"
                      "s1,r1,b,1\n"
                      "s1,r1,a,1\n"),
              StartsWith("line 4: duplicate"));
}

TEST(ParseRatingsCsvTest, EmptyInputIsAnError) {
  for (const char* empty : {"", "\xEF\xBB\xBF", "\n\n", "\r\n"}) {
    const absl::Status status = ParseError(empty);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(status), StartsWith("line 1: the file is empty"));
  }
}

TEST(ParseRatingsCsvTest, HeaderWithoutRatingsIsAnError) {
  const absl::Status status = ParseError("study,rater,criterion,value\n\n");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(status), StartsWith("line 1: no ratings"));
}

TEST(ParseRatingsCsvTest, ShortRecordNamesLine) {
  const absl::Status status =
      ParseError("study,rater,criterion,value\ns1,r1,c,1\ns1,r2,c\ns1,r3,c,1\n");
  EXPECT_THAT(Message(status), StartsWith("line 3: expected at least 4 fields, found 3"));
}

TEST(ParseRatingsCsvTest, EmptyIdNamesLineAndColumn) {
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\n,r1,c,1\n"),
              StartsWith("line 2: empty study id"));
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\ns1,\" \",c,1\n"),
              StartsWith("line 2: empty rater id"));
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\ns1,r1,,1\n"),
              StartsWith("line 2: empty criterion id"));
}

TEST(ParseRatingsCsvTest, LineNumbersCountLinesInsideQuotedFields) {
  const absl::Status status = ParseError(
      "study,rater,criterion,value\n"
      "\"s\n1\",r1,c,1\n"
      "s2,r1,c,bad\n");
  EXPECT_THAT(Message(status), StartsWith("line 4: "));
}

TEST(ParseRatingsCsvTest, MalformedQuotingIsAnError) {
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\ns1,r1,c,1\ns1,\"r2,c,1\n"),
              StartsWith("line 3: quoted field is never closed"));
  EXPECT_THAT(ErrorOf("study,rater,criterion,value\ns1,\"r1\"x,c,1\n"),
              StartsWith("line 2: unexpected text after the closing quote"));
}

TEST(ReadRatingsCsvTest, ReadsStream) {
  std::istringstream input("study,rater,criterion,value\ns1,r1,c,1\n");
  const absl::StatusOr<RatingsData> data = ReadRatingsCsv(input);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_THAT(Values(data->criteria[0]), ElementsAre(1));
}

TEST(ReadRatingsCsvFileTest, MissingFileIsNotFound) {
  const absl::StatusOr<RatingsData> data = ReadRatingsCsvFile("/nonexistent/ratings.csv");
  EXPECT_EQ(data.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(data.status()), HasSubstr("/nonexistent/ratings.csv"));
}

TEST(ComputeTotalTest, SumsCriteriaPerStudyAndRater) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,a,1\n"
      "s1,r2,a,2\n"
      "s2,r1,a,3\n"
      "s2,r2,a,4\n"
      "s1,r1,b,10\n"
      "s1,r2,b,20\n"
      "s2,r1,b,30\n"
      "s2,r2,b,40\n");
  ASSERT_TRUE(data.ok()) << data.status();
  const CriterionRatings total = ComputeTotal(*data);
  EXPECT_EQ(total.criterion, "total");
  EXPECT_THAT(Ids(total.studies, data->study_ids), ElementsAre("s1", "s2"));
  EXPECT_THAT(Ids(total.raters, data->rater_ids), ElementsAre("r1", "r2"));
  EXPECT_THAT(Values(total), ElementsAre(11, 22, 33, 44));
}

TEST(ComputeTotalTest, TotalIsMissingWhenAnyPartIsMissing) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,a,1\n"
      "s1,r2,a,\n"  // Empty value.
      "s2,r1,a,3\n"
      "s2,r2,a,4\n"
      "s1,r1,b,10\n"
      "s1,r2,b,20\n"
      "s2,r2,b,40\n"   // No record for s2/r1/b.
      "s3,r1,b,5\n");  // s3 has no criterion a at all.
  ASSERT_TRUE(data.ok()) << data.status();
  const CriterionRatings total = ComputeTotal(*data);
  EXPECT_THAT(Ids(total.studies, data->study_ids), ElementsAre("s1", "s2", "s3"));
  EXPECT_THAT(Values(total), ElementsAre(11, -1, -1, 44, -1, -1));
}

// Found by fuzz_ratings_csv: finite ratings whose sum overflows must leave the
// total missing rather than make the whole file fail.
TEST(ComputeTotalTest, TotalIsMissingWhenTheSumOverflows) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,a,1e308\n"
      "s1,r1,b,1e308\n"
      "s2,r1,a,1\n"
      "s2,r1,b,2\n");
  ASSERT_TRUE(data.ok()) << data.status();
  const CriterionRatings total = ComputeTotal(*data);
  EXPECT_THAT(Values(total), ElementsAre(-1, 3));
}

TEST(ParseRatingsCsvTest, RecordsEachCriterionsFirstLine) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "\n"
      "s1,r1,a,1\n"
      "s1,r2,a,1\n"
      "s1,r1,b,1\n");
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->criteria[0].first_line, 3u);
  EXPECT_EQ(data->criteria[1].first_line, 5u);
  EXPECT_EQ(ComputeTotal(*data).first_line, 0u);
}

TEST(ToAgreementTableTest, LabelsRowsAndColumnsAndKeepsMissingAsNullopt) {
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(
      "study,rater,criterion,value\n"
      "s1,r1,a,1\n"
      "s1,r2,a,\n"
      "s2,r2,a,3\n"
      "s2,r3,b,9\n");
  ASSERT_TRUE(data.ok()) << data.status();
  const scoring::RatingsTable table = ToAgreementTable(*data, data->criteria[0]);
  EXPECT_THAT(table.subject_labels, ElementsAre("s1", "s2"));
  EXPECT_THAT(table.rater_labels, ElementsAre("r1", "r2"));  // r3 never rated criterion a.
  ASSERT_EQ(table.ratings.size(), 2u);
  EXPECT_THAT(table.ratings[0], ElementsAre(1.0, std::nullopt));
  EXPECT_THAT(table.ratings[1], ElementsAre(std::nullopt, 3.0));
  EXPECT_TRUE(scoring::ValidateRatingsTable(table).ok());
}

TEST(ParseRatingsCsvTest, ParsesManyRecords) {
  // Functional check on a larger input (no timing: that is the benchmark's
  // job): 2,000 studies x 5 raters x 3 criteria.
  std::string text = "study,rater,criterion,value\n";
  for (int study = 0; study < 2000; ++study) {
    for (int criterion = 0; criterion < 3; ++criterion) {
      for (int rater = 0; rater < 5; ++rater) {
        text += "s" + std::to_string(study) + ",r" + std::to_string(rater) + ",c" +
                std::to_string(criterion) + "," + std::to_string((study + rater) % 4) + "\n";
      }
    }
  }
  const absl::StatusOr<RatingsData> data = ParseRatingsCsv(text);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(data->num_records, 30000u);
  ASSERT_EQ(data->criteria.size(), 3u);
  for (const CriterionRatings& table : data->criteria) {
    EXPECT_EQ(table.num_subjects(), 2000u);
    EXPECT_EQ(table.num_raters(), 5u);
    EXPECT_EQ(table.at(1999, 4), (1999 + 4) % 4);
  }
  const CriterionRatings total = ComputeTotal(*data);
  EXPECT_EQ(total.at(7, 2), 3 * ((7 + 2) % 4));
}

}  // namespace
}  // namespace rqs::client
