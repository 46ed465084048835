// Checks the instrument tables against the published rubrics: RQS 2.0 from
// Lambin et al. 2025, Table 2 (points, applicability, levels, cumulative
// maxima); RQS 1.0 from Lambin et al. 2017, Fig. 4 (16 items, -8..36).
#include "scoring/instrument.h"

#include <map>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scoring/score.h"

namespace rqs::scoring {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

// One row of a published rubric: criterion number, level, applicability,
// kind, and the points of each option / sub-item in order.
struct ExpectedCriterion {
  int number;
  int level;
  Applicability applies_to;
  OptionKind kind;
  std::vector<int> option_points;
};

constexpr Applicability kBoth = Applicability::kBoth;
constexpr Applicability kHcr = Applicability::kHandcraftedOnly;
constexpr OptionKind kExcl = OptionKind::kExclusive;
constexpr OptionKind kAdd = OptionKind::kAdditive;

// RQS 2.0, Table 2 of the paper, row by row.
const std::vector<ExpectedCriterion>& Rqs2Table2() {
  static const auto* const kRows = new std::vector<ExpectedCriterion>{
      {1, 1, kBoth, kExcl, {0, 1, 2}},        // more than one centre +1, consensus method +2
      {2, 1, kBoth, kExcl, {0, 1}},
      {3, 1, kBoth, kExcl, {0, 1, 1, 2, 2}},  // levels 0..4: levels 1-2 +1, levels 3-4 +2
      {4, 1, kBoth, kExcl, {0, 1}},
      {5, 1, kBoth, kExcl, {0, 1}},
      {6, 2, kHcr, kExcl, {0, 1}},
      {7, 2, kBoth, kExcl, {0, 1}},
      {8, 2, kBoth, kExcl, {0, 1}},
      {9, 2, kHcr, kExcl, {0, 1}},
      {10, 2, kBoth, kExcl, {0, 1}},
      {11, 3, kHcr, kExcl, {0, 1}},
      {12, 3, kHcr, kExcl, {0, 1}},
      {13, 3, kBoth, kExcl, {0, 1}},
      {14, 3, kBoth, kExcl, {0, 2}},
      {15, 4, kBoth, kExcl, {0, 1}},
      {16, 4, kBoth, kExcl, {0, 1}},
      {17, 4, kBoth, kAdd, {1, 1}},           // statistic +1, resampling +1
      {18, 4, kBoth, kExcl, {0, 1}},
      {19, 4, kBoth, kExcl, {0, 1}},
      {20, 4, kBoth, kAdd, {1, 1, 1}},        // data, segmentations, code
      {21, 5, kBoth, kExcl, {0, 1, 2, 3}},    // one external, >=2 external, third party
      {22, 5, kBoth, kExcl, {0, 2}},
      {23, 5, kBoth, kExcl, {0, 1}},
      {24, 5, kBoth, kExcl, {0, 2}},
      {25, 6, kBoth, kExcl, {0, 1}},
      {26, 6, kBoth, kExcl, {0, 1}},
      {27, 6, kBoth, kExcl, {0, 1}},
      {28, 6, kBoth, kAdd, {1, 1}},           // fairness evaluation, bias correction
      {29, 7, kBoth, kExcl, {0, 1}},
      {30, 7, kBoth, kExcl, {0, 1}},
      {31, 7, kBoth, kExcl, {0, 1}},
      {32, 7, kBoth, kExcl, {0, 3}},
      {33, 7, kBoth, kExcl, {0, 1}},
      {34, 8, kBoth, kExcl, {0, 1}},
      {35, 8, kBoth, kExcl, {0, 1}},
      {36, 8, kBoth, kExcl, {0, 2}},
      {37, 8, kBoth, kExcl, {0, 1}},
      {38, 8, kBoth, kExcl, {0, 1}},
      {39, 9, kBoth, kExcl, {0, 1}},
      {40, 9, kBoth, kExcl, {0, 1}},
      {41, 9, kBoth, kExcl, {0, 1}},
      {42, 9, kBoth, kExcl, {0, 1}},
  };
  return *kRows;
}

// RQS 1.0, Lambin et al. 2017, Fig. 4.
const std::vector<ExpectedCriterion>& Rqs1Items() {
  static const auto* const kRows = new std::vector<ExpectedCriterion>{
      {1, 0, kBoth, kAdd, {1, 1}},    // protocols documented +1, public protocol +1
      {2, 0, kBoth, kExcl, {0, 1}},   // multiple segmentations
      {3, 0, kBoth, kExcl, {0, 1}},   // phantom study
      {4, 0, kBoth, kExcl, {0, 1}},   // multiple time points
      {5, 0, kBoth, kExcl, {-3, 3}},  // feature reduction: -3 if neither, +3 if either
      {6, 0, kBoth, kExcl, {0, 1}},   // multivariable analysis
      {7, 0, kBoth, kExcl, {0, 1}},   // biological correlates
      {8, 0, kBoth, kExcl, {0, 1}},   // cut-off analyses
      {9, 0, kBoth, kAdd, {1, 1}},    // discrimination statistics
      {10, 0, kBoth, kAdd, {1, 1}},   // calibration statistics
      {11, 0, kBoth, kExcl, {0, 7}},  // prospective study registered
      {12, 0, kBoth, kExcl, {-5, 2, 3, 4, 4, 5}},  // validation
      {13, 0, kBoth, kExcl, {0, 2}},  // comparison to gold standard
      {14, 0, kBoth, kExcl, {0, 2}},  // potential clinical utility
      {15, 0, kBoth, kExcl, {0, 1}},  // cost-effectiveness
      {16, 0, kBoth, kAdd, {1, 1, 1, 1}},  // open science and data
  };
  return *kRows;
}

void ExpectMatches(const Instrument& instrument, const std::vector<ExpectedCriterion>& rows) {
  ASSERT_EQ(instrument.criteria.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const Criterion& criterion = instrument.criteria[i];
    const ExpectedCriterion& row = rows[i];
    SCOPED_TRACE(testing::Message() << instrument.id << " criterion " << row.number);
    EXPECT_EQ(criterion.number, row.number);
    EXPECT_EQ(criterion.level, row.level);
    EXPECT_EQ(criterion.applies_to, row.applies_to);
    EXPECT_EQ(criterion.kind, row.kind);
    std::vector<int> points;
    for (const Option& option : criterion.options) points.push_back(option.points);
    EXPECT_THAT(points, ElementsAreArray(row.option_points));
    EXPECT_FALSE(criterion.name.empty());
    EXPECT_FALSE(criterion.description.empty());
  }
}

TEST(Rqs2Test, EveryCriterionMatchesTable2) { ExpectMatches(Rqs2(), Rqs2Table2()); }

TEST(Rqs1Test, EveryItemMatchesPublishedChecklist) { ExpectMatches(Rqs1(), Rqs1Items()); }

TEST(InstrumentTest, BuiltInInstrumentsAreConsistent) {
  for (const Instrument* instrument : AllInstruments()) {
    EXPECT_TRUE(ValidateInstrument(*instrument).ok()) << ValidateInstrument(*instrument);
  }
}

TEST(Rqs2Test, CumulativeMaximaMatchTable2) {
  // Table 2, "Cumulative maximum total score" rows.
  EXPECT_THAT(CumulativeMaxima(Rqs2(), StudyType::kHandcrafted),
              ElementsAre(7, 12, 17, 26, 34, 39, 46, 52, 56));
  EXPECT_THAT(CumulativeMaxima(Rqs2(), StudyType::kDeepLearning),
              ElementsAre(7, 10, 13, 22, 30, 35, 42, 48, 52));
  // A hybrid study is scored on every criterion, so it has the HCR maxima.
  EXPECT_THAT(CumulativeMaxima(Rqs2(), StudyType::kHybrid),
              ElementsAre(7, 12, 17, 26, 34, 39, 46, 52, 56));
}

TEST(Rqs2Test, MinimaAndMaximaPerStudyType) {
  int hcr_max = 0, dlr_max = 0, min = 0;
  for (const Criterion& criterion : Rqs2().criteria) {
    if (criterion.AppliesTo(StudyType::kHandcrafted)) hcr_max += criterion.MaxPoints();
    if (criterion.AppliesTo(StudyType::kDeepLearning)) dlr_max += criterion.MaxPoints();
    min += criterion.MinPoints();
  }
  EXPECT_EQ(hcr_max, 56);
  EXPECT_EQ(dlr_max, 52);
  EXPECT_EQ(min, 0);
}

TEST(Rqs1Test, TotalRangesFromMinus8To36) {
  int max = 0, min = 0;
  for (const Criterion& criterion : Rqs1().criteria) {
    max += criterion.MaxPoints();
    min += criterion.MinPoints();
  }
  EXPECT_EQ(max, 36);
  EXPECT_EQ(min, -8);
}

TEST(CriterionTest, PossiblePointsOfExclusiveAndAdditiveCriteria) {
  EXPECT_THAT(Rqs2().FindCriterion(3)->PossiblePoints(), ElementsAre(0, 1, 2));
  EXPECT_THAT(Rqs2().FindCriterion(14)->PossiblePoints(), ElementsAre(0, 2));
  EXPECT_THAT(Rqs2().FindCriterion(20)->PossiblePoints(), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(Rqs2().FindCriterion(21)->PossiblePoints(), ElementsAre(0, 1, 2, 3));
  EXPECT_THAT(Rqs2().FindCriterion(32)->PossiblePoints(), ElementsAre(0, 3));
  EXPECT_THAT(Rqs1().FindCriterion(5)->PossiblePoints(), ElementsAre(-3, 3));
  EXPECT_THAT(Rqs1().FindCriterion(12)->PossiblePoints(), ElementsAre(-5, 2, 3, 4, 5));
  EXPECT_THAT(Rqs1().FindCriterion(16)->PossiblePoints(), ElementsAre(0, 1, 2, 3, 4));
}

TEST(CriterionTest, ApplicabilityByStudyType) {
  const std::vector<int> hcr_only = {6, 9, 11, 12};
  for (const Criterion& criterion : Rqs2().criteria) {
    const bool is_hcr_only =
        std::find(hcr_only.begin(), hcr_only.end(), criterion.number) != hcr_only.end();
    EXPECT_TRUE(criterion.AppliesTo(StudyType::kHandcrafted)) << criterion.number;
    EXPECT_TRUE(criterion.AppliesTo(StudyType::kHybrid)) << criterion.number;
    EXPECT_EQ(criterion.AppliesTo(StudyType::kDeepLearning), !is_hcr_only) << criterion.number;
  }
}

TEST(InstrumentTest, FindInstrumentByIdAndRejectUnknown) {
  ASSERT_TRUE(FindInstrument("rqs2").ok());
  EXPECT_EQ((*FindInstrument("rqs1"))->criteria.size(), 16u);
  const absl::StatusOr<const Instrument*> unknown = FindInstrument("rqs3");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unknown.status().message()), testing::HasSubstr("rqs3"));
}

TEST(InstrumentTest, ValidateInstrumentRejectsInconsistentData) {
  Instrument broken = Rqs2();
  broken.criteria[1].number = 1;  // duplicate number
  EXPECT_EQ(ValidateInstrument(broken).code(), absl::StatusCode::kInternal);
  broken = Rqs2();
  broken.criteria[0].level = 10;
  EXPECT_EQ(ValidateInstrument(broken).code(), absl::StatusCode::kInternal);
  broken = Rqs2();
  broken.criteria[2].options[1].id = "level0";  // duplicate option id
  EXPECT_EQ(ValidateInstrument(broken).code(), absl::StatusCode::kInternal);
  broken = Rqs2();
  broken.criteria[5].options.resize(1);  // exclusive with one option
  EXPECT_EQ(ValidateInstrument(broken).code(), absl::StatusCode::kInternal);
}

TEST(StudyTypeTest, ParsesAndNamesEveryType) {
  for (StudyType type : {StudyType::kHandcrafted, StudyType::kDeepLearning, StudyType::kHybrid}) {
    EXPECT_EQ(*ParseStudyType(StudyTypeName(type)), type);
  }
  EXPECT_EQ(ParseStudyType("hcr").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rqs::scoring
