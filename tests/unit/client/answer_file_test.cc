#include "client/answer_file.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::string& json) {
  const absl::StatusOr<scoring::ScoreReport> report = ScoreAnswerFile(json);
  EXPECT_FALSE(report.ok()) << json;
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument) << json;
  return std::string(report.status().message());
}

TEST(ParseAnswerFileTest, ReadsEveryField) {
  const absl::StatusOr<AnswerFile> file = ParseAnswerFile(R"({
    "instrument": "rqs2", "study_type": "DLR", "target_rrl": 4, "level_threshold": 60.5,
    "study": "Example", "comment": "c",
    "answers": [
      {"criterion": 1, "option": "consensus_method", "rationale": "Delphi", "evidence": "p. 2"},
      {"criterion": 17, "options": ["statistic"]},
      {"criterion": 14, "points": 2.0},
      {"criterion": 15, "option": null, "name": "Single-centre validation", "hint": "..."}
    ]})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->instrument->id, "rqs2");
  EXPECT_EQ(file->request.study_type, scoring::StudyType::kDeepLearning);
  EXPECT_EQ(file->request.target_level, 4);
  EXPECT_DOUBLE_EQ(file->request.level_threshold_percent, 60.5);
  ASSERT_EQ(file->request.answers.size(), 4u);
  EXPECT_EQ(*file->request.answers[0].option_ids, std::vector<std::string>{"consensus_method"});
  EXPECT_EQ(file->request.answers[2].points, 2);
  EXPECT_FALSE(file->request.answers[3].option_ids.has_value());
  EXPECT_FALSE(file->request.answers[3].points.has_value());
}

TEST(ParseAnswerFileTest, DefaultsTargetAndThreshold) {
  const absl::StatusOr<scoring::ScoreReport> report =
      ScoreAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR", "answers": []})");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->target_level, 9);
  EXPECT_DOUBLE_EQ(report->level_threshold_percent, 50);
}

TEST(ScoreAnswerFileTest, MalformedJsonAndWrongTypes) {
  EXPECT_THAT(ErrorOf("{\"instrument\": "), HasSubstr("malformed JSON"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("malformed JSON"));
  EXPECT_THAT(ErrorOf("[]"), HasSubstr("expected a JSON object at the top level, got array"));
  EXPECT_THAT(ErrorOf(R"({"instrument": 2, "study_type": "HCR"})"),
              HasSubstr("instrument: expected a string, got number"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "target_rrl": "9"})"),
              HasSubstr("target_rrl: expected an integer, got string"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "target_rrl": 2.5})"),
              HasSubstr("target_rrl: expected an integer, got 2.5"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "level_threshold": "50%"})"),
              HasSubstr("level_threshold: expected a number"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "answers": {}})"),
              HasSubstr("answers: expected a list, got object"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "answers": [3]})"),
              HasSubstr("answers[0]: expected an object, got number"));
  EXPECT_THAT(
      ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "answers": [{"option": "yes"}]})"),
      HasSubstr("answers[0]: missing field 'criterion'"));
  EXPECT_THAT(
      ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "answers": [{"criterion": "2"}]})"),
      HasSubstr("answers[0].criterion: expected an integer, got string"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 2, "points": true}]})"),
              HasSubstr("answers[0] (criterion 2).points: expected an integer, got boolean"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 20, "options": "code"}]})"),
              HasSubstr("answers[0] (criterion 20).options: expected a list of option ids"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 20, "options": ["code", 1]}]})"),
              HasSubstr("answers[0] (criterion 20).options[1]: expected a string, got number"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 2, "rationale": 5}]})"),
              HasSubstr("(criterion 2).rationale: expected a string"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 2, "option": "yes", "options": ["yes"]}]})"),
              HasSubstr("(criterion 2): give 'option' or 'options', not both"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 99999999999}]})"),
              HasSubstr("answers[0].criterion: integer out of range"));
}

TEST(ScoreAnswerFileTest, UnknownFieldsAreErrorsNotIgnored) {
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "target_rll": 5})"),
              HasSubstr("target_rll: unknown field"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 2, "opton": "yes"}]})"),
              HasSubstr("answers[0].opton: unknown field"));
}

TEST(ScoreAnswerFileTest, MissingOrUnknownInstrumentAndStudyType) {
  EXPECT_THAT(ErrorOf(R"({"study_type": "HCR"})"), HasSubstr("instrument: missing"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs3", "study_type": "HCR"})"),
              HasSubstr("instrument: unknown instrument 'rqs3' (known: rqs2, rqs1)"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2"})"), HasSubstr("study_type: missing"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "CNN"})"),
              HasSubstr("study_type: unknown study type 'CNN' (known: HCR, DLR, HYBRID)"));
}

TEST(ScoreAnswerFileTest, RubricErrorsComeFromTheScoringEngine) {
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR",
                          "answers": [{"criterion": 14, "points": 1}]})"),
              HasSubstr("criterion 14: points 1 cannot be awarded (possible: 0, 2)"));
  EXPECT_THAT(ErrorOf(R"({"instrument": "rqs2", "study_type": "HCR", "target_rrl": 10})"),
              HasSubstr("target_rrl 10 is outside 1-9"));
}

TEST(ScoreReportToJsonTest, HasTheDocumentedShape) {
  const scoring::ScoreReport rqs2 = *ScoreAnswerFile(
      R"({"instrument": "rqs2", "study_type": "HCR", "target_rrl": 2,
          "answers": [{"criterion": 1, "option": "consensus_method"}]})");
  const nlohmann::ordered_json json = ScoreReportToJson(rqs2);
  EXPECT_EQ(json["instrument"], "rqs2");
  EXPECT_EQ(json["study_type"], "HCR");
  EXPECT_EQ(json["target_rrl"], 2);
  EXPECT_EQ(json["total"], 2);
  EXPECT_EQ(json["max"], 12);
  EXPECT_EQ(json["attained_rrl"], 0);
  ASSERT_EQ(json["levels"].size(), 2u);
  EXPECT_EQ(json["levels"][1]["rrl"], 2);
  EXPECT_EQ(json["levels"][1]["cumulative_max"], 12);
  for (const char* key : {"points", "max", "percent", "cumulative_points", "cumulative_percent"}) {
    EXPECT_TRUE(json["levels"][0].contains(key)) << key;
  }
  const nlohmann::ordered_json rqs1 =
      ScoreReportToJson(*ScoreAnswerFile(R"({"instrument": "rqs1", "study_type": "HCR"})"));
  EXPECT_EQ(rqs1["min"], -8);
  EXPECT_EQ(rqs1["total"], -8);
  EXPECT_FALSE(rqs1.contains("levels"));
  EXPECT_TRUE(rqs1["attained_rrl"].is_null());
}

}  // namespace
}  // namespace rqs::client

namespace rqs::client {
namespace {

TEST(ParseAnswerFileTest, KeepsRationaleEvidenceAndIds) {
  const absl::StatusOr<AnswerFile> file = ParseAnswerFile(R"({
    "instrument": "rqs2", "study_type": "HCR", "review_id": 3, "study_id": 12,
    "answers": [
      {"criterion": 2, "option": "yes", "rationale": "Scanner named", "evidence": "Methods"},
      {"criterion": 4, "option": "yes",
       "evidence": {"page": "4", "section": "Patients", "quote": "We included"}},
      {"criterion": 5, "rrl": 1, "name": "Diversity", "hint": "..."}
    ]})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->review_id, 3);
  EXPECT_EQ(file->study_id, 12);
  ASSERT_EQ(file->notes.size(), 3u);
  EXPECT_EQ(file->notes[0].rationale, "Scanner named");
  EXPECT_EQ(file->notes[0].evidence.section, "Methods");
  EXPECT_EQ(file->notes[1].evidence.page, "4");
  EXPECT_EQ(file->notes[1].evidence.quote, "We included");
  EXPECT_EQ(file->notes[2].rationale, "");
}

TEST(ParseAnswerFileTest, RejectsBadEvidenceAndIds) {
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "answers": [{"criterion": 2, "evidence": 4}]})")
                              .status()
                              .message()),
              testing::HasSubstr("(criterion 2).evidence: expected a string or an object"));
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "answers": [{"criterion": 2, "evidence": {"line": 4}}]})")
                              .status()
                              .message()),
              testing::HasSubstr("(criterion 2).evidence.line: unknown field"));
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "study_id": "12"})")
                              .status()
                              .message()),
              testing::HasSubstr("study_id: expected a positive integer id"));
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "study": 5})")
                              .status()
                              .message()),
              testing::HasSubstr("study: expected a string, got number"));
}

}  // namespace
}  // namespace rqs::client

namespace rqs::client {
namespace {

// Found by fuzz_answer_file: nlohmann::json reports a number beyond the range
// of double as out_of_range, not parse_error; it must not escape.
TEST(ScoreAnswerFileTest, NumberBeyondDoubleIsMalformedJson) {
  const absl::StatusOr<scoring::ScoreReport> report =
      ScoreAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR", "level_threshold": 1e400})");
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(report.status().message()), testing::HasSubstr("malformed JSON"));
}

}  // namespace
}  // namespace rqs::client

namespace rqs::client {
namespace {

// `rqs feedback --template` writes the Delphi round the file is for.
TEST(ParseAnswerFileTest, ReadsTheRound) {
  absl::StatusOr<AnswerFile> file =
      ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR", "round": 2})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->round, 2);
  file = ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR"})");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_FALSE(file->round.has_value());
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "round": 0})")
                              .status()
                              .message()),
              testing::HasSubstr("round: expected a round number >= 1, got 0"));
  EXPECT_THAT(std::string(ParseAnswerFile(R"({"instrument": "rqs2", "study_type": "HCR",
      "round": "2"})")
                              .status()
                              .message()),
              testing::HasSubstr("round: expected an integer, got string"));
}

}  // namespace
}  // namespace rqs::client
