#include "scoring/review_summary.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace rqs::scoring {
namespace {

double Percent(int points, int max) {
  return max == 0 ? 0.0 : 100.0 * static_cast<double>(points) / static_cast<double>(max);
}

absl::Status ReportError(size_t index, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("report ", index, ": ", reason));
}

// Running sums of one criterion or level over the studies it applies to.
struct Tally {
  int studies = 0;
  int fulfilled = 0;
  double sum = 0;
};

}  // namespace

Distribution Distribute(std::vector<double> values) {
  Distribution out;
  if (values.empty()) return out;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  out.min = values.front();
  out.max = values.back();
  out.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(n);
  out.median = n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
  if (n >= 2) {
    double squares = 0;
    for (double value : values) squares += (value - out.mean) * (value - out.mean);
    out.sd = std::sqrt(squares / static_cast<double>(n - 1));
  }
  return out;
}

absl::StatusOr<ReviewSummary> SummariseReview(const Instrument& instrument,
                                              const std::vector<ScoreReport>& consensus_reports) {
  const size_t level_count = static_cast<size_t>(std::max(instrument.level_count, 0));
  std::vector<Tally> criteria(instrument.criteria.size());
  std::vector<Tally> levels(level_count);
  std::vector<int> attained_at_least(level_count + 1, 0);

  ReviewSummary summary;
  summary.studies = static_cast<int>(consensus_reports.size());
  summary.attained_level_counts.assign(level_count + 1, 0);
  std::vector<double> points;
  std::vector<double> percent;
  points.reserve(consensus_reports.size());
  percent.reserve(consensus_reports.size());

  for (size_t r = 0; r < consensus_reports.size(); ++r) {
    const ScoreReport& report = consensus_reports[r];
    if (report.instrument_id != instrument.id) {
      return ReportError(r, absl::StrCat("scored with instrument '", report.instrument_id,
                                         "', not '", instrument.id, "'"));
    }
    if (report.attained_level < 0 || static_cast<size_t>(report.attained_level) > level_count) {
      return ReportError(
          r, absl::StrCat("attained level ", report.attained_level, " is outside 0-", level_count));
    }
    std::vector<bool> seen(instrument.criteria.size(), false);
    std::vector<size_t> indices;
    indices.reserve(report.criteria.size());
    for (const CriterionScore& score : report.criteria) {
      const Criterion* criterion = instrument.FindCriterion(score.criterion);
      if (criterion == nullptr) {
        return ReportError(r, absl::StrCat("unknown criterion ", score.criterion,
                                           " for instrument ", instrument.id));
      }
      const auto index = static_cast<size_t>(criterion - instrument.criteria.data());
      if (seen[index]) {
        return ReportError(r, absl::StrCat("criterion ", score.criterion, " listed twice"));
      }
      seen[index] = true;
      indices.push_back(index);
    }
    for (const LevelScore& level : report.levels) {
      if (level.level < 1 || static_cast<size_t>(level.level) > level_count) {
        return ReportError(r, absl::StrCat("level ", level.level, " is outside 1-", level_count));
      }
    }

    points.push_back(static_cast<double>(report.total));
    percent.push_back(Percent(report.total, report.max));
    ++summary.attained_level_counts[static_cast<size_t>(report.attained_level)];
    for (int level = 1; level <= report.attained_level; ++level) {
      ++attained_at_least[static_cast<size_t>(level)];
    }
    for (size_t c = 0; c < report.criteria.size(); ++c) {
      const CriterionScore& score = report.criteria[c];
      Tally& tally = criteria[indices[c]];
      ++tally.studies;
      if (score.points > 0) ++tally.fulfilled;
      tally.sum += static_cast<double>(score.points);
    }
    for (const LevelScore& level : report.levels) {
      if (level.max <= 0) continue;  // Nothing to comply with: no share to average.
      Tally& tally = levels[static_cast<size_t>(level.level - 1)];
      ++tally.studies;
      tally.sum += Percent(level.points, level.max);
    }
  }

  summary.points = Distribute(std::move(points));
  summary.percent = Distribute(std::move(percent));

  summary.criteria.reserve(instrument.criteria.size());
  for (size_t i = 0; i < instrument.criteria.size(); ++i) {
    const Criterion& criterion = instrument.criteria[i];
    const Tally& tally = criteria[i];
    CriterionFulfilmentRow row;
    row.criterion = criterion.number;
    row.title = criterion.name;
    row.level = criterion.level;
    row.max_points = criterion.MaxPoints();
    row.studies = tally.studies;
    row.fulfilled = tally.fulfilled;
    if (tally.studies > 0) {
      row.fulfilled_percent = Percent(tally.fulfilled, tally.studies);
      row.mean_points = tally.sum / static_cast<double>(tally.studies);
    }
    summary.criteria.push_back(std::move(row));
  }

  summary.levels.reserve(level_count);
  for (size_t i = 0; i < level_count; ++i) {
    LevelComplianceRow row;
    row.level = static_cast<int>(i) + 1;
    row.studies = levels[i].studies;
    if (levels[i].studies > 0) {
      row.mean_percent = levels[i].sum / static_cast<double>(levels[i].studies);
    }
    row.attained = attained_at_least[i + 1];
    summary.levels.push_back(row);
  }
  return summary;
}

}  // namespace rqs::scoring
