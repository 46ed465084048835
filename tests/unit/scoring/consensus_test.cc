#include "scoring/consensus.h"

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scoring/score.h"

namespace rqs::scoring {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

// A small instrument built for these tests, so that every kind of answer
// identity is exercised independently of the RQS tables:
//   1 exclusive: none 0, partial 1, alt_partial 1 (points 1 are ambiguous), full 2
//   2 additive:  x 1, y 1, z 2 (points 2 are {x,y} or {z}; points 4 only {x,y,z})
//   3 exclusive: no 0, yes 1
//   4 additive:  good 1, bad -1 (unanswered scores the negative sub-item)
const Instrument& TestInstrument() {
  static const Instrument* const kInstrument = [] {
    auto* instrument = new Instrument;
    instrument->id = "test";
    instrument->name = "Test instrument";
    instrument->version = "1";
    instrument->criteria = {
        {1,
         "Exclusive",
         0,
         Applicability::kBoth,
         OptionKind::kExclusive,
         {{"none", "None", 0},
          {"partial", "Partial", 1},
          {"alt_partial", "Alt", 1},
          {"full", "Full", 2}},
         "Test."},
        {2,
         "Additive",
         0,
         Applicability::kBoth,
         OptionKind::kAdditive,
         {{"x", "X", 1}, {"y", "Y", 1}, {"z", "Z", 2}},
         "Test."},
        {3,
         "Yes/no",
         0,
         Applicability::kBoth,
         OptionKind::kExclusive,
         {{"no", "No", 0}, {"yes", "Yes", 1}},
         "Test."},
        {4,
         "Penalty",
         0,
         Applicability::kBoth,
         OptionKind::kAdditive,
         {{"good", "Good", 1}, {"bad", "Bad", -1}},
         "Test."},
    };
    return instrument;
  }();
  return *kInstrument;
}

const Criterion& C(int number) { return *TestInstrument().FindCriterion(number); }

Answer Opt(int criterion, std::string id) {
  return Answer{criterion, std::vector<std::string>{std::move(id)}, std::nullopt};
}
Answer Opts(int criterion, std::vector<std::string> ids) {
  return Answer{criterion, std::move(ids), std::nullopt};
}
Answer Pts(int criterion, int points) { return Answer{criterion, std::nullopt, points}; }
Answer Blank(int criterion) { return Answer{criterion, std::nullopt, std::nullopt}; }

RoundAnswer RA(Answer answer, std::string rationale = "", std::string evidence = "") {
  return RoundAnswer{std::move(answer), std::move(rationale), std::move(evidence)};
}
RaterRound Rater(std::string id, std::vector<RoundAnswer> answers) {
  return RaterRound{std::move(id), true, std::move(answers)};
}
RaterRound Missing(std::string id) { return RaterRound{std::move(id), false, {}}; }

RoundInput Round(int round, std::vector<int> open, std::vector<RaterRound> raters) {
  return RoundInput{round, std::move(open), std::move(raters)};
}

ConsensusPolicy Threshold(double threshold) {
  ConsensusPolicy policy;
  policy.agreement_threshold = threshold;
  return policy;
}

RoundResult Close(const RoundInput& round, const ConsensusPolicy& policy = ConsensusPolicy()) {
  absl::StatusOr<RoundResult> result = CloseRound(TestInstrument(), policy, round);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : RoundResult();
}

std::string Key(int criterion, const Answer& answer) {
  absl::StatusOr<std::string> key = AnswerKey(C(criterion), answer);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *key : "";
}

TEST(ConsensusTest, TestInstrumentIsConsistent) {
  EXPECT_TRUE(ValidateInstrument(TestInstrument()).ok()) << ValidateInstrument(TestInstrument());
}

// --- Policy ---------------------------------------------------------------

TEST(ConsensusPolicyTest, DefaultsAreValid) {
  ConsensusPolicy policy;
  EXPECT_DOUBLE_EQ(policy.agreement_threshold, 0.75);
  EXPECT_EQ(policy.max_rounds, 3);
  EXPECT_TRUE(policy.stop_when_stable);
  EXPECT_DOUBLE_EQ(policy.level_threshold_percent, 50.0);
  EXPECT_TRUE(policy.share_rationales);
  EXPECT_TRUE(ValidatePolicy(policy).ok());
  EXPECT_TRUE(ValidatePolicy(Threshold(1.0)).ok());
  EXPECT_TRUE(ValidatePolicy(Threshold(0.51)).ok());
}

TEST(ConsensusPolicyTest, RejectsOutOfRangeFieldsNamingThem) {
  for (double threshold : {0.5, 0.3, 0.0, 1.01, -1.0, std::nan("")}) {
    absl::Status status = ValidatePolicy(Threshold(threshold));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << threshold;
    EXPECT_THAT(status.message(), HasSubstr("agreement_threshold must be in (0.5, 1]"));
  }
  for (int rounds : {0, -1, 11}) {
    ConsensusPolicy policy;
    policy.max_rounds = rounds;
    absl::Status status = ValidatePolicy(policy);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("max_rounds must be in 1..10"));
  }
  ConsensusPolicy policy;
  policy.max_rounds = 10;
  EXPECT_TRUE(ValidatePolicy(policy).ok());
  policy.level_threshold_percent = 100.5;
  EXPECT_THAT(ValidatePolicy(policy).message(), HasSubstr("level_threshold_percent"));
  // Every function taking a policy validates it.
  EXPECT_EQ(CloseRound(TestInstrument(), Threshold(0.5), Round(1, {1}, {})).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ConsensusPolicyTest, RequiredAgreeingRatersAtTheEdges) {
  EXPECT_EQ(RequiredAgreeingRaters(0.75, 2), 2);  // 1 of 2 = 0.5 < 0.75.
  EXPECT_EQ(RequiredAgreeingRaters(0.75, 3), 3);  // 2 of 3 = 0.667 < 0.75.
  EXPECT_EQ(RequiredAgreeingRaters(0.66, 3), 2);  // 2 of 3 = 0.667 >= 0.66.
  EXPECT_EQ(RequiredAgreeingRaters(0.75, 4), 3);  // Exactly 0.75.
  EXPECT_EQ(RequiredAgreeingRaters(0.75, 5), 4);
  EXPECT_EQ(RequiredAgreeingRaters(1.0, 5), 5);
  EXPECT_EQ(RequiredAgreeingRaters(0.51, 2), 2);
  EXPECT_EQ(RequiredAgreeingRaters(0.75, 0), 0);
}

// --- Answer identity -------------------------------------------------------

TEST(AnswerKeyTest, ExclusiveByOptionId) {
  EXPECT_EQ(Key(1, Opt(1, "full")), "option:full");
  EXPECT_NE(Key(1, Opt(1, "partial")), Key(1, Opt(1, "alt_partial")));
}

TEST(AnswerKeyTest, AdditiveBySetOrderInsensitive) {
  EXPECT_EQ(Key(2, Opts(2, {"y", "x"})), "options:x,y");
  EXPECT_EQ(Key(2, Opts(2, {"y", "x"})), Key(2, Opts(2, {"x", "y"})));
  EXPECT_NE(Key(2, Opts(2, {"x", "y"})), Key(2, Opts(2, {"z"})));  // Same points, other set.
  EXPECT_EQ(Key(2, Opts(2, {})), "options:");
}

TEST(AnswerKeyTest, UnansweredIsTheLowestAnswer) {
  EXPECT_EQ(Key(1, Blank(1)), Key(1, Opt(1, "none")));
  EXPECT_EQ(Key(2, Blank(2)), Key(2, Opts(2, {})));
  EXPECT_EQ(Key(4, Blank(4)), "options:bad");  // ScoreStudy's MinPoints is -1 here.
  absl::StatusOr<CanonicalAnswer> canonical = CanonicaliseAnswer(C(4), Blank(4));
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(canonical->points, -1);
}

TEST(AnswerKeyTest, PointsIdentifyingOneChoiceEqualThatChoice) {
  EXPECT_EQ(Key(1, Pts(1, 2)), Key(1, Opt(1, "full")));
  EXPECT_EQ(Key(1, Pts(1, 0)), Key(1, Opt(1, "none")));
  EXPECT_EQ(Key(2, Pts(2, 4)), Key(2, Opts(2, {"z", "x", "y"})));
  absl::StatusOr<CanonicalAnswer> canonical = CanonicaliseAnswer(C(1), Pts(1, 2));
  ASSERT_TRUE(canonical.ok());
  ASSERT_TRUE(canonical->answer.option_ids.has_value());
  EXPECT_THAT(*canonical->answer.option_ids, ElementsAre("full"));
  EXPECT_FALSE(canonical->answer.points.has_value());
}

TEST(AnswerKeyTest, AmbiguousPointsCompareByPointsOnly) {
  // Points 1 could be "partial" or "alt_partial": equal to other points 1 only.
  EXPECT_EQ(Key(1, Pts(1, 1)), "points:1");
  EXPECT_NE(Key(1, Pts(1, 1)), Key(1, Opt(1, "partial")));
  EXPECT_EQ(Key(1, Pts(1, 1)), Key(1, Pts(1, 1)));
  EXPECT_EQ(Key(2, Pts(2, 2)), "points:2");  // {x,y} or {z}.
}

TEST(AnswerKeyTest, InvalidAnswersNameTheCriterion) {
  struct Case {
    int criterion;
    Answer answer;
    std::string message;
  };
  const std::vector<Case> cases = {
      {1, Answer{1, std::vector<std::string>{"full"}, 2}, "either options or points"},
      {1, Opt(1, "maybe"), "unknown option 'maybe'"},
      {1, Opts(1, {"none", "full"}), "exactly one option"},
      {2, Opts(2, {"x", "x"}), "option 'x' given twice"},
      {1, Pts(1, 3), "points 3 cannot be awarded"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<std::string> key = AnswerKey(C(c.criterion), c.answer);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_THAT(key.status().message(), HasSubstr("criterion " + std::to_string(c.criterion)));
    EXPECT_THAT(key.status().message(), HasSubstr(c.message));
  }
}

// --- Closing a round -------------------------------------------------------

TEST(CloseRoundTest, TwoRatersAtDefaultThresholdNeedBoth) {
  RoundResult split =
      Close(Round(1, {1}, {Rater("a", {RA(Opt(1, "full"))}), Rater("b", {RA(Opt(1, "none"))})}));
  ASSERT_EQ(split.criteria.size(), 1u);
  EXPECT_EQ(split.criteria[0].outcome, CriterionOutcome::kDisputed);
  EXPECT_EQ(split.criteria[0].required, 2);
  EXPECT_FALSE(split.criteria[0].agreed.has_value());
  EXPECT_THAT(split.criteria[0].distribution,
              UnorderedElementsAre(Pair("option:full", 1), Pair("option:none", 1)));

  RoundResult agreed =
      Close(Round(1, {1}, {Rater("a", {RA(Opt(1, "full"))}), Rater("b", {RA(Opt(1, "full"))})}));
  ASSERT_EQ(agreed.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(agreed.criteria[0].agreed->key, "option:full");
  EXPECT_THAT(agreed.Disputed(), IsEmpty());
}

TEST(CloseRoundTest, ThreeRatersTwoToOne) {
  const RoundInput round = Round(1, {3},
                                 {Rater("a", {RA(Opt(3, "yes"))}), Rater("b", {RA(Opt(3, "yes"))}),
                                  Rater("c", {RA(Opt(3, "no"))})});
  RoundResult at_75 = Close(round, Threshold(0.75));
  EXPECT_EQ(at_75.criteria[0].outcome, CriterionOutcome::kDisputed);
  EXPECT_EQ(at_75.criteria[0].required, 3);

  RoundResult at_66 = Close(round, Threshold(0.66));
  ASSERT_EQ(at_66.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(at_66.criteria[0].required, 2);
  EXPECT_EQ(at_66.criteria[0].agreed->key, "option:yes");
  EXPECT_THAT(at_66.criteria[0].distribution,
              UnorderedElementsAre(Pair("option:yes", 2), Pair("option:no", 1)));
}

TEST(CloseRoundTest, Unanimity) {
  RoundResult four_of_five =
      Close(Round(1, {3},
                  {Rater("a", {RA(Opt(3, "yes"))}), Rater("b", {RA(Opt(3, "yes"))}),
                   Rater("c", {RA(Opt(3, "yes"))}), Rater("d", {RA(Opt(3, "yes"))}),
                   Rater("e", {RA(Opt(3, "no"))})}),
            Threshold(1.0));
  EXPECT_EQ(four_of_five.criteria[0].outcome, CriterionOutcome::kDisputed);
  RoundResult all = Close(Round(1, {3},
                                {Rater("a", {RA(Opt(3, "no"))}), Rater("b", {RA(Opt(3, "no"))}),
                                 Rater("c", {RA(Opt(3, "no"))})}),
                          Threshold(1.0));
  EXPECT_EQ(all.criteria[0].outcome, CriterionOutcome::kAgreed);
}

TEST(CloseRoundTest, MissingRatersAreExcludedFromTheShare) {
  // Two of three submit and agree: 2 of 2 answered reaches 0.75.
  RoundResult result =
      Close(Round(1, {1, 3},
                  {Rater("a", {RA(Opt(1, "full")), RA(Opt(3, "no"))}), Missing("b"),
                   Rater("c", {RA(Opt(1, "full")), RA(Opt(3, "yes"))})}));
  EXPECT_THAT(result.missing_raters, ElementsAre("b"));
  ASSERT_EQ(result.criteria.size(), 2u);
  EXPECT_EQ(result.criteria[0].raters_answered, 2);
  EXPECT_EQ(result.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(result.criteria[1].outcome, CriterionOutcome::kDisputed);
  // A missing rater is not counted as the lowest answer.
  EXPECT_EQ(result.criteria[1].distribution.at("option:no"), 1);
  EXPECT_THAT(result.Disputed(), ElementsAre(3));
}

TEST(CloseRoundTest, OneAnsweringRaterIsNoConsensus) {
  RoundResult result =
      Close(Round(1, {1}, {Rater("a", {RA(Opt(1, "full"))}), Missing("b"), Missing("c")}));
  EXPECT_EQ(result.criteria[0].raters_answered, 1);
  EXPECT_EQ(result.criteria[0].outcome, CriterionOutcome::kDisputed);
  RoundResult nobody = Close(Round(1, {1}, {Missing("a"), Missing("b")}));
  EXPECT_EQ(nobody.criteria[0].outcome, CriterionOutcome::kDisputed);
  EXPECT_THAT(nobody.criteria[0].distribution, IsEmpty());
}

TEST(CloseRoundTest, OmittedOpenCriterionCountsAsLowestAnswer) {
  RoundResult result = Close(Round(1, {1}, {Rater("a", {RA(Opt(1, "none"))}), Rater("b", {})}));
  ASSERT_EQ(result.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(result.criteria[0].agreed->key, "option:none");
}

TEST(CloseRoundTest, AdditiveSetsAgreeRegardlessOfOrder) {
  RoundResult result = Close(Round(
      1, {2}, {Rater("a", {RA(Opts(2, {"y", "x"}))}), Rater("b", {RA(Opts(2, {"x", "y"}))})}));
  ASSERT_EQ(result.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(result.criteria[0].agreed->key, "options:x,y");
  ASSERT_TRUE(result.criteria[0].agreed->answer.option_ids.has_value());
  EXPECT_THAT(*result.criteria[0].agreed->answer.option_ids, ElementsAre("x", "y"));

  // Same points (2) but different sub-items is not the same answer.
  RoundResult other = Close(
      Round(1, {2}, {Rater("a", {RA(Opts(2, {"x", "y"}))}), Rater("b", {RA(Opts(2, {"z"}))})}));
  EXPECT_EQ(other.criteria[0].outcome, CriterionOutcome::kDisputed);
}

TEST(CloseRoundTest, PointsAgainstOptions) {
  // Points 2 can only be "full": the same answer.
  RoundResult same =
      Close(Round(1, {1}, {Rater("a", {RA(Pts(1, 2))}), Rater("b", {RA(Opt(1, "full"))})}));
  EXPECT_EQ(same.criteria[0].outcome, CriterionOutcome::kAgreed);
  // Points 1 could be "partial" or "alt_partial": not the same as either.
  RoundResult ambiguous =
      Close(Round(1, {1}, {Rater("a", {RA(Pts(1, 1))}), Rater("b", {RA(Opt(1, "partial"))})}));
  EXPECT_EQ(ambiguous.criteria[0].outcome, CriterionOutcome::kDisputed);
  EXPECT_THAT(ambiguous.criteria[0].distribution,
              UnorderedElementsAre(Pair("points:1", 1), Pair("option:partial", 1)));
  // ... but the same as other points 1.
  RoundResult points =
      Close(Round(1, {1}, {Rater("a", {RA(Pts(1, 1))}), Rater("b", {RA(Pts(1, 1))})}));
  ASSERT_EQ(points.criteria[0].outcome, CriterionOutcome::kAgreed);
  EXPECT_EQ(points.criteria[0].agreed->answer.points, 1);
}

TEST(CloseRoundTest, RejectsMalformedRounds) {
  auto error = [](const RoundInput& round) {
    return CloseRound(TestInstrument(), ConsensusPolicy(), round).status();
  };
  EXPECT_THAT(error(Round(1, {9}, {})).message(), HasSubstr("unknown criterion 9"));
  EXPECT_THAT(error(Round(1, {1, 1}, {})).message(), HasSubstr("criterion 1 opened twice"));
  EXPECT_THAT(error(Round(0, {1}, {})).message(), HasSubstr("round must be at least 1"));
  EXPECT_THAT(error(Round(1, {1}, {Rater("a", {}), Rater("a", {})})).message(),
              HasSubstr("rater a listed twice"));
  EXPECT_THAT(error(Round(1, {1}, {Rater("", {})})).message(), HasSubstr("empty rater id"));
  EXPECT_THAT(error(Round(2, {1}, {Rater("a", {RA(Opt(3, "yes"))})})).message(),
              HasSubstr("rater a: criterion 3 is not open this round"));
  EXPECT_THAT(
      error(Round(1, {1}, {Rater("a", {RA(Opt(1, "full")), RA(Opt(1, "none"))})})).message(),
      HasSubstr("rater a: criterion 1 answered twice"));
  absl::Status invalid = error(Round(1, {1}, {Rater("a", {RA(Opt(1, "maybe"))})}));
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.message(), HasSubstr("rater a: criterion 1: unknown option 'maybe'"));
}

// --- Change between rounds and ending a study -------------------------------

TEST(RoundChangedAnswersTest, ComparesRatersWhoSubmittedInBothRounds) {
  const RoundInput round1 =
      Round(1, {1, 3},
            {Rater("a", {RA(Opt(1, "full")), RA(Opt(3, "no"))}),
             Rater("b", {RA(Opt(1, "none")), RA(Opt(3, "yes"))}), Missing("c")});
  auto changed = [&](const RoundInput& round2) {
    absl::StatusOr<bool> result = RoundChangedAnswers(TestInstrument(), round1, round2);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() && *result;
  };
  // Same answers (one now given as equivalent points, one as the blank lowest).
  EXPECT_FALSE(changed(Round(2, {1}, {Rater("a", {RA(Pts(1, 2))}), Rater("b", {}), Missing("c")})));
  EXPECT_TRUE(changed(Round(
      2, {1}, {Rater("a", {RA(Opt(1, "full"))}), Rater("b", {RA(Opt(1, "full"))}), Missing("c")})));
  // A rater who now submits brings new answers.
  EXPECT_TRUE(changed(Round(2, {1},
                            {Rater("a", {RA(Opt(1, "full"))}), Rater("b", {RA(Opt(1, "none"))}),
                             Rater("c", {RA(Opt(1, "full"))})})));
  // A rater who drops out changes nothing.
  EXPECT_FALSE(
      changed(Round(2, {1}, {Rater("a", {RA(Opt(1, "full"))}), Missing("b"), Missing("c")})));

  EXPECT_THAT(RoundChangedAnswers(TestInstrument(), round1, Round(3, {1}, {})).status().message(),
              HasSubstr("round 3 does not follow round 1"));
  EXPECT_THAT(RoundChangedAnswers(TestInstrument(), round1, Round(2, {2}, {})).status().message(),
              HasSubstr("criterion 2 is open in round 2 but was not in round 1"));
}

RoundResult ResultWith(int round, std::vector<int> disputed, std::vector<int> agreed = {}) {
  RoundResult result;
  result.round = round;
  for (int number : agreed) {
    CriterionResult c;
    c.criterion = number;
    c.outcome = CriterionOutcome::kAgreed;
    result.criteria.push_back(c);
  }
  for (int number : disputed) {
    CriterionResult c;
    c.criterion = number;
    c.outcome = CriterionOutcome::kDisputed;
    result.criteria.push_back(c);
  }
  return result;
}

StudyStep Decide(const ConsensusPolicy& policy, const RoundResult& result, bool changed) {
  absl::StatusOr<StudyStep> step = DecideNextStep(policy, result, changed);
  EXPECT_TRUE(step.ok()) << step.status();
  return step.ok() ? *step : StudyStep();
}

TEST(DecideNextStepTest, ConsensusWhenNothingDisputed) {
  StudyStep step = Decide(ConsensusPolicy(), ResultWith(1, {}, {1, 3}), true);
  EXPECT_EQ(step.decision, StudyDecision::kConsensus);
  EXPECT_EQ(step.reason, EndReason::kAllAgreed);
  EXPECT_EQ(step.next_round, 0);
  EXPECT_THAT(step.disputed, IsEmpty());
}

TEST(DecideNextStepTest, ContinuesWithDisputedCriteria) {
  StudyStep step = Decide(ConsensusPolicy(), ResultWith(1, {3, 1}, {2}), true);
  EXPECT_EQ(step.decision, StudyDecision::kContinue);
  EXPECT_EQ(step.next_round, 2);
  EXPECT_THAT(step.disputed, ElementsAre(3, 1));
  // Round 1 has nothing to be stable against.
  EXPECT_EQ(Decide(ConsensusPolicy(), ResultWith(1, {1}), false).decision,
            StudyDecision::kContinue);
}

TEST(DecideNextStepTest, StabilityStop) {
  StudyStep stable = Decide(ConsensusPolicy(), ResultWith(2, {1}), /*changed=*/false);
  EXPECT_EQ(stable.decision, StudyDecision::kAdjudicate);
  EXPECT_EQ(stable.reason, EndReason::kStable);
  EXPECT_THAT(stable.disputed, ElementsAre(1));
  EXPECT_EQ(Decide(ConsensusPolicy(), ResultWith(2, {1}), true).decision, StudyDecision::kContinue);
  ConsensusPolicy no_stop;
  no_stop.stop_when_stable = false;
  EXPECT_EQ(Decide(no_stop, ResultWith(2, {1}), false).decision, StudyDecision::kContinue);
  // Agreement wins over stability.
  EXPECT_EQ(Decide(ConsensusPolicy(), ResultWith(2, {}, {1}), false).decision,
            StudyDecision::kConsensus);
}

TEST(DecideNextStepTest, MaxRounds) {
  StudyStep last = Decide(ConsensusPolicy(), ResultWith(3, {1}), true);
  EXPECT_EQ(last.decision, StudyDecision::kAdjudicate);
  EXPECT_EQ(last.reason, EndReason::kMaxRounds);
  EXPECT_EQ(last.next_round, 0);
  ConsensusPolicy one;
  one.max_rounds = 1;
  EXPECT_EQ(Decide(one, ResultWith(1, {1}), true).reason, EndReason::kMaxRounds);
  EXPECT_THAT(DecideNextStep(ConsensusPolicy(), ResultWith(4, {1}), true).status().message(),
              HasSubstr("round must be in 1..3, got 4"));
  EXPECT_EQ(StudyDecisionName(StudyDecision::kAdjudicate), "ADJUDICATE");
  EXPECT_EQ(EndReasonName(EndReason::kStable), "STABLE");
  EXPECT_EQ(CriterionOutcomeName(CriterionOutcome::kAgreed), "AGREED");
}

// --- Labels and feedback -----------------------------------------------------

std::map<std::string, std::string> Labels(const std::vector<std::string>& raters,
                                          absl::string_view seed) {
  absl::StatusOr<std::map<std::string, std::string>> labels = AssignRaterLabels(raters, seed);
  EXPECT_TRUE(labels.ok()) << labels.status();
  return labels.ok() ? *labels : std::map<std::string, std::string>();
}

TEST(RaterLabelsTest, DistinctStableAndIndependentOfInputOrder) {
  const std::vector<std::string> panel = {"u17", "u03", "u42", "u08"};
  std::map<std::string, std::string> labels = Labels(panel, "study-9:salt");
  std::set<std::string> values;
  for (const auto& [id, label] : labels) values.insert(label);
  EXPECT_THAT(values, UnorderedElementsAre("Rater A", "Rater B", "Rater C", "Rater D"));
  EXPECT_EQ(Labels({"u42", "u08", "u17", "u03"}, "study-9:salt"), labels);
  EXPECT_EQ(Labels(panel, "study-9:salt"), labels);
}

TEST(RaterLabelsTest, DependOnTheSeedNotOnIdOrder) {
  // Over many studies, the rater with the smallest id must not always be
  // "Rater A", and the labels must not always follow the ids' order.
  const std::vector<std::string> panel = {"alice", "bob", "carol"};
  std::set<std::string> labels_of_alice;
  int sorted_assignments = 0;
  for (int study = 0; study < 40; ++study) {
    std::map<std::string, std::string> labels = Labels(panel, "study-" + std::to_string(study));
    labels_of_alice.insert(labels["alice"]);
    if (labels["alice"] == "Rater A" && labels["bob"] == "Rater B") ++sorted_assignments;
  }
  EXPECT_EQ(labels_of_alice.size(), 3u);
  EXPECT_LT(sorted_assignments, 20);  // 1 in 6 expected.
}

TEST(RaterLabelsTest, ManyRatersAndErrors) {
  std::vector<std::string> panel;
  for (int i = 0; i < 28; ++i) panel.push_back("r" + std::to_string(i));
  std::set<std::string> values;
  for (const auto& [id, label] : Labels(panel, "seed")) values.insert(label);
  EXPECT_EQ(values.size(), 28u);
  EXPECT_TRUE(values.count("Rater Z") > 0 && values.count("Rater AA") > 0 &&
              values.count("Rater AB") > 0);
  EXPECT_THAT(AssignRaterLabels({}, "s").status().message(), HasSubstr("no raters"));
  EXPECT_THAT(AssignRaterLabels({"a"}, "").status().message(), HasSubstr("empty label seed"));
  EXPECT_THAT(AssignRaterLabels({"a", "a"}, "s").status().message(),
              HasSubstr("rater a listed twice"));
}

class FeedbackTest : public ::testing::Test {
 protected:
  FeedbackTest()
      : round1_(Round(1, {1, 3},
                      {Rater("u1", {RA(Opt(1, "full"), "validated externally", "p. 5"),
                                    RA(Opt(3, "yes"), "yes-1", "p. 1")}),
                       Rater("u2", {RA(Opt(1, "none"), "no validation", "p. 6"),
                                    RA(Opt(3, "no"), "no-2", "p. 2")}),
                       Rater("u3", {RA(Opt(1, "full"), "table 3", "Table 3"),
                                    RA(Opt(3, "yes"), "yes-3", "p. 3")}),
                       Missing("u4")})),
        result1_(Close(round1_)),
        labels_(Labels({"u1", "u2", "u3", "u4"}, "study-1:review-salt")) {}

  CriterionFeedback Feedback(const std::string& rater, int criterion,
                             const ConsensusPolicy& policy = ConsensusPolicy()) {
    absl::StatusOr<CriterionFeedback> feedback =
        BuildFeedback(TestInstrument(), policy, round1_, result1_, labels_, rater, criterion);
    EXPECT_TRUE(feedback.ok()) << feedback.status();
    return feedback.ok() ? *feedback : CriterionFeedback();
  }

  std::string LabelOwner(const std::string& label) const {
    for (const auto& [id, value] : labels_) {
      if (value == label) return id;
    }
    return "";
  }

  RoundInput round1_;
  RoundResult result1_;
  std::map<std::string, std::string> labels_;
};

TEST_F(FeedbackTest, ShowsDistributionOwnAnswerAndLabelledOthers) {
  ASSERT_THAT(result1_.Disputed(), ElementsAre(1, 3));  // 2 of 3 < 0.75 on both.
  CriterionFeedback feedback = Feedback("u2", 1);
  EXPECT_EQ(feedback.previous_round, 1);
  EXPECT_EQ(feedback.raters_answered, 3);
  EXPECT_THAT(feedback.distribution,
              UnorderedElementsAre(Pair("option:full", 2), Pair("option:none", 1)));
  EXPECT_EQ(feedback.own_label, labels_["u2"]);
  ASSERT_TRUE(feedback.own_answer.has_value());
  EXPECT_EQ(feedback.own_answer->rationale, "no validation");
  EXPECT_EQ(feedback.own_answer_key, "option:none");
  ASSERT_EQ(feedback.others.size(), 2u);  // u1 and u3; u4 did not submit.
  for (const LabelledAnswer& other : feedback.others) {
    EXPECT_NE(other.label, feedback.own_label);
    EXPECT_EQ(other.answer_key, "option:full");
    if (other.label == labels_["u1"]) {
      EXPECT_EQ(other.rationale, "validated externally");
      EXPECT_EQ(other.evidence, "p. 5");
    } else {
      EXPECT_EQ(other.label, labels_["u3"]);
      EXPECT_EQ(other.evidence, "Table 3");
    }
  }
  EXPECT_LT(feedback.others[0].label, feedback.others[1].label);
}

TEST_F(FeedbackTest, LabelsAreConsistentAcrossCriteriaAndRounds) {
  const std::map<std::pair<std::string, int>, std::string> kRationales = {
      {{"u1", 1}, "validated externally"},
      {{"u1", 3}, "yes-1"},
      {{"u2", 1}, "no validation"},
      {{"u2", 3}, "no-2"},
      {{"u3", 1}, "table 3"},
      {{"u3", 3}, "yes-3"}};
  for (const std::string viewer : {"u1", "u2", "u3"}) {
    std::set<std::string> seen_labels;
    for (int criterion : {1, 3}) {
      CriterionFeedback feedback = Feedback(viewer, criterion);
      EXPECT_EQ(feedback.own_label, labels_[viewer]);
      for (const LabelledAnswer& other : feedback.others) {
        EXPECT_NE(other.label, labels_[viewer]);
        seen_labels.insert(other.label);
      }
      // Each label carries the rationale its own rater wrote, for every viewer.
      for (const LabelledAnswer& other : feedback.others) {
        EXPECT_EQ(other.rationale, kRationales.at({LabelOwner(other.label), criterion}));
      }
    }
    EXPECT_EQ(seen_labels.size(), 2u);  // The same two others on both criteria.
  }
  // Recomputing the labels for a later round (same panel and seed) gives the same.
  EXPECT_EQ(Labels({"u4", "u3", "u2", "u1"}, "study-1:review-salt"), labels_);
}

TEST_F(FeedbackTest, RationalesHiddenByPolicy) {
  ConsensusPolicy policy;
  policy.share_rationales = false;
  CriterionFeedback feedback = Feedback("u1", 1, policy);
  ASSERT_EQ(feedback.others.size(), 2u);
  for (const LabelledAnswer& other : feedback.others) {
    EXPECT_THAT(other.rationale, IsEmpty());
    EXPECT_THAT(other.evidence, IsEmpty());
    EXPECT_THAT(other.answer_key, ::testing::Not(IsEmpty()));
  }
  // The rater still sees their own rationale.
  EXPECT_EQ(feedback.own_answer->rationale, "validated externally");
}

TEST_F(FeedbackTest, MissingRaterSeesEveryoneAndNoOwnAnswer) {
  CriterionFeedback feedback = Feedback("u4", 1);
  EXPECT_FALSE(feedback.own_answer.has_value());
  EXPECT_FALSE(feedback.own_answer_key.has_value());
  EXPECT_EQ(feedback.others.size(), 3u);
}

TEST_F(FeedbackTest, Errors) {
  RoundResult agreed_round =
      Close(Round(1, {3}, {Rater("u1", {RA(Opt(3, "yes"))}), Rater("u2", {RA(Opt(3, "yes"))})}));
  absl::StatusOr<CriterionFeedback> not_disputed = BuildFeedback(
      TestInstrument(), ConsensusPolicy(),
      Round(1, {3}, {Rater("u1", {RA(Opt(3, "yes"))}), Rater("u2", {RA(Opt(3, "yes"))})}),
      agreed_round, labels_, "u1", 3);
  EXPECT_EQ(not_disputed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(BuildFeedback(TestInstrument(), ConsensusPolicy(), round1_, result1_, labels_, "u1", 2)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(BuildFeedback(TestInstrument(), ConsensusPolicy(), round1_, result1_, labels_, "u9", 1)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

// --- Consensus assessment ------------------------------------------------------

TEST(ConsensusAnswersTest, AgreedPlusAdjudicatedScores) {
  RoundResult round1 =
      Close(Round(1, {1, 2, 3},
                  {Rater("a", {RA(Opt(1, "full")), RA(Opts(2, {"y", "x"})), RA(Opt(3, "yes"))}),
                   Rater("b", {RA(Pts(1, 2)), RA(Opts(2, {"x", "y"})), RA(Opt(3, "no"))})}));
  ASSERT_THAT(round1.Disputed(), ElementsAre(3));
  std::map<int, Adjudication> adjudications = {
      {3, Adjudication{Opt(3, "yes"), "Methods state it explicitly"}}};
  absl::StatusOr<std::vector<Answer>> answers =
      ConsensusAnswers(TestInstrument(), {round1}, adjudications);
  ASSERT_TRUE(answers.ok()) << answers.status();
  ASSERT_EQ(answers->size(), 3u);
  EXPECT_EQ((*answers)[0].criterion, 1);
  EXPECT_EQ((*answers)[1].criterion, 2);
  EXPECT_EQ((*answers)[2].criterion, 3);

  ScoreRequest request;
  request.answers = *answers;
  request.level_threshold_percent = ConsensusPolicy().level_threshold_percent;
  absl::StatusOr<ScoreReport> report = ScoreStudy(TestInstrument(), request);
  ASSERT_TRUE(report.ok()) << report.status();
  // full 2 + {x, y} 2 + yes 1 + criterion 4 unanswered at its lowest, -1.
  EXPECT_EQ(report->total, 4);
}

TEST(ConsensusAnswersTest, AdjudicationRequiredAndReasonMandatory) {
  RoundResult round1 = Close(Round(1, {1, 3},
                                   {Rater("a", {RA(Opt(1, "full")), RA(Opt(3, "yes"))}),
                                    Rater("b", {RA(Opt(1, "none")), RA(Opt(3, "no"))})}));
  RoundResult round2 = Close(Round(2, {1, 3},
                                   {Rater("a", {RA(Opt(1, "full")), RA(Opt(3, "no"))}),
                                    Rater("b", {RA(Opt(1, "none")), RA(Opt(3, "yes"))})}));
  const std::vector<RoundResult> rounds = {round1, round2};

  absl::Status none = ConsensusAnswers(TestInstrument(), rounds, {}).status();
  EXPECT_EQ(none.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(none.message(), HasSubstr("not adjudicated: 1, 3"));

  absl::Status one =
      ConsensusAnswers(TestInstrument(), rounds, {{1, Adjudication{Opt(1, "full"), "Table 2"}}})
          .status();
  EXPECT_EQ(one.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(one.message(), HasSubstr("not adjudicated: 3"));

  absl::Status blank = ConsensusAnswers(TestInstrument(), rounds,
                                        {{1, Adjudication{Opt(1, "full"), "Table 2"}},
                                         {3, Adjudication{Opt(3, "no"), "  \t"}}})
                           .status();
  EXPECT_EQ(blank.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(blank.message(), HasSubstr("criterion 3: an adjudication needs a reason"));

  absl::Status invalid = ConsensusAnswers(TestInstrument(), rounds,
                                          {{1, Adjudication{Opt(1, "maybe"), "why"}},
                                           {3, Adjudication{Opt(3, "no"), "why"}}})
                             .status();
  EXPECT_THAT(invalid.message(), HasSubstr("unknown option 'maybe'"));

  absl::Status wrong =
      ConsensusAnswers(TestInstrument(), rounds, {{1, Adjudication{Opt(3, "no"), "why"}}}).status();
  EXPECT_THAT(wrong.message(), HasSubstr("adjudication of criterion 1 answers criterion 3"));

  absl::StatusOr<std::vector<Answer>> done =
      ConsensusAnswers(TestInstrument(), rounds,
                       {{1, Adjudication{Opt(1, "full"), "Table 2"}},
                        {3, Adjudication{Opt(3, "no"), "Not reported"}}});
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->size(), 2u);
}

TEST(ConsensusAnswersTest, RejectsOverridingAgreementAndBadRoundSequences) {
  RoundResult round1 = Close(Round(1, {1, 3},
                                   {Rater("a", {RA(Opt(1, "full")), RA(Opt(3, "yes"))}),
                                    Rater("b", {RA(Opt(1, "full")), RA(Opt(3, "no"))})}));
  absl::Status agreed = ConsensusAnswers(TestInstrument(), {round1},
                                         {{1, Adjudication{Opt(1, "none"), "I disagree"}},
                                          {3, Adjudication{Opt(3, "no"), "why"}}})
                            .status();
  EXPECT_EQ(agreed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(agreed.message(), HasSubstr("criterion 1 is not disputed"));

  EXPECT_THAT(ConsensusAnswers(TestInstrument(), {}, {}).status().message(),
              HasSubstr("no rounds"));
  // A disputed criterion not carried into round 2 still needs adjudication.
  RoundResult round2_only3 = ResultWith(2, {3});
  EXPECT_THAT(ConsensusAnswers(TestInstrument(), {ResultWith(1, {1, 3}), round2_only3},
                               {{3, Adjudication{Opt(3, "no"), "why"}}})
                  .status()
                  .message(),
              HasSubstr("not adjudicated: 1"));
  // An AGREED result must carry its answer.
  EXPECT_THAT(ConsensusAnswers(TestInstrument(), {ResultWith(1, {}, {1})}, {}).status().message(),
              HasSubstr("criterion 1 agreed in round 1 without an agreed answer"));
  RoundResult reopened = ResultWith(2, {1});
  EXPECT_THAT(ConsensusAnswers(TestInstrument(), {round1, reopened}, {}).status().message(),
              HasSubstr("round 2 opens criterion 1, which was not disputed in round 1"));
  EXPECT_THAT(ConsensusAnswers(TestInstrument(), {ResultWith(2, {1})}, {}).status().message(),
              HasSubstr("round 1 is numbered 2"));
}

// --- Convergence ----------------------------------------------------------------

// Runs one study through rounds with the real functions, as the server will.
TEST(ConvergenceTest, HandComputedScenario) {
  // Three raters, default threshold 0.75: every criterion needs all three.
  const ConsensusPolicy policy;
  const Instrument& instrument = TestInstrument();

  // Study S1, criteria 1 and 3.
  //   Round 1: c1 full/full/full -> agreed; c3 yes/no/no -> disputed.
  //   Round 2: c3 no/no/no -> agreed. Consensus: c1 full, c3 no.
  StudyConsensusRecord s1;
  s1.first_round = Round(1, {1, 3},
                         {Rater("r1", {RA(Opt(1, "full")), RA(Opt(3, "yes"))}),
                          Rater("r2", {RA(Opt(1, "full")), RA(Opt(3, "no"))}),
                          Rater("r3", {RA(Opt(1, "full")), RA(Opt(3, "no"))})});
  s1.rounds.push_back(Close(s1.first_round, policy));
  StudyStep step = Decide(policy, s1.rounds[0], true);
  ASSERT_EQ(step.decision, StudyDecision::kContinue);
  const RoundInput s1_round2 =
      Round(2, step.disputed,
            {Rater("r1", {RA(Opt(3, "no"))}), Rater("r2", {RA(Opt(3, "no"))}),
             Rater("r3", {RA(Opt(3, "no"))})});
  s1.rounds.push_back(Close(s1_round2, policy));
  absl::StatusOr<bool> changed = RoundChangedAnswers(instrument, s1.first_round, s1_round2);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);  // r1 moved from yes to no.
  step = Decide(policy, s1.rounds[1], *changed);
  ASSERT_EQ(step.decision, StudyDecision::kConsensus);
  absl::StatusOr<std::vector<Answer>> consensus = ConsensusAnswers(instrument, s1.rounds, {});
  ASSERT_TRUE(consensus.ok()) << consensus.status();
  s1.consensus = *consensus;

  // Study S2, criteria 1, 2 and 3.
  //   Round 1: c1 none/partial/none -> disputed; c2 {x} x3 and c3 yes x3 -> agreed.
  //   Round 2: c1 none/partial/none again -> disputed, nothing changed -> stable stop.
  //   Adjudication: c1 partial. Consensus: c1 partial, c2 {x}, c3 yes.
  StudyConsensusRecord s2;
  s2.first_round =
      Round(1, {1, 2, 3},
            {Rater("r1", {RA(Opt(1, "none")), RA(Opts(2, {"x"})), RA(Opt(3, "yes"))}),
             Rater("r2", {RA(Opt(1, "partial")), RA(Opts(2, {"x"})), RA(Opt(3, "yes"))}),
             Rater("r3", {RA(Opt(1, "none")), RA(Opts(2, {"x"})), RA(Opt(3, "yes"))})});
  s2.rounds.push_back(Close(s2.first_round, policy));
  ASSERT_THAT(s2.rounds[0].Disputed(), ElementsAre(1));
  const RoundInput s2_round2 =
      Round(2, {1},
            {Rater("r1", {RA(Opt(1, "none"))}), Rater("r2", {RA(Opt(1, "partial"))}),
             Rater("r3", {RA(Opt(1, "none"))})});
  s2.rounds.push_back(Close(s2_round2, policy));
  changed = RoundChangedAnswers(instrument, s2.first_round, s2_round2);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  step = Decide(policy, s2.rounds[1], *changed);
  ASSERT_EQ(step.decision, StudyDecision::kAdjudicate);
  EXPECT_EQ(step.reason, EndReason::kStable);
  consensus = ConsensusAnswers(instrument, s2.rounds,
                               {{1, Adjudication{Opt(1, "partial"), "Internal validation only"}}});
  ASSERT_TRUE(consensus.ok()) << consensus.status();
  s2.consensus = *consensus;

  absl::StatusOr<ConvergenceReport> report = MeasureConvergence(instrument, {s1, s2});
  ASSERT_TRUE(report.ok()) << report.status();
  // Items: 2 (S1) + 3 (S2) = 5.
  EXPECT_EQ(report->items, 5);
  // Round 1: S1 c1 + S2 c2, c3 = 3 of 5 = 0.6.
  // Round 2: + S1 c3 = 4 of 5 = 0.8 (S2 c1 was adjudicated, never agreed).
  ASSERT_EQ(report->consensus_share_by_round.size(), 2u);
  EXPECT_DOUBLE_EQ(report->consensus_share_by_round[0], 0.6);
  EXPECT_DOUBLE_EQ(report->consensus_share_by_round[1], 0.8);
  // Round-1 answers against the consensus (S1: full, no; S2: partial, {x}, yes):
  //   r1: S1 c1 yes, c3 no; S2 c1 no, c2 yes, c3 yes -> 3 of 5 = 0.6
  //   r2: all five match                                 -> 5 of 5 = 1.0
  //   r3: S1 both; S2 c1 no, c2 yes, c3 yes              -> 4 of 5 = 0.8
  ASSERT_EQ(report->raters.size(), 3u);
  EXPECT_EQ(report->raters[0].rater, "r1");
  EXPECT_EQ(report->raters[0].matching, 3);
  EXPECT_EQ(report->raters[0].compared, 5);
  EXPECT_DOUBLE_EQ(report->raters[0].share, 0.6);
  EXPECT_EQ(report->raters[1].rater, "r2");
  EXPECT_DOUBLE_EQ(report->raters[1].share, 1.0);
  EXPECT_EQ(report->raters[2].rater, "r3");
  EXPECT_EQ(report->raters[2].matching, 4);
  EXPECT_DOUBLE_EQ(report->raters[2].share, 0.8);
}

TEST(ConvergenceTest, UnfinishedStudiesCountForRoundSharesOnly) {
  StudyConsensusRecord open;
  open.first_round = Round(1, {1, 3},
                           {Rater("r1", {RA(Opt(1, "full")), RA(Opt(3, "yes"))}),
                            Rater("r2", {RA(Opt(1, "full")), RA(Opt(3, "no"))})});
  open.rounds.push_back(Close(open.first_round));
  absl::StatusOr<ConvergenceReport> report = MeasureConvergence(TestInstrument(), {open});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->items, 2);
  EXPECT_THAT(report->consensus_share_by_round, ElementsAre(0.5));
  EXPECT_THAT(report->raters, IsEmpty());

  StudyConsensusRecord no_rounds;
  EXPECT_EQ(MeasureConvergence(TestInstrument(), {no_rounds}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Two studies whose raters give the same answers in different forms:
// points 2 on criterion 1 are the option full; {y,x} is {x,y}; criterion 3
// left out is its lowest option, no; criterion 4 left out is its negative
// sub-item, bad; points 1 on criterion 1 and points 2 on criterion 2 name no
// single choice and stay points.
std::vector<StudyConsensusRecord> AnswersInManyForms() {
  const std::vector<RoundAnswer> r1 = {RA(Pts(1, 2)), RA(Opts(2, {"y", "x"})), RA(Opt(3, "yes"))};
  const std::vector<RoundAnswer> r2 = {RA(Opt(1, "full")), RA(Opts(2, {"x", "y"})),
                                       RA(Opt(3, "no")), RA(Opts(4, {"bad"}))};
  const std::vector<RoundAnswer> r3 = {RA(Pts(1, 1)), RA(Pts(2, 2)), RA(Opts(4, {"good"}))};
  StudyConsensusRecord a;
  a.first_round = Round(1, {1, 2, 3, 4}, {Rater("r1", r1), Rater("r2", r2), Rater("r3", r3)});
  a.rounds.push_back(Close(a.first_round));
  a.consensus = {Opt(1, "full"), Opts(2, {"x", "y"}), Opt(3, "no"), Opts(4, {"bad"})};
  StudyConsensusRecord b;
  b.first_round = Round(1, {1, 2, 3, 4}, {Rater("r1", r1), Rater("r2", r2), Missing("r3")});
  b.rounds.push_back(Close(b.first_round));
  b.consensus = {Opt(1, "full"), Opts(2, {"x", "y"}), Opt(3, "yes"), Opts(4, {"bad"})};
  return {a, b};
}

void ExpectSameReport(const ConvergenceReport& actual, const ConvergenceReport& expected) {
  EXPECT_EQ(actual.items, expected.items);
  EXPECT_EQ(actual.consensus_share_by_round, expected.consensus_share_by_round);
  ASSERT_EQ(actual.raters.size(), expected.raters.size());
  for (size_t i = 0; i < actual.raters.size(); ++i) {
    EXPECT_EQ(actual.raters[i].rater, expected.raters[i].rater);
    EXPECT_EQ(actual.raters[i].matching, expected.raters[i].matching);
    EXPECT_EQ(actual.raters[i].compared, expected.raters[i].compared);
    EXPECT_EQ(actual.raters[i].share, expected.raters[i].share);
  }
}

TEST(ConvergenceTest, ComparesRoundOneAnswersWithTheConsensusByIdentity) {
  absl::StatusOr<ConvergenceReport> report =
      MeasureConvergence(TestInstrument(), AnswersInManyForms());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->items, 8);
  // Against A's consensus (full, {x,y}, no, bad) and B's (full, {x,y}, yes, bad):
  //   r1: A c1 c2 c4; B all four      -> 7 of 8
  //   r2: A all four; B c1 c2 c4      -> 7 of 8
  //   r3: A c3 only (left out: no)    -> 1 of 4 (missing in B)
  ASSERT_EQ(report->raters.size(), 3u);
  EXPECT_EQ(report->raters[0].matching, 7);
  EXPECT_EQ(report->raters[0].compared, 8);
  EXPECT_EQ(report->raters[1].matching, 7);
  EXPECT_EQ(report->raters[1].compared, 8);
  EXPECT_EQ(report->raters[2].matching, 1);
  EXPECT_EQ(report->raters[2].compared, 4);
}

TEST(ConvergenceMeasureTest, AddingStudiesOneAtATimeGivesTheSameReport) {
  const std::vector<StudyConsensusRecord> studies = AnswersInManyForms();
  absl::StatusOr<ConvergenceReport> whole = MeasureConvergence(TestInstrument(), studies);
  ASSERT_TRUE(whole.ok()) << whole.status();
  ConvergenceMeasure measure(TestInstrument());
  for (const StudyConsensusRecord& study : studies) ASSERT_TRUE(measure.Add(study).ok());
  ExpectSameReport(measure.Report(), *whole);

  ConvergenceMeasure empty(TestInstrument());
  EXPECT_EQ(empty.Report().items, 0);
  EXPECT_THAT(empty.Report().consensus_share_by_round, IsEmpty());
  EXPECT_THAT(empty.Report().raters, IsEmpty());
}

TEST(ConvergenceMeasureTest, AStudyThatFailsCountsForNothing) {
  std::vector<StudyConsensusRecord> studies = AnswersInManyForms();
  // An unknown option in one rater's round-1 answer, after others that count.
  StudyConsensusRecord bad = studies[0];
  bad.first_round.raters[2].answers.push_back(RA(Opt(3, "maybe")));
  ConvergenceMeasure measure(TestInstrument());
  ASSERT_TRUE(measure.Add(studies[0]).ok());
  for (int attempt = 0; attempt < 2; ++attempt) {  // The second time from memory.
    const absl::Status failed = measure.Add(bad);
    EXPECT_EQ(failed.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(failed.message(), HasSubstr("rater r3: criterion 3: unknown option 'maybe'"));
  }
  StudyConsensusRecord no_rounds;
  EXPECT_EQ(measure.Add(no_rounds).code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(measure.Add(studies[1]).ok());
  absl::StatusOr<ConvergenceReport> good = MeasureConvergence(TestInstrument(), studies);
  ASSERT_TRUE(good.ok()) << good.status();
  ExpectSameReport(measure.Report(), *good);
  EXPECT_EQ(MeasureConvergence(TestInstrument(), {studies[0], bad}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rqs::scoring
