// Consensus between raters over Delphi rounds: the pure decision logic.
//
// A study scored by several raters goes through rounds. After each round the
// answers to every criterion still open are compared: a criterion on which a
// large enough share of the raters gave the same answer is AGREED and locked;
// the others are DISPUTED and go to the next round, where every rater sees
// anonymised feedback (the distribution of answers and the other raters'
// rationales under labels "Rater A", "Rater B", ...). A study ends when nothing
// is disputed (consensus), when the maximum number of rounds is reached or when
// a round changed no rater's answer (stable); criteria still disputed then go
// to a coordinator who adjudicates them with a mandatory reason. The agreed and
// adjudicated answers form the consensus assessment, scored by ScoreStudy.
//
// Everything here is a plain struct or a pure function: no I/O, no clock, no
// randomness other than the caller-supplied per-study seed. Typical use:
//
//   RQS_RETURN_IF_ERROR(ValidatePolicy(policy));
//   RQS_ASSIGN_OR_RETURN(RoundResult result, CloseRound(Rqs2(), policy, round));
//   RQS_ASSIGN_OR_RETURN(bool changed, RoundChangedAnswers(Rqs2(), previous, round));
//   RQS_ASSIGN_OR_RETURN(StudyStep step, DecideNextStep(policy, result, changed));
#ifndef RQS_SCORING_CONSENSUS_H_
#define RQS_SCORING_CONSENSUS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scoring/instrument.h"
#include "scoring/score.h"

namespace rqs::scoring {

// ---------------------------------------------------------------------------
// Policy

// How a review reaches consensus. Defaults follow common Delphi practice.
struct ConsensusPolicy {
  // Share of the raters who answered a criterion that must give the same
  // answer for it to count as agreed, in (0.5, 1]; 1 means unanimity. The
  // default 0.75 needs both of two raters, three of three or four, four of five.
  // A threshold <= 0.5 is rejected: with it two different answers could each
  // reach the share (e.g. two raters split 1:1), so "the agreed answer" would
  // not be unique.
  double agreement_threshold = 0.75;
  // Highest round number (1..10); disputed criteria after it go to adjudication.
  int max_rounds = 3;
  // Ends a study early, with its disputed criteria going to adjudication, when
  // a round (after the first) changed no rater's answer: more rounds would
  // only repeat it.
  bool stop_when_stable = true;
  // Share of a level's points, in percent (0..100), needed to attain a
  // readiness level when the consensus assessment is scored.
  double level_threshold_percent = kDefaultLevelThresholdPercent;
  // Whether feedback shows the other raters' rationales and evidence.
  bool share_rationales = true;
};

inline constexpr int kMaxConsensusRounds = 10;

// Returns OK if every field of `policy` is in range.
// Errors: INVALID_ARGUMENT naming the field, its value and the accepted range.
absl::Status ValidatePolicy(const ConsensusPolicy& policy);

// Returns how many of `raters` answering raters must give the same answer to
// reach `threshold`: the smallest count whose share is at least the threshold
// (with 1e-9 tolerance so that e.g. 0.75 of 4 is exactly 3). 0 when raters <= 0.
int RequiredAgreeingRaters(double threshold, int raters);

// ---------------------------------------------------------------------------
// Answer identity

// An answer in canonical form, so that two raters "give the same answer"
// exactly when their keys are equal.
struct CanonicalAnswer {
  // "option:<id>" for an exclusive choice, "options:<id>,<id>" for the met
  // sub-items of an additive criterion (sorted; "options:" for none), or
  // "points:<n>" for points that do not identify a single choice.
  std::string key;
  // The same answer as an Answer for ScoreStudy: option ids (sorted) or points.
  Answer answer;
  int points = 0;  // Points the answer awards.
};

// Canonicalises `answer` to `criterion`:
//   - exclusive: the chosen option id;
//   - additive: the set of met sub-items, order-insensitive;
//   - unanswered (neither options nor points): the criterion's lowest answer,
//     as ScoreStudy scores it (the first lowest-points option; for additive
//     criteria the negative sub-items, usually none);
//   - points only: if exactly one choice (option, or set of sub-items) awards
//     those points the answer is that choice, so "points 2" equals the only
//     option worth 2; otherwise it stays "points:<n>" and equals only other
//     answers given as the same points. This keeps identity transitive.
// The answer's criterion number is not checked against `criterion`.
// Errors: INVALID_ARGUMENT naming the criterion, as ScoreStudy's: unknown or
// repeated option id, not exactly one option for an exclusive criterion,
// points the criterion cannot award, both options and points.
absl::StatusOr<CanonicalAnswer> CanonicaliseAnswer(const Criterion& criterion,
                                                   const Answer& answer);

// Returns CanonicaliseAnswer(criterion, answer).key; errors likewise.
absl::StatusOr<std::string> AnswerKey(const Criterion& criterion, const Answer& answer);

// ---------------------------------------------------------------------------
// One round of one study

// A rater's answer to one criterion, with the reasons shown to the others.
struct RoundAnswer {
  Answer answer;
  std::string rationale;
  std::string evidence;  // Where in the paper, e.g. "Methods, p. 4".
};

// What one rater submitted in a round.
struct RaterRound {
  std::string rater;  // Anonymous, study-stable rater id.
  // False when the rater did not submit: the rater is recorded as missing and
  // left out of the shares, rather than scored as if every answer were lowest.
  bool submitted = true;
  // Answers to the round's open criteria. A submitted rater who leaves an open
  // criterion out has answered it with the lowest option, as in ScoreStudy.
  std::vector<RoundAnswer> answers;
};

// The input of one round of one study.
struct RoundInput {
  int round = 1;                   // 1-based.
  std::vector<int> open_criteria;  // Criteria still open in this round.
  std::vector<RaterRound> raters;  // The whole panel, including missing raters.
};

enum class CriterionOutcome { kAgreed, kDisputed };

// "AGREED" or "DISPUTED".
absl::string_view CriterionOutcomeName(CriterionOutcome outcome);

// The result of one criterion in one round.
struct CriterionResult {
  int criterion = 0;
  CriterionOutcome outcome = CriterionOutcome::kDisputed;
  // The agreed answer (canonical); set only when agreed.
  std::optional<CanonicalAnswer> agreed;
  std::map<std::string, int> distribution;  // Answer key -> raters giving it.
  int raters_answered = 0;                  // Submitted raters, the share's denominator.
  int required = 0;                         // Same answers needed to agree.
};

// The result of one round of one study.
struct RoundResult {
  int round = 0;
  std::vector<std::string> missing_raters;  // Did not submit, in input order.
  std::vector<CriterionResult> criteria;    // In open_criteria order.

  // Returns the criteria that are disputed, in round order.
  std::vector<int> Disputed() const;
};

// Fewest submitted raters for which a criterion can be agreed: one rater
// alone is not a consensus, so with fewer every criterion stays disputed.
inline constexpr int kMinAnsweringRaters = 2;

// Closes `round`: for every open criterion, counts the canonical answers of
// the raters who submitted. A criterion is AGREED when the most frequent
// answer is given by at least RequiredAgreeingRaters(threshold, answered)
// raters and at least kMinAnsweringRaters raters answered; the share is
// computed over the raters who submitted, not the whole panel.
// Errors: INVALID_ARGUMENT for an invalid policy, a round < 1, an unknown or
// repeated open criterion, an empty or repeated rater id, a rater answering a
// criterion that is not open or answering one twice, or an invalid answer
// (CanonicaliseAnswer's messages, prefixed with the rater).
absl::StatusOr<RoundResult> CloseRound(const Instrument& instrument, const ConsensusPolicy& policy,
                                       const RoundInput& round);

// Returns whether `current` changed any rater's answer relative to
// `previous`, over the criteria open in `current`: true if a rater who
// submitted in both rounds gives a different canonical answer, or a rater
// submitted in `current` but not in `previous` (new answers entered). A rater
// who stops submitting changes nothing.
// Errors: INVALID_ARGUMENT if `current.round` is not `previous.round + 1`, a
// criterion open in `current` was not open in `previous`, or an answer is
// invalid.
absl::StatusOr<bool> RoundChangedAnswers(const Instrument& instrument, const RoundInput& previous,
                                         const RoundInput& current);

// ---------------------------------------------------------------------------
// Ending a study

enum class StudyDecision {
  kContinue,    // Run round + 1 with the disputed criteria.
  kConsensus,   // Ended: every criterion agreed.
  kAdjudicate,  // Ended: disputed criteria go to the coordinator.
};

enum class EndReason {
  kNone,       // Continuing.
  kAllAgreed,  // Nothing disputed.
  kMaxRounds,  // The round was the policy's last.
  kStable,     // The round changed no rater's answer.
};

// "CONTINUE", "CONSENSUS", "ADJUDICATE".
absl::string_view StudyDecisionName(StudyDecision decision);
// "NONE", "ALL_AGREED", "MAX_ROUNDS", "STABLE".
absl::string_view EndReasonName(EndReason reason);

// What happens to a study after a round.
struct StudyStep {
  StudyDecision decision = StudyDecision::kContinue;
  EndReason reason = EndReason::kNone;
  int next_round = 0;         // round + 1 when continuing, else 0.
  std::vector<int> disputed;  // Open in the next round, or to adjudicate.
};

// Decides what follows `result` (round n). `changed` is RoundChangedAnswers
// for round n against round n-1; it is ignored for round 1, which has nothing
// to compare with. Order: nothing disputed -> consensus; n == max_rounds ->
// adjudicate (max rounds); stability stop on and !changed -> adjudicate
// (stable); otherwise continue.
// Errors: INVALID_ARGUMENT for an invalid policy or a round outside
// 1..max_rounds.
absl::StatusOr<StudyStep> DecideNextStep(const ConsensusPolicy& policy, const RoundResult& result,
                                         bool changed);

// ---------------------------------------------------------------------------
// Anonymised feedback

// Study-stable labels: rater id -> "Rater A", "Rater B", ..., "Rater Z",
// "Rater AA", ... The panel is ordered by a keyed hash of (seed, rater id),
// so the labels do not follow the ids' order and cannot be recomputed without
// the seed; pass the same panel and seed (e.g. a hash of the study id and a
// secret review salt) in every round so labels stay the same across rounds
// and criteria. Labels are distinct, so no rater's label names anyone else.
// Errors: INVALID_ARGUMENT for an empty panel, an empty or repeated id, or an
// empty seed.
absl::StatusOr<std::map<std::string, std::string>> AssignRaterLabels(
    const std::vector<std::string>& raters, absl::string_view seed);

// Another rater's previous answer, as one rater sees it.
struct LabelledAnswer {
  std::string label;  // "Rater B".
  std::string answer_key;
  std::string rationale;  // Empty when the policy hides rationales.
  std::string evidence;   // Empty when the policy hides rationales.
};

// Feedback for one rater on one disputed criterion, for the next round.
struct CriterionFeedback {
  int criterion = 0;
  int previous_round = 0;
  std::map<std::string, int> distribution;  // Previous round's answer key -> count.
  int raters_answered = 0;
  std::string own_label;
  // The rater's own previous answer; unset if the rater did not submit.
  std::optional<RoundAnswer> own_answer;
  std::optional<std::string> own_answer_key;
  std::vector<LabelledAnswer> others;  // Submitted raters except the viewer, by label.
};

// Builds the feedback `rater` sees on `criterion` before round
// previous.round + 1. `previous_result` is CloseRound(previous); `labels`
// AssignRaterLabels for the study's panel.
// Errors: INVALID_ARGUMENT if `previous_result` is not for `previous`, an
// answer is invalid or a submitting rater has no label; NOT_FOUND if `rater`
// has no label; FAILED_PRECONDITION if `criterion` was not disputed in it.
absl::StatusOr<CriterionFeedback> BuildFeedback(const Instrument& instrument,
                                                const ConsensusPolicy& policy,
                                                const RoundInput& previous,
                                                const RoundResult& previous_result,
                                                const std::map<std::string, std::string>& labels,
                                                absl::string_view rater, int criterion);

// ---------------------------------------------------------------------------
// Consensus assessment

// A coordinator's decision on a criterion that stayed disputed.
struct Adjudication {
  Answer answer;
  std::string reason;  // Mandatory: why this answer.
};

// Returns the consensus answers of a study, sorted by criterion, ready for
// ScoreStudy: the agreed answer of every criterion agreed in any of `rounds`
// and, for the criteria of round 1 (the study's scope) agreed in no round,
// `adjudications` (keyed by criterion). Answers are
// canonical (option ids, or points when they identify no single choice).
// Errors: INVALID_ARGUMENT for no rounds, rounds not numbered 1, 2, ..., a
// later round opening a criterion not disputed before, an AGREED result
// without its answer, an adjudication for a
// criterion that is not disputed or whose answer names another criterion, an
// invalid adjudicated answer, or an empty (blank) reason; FAILED_PRECONDITION
// naming every disputed criterion that has no adjudication.
absl::StatusOr<std::vector<Answer>> ConsensusAnswers(
    const Instrument& instrument, const std::vector<RoundResult>& rounds,
    const std::map<int, Adjudication>& adjudications);

// ---------------------------------------------------------------------------
// Convergence

// One study's consensus record, for convergence measures.
struct StudyConsensusRecord {
  RoundInput first_round;           // Round-1 submissions.
  std::vector<RoundResult> rounds;  // Every closed round, 1 first.
  // ConsensusAnswers; empty while the study is unfinished (then the study
  // counts for the round shares only).
  std::vector<Answer> consensus;
};

// One rater's agreement with the final consensus.
struct RaterConsensusAgreement {
  std::string rater;
  int matching = 0;  // Criteria where the round-1 answer equals the consensus.
  int compared = 0;  // Criteria of finished studies the rater answered in round 1.
  double share = 0;  // matching / compared; 0 when nothing was compared.
};

struct ConvergenceReport {
  int items = 0;  // (study, criterion) pairs: the round-1 criteria of every study.
  // Element r-1: share of items agreed by the end of round r (a study that
  // ended earlier keeps its agreed items), for r = 1..the most rounds any
  // study ran. Adjudicated items never count as agreed.
  std::vector<double> consensus_share_by_round;
  std::vector<RaterConsensusAgreement> raters;  // Sorted by rater id.
};

// Measures how a review converged. Rater ids are matched across studies as
// given, so pass ids that are stable across studies for per-rater figures.
// Errors: INVALID_ARGUMENT for a record with no rounds, rounds not numbered
// 1, 2, ..., or an invalid round-1 or consensus answer.
absl::StatusOr<ConvergenceReport> MeasureConvergence(
    const Instrument& instrument, const std::vector<StudyConsensusRecord>& studies);

// MeasureConvergence one study at a time, for callers that build each
// study's record in turn rather than hold a whole review's at once (a
// quarter of a million round-1 answers for 2,000 studies x 3 raters):
//
//   ConvergenceMeasure measure(instrument);
//   for (...) RQS_RETURN_IF_ERROR(measure.Add(RecordOf(study)));
//   ConvergenceReport report = measure.Report();
//
// The report equals MeasureConvergence's on the same records. Not
// thread-safe; `instrument` must outlive it.
class ConvergenceMeasure {
 public:
  explicit ConvergenceMeasure(const Instrument& instrument);
  ~ConvergenceMeasure();
  ConvergenceMeasure(const ConvergenceMeasure&) = delete;
  ConvergenceMeasure& operator=(const ConvergenceMeasure&) = delete;

  // Counts one study. Errors as MeasureConvergence's, for this study alone;
  // a study that fails counts for nothing.
  absl::Status Add(const StudyConsensusRecord& study);
  // Returns the report on the studies added so far.
  ConvergenceReport Report() const;

 private:
  class KeyMemo;

  const Instrument& instrument_;
  std::unique_ptr<KeyMemo> keys_;
  int items_ = 0;
  std::vector<int> agreed_in_;  // Element r: items agreed in round r + 1.
  std::map<std::string, RaterConsensusAgreement> raters_;
};

}  // namespace rqs::scoring

#endif  // RQS_SCORING_CONSENSUS_H_
