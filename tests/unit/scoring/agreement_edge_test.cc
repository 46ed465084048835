// Edge cases of the agreement statistics: undefined figures, invalid input,
// missing ratings, warnings and interpretation bands.
#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "scoring/agreement.h"
#include "tests/unit/scoring/agreement_test_data.h"

namespace rqs::scoring {
namespace {

using ::rqs::scoring::testing::AnxietyRows;
using ::rqs::scoring::testing::kNA;
using ::rqs::scoring::testing::MakeTable;
using ::rqs::scoring::testing::ShroutFleiss;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

AgreementResult Compute(const RatingsTable& table, const AgreementOptions& options = {}) {
  absl::StatusOr<AgreementResult> result = ComputeAgreement(table, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : AgreementResult{};
}

// Every reported number must be finite: undefined is nullopt, never NaN/inf.
void ExpectAllFinite(const AgreementResult& r) {
  for (const StatisticId id : kAllStatistics) {
    const Statistic& s = GetStatistic(r, id);
    SCOPED_TRACE(std::string(StatisticKey(id)));
    for (const std::optional<double>& field :
         {s.value, s.standard_error, s.z, s.f, s.df1, s.df2, s.p_value, s.ci_lower, s.ci_upper,
          s.bootstrap_ci_lower, s.bootstrap_ci_upper}) {
      if (field.has_value()) {
        EXPECT_TRUE(std::isfinite(*field));
      }
    }
    if (!s.value.has_value()) {
      EXPECT_TRUE(s.interpretation.empty());
    }
  }
}

TEST(AgreementEdgeTest, IdenticalRatingsLeaveChanceCorrectedFiguresUndefined) {
  const AgreementResult r = Compute(MakeTable({{2, 2, 2}, {2, 2, 2}, {2, 2, 2}, {2, 2, 2}}));
  ExpectAllFinite(r);
  EXPECT_EQ(*r.percent_agreement.value, 1.0);
  for (const StatisticId id : kAllStatistics) {
    if (id == StatisticId::kPercentAgreement) continue;
    EXPECT_FALSE(GetStatistic(r, id).value.has_value()) << StatisticKey(id);
  }
  EXPECT_THAT(r.warnings, Contains(HasSubstr("Undefined for these data")));
  EXPECT_EQ(r.categories, std::vector<double>{2.0});
}

TEST(AgreementEdgeTest, IdenticalNonIntegerRatingsAreNotRoundingNoise) {
  // 0.1 is inexact in binary; the ICC must still be undefined, not a ratio
  // of rounding errors.
  const AgreementResult r = Compute(MakeTable({{0.1, 0.1}, {0.1, 0.1}, {0.1, 0.1}}));
  ExpectAllFinite(r);
  EXPECT_FALSE(r.icc1.value.has_value());
  EXPECT_FALSE(r.icc3k.value.has_value());
  EXPECT_FALSE(r.krippendorff_alpha_interval.value.has_value());
  EXPECT_FALSE(r.cohen_kappa.value.has_value());
}

TEST(AgreementEdgeTest, SingleSubjectHasNoIcc) {
  const AgreementResult r = Compute(MakeTable({{1, 2, 3}}));
  ExpectAllFinite(r);
  EXPECT_EQ(r.subjects, 1);
  EXPECT_EQ(r.subjects_used, 1);
  for (const StatisticId id : {StatisticId::kIcc1, StatisticId::kIcc2, StatisticId::kIcc3,
                               StatisticId::kIcc1k, StatisticId::kIcc2k, StatisticId::kIcc3k}) {
    EXPECT_FALSE(GetStatistic(r, id).value.has_value()) << StatisticKey(id);
  }
  // Three different ratings of one subject: no pair of raters agrees.
  EXPECT_EQ(*r.percent_agreement.value, 0.0);
}

TEST(AgreementEdgeTest, EmptyTableIsValidAndUndefined) {
  RatingsTable table;
  table.rater_labels = {"A", "B"};
  const AgreementResult r = Compute(table);
  ExpectAllFinite(r);
  EXPECT_EQ(r.subjects, 0);
  EXPECT_EQ(r.subjects_used, 0);
  EXPECT_EQ(r.raters, 2);
  for (const StatisticId id : kAllStatistics) {
    EXPECT_FALSE(GetStatistic(r, id).value.has_value()) << StatisticKey(id);
  }
}

TEST(AgreementEdgeTest, PerfectAgreementAcrossSubjects) {
  const AgreementResult r = Compute(MakeTable({{1, 1}, {2, 2}, {3, 3}, {1, 1}, {2, 2}}));
  ExpectAllFinite(r);
  EXPECT_DOUBLE_EQ(*r.cohen_kappa.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.cohen_kappa.standard_error, 0.0);
  EXPECT_DOUBLE_EQ(*r.cohen_kappa_quadratic.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.fleiss_kappa.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.gwet_ac1.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.krippendorff_alpha_nominal.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.krippendorff_alpha_ordinal.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.krippendorff_alpha_ratio.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.icc3.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.icc2.value, 1.0);
  // No residual variance: F is infinite, so it and p stay undefined.
  EXPECT_FALSE(r.icc3.f.has_value());
  EXPECT_FALSE(r.icc3.p_value.has_value());
  EXPECT_EQ(r.icc3.interpretation, "excellent");
  EXPECT_EQ(r.cohen_kappa.interpretation, "almost perfect");
}

TEST(AgreementEdgeTest, PerfectAgreementOnNonIntegerValues) {
  const AgreementResult r =
      Compute(MakeTable({{0.1, 0.1, 0.1}, {0.7, 0.7, 0.7}, {0.3, 0.3, 0.3}, {1.9, 1.9, 1.9}}));
  ExpectAllFinite(r);
  EXPECT_DOUBLE_EQ(*r.icc1.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.icc3.value, 1.0);
  EXPECT_DOUBLE_EQ(*r.krippendorff_alpha_interval.value, 1.0);
}

TEST(AgreementEdgeTest, ShiftingAllRatingsKeepsIccAndAlpha) {
  // Centering keeps one-pass sums of squares accurate far from zero.
  std::vector<std::vector<double>> shifted;
  for (const auto& row : AnxietyRows()) {
    std::vector<double> s;
    for (const double v : row) s.push_back(v + 1e9);
    shifted.push_back(s);
  }
  const AgreementResult base = Compute(MakeTable(AnxietyRows()));
  const AgreementResult far = Compute(MakeTable(shifted));
  EXPECT_NEAR(*far.icc2.value, *base.icc2.value, 1e-9);
  EXPECT_NEAR(*far.icc3k.value, *base.icc3k.value, 1e-9);
  EXPECT_NEAR(*far.krippendorff_alpha_interval.value, *base.krippendorff_alpha_interval.value,
              1e-9);
  EXPECT_NEAR(*far.fleiss_kappa.value, *base.fleiss_kappa.value, 1e-12);
}

TEST(AgreementEdgeTest, ExtremeMagnitudesNeverProduceNaN) {
  // Squares of these overflow to infinity; figures become undefined instead.
  AgreementOptions options;
  options.bootstrap_replicates = 50;
  options.threads = 1;
  const AgreementResult huge =
      Compute(MakeTable({{1e300, -1e300}, {0, 1e300}, {-1e300, 0}, {1e300, 1e300}}), options);
  ExpectAllFinite(huge);
  const AgreementResult tiny =
      Compute(MakeTable({{1e-300, 2e-300}, {0, 1e-300}, {3e-300, 3e-300}}), options);
  ExpectAllFinite(tiny);
}

TEST(AgreementEdgeTest, RankBasedFiguresIgnoreMonotoneRecoding) {
  // Weighted kappas and AC2 use category positions and ordinal alpha uses
  // ranks, so a monotone recoding of the values changes neither; interval
  // alpha and the ICCs use the values and do change.
  const RatingsTable base = testing::Krippendorff2011();
  RatingsTable recoded = base;
  const double codes[] = {0.0, 1.0, 2.0, 10.0, 11.0, 100.0};
  for (auto& row : recoded.ratings) {
    for (auto& cell : row) {
      if (cell.has_value()) cell = codes[static_cast<int>(*cell)];
    }
  }
  const AgreementResult a = Compute(base);
  const AgreementResult b = Compute(recoded);
  EXPECT_NEAR(*a.krippendorff_alpha_ordinal.value, *b.krippendorff_alpha_ordinal.value, 1e-12);
  EXPECT_NEAR(*a.krippendorff_alpha_nominal.value, *b.krippendorff_alpha_nominal.value, 1e-12);
  EXPECT_NEAR(*a.gwet_ac2_quadratic.value, *b.gwet_ac2_quadratic.value, 1e-12);
  EXPECT_NEAR(*a.fleiss_kappa.value, *b.fleiss_kappa.value, 1e-12);
  EXPECT_GT(std::abs(*a.krippendorff_alpha_interval.value - *b.krippendorff_alpha_interval.value),
            1e-3);
  EXPECT_GT(std::abs(*a.icc2.value - *b.icc2.value), 1e-3);
  const std::vector<std::vector<double>> pairs = {{1, 1}, {2, 3}, {3, 3}, {4, 2}, {5, 5}, {1, 2}};
  std::vector<std::vector<double>> recoded_pairs;
  for (const auto& row : pairs)
    recoded_pairs.push_back({codes[static_cast<int>(row[0])], codes[static_cast<int>(row[1])]});
  EXPECT_NEAR(*Compute(MakeTable(pairs)).cohen_kappa_linear.value,
              *Compute(MakeTable(recoded_pairs)).cohen_kappa_linear.value, 1e-12);
}

TEST(AgreementEdgeTest, MissingRatingsUseCompleteSubjectsExceptKrippendorff) {
  // Subject 3 lacks rater B; Krippendorff still pairs its A and C ratings.
  const RatingsTable table = MakeTable({{1, 1, 1}, {2, 2, 1}, {3, kNA, 3}, {1, 2, 1}, {3, 3, 3}});
  const AgreementResult r = Compute(table);
  ExpectAllFinite(r);
  EXPECT_EQ(r.subjects, 5);
  EXPECT_EQ(r.subjects_used, 4);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("1 of 5 subjects lack a rating")));
  // Complete-case Fleiss' kappa equals that of the table without subject 3.
  const AgreementResult complete = Compute(MakeTable({{1, 1, 1}, {2, 2, 1}, {1, 2, 1}, {3, 3, 3}}));
  EXPECT_DOUBLE_EQ(*r.fleiss_kappa.value, *complete.fleiss_kappa.value);
  EXPECT_DOUBLE_EQ(*r.icc2.value, *complete.icc2.value);
  // Krippendorff's alpha differs because it uses the extra pair.
  EXPECT_NE(*r.krippendorff_alpha_nominal.value, *complete.krippendorff_alpha_nominal.value);
}

TEST(AgreementEdgeTest, NoCompleteSubjectLeavesOnlyKrippendorff) {
  const AgreementResult r =
      Compute(MakeTable({{1, 1, kNA}, {kNA, 2, 2}, {3, kNA, 3}, {1, 2, kNA}, {kNA, 3, 3}}));
  ExpectAllFinite(r);
  EXPECT_EQ(r.subjects_used, 0);
  EXPECT_FALSE(r.percent_agreement.value.has_value());
  EXPECT_FALSE(r.fleiss_kappa.value.has_value());
  EXPECT_FALSE(r.icc1.value.has_value());
  EXPECT_TRUE(r.krippendorff_alpha_nominal.value.has_value());
}

TEST(AgreementEdgeTest, UnpairableUnitsLeaveAlphaUndefined) {
  const AgreementResult r = Compute(MakeTable({{1, kNA}, {kNA, 2}}));
  ExpectAllFinite(r);
  EXPECT_FALSE(r.krippendorff_alpha_nominal.value.has_value());
  EXPECT_FALSE(r.krippendorff_alpha_ratio.value.has_value());
}

TEST(AgreementEdgeTest, SingleCategoryUsedByOneRaterOnly) {
  // Rater A always says 1: Cohen's chance agreement is < 1, kappa defined
  // and zero; Krippendorff and Fleiss too.
  const AgreementResult r = Compute(MakeTable({{1, 1}, {1, 2}, {1, 1}, {1, 2}}));
  ExpectAllFinite(r);
  EXPECT_NEAR(*r.cohen_kappa.value, 0.0, 1e-15);
  EXPECT_THAT(r.warnings, Contains(HasSubstr("Rater 'R1' never uses category 2")));
}

TEST(AgreementValidationTest, RejectsMalformedTables) {
  RatingsTable one_rater = MakeTable({{1}, {2}});
  EXPECT_EQ(ComputeAgreement(one_rater).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateRatingsTable(one_rater).code(), absl::StatusCode::kInvalidArgument);

  RatingsTable ragged = MakeTable({{1, 2}, {1, 2}});
  ragged.ratings[1].push_back(3.0);
  EXPECT_EQ(ComputeAgreement(ragged).status().code(), absl::StatusCode::kInvalidArgument);

  RatingsTable unlabeled = MakeTable({{1, 2}, {1, 2}});
  unlabeled.subject_labels.pop_back();
  EXPECT_EQ(ComputeAgreement(unlabeled).status().code(), absl::StatusCode::kInvalidArgument);

  RatingsTable not_finite = MakeTable({{1, 2}, {1, 2}});
  not_finite.ratings[0][1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(ComputeAgreement(not_finite).status().code(), absl::StatusCode::kInvalidArgument);
  not_finite.ratings[0][1] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FleissKappa(not_finite).status().code(), absl::StatusCode::kInvalidArgument);

  EXPECT_TRUE(ValidateRatingsTable(MakeTable({{1, kNA}, {2, 2}})).ok());
}

TEST(AgreementValidationTest, RejectsBadOptions) {
  const RatingsTable table = ShroutFleiss();
  AgreementOptions options;
  options.bootstrap_replicates = -1;
  EXPECT_EQ(ComputeAgreement(table, options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.bootstrap_replicates = kMaxBootstrapReplicates + 1;
  EXPECT_EQ(ComputeAgreement(table, options).status().code(), absl::StatusCode::kInvalidArgument);
  options = {};
  options.threads = -2;
  EXPECT_EQ(ComputeAgreement(table, options).status().code(), absl::StatusCode::kInvalidArgument);
  for (const double level : {0.0, 1.0, -0.5, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    options = {};
    options.confidence_level = level;
    EXPECT_EQ(ComputeAgreement(table, options).status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Icc(table, IccType::kIcc1, level).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(AgreementWarningsTest, FewSubjectsAndKappaParadox) {
  // 10 subjects, 95% of ratings in category 0.
  std::vector<std::vector<double>> rows(9, {0.0, 0.0});
  rows.push_back({0.0, 1.0});
  const AgreementResult r = Compute(MakeTable(rows));
  EXPECT_THAT(r.warnings, Contains(HasSubstr("Only 10 subjects were rated by every rater")));
  EXPECT_THAT(r.warnings,
              Contains(AllOf(HasSubstr("Category 0 holds 95%"), HasSubstr("kappa paradox"))));
  // High observed agreement, kappa 0: the paradox the warning is about.
  EXPECT_DOUBLE_EQ(*r.percent_agreement.value, 0.9);
  EXPECT_NEAR(*r.cohen_kappa.value, 0.0, 1e-15);
}

TEST(AgreementWarningsTest, BalancedLargeTableHasNoCaution) {
  std::vector<std::vector<double>> rows;
  for (int s = 0; s < 40; ++s)
    rows.push_back({static_cast<double>(s % 4), static_cast<double>((s + s / 20) % 4)});
  const AgreementResult r = Compute(MakeTable(rows));
  EXPECT_THAT(r.warnings, Not(Contains(HasSubstr("subjects were rated"))));
  EXPECT_THAT(r.warnings, Not(Contains(HasSubstr("kappa paradox"))));
  EXPECT_THAT(r.warnings, Not(Contains(HasSubstr("never uses"))));
}

TEST(AgreementInterpretationTest, LandisKochBands) {
  EXPECT_EQ(InterpretKappa(-0.1), "poor");
  EXPECT_EQ(InterpretKappa(0.0), "slight");
  EXPECT_EQ(InterpretKappa(0.20), "slight");
  EXPECT_EQ(InterpretKappa(0.21), "fair");
  EXPECT_EQ(InterpretKappa(0.40), "fair");
  EXPECT_EQ(InterpretKappa(0.55), "moderate");
  EXPECT_EQ(InterpretKappa(0.61), "substantial");
  EXPECT_EQ(InterpretKappa(0.80), "substantial");
  EXPECT_EQ(InterpretKappa(0.81), "almost perfect");
  EXPECT_EQ(InterpretKappa(1.0), "almost perfect");
}

TEST(AgreementInterpretationTest, KooLiBands) {
  EXPECT_EQ(InterpretIcc(0.49), "poor");
  EXPECT_EQ(InterpretIcc(0.50), "moderate");
  EXPECT_EQ(InterpretIcc(0.74), "moderate");
  EXPECT_EQ(InterpretIcc(0.75), "good");
  EXPECT_EQ(InterpretIcc(0.90), "good");
  EXPECT_EQ(InterpretIcc(0.91), "excellent");
}

TEST(AgreementInterpretationTest, ResultCarriesBands) {
  const AgreementResult r = Compute(ShroutFleiss());
  EXPECT_EQ(r.icc3.interpretation, "moderate");    // 0.715
  EXPECT_EQ(r.icc3k.interpretation, "excellent");  // 0.909
  EXPECT_EQ(r.icc1.interpretation, "poor");        // 0.166
  EXPECT_TRUE(r.percent_agreement.interpretation.empty());
}

TEST(AgreementApiTest, KeysAreUniqueAndAccessorsMatch) {
  std::set<std::string> keys;
  AgreementResult r = Compute(ShroutFleiss());
  for (const StatisticId id : kAllStatistics) {
    keys.insert(std::string(StatisticKey(id)));
    EXPECT_EQ(&GetStatistic(r, id), &GetStatistic(static_cast<const AgreementResult&>(r), id));
  }
  EXPECT_EQ(keys.size(), static_cast<std::size_t>(kStatisticCount));
  EXPECT_EQ(StatisticKey(StatisticId::kIcc2k), "icc2k");
  EXPECT_EQ(&GetStatistic(r, StatisticId::kKrippendorffAlphaOrdinal),
            &r.krippendorff_alpha_ordinal);
}

TEST(AgreementApiTest, SingleStatisticFunctionsMatchComputeAgreement) {
  const RatingsTable table = MakeTable(AnxietyRows());
  const AgreementResult r = Compute(table);
  EXPECT_EQ(PercentAgreement(table)->value, r.percent_agreement.value);
  EXPECT_EQ(FleissKappa(table)->standard_error, r.fleiss_kappa.standard_error);
  EXPECT_EQ(GwetAc(table, Weighting::kLinear)->value, r.gwet_ac2_linear.value);
  EXPECT_EQ(KrippendorffAlpha(table, AlphaMetric::kOrdinal)->value,
            r.krippendorff_alpha_ordinal.value);
  EXPECT_EQ(Icc(table, IccType::kIcc2k)->ci_lower, r.icc2k.ci_lower);
  // The single-statistic functions carry no band.
  EXPECT_TRUE(Icc(table, IccType::kIcc2k)->interpretation.empty());
}

}  // namespace
}  // namespace rqs::scoring
