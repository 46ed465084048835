// The summary of a systematic review's consensus scores, as review papers
// print it: the distribution of the total score, how many studies attained
// each readiness level, how often each criterion is met and the mean
// compliance with each level.
//
// SummariseReview works on the score reports of the finalised studies (one
// consensus report per study, as ScoreStudy produced it) and knows nothing of
// rounds, raters or storage: the server's GetSummary and the CLI call it the
// same way. Example:
//
//   std::vector<ScoreReport> reports = ...;  // one per finalised study
//   RQS_ASSIGN_OR_RETURN(ReviewSummary summary, SummariseReview(Rqs2(), reports));
//   // summary.points.mean, summary.criteria[13].fulfilled_percent, ...
//
// Applicability. A report scores only the criteria that apply to its study
// type and lie at or below its target level (ScoreStudy), so a criterion is
// counted for a study exactly when the study's report holds it: an HCR-only
// criterion (e.g. RQS 2.0 criterion 6) is counted over the HCR and hybrid
// studies, never as "not met" by a DLR study. Likewise a level is counted for
// a study when its report holds the level with a maximum above 0.
#ifndef RQS_SCORING_REVIEW_SUMMARY_H_
#define RQS_SCORING_REVIEW_SUMMARY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "scoring/instrument.h"
#include "scoring/score.h"

namespace rqs::scoring {

// The distribution of one figure over studies. Every field is 0 when there
// are no values.
struct Distribution {
  double mean = 0;
  double sd = 0;      // Sample standard deviation (n - 1); 0 for fewer than 2 values.
  double median = 0;  // The mean of the middle two values when n is even.
  double min = 0;
  double max = 0;
};

// How often one criterion is met across the studies it applies to.
struct CriterionFulfilmentRow {
  int criterion = 0;
  std::string title;  // The criterion's name in the instrument.
  int level = 0;      // 0 for instruments without levels.
  int max_points = 0;
  int studies = 0;               // Studies whose report scores this criterion.
  int fulfilled = 0;             // Of those, studies awarded more than 0 points.
  double fulfilled_percent = 0;  // fulfilled / studies * 100; 0 when studies == 0.
  double mean_points = 0;        // Mean points over `studies`; 0 when studies == 0.
};

// Compliance with one readiness level across the studies.
struct LevelComplianceRow {
  int level = 0;
  int studies = 0;  // Studies whose report scores the level with a maximum above 0.
  // Mean over `studies` of the level's points / its maximum, in percent; 0
  // when studies == 0.
  double mean_percent = 0;
  int attained = 0;  // Studies (of all) whose attained level is at least `level`.
};

// The summary of a review.
struct ReviewSummary {
  int studies = 0;       // Reports summarised.
  Distribution points;   // Total score in points (negative possible for RQS 1.0).
  Distribution percent;  // Total / the study's own maximum, in percent (0 when the maximum is 0).
  // Element L: studies whose attained level is exactly L, for L in
  // 0..level_count (a single element, all studies, for instruments without
  // levels).
  std::vector<int> attained_level_counts;
  // One row per criterion of the instrument, in instrument order.
  std::vector<CriterionFulfilmentRow> criteria;
  // One row per level 1..level_count; empty for instruments without levels.
  std::vector<LevelComplianceRow> levels;
};

// Returns the summary of `consensus_reports` (one per finalised study) scored
// with `instrument`. With no reports every count and figure is 0 and the rows
// are still listed (see ReviewSummary::studies).
//
// Errors (all INVALID_ARGUMENT, naming the report by its 0-based index):
//   - a report of another instrument (instrument_id differs);
//   - a criterion the instrument does not have, or listed twice in a report;
//   - a level outside 1..level_count, or an attained level outside
//     0..level_count.
absl::StatusOr<ReviewSummary> SummariseReview(const Instrument& instrument,
                                              const std::vector<ScoreReport>& consensus_reports);

// Returns the distribution of `values`: every field 0 for no values, sd 0 for
// one value. Never fails.
Distribution Distribute(std::vector<double> values);

}  // namespace rqs::scoring

#endif  // RQS_SCORING_REVIEW_SUMMARY_H_
