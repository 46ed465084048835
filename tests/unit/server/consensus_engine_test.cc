// The consensus process between stored state and rules, on hand-built
// states: no database, no gRPC.
#include "server/consensus_engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scoring/instrument.h"

namespace rqs::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStudy = 70;

db::Review Review() {
  db::Review review;
  review.id = 5;
  review.instrument_id = "rqs2";
  review.target_rrl = 1;  // Round 1 covers criteria 1..5 only: small states.
  return review;
}

db::ReviewPolicy Policy() {
  db::ReviewPolicy policy;
  policy.review_id = 5;
  policy.label_salt = "0123456789abcdef";
  return policy;
}

db::Answer Option(int criterion, const std::string& option, int points,
                  const std::string& rationale = "") {
  db::Answer answer;
  answer.criterion = criterion;
  answer.option_ids = {option};
  answer.points = points;
  answer.rationale = rationale;
  return answer;
}

db::Assessment Submission(int64_t rater, int round, std::vector<db::Answer> answers) {
  db::Assessment assessment;
  assessment.id = rater * 100 + round;
  assessment.review_id = 5;
  assessment.study_id = kStudy;
  assessment.rater_id = rater;
  assessment.round = round;
  assessment.status = db::AssessmentStatus::kSubmitted;
  assessment.idempotency_key = absl::StrCat("k", rater, "-", round);
  assessment.answers = std::move(answers);
  return assessment;
}

// Three raters who agree on everything but criterion 2 (rater 3 says no).
db::StudyConsensusState SplitOnCriterion2() {
  db::StudyConsensusState state;
  state.study.id = kStudy;
  state.study.review_id = 5;
  state.study.title = "Study";
  state.panel = {1, 2, 3};
  for (int64_t rater : {1, 2, 3}) {
    state.submissions.push_back(Submission(
        rater, 1,
        {Option(1, "multicentre", 1, absl::StrCat("rationale of user ", rater)),
         Option(2, rater == 3 ? "no" : "yes", rater == 3 ? 0 : 1,
                absl::StrCat("criterion 2 by user ", rater)),
         Option(4, "yes", 1)}));
  }
  return state;
}

// Applies a transition's write to a state, as the store would.
void Apply(const db::StudyTransitionWrite& write, db::StudyConsensusState& state) {
  if (write.closed_round.has_value()) state.rounds.push_back(*write.closed_round);
  for (const db::AdjudicationRecord& record : write.adjudications) {
    state.adjudications.push_back(record);
  }
  if (write.consensus.has_value()) state.consensus = write.consensus;
}

TEST(DescribeStudyTest, FreshStudyIsInRoundOneOverItsScope) {
  db::StudyConsensusState state = SplitOnCriterion2();
  state.submissions.clear();
  absl::StatusOr<StudyStatus> status = DescribeStudy(scoring::Rqs2(), Review(), state);
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->phase, StudyPhase::kInRound);
  EXPECT_EQ(status->current_round, 1);
  EXPECT_THAT(status->scope, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_THAT(status->open_criteria, ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(status->submitted_in_round, 0);
}

TEST(CloseStudyRoundTest, SplitGoesToRoundTwoWithTheDisputedCriterion) {
  db::StudyConsensusState state = SplitOnCriterion2();
  absl::StatusOr<db::StudyTransitionWrite> write =
      CloseStudyRound(scoring::Rqs2(), Review(), Policy(), state, 1,
                      db::RoundCloseReason::kAllSubmitted, 0);
  ASSERT_TRUE(write.ok()) << write.status();
  ASSERT_TRUE(write->closed_round.has_value());
  EXPECT_FALSE(write->consensus.has_value());
  const db::ClosedRound& round = *write->closed_round;
  EXPECT_EQ(round.decision, scoring::StudyDecision::kContinue);
  ASSERT_EQ(round.criteria.size(), 5u);
  // Unanswered criteria 3 and 5 count as the lowest answer for all three.
  EXPECT_TRUE(round.criteria[2].agreed);
  EXPECT_EQ(round.criteria[2].agreed_key, "option:level0");
  EXPECT_FALSE(round.criteria[1].agreed);
  EXPECT_EQ(round.criteria[1].required, 3);  // 0.75 of 3 raters.

  Apply(*write, state);
  absl::StatusOr<StudyStatus> status = DescribeStudy(scoring::Rqs2(), Review(), state);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->current_round, 2);
  EXPECT_THAT(status->open_criteria, ElementsAre(2));
  EXPECT_THAT(status->agreed_after_round, ElementsAre(4));
}

TEST(CloseStudyRoundTest, RefusesAnotherRoundThanTheOpenOne) {
  db::StudyConsensusState state = SplitOnCriterion2();
  absl::StatusOr<db::StudyTransitionWrite> write = CloseStudyRound(
      scoring::Rqs2(), Review(), Policy(), state, 2, db::RoundCloseReason::kCoordinator, 9);
  EXPECT_EQ(write.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(write.status().message()), HasSubstr("the open round is 1"));
}

TEST(CloseStudyRoundTest, RefusesARoundNobodySubmitted) {
  db::StudyConsensusState state = SplitOnCriterion2();
  state.submissions.clear();
  absl::StatusOr<db::StudyTransitionWrite> write = CloseStudyRound(
      scoring::Rqs2(), Review(), Policy(), state, 1, db::RoundCloseReason::kCoordinator, 9);
  EXPECT_EQ(write.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CloseStudyRoundTest, MissingRaterIsRecordedAndLeftOutOfTheShare) {
  db::StudyConsensusState state = SplitOnCriterion2();
  state.submissions.pop_back();  // Rater 3 never submitted.
  absl::StatusOr<db::StudyTransitionWrite> write = CloseStudyRound(
      scoring::Rqs2(), Review(), Policy(), state, 1, db::RoundCloseReason::kCoordinator, 9);
  ASSERT_TRUE(write.ok()) << write.status();
  EXPECT_THAT(write->closed_round->missing_rater_ids, ElementsAre(3));
  EXPECT_EQ(write->closed_round->decision, scoring::StudyDecision::kConsensus);
  ASSERT_TRUE(write->consensus.has_value());
  // 1 (multicentre) + 1 (criterion 2) + 1 (criterion 4) of RRL1's 7 points.
  EXPECT_EQ(write->consensus->total, 3);
  EXPECT_EQ(write->consensus->max_total, 7);
  EXPECT_EQ(write->consensus->attained_level, 0);  // 3/7 < 50 %.
}

TEST(CheckAssessmentRoundTest, LaterRoundsAnswerExactlyTheDisputedCriteria) {
  db::StudyConsensusState state = SplitOnCriterion2();
  Apply(*CloseStudyRound(scoring::Rqs2(), Review(), Policy(), state, 1,
                         db::RoundCloseReason::kAllSubmitted, 0),
        state);
  db::AssessmentInput input;
  input.study_id = kStudy;
  input.rater_id = 3;
  input.round = 2;
  input.answers = {Option(2, "yes", 1)};
  EXPECT_TRUE(CheckAssessmentRound(scoring::Rqs2(), Review(), state, input, true).ok());

  input.answers.push_back(Option(4, "no", 0));
  absl::Status extra = CheckAssessmentRound(scoring::Rqs2(), Review(), state, input, true);
  EXPECT_EQ(extra.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(extra.message()), HasSubstr("criteria 4 are settled"));

  input.answers.clear();
  absl::Status missing = CheckAssessmentRound(scoring::Rqs2(), Review(), state, input, true);
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.message()), HasSubstr("missing: 2"));
  // A draft may hold a subset.
  EXPECT_TRUE(CheckAssessmentRound(scoring::Rqs2(), Review(), state, input, false).ok());

  input.round = 1;
  EXPECT_EQ(CheckAssessmentRound(scoring::Rqs2(), Review(), state, input, true).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(FeedbackForRaterTest, ShowsLabelsNotIdentities) {
  db::StudyConsensusState state = SplitOnCriterion2();
  Apply(*CloseStudyRound(scoring::Rqs2(), Review(), Policy(), state, 1,
                         db::RoundCloseReason::kAllSubmitted, 0),
        state);
  absl::StatusOr<StudyFeedback> feedback =
      FeedbackForRater(scoring::Rqs2(), Review(), Policy(), state, 3);
  ASSERT_TRUE(feedback.ok()) << feedback.status();
  EXPECT_EQ(feedback->round, 2);
  ASSERT_EQ(feedback->criteria.size(), 1u);
  const scoring::CriterionFeedback& criterion = feedback->criteria[0];
  EXPECT_EQ(criterion.criterion, 2);
  EXPECT_EQ(criterion.distribution.at("option:yes"), 2);
  EXPECT_EQ(criterion.distribution.at("option:no"), 1);
  EXPECT_EQ(criterion.own_answer_key, "option:no");
  ASSERT_EQ(criterion.others.size(), 2u);
  for (const scoring::LabelledAnswer& other : criterion.others) {
    EXPECT_THAT(other.label, HasSubstr("Rater "));
    EXPECT_NE(other.label, criterion.own_label);
    EXPECT_THAT(other.rationale, HasSubstr("criterion 2 by user"));
  }

  db::ReviewPolicy hidden = Policy();
  hidden.policy.share_rationales = false;
  feedback = FeedbackForRater(scoring::Rqs2(), Review(), hidden, state, 3);
  ASSERT_TRUE(feedback.ok());
  for (const scoring::LabelledAnswer& other : feedback->criteria[0].others) {
    EXPECT_EQ(other.rationale, "");
  }
}

TEST(FeedbackForRaterTest, RoundOneHasNoFeedback) {
  absl::StatusOr<StudyFeedback> feedback =
      FeedbackForRater(scoring::Rqs2(), Review(), Policy(), SplitOnCriterion2(), 1);
  EXPECT_EQ(feedback.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Round 2 changes nothing: the study stops as stable and goes to
// adjudication, which finalises it.
TEST(AdjudicateStudyTest, StableStudyIsAdjudicatedAndFinalised) {
  db::StudyConsensusState state = SplitOnCriterion2();
  Apply(*CloseStudyRound(scoring::Rqs2(), Review(), Policy(), state, 1,
                         db::RoundCloseReason::kAllSubmitted, 0),
        state);
  for (int64_t rater : {1, 2, 3}) {
    state.submissions.push_back(
        Submission(rater, 2, {Option(2, rater == 3 ? "no" : "yes", rater == 3 ? 0 : 1)}));
  }
  absl::StatusOr<db::StudyTransitionWrite> closed = CloseStudyRound(
      scoring::Rqs2(), Review(), Policy(), state, 2, db::RoundCloseReason::kAllSubmitted, 0);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->closed_round->decision, scoring::StudyDecision::kAdjudicate);
  EXPECT_EQ(closed->closed_round->end_reason, scoring::EndReason::kStable);
  EXPECT_FALSE(closed->closed_round->changed_answers);
  Apply(*closed, state);

  AdjudicationDecision decision;
  decision.answer.criterion = 2;
  decision.answer.option_ids = std::vector<std::string>{"yes"};
  decision.reason = "  ";
  EXPECT_EQ(AdjudicateStudy(scoring::Rqs2(), Review(), Policy(), state, {decision}, 9)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  AdjudicationDecision settled = decision;
  settled.answer.criterion = 4;
  settled.reason = "settled already";
  EXPECT_EQ(AdjudicateStudy(scoring::Rqs2(), Review(), Policy(), state, {settled}, 9)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);

  decision.reason = "Methods report the scanner model";
  absl::StatusOr<db::StudyTransitionWrite> write =
      AdjudicateStudy(scoring::Rqs2(), Review(), Policy(), state, {decision}, 9);
  ASSERT_TRUE(write.ok()) << write.status();
  ASSERT_EQ(write->adjudications.size(), 1u);
  EXPECT_EQ(write->adjudications[0].awarded_points, 1);
  ASSERT_TRUE(write->consensus.has_value());
  EXPECT_EQ(write->consensus->total, 3);
  Apply(*write, state);

  absl::StatusOr<StudyStatus> status = DescribeStudy(scoring::Rqs2(), Review(), state);
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->phase, StudyPhase::kFinalised);
  absl::StatusOr<StudyConsensusView> view =
      ConsensusOf(scoring::Rqs2(), Review(), Policy(), state);
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ(view->answers.size(), 5u);
  EXPECT_TRUE(view->answers[1].adjudicated);
  EXPECT_EQ(view->answers[1].reason, "Methods report the scanner model");
  EXPECT_FALSE(view->answers[0].adjudicated);
  EXPECT_EQ(view->answers[0].round, 1);
  EXPECT_EQ(view->report.total, 3);
  // The report alone, as summaries take it, is the same report.
  absl::StatusOr<scoring::ScoreReport> report =
      ConsensusReportOf(scoring::Rqs2(), Review(), Policy(), state);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->total, view->report.total);
  EXPECT_EQ(report->percent, view->report.percent);
  EXPECT_EQ(report->attained_level, view->report.attained_level);
  ASSERT_EQ(report->criteria.size(), view->report.criteria.size());
  for (std::size_t i = 0; i < report->criteria.size(); ++i) {
    EXPECT_EQ(report->criteria[i].criterion, view->report.criteria[i].criterion);
    EXPECT_EQ(report->criteria[i].points, view->report.criteria[i].points);
  }
  EXPECT_EQ(
      ConsensusReportOf(scoring::Rqs2(), Review(), Policy(), SplitOnCriterion2()).status().code(),
      absl::StatusCode::kFailedPrecondition);

  EXPECT_EQ(AdjudicateStudy(scoring::Rqs2(), Review(), Policy(), state, {decision}, 9)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ComputeReviewAgreementTest, RatesRoundOnePointsPerCriterion) {
  db::StudyConsensusState state = SplitOnCriterion2();
  absl::StatusOr<ReviewAgreement> agreement =
      ComputeReviewAgreement(scoring::Rqs2(), Review(), {state}, {});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_EQ(agreement->studies, 1);
  EXPECT_THAT(agreement->rater_ids, ElementsAre(1, 2, 3));
  ASSERT_EQ(agreement->criteria.size(), 5u);
  // Criterion 2: one study rated 1, 1, 0: 1 of the 3 rater pairs agree.
  const scoring::AgreementResult& criterion2 = agreement->criteria[1].second;
  ASSERT_TRUE(criterion2.percent_agreement.value.has_value());
  EXPECT_NEAR(*criterion2.percent_agreement.value, 1.0 / 3.0, 1e-12);
  ASSERT_TRUE(agreement->total_score.has_value());
  EXPECT_EQ(agreement->total_score->subjects, 1);
}

// The round-1 rating of `rater` on `criterion` in `state`, as
// ComputeReviewAgreement defines it: none without a round-1 submission,
// else the answer's points or, unanswered, the criterion's lowest.
std::optional<double> RoundOneRating(const db::StudyConsensusState& state, int64_t rater,
                                     const scoring::Criterion& criterion) {
  for (const db::Assessment& assessment : state.submissions) {
    if (assessment.round != 1 || assessment.rater_id != rater) continue;
    for (const db::Answer& answer : assessment.answers) {
      if (answer.criterion == criterion.number) return answer.points;
    }
    return criterion.MinPoints();
  }
  return std::nullopt;
}

void ExpectSameResult(const scoring::AgreementResult& actual,
                      const scoring::AgreementResult& expected, const std::string& what) {
  EXPECT_EQ(actual.subjects, expected.subjects) << what;
  EXPECT_EQ(actual.subjects_used, expected.subjects_used) << what;
  EXPECT_EQ(actual.raters, expected.raters) << what;
  EXPECT_EQ(actual.categories, expected.categories) << what;
  EXPECT_EQ(actual.warnings, expected.warnings) << what;
  for (scoring::StatisticId id : scoring::kAllStatistics) {
    const scoring::Statistic& a = scoring::GetStatistic(actual, id);
    const scoring::Statistic& e = scoring::GetStatistic(expected, id);
    const std::string name = absl::StrCat(what, " ", std::string(scoring::StatisticKey(id)));
    EXPECT_EQ(a.value, e.value) << name;
    EXPECT_EQ(a.standard_error, e.standard_error) << name;
    EXPECT_EQ(a.p_value, e.p_value) << name;
    EXPECT_EQ(a.ci_lower, e.ci_lower) << name;
    EXPECT_EQ(a.ci_upper, e.ci_upper) << name;
  }
}

TEST(ComputeReviewAgreementTest, TablesHoldTheRoundOneRatingsOfEveryStudyInScope) {
  db::Review review = Review();
  review.target_rrl = 2;  // HCR: criteria 1-10; DLR: 1-5, 7, 8, 10.
  const auto answers = [](int shift) {
    std::vector<db::Answer> given;
    for (int criterion : {1, 2, 3, 5, 6, 7, 9, 10}) {  // 4 and 8 left out: lowest, 0.
      db::Answer answer;
      answer.criterion = criterion;
      answer.points = (criterion + shift) % 3 == 0 ? 0 : 1;
      given.push_back(answer);
    }
    return given;
  };
  const auto study = [](int64_t id, scoring::StudyType type) {
    db::StudyConsensusState state;
    state.study.id = id;
    state.study.review_id = 5;
    state.study.study_type = type;
    state.panel = {1, 2, 3};
    return state;
  };
  std::vector<db::StudyConsensusState> states;
  states.push_back(study(11, scoring::StudyType::kHandcrafted));
  for (int64_t rater : {3, 1, 2}) {
    states.back().submissions.push_back(Submission(rater, 1, answers(static_cast<int>(rater))));
  }
  // Later rounds never count.
  states.back().submissions.push_back(Submission(1, 2, answers(2)));
  states.push_back(study(12, scoring::StudyType::kDeepLearning));
  for (int64_t rater : {1, 3}) {
    states.back().submissions.push_back(Submission(rater, 1, answers(0)));
  }
  states.push_back(study(13, scoring::StudyType::kHandcrafted));
  for (int64_t rater : {2, 4}) {
    states.back().submissions.push_back(Submission(rater, 1, answers(1)));
  }
  states.push_back(study(14, scoring::StudyType::kHybrid));  // Not rated at all.

  absl::StatusOr<ReviewAgreement> agreement =
      ComputeReviewAgreement(scoring::Rqs2(), review, states, {});
  ASSERT_TRUE(agreement.ok()) << agreement.status();
  EXPECT_EQ(agreement->studies, 3);
  ASSERT_THAT(agreement->rater_ids, ElementsAre(1, 2, 3, 4));

  // The tables built by hand from the definition.
  const std::vector<int> hcr = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::vector<int> dlr = {1, 2, 3, 4, 5, 7, 8, 10};
  scoring::RatingsTable totals;
  totals.rater_labels = {"1", "2", "3", "4"};
  std::vector<std::pair<int, scoring::RatingsTable>> expected;
  for (const scoring::Criterion& criterion : scoring::Rqs2().criteria) {
    scoring::RatingsTable table;
    table.rater_labels = totals.rater_labels;
    for (const db::StudyConsensusState& state : states) {
      if (state.submissions.empty()) continue;
      const std::vector<int>& scope =
          state.study.study_type == scoring::StudyType::kDeepLearning ? dlr : hcr;
      if (std::find(scope.begin(), scope.end(), criterion.number) == scope.end()) continue;
      std::vector<std::optional<double>> row;
      for (int64_t rater : {1, 2, 3, 4}) row.push_back(RoundOneRating(state, rater, criterion));
      table.subject_labels.push_back(absl::StrCat(state.study.id));
      table.ratings.push_back(row);
    }
    if (!table.ratings.empty()) expected.emplace_back(criterion.number, table);
  }
  for (const db::StudyConsensusState& state : states) {
    if (state.submissions.empty()) continue;
    const std::vector<int>& scope =
        state.study.study_type == scoring::StudyType::kDeepLearning ? dlr : hcr;
    std::vector<std::optional<double>> row;
    for (int64_t rater : {1, 2, 3, 4}) {
      std::optional<double> total;
      for (int number : scope) {
        std::optional<double> rating =
            RoundOneRating(state, rater, *scoring::Rqs2().FindCriterion(number));
        if (rating.has_value()) total = total.value_or(0) + *rating;
      }
      row.push_back(total);
    }
    totals.subject_labels.push_back(absl::StrCat(state.study.id));
    totals.ratings.push_back(row);
  }

  ASSERT_EQ(agreement->criteria.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(agreement->criteria[i].first, expected[i].first);
    absl::StatusOr<scoring::AgreementResult> result =
        scoring::ComputeAgreement(expected[i].second, {});
    ASSERT_TRUE(result.ok()) << result.status();
    ExpectSameResult(agreement->criteria[i].second, *result,
                     absl::StrCat("criterion ", expected[i].first));
  }
  absl::StatusOr<scoring::AgreementResult> total = scoring::ComputeAgreement(totals, {});
  ASSERT_TRUE(total.ok()) << total.status();
  ASSERT_TRUE(agreement->total_score.has_value());
  ExpectSameResult(*agreement->total_score, *total, "total score");
  // Criterion 6 applies to HCR only: studies 11 and 13.
  EXPECT_EQ(agreement->criteria[5].second.subjects, 2);
  EXPECT_EQ(agreement->criteria[0].second.subjects, 3);
}

}  // namespace
}  // namespace rqs::server
