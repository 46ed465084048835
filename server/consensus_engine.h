// The consensus process of rqs-server, between the stored state (db/) and
// the pure rules (scoring/consensus.h): what a study's state means, how a
// round closes, what a rater sees as feedback, how adjudication finalises a
// study, and the review-wide agreement and convergence figures.
//
// Pure functions over db/ and scoring/ structs: no I/O, no gRPC, so the
// services stay thin and this is testable on its own. Rater ids enter the
// scoring rules as decimal strings; a rater's anonymous label in a study is
// derived from the review's secret salt and the study id, so it is stable
// across rounds and criteria and cannot be recomputed by a client.
#ifndef RQS_SERVER_CONSENSUS_ENGINE_H_
#define RQS_SERVER_CONSENSUS_ENGINE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "db/store.h"
#include "scoring/agreement.h"
#include "scoring/consensus.h"
#include "scoring/instrument.h"
#include "scoring/score.h"

namespace rqs::server {

enum class StudyPhase { kInRound, kAwaitingAdjudication, kFinalised };

// Where one study stands, derived from its stored state.
struct StudyStatus {
  StudyPhase phase = StudyPhase::kInRound;
  // The open round; for an ended study, its last round.
  int current_round = 1;
  // Criteria open in the current round; empty once ended.
  std::vector<int> open_criteria;
  // The study's scope: the criteria of round 1 (those the review's target
  // level and the study type make scored).
  std::vector<int> scope;
  // Element r-1: criteria agreed by the end of round r (cumulative).
  std::vector<int> agreed_after_round;
  std::vector<int> awaiting_adjudication;  // Ended, disputed, not adjudicated.
  std::vector<int> adjudicated;
  scoring::EndReason end_reason = scoring::EndReason::kNone;
  // Panel raters with a submitted assessment of the open round; 0 once ended.
  int submitted_in_round = 0;
};

// Returns the study's status. INTERNAL if the stored state is inconsistent
// (it cannot be through the store's transitions).
absl::StatusOr<StudyStatus> DescribeStudy(const scoring::Instrument& instrument,
                                          const db::Review& review,
                                          const db::StudyConsensusState& state);

// Returns the scoring request options for `review` and `study_type` under
// `policy`: the review's target level and the policy's level threshold.
scoring::ScoreRequest ConsensusScoreRequest(const db::Review& review, scoring::StudyType type,
                                            const scoring::ConsensusPolicy& policy);

// Checks an assessment about to be saved against the study's consensus
// state (the store's AssessmentRules::check): the input's round must be the
// study's open round (FAILED_PRECONDITION naming the open round, or saying
// the study has ended); from round 2 on, the answers must be exactly the
// open (disputed) criteria (INVALID_ARGUMENT naming the missing or extra
// criteria). `submitting` is false for drafts, which may answer a subset.
absl::Status CheckAssessmentRound(const scoring::Instrument& instrument, const db::Review& review,
                                  const db::StudyConsensusState& state,
                                  const db::AssessmentInput& input, bool submitting);

// Returns the round an assessment is for when the caller did not name one:
// the study's open round, or its last round once it ended (where the check
// then refuses it with a clear message).
int OpenRoundOf(const scoring::Instrument& instrument, const db::Review& review,
                const db::StudyConsensusState& state);

// Closes the study's open round, which must be `expected_round`: agreed and
// disputed criteria, missing raters, whether answers changed, what follows
// and, if every criterion is now agreed, the scored consensus. Errors:
// FAILED_PRECONDITION if the study has ended, its open round is not
// `expected_round`, or no rater has submitted that round.
absl::StatusOr<db::StudyTransitionWrite> CloseStudyRound(
    const scoring::Instrument& instrument, const db::Review& review,
    const db::ReviewPolicy& policy, const db::StudyConsensusState& state, int expected_round,
    db::RoundCloseReason reason, int64_t closed_by);

// A coordinator's decision on one disputed criterion.
struct AdjudicationDecision {
  scoring::Answer answer;  // answer.criterion names the criterion.
  std::string reason;
};

// Adjudicates criteria still disputed when the study ended and, once none is
// left, finalises the study with its scored consensus. Errors:
// INVALID_ARGUMENT for no decisions, a criterion given twice, a blank reason
// or an answer the criterion cannot take; FAILED_PRECONDITION if the study
// is not awaiting adjudication or a criterion is not disputed;
// ALREADY_EXISTS if a criterion was already adjudicated.
absl::StatusOr<db::StudyTransitionWrite> AdjudicateStudy(
    const scoring::Instrument& instrument, const db::Review& review,
    const db::ReviewPolicy& policy, const db::StudyConsensusState& state,
    const std::vector<AdjudicationDecision>& decisions, int64_t adjudicated_by);

// The feedback `rater_id` sees on every criterion of the study's open round
// (round 2 or later), with anonymised labels. Errors: FAILED_PRECONDITION if
// the study is in round 1 or has ended; NOT_FOUND if the rater is not on the
// panel.
struct StudyFeedback {
  int round = 0;
  std::vector<scoring::CriterionFeedback> criteria;
};
absl::StatusOr<StudyFeedback> FeedbackForRater(const scoring::Instrument& instrument,
                                               const db::Review& review,
                                               const db::ReviewPolicy& policy,
                                               const db::StudyConsensusState& state,
                                               int64_t rater_id);

// One criterion of a finalised study's consensus, with its source.
struct ConsensusAnswerSource {
  scoring::Answer answer;
  int points = 0;
  bool adjudicated = false;
  int round = 0;  // Round agreed in; 0 when adjudicated.
  std::string reason;
  int64_t adjudicated_by = 0;
};

// The consensus of a finalised study: its answers with their sources and
// the score report under the policy. FAILED_PRECONDITION if not finalised.
struct StudyConsensusView {
  std::vector<ConsensusAnswerSource> answers;
  scoring::ScoreReport report;
};
absl::StatusOr<StudyConsensusView> ConsensusOf(const scoring::Instrument& instrument,
                                               const db::Review& review,
                                               const db::ReviewPolicy& policy,
                                               const db::StudyConsensusState& state);

// ConsensusOf's score report alone, without the answers' sources: what a
// review's summary needs of each of its (thousands of) finalised studies.
// FAILED_PRECONDITION if not finalised.
absl::StatusOr<scoring::ScoreReport> ConsensusReportOf(const scoring::Instrument& instrument,
                                                       const db::Review& review,
                                                       const db::ReviewPolicy& policy,
                                                       const db::StudyConsensusState& state);

// The review's agreement on round-1 answers and its convergence.
struct ReviewAgreement {
  int studies = 0;  // Studies with a round-1 submission.
  // Per criterion (in instrument order, those with at least one rated study).
  std::vector<std::pair<int, scoring::AgreementResult>> criteria;
  std::optional<scoring::AgreementResult> total_score;  // Unset if no study.
  std::vector<int64_t> rater_ids;                       // Columns, by id.
  scoring::ConvergenceReport convergence;               // Rater ids as decimal strings.
};

// Computes agreement per criterion (ratings: the points of each rater's
// round-1 answer; an unanswered criterion scores its lowest points) and on
// the total score, and the convergence of the review's studies.
absl::StatusOr<ReviewAgreement> ComputeReviewAgreement(
    const scoring::Instrument& instrument, const db::Review& review,
    const std::vector<db::StudyConsensusState>& states,
    const scoring::AgreementOptions& options);

// The convergence of the review's studies whose round 1 has closed: items
// agreed by the end of each round and each rater's round-1 agreement with
// the final consensus (rater ids as decimal strings).
absl::StatusOr<scoring::ConvergenceReport> ComputeReviewConvergence(
    const scoring::Instrument& instrument, const db::Review& review,
    const std::vector<db::StudyConsensusState>& states);

}  // namespace rqs::server

#endif  // RQS_SERVER_CONSENSUS_ENGINE_H_
