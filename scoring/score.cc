#include "scoring/score.h"

#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rqs::scoring {
namespace {

std::string OptionIdList(const Criterion& criterion) {
  std::vector<absl::string_view> ids;
  for (const Option& option : criterion.options) ids.push_back(option.id);
  return absl::StrJoin(ids, ", ");
}

absl::Status CriterionError(int number, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("criterion ", number, ": ", reason));
}

double Percent(int points, int max) {
  return max == 0 ? 0.0 : 100.0 * static_cast<double>(points) / static_cast<double>(max);
}

// Validates one answer and returns the points it awards.
absl::StatusOr<int> AnswerPoints(const Criterion& criterion, const Answer& answer) {
  if (answer.option_ids.has_value() && answer.points.has_value()) {
    return CriterionError(criterion.number, "give either options or points, not both");
  }
  if (answer.points.has_value()) {
    const std::vector<int> possible = criterion.PossiblePoints();
    for (int value : possible) {
      if (value == *answer.points) return value;
    }
    return CriterionError(criterion.number,
                          absl::StrCat("points ", *answer.points, " cannot be awarded (possible: ",
                                       absl::StrJoin(possible, ", "), ")"));
  }
  if (!answer.option_ids.has_value()) return criterion.MinPoints();

  const std::vector<std::string>& ids = *answer.option_ids;
  if (criterion.kind == OptionKind::kExclusive && ids.size() != 1) {
    return CriterionError(criterion.number,
                          absl::StrCat("choose exactly one option, got ", ids.size(),
                                       " (options: ", OptionIdList(criterion), ")"));
  }
  int points = 0;
  std::set<absl::string_view> seen;
  for (const std::string& id : ids) {
    const Option* option = criterion.FindOption(id);
    if (option == nullptr) {
      return CriterionError(
          criterion.number,
          absl::StrCat("unknown option '", id, "' (options: ", OptionIdList(criterion), ")"));
    }
    if (!seen.insert(id).second) {
      return CriterionError(criterion.number, absl::StrCat("option '", id, "' given twice"));
    }
    points += option->points;
  }
  return points;
}

}  // namespace

absl::StatusOr<ScoreReport> ScoreStudy(const Instrument& instrument, const ScoreRequest& request) {
  ScoreReport report;
  report.instrument_id = instrument.id;
  report.instrument_version = instrument.version;
  report.study_type = request.study_type;
  report.level_threshold_percent = request.level_threshold_percent;

  if (instrument.level_count == 0) {
    if (request.target_level.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "instrument ", instrument.id, " has no readiness levels: target_rrl does not apply"));
    }
  } else {
    report.target_level = request.target_level.value_or(instrument.level_count);
    if (report.target_level < 1 || report.target_level > instrument.level_count) {
      return absl::InvalidArgumentError(absl::StrCat("target_rrl ", report.target_level,
                                                     " is outside 1-", instrument.level_count));
    }
  }
  if (!std::isfinite(request.level_threshold_percent) || request.level_threshold_percent < 0 ||
      request.level_threshold_percent > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "level_threshold ", request.level_threshold_percent, " is outside 0-100 (percent)"));
  }

  // Validate every answer first, keyed by criterion number.
  std::vector<const Answer*> answer_by_index(instrument.criteria.size(), nullptr);
  for (const Answer& answer : request.answers) {
    const Criterion* criterion = instrument.FindCriterion(answer.criterion);
    if (criterion == nullptr) {
      return CriterionError(answer.criterion,
                            absl::StrCat("unknown criterion for instrument ", instrument.id, " (1-",
                                         instrument.criteria.size(), ")"));
    }
    const auto index = static_cast<size_t>(criterion - instrument.criteria.data());
    if (answer_by_index[index] != nullptr) {
      return CriterionError(answer.criterion, "answered twice");
    }
    answer_by_index[index] = &answer;
    if (!criterion->AppliesTo(request.study_type)) {
      return CriterionError(
          answer.criterion,
          absl::StrCat("does not apply to ", StudyTypeName(request.study_type), " studies (only ",
                       ApplicabilityName(criterion->applies_to), ")"));
    }
    if (criterion->level > report.target_level) {
      return CriterionError(answer.criterion,
                            absl::StrCat("belongs to RRL", criterion->level,
                                         ", above the target RRL", report.target_level));
    }
  }

  report.levels.resize(static_cast<size_t>(report.target_level));
  for (size_t i = 0; i < report.levels.size(); ++i)
    report.levels[i].level = static_cast<int>(i) + 1;

  for (size_t i = 0; i < instrument.criteria.size(); ++i) {
    const Criterion& criterion = instrument.criteria[i];
    if (!criterion.AppliesTo(request.study_type) || criterion.level > report.target_level) continue;
    CriterionScore score;
    score.criterion = criterion.number;
    score.level = criterion.level;
    score.max = criterion.MaxPoints();
    if (const Answer* answer = answer_by_index[i]; answer != nullptr) {
      absl::StatusOr<int> points = AnswerPoints(criterion, *answer);
      if (!points.ok()) return points.status();
      score.points = *points;
      score.answered = answer->option_ids.has_value() || answer->points.has_value();
      if (answer->option_ids.has_value()) score.option_ids = *answer->option_ids;
    } else {
      score.points = criterion.MinPoints();
    }
    report.total += score.points;
    report.max += score.max;
    report.min += criterion.MinPoints();
    if (criterion.level > 0) {
      LevelScore& level = report.levels[static_cast<size_t>(criterion.level - 1)];
      level.points += score.points;
      level.max += score.max;
    }
    report.criteria.push_back(std::move(score));
  }
  report.percent = Percent(report.total, report.max);

  int cumulative_points = 0;
  int cumulative_max = 0;
  bool attained_so_far = true;
  for (LevelScore& level : report.levels) {
    cumulative_points += level.points;
    cumulative_max += level.max;
    level.percent = Percent(level.points, level.max);
    level.cumulative_points = cumulative_points;
    level.cumulative_max = cumulative_max;
    level.cumulative_percent = Percent(cumulative_points, cumulative_max);
    // Compare points * 100 >= threshold * max rather than percentages, so that
    // a level exactly at the threshold is never lost to rounding.
    const bool meets_threshold = static_cast<double>(level.points) * 100.0 >=
                                 request.level_threshold_percent * static_cast<double>(level.max);
    attained_so_far = attained_so_far && meets_threshold;
    level.attained = attained_so_far;
    if (attained_so_far) report.attained_level = level.level;
  }
  return report;
}

std::vector<int> CumulativeMaxima(const Instrument& instrument, StudyType type) {
  std::vector<int> maxima(static_cast<size_t>(instrument.level_count), 0);
  for (const Criterion& criterion : instrument.criteria) {
    if (criterion.level == 0 || !criterion.AppliesTo(type)) continue;
    for (size_t i = static_cast<size_t>(criterion.level - 1); i < maxima.size(); ++i) {
      maxima[i] += criterion.MaxPoints();
    }
  }
  return maxima;
}

}  // namespace rqs::scoring
