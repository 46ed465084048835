// Scoring one study's answers against an instrument.
//
// ScoreStudy is the single place where answers are validated and points are
// added up. The offline `rqs score` command and the server's assessment
// submission both call it, so a rater gets the same rules and the same
// messages everywhere. Example:
//
//   ScoreRequest request;
//   request.study_type = StudyType::kHandcrafted;
//   request.answers.push_back({/*criterion=*/14, /*option_ids=*/{{"yes"}}, std::nullopt});
//   absl::StatusOr<ScoreReport> report = ScoreStudy(Rqs2(), request);
#ifndef RQS_SCORING_SCORE_H_
#define RQS_SCORING_SCORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scoring/instrument.h"

namespace rqs::scoring {

// The default share of a level's points needed to attain it, in percent.
inline constexpr double kDefaultLevelThresholdPercent = 50.0;

// A rater's answer to one criterion: either chosen option ids or awarded
// points. With neither, the criterion is unanswered and scores its lowest
// option.
struct Answer {
  int criterion = 0;
  // Exclusive criteria take exactly one id; additive criteria any subset
  // (an empty list means no sub-item is met).
  std::optional<std::vector<std::string>> option_ids;
  // Points awarded; must be a value the criterion can award.
  std::optional<int> points;
};

// What to score.
struct ScoreRequest {
  StudyType study_type = StudyType::kHandcrafted;
  // Highest readiness level scored; nullopt means the instrument's highest.
  // Must stay unset for instruments without levels.
  std::optional<int> target_level;
  // Share of a level's points, in percent (0..100), needed to attain the level.
  double level_threshold_percent = kDefaultLevelThresholdPercent;
  std::vector<Answer> answers;
};

// The score of one criterion that counts towards the report.
struct CriterionScore {
  int criterion = 0;
  int level = 0;
  bool answered = false;
  std::vector<std::string> option_ids;  // As answered; empty when answered by points.
  int points = 0;
  int max = 0;
};

// One readiness level's share of the score.
struct LevelScore {
  int level = 0;
  int points = 0;
  int max = 0;
  double percent = 0;         // points / max, in percent.
  int cumulative_points = 0;  // Levels 1..level.
  int cumulative_max = 0;
  double cumulative_percent = 0;
  bool attained = false;  // This level and every level below meet the threshold.
};

// The score report of one study.
struct ScoreReport {
  std::string instrument_id;
  std::string instrument_version;
  StudyType study_type = StudyType::kHandcrafted;
  int target_level = 0;  // 0 for instruments without levels.
  double level_threshold_percent = kDefaultLevelThresholdPercent;
  int total = 0;
  int min = 0;  // Lowest total possible (negative for RQS 1.0).
  int max = 0;
  double percent = 0;  // total / max, in percent.
  // Highest level L such that every level 1..L holds at least the threshold
  // share of its points; 0 if level 1 falls short or there are no levels.
  int attained_level = 0;
  std::vector<LevelScore> levels;        // Levels 1..target_level.
  std::vector<CriterionScore> criteria;  // Every scored criterion, in instrument order.
};

// Validates `request` against `instrument` and computes its score report.
// Only criteria that apply to the study type and lie at or below the target
// level are scored (compliance up to a target, as the RQS 2.0 web tool does).
//
// Errors (all INVALID_ARGUMENT, messages name the criterion and the reason):
//   - an unknown criterion, or the same criterion answered twice;
//   - a criterion that does not apply to the study type, or lies above the target;
//   - an option id the criterion does not have, a repeated option id, or not
//     exactly one option for an exclusive criterion;
//   - points the criterion cannot award, or both options and points;
//   - a target level outside 1..level_count (or any target for an instrument
//     without levels), a threshold outside 0..100.
absl::StatusOr<ScoreReport> ScoreStudy(const Instrument& instrument, const ScoreRequest& request);

// Maximum points reachable for `type` up to each level: element i holds the
// cumulative maximum of levels 1..i+1. Empty for instruments without levels.
std::vector<int> CumulativeMaxima(const Instrument& instrument, StudyType type);

}  // namespace rqs::scoring

#endif  // RQS_SCORING_SCORE_H_
