// Agreement statistics checked against values published in the literature or
// printed by reference implementations on their example datasets. Every
// expected value names its source beside it.
#include "scoring/agreement.h"

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/scoring/agreement_test_data.h"

namespace rqs::scoring {
namespace {

using ::rqs::scoring::testing::Abstractors;
using ::rqs::scoring::testing::AnxietyRows;
using ::rqs::scoring::testing::Diagnosis4x4;
using ::rqs::scoring::testing::FleissDiagnoses;
using ::rqs::scoring::testing::Gender;
using ::rqs::scoring::testing::Krippendorff2011;
using ::rqs::scoring::testing::MakeTable;
using ::rqs::scoring::testing::ShroutFleiss;
using ::rqs::scoring::testing::SixRaters;
using ::rqs::scoring::testing::WikipediaFleiss;
using ::rqs::scoring::testing::WikipediaKrippendorff;

// Tolerance for a value printed with `digits` decimals: half a unit in the
// last printed place.
double Printed(int digits) { return 0.5 * std::pow(10.0, -digits) + 1e-12; }
// Tolerance for values printed to (nearly) full double precision.
constexpr double kFull = 1e-9;

AgreementResult Compute(const RatingsTable& table, const AgreementOptions& options = {}) {
  absl::StatusOr<AgreementResult> result = ComputeAgreement(table, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *result : AgreementResult{};
}

RatingsTable AnxietyRaters23() {
  std::vector<std::vector<double>> rows;
  for (const auto& row : AnxietyRows()) rows.push_back({row[1], row[2]});
  return MakeTable(rows);
}

// ---------------------------------------------------------------------------
// Percent agreement.

TEST(PercentAgreementTest, MatchesIrrCacOnAbstractors) {
  // irrCAC 1.0 README, pa2.table(cont3x3abstractors): 0.89.
  absl::StatusOr<Statistic> pa = PercentAgreement(Abstractors());
  ASSERT_TRUE(pa.ok());
  EXPECT_NEAR(*pa->value, 0.89, Printed(2));
}

TEST(PercentAgreementTest, MatchesIrrCacOnSixRaters) {
  // irrCAC 1.0 README, gwet.ac1.dist(distrib.6raters): pa = 0.5511111.
  EXPECT_NEAR(*Compute(SixRaters()).percent_agreement.value, 0.5511111, Printed(7));
}

// ---------------------------------------------------------------------------
// Cohen's kappa.

TEST(CohenKappaTest, UnweightedMatchesIrrAndStatsmodelsOnAnxiety) {
  absl::StatusOr<Statistic> k = CohenKappa(AnxietyRaters23(), Weighting::kUnweighted);
  ASSERT_TRUE(k.ok());
  // R irr kappa2(anxiety[,2:3]) as quoted in statsmodels 0.13.5
  // test_inter_rater.py: value -0.006289308, z -0.0604067, p 0.9518317.
  EXPECT_NEAR(*k->value, -0.006289308, Printed(9));
  EXPECT_NEAR(*k->z, -0.0604067, Printed(7));
  EXPECT_NEAR(*k->p_value, 0.9518317, Printed(7));
  // Printed by statsmodels 0.13.5 cohens_kappa() on the same table (FCE 1969
  // asymptotic SE and 95% CI): std_kappa, kappa_low, kappa_upp.
  EXPECT_NEAR(*k->standard_error, 0.10157283828529293, kFull);
  EXPECT_NEAR(*k->ci_lower, -0.20536841302278594, kFull);
  EXPECT_NEAR(*k->ci_upper, 0.19278979667058468, kFull);
}

TEST(CohenKappaTest, LinearMatchesIrrAndStatsmodelsOnAnxiety) {
  absl::StatusOr<Statistic> k = CohenKappa(AnxietyRaters23(), Weighting::kLinear);
  ASSERT_TRUE(k.ok());
  // R irr kappa2(anxiety[,2:3], "equal"): 0.1459075, z 1.282472, p 0.1996772.
  EXPECT_NEAR(*k->value, 0.1459075, Printed(7));
  EXPECT_NEAR(*k->z, 1.282472, Printed(6));
  EXPECT_NEAR(*k->p_value, 0.1996772, Printed(7));
  // statsmodels 0.13.5 cohens_kappa(wt='linear'), printed by us; scikit-learn
  // 1.2.1 cohen_kappa_score(weights='linear') prints the same value.
  EXPECT_NEAR(*k->value, 0.14590747330960863, kFull);
  EXPECT_NEAR(*k->standard_error, 0.11641414253650104, kFull);
  EXPECT_NEAR(*k->ci_lower, -0.08226005335304579, kFull);
  EXPECT_NEAR(*k->ci_upper, 0.374074999972263, kFull);
}

TEST(CohenKappaTest, QuadraticMatchesIrrAndStatsmodelsOnAnxiety) {
  absl::StatusOr<Statistic> k = CohenKappa(AnxietyRaters23(), Weighting::kQuadratic);
  ASSERT_TRUE(k.ok());
  // R irr kappa2(anxiety[,2:3], "squared"): 0.2520325, z 1.437451, p 0.1505898.
  EXPECT_NEAR(*k->value, 0.2520325, Printed(7));
  EXPECT_NEAR(*k->z, 1.437451, Printed(6));
  EXPECT_NEAR(*k->p_value, 0.1505898, Printed(7));
  // statsmodels 0.13.5 cohens_kappa(wt='quadratic') and scikit-learn 1.2.1
  // cohen_kappa_score(weights='quadratic'), printed by us.
  EXPECT_NEAR(*k->value, 0.2520325203252034, kFull);
  EXPECT_NEAR(*k->standard_error, 0.18705199631621894, kFull);
  EXPECT_NEAR(*k->ci_lower, -0.11458265569090464, kFull);
  EXPECT_NEAR(*k->ci_upper, 0.6186476963413114, kFull);
}

TEST(CohenKappaTest, MatchesIrrCacOnAbstractors) {
  const AgreementResult r = Compute(Abstractors());
  // irrCAC 1.0 README, kappa2.table(cont3x3abstractors): 0.7964094, se 0.05891072.
  EXPECT_NEAR(*r.cohen_kappa.value, 0.7964094, Printed(7));
  EXPECT_NEAR(*r.cohen_kappa.standard_error, 0.05891072, Printed(8));
  // irrCAC 1.0 weighting vignette, kappa2.table(..., quadratic.weights(1:3)):
  // 0.8921569, se 0.03535151.
  EXPECT_NEAR(*r.cohen_kappa_quadratic.value, 0.8921569, Printed(7));
  EXPECT_NEAR(*r.cohen_kappa_quadratic.standard_error, 0.03535151, Printed(8));
  // Python irrCAC port test_cohen.py, linear weights: 0.843 (its interval
  // uses t quantiles, ours the normal one as statsmodels); statsmodels 0.13.5
  // cohens_kappa(wt='linear') printed by us: 0.8429020279920023, 95% CI
  // (0.749074393811414, 0.9367296621725906).
  EXPECT_NEAR(*r.cohen_kappa_linear.value, 0.843, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa_linear.value, 0.8429020279920023, kFull);
  EXPECT_NEAR(*r.cohen_kappa_linear.ci_lower, 0.749074393811414, kFull);
  EXPECT_NEAR(*r.cohen_kappa_linear.ci_upper, 0.9367296621725906, kFull);
  // statsmodels 0.13.5 cohens_kappa() printed by us: null SE 0.07600602503338182
  // gives z = 10.478240400470742.
  EXPECT_NEAR(*r.cohen_kappa.z, 10.478240400470742, 1e-8);
}

TEST(CohenKappaTest, MatchesStatsmodelsOnDiagnosis4x4) {
  const AgreementResult r = Compute(Diagnosis4x4());
  // Python irrCAC port test_cohen.py (cont4x4diagnosis): 0.432 se 0.046,
  // linear 0.407 se 0.053, quadratic 0.383 se 0.066.
  EXPECT_NEAR(*r.cohen_kappa.value, 0.432, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa.standard_error, 0.046, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa_linear.value, 0.407, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa_linear.standard_error, 0.053, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa_quadratic.value, 0.383, Printed(3));
  EXPECT_NEAR(*r.cohen_kappa_quadratic.standard_error, 0.066, Printed(3));
  // statsmodels 0.13.5 cohens_kappa(), printed by us: value, std_kappa, z.
  EXPECT_NEAR(*r.cohen_kappa.value, 0.4315007758811794, kFull);
  EXPECT_NEAR(*r.cohen_kappa.standard_error, 0.045969181562379, kFull);
  EXPECT_NEAR(*r.cohen_kappa.z, 10.852270269465512, 1e-8);
  EXPECT_NEAR(*r.cohen_kappa_linear.standard_error, 0.05338805071276334, kFull);
  EXPECT_NEAR(*r.cohen_kappa_linear.z, 7.840626672291554, 1e-8);
  EXPECT_NEAR(*r.cohen_kappa_quadratic.standard_error, 0.06579469580787654, kFull);
  EXPECT_NEAR(*r.cohen_kappa_quadratic.z, 5.7464400481093145, 1e-8);
}

TEST(CohenKappaTest, MatchesSasPrintoutQuotedByStatsmodels) {
  // SAS PROC FREQ printout for the 3x3 table {{0,4,1},{0,8,0},{0,1,5}}, as
  // quoted in statsmodels 0.13.5 test_inter_rater.py (TestUnweightedCohens,
  // TestWeightedCohens; Cicchetti-Allison = linear weights): kappa, ASE, 95%
  // limits, ASE under H0, Z, two-sided p.
  const RatingsTable table = testing::FromContingency({{0, 4, 1}, {0, 8, 0}, {0, 1, 5}});
  const AgreementResult r = Compute(table);
  EXPECT_NEAR(*r.cohen_kappa.value, 0.4842, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.standard_error, 0.1380, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.ci_lower, 0.2137, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.ci_upper, 0.7547, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.value / *r.cohen_kappa.z, 0.1484, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.z, 3.2626, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa.p_value, 0.0011, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.value, 0.4701, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.standard_error, 0.1457, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.ci_lower, 0.1845, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.ci_upper, 0.7558, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.value / *r.cohen_kappa_linear.z, 0.1426, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.z, 3.2971, Printed(4));
  EXPECT_NEAR(*r.cohen_kappa_linear.p_value, 0.0010, Printed(4));
}

TEST(CohenKappaTest, RequiresExactlyTwoRaters) {
  absl::StatusOr<Statistic> k = CohenKappa(ShroutFleiss(), Weighting::kUnweighted);
  EXPECT_EQ(k.status().code(), absl::StatusCode::kInvalidArgument);
  const AgreementResult r = Compute(ShroutFleiss());
  EXPECT_FALSE(r.cohen_kappa.value.has_value());
  EXPECT_FALSE(r.cohen_kappa_quadratic.value.has_value());
}

// ---------------------------------------------------------------------------
// Fleiss' kappa.

TEST(FleissKappaTest, MatchesIrrOnFleiss1971Diagnoses) {
  absl::StatusOr<Statistic> k = FleissKappa(FleissDiagnoses());
  ASSERT_TRUE(k.ok());
  // Fleiss (1971), p. 381: kappa = .430. R irr kappam.fleiss(diagnoses) as
  // quoted in statsmodels 0.13.5 test_inter_rater.py: 0.4302445, z 17.65183.
  EXPECT_NEAR(*k->value, 0.430, Printed(3));
  EXPECT_NEAR(*k->value, 0.4302445, Printed(7));
  EXPECT_NEAR(*k->z, 17.65183, Printed(5));
  // irr prints p-value = 0.
  EXPECT_LT(*k->p_value, 1e-12);
  // z / kappa gives the null SE: 0.4302445 / 17.65183 = 0.0243739.
  EXPECT_NEAR(*k->standard_error, 0.0243739, Printed(7));
}

TEST(FleissKappaTest, MatchesWikipediaAndStatsmodels) {
  // Wikipedia "Fleiss' kappa" example: 0.210; statsmodels 0.13.5
  // fleiss_kappa(table1) printed by us: 0.20993070442195522.
  const AgreementResult r = Compute(WikipediaFleiss());
  EXPECT_NEAR(*r.fleiss_kappa.value, 0.210, Printed(3));
  EXPECT_NEAR(*r.fleiss_kappa.value, 0.20993070442195522, kFull);
}

TEST(FleissKappaTest, MatchesIrrCacOnSixRatersAndGender) {
  // irrCAC 1.0 README, fleiss.kappa.dist(distrib.6raters): 0.4139265.
  EXPECT_NEAR(*Compute(SixRaters()).fleiss_kappa.value, 0.4139265, Printed(7));
  // Python irrCAC port test_fleiss.py (raw_gender): 0.129; statsmodels 0.13.5
  // fleiss_kappa printed by us: 0.1288888888888889.
  const AgreementResult gender = Compute(Gender());
  EXPECT_NEAR(*gender.fleiss_kappa.value, 0.129, Printed(3));
  EXPECT_NEAR(*gender.fleiss_kappa.value, 0.1288888888888889, kFull);
}

// ---------------------------------------------------------------------------
// Gwet's AC1 and AC2.

TEST(GwetTest, MatchesIrrCacOnAbstractors) {
  const AgreementResult r = Compute(Abstractors());
  // irrCAC 1.0 README, gwet.ac1.table(cont3x3abstractors): 0.8493305.
  EXPECT_NEAR(*r.gwet_ac1.value, 0.8493305, Printed(7));
  // irrCAC 1.0 weighting vignette, quadratic.weights(1:3): AC2 0.9402369.
  EXPECT_NEAR(*r.gwet_ac2_quadratic.value, 0.9402369, Printed(7));
  // Python irrCAC port test_gwet.py, linear weights: 0.900.
  EXPECT_NEAR(*r.gwet_ac2_linear.value, 0.900, Printed(3));
}

TEST(GwetTest, MatchesIrrCacOnSixRaters) {
  const AgreementResult r = Compute(SixRaters());
  // irrCAC 1.0 README, gwet.ac1.dist(distrib.6raters): 0.4448007.
  EXPECT_NEAR(*r.gwet_ac1.value, 0.4448007, Printed(7));
  // irrCAC 1.0 weighting vignette, quadratic.weights(1:5): 0.4837438.
  EXPECT_NEAR(*r.gwet_ac2_quadratic.value, 0.4837438, Printed(7));
}

TEST(GwetTest, MatchesIrrCacPortOnDiagnosis4x4AndGender) {
  const AgreementResult r = Compute(Diagnosis4x4());
  // Python irrCAC port test_gwet.py (cont4x4diagnosis): AC1 0.456, linear
  // AC2 0.377, quadratic AC2 0.299.
  EXPECT_NEAR(*r.gwet_ac1.value, 0.456, Printed(3));
  EXPECT_NEAR(*r.gwet_ac2_linear.value, 0.377, Printed(3));
  EXPECT_NEAR(*r.gwet_ac2_quadratic.value, 0.299, Printed(3));
  // Python irrCAC port test_gwet.py (raw_gender): AC1 0.208.
  absl::StatusOr<Statistic> gender = GwetAc(Gender(), Weighting::kUnweighted);
  ASSERT_TRUE(gender.ok());
  EXPECT_NEAR(*gender->value, 0.208, Printed(3));
}

TEST(GwetTest, StandardErrorMatchesIrrCacOnSixRaters) {
  const AgreementResult r = Compute(SixRaters());
  // irrCAC 1.0 README, gwet.ac1.dist(distrib.6raters): stderr 0.08418757,
  // conf.int (0.264, 0.625), p.value 0.0001155927.
  EXPECT_NEAR(*r.gwet_ac1.standard_error, 0.08418757, Printed(8));
  EXPECT_NEAR(*r.gwet_ac1.ci_lower, 0.264, Printed(3));
  EXPECT_NEAR(*r.gwet_ac1.ci_upper, 0.625, Printed(3));
  EXPECT_NEAR(*r.gwet_ac1.p_value, 0.0001155927, Printed(10));
  // irrCAC 1.0 weighting vignette, quadratic weights: stderr 0.1058227,
  // conf.int (0.257, 0.711), p.value 0.0004356618.
  EXPECT_NEAR(*r.gwet_ac2_quadratic.standard_error, 0.1058227, Printed(7));
  EXPECT_NEAR(*r.gwet_ac2_quadratic.ci_lower, 0.257, Printed(3));
  EXPECT_NEAR(*r.gwet_ac2_quadratic.ci_upper, 0.711, Printed(3));
  EXPECT_NEAR(*r.gwet_ac2_quadratic.p_value, 0.0004356618, Printed(10));
}

TEST(GwetTest, StandardErrorMatchesIrrCacPortOnGender) {
  // Python irrCAC port test_gwet.py (raw_gender): se 0.091, CI (0.014, 0.403),
  // p 0.03776.
  const AgreementResult r = Compute(Gender());
  EXPECT_NEAR(*r.gwet_ac1.standard_error, 0.091, Printed(3));
  EXPECT_NEAR(*r.gwet_ac1.ci_lower, 0.014, Printed(3));
  EXPECT_NEAR(*r.gwet_ac1.ci_upper, 0.403, Printed(3));
  EXPECT_NEAR(*r.gwet_ac1.p_value, 0.03776, Printed(5));
}

// ---------------------------------------------------------------------------
// Krippendorff's alpha.

TEST(KrippendorffTest, MatchesKrippendorff2011WithMissingValues) {
  const RatingsTable table = Krippendorff2011();
  const AgreementResult r = Compute(table);
  // Krippendorff (2011), section C: nominal .743, ordinal .815, interval
  // .849, ratio .797. irrCAC 1.0 README krippen.alpha.raw(cac.raw4raters):
  // 0.74342; weighting vignette, quadratic weights (= interval): 0.84911.
  EXPECT_NEAR(*r.krippendorff_alpha_nominal.value, 0.743, Printed(3));
  EXPECT_NEAR(*r.krippendorff_alpha_nominal.value, 0.74342, Printed(5));
  EXPECT_NEAR(*r.krippendorff_alpha_ordinal.value, 0.815, Printed(3));
  EXPECT_NEAR(*r.krippendorff_alpha_interval.value, 0.849, Printed(3));
  EXPECT_NEAR(*r.krippendorff_alpha_interval.value, 0.84911, Printed(5));
  EXPECT_NEAR(*r.krippendorff_alpha_ratio.value, 0.797, Printed(3));
  // Units 2..9 are complete; Krippendorff still uses units 1, 10 and 11.
  EXPECT_EQ(r.subjects, 12);
  EXPECT_EQ(r.subjects_used, 8);
}

TEST(KrippendorffTest, MatchesWikipediaExample) {
  // fast-krippendorff tests/test_krippendorff.py on the Wikipedia reliability
  // data: nominal 0.691358, interval 0.810845.
  absl::StatusOr<Statistic> nominal =
      KrippendorffAlpha(WikipediaKrippendorff(), AlphaMetric::kNominal);
  absl::StatusOr<Statistic> interval =
      KrippendorffAlpha(WikipediaKrippendorff(), AlphaMetric::kInterval);
  ASSERT_TRUE(nominal.ok());
  ASSERT_TRUE(interval.ok());
  EXPECT_NEAR(*nominal->value, 0.691358, Printed(6));
  EXPECT_NEAR(*interval->value, 0.810845, Printed(6));
}

TEST(KrippendorffTest, MatchesIrrCacOnCompleteData) {
  // irrCAC 1.0 README, krippen2.table(cont3x3abstractors): 0.7972585; with
  // quadratic.weights(1:3) (interval on equally spaced codes): 0.8926487.
  const AgreementResult a = Compute(Abstractors());
  EXPECT_NEAR(*a.krippendorff_alpha_nominal.value, 0.7972585, Printed(7));
  EXPECT_NEAR(*a.krippendorff_alpha_interval.value, 0.8926487, Printed(7));
  // irrCAC 1.0 README, krippen.alpha.dist(distrib.6raters): 0.4204384; with
  // quadratic.weights(1:5): 0.259511.
  const AgreementResult six = Compute(SixRaters());
  EXPECT_NEAR(*six.krippendorff_alpha_nominal.value, 0.4204384, Printed(7));
  EXPECT_NEAR(*six.krippendorff_alpha_interval.value, 0.259511, Printed(6));
}

TEST(KrippendorffTest, RatioIsUndefinedForNegativeValues) {
  const AgreementResult r = Compute(MakeTable({{-1, -1}, {0, 1}, {2, 2}}));
  EXPECT_FALSE(r.krippendorff_alpha_ratio.value.has_value());
  EXPECT_TRUE(r.krippendorff_alpha_interval.value.has_value());
  EXPECT_THAT(r.warnings, ::testing::Contains(::testing::HasSubstr("ratio alpha")));
}

// ---------------------------------------------------------------------------
// Intraclass correlations.

struct IccExpectation {
  IccType type;
  double value;
  double f;
  double df1;
  double df2;
  double p;
  double lower;
  double upper;
};

void ExpectIcc(const RatingsTable& table, const IccExpectation& e, double level = 0.95) {
  absl::StatusOr<Statistic> s = Icc(table, e.type, level);
  ASSERT_TRUE(s.ok()) << s.status();
  SCOPED_TRACE(static_cast<int>(e.type));
  EXPECT_NEAR(*s->value, e.value, kFull);
  EXPECT_NEAR(*s->f, e.f, kFull);
  EXPECT_EQ(*s->df1, e.df1);
  EXPECT_EQ(*s->df2, e.df2);
  EXPECT_NEAR(*s->p_value, e.p, 1e-12);
  EXPECT_NEAR(*s->ci_lower, e.lower, kFull);
  EXPECT_NEAR(*s->ci_upper, e.upper, kFull);
}

TEST(IccTest, MatchesPsychOnShroutFleissTable2) {
  // Shrout & Fleiss (1979), Table 4: ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71,
  // ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91.
  const AgreementResult r = Compute(ShroutFleiss());
  EXPECT_NEAR(*r.icc1.value, 0.17, Printed(2));
  EXPECT_NEAR(*r.icc2.value, 0.29, Printed(2));
  EXPECT_NEAR(*r.icc3.value, 0.71, Printed(2));
  EXPECT_NEAR(*r.icc1k.value, 0.44, Printed(2));
  EXPECT_NEAR(*r.icc2k.value, 0.62, Printed(2));
  EXPECT_NEAR(*r.icc3k.value, 0.91, Printed(2));
  // Printed by R psych 2.2.9 ICC(x, lmer = FALSE) on the same table
  // (print(r$results, digits = 15)): ICC, F, df1, df2, p, lower, upper bound.
  // lmer = FALSE selects the classical ANOVA mean squares of Shrout & Fleiss;
  // psych's default (lme4 REML variance components) differs in the 7th digit.
  const std::vector<IccExpectation> psych = {
      {IccType::kIcc1, 0.165741768405476, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.1329323248747509, 0.722560062328121},
      {IccType::kIcc2, 0.289763779527559, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.0187865133747120, 0.761084369648953},
      {IccType::kIcc3, 0.714840714840715, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.3424647650339254, 0.945858259955360},
      {IccType::kIcc1k, 0.442797133679269, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.8844421552381190, 0.912415420340776},
      {IccType::kIcc2k, 0.620050547598989, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.0711368153025035, 0.927232040167722},
      {IccType::kIcc3k, 0.909315542377069, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.6756747138163047, 0.985891678169062},
  };
  for (const IccExpectation& e : psych) ExpectIcc(ShroutFleiss(), e);
}

TEST(IccTest, MatchesPsychOnShroutFleissAt90Percent) {
  // Printed by R psych 2.2.9 ICC(sf, alpha = 0.1, lmer = FALSE): 90% bounds.
  const std::vector<IccExpectation> psych = {
      {IccType::kIcc1, 0.165741768405476, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.0967222036577421, 0.643398310704423},
      {IccType::kIcc2, 0.289763779527559, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.0429011915405400, 0.691070606618357},
      {IccType::kIcc3, 0.714840714840715, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.4118341309190441, 0.925832807680279},
      {IccType::kIcc1k, 0.442797133679269, 1.79467849223947, 5, 18, 0.164768808344639611,
       -0.5450417247368673, 0.878301035406408},
      {IccType::kIcc2k, 0.620050547598989, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.1520370538559583, 0.899476700113625},
      {IccType::kIcc3k, 0.909315542377069, 11.02724795640327, 5, 15, 0.000134566516484337,
       0.7368976785770522, 0.980366056047214},
  };
  for (const IccExpectation& e : psych) ExpectIcc(ShroutFleiss(), e, 0.90);
}

TEST(IccTest, MatchesPsychOnAnxiety) {
  // Printed by R psych 2.2.9 ICC(anxiety, lmer = FALSE) (R irr's anxiety data).
  const RatingsTable anxiety = MakeTable(AnxietyRows());
  const std::vector<IccExpectation> psych = {
      {IccType::kIcc1, 0.175022381378693, 1.63646228974498, 19, 40, 0.0939307271289242,
       -0.0774465748654547, 0.484336093818820},
      {IccType::kIcc2, 0.197998259355962, 1.82677165354331, 19, 38, 0.0562012735474978,
       -0.0389106260931603, 0.493573945972123},
      {IccType::kIcc3, 0.216049382716049, 1.82677165354331, 19, 38, 0.0562012735474978,
       -0.0462578853236332, 0.522259078395644},
      {IccType::kIcc1k, 0.388925729442971, 1.63646228974498, 19, 40, 0.0939307271289242,
       -0.2749234898786879, 0.738065123579582},
      {IccType::kIcc2k, 0.425498753117207, 1.82677165354331, 19, 38, 0.0562012735474978,
       -0.1265827027094597, 0.745149288545210},
      {IccType::kIcc3k, 0.452586206896551, 1.82677165354331, 19, 38, 0.0562012735474978,
       -0.1529212866540728, 0.766330800234059},
  };
  for (const IccExpectation& e : psych) ExpectIcc(anxiety, e);
}

}  // namespace
}  // namespace rqs::scoring
