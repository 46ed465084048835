// Preparation of a ratings table and evaluation of every statistic from
// sufficient statistics summed over a multiset of subjects.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "scoring/agreement.h"
#include "scoring/agreement_internal.h"

namespace rqs::scoring::agreement_internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Sums of squares and disagreements smaller than this share of their scale are
// rounding noise, not information: treating them as zero keeps identical
// ratings from producing arbitrary ratios of tiny numbers.
constexpr double kRelativeZero = 1e-12;

std::size_t Index(int i) { return static_cast<std::size_t>(i); }

// Position of `value` in the ascending, duplicate-free `sorted`.
int PositionOf(const std::vector<double>& sorted, double value) {
  return static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), value) - sorted.begin());
}

std::vector<double> SortedDistinct(std::vector<double> values) {
  // Ratings take a handful of distinct values, so collecting them beats
  // sorting thousands. Equal finite doubles are identical, except 0.0 and
  // -0.0: which of the two a sort keeps is unspecified, so with both present
  // sort as ever. So is a table with many distinct values.
  constexpr std::size_t kFewDistinct = 32;
  std::vector<double> distinct;
  bool zero = false;
  bool negative_zero = false;
  for (const double value : values) {
    if (value == 0.0) (std::signbit(value) ? negative_zero : zero) = true;
    if (!distinct.empty() && distinct.back() == value) continue;
    if (std::find(distinct.begin(), distinct.end(), value) != distinct.end()) continue;
    if (distinct.size() == kFewDistinct) break;
    distinct.push_back(value);
  }
  if (distinct.size() < kFewDistinct && !(zero && negative_zero)) {
    std::sort(distinct.begin(), distinct.end());
    return distinct;
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

// sum_i w[index[i]] over [begin, end). Four accumulators make the additions
// independent chains, so the loop is not bound by addition latency.
double GatherSum(const double* w, const int* index, int begin, int end) {
  double s0 = 0.0;
  double s1 = 0.0;
  double s2 = 0.0;
  double s3 = 0.0;
  int i = begin;
  for (; i + 4 <= end; i += 4) {
    s0 += w[index[i]];
    s1 += w[index[i + 1]];
    s2 += w[index[i + 2]];
    s3 += w[index[i + 3]];
  }
  for (; i < end; ++i) s0 += w[index[i]];
  return (s0 + s1) + (s2 + s3);
}

double ClampNoise(double value, double scale) {
  return value <= kRelativeZero * scale ? 0.0 : value;
}

// Chance-corrected coefficient (observed - chance) / (1 - chance), NaN when
// chance agreement is (numerically) perfect.
double ChanceCorrected(double observed, double chance) {
  if (!(1.0 - chance > kRelativeZero)) return kNaN;
  return (observed - chance) / (1.0 - chance);
}

// Krippendorff's alpha from observed and expected disagreement sums.
double Alpha(double observed, double expected) {
  if (!(expected > 0.0)) return kNaN;
  return 1.0 - observed / expected;
}

// 2 (n sum y^2 - (sum y)^2): the sum of squared differences over ordered pairs
// of a weighted set of values, with rounding noise cleared.
double PairSquares(double n, double sum, double sum_sq) {
  return 2.0 * ClampNoise(n * sum_sq - sum * sum, n * sum_sq);
}

}  // namespace

double WeightTotal(Weighting weighting, int q) {
  const double qd = q;
  switch (weighting) {
    case Weighting::kUnweighted:
      return qd;
    case Weighting::kLinear:
      // sum |k - l| = q (q^2 - 1) / 3, scaled by 1 / (q - 1).
      return qd * qd - qd * (qd + 1.0) / 3.0;
    case Weighting::kQuadratic:
      // sum (k - l)^2 = q^2 (q^2 - 1) / 6, scaled by 1 / (q - 1)^2.
      return qd * qd - qd * qd * (qd + 1.0) / (6.0 * (qd - 1.0));
  }
  return qd;
}

double Disagreement(Weighting weighting, const CategoryScale& scale, int i, int j) {
  switch (weighting) {
    case Weighting::kUnweighted:
      return i == j ? 0.0 : 1.0;
    case Weighting::kLinear:
      return std::abs(scale.X(i) - scale.X(j));
    case Weighting::kQuadratic: {
      const double d = scale.X(i) - scale.X(j);
      return d * d;
    }
  }
  return 1.0;
}

void WeightedMarginal(const std::vector<double>& b, Weighting weighting, const CategoryScale& scale,
                      std::vector<double>& u) {
  const int q = static_cast<int>(b.size());
  u.resize(b.size());
  double total = 0.0;
  double first = 0.0;
  double second = 0.0;
  for (int j = 0; j < q; ++j) {
    const double x = scale.X(j);
    total += b[Index(j)];
    first += b[Index(j)] * x;
    second += b[Index(j)] * x * x;
  }
  switch (weighting) {
    case Weighting::kUnweighted:
      for (int i = 0; i < q; ++i) u[Index(i)] = b[Index(i)];
      return;
    case Weighting::kLinear: {
      // sum_j b_j |x_i - x_j| split at i with running mass and first moment.
      double mass_below = 0.0;
      double moment_below = 0.0;
      for (int i = 0; i < q; ++i) {
        const double x = scale.X(i);
        mass_below += b[Index(i)];
        moment_below += b[Index(i)] * x;
        const double distance =
            x * mass_below - moment_below + (first - moment_below) - x * (total - mass_below);
        u[Index(i)] = total - distance;
      }
      return;
    }
    case Weighting::kQuadratic:
      for (int i = 0; i < q; ++i) {
        const double x = scale.X(i);
        u[Index(i)] = total - (x * x * total - 2.0 * x * first + second);
      }
      return;
  }
}

std::optional<MeanSquares> ComputeMeanSquares(double n, int k, double sum, double sum_sq,
                                              double row_sum_sq, const double* column_sum) {
  if (n < 2.0 || k < 2) return std::nullopt;
  const double kd = k;
  const double cells = n * kd;
  const double correction = sum * sum / cells;
  double column_sq = 0.0;
  for (int j = 0; j < k; ++j) column_sq += column_sum[j] * column_sum[j];
  // sum_sq bounds every sum of squares; differences below rounding are zero.
  const double total = ClampNoise(sum_sq - correction, sum_sq);
  const double rows = std::min(ClampNoise(row_sum_sq / kd - correction, sum_sq), total);
  const double columns = std::min(ClampNoise(column_sq / n - correction, sum_sq), total - rows);
  const double within = ClampNoise(total - rows, sum_sq);
  const double error = ClampNoise(total - rows - columns, sum_sq);
  MeanSquares ms;
  ms.n = n;
  ms.k = kd;
  ms.msr = rows / (n - 1.0);
  ms.msc = columns / (kd - 1.0);
  ms.mse = error / ((n - 1.0) * (kd - 1.0));
  ms.msw = within / (n * (kd - 1.0));
  return ms;
}

double IccValue(IccType type, const MeanSquares& ms) {
  const double n = ms.n;
  const double k = ms.k;
  double numerator = 0.0;
  double denominator = 0.0;
  switch (type) {
    case IccType::kIcc1:
      numerator = ms.msr - ms.msw;
      denominator = ms.msr + (k - 1.0) * ms.msw;
      break;
    case IccType::kIcc2:
      numerator = ms.msr - ms.mse;
      denominator = ms.msr + (k - 1.0) * ms.mse + k * (ms.msc - ms.mse) / n;
      break;
    case IccType::kIcc3:
      numerator = ms.msr - ms.mse;
      denominator = ms.msr + (k - 1.0) * ms.mse;
      break;
    case IccType::kIcc1k:
      numerator = ms.msr - ms.msw;
      denominator = ms.msr;
      break;
    case IccType::kIcc2k:
      numerator = ms.msr - ms.mse;
      denominator = ms.msr + (ms.msc - ms.mse) / n;
      break;
    case IccType::kIcc3k:
      numerator = ms.msr - ms.mse;
      denominator = ms.msr;
      break;
  }
  if (denominator == 0.0) return kNaN;
  const double value = numerator / denominator;
  return std::isfinite(value) ? value : kNaN;
}

namespace {

// Orders rows lexicographically by their cells, a missing cell first.
bool RowLess(const std::vector<std::optional<double>>& a,
             const std::vector<std::optional<double>>& b) {
  for (std::size_t j = 0; j < a.size(); ++j) {
    if (a[j] == b[j]) continue;
    return a[j] < b[j];  // std::nullopt compares less than any value.
  }
  return false;
}

// Each row as a number that orders rows as RowLess does, when one fits in
// 64 bits: one digit per cell, 0 for a missing rating and 1 + the rating's
// position among all observed ratings otherwise. Empty if none fits.
std::vector<std::uint64_t> RowKeys(const RatingsTable& table, const PreparedTable& p) {
  const std::uint64_t base = p.all_categories.size() + 1;
  std::uint64_t largest = 1;
  for (int j = 0; j < p.raters; ++j) {
    if (largest > std::numeric_limits<std::uint64_t>::max() / base) return {};
    largest *= base;
  }
  std::vector<std::uint64_t> keys(Index(p.subjects));
  for (int s = 0; s < p.subjects; ++s) {
    std::uint64_t key = 0;
    for (const auto& cell : table.ratings[Index(s)]) {
      key = key * base +
            (cell.has_value() ? 1 + static_cast<std::uint64_t>(PositionOf(p.all_categories, *cell))
                              : 0);
    }
    keys[Index(s)] = key;
  }
  return keys;
}

void BuildPatterns(const RatingsTable& table, PreparedTable& p) {
  std::vector<int> order(Index(p.subjects));
  for (int s = 0; s < p.subjects; ++s) order[Index(s)] = s;
  // Comparing numbers is far cheaper than comparing rows cell by cell.
  const std::vector<std::uint64_t> keys = RowKeys(table, p);
  const auto less = [&table, &keys](int a, int b) {
    return keys.empty() ? RowLess(table.ratings[Index(a)], table.ratings[Index(b)])
                        : keys[Index(a)] < keys[Index(b)];
  };
  // Stable, so each pattern lists its rows in table order.
  std::stable_sort(order.begin(), order.end(), less);
  p.pattern_offset.assign(1, 0);
  p.pattern_member = order;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const bool starts = i == 0 || less(order[i - 1], order[i]);
    if (!starts) continue;
    if (i > 0) p.pattern_offset.push_back(static_cast<int>(i));
    const int pattern = static_cast<int>(p.pattern_offset.size()) - 1;
    const std::size_t row = Index(order[i]);
    if (p.complete_of_subject[row] >= 0) {
      p.complete_pattern.push_back(pattern);
      p.complete_representative.push_back(p.complete_of_subject[row]);
    }
    if (p.unit_of_subject[row] >= 0) {
      p.unit_pattern.push_back(pattern);
      p.unit_representative.push_back(p.unit_of_subject[row]);
    }
  }
  if (!order.empty()) p.pattern_offset.push_back(static_cast<int>(order.size()));
}

}  // namespace

PreparedTable Prepare(const RatingsTable& table) {
  PreparedTable p;
  p.subjects = static_cast<int>(table.ratings.size());
  p.raters = static_cast<int>(table.rater_labels.size());
  const int r = p.raters;

  std::vector<double> all;
  std::vector<double> complete_values;
  p.complete_of_subject.assign(Index(p.subjects), -1);
  p.unit_of_subject.assign(Index(p.subjects), -1);
  for (int s = 0; s < p.subjects; ++s) {
    const auto& row = table.ratings[Index(s)];
    int present = 0;
    for (const auto& cell : row) {
      if (cell.has_value()) {
        ++present;
        all.push_back(*cell);
      }
    }
    if (present == r) {
      p.complete_of_subject[Index(s)] = p.complete++;
      for (const auto& cell : row) complete_values.push_back(*cell);
    }
    if (present >= 2) {
      p.unit_of_subject[Index(s)] = p.units++;
    }
  }
  p.all_categories = SortedDistinct(all);

  // Complete subjects: category positions, centered values, pair agreement.
  const std::vector<double>& raw = complete_values;
  // With every subject complete the three value lists coincide: sort once.
  const bool all_complete = p.complete == p.subjects;
  p.categories = all_complete ? p.all_categories : SortedDistinct(raw);
  p.scale.count = static_cast<int>(p.categories.size());
  p.scale.step = p.scale.count > 1 ? 1.0 / (p.scale.count - 1) : 0.0;
  // Centering on an observed rating keeps integer data exact and makes the
  // one-pass sums of squares accurate for data far from zero.
  const double reference = raw.empty() ? 0.0 : raw.front();
  p.category.resize(raw.size());
  p.centered.resize(raw.size());
  p.row_sum.assign(Index(p.complete), 0.0);
  p.row_sum_sq.assign(Index(p.complete), 0.0);
  for (auto& a : p.agreement) a.assign(Index(p.complete), 0.0);
  const double pairs = static_cast<double>(r) * (r - 1);
  for (int c = 0; c < p.complete; ++c) {
    const std::size_t base = Index(c) * Index(r);
    for (int j = 0; j < r; ++j) {
      const double value = raw[base + Index(j)];
      p.category[base + Index(j)] = PositionOf(p.categories, value);
      const double y = value - reference;
      p.centered[base + Index(j)] = y;
      p.row_sum[Index(c)] += y;
      p.row_sum_sq[Index(c)] += y * y;
    }
    for (int w = 0; w < kWeightingCount; ++w) {
      const auto weighting = static_cast<Weighting>(w);
      double sum = 0.0;
      for (int a = 0; a < r; ++a) {
        for (int b = a + 1; b < r; ++b) {
          sum += 1.0 - Disagreement(weighting, p.scale, p.category[base + Index(a)],
                                    p.category[base + Index(b)]);
        }
      }
      p.agreement[Index(w)][Index(c)] = 2.0 * sum / pairs;
    }
  }

  p.row_sum_squared.resize(Index(p.complete));
  for (int c = 0; c < p.complete; ++c) {
    p.row_sum_squared[Index(c)] = p.row_sum[Index(c)] * p.row_sum[Index(c)];
  }

  // Pairable units for Krippendorff's alpha.
  std::vector<double> pairable;
  for (int s = 0; s < p.subjects; ++s) {
    if (p.unit_of_subject[Index(s)] < 0) continue;
    for (const auto& cell : table.ratings[Index(s)]) {
      if (cell.has_value()) pairable.push_back(*cell);
    }
  }
  p.alpha_values = all_complete ? p.all_categories : SortedDistinct(pairable);
  const double alpha_reference = pairable.empty() ? 0.0 : pairable.front();
  p.alpha_centered.resize(p.alpha_values.size());
  bool non_negative = true;
  for (std::size_t v = 0; v < p.alpha_values.size(); ++v) {
    p.alpha_centered[v] = p.alpha_values[v] - alpha_reference;
    if (p.alpha_values[v] < 0.0) non_negative = false;
  }
  p.ratio_defined = non_negative && !p.alpha_values.empty() &&
                    p.alpha_values.size() <= static_cast<std::size_t>(kMaxRatioAlphaDistinctValues);
  p.unit_offset.assign(1, 0);
  p.unit_value.reserve(pairable.size());
  p.unit_nominal.reserve(Index(p.units));
  p.unit_interval.reserve(Index(p.units));
  p.unit_ratio.reserve(Index(p.units));
  std::size_t next = 0;
  for (int s = 0; s < p.subjects; ++s) {
    if (p.unit_of_subject[Index(s)] < 0) continue;
    const std::size_t begin = p.unit_value.size();
    for (const auto& cell : table.ratings[Index(s)]) {
      if (!cell.has_value()) continue;
      // Complete tables list pairable ratings in the order of p.category.
      p.unit_value.push_back(all_complete ? p.category[next]
                                          : PositionOf(p.alpha_values, pairable[next]));
      ++next;
    }
    const std::size_t end = p.unit_value.size();
    p.unit_offset.push_back(static_cast<int>(end));
    const double m = static_cast<double>(end - begin);
    double nominal = 0.0;
    double interval = 0.0;
    double ratio = 0.0;
    for (std::size_t a = begin; a < end; ++a) {
      for (std::size_t b = a + 1; b < end; ++b) {
        const std::size_t va = Index(p.unit_value[a]);
        const std::size_t vb = Index(p.unit_value[b]);
        if (va == vb) continue;
        nominal += 1.0;
        const double d = p.alpha_centered[va] - p.alpha_centered[vb];
        interval += d * d;
        if (p.ratio_defined) {
          // Both values non-negative and distinct, so their sum is positive.
          const double rd =
              (p.alpha_values[va] - p.alpha_values[vb]) / (p.alpha_values[va] + p.alpha_values[vb]);
          ratio += rd * rd;
        }
      }
    }
    // Ordered pairs count each unordered pair twice.
    p.unit_scale.push_back(2.0 / (m - 1.0));
    p.unit_nominal.push_back(2.0 * nominal / (m - 1.0));
    p.unit_interval.push_back(2.0 * interval / (m - 1.0));
    p.unit_ratio.push_back(2.0 * ratio / (m - 1.0));
  }
  BuildPatterns(table, p);
  return p;
}

void EvaluateValues(const PreparedTable& p, const double* weight, bool include_ratio, Workspace& ws,
                    StatisticValues& out) {
  out.fill(kNaN);
  const int r = p.raters;
  const int q = p.scale.count;
  const std::size_t qs = Index(q);
  const bool two_raters = r == 2;

  // Weight of each pattern: the summed weights of its rows.
  const std::size_t patterns = p.pattern_offset.empty() ? 0 : p.pattern_offset.size() - 1;
  ws.pattern_weight.resize(patterns);
  for (std::size_t g = 0; g < patterns; ++g) {
    ws.pattern_weight[g] =
        GatherSum(weight, p.pattern_member.data(), p.pattern_offset[g], p.pattern_offset[g + 1]);
  }
  const double* pw = ws.pattern_weight.data();

  // Complete-subject sums over complete patterns.
  double n = 0.0;
  std::array<double, kWeightingCount> agreement{};
  double sum = 0.0;
  double sum_sq = 0.0;
  double row_sq = 0.0;
  ws.totals.assign(qs, 0.0);
  if (two_raters) {
    ws.first.assign(qs, 0.0);
    ws.second.assign(qs, 0.0);
  }
  ws.column.assign(Index(r), 0.0);
  for (std::size_t i = 0; i < p.complete_pattern.size(); ++i) {
    const double w = pw[p.complete_pattern[i]];
    if (w == 0.0) continue;
    const std::size_t c = Index(p.complete_representative[i]);
    n += w;
    for (int k = 0; k < kWeightingCount; ++k) agreement[Index(k)] += w * p.agreement[Index(k)][c];
    sum += w * p.row_sum[c];
    sum_sq += w * p.row_sum_sq[c];
    row_sq += w * p.row_sum_squared[c];
    const std::size_t base = c * Index(r);
    for (int j = 0; j < r; ++j) {
      ws.totals[Index(p.category[base + Index(j)])] += w;
      ws.column[Index(j)] += w * p.centered[base + Index(j)];
    }
    if (two_raters) {
      ws.first[Index(p.category[base])] += w;
      ws.second[Index(p.category[base + 1])] += w;
    }
  }

  // Alpha sums over pairable patterns.
  double observed_nominal = 0.0;
  double observed_interval = 0.0;
  double observed_ratio = 0.0;
  double unit_total = 0.0;
  ws.value_count.assign(p.alpha_values.size(), 0.0);
  for (std::size_t i = 0; i < p.unit_pattern.size(); ++i) {
    const double w = pw[p.unit_pattern[i]];
    if (w == 0.0) continue;
    const std::size_t u = Index(p.unit_representative[i]);
    unit_total += w;
    observed_nominal += w * p.unit_nominal[u];
    observed_interval += w * p.unit_interval[u];
    observed_ratio += w * p.unit_ratio[u];
    for (int v = p.unit_offset[u]; v < p.unit_offset[u + 1]; ++v) {
      ws.value_count[Index(p.unit_value[Index(v)])] += w;
    }
  }
  const bool any_unit = unit_total > 0.0;

  auto set = [&out](StatisticId id, double value) {
    out[static_cast<std::size_t>(id)] = std::isfinite(value) ? value : kNaN;
  };

  if (n > 0.0) {
    const double ratings = n * r;
    set(StatisticId::kPercentAgreement, agreement[0] / n);

    // Fleiss' kappa: observed P-bar against sum of squared category shares.
    double chance = 0.0;
    double spread = 0.0;  // sum pi (1 - pi), Gwet's chance building block.
    for (std::size_t k = 0; k < qs; ++k) {
      const double share = ws.totals[k] / ratings;
      chance += share * share;
      spread += share * (1.0 - share);
    }
    set(StatisticId::kFleissKappa, ChanceCorrected(agreement[0] / n, chance));

    // Gwet's AC1 / AC2 (Gwet 2014, handbook ch. 4; irrCAC gwet.ac1.raw).
    if (q >= 2) {
      constexpr std::array<StatisticId, kWeightingCount> kGwet = {
          StatisticId::kGwetAc1, StatisticId::kGwetAc2Linear, StatisticId::kGwetAc2Quadratic};
      for (int w = 0; w < kWeightingCount; ++w) {
        const double total = WeightTotal(static_cast<Weighting>(w), q);
        const double gwet_chance = total * spread / (static_cast<double>(q) * (q - 1));
        set(kGwet[Index(w)], ChanceCorrected(agreement[Index(w)] / n, gwet_chance));
      }
    }

    // Cohen's kappa from the two raters' marginals.
    if (two_raters) {
      constexpr std::array<StatisticId, kWeightingCount> kCohen = {
          StatisticId::kCohenKappa, StatisticId::kCohenKappaLinear,
          StatisticId::kCohenKappaQuadratic};
      for (std::size_t k = 0; k < qs; ++k) {
        ws.first[k] /= n;
        ws.second[k] /= n;
      }
      for (int w = 0; w < kWeightingCount; ++w) {
        WeightedMarginal(ws.second, static_cast<Weighting>(w), p.scale, ws.marginal);
        double cohen_chance = 0.0;
        for (std::size_t k = 0; k < qs; ++k) cohen_chance += ws.first[k] * ws.marginal[k];
        set(kCohen[Index(w)], ChanceCorrected(agreement[Index(w)] / n, cohen_chance));
      }
    }

    // Intraclass correlations.
    const std::optional<MeanSquares> ms =
        ComputeMeanSquares(n, r, sum, sum_sq, row_sq, ws.column.data());
    if (ms.has_value()) {
      constexpr std::array<std::pair<StatisticId, IccType>, 6> kIcc = {{
          {StatisticId::kIcc1, IccType::kIcc1},
          {StatisticId::kIcc2, IccType::kIcc2},
          {StatisticId::kIcc3, IccType::kIcc3},
          {StatisticId::kIcc1k, IccType::kIcc1k},
          {StatisticId::kIcc2k, IccType::kIcc2k},
          {StatisticId::kIcc3k, IccType::kIcc3k},
      }};
      for (const auto& [id, type] : kIcc) set(id, IccValue(type, *ms));
    }
  }

  if (any_unit) {
    // Krippendorff (2011): alpha = 1 - D_o / D_e with D_o = sum over units of
    // pair disagreements / (m_u - 1) / n and D_e = all pairs / (n (n - 1)).
    const std::size_t v_count = p.alpha_values.size();
    double total = 0.0;
    double square_sum = 0.0;
    double value_sum = 0.0;
    double value_sq = 0.0;
    for (std::size_t v = 0; v < v_count; ++v) {
      const double c = ws.value_count[v];
      total += c;
      square_sum += c * c;
      value_sum += c * p.alpha_centered[v];
      value_sq += c * p.alpha_centered[v] * p.alpha_centered[v];
    }
    const double pairs = total * (total - 1.0);
    if (pairs > 0.0) {
      set(StatisticId::kKrippendorffAlphaNominal,
          Alpha(observed_nominal / total, (total * total - square_sum) / pairs));
      set(StatisticId::kKrippendorffAlphaInterval,
          Alpha(ClampNoise(observed_interval, total * value_sq) / total,
                PairSquares(total, value_sum, value_sq) / pairs));

      // Ordinal: delta_ck = m_k - m_c with m_g = (ratings below g) + n_g / 2,
      // so the ordinal metric is the interval metric on these mid-positions.
      ws.midrank.resize(v_count);
      double below = 0.0;
      double mid_sum = 0.0;
      double mid_sq = 0.0;
      for (std::size_t v = 0; v < v_count; ++v) {
        const double c = ws.value_count[v];
        ws.midrank[v] = below + c / 2.0;
        below += c;
        mid_sum += c * ws.midrank[v];
        mid_sq += c * ws.midrank[v] * ws.midrank[v];
      }
      // Per unit 2 (m sum M^2 - (sum M)^2) / (m - 1) over its mid-positions M.
      double observed_ordinal = 0.0;
      for (std::size_t i = 0; i < p.unit_pattern.size(); ++i) {
        const double w = pw[p.unit_pattern[i]];
        if (w == 0.0) continue;
        const std::size_t u = Index(p.unit_representative[i]);
        const int begin = p.unit_offset[u];
        const int end = p.unit_offset[u + 1];
        double unit = 0.0;
        for (int a = begin; a < end; ++a) {
          const double ma = ws.midrank[Index(p.unit_value[Index(a)])];
          for (int b = a + 1; b < end; ++b) {
            const double d = ma - ws.midrank[Index(p.unit_value[Index(b)])];
            unit += d * d;
          }
        }
        observed_ordinal += w * p.unit_scale[u] * unit;
      }
      set(StatisticId::kKrippendorffAlphaOrdinal,
          Alpha(observed_ordinal / total, PairSquares(total, mid_sum, mid_sq) / pairs));

      if (include_ratio && p.ratio_defined) {
        double expected = 0.0;
        for (std::size_t a = 0; a < v_count; ++a) {
          const double ca = ws.value_count[a];
          if (ca == 0.0) continue;
          for (std::size_t b = a + 1; b < v_count; ++b) {
            const double cb = ws.value_count[b];
            if (cb == 0.0) continue;
            const double rd =
                (p.alpha_values[a] - p.alpha_values[b]) / (p.alpha_values[a] + p.alpha_values[b]);
            expected += ca * cb * rd * rd;
          }
        }
        set(StatisticId::kKrippendorffAlphaRatio,
            Alpha(observed_ratio / total, 2.0 * expected / pairs));
      }
    }
  }
}

}  // namespace rqs::scoring::agreement_internal
