#include "scoring/review_summary.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::scoring {
namespace {

using ::testing::HasSubstr;

Answer Yes(int criterion) {
  return Answer{criterion, std::vector<std::string>{"yes"}, std::nullopt};
}
Answer Points(int criterion, int points) { return Answer{criterion, std::nullopt, points}; }

// Every criterion of `levels` 1..up_to that applies to `type`, at full marks.
std::vector<Answer> FullMarksUpTo(StudyType type, int up_to) {
  std::vector<Answer> answers;
  for (const Criterion& criterion : Rqs2().criteria) {
    if (criterion.level <= up_to && criterion.AppliesTo(type)) {
      answers.push_back(Points(criterion.number, criterion.MaxPoints()));
    }
  }
  return answers;
}

ScoreReport Score(const Instrument& instrument, StudyType type, std::vector<Answer> answers,
                  std::optional<int> target = std::nullopt) {
  ScoreRequest request;
  request.study_type = type;
  request.target_level = target;
  request.answers = std::move(answers);
  absl::StatusOr<ScoreReport> report = ScoreStudy(instrument, request);
  EXPECT_TRUE(report.ok()) << report.status();
  return *report;
}

const CriterionFulfilmentRow& Row(const ReviewSummary& summary, int criterion) {
  return summary.criteria[static_cast<size_t>(criterion - 1)];
}

// Four RQS 2.0 studies, mixed HCR/DLR. Level maxima: HCR {7,5,5,9,8,5,7,6,4}
// (56), DLR {7,3,3,9,8,5,7,6,4} (52: criteria 6, 9 at RRL2 and 11, 12 at RRL3
// are HCR-only).
//   S1 HCR: full marks at RRL1-2       -> 7 + 5 = 12 / 56, attained RRL2 (RRL3 0/5).
//   S2 DLR: full RRL1 + criterion 14   -> 7 + 2 = 9 / 52, attained RRL1 (RRL2 0/3).
//   S3 DLR: nothing                    -> 0 / 52, attained 0.
//   S4 HCR: criteria 2 and 6           -> 1 + 1 = 2 / 56, attained 0 (RRL1 1/7).
std::vector<ScoreReport> MixedReview() {
  std::vector<Answer> s2 = FullMarksUpTo(StudyType::kDeepLearning, 1);
  s2.push_back(Yes(14));
  return {Score(Rqs2(), StudyType::kHandcrafted, FullMarksUpTo(StudyType::kHandcrafted, 2)),
          Score(Rqs2(), StudyType::kDeepLearning, s2), Score(Rqs2(), StudyType::kDeepLearning, {}),
          Score(Rqs2(), StudyType::kHandcrafted, {Yes(2), Yes(6)})};
}

TEST(ReviewSummaryTest, TotalScoreDistributions) {
  const std::vector<ScoreReport> reports = MixedReview();
  ASSERT_EQ(reports[0].total, 12);
  ASSERT_EQ(reports[1].total, 9);
  ASSERT_EQ(reports[2].total, 0);
  ASSERT_EQ(reports[3].total, 2);
  const ReviewSummary summary = *SummariseReview(Rqs2(), reports);
  EXPECT_EQ(summary.studies, 4);

  // Points {12, 9, 0, 2}: mean 23/4 = 5.75; sorted {0, 2, 9, 12}, median
  // (2 + 9)/2 = 5.5; deviations 6.25, 3.25, -5.75, -3.75, squares sum 96.75,
  // sd = sqrt(96.75 / 3) = sqrt(32.25).
  EXPECT_DOUBLE_EQ(summary.points.mean, 5.75);
  EXPECT_DOUBLE_EQ(summary.points.median, 5.5);
  EXPECT_DOUBLE_EQ(summary.points.sd, std::sqrt(32.25));
  EXPECT_DOUBLE_EQ(summary.points.min, 0);
  EXPECT_DOUBLE_EQ(summary.points.max, 12);

  // Percent of each study's own maximum: 12/56, 9/52, 0/52, 2/56 (x100).
  const double p1 = 1200.0 / 56, p2 = 900.0 / 52, p4 = 200.0 / 56;
  EXPECT_NEAR(summary.percent.mean, (p1 + p2 + 0 + p4) / 4, 1e-12);  // 10.5769...
  EXPECT_NEAR(summary.percent.median, (p4 + p2) / 2, 1e-12);         // sorted {0, p4, p2, p1}
  EXPECT_DOUBLE_EQ(summary.percent.min, 0);
  EXPECT_DOUBLE_EQ(summary.percent.max, p1);
  const double m = (p1 + p2 + p4) / 4;
  const double ss = (p1 - m) * (p1 - m) + (p2 - m) * (p2 - m) + m * m + (p4 - m) * (p4 - m);
  EXPECT_NEAR(summary.percent.sd, std::sqrt(ss / 3), 1e-12);
}

TEST(ReviewSummaryTest, AttainedLevelsAndLevelCompliance) {
  const ReviewSummary summary = *SummariseReview(Rqs2(), MixedReview());
  // Attained exactly: 0 -> S3, S4; 1 -> S2; 2 -> S1.
  EXPECT_EQ(summary.attained_level_counts, (std::vector<int>{2, 1, 1, 0, 0, 0, 0, 0, 0, 0}));

  ASSERT_EQ(summary.levels.size(), 9u);
  // RRL1: 7/7, 7/7, 0/7, 1/7 -> (100 + 100 + 0 + 100/7) / 4 = 53.571...; attained >= 1: S1, S2.
  EXPECT_EQ(summary.levels[0].level, 1);
  EXPECT_EQ(summary.levels[0].studies, 4);
  EXPECT_NEAR(summary.levels[0].mean_percent, (200.0 + 100.0 / 7) / 4, 1e-12);
  EXPECT_EQ(summary.levels[0].attained, 2);
  // RRL2: S1 5/5, S2 0/3, S3 0/3, S4 1/5 -> (100 + 0 + 0 + 20) / 4 = 30; attained: S1.
  EXPECT_NEAR(summary.levels[1].mean_percent, 30.0, 1e-12);
  EXPECT_EQ(summary.levels[1].attained, 1);
  // RRL3: S1 0/5, S2 2/3, S3 0/3, S4 0/5 -> (200/3) / 4 = 16.666...; nobody attained it.
  EXPECT_NEAR(summary.levels[2].mean_percent, 200.0 / 3 / 4, 1e-12);
  EXPECT_EQ(summary.levels[2].attained, 0);
  // RRL9: nothing anywhere.
  EXPECT_EQ(summary.levels[8].level, 9);
  EXPECT_EQ(summary.levels[8].studies, 4);
  EXPECT_DOUBLE_EQ(summary.levels[8].mean_percent, 0);
}

TEST(ReviewSummaryTest, CriterionFulfilmentCountsOnlyApplicableStudies) {
  const ReviewSummary summary = *SummariseReview(Rqs2(), MixedReview());
  ASSERT_EQ(summary.criteria.size(), 42u);

  // Criterion 1 (max 2): S1 and S2 at 2 -> 2 of 4 met, mean 4/4 = 1.
  EXPECT_EQ(Row(summary, 1).criterion, 1);
  EXPECT_EQ(Row(summary, 1).title, "Unmet clinical need");
  EXPECT_EQ(Row(summary, 1).level, 1);
  EXPECT_EQ(Row(summary, 1).max_points, 2);
  EXPECT_EQ(Row(summary, 1).studies, 4);
  EXPECT_EQ(Row(summary, 1).fulfilled, 2);
  EXPECT_DOUBLE_EQ(Row(summary, 1).fulfilled_percent, 50);
  EXPECT_DOUBLE_EQ(Row(summary, 1).mean_points, 1);
  // Criterion 2: S1, S2, S4 -> 3 of 4 = 75 %, mean 0.75.
  EXPECT_EQ(Row(summary, 2).fulfilled, 3);
  EXPECT_DOUBLE_EQ(Row(summary, 2).fulfilled_percent, 75);
  EXPECT_DOUBLE_EQ(Row(summary, 2).mean_points, 0.75);
  // Criterion 6 is HCR-only: counted over S1 and S4, both met -> 2 of 2 = 100 %.
  EXPECT_EQ(Row(summary, 6).studies, 2);
  EXPECT_EQ(Row(summary, 6).fulfilled, 2);
  EXPECT_DOUBLE_EQ(Row(summary, 6).fulfilled_percent, 100);
  // Criterion 9 is HCR-only: S1 only -> 1 of 2 = 50 %.
  EXPECT_EQ(Row(summary, 9).studies, 2);
  EXPECT_DOUBLE_EQ(Row(summary, 9).fulfilled_percent, 50);
  // Criterion 14 (2 points): S2 only -> 1 of 4 = 25 %, mean 2/4 = 0.5.
  EXPECT_EQ(Row(summary, 14).fulfilled, 1);
  EXPECT_DOUBLE_EQ(Row(summary, 14).fulfilled_percent, 25);
  EXPECT_DOUBLE_EQ(Row(summary, 14).mean_points, 0.5);
  // Criterion 42: nobody.
  EXPECT_EQ(Row(summary, 42).studies, 4);
  EXPECT_EQ(Row(summary, 42).fulfilled, 0);
  EXPECT_DOUBLE_EQ(Row(summary, 42).fulfilled_percent, 0);
}

TEST(ReviewSummaryTest, OnlyDeepLearningStudiesLeaveHandcraftedCriteriaUncounted) {
  const std::vector<ScoreReport> reports = {Score(Rqs2(), StudyType::kDeepLearning, {Yes(2)}),
                                            Score(Rqs2(), StudyType::kDeepLearning, {})};
  const ReviewSummary summary = *SummariseReview(Rqs2(), reports);
  for (int hcr_only : {6, 9, 11, 12}) {
    EXPECT_EQ(Row(summary, hcr_only).studies, 0) << hcr_only;
    EXPECT_DOUBLE_EQ(Row(summary, hcr_only).fulfilled_percent, 0) << hcr_only;
    EXPECT_DOUBLE_EQ(Row(summary, hcr_only).mean_points, 0) << hcr_only;
  }
  EXPECT_EQ(Row(summary, 2).studies, 2);
  EXPECT_DOUBLE_EQ(Row(summary, 2).fulfilled_percent, 50);
}

TEST(ReviewSummaryTest, TargetLevelLimitsWhatACriterionAndALevelCount) {
  // S1 scored up to RRL2 only (its report has no criterion 14 and no RRL3+);
  // S2 up to RRL9 with criterion 14 met.
  const std::vector<ScoreReport> reports = {
      Score(Rqs2(), StudyType::kHandcrafted, FullMarksUpTo(StudyType::kHandcrafted, 2), 2),
      Score(Rqs2(), StudyType::kHandcrafted, {Yes(14)})};
  const ReviewSummary summary = *SummariseReview(Rqs2(), reports);
  EXPECT_EQ(Row(summary, 14).studies, 1);
  EXPECT_DOUBLE_EQ(Row(summary, 14).fulfilled_percent, 100);
  EXPECT_EQ(summary.levels[0].studies, 2);
  EXPECT_EQ(summary.levels[2].studies, 1);
  EXPECT_DOUBLE_EQ(summary.levels[2].mean_percent, 40);  // S2: 2 of 5 at RRL3.
  // S1 attained RRL2 (12/12 points of its target): percent is of its own maximum.
  EXPECT_EQ(summary.levels[1].attained, 1);
  EXPECT_DOUBLE_EQ(summary.percent.max, 100);
}

TEST(ReviewSummaryTest, LevelWithZeroMaximumIsNotAveraged) {
  std::vector<ScoreReport> reports = {Score(Rqs2(), StudyType::kHandcrafted, {Yes(42)}),
                                      Score(Rqs2(), StudyType::kHandcrafted, {})};
  // Hand-made: a report whose RRL9 has nothing to score.
  reports[1].levels[8].points = 0;
  reports[1].levels[8].max = 0;
  const ReviewSummary summary = *SummariseReview(Rqs2(), reports);
  EXPECT_EQ(summary.levels[8].studies, 1);
  EXPECT_DOUBLE_EQ(summary.levels[8].mean_percent, 25);  // 1 of 4 points, one study.
}

TEST(ReviewSummaryTest, NoStudiesGivesZerosAndEveryRow) {
  const ReviewSummary summary = *SummariseReview(Rqs2(), {});
  EXPECT_EQ(summary.studies, 0);
  for (const Distribution& d : {summary.points, summary.percent}) {
    EXPECT_EQ(d.mean, 0);
    EXPECT_EQ(d.sd, 0);
    EXPECT_EQ(d.median, 0);
    EXPECT_EQ(d.min, 0);
    EXPECT_EQ(d.max, 0);
  }
  EXPECT_EQ(summary.attained_level_counts, std::vector<int>(10, 0));
  ASSERT_EQ(summary.criteria.size(), 42u);
  for (const CriterionFulfilmentRow& row : summary.criteria) {
    EXPECT_EQ(row.studies, 0);
    EXPECT_EQ(row.fulfilled, 0);
    EXPECT_EQ(row.fulfilled_percent, 0);
  }
  EXPECT_EQ(Row(summary, 6).max_points, 1);
  ASSERT_EQ(summary.levels.size(), 9u);
  for (const LevelComplianceRow& row : summary.levels) {
    EXPECT_EQ(row.studies, 0);
    EXPECT_EQ(row.mean_percent, 0);
    EXPECT_EQ(row.attained, 0);
  }
}

TEST(ReviewSummaryTest, Rqs1HasNoLevelsAndNegativePoints) {
  std::vector<Answer> best;
  for (const Criterion& criterion : Rqs1().criteria) {
    best.push_back(Points(criterion.number, criterion.MaxPoints()));
  }
  // Nothing answered: -8 (items 5 at -3 and 12 at -5); every item at best: 36.
  const std::vector<ScoreReport> reports = {Score(Rqs1(), StudyType::kHandcrafted, {}),
                                            Score(Rqs1(), StudyType::kHandcrafted, best)};
  const ReviewSummary summary = *SummariseReview(Rqs1(), reports);
  // Points {-8, 36}: mean 14, median 14, sd = sqrt((22^2 + 22^2) / 1) = 22 * sqrt(2).
  EXPECT_DOUBLE_EQ(summary.points.mean, 14);
  EXPECT_DOUBLE_EQ(summary.points.median, 14);
  EXPECT_DOUBLE_EQ(summary.points.sd, 22 * std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(summary.points.min, -8);
  // Percent {-800/36, 100}.
  EXPECT_DOUBLE_EQ(summary.percent.min, -800.0 / 36);
  EXPECT_DOUBLE_EQ(summary.percent.max, 100);
  EXPECT_TRUE(summary.levels.empty());
  EXPECT_EQ(summary.attained_level_counts, std::vector<int>{2});
  ASSERT_EQ(summary.criteria.size(), 16u);
  // Item 5: -3 and +3 -> one of two studies has more than 0; mean 0.
  EXPECT_EQ(Row(summary, 5).level, 0);
  EXPECT_EQ(Row(summary, 5).fulfilled, 1);
  EXPECT_DOUBLE_EQ(Row(summary, 5).fulfilled_percent, 50);
  EXPECT_DOUBLE_EQ(Row(summary, 5).mean_points, 0);
  // Item 12: -5 and its maximum.
  EXPECT_DOUBLE_EQ(Row(summary, 12).mean_points, (-5.0 + Row(summary, 12).max_points) / 2);
}

TEST(ReviewSummaryTest, RejectsInconsistentReports) {
  const ScoreReport good = Score(Rqs2(), StudyType::kHandcrafted, {Yes(2)});

  absl::Status status =
      SummariseReview(Rqs2(), {good, Score(Rqs1(), StudyType::kHandcrafted, {})}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("report 1"));
  EXPECT_THAT(status.message(), HasSubstr("rqs1"));

  ScoreReport unknown = good;
  unknown.criteria[0].criterion = 43;
  status = SummariseReview(Rqs2(), {unknown}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("unknown criterion 43"));

  ScoreReport twice = good;
  twice.criteria.push_back(twice.criteria[0]);
  status = SummariseReview(Rqs2(), {twice}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("listed twice"));

  ScoreReport bad_level = good;
  bad_level.levels[0].level = 10;
  status = SummariseReview(Rqs2(), {bad_level}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("level 10"));

  ScoreReport bad_attained = good;
  bad_attained.attained_level = -1;
  status = SummariseReview(Rqs2(), {bad_attained}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("attained level -1"));
}

TEST(DistributeTest, SmallSamples) {
  const Distribution one = Distribute({7});
  EXPECT_DOUBLE_EQ(one.mean, 7);
  EXPECT_DOUBLE_EQ(one.sd, 0);
  EXPECT_DOUBLE_EQ(one.median, 7);
  // {5, 1, 3}: mean 3, median 3, sd = sqrt((4 + 4 + 0) / 2) = 2.
  const Distribution three = Distribute({5, 1, 3});
  EXPECT_DOUBLE_EQ(three.mean, 3);
  EXPECT_DOUBLE_EQ(three.median, 3);
  EXPECT_DOUBLE_EQ(three.sd, 2);
  EXPECT_DOUBLE_EQ(three.min, 1);
  EXPECT_DOUBLE_EQ(three.max, 5);
}

}  // namespace
}  // namespace rqs::scoring
