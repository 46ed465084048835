#include "scoring/score.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::scoring {
namespace {

using ::testing::HasSubstr;

Answer Option(int criterion, std::string id) {
  return Answer{criterion, std::vector<std::string>{std::move(id)}, std::nullopt};
}
Answer Options(int criterion, std::vector<std::string> ids) {
  return Answer{criterion, std::move(ids), std::nullopt};
}
Answer Points(int criterion, int points) { return Answer{criterion, std::nullopt, points}; }

ScoreRequest Request(StudyType type, std::vector<Answer> answers) {
  ScoreRequest request;
  request.study_type = type;
  request.answers = std::move(answers);
  return request;
}

// One answer set for the paper's worked example (Fig. 3; text: "At RRL5, the
// study had a compliance of 65% (22 out of 34 points) ... RRL9 compliance of
// only 41% (23 out of 56 points)"; RRL6 one of five points; nothing at RRL7-9).
std::vector<Answer> WorkedExampleAnswers() {
  return {Option(1, "multicentre"), Option(2, "yes"), Option(3, "level1"), Option(4, "yes"),
          Option(6, "yes"), Option(7, "yes"), Option(9, "yes"),
          Option(11, "yes"), Option(14, "yes"),
          Option(15, "yes"), Option(16, "yes"), Options(17, {"statistic", "resampling"}),
          Option(18, "yes"), Options(20, {"code"}),
          Option(21, "two_or_more_external"), Option(22, "yes"), Points(24, 2),
          Option(27, "yes")};
}

absl::Status ScoreError(const ScoreRequest& request, const Instrument& instrument = Rqs2()) {
  return ScoreStudy(instrument, request).status();
}

TEST(ScoreStudyTest, WorkedExampleMatchesThePaper) {
  ScoreRequest request = Request(StudyType::kHandcrafted, WorkedExampleAnswers());
  const ScoreReport full = *ScoreStudy(Rqs2(), request);
  EXPECT_EQ(full.total, 23);
  EXPECT_EQ(full.max, 56);
  EXPECT_EQ(static_cast<int>(full.percent + 0.5), 41);
  ASSERT_EQ(full.levels.size(), 9u);
  EXPECT_EQ(full.levels[4].cumulative_points, 22);
  EXPECT_EQ(full.levels[4].cumulative_max, 34);
  EXPECT_EQ(static_cast<int>(full.levels[4].cumulative_percent + 0.5), 65);
  EXPECT_EQ(full.levels[5].points, 1);
  EXPECT_EQ(full.levels[5].max, 5);
  for (size_t level = 7; level <= 9; ++level) EXPECT_EQ(full.levels[level - 1].points, 0);

  // Compliance up to RRL5, as the web tool computes it.
  request.answers.pop_back();  // criterion 27 lies at RRL6, above the target.
  request.target_level = 5;
  const ScoreReport up_to_5 = *ScoreStudy(Rqs2(), request);
  EXPECT_EQ(up_to_5.total, 22);
  EXPECT_EQ(up_to_5.max, 34);
  EXPECT_NEAR(up_to_5.percent, 100.0 * 22 / 34, 1e-12);
  EXPECT_EQ(up_to_5.levels.size(), 5u);
}

TEST(ScoreStudyTest, LevelAndCumulativeFigures) {
  const ScoreReport report =
      *ScoreStudy(Rqs2(), Request(StudyType::kHandcrafted, WorkedExampleAnswers()));
  const int expected_points[] = {4, 3, 3, 6, 6, 1, 0, 0, 0};
  const int expected_max[] = {7, 5, 5, 9, 8, 5, 7, 6, 4};
  int cumulative = 0;
  for (size_t i = 0; i < 9; ++i) {
    const LevelScore& level = report.levels[i];
    cumulative += expected_points[i];
    EXPECT_EQ(level.level, static_cast<int>(i) + 1);
    EXPECT_EQ(level.points, expected_points[i]);
    EXPECT_EQ(level.max, expected_max[i]);
    EXPECT_DOUBLE_EQ(level.percent, 100.0 * expected_points[i] / expected_max[i]);
    EXPECT_EQ(level.cumulative_points, cumulative);
  }
  EXPECT_EQ(report.attained_level, 5);  // RRL6 has 1 of 5 points, under 50 %.
}

TEST(ScoreStudyTest, UnansweredCriteriaScoreTheirLowestOption) {
  const ScoreReport rqs2 = *ScoreStudy(Rqs2(), Request(StudyType::kDeepLearning, {}));
  EXPECT_EQ(rqs2.total, 0);
  EXPECT_EQ(rqs2.max, 52);
  EXPECT_EQ(rqs2.attained_level, 0);
  const ScoreReport rqs1 = *ScoreStudy(Rqs1(), Request(StudyType::kHandcrafted, {}));
  EXPECT_EQ(rqs1.total, -8);  // item 5 at -3, item 12 at -5
  EXPECT_EQ(rqs1.min, -8);
  EXPECT_EQ(rqs1.max, 36);
  EXPECT_TRUE(rqs1.levels.empty());
  // An explicit null answer is also unanswered.
  const ScoreReport with_null =
      *ScoreStudy(Rqs1(), Request(StudyType::kHandcrafted, {Answer{12, std::nullopt, std::nullopt}}));
  EXPECT_EQ(with_null.total, -8);
  EXPECT_FALSE(with_null.criteria[11].answered);
}

TEST(ScoreStudyTest, FullMarksPerStudyType) {
  for (StudyType type : {StudyType::kHandcrafted, StudyType::kDeepLearning, StudyType::kHybrid}) {
    std::vector<Answer> answers;
    for (const Criterion& criterion : Rqs2().criteria) {
      if (criterion.AppliesTo(type)) answers.push_back(Points(criterion.number, criterion.MaxPoints()));
    }
    const ScoreReport report = *ScoreStudy(Rqs2(), Request(type, answers));
    EXPECT_EQ(report.total, report.max) << StudyTypeName(type);
    EXPECT_EQ(report.total, type == StudyType::kDeepLearning ? 52 : 56);
    EXPECT_EQ(report.attained_level, 9);
    EXPECT_DOUBLE_EQ(report.percent, 100.0);
  }
  std::vector<Answer> rqs1_best;
  for (const Criterion& criterion : Rqs1().criteria) {
    rqs1_best.push_back(Points(criterion.number, criterion.MaxPoints()));
  }
  EXPECT_EQ(ScoreStudy(Rqs1(), Request(StudyType::kDeepLearning, rqs1_best))->total, 36);
}

TEST(ScoreStudyTest, AdditiveSubItemsAddUp) {
  const ScoreReport report = *ScoreStudy(
      Rqs2(), Request(StudyType::kDeepLearning, {Options(20, {"data", "segmentations", "code"}),
                                                 Options(28, {"bias_correction"}), Options(17, {})}));
  EXPECT_EQ(report.total, 4);
  EXPECT_EQ(Rqs1().FindCriterion(12)->MinPoints(), -5);
  const ScoreReport rqs1 = *ScoreStudy(
      Rqs1(), Request(StudyType::kHandcrafted, {Option(5, "either"), Option(12, "two_external"),
                                                Options(16, {"scans", "code"}), Points(1, 2)}));
  EXPECT_EQ(rqs1.total, 3 + 4 + 2 + 2);
}

// Attained RRL: the highest L whose levels 1..L each hold at least the
// threshold share of their points.
TEST(AttainedLevelTest, ExactlyAtTheThresholdCounts) {
  // RRL1 max 7 for HCR: 4/7 = 57 % passes 50 %; 3/7 = 43 % does not.
  ScoreRequest request = Request(StudyType::kHandcrafted,
                                 {Option(1, "consensus_method"), Option(2, "yes"), Option(4, "yes")});
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 1);
  request.answers.pop_back();
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 0);
  // RRL2 for DLR has max 3 (criteria 7, 8, 10). With RRL1 full, 2/3 passes a
  // threshold of 66.6 and fails 66.7.
  request = Request(StudyType::kDeepLearning,
                    {Option(1, "consensus_method"), Option(2, "yes"), Option(3, "level4"),
                     Option(4, "yes"), Option(5, "yes"), Option(7, "yes"), Option(8, "yes")});
  request.level_threshold_percent = 66.6;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 2);
  request.level_threshold_percent = 66.7;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 1);
  // A level at exactly the threshold: 4 of 8 (RRL5) at 50 %.
  request.level_threshold_percent = 50;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->levels[1].percent, 200.0 / 3);
}

TEST(AttainedLevelTest, AGapStopsTheClimb) {
  // RRL1 and RRL3 full, RRL2 empty: attained is 1, whatever lies above.
  ScoreRequest request = Request(
      StudyType::kHandcrafted,
      {Option(1, "consensus_method"), Option(2, "yes"), Option(3, "level3"), Option(4, "yes"),
       Option(5, "yes"), Option(11, "yes"), Option(12, "yes"), Option(13, "yes"), Option(14, "yes")});
  const ScoreReport report = *ScoreStudy(Rqs2(), request);
  EXPECT_EQ(report.attained_level, 1);
  EXPECT_TRUE(report.levels[0].attained);
  EXPECT_FALSE(report.levels[1].attained);
  EXPECT_FALSE(report.levels[2].attained);  // Met, but above a gap.
}

TEST(AttainedLevelTest, ThresholdZeroAndHundredAndTargetCap) {
  ScoreRequest request = Request(StudyType::kHandcrafted, {});
  request.level_threshold_percent = 0;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 9);
  request.target_level = 4;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 4);
  request = Request(StudyType::kHandcrafted, {Option(1, "consensus_method"), Option(2, "yes"),
                                              Option(3, "level2"), Option(4, "yes"), Option(5, "yes")});
  request.level_threshold_percent = 100;
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 0);  // 6 of 7
  request.answers[2] = Option(3, "level3");
  EXPECT_EQ(ScoreStudy(Rqs2(), request)->attained_level, 1);  // 7 of 7
}

struct BadInputCase {
  const char* name;
  ScoreRequest request;
  const Instrument* instrument;
  const char* message;  // Expected substring.
};

std::vector<BadInputCase> BadInputs() {
  ScoreRequest above_target = Request(StudyType::kHandcrafted, {Option(25, "yes")});
  above_target.target_level = 5;
  ScoreRequest target_zero = Request(StudyType::kHandcrafted, {});
  target_zero.target_level = 0;
  ScoreRequest target_ten = Request(StudyType::kHandcrafted, {});
  target_ten.target_level = 10;
  ScoreRequest rqs1_target = Request(StudyType::kHandcrafted, {});
  rqs1_target.target_level = 9;
  ScoreRequest threshold = Request(StudyType::kHandcrafted, {});
  threshold.level_threshold_percent = 101;
  return {
      {"unknown criterion", Request(StudyType::kHandcrafted, {Option(43, "yes")}), &Rqs2(),
       "criterion 43: unknown criterion"},
      {"unknown rqs1 item", Request(StudyType::kHandcrafted, {Points(17, 1)}), &Rqs1(),
       "criterion 17: unknown criterion"},
      {"impossible points", Request(StudyType::kHandcrafted, {Points(14, 1)}), &Rqs2(),
       "criterion 14: points 1 cannot be awarded (possible: 0, 2)"},
      {"zero on rqs1 item 12", Request(StudyType::kHandcrafted, {Points(12, 0)}), &Rqs1(),
       "criterion 12: points 0 cannot be awarded (possible: -5, 2, 3, 4, 5)"},
      {"negative points", Request(StudyType::kHandcrafted, {Points(2, -1)}), &Rqs2(),
       "criterion 2: points -1 cannot be awarded"},
      {"points above maximum", Request(StudyType::kHandcrafted, {Points(20, 4)}), &Rqs2(),
       "criterion 20: points 4 cannot be awarded"},
      {"unknown option", Request(StudyType::kHandcrafted, {Option(3, "level5")}), &Rqs2(),
       "criterion 3: unknown option 'level5' (options: level0, level1, level2, level3, level4)"},
      {"two options on exclusive", Request(StudyType::kHandcrafted, {Options(21, {"none", "third_party"})}),
       &Rqs2(), "criterion 21: choose exactly one option, got 2"},
      {"no option on exclusive", Request(StudyType::kHandcrafted, {Options(2, {})}), &Rqs2(),
       "criterion 2: choose exactly one option, got 0"},
      {"repeated sub-item", Request(StudyType::kHandcrafted, {Options(20, {"code", "code"})}), &Rqs2(),
       "criterion 20: option 'code' given twice"},
      {"options and points", Request(StudyType::kHandcrafted, {Answer{2, {{"yes"}}, 1}}), &Rqs2(),
       "criterion 2: give either options or points, not both"},
      {"inapplicable criterion", Request(StudyType::kDeepLearning, {Option(6, "yes")}), &Rqs2(),
       "criterion 6: does not apply to DLR studies (only HCR)"},
      {"above target", above_target, &Rqs2(), "criterion 25: belongs to RRL6, above the target RRL5"},
      {"duplicate criterion", Request(StudyType::kHandcrafted, {Option(2, "yes"), Option(2, "no")}),
       &Rqs2(), "criterion 2: answered twice"},
      {"target zero", target_zero, &Rqs2(), "target_rrl 0 is outside 1-9"},
      {"target ten", target_ten, &Rqs2(), "target_rrl 10 is outside 1-9"},
      {"target on rqs1", rqs1_target, &Rqs1(), "instrument rqs1 has no readiness levels"},
      {"threshold", threshold, &Rqs2(), "level_threshold 101 is outside 0-100"},
  };
}

TEST(ScoreStudyTest, EveryKindOfBadInputIsRejectedWithItsReason) {
  for (const BadInputCase& bad : BadInputs()) {
    SCOPED_TRACE(bad.name);
    const absl::Status status = ScoreError(bad.request, *bad.instrument);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()), HasSubstr(bad.message));
  }
}

}  // namespace
}  // namespace rqs::scoring
