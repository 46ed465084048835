// The export documents: RFC 4180 cells, blinding by role, and the columns
// R, pandas and spreadsheets read.
#include "server/export.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "scoring/instrument.h"

namespace rqs::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(CsvCellTest, QuotesOnlyWhenNeeded) {
  EXPECT_EQ(CsvCell("plain", false), "plain");
  EXPECT_EQ(CsvCell("a,b", false), "\"a,b\"");
  EXPECT_EQ(CsvCell("say \"hi\"", false), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvCell("two\nlines", false), "\"two\nlines\"");
  EXPECT_EQ(CsvCell("", false), "");
}

TEST(CsvCellTest, NeutralisesSpreadsheetFormulasInFreeText) {
  EXPECT_EQ(CsvCell("=HYPERLINK(\"x\")", true), "\"'=HYPERLINK(\"\"x\"\")\"");
  EXPECT_EQ(CsvCell("+1", true), "'+1");
  EXPECT_EQ(CsvCell("-2", true), "'-2");
  EXPECT_EQ(CsvCell("@cmd", true), "'@cmd");
  EXPECT_EQ(CsvCell("-2", false), "-2");  // Numbers stay numbers.
}

db::Answer Option(int criterion, const std::string& option, int points,
                  const std::string& rationale) {
  db::Answer answer;
  answer.criterion = criterion;
  answer.option_ids = {option};
  answer.points = points;
  answer.rationale = rationale;
  return answer;
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_.study.id = 3;
    state_.study.title = "Study, \"quoted\"";
    state_.study.external_id = "PMID1";
    state_.panel = {1, 2};
    for (int64_t rater : {1, 2}) {
      db::Assessment assessment;
      assessment.rater_id = rater;
      assessment.round = 1;
      assessment.status = db::AssessmentStatus::kSubmitted;
      assessment.answers = {Option(2, "yes", 1, rater == 1 ? "secret of alice" : "secret of bob")};
      state_.submissions.push_back(assessment);
    }
    input_.review.id = 5;
    input_.review.name = "R";
    input_.review.instrument_id = "rqs2";
    input_.instrument = &scoring::Rqs2();
    ExportStudy study;
    study.state = &state_;
    study.status.phase = StudyPhase::kFinalised;
    StudyConsensusView view;
    ConsensusAnswerSource source;
    source.answer.criterion = 2;
    source.answer.option_ids = std::vector<std::string>{"yes"};
    source.points = 1;
    source.round = 1;
    view.answers.push_back(source);
    view.report.total = 1;
    view.report.max = 56;
    view.report.percent = 100.0 / 56.0;
    view.report.criteria.push_back({2, 1, true, {"yes"}, 1, 1});
    study.consensus = view;
    input_.studies.push_back(study);
    input_.rater_names = {{1, "alice"}, {2, "bob"}};
  }

  db::StudyConsensusState state_;
  ExportInput input_;
};

TEST_F(ExportTest, CoordinatorLongCsvHasEveryRaterAndTheConsensus) {
  input_.role = db::ReviewRole::kCoordinator;
  const std::string csv = ExportLongCsv(input_);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0],
            "study_id,external_id,study_title,rater,round,criterion,option_ids,points,source,"
            "rationale,evidence_page,evidence_section,evidence_quote");
  EXPECT_EQ(lines[1],
            "3,PMID1,\"Study, \"\"quoted\"\"\",alice,1,2,yes,1,rater,secret of alice,,,");
  EXPECT_THAT(lines[2], HasSubstr(",bob,1,2,yes,1,rater,secret of bob,"));
  EXPECT_THAT(lines[3], HasSubstr(",consensus,1,2,yes,1,agreed,,,,"));
}

TEST_F(ExportTest, RaterSeesOnlyOwnAnswers) {
  input_.role = db::ReviewRole::kRater;
  input_.caller_id = 2;
  input_.rater_names = {{2, "bob"}};
  const std::string csv = ExportLongCsv(input_);
  EXPECT_THAT(csv, HasSubstr("secret of bob"));
  EXPECT_THAT(csv, Not(HasSubstr("alice")));
  const std::string json = ExportJson(input_);
  EXPECT_THAT(json, Not(HasSubstr("alice")));
  nlohmann::json parsed = nlohmann::json::parse(json);
  ASSERT_EQ(parsed["studies"].size(), 1u);
  EXPECT_EQ(parsed["studies"][0]["assessments"].size(), 1u);
  EXPECT_EQ(parsed["studies"][0]["consensus"]["total"], 1);
}

TEST_F(ExportTest, ObserverSeesNoIndividualAnswers) {
  input_.role = db::ReviewRole::kObserver;
  const std::string csv = ExportLongCsv(input_);
  EXPECT_THAT(csv, Not(HasSubstr("secret")));
  EXPECT_THAT(csv, HasSubstr("consensus"));
  nlohmann::json parsed = nlohmann::json::parse(ExportJson(input_));
  EXPECT_TRUE(parsed["studies"][0]["assessments"].empty());
}

TEST_F(ExportTest, WideCsvHasOneColumnPerCriterion) {
  input_.role = db::ReviewRole::kObserver;
  const std::string csv = ExportWideCsv(input_);
  std::vector<std::string> lines = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  std::vector<std::string> header = absl::StrSplit(lines[0], ',');
  // 6 study columns, 42 criteria, 4 totals.
  EXPECT_EQ(header.size(), 52u);
  EXPECT_EQ(header[6], "c1");
  EXPECT_EQ(header[47], "c42");
  EXPECT_THAT(lines[1], HasSubstr(",FINALISED,0,,1,"));
  EXPECT_THAT(lines[1], HasSubstr(",1,56,1.7857,0"));
}

}  // namespace
}  // namespace rqs::server
