// Internals of the agreement statistics shared by agreement.cc and
// agreement_bootstrap.cc. Not part of the public API: include agreement.h.
//
// Every statistic is computed from sufficient statistics summed over a
// multiset of subjects (the table's own subjects for the estimate, a resample
// for a bootstrap replicate), so that one code path serves both and a
// replicate costs one pass over the drawn subjects with no allocation.
#ifndef RQS_SCORING_AGREEMENT_INTERNAL_H_
#define RQS_SCORING_AGREEMENT_INTERNAL_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scoring/agreement.h"

namespace rqs::scoring::agreement_internal {

inline constexpr int kWeightingCount = 3;

// Positions of q ordered categories scaled to [0, 1] (position i -> i/(q-1)),
// so that linear and quadratic disagreements are |xi - xj| and (xi - xj)^2.
struct CategoryScale {
  int count = 0;
  double step = 0.0;  // 1/(q-1), 0 when q < 2.
  double X(int index) const { return index * step; }
};

// Disagreement f with weight = 1 - f between category positions i and j.
double Disagreement(Weighting weighting, const CategoryScale& scale, int i, int j);

// Sum of the agreement weights over all ordered pairs of q >= 2 categories,
// sum_{k,l} (1 - f(k, l)) in closed form: Gwet's T_w.
double WeightTotal(Weighting weighting, int q);

// u_i = sum_j b_j * w(i, j) for every category i, in O(q): the weighted
// marginal of Fleiss, Cohen & Everitt (1969). `u` is resized to b.size().
void WeightedMarginal(const std::vector<double>& b, Weighting weighting, const CategoryScale& scale,
                      std::vector<double>& u);

// ANOVA mean squares of a complete subjects x raters layout (Shrout & Fleiss
// 1979): between subjects (msr), between raters (msc), residual (mse) and
// within subjects (msw). Sums of squares below rounding noise are zero.
struct MeanSquares {
  double n = 0;  // Subjects.
  double k = 0;  // Raters.
  double msr = 0;
  double msc = 0;
  double mse = 0;
  double msw = 0;
};
// From n subjects, k raters, the sum and sum of squares of the (centered)
// ratings, the sum of squared row sums and the k column sums. nullopt when
// n < 2.
std::optional<MeanSquares> ComputeMeanSquares(double n, int k, double sum, double sum_sq,
                                              double row_sum_sq, const double* column_sum);
// The intraclass correlation `type`; NaN when its denominator vanishes.
double IccValue(IccType type, const MeanSquares& ms);

// The table reduced to what the statistics need.
struct PreparedTable {
  int subjects = 0;
  int raters = 0;
  std::vector<double> all_categories;  // Distinct values over every rating.

  // Complete subjects (rated by every rater), in table order.
  int complete = 0;
  std::vector<int> complete_of_subject;  // Table row -> complete index or -1.
  std::vector<double> categories;        // Distinct values among complete ratings.
  CategoryScale scale;
  std::vector<int> category;            // complete x raters, category position.
  std::vector<double> centered;         // complete x raters, value - reference.
  std::vector<double> row_sum;          // Per complete subject, sum of centered.
  std::vector<double> row_sum_sq;       // Per complete subject, sum of squares.
  std::vector<double> row_sum_squared;  // Per complete subject, row_sum^2.
  // Per weighting, per complete subject: mean weighted agreement over ordered
  // pairs of distinct raters (Fleiss 1971 P_i when unweighted).
  std::array<std::vector<double>, kWeightingCount> agreement;

  // Pairable units (subjects with at least two ratings) for Krippendorff.
  int units = 0;
  std::vector<int> unit_of_subject;    // Table row -> unit index or -1.
  std::vector<double> alpha_values;    // Distinct pairable values, ascending.
  std::vector<double> alpha_centered;  // alpha_values - first pairable value.
  std::vector<int> unit_offset;        // units + 1 offsets into unit_value.
  std::vector<int> unit_value;         // Value index of each pairable rating.
  std::vector<double> unit_scale;      // Per unit, 2 / (m_u - 1).
  // Per unit: sum over ordered pairs of distinct ratings of delta^2 / (m_u - 1).
  std::vector<double> unit_nominal;
  std::vector<double> unit_interval;
  std::vector<double> unit_ratio;
  bool ratio_defined = false;  // Non-negative values, not too many distinct.

  // Rows with identical ratings (same values, same missing cells) contribute
  // identically to every statistic, so evaluation runs over these patterns:
  // a categorical criterion has a few dozen patterns however many subjects
  // it has. Pattern g holds the table rows
  // pattern_member[pattern_offset[g] .. pattern_offset[g + 1]).
  std::vector<int> pattern_offset;
  std::vector<int> pattern_member;
  // Complete patterns: pattern id and the complete index of one member.
  std::vector<int> complete_pattern;
  std::vector<int> complete_representative;
  // Pairable patterns: pattern id and the unit index of one member.
  std::vector<int> unit_pattern;
  std::vector<int> unit_representative;
};

// Builds the prepared table; `table` must have passed ValidateRatingsTable().
PreparedTable Prepare(const RatingsTable& table);

// Scratch space of one evaluation; reused across replicates.
struct Workspace {
  std::vector<double> pattern_weight;  // Per pattern, summed row weights.
  std::vector<double> totals;          // Per category, ratings over all raters.
  std::vector<double> first;           // Per category, rater 0 (two raters only).
  std::vector<double> second;          // Per category, rater 1 (two raters only).
  std::vector<double> marginal;        // Weighted marginal scratch.
  std::vector<double> column;          // Per rater, sum of centered values.
  std::vector<double> value_count;     // Per alpha value, pairable ratings.
  std::vector<double> midrank;         // Per alpha value, ordinal position.
};

// Values of every statistic over the multiset of table rows in which row s
// appears weight[s] times (all 1 for the estimate, draw counts for a
// bootstrap replicate); NaN marks an undefined value. `include_ratio` turns
// the quadratic-time ratio alpha off for bootstrap replicates.
using StatisticValues = std::array<double, kStatisticCount>;
void EvaluateValues(const PreparedTable& prepared, const double* weight, bool include_ratio,
                    Workspace& workspace, StatisticValues& out);

// Bootstrap percentile intervals for every statistic. Fills
// bootstrap_ci_lower/upper of `result` and appends warnings.
void Bootstrap(const PreparedTable& prepared, const AgreementOptions& options,
               AgreementResult& result);

// Seed of replicate `replicate`: SplitMix64 of seed + (replicate + 1) * golden.
std::uint64_t ReplicateSeed(std::uint64_t seed, std::uint64_t replicate);

}  // namespace rqs::scoring::agreement_internal

#endif  // RQS_SCORING_AGREEMENT_INTERNAL_H_
