// Inter-rater agreement statistics for one criterion.
//
// A RatingsTable holds the ratings that several raters gave a set of subjects
// (studies) on ONE criterion. ComputeAgreement() derives every statistic the
// project reports from it: percent agreement, Cohen's kappa (unweighted,
// linear, quadratic), Fleiss' kappa, Gwet's AC1/AC2, Krippendorff's alpha
// (nominal, ordinal, interval, ratio) and the six Shrout & Fleiss intraclass
// correlations, each with its analytic uncertainty where one exists and, on
// request, a bootstrap percentile interval.
//
// Conventions shared by every function here:
//   - Ratings are numbers. The categories are the distinct observed values in
//     ascending order; weighted statistics use category POSITIONS (0, 1, ...)
//     among the categories observed in the data they use, as R irr and
//     scikit-learn do, not the values themselves. Krippendorff's ordinal,
//     interval and ratio metrics use the values (ranks for ordinal).
//   - Krippendorff's alpha uses every pairable rating (a subject with at least
//     two ratings). Every other statistic uses only the subjects that every
//     rater rated ("complete subjects"), and AgreementResult::subjects_used says
//     how many that was.
//   - A figure that is undefined for the data (all ratings identical, a single
//     subject, zero variance, ...) is std::nullopt: never NaN, never infinite,
//     never a crash.
//   - Invalid INPUT (a malformed table, fewer than two raters, a non-finite
//     rating, bad options) is an absl::Status with code INVALID_ARGUMENT.
//
// Example:
//   RatingsTable table;
//   table.rater_labels = {"A", "B"};
//   table.subject_labels = {"s1", "s2", "s3"};
//   table.ratings = {{1.0, 1.0}, {2.0, std::nullopt}, {0.0, 1.0}};
//   absl::StatusOr<AgreementResult> result = ComputeAgreement(table);
//   if (result.ok() && result->cohen_kappa.value) Print(*result->cohen_kappa.value);
#ifndef RQS_SCORING_AGREEMENT_H_
#define RQS_SCORING_AGREEMENT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rqs::scoring {

// The ratings of one criterion: subjects x raters, dense, row per subject.
struct RatingsTable {
  // One label per subject (row); size must equal ratings.size().
  std::vector<std::string> subject_labels;
  // One label per rater (column); every row of `ratings` has this many cells.
  std::vector<std::string> rater_labels;
  // ratings[subject][rater]; std::nullopt where the rater gave no rating.
  std::vector<std::vector<std::optional<double>>> ratings;
};

// Upper bound of AgreementOptions::bootstrap_replicates; the replicate values
// are kept in memory (18 doubles each) to take percentiles.
inline constexpr int kMaxBootstrapReplicates = 1000000;

// Options for ComputeAgreement().
struct AgreementOptions {
  // Bootstrap replicates for the percentile intervals; 0 turns bootstrap off.
  // A replicate draws as many rows as the table has, with replacement; each
  // statistic then uses the drawn rows it would use on the table itself
  // (complete subjects, or pairable units for Krippendorff's alpha).
  int bootstrap_replicates = 0;
  // Seed of the bootstrap. Replicate b runs its own std::mt19937_64 seeded
  // with SplitMix64(seed + (b + 1) * 0x9E3779B97F4A7C15) and maps 32-bit
  // halves of its outputs (low half first) to row indices with Lemire's
  // multiply-and-reject method. The same table, seed and replicate count give
  // the same intervals on every platform and for any thread count.
  std::uint64_t seed = 20240229;
  // Coverage of every interval (analytic and bootstrap), in (0, 1).
  double confidence_level = 0.95;
  // Worker threads for the bootstrap; 0 means std::thread::hardware_concurrency().
  // Callers that already run criteria in parallel should pass 1.
  int threads = 0;
};

// One statistic with whatever uncertainty the method defines. Fields that do
// not apply to a statistic (e.g. `f` for a kappa) or that are undefined for the
// data stay std::nullopt.
struct Statistic {
  std::optional<double> value;
  // Standard error. Cohen's kappa: asymptotic non-null SE of Fleiss, Cohen &
  // Everitt (1969), used for the CI. Fleiss' kappa: SE under the null
  // hypothesis kappa = 0 (Fleiss, Nee & Landis 1979), used for z. Gwet's
  // AC1/AC2: Gwet's (2008) linearised variance, as R irrCAC gwet.ac1.raw().
  std::optional<double> standard_error;
  // z statistic of the test "no agreement beyond chance" (Cohen's and Fleiss'
  // kappa). For Cohen's kappa it uses the null SE of Fleiss, Cohen & Everitt.
  std::optional<double> z;
  // F statistic and its degrees of freedom (ICCs only), as R psych ICC().
  std::optional<double> f;
  std::optional<double> df1;
  std::optional<double> df2;
  // Two-sided p-value: of z (kappas), of AC / SE on Student's t with n - 1 df
  // (Gwet, as irrCAC); upper-tail p-value of F (ICCs).
  std::optional<double> p_value;
  // Analytic interval at AgreementOptions::confidence_level: value -/+ z*SE
  // for Cohen's kappa; value -/+ t(n-1)*SE capped above at 1 for Gwet (as
  // irrCAC); F-distribution bounds (McGraw & Wong 1996) for the ICCs.
  std::optional<double> ci_lower;
  std::optional<double> ci_upper;
  // Bootstrap percentile interval (subjects resampled); set only when
  // bootstrap_replicates > 0 and enough replicates gave a defined value.
  std::optional<double> bootstrap_ci_lower;
  std::optional<double> bootstrap_ci_upper;
  // Interpretation band of `value`: InterpretIcc for the ICCs, InterpretKappa
  // for the kappas, Gwet's AC1/AC2 and Krippendorff's alpha. Empty when the
  // value is undefined or the statistic has no band (percent agreement).
  std::string interpretation;
};

// Identifies each statistic of an AgreementResult, in report order.
enum class StatisticId {
  kPercentAgreement,
  kCohenKappa,
  kCohenKappaLinear,
  kCohenKappaQuadratic,
  kFleissKappa,
  kGwetAc1,
  kGwetAc2Linear,
  kGwetAc2Quadratic,
  kKrippendorffAlphaNominal,
  kKrippendorffAlphaOrdinal,
  kKrippendorffAlphaInterval,
  kKrippendorffAlphaRatio,
  kIcc1,
  kIcc2,
  kIcc3,
  kIcc1k,
  kIcc2k,
  kIcc3k,
};
inline constexpr int kStatisticCount = 18;
// Every StatisticId in report order, for iterating over a result.
inline constexpr std::array<StatisticId, kStatisticCount> kAllStatistics = {
    StatisticId::kPercentAgreement,
    StatisticId::kCohenKappa,
    StatisticId::kCohenKappaLinear,
    StatisticId::kCohenKappaQuadratic,
    StatisticId::kFleissKappa,
    StatisticId::kGwetAc1,
    StatisticId::kGwetAc2Linear,
    StatisticId::kGwetAc2Quadratic,
    StatisticId::kKrippendorffAlphaNominal,
    StatisticId::kKrippendorffAlphaOrdinal,
    StatisticId::kKrippendorffAlphaInterval,
    StatisticId::kKrippendorffAlphaRatio,
    StatisticId::kIcc1,
    StatisticId::kIcc2,
    StatisticId::kIcc3,
    StatisticId::kIcc1k,
    StatisticId::kIcc2k,
    StatisticId::kIcc3k,
};

// Returns a stable snake_case key for `id` ("percent_agreement", "cohen_kappa",
// "cohen_kappa_linear", ..., "krippendorff_alpha_ratio", "icc1", ..., "icc3k"),
// suitable for JSON keys and CSV headers.
std::string_view StatisticKey(StatisticId id);

// Everything computed for one criterion.
struct AgreementResult {
  int subjects = 0;       // Rows of the table.
  int subjects_used = 0;  // Complete subjects (rated by every rater).
  int raters = 0;         // Columns of the table.
  // Distinct observed values over all ratings, ascending: the categories.
  std::vector<double> categories;

  Statistic percent_agreement;
  // Cohen's kappa is defined for exactly two raters; with more raters these
  // stay undefined.
  Statistic cohen_kappa;
  Statistic cohen_kappa_linear;
  Statistic cohen_kappa_quadratic;
  Statistic fleiss_kappa;
  Statistic gwet_ac1;
  Statistic gwet_ac2_linear;
  Statistic gwet_ac2_quadratic;
  Statistic krippendorff_alpha_nominal;
  Statistic krippendorff_alpha_ordinal;
  Statistic krippendorff_alpha_interval;
  Statistic krippendorff_alpha_ratio;
  Statistic icc1;   // One-way random, single rater.
  Statistic icc2;   // Two-way random, single rater, absolute agreement.
  Statistic icc3;   // Two-way mixed, single rater, consistency.
  Statistic icc1k;  // Averages of k raters for the three models above.
  Statistic icc2k;
  Statistic icc3k;

  // Human-readable cautions: fewer than kMinSubjectsForStableEstimates subjects,
  // one category holding more than kDominantCategoryShare of the ratings (the
  // kappa paradox), a rater who never uses a category the others use, subjects
  // dropped for missing ratings, undefined statistics and bootstrap caveats.
  std::vector<std::string> warnings;
};

// Returns the member of `result` that holds statistic `id`.
const Statistic& GetStatistic(const AgreementResult& result, StatisticId id);
Statistic& GetStatistic(AgreementResult& result, StatisticId id);

// Below this many complete subjects a warning says the estimates are unstable.
inline constexpr int kMinSubjectsForStableEstimates = 30;
// A category holding more than this share of the ratings triggers the
// kappa-paradox warning: kappa-type figures can then be low despite high
// observed agreement (Feinstein & Cicchetti 1990).
inline constexpr double kDominantCategoryShare = 0.8;
// Krippendorff's ratio alpha compares every pair of distinct values; above
// this many distinct values it is reported undefined (with a warning) rather
// than spending quadratic time.
inline constexpr int kMaxRatioAlphaDistinctValues = 5000;

// Checks that `table` is well formed: at least two raters, one label per
// subject, every row as wide as rater_labels, every present rating finite.
// Returns INVALID_ARGUMENT describing the first problem otherwise. Zero
// subjects is valid (every statistic is then undefined).
absl::Status ValidateRatingsTable(const RatingsTable& table);

// Computes every statistic, the interpretation bands, the bootstrap intervals
// (if options.bootstrap_replicates > 0) and the warnings for `table`.
// Returns INVALID_ARGUMENT if the table is invalid (see ValidateRatingsTable)
// or the options are (replicates outside [0, kMaxBootstrapReplicates],
// negative threads, confidence_level outside (0, 1)). Undefined statistics
// are std::nullopt, never an error.
absl::StatusOr<AgreementResult> ComputeAgreement(const RatingsTable& table,
                                                 const AgreementOptions& options = {});

// ---------------------------------------------------------------------------
// The individual statistics. Each validates `table` like ComputeAgreement()
// (INVALID_ARGUMENT on a malformed table) and returns the same Statistic that
// ComputeAgreement() would report, without bootstrap interval and without
// interpretation band. `confidence_level` must lie in (0, 1).

// Weights of the weighted kappa-type statistics, over category positions
// i, j among q categories: unweighted 1 if i == j else 0; linear
// 1 - |i - j| / (q - 1); quadratic 1 - (i - j)^2 / (q - 1)^2.
enum class Weighting { kUnweighted, kLinear, kQuadratic };

// Percent agreement: the share of agreeing rater pairs per subject, averaged
// over complete subjects (Fleiss 1971, P-bar). Undefined with no complete
// subject.
absl::StatusOr<Statistic> PercentAgreement(const RatingsTable& table);

// Cohen's kappa for exactly two raters over complete subjects, with the
// asymptotic non-null SE and CI and the null-hypothesis z and p of Fleiss,
// Cohen & Everitt (1969). Returns INVALID_ARGUMENT unless the table has
// exactly two raters. Undefined when chance agreement is 1 (e.g. a single
// category) or there is no complete subject.
absl::StatusOr<Statistic> CohenKappa(const RatingsTable& table, Weighting weighting,
                                     double confidence_level = 0.95);

// Fleiss' kappa for any number of raters over complete subjects, with the SE
// under the null hypothesis (Fleiss, Nee & Landis 1979), z and two-sided p.
// Undefined with no complete subject or a single category used.
absl::StatusOr<Statistic> FleissKappa(const RatingsTable& table);

// Gwet's AC1 (kUnweighted) or AC2 (kLinear / kQuadratic) over complete
// subjects, with SE, t-based CI and p, as Gwet's handbook (4th ed.) and R
// irrCAC gwet.ac1.raw(). Undefined with no complete subject or fewer than two
// categories; the SE needs two complete subjects.
absl::StatusOr<Statistic> GwetAc(const RatingsTable& table, Weighting weighting,
                                 double confidence_level = 0.95);

// Metric (difference function) of Krippendorff's alpha.
enum class AlphaMetric { kNominal, kOrdinal, kInterval, kRatio };

// Krippendorff's alpha over every pairable rating, missing ones allowed
// (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"). Value
// only. Undefined with fewer than two pairable ratings or no expected
// disagreement (a single value). The ratio metric is also undefined when a
// rating is negative or there are more than kMaxRatioAlphaDistinctValues
// distinct values.
absl::StatusOr<Statistic> KrippendorffAlpha(const RatingsTable& table, AlphaMetric metric);

// The six intraclass correlations of Shrout & Fleiss (1979).
enum class IccType { kIcc1, kIcc2, kIcc3, kIcc1k, kIcc2k, kIcc3k };

// The intraclass correlation `type` over complete subjects, with F, df1, df2,
// upper-tail p and the F-based interval of McGraw & Wong (1996), as R psych
// ICC(x, lmer = FALSE) reports them (classical ANOVA mean squares).
// Undefined with fewer than two complete subjects or when the denominator
// vanishes (e.g. all ratings identical); F, p and the interval are undefined
// when the error mean square is zero.
absl::StatusOr<Statistic> Icc(const RatingsTable& table, IccType type,
                              double confidence_level = 0.95);

// Landis & Koch (1977) band of a kappa-type coefficient: "poor" (< 0),
// "slight" (<= 0.20), "fair" (<= 0.40), "moderate" (<= 0.60), "substantial"
// (<= 0.80), "almost perfect" (above).
std::string_view InterpretKappa(double value);

// Koo & Li (2016) band of an intraclass correlation: "poor" (< 0.50),
// "moderate" (< 0.75), "good" (<= 0.90), "excellent" (above).
std::string_view InterpretIcc(double value);

}  // namespace rqs::scoring

#endif  // RQS_SCORING_AGREEMENT_H_
