// Public entry points of the agreement statistics: validation, the analytic
// uncertainty of each statistic, interpretation bands and warnings.
#include "scoring/agreement.h"

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "scoring/agreement_internal.h"
#include "scoring/status_macros.h"

namespace rqs::scoring {
namespace {

using agreement_internal::ComputeMeanSquares;
using agreement_internal::Disagreement;
using agreement_internal::EvaluateValues;
using agreement_internal::IccValue;
using agreement_internal::MeanSquares;
using agreement_internal::PreparedTable;
using agreement_internal::StatisticValues;
using agreement_internal::WeightedMarginal;
using agreement_internal::Workspace;

// Distribution functions report failures as NaN/inf instead of throwing; the
// callers turn any non-finite figure into "undefined".
using QuietPolicy = boost::math::policies::policy<
    boost::math::policies::domain_error<boost::math::policies::ignore_error>,
    boost::math::policies::pole_error<boost::math::policies::ignore_error>,
    boost::math::policies::overflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::underflow_error<boost::math::policies::ignore_error>,
    boost::math::policies::evaluation_error<boost::math::policies::ignore_error>,
    boost::math::policies::rounding_error<boost::math::policies::ignore_error>,
    boost::math::policies::indeterminate_result_error<boost::math::policies::ignore_error>>;
using Normal = boost::math::normal_distribution<double, QuietPolicy>;
using FisherF = boost::math::fisher_f_distribution<double, QuietPolicy>;
using StudentT = boost::math::students_t_distribution<double, QuietPolicy>;

// Above this many categories the ratings are a continuous scale and the
// per-category warnings (unused categories) would only be noise.
constexpr int kMaxCategoriesForCategoryWarnings = 20;

std::size_t Index(int i) { return static_cast<std::size_t>(i); }

std::optional<double> Finite(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

double NormalQuantile(double p) { return boost::math::quantile(Normal(0.0, 1.0), p); }

double TwoSidedNormalP(double z) {
  return 2.0 * boost::math::cdf(boost::math::complement(Normal(0.0, 1.0), std::abs(z)));
}

// Upper-tail probability of F(df1, df2) beyond f.
double UpperF(double f, double df1, double df2) {
  if (!(df1 > 0.0) || !(df2 > 0.0) || !std::isfinite(f) || f < 0.0) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return boost::math::cdf(boost::math::complement(FisherF(df1, df2), f));
}

double FQuantile(double p, double df1, double df2) {
  if (!(df1 > 0.0) || !(df2 > 0.0) || !std::isfinite(df1) || !std::isfinite(df2)) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return boost::math::quantile(FisherF(df1, df2), p);
}

std::string FormatValue(double value) { return absl::StrFormat("%g", value); }

absl::Status ValidateOptions(const AgreementOptions& options) {
  if (options.bootstrap_replicates < 0 || options.bootstrap_replicates > kMaxBootstrapReplicates) {
    return absl::InvalidArgumentError(absl::StrCat("bootstrap_replicates must lie in [0, ",
                                                   kMaxBootstrapReplicates, "], got ",
                                                   options.bootstrap_replicates));
  }
  if (options.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("threads must be >= 0, got ", options.threads));
  }
  return absl::OkStatus();
}

absl::Status ValidateLevel(double confidence_level) {
  if (!(confidence_level > 0.0 && confidence_level < 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("confidence_level must lie in (0, 1), got ", confidence_level));
  }
  return absl::OkStatus();
}

// Cohen's kappa with the asymptotic variances of Fleiss, Cohen & Everitt
// (1969), eq. (9) (non-null, for the interval) and eq. (12) (null, for z), in
// their weighted form. O(subjects + categories) through WeightedMarginal.
void FillCohenUncertainty(const PreparedTable& p, Weighting weighting, double level,
                          Statistic& stat) {
  if (!stat.value.has_value() || p.raters != 2 || p.complete == 0) return;
  const double kappa = *stat.value;
  const double n = p.complete;
  const std::size_t q = Index(p.scale.count);
  std::vector<double> a(q, 0.0);
  std::vector<double> b(q, 0.0);
  for (int c = 0; c < p.complete; ++c) {
    a[Index(p.category[Index(2 * c)])] += 1.0 / n;
    b[Index(p.category[Index(2 * c + 1)])] += 1.0 / n;
  }
  std::vector<double> u;  // Row means of the weights, w-bar_i. = sum_j b_j w_ij.
  std::vector<double> v;  // Column means, w-bar_.j = sum_i a_i w_ij.
  WeightedMarginal(b, weighting, p.scale, u);
  WeightedMarginal(a, weighting, p.scale, v);
  double chance = 0.0;
  double a_u_sq = 0.0;
  double b_v_sq = 0.0;
  for (std::size_t k = 0; k < q; ++k) {
    chance += a[k] * u[k];
    a_u_sq += a[k] * u[k] * u[k];
    b_v_sq += b[k] * v[k] * v[k];
  }
  const double scale = n * (1.0 - chance) * (1.0 - chance);

  // Non-null: sum_ij p_ij [w_ij - (u_i + v_j)(1 - kappa)]^2 - [kappa - pe (1 - kappa)]^2.
  double observed = 0.0;
  for (int c = 0; c < p.complete; ++c) {
    const int i = p.category[Index(2 * c)];
    const int j = p.category[Index(2 * c + 1)];
    const double w = 1.0 - Disagreement(weighting, p.scale, i, j);
    const double d = w - (u[Index(i)] + v[Index(j)]) * (1.0 - kappa);
    observed += d * d / n;
  }
  const double shift = kappa - chance * (1.0 - kappa);
  double variance = (observed - shift * shift) / scale;
  if (variance < 0.0 && variance > -1e-12) variance = 0.0;  // Rounding at kappa = 1.
  if (variance >= 0.0 && std::isfinite(variance)) {
    const double se = std::sqrt(variance);
    const double z = NormalQuantile(0.5 + level / 2.0);
    stat.standard_error = Finite(se);
    stat.ci_lower = Finite(kappa - z * se);
    stat.ci_upper = Finite(kappa + z * se);
  }

  // Null: sum_ij a_i b_j w_ij^2 - sum_i a_i u_i^2 - sum_j b_j v_j^2 + pe^2,
  // the expansion of sum_ij a_i b_j [w_ij - (u_i + v_j)]^2 - pe^2.
  double moments_a[5] = {0, 0, 0, 0, 0};
  double moments_b[5] = {0, 0, 0, 0, 0};
  for (std::size_t k = 0; k < q; ++k) {
    const double x = p.scale.X(static_cast<int>(k));
    double power = 1.0;
    for (int m = 0; m < 5; ++m) {
      moments_a[m] += a[k] * power;
      moments_b[m] += b[k] * power;
      power *= x;
    }
  }
  double weight_sq = chance;  // Unweighted: w^2 = w.
  if (weighting == Weighting::kLinear) {
    // w^2 = 1 - 2f + f^2 with f^2 = (xi - xj)^2.
    weight_sq =
        2.0 * chance - 1.0 + (moments_a[2] - 2.0 * moments_a[1] * moments_b[1] + moments_b[2]);
  } else if (weighting == Weighting::kQuadratic) {
    // f^2 = (xi - xj)^4, expanded binomially over the moments.
    weight_sq =
        2.0 * chance - 1.0 +
        (moments_a[4] - 4.0 * moments_a[3] * moments_b[1] + 6.0 * moments_a[2] * moments_b[2] -
         4.0 * moments_a[1] * moments_b[3] + moments_b[4]);
  }
  const double null_variance = (weight_sq - a_u_sq - b_v_sq + chance * chance) / scale;
  if (null_variance > 0.0 && std::isfinite(null_variance)) {
    const double z = kappa / std::sqrt(null_variance);
    stat.z = Finite(z);
    if (stat.z.has_value()) stat.p_value = Finite(TwoSidedNormalP(z));
  }
}

// Gwet's AC1/AC2 variance (Gwet 2008; handbook 4th ed., ch. 5), as R irrCAC
// gwet.ac1.raw() computes it for complete data and an infinite population:
// var = sum_i (x_i - AC)^2 / (n (n - 1)) with the linearised subject terms
// x_i = (pa_i - pe) / (1 - pe) - 2 (1 - AC) (pe_i - pe) / (1 - pe). The test
// and the interval use Student's t on n - 1 df; the upper bound is capped at 1
// as irrCAC does.
void FillGwetUncertainty(const PreparedTable& p, Weighting weighting, double level,
                         Statistic& stat) {
  if (!stat.value.has_value() || p.complete < 2 || p.scale.count < 2) return;
  const double ac = *stat.value;
  const double n = p.complete;
  const double r = p.raters;
  const double q = p.scale.count;
  std::vector<double> share(Index(p.scale.count), 0.0);
  for (const int category : p.category) share[Index(category)] += 1.0 / (n * r);
  double spread = 0.0;
  for (const double s : share) spread += s * (1.0 - s);
  const double factor = agreement_internal::WeightTotal(weighting, p.scale.count) / (q * (q - 1.0));
  const double chance = factor * spread;
  if (!(1.0 - chance > 0.0)) return;
  const std::vector<double>& agreement = p.agreement[static_cast<std::size_t>(weighting)];
  double squares = 0.0;
  for (int c = 0; c < p.complete; ++c) {
    double used_share = 0.0;
    for (int j = 0; j < p.raters; ++j) {
      used_share += share[Index(p.category[Index(c) * Index(p.raters) + Index(j)])];
    }
    const double subject_chance = factor * (1.0 - used_share / r);
    const double x = (agreement[Index(c)] - chance) / (1.0 - chance) -
                     2.0 * (1.0 - ac) * (subject_chance - chance) / (1.0 - chance);
    squares += (x - ac) * (x - ac);
  }
  const double se = std::sqrt(squares / (n * (n - 1.0)));
  if (!std::isfinite(se)) return;
  stat.standard_error = se;
  const StudentT t(n - 1.0);
  const double quantile = boost::math::quantile(t, 0.5 + level / 2.0);
  stat.ci_lower = Finite(ac - quantile * se);
  stat.ci_upper = Finite(std::min(1.0, ac + quantile * se));
  if (se > 0.0) {
    stat.p_value = Finite(2.0 * boost::math::cdf(boost::math::complement(t, std::abs(ac / se))));
  }
}

// Fleiss' kappa SE under H0 (Fleiss, Nee & Landis 1979, as R irr kappam.fleiss):
// var = 2 / (sum pq)^2 / (n m (m - 1)) * [(sum pq)^2 - sum pq (q - p)].
void FillFleissUncertainty(const PreparedTable& p, Statistic& stat) {
  if (!stat.value.has_value() || p.complete == 0) return;
  const double n = p.complete;
  const double m = p.raters;
  std::vector<double> share(Index(p.scale.count), 0.0);
  for (const int category : p.category) share[Index(category)] += 1.0 / (n * m);
  double pq = 0.0;
  double skew = 0.0;
  for (const double s : share) {
    pq += s * (1.0 - s);
    skew += s * (1.0 - s) * ((1.0 - s) - s);
  }
  const double variance = 2.0 / (pq * pq * n * m * (m - 1.0)) * (pq * pq - skew);
  if (!(variance > 0.0) || !std::isfinite(variance)) return;
  const double se = std::sqrt(variance);
  stat.standard_error = se;
  stat.z = Finite(*stat.value / se);
  if (stat.z.has_value()) stat.p_value = Finite(TwoSidedNormalP(*stat.z));
}

// F test and F-based interval of each ICC (Shrout & Fleiss 1979; McGraw &
// Wong 1996), following the formulas R psych ICC() prints.
void FillIccUncertainty(const PreparedTable& p, double level, AgreementResult& result) {
  if (p.complete < 2) return;
  std::vector<double> column(Index(p.raters), 0.0);
  double sum = 0.0;
  double sum_sq = 0.0;
  double row_sq = 0.0;
  for (int c = 0; c < p.complete; ++c) {
    for (int j = 0; j < p.raters; ++j) {
      column[Index(j)] += p.centered[Index(c) * Index(p.raters) + Index(j)];
    }
    sum += p.row_sum[Index(c)];
    sum_sq += p.row_sum_sq[Index(c)];
    row_sq += p.row_sum[Index(c)] * p.row_sum[Index(c)];
  }
  const std::optional<MeanSquares> ms =
      ComputeMeanSquares(p.complete, p.raters, sum, sum_sq, row_sq, column.data());
  if (!ms.has_value()) return;
  const double n = ms->n;
  const double k = ms->k;
  const double upper = 1.0 - (1.0 - level) / 2.0;

  // One-way model: F = MSR / MSW on (n - 1, n (k - 1)).
  const double df1 = n - 1.0;
  const double df_one_way = n * (k - 1.0);
  const double df_two_way = (n - 1.0) * (k - 1.0);
  const double f_one_way = ms->msw > 0.0 ? ms->msr / ms->msw : std::nan("");
  const double f_two_way = ms->mse > 0.0 ? ms->msr / ms->mse : std::nan("");
  auto fill_test = [&](Statistic& stat, double f, double df2) {
    stat.df1 = df1;
    stat.df2 = df2;
    stat.f = Finite(f);
    if (stat.f.has_value()) stat.p_value = Finite(UpperF(f, df1, df2));
  };
  fill_test(result.icc1, f_one_way, df_one_way);
  fill_test(result.icc1k, f_one_way, df_one_way);
  fill_test(result.icc2, f_two_way, df_two_way);
  fill_test(result.icc2k, f_two_way, df_two_way);
  fill_test(result.icc3, f_two_way, df_two_way);
  fill_test(result.icc3k, f_two_way, df_two_way);

  auto set_interval = [](Statistic& stat, double lower, double upper_bound) {
    if (!stat.value.has_value()) return;
    const std::optional<double> lo = Finite(lower);
    const std::optional<double> hi = Finite(upper_bound);
    if (lo.has_value() && hi.has_value()) {
      stat.ci_lower = lo;
      stat.ci_upper = hi;
    }
  };
  if (std::isfinite(f_one_way)) {
    const double fl = f_one_way / FQuantile(upper, df1, df_one_way);
    const double fu = f_one_way * FQuantile(upper, df_one_way, df1);
    set_interval(result.icc1, (fl - 1.0) / (fl + k - 1.0), (fu - 1.0) / (fu + k - 1.0));
    set_interval(result.icc1k, 1.0 - 1.0 / fl, 1.0 - 1.0 / fu);
  }
  if (std::isfinite(f_two_way)) {
    const double fl = f_two_way / FQuantile(upper, df1, df_two_way);
    const double fu = f_two_way * FQuantile(upper, df_two_way, df1);
    set_interval(result.icc3, (fl - 1.0) / (fl + k - 1.0), (fu - 1.0) / (fu + k - 1.0));
    set_interval(result.icc3k, 1.0 - 1.0 / fl, 1.0 - 1.0 / fu);

    // ICC2: Satterthwaite-type df v for the absolute-agreement bounds
    // (McGraw & Wong 1996, Table 7, case 2A).
    const double icc2 = IccValue(IccType::kIcc2, *ms);
    if (std::isfinite(icc2)) {
      const double fj = ms->msc / ms->mse;
      const double a = k * icc2 * fj + n * (1.0 + (k - 1.0) * icc2) - k * icc2;
      const double vn = (k - 1.0) * (n - 1.0) * a * a;
      const double b = n * (1.0 + (k - 1.0) * icc2) - k * icc2;
      const double vd = (n - 1.0) * k * k * icc2 * icc2 * fj * fj + b * b;
      const double v = vn / vd;
      const double f_upper = FQuantile(upper, n - 1.0, v);
      const double f_lower = FQuantile(upper, v, n - 1.0);
      const double spread = k * ms->msc + (k * n - k - n) * ms->mse;
      const double lower = n * (ms->msr - f_upper * ms->mse) / (f_upper * spread + n * ms->msr);
      const double upper_bound =
          n * (f_lower * ms->msr - ms->mse) / (spread + n * f_lower * ms->msr);
      set_interval(result.icc2, lower, upper_bound);
      set_interval(result.icc2k, lower * k / (1.0 + lower * (k - 1.0)),
                   upper_bound * k / (1.0 + upper_bound * (k - 1.0)));
    }
  }
}

bool IsIcc(StatisticId id) {
  switch (id) {
    case StatisticId::kIcc1:
    case StatisticId::kIcc2:
    case StatisticId::kIcc3:
    case StatisticId::kIcc1k:
    case StatisticId::kIcc2k:
    case StatisticId::kIcc3k:
      return true;
    default:
      return false;
  }
}

bool IsCohen(StatisticId id) {
  return id == StatisticId::kCohenKappa || id == StatisticId::kCohenKappaLinear ||
         id == StatisticId::kCohenKappaQuadratic;
}

void AddWarnings(const RatingsTable& table, const PreparedTable& p, AgreementResult& result) {
  std::vector<std::string>& warnings = result.warnings;
  if (p.complete < p.subjects) {
    warnings.push_back(absl::StrFormat(
        "%d of %d subjects lack a rating from at least one rater; every statistic except "
        "Krippendorff's alpha uses only the %d subjects rated by every rater.",
        p.subjects - p.complete, p.subjects, p.complete));
  }
  if (p.complete < kMinSubjectsForStableEstimates) {
    warnings.push_back(absl::StrFormat(
        "Only %d subjects were rated by every rater; with fewer than %d subjects the estimates "
        "are unstable and their confidence intervals wide.",
        p.complete, kMinSubjectsForStableEstimates));
  }

  // Kappa paradox: one category holds most ratings. Per-rater category use is
  // tracked only for a categorical scale (see kMaxCategoriesForCategoryWarnings).
  const std::size_t q = p.all_categories.size();
  const bool categorical =
      q >= 2 && q <= static_cast<std::size_t>(kMaxCategoriesForCategoryWarnings);
  std::vector<std::vector<char>> used(categorical ? Index(p.raters) : 0, std::vector<char>(q, 0));
  std::vector<double> count(q, 0.0);
  double ratings = 0.0;
  for (const auto& row : table.ratings) {
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (!row[j].has_value()) continue;
      const auto it = std::lower_bound(p.all_categories.begin(), p.all_categories.end(), *row[j]);
      const std::size_t k = static_cast<std::size_t>(it - p.all_categories.begin());
      count[k] += 1.0;
      if (categorical) used[j][k] = 1;
      ratings += 1.0;
    }
  }
  for (std::size_t k = 0; k < q; ++k) {
    const double share = count[k] / ratings;
    if (share > kDominantCategoryShare) {
      warnings.push_back(absl::StrFormat(
          "Category %s holds %.0f%% of the ratings: kappa-type coefficients can be low despite "
          "high observed agreement (the kappa paradox); read them with percent agreement and "
          "Gwet's AC1.",
          FormatValue(p.all_categories[k]), 100.0 * share));
    }
  }

  // A rater who never uses a category that the other raters use.
  if (categorical) {
    for (int j = 0; j < p.raters; ++j) {
      bool rated_any = false;
      for (std::size_t k = 0; k < q; ++k) rated_any = rated_any || used[Index(j)][k] != 0;
      if (!rated_any) continue;
      std::vector<std::string> missing;
      for (std::size_t k = 0; k < q; ++k) {
        if (used[Index(j)][k] != 0) continue;
        bool others = false;
        for (int o = 0; o < p.raters; ++o) others = others || (o != j && used[Index(o)][k] != 0);
        if (others) missing.push_back(FormatValue(p.all_categories[k]));
      }
      if (!missing.empty()) {
        warnings.push_back(absl::StrFormat(
            "Rater '%s' never uses %s %s, which other raters use: a systematic difference "
            "that lowers agreement.",
            table.rater_labels[Index(j)], missing.size() == 1 ? "category" : "categories",
            absl::StrJoin(missing, ", ")));
      }
    }
  }

  // Statistics that are undefined for these data.
  std::vector<std::string> undefined;
  for (const StatisticId id : kAllStatistics) {
    if (IsCohen(id) && p.raters != 2) continue;
    if (!GetStatistic(result, id).value.has_value()) {
      undefined.emplace_back(StatisticKey(id));
    }
  }
  if (!undefined.empty()) {
    warnings.push_back(absl::StrCat(
        "Undefined for these data (e.g. identical ratings, too few subjects, no variance): ",
        absl::StrJoin(undefined, ", "), "."));
  }
  const bool has_negative = !p.alpha_values.empty() && p.alpha_values.front() < 0.0;
  if (has_negative) {
    warnings.push_back(
        "Krippendorff's ratio alpha needs non-negative values (a ratio scale); it is undefined.");
  } else if (p.alpha_values.size() > static_cast<std::size_t>(kMaxRatioAlphaDistinctValues)) {
    warnings.push_back(absl::StrFormat(
        "Krippendorff's ratio alpha is not computed for more than %d distinct values.",
        kMaxRatioAlphaDistinctValues));
  }
}

// Everything except the bootstrap; shared by ComputeAgreement and the
// single-statistic functions.
AgreementResult ComputeAnalytic(const RatingsTable& table, const PreparedTable& p, double level) {
  AgreementResult result;
  result.subjects = p.subjects;
  result.subjects_used = p.complete;
  result.raters = p.raters;
  result.categories = p.all_categories;

  const std::vector<double> every_row_once(Index(p.subjects), 1.0);
  Workspace workspace;
  StatisticValues values;
  EvaluateValues(p, every_row_once.data(), /*include_ratio=*/true, workspace, values);
  for (const StatisticId id : kAllStatistics) {
    GetStatistic(result, id).value = Finite(values[static_cast<std::size_t>(id)]);
  }
  FillCohenUncertainty(p, Weighting::kUnweighted, level, result.cohen_kappa);
  FillCohenUncertainty(p, Weighting::kLinear, level, result.cohen_kappa_linear);
  FillCohenUncertainty(p, Weighting::kQuadratic, level, result.cohen_kappa_quadratic);
  FillFleissUncertainty(p, result.fleiss_kappa);
  FillGwetUncertainty(p, Weighting::kUnweighted, level, result.gwet_ac1);
  FillGwetUncertainty(p, Weighting::kLinear, level, result.gwet_ac2_linear);
  FillGwetUncertainty(p, Weighting::kQuadratic, level, result.gwet_ac2_quadratic);
  FillIccUncertainty(p, level, result);
  (void)table;
  return result;
}

absl::StatusOr<Statistic> Single(const RatingsTable& table, StatisticId id, double level) {
  RQS_RETURN_IF_ERROR(ValidateRatingsTable(table));
  RQS_RETURN_IF_ERROR(ValidateLevel(level));
  const PreparedTable prepared = agreement_internal::Prepare(table);
  AgreementResult result = ComputeAnalytic(table, prepared, level);
  return GetStatistic(result, id);
}

// One switch serves the const and non-const accessors.
template <typename Result>
auto& StatisticOf(Result& result, StatisticId id) {
  switch (id) {
    case StatisticId::kPercentAgreement:
      return result.percent_agreement;
    case StatisticId::kCohenKappa:
      return result.cohen_kappa;
    case StatisticId::kCohenKappaLinear:
      return result.cohen_kappa_linear;
    case StatisticId::kCohenKappaQuadratic:
      return result.cohen_kappa_quadratic;
    case StatisticId::kFleissKappa:
      return result.fleiss_kappa;
    case StatisticId::kGwetAc1:
      return result.gwet_ac1;
    case StatisticId::kGwetAc2Linear:
      return result.gwet_ac2_linear;
    case StatisticId::kGwetAc2Quadratic:
      return result.gwet_ac2_quadratic;
    case StatisticId::kKrippendorffAlphaNominal:
      return result.krippendorff_alpha_nominal;
    case StatisticId::kKrippendorffAlphaOrdinal:
      return result.krippendorff_alpha_ordinal;
    case StatisticId::kKrippendorffAlphaInterval:
      return result.krippendorff_alpha_interval;
    case StatisticId::kKrippendorffAlphaRatio:
      return result.krippendorff_alpha_ratio;
    case StatisticId::kIcc1:
      return result.icc1;
    case StatisticId::kIcc2:
      return result.icc2;
    case StatisticId::kIcc3:
      return result.icc3;
    case StatisticId::kIcc1k:
      return result.icc1k;
    case StatisticId::kIcc2k:
      return result.icc2k;
    case StatisticId::kIcc3k:
      return result.icc3k;
  }
  return result.percent_agreement;
}

}  // namespace

std::string_view StatisticKey(StatisticId id) {
  switch (id) {
    case StatisticId::kPercentAgreement:
      return "percent_agreement";
    case StatisticId::kCohenKappa:
      return "cohen_kappa";
    case StatisticId::kCohenKappaLinear:
      return "cohen_kappa_linear";
    case StatisticId::kCohenKappaQuadratic:
      return "cohen_kappa_quadratic";
    case StatisticId::kFleissKappa:
      return "fleiss_kappa";
    case StatisticId::kGwetAc1:
      return "gwet_ac1";
    case StatisticId::kGwetAc2Linear:
      return "gwet_ac2_linear";
    case StatisticId::kGwetAc2Quadratic:
      return "gwet_ac2_quadratic";
    case StatisticId::kKrippendorffAlphaNominal:
      return "krippendorff_alpha_nominal";
    case StatisticId::kKrippendorffAlphaOrdinal:
      return "krippendorff_alpha_ordinal";
    case StatisticId::kKrippendorffAlphaInterval:
      return "krippendorff_alpha_interval";
    case StatisticId::kKrippendorffAlphaRatio:
      return "krippendorff_alpha_ratio";
    case StatisticId::kIcc1:
      return "icc1";
    case StatisticId::kIcc2:
      return "icc2";
    case StatisticId::kIcc3:
      return "icc3";
    case StatisticId::kIcc1k:
      return "icc1k";
    case StatisticId::kIcc2k:
      return "icc2k";
    case StatisticId::kIcc3k:
      return "icc3k";
  }
  return "unknown";
}

Statistic& GetStatistic(AgreementResult& result, StatisticId id) { return StatisticOf(result, id); }

const Statistic& GetStatistic(const AgreementResult& result, StatisticId id) {
  return StatisticOf(result, id);
}

std::string_view InterpretKappa(double value) {
  if (value < 0.0) return "poor";
  if (value <= 0.20) return "slight";
  if (value <= 0.40) return "fair";
  if (value <= 0.60) return "moderate";
  if (value <= 0.80) return "substantial";
  return "almost perfect";
}

std::string_view InterpretIcc(double value) {
  if (value < 0.50) return "poor";
  if (value < 0.75) return "moderate";
  if (value <= 0.90) return "good";
  return "excellent";
}

absl::Status ValidateRatingsTable(const RatingsTable& table) {
  const std::size_t raters = table.rater_labels.size();
  if (raters < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("agreement needs at least 2 raters, got ", raters));
  }
  if (table.subject_labels.size() != table.ratings.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the table has ", table.ratings.size(),
                                                   " rows of ratings but ",
                                                   table.subject_labels.size(), " subject labels"));
  }
  if (table.ratings.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) / raters) {
    return absl::InvalidArgumentError("the table has too many ratings");
  }
  for (std::size_t s = 0; s < table.ratings.size(); ++s) {
    const auto& row = table.ratings[s];
    if (row.size() != raters) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject '", table.subject_labels[s], "' has ", row.size(),
                       " rating cells, expected one per rater (", raters, ")"));
    }
    for (std::size_t j = 0; j < row.size(); ++j) {
      if (row[j].has_value() && !std::isfinite(*row[j])) {
        return absl::InvalidArgumentError(absl::StrCat("subject '", table.subject_labels[s],
                                                       "', rater '", table.rater_labels[j],
                                                       "': rating is not a finite number"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<AgreementResult> ComputeAgreement(const RatingsTable& table,
                                                 const AgreementOptions& options) {
  RQS_RETURN_IF_ERROR(ValidateRatingsTable(table));
  RQS_RETURN_IF_ERROR(ValidateOptions(options));
  RQS_RETURN_IF_ERROR(ValidateLevel(options.confidence_level));
  const PreparedTable prepared = agreement_internal::Prepare(table);
  AgreementResult result = ComputeAnalytic(table, prepared, options.confidence_level);
  for (const StatisticId id : kAllStatistics) {
    Statistic& stat = GetStatistic(result, id);
    if (!stat.value.has_value() || id == StatisticId::kPercentAgreement) continue;
    stat.interpretation =
        std::string(IsIcc(id) ? InterpretIcc(*stat.value) : InterpretKappa(*stat.value));
  }
  AddWarnings(table, prepared, result);
  if (options.bootstrap_replicates > 0) {
    agreement_internal::Bootstrap(prepared, options, result);
  }
  return result;
}

absl::StatusOr<Statistic> PercentAgreement(const RatingsTable& table) {
  return Single(table, StatisticId::kPercentAgreement, 0.95);
}

absl::StatusOr<Statistic> CohenKappa(const RatingsTable& table, Weighting weighting,
                                     double confidence_level) {
  if (table.rater_labels.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cohen's kappa needs exactly 2 raters, got ", table.rater_labels.size()));
  }
  switch (weighting) {
    case Weighting::kUnweighted:
      return Single(table, StatisticId::kCohenKappa, confidence_level);
    case Weighting::kLinear:
      return Single(table, StatisticId::kCohenKappaLinear, confidence_level);
    case Weighting::kQuadratic:
      return Single(table, StatisticId::kCohenKappaQuadratic, confidence_level);
  }
  return absl::InvalidArgumentError("unknown weighting");
}

absl::StatusOr<Statistic> FleissKappa(const RatingsTable& table) {
  return Single(table, StatisticId::kFleissKappa, 0.95);
}

absl::StatusOr<Statistic> GwetAc(const RatingsTable& table, Weighting weighting,
                                 double confidence_level) {
  switch (weighting) {
    case Weighting::kUnweighted:
      return Single(table, StatisticId::kGwetAc1, confidence_level);
    case Weighting::kLinear:
      return Single(table, StatisticId::kGwetAc2Linear, confidence_level);
    case Weighting::kQuadratic:
      return Single(table, StatisticId::kGwetAc2Quadratic, confidence_level);
  }
  return absl::InvalidArgumentError("unknown weighting");
}

absl::StatusOr<Statistic> KrippendorffAlpha(const RatingsTable& table, AlphaMetric metric) {
  switch (metric) {
    case AlphaMetric::kNominal:
      return Single(table, StatisticId::kKrippendorffAlphaNominal, 0.95);
    case AlphaMetric::kOrdinal:
      return Single(table, StatisticId::kKrippendorffAlphaOrdinal, 0.95);
    case AlphaMetric::kInterval:
      return Single(table, StatisticId::kKrippendorffAlphaInterval, 0.95);
    case AlphaMetric::kRatio:
      return Single(table, StatisticId::kKrippendorffAlphaRatio, 0.95);
  }
  return absl::InvalidArgumentError("unknown metric");
}

absl::StatusOr<Statistic> Icc(const RatingsTable& table, IccType type, double confidence_level) {
  switch (type) {
    case IccType::kIcc1:
      return Single(table, StatisticId::kIcc1, confidence_level);
    case IccType::kIcc2:
      return Single(table, StatisticId::kIcc2, confidence_level);
    case IccType::kIcc3:
      return Single(table, StatisticId::kIcc3, confidence_level);
    case IccType::kIcc1k:
      return Single(table, StatisticId::kIcc1k, confidence_level);
    case IccType::kIcc2k:
      return Single(table, StatisticId::kIcc2k, confidence_level);
    case IccType::kIcc3k:
      return Single(table, StatisticId::kIcc3k, confidence_level);
  }
  return absl::InvalidArgumentError("unknown ICC type");
}

}  // namespace rqs::scoring
