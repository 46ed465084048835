#include "client/feedback_template.h"

#include <string>

#include "client/answer_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

namespace v1 = ::rqs::v1;

v1::Criterion MakeCriterion(int number, const std::string& name, int level, v1::OptionKind kind,
                            std::vector<std::pair<std::string, int>> options) {
  v1::Criterion criterion;
  criterion.set_number(number);
  criterion.set_name(name);
  criterion.set_level(level);
  criterion.set_kind(kind);
  criterion.set_applies_to(v1::APPLICABILITY_BOTH);
  criterion.set_description(name + ".");
  for (const auto& [id, points] : options) {
    v1::CriterionOption* option = criterion.add_options();
    option->set_id(id);
    option->set_points(points);
    option->set_label(id);
  }
  return criterion;
}

// Round 2 of study 7 of review 3: criteria 14 (exclusive), 20 (additive) and
// 9 (answered by points) are disputed; the rater did not answer criterion 5.
FeedbackTemplateInput Example() {
  FeedbackTemplateInput input;
  input.review.set_review_id(3);
  input.review.set_instrument_id("rqs2");
  input.review.set_target_level(9);
  input.study.set_study_id(7);
  input.study.set_title("CT radiomics, lung");
  input.study.set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  input.instrument.mutable_summary()->set_level_count(9);
  *input.instrument.add_criteria() = MakeCriterion(
      14, "Multi-centre validation", 4, v1::OPTION_KIND_EXCLUSIVE, {{"no", 0}, {"yes", 2}});
  *input.instrument.add_criteria() =
      MakeCriterion(20, "Open science", 6, v1::OPTION_KIND_ADDITIVE, {{"data", 1}, {"code", 1}});
  *input.instrument.add_criteria() =
      MakeCriterion(9, "Feature reduction", 2, v1::OPTION_KIND_EXCLUSIVE, {{"no", 0}, {"yes", 1}});
  *input.instrument.add_criteria() =
      MakeCriterion(5, "Segmentation", 1, v1::OPTION_KIND_EXCLUSIVE, {{"no", 0}, {"yes", 1}});
  input.feedback.set_round(2);

  v1::CriterionFeedback* exclusive = input.feedback.add_criteria();
  exclusive->set_criterion(14);
  exclusive->set_title("Multi-centre validation");
  exclusive->set_previous_round(1);
  (*exclusive->mutable_distribution())["option:yes"] = 1;
  (*exclusive->mutable_distribution())["option:no"] = 2;
  exclusive->set_raters_answered(3);
  exclusive->set_own_label("Rater B");
  exclusive->mutable_own_answer()->set_criterion(14);
  exclusive->mutable_own_answer()->add_option_ids("yes");
  exclusive->mutable_own_answer()->set_rationale("two centres");
  exclusive->mutable_own_answer()->mutable_evidence()->set_page("4");
  exclusive->set_own_answer_key("option:yes");

  v1::CriterionFeedback* additive = input.feedback.add_criteria();
  additive->set_criterion(20);
  additive->set_previous_round(1);
  additive->set_own_label("Rater B");
  additive->mutable_own_answer()->set_criterion(20);  // No sub-item met.
  additive->set_own_answer_key("options:");

  v1::CriterionFeedback* points = input.feedback.add_criteria();
  points->set_criterion(9);
  points->set_previous_round(1);
  points->mutable_own_answer()->set_points(1);
  points->set_own_answer_key("option:yes");

  v1::CriterionFeedback* missing = input.feedback.add_criteria();
  missing->set_criterion(5);
  missing->set_previous_round(1);
  return input;
}

TEST(FeedbackTemplateTest, HoldsOnlyTheDisputedCriteriaPrefilled) {
  const nlohmann::ordered_json file = BuildFeedbackTemplate(Example());
  EXPECT_EQ(file["instrument"], "rqs2");
  EXPECT_EQ(file["study_type"], "HCR");
  EXPECT_EQ(file["target_rrl"], 9);
  EXPECT_EQ(file["review_id"], 3);
  EXPECT_EQ(file["study_id"], 7);
  EXPECT_EQ(file["round"], 2);
  EXPECT_THAT(file["comment"].get<std::string>(), HasSubstr("rqs submit 7 FILE"));
  const nlohmann::ordered_json& answers = file["answers"];
  ASSERT_EQ(answers.size(), 4u);

  EXPECT_EQ(answers[0]["criterion"], 14);
  EXPECT_EQ(answers[0]["name"], "Multi-centre validation");
  EXPECT_EQ(answers[0]["rrl"], 4);
  EXPECT_EQ(answers[0]["option"], "yes");
  EXPECT_EQ(answers[0]["rationale"], "two centres");
  EXPECT_EQ(answers[0]["evidence"]["page"], "4");
  // The hint carries the previous round: most frequent answer first.
  EXPECT_THAT(answers[0]["hint"].get<std::string>(),
              HasSubstr("Round 1 (3 raters): option:no 2, option:yes 1. You (Rater B): "
                        "option:yes."));

  EXPECT_EQ(answers[1]["criterion"], 20);
  EXPECT_TRUE(answers[1]["options"].is_array());
  EXPECT_TRUE(answers[1]["options"].empty());
  EXPECT_FALSE(answers[1].contains("option"));

  EXPECT_EQ(answers[2]["points"], 1);
  EXPECT_FALSE(answers[2].contains("option"));

  // Not answered before: left to fill in.
  EXPECT_TRUE(answers[3]["option"].is_null());
  EXPECT_EQ(answers[3]["rationale"], "");
}

TEST(FeedbackTemplateTest, IsAnAnswerFileThatSubmitReads) {
  const std::string text = BuildFeedbackTemplate(Example()).dump(2);
  const absl::StatusOr<AnswerFile> file = ParseAnswerFile(text);
  ASSERT_TRUE(file.ok()) << file.status() << "\n" << text;
  EXPECT_EQ(file->review_id, 3);
  EXPECT_EQ(file->study_id, 7);
  EXPECT_EQ(file->round, 2);
  ASSERT_EQ(file->request.answers.size(), 4u);
  EXPECT_EQ(file->request.answers[0].option_ids, std::vector<std::string>{"yes"});
  ASSERT_TRUE(file->request.answers[1].option_ids.has_value());
  EXPECT_TRUE(file->request.answers[1].option_ids->empty());
  EXPECT_EQ(file->request.answers[2].points, 1);
  EXPECT_FALSE(file->request.answers[3].option_ids.has_value());
  EXPECT_EQ(file->notes[0].rationale, "two centres");
}

TEST(FeedbackTemplateTest, PreviousRoundWithoutOwnAnswer) {
  v1::CriterionFeedback feedback;
  feedback.set_previous_round(2);
  feedback.set_raters_answered(2);
  (*feedback.mutable_distribution())["points:1"] = 2;
  feedback.set_own_label("Rater C");
  EXPECT_EQ(DescribePreviousRound(feedback),
            "Round 2 (2 raters): points:1 2. You (Rater C): no answer.");
}

TEST(FeedbackTemplateTest, NamesNoRater) {
  FeedbackTemplateInput input = Example();
  v1::LabelledAnswer* other = input.feedback.mutable_criteria(0)->add_others();
  other->set_label("Rater A");
  other->set_answer_key("option:no");
  other->set_rationale("single centre");
  // The skeleton is the rater's own file: the others' rationales stay in
  // the feedback display, not in what the rater submits.
  EXPECT_THAT(BuildFeedbackTemplate(input).dump(), Not(HasSubstr("single centre")));
}

}  // namespace
}  // namespace rqs::client
