#include "server/consensus_engine.h"

#include <algorithm>
#include <cstddef>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "scoring/status_macros.h"
#include "server/convert.h"

namespace rqs::server {
namespace {

std::string RaterKey(int64_t rater_id) { return absl::StrCat(rater_id); }

int64_t RaterIdOf(const std::string& key) {
  int64_t id = 0;
  // Keys are only ever made by RaterKey, so they always parse.
  (void)absl::SimpleAtoi(key, &id);
  return id;
}

bool Contains(const std::vector<int>& sorted, int value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

// Overwrites `answers` with the engine's answers for `stored`, reusing their
// storage: review-wide figures convert a quarter of a million answers.
void AssignEngineAnswers(const std::vector<db::Answer>& stored,
                         std::vector<scoring::Answer>& answers) {
  answers.resize(stored.size());
  for (std::size_t i = 0; i < stored.size(); ++i) AssignScoringAnswer(stored[i], answers[i]);
}

std::vector<int> Scope(const scoring::Instrument& instrument, const db::Review& review,
                       scoring::StudyType type) {
  scoring::ScoreRequest request = ConsensusScoreRequest(review, type, {});
  std::vector<int> scope;
  absl::StatusOr<scoring::ScoreReport> empty = scoring::ScoreStudy(instrument, request);
  if (!empty.ok()) return scope;  // Only a corrupt review (target level) gets here.
  for (const scoring::CriterionScore& score : empty->criteria) scope.push_back(score.criterion);
  std::sort(scope.begin(), scope.end());
  return scope;
}

// The scope of each study type in one review, worked out once per type
// rather than once per study.
class ScopeCache {
 public:
  struct TypeScope {
    std::vector<int> numbers;    // Sorted.
    std::vector<bool> in_scope;  // By index in the instrument's criteria.
  };

  ScopeCache(const scoring::Instrument& instrument, const db::Review& review)
      : instrument_(instrument), review_(review) {}

  const TypeScope& Of(scoring::StudyType type) {
    auto found = scopes_.find(type);
    if (found != scopes_.end()) return found->second;
    TypeScope scope;
    scope.numbers = Scope(instrument_, review_, type);
    for (const scoring::Criterion& criterion : instrument_.criteria) {
      scope.in_scope.push_back(Contains(scope.numbers, criterion.number));
    }
    return scopes_.emplace(type, std::move(scope)).first->second;
  }

 private:
  const scoring::Instrument& instrument_;
  const db::Review& review_;
  std::map<scoring::StudyType, TypeScope> scopes_;
};

std::vector<int> DisputedOf(const db::ClosedRound& round) {
  std::vector<int> disputed;
  for (const db::RoundCriterionRecord& criterion : round.criteria) {
    if (!criterion.agreed) disputed.push_back(criterion.criterion);
  }
  return disputed;
}

// The criteria open in round `round` (1-based) of a study whose closed
// rounds are `rounds`: the scope in round 1, then what the previous round
// left disputed.
std::vector<int> OpenCriteriaOfRound(const std::vector<int>& scope,
                                     const std::vector<db::ClosedRound>& rounds, int round) {
  if (round <= 1) return scope;
  const std::size_t previous = static_cast<std::size_t>(round - 2);
  if (previous >= rounds.size()) return {};
  return DisputedOf(rounds[previous]);
}

// The scoring input of one round: the panel, with the answers of those who
// submitted it restricted to the round's open criteria.
// AssignRoundInput overwrites `input`, reusing its storage.
void AssignRoundInput(const db::StudyConsensusState& state, int round,
                      const std::vector<int>& open_criteria, scoring::RoundInput& input) {
  input.round = round;
  input.open_criteria = open_criteria;
  std::map<int64_t, const db::Assessment*> submitted;
  for (const db::Assessment& assessment : state.submissions) {
    if (assessment.round == round) submitted[assessment.rater_id] = &assessment;
  }
  std::set<int64_t> panel(state.panel.begin(), state.panel.end());
  // A rater who submitted and later left the panel still counts for the round.
  for (const auto& [rater_id, assessment] : submitted) panel.insert(rater_id);
  input.raters.resize(panel.size());
  std::size_t r = 0;
  for (int64_t rater_id : panel) {
    scoring::RaterRound& rater = input.raters[r++];
    rater.rater = RaterKey(rater_id);
    auto found = submitted.find(rater_id);
    rater.submitted = found != submitted.end();
    std::size_t n = 0;
    if (rater.submitted) {
      for (const db::Answer& stored : found->second->answers) {
        if (!Contains(open_criteria, stored.criterion)) continue;
        if (n == rater.answers.size()) rater.answers.emplace_back();
        scoring::RoundAnswer& answer = rater.answers[n++];
        AssignScoringAnswer(stored, answer.answer);
        answer.rationale = stored.rationale;
        // Where in the paper, e.g. "Methods, p. 4, \"...\"".
        const db::EvidenceLocation& where = stored.evidence;
        answer.evidence = where.section;
        if (!where.page.empty()) {
          absl::StrAppend(&answer.evidence, answer.evidence.empty() ? "" : ", ", "p. ",
                          where.page);
        }
        if (!where.quote.empty()) {
          absl::StrAppend(&answer.evidence, answer.evidence.empty() ? "" : ", ", "\"",
                          where.quote, "\"");
        }
      }
    }
    rater.answers.resize(n);
  }
}

scoring::RoundInput RoundInputOf(const db::StudyConsensusState& state, int round,
                                 const std::vector<int>& open_criteria) {
  scoring::RoundInput input;
  AssignRoundInput(state, round, open_criteria, input);
  return input;
}

// The stored agreed answer as the engine's answer.
scoring::Answer AgreedAnswerOf(const db::RoundCriterionRecord& record) {
  scoring::Answer answer;
  answer.criterion = record.criterion;
  if (absl::StartsWith(record.agreed_key, "points:")) {
    answer.points = record.agreed_points;
  } else {
    answer.option_ids = record.agreed_option_ids;
  }
  return answer;
}

scoring::RoundResult RoundResultOf(const db::ClosedRound& round) {
  scoring::RoundResult result;
  result.round = round.round;
  result.criteria.reserve(round.criteria.size());
  for (int64_t id : round.missing_rater_ids) result.missing_raters.push_back(RaterKey(id));
  for (const db::RoundCriterionRecord& record : round.criteria) {
    scoring::CriterionResult criterion;
    criterion.criterion = record.criterion;
    criterion.outcome =
        record.agreed ? scoring::CriterionOutcome::kAgreed : scoring::CriterionOutcome::kDisputed;
    if (record.agreed) {
      scoring::CanonicalAnswer agreed;
      agreed.key = record.agreed_key;
      agreed.answer = AgreedAnswerOf(record);
      agreed.points = record.agreed_points;
      criterion.agreed = std::move(agreed);
    }
    for (const auto& [key, count] : record.distribution) criterion.distribution[key] = count;
    criterion.raters_answered = record.raters_answered;
    criterion.required = record.required;
    result.criteria.push_back(std::move(criterion));
  }
  return result;
}

std::vector<scoring::RoundResult> RoundResultsOf(const db::StudyConsensusState& state) {
  std::vector<scoring::RoundResult> results;
  results.reserve(state.rounds.size());
  for (const db::ClosedRound& round : state.rounds) results.push_back(RoundResultOf(round));
  return results;
}

scoring::Answer AdjudicatedAnswerOf(const db::AdjudicationRecord& record) {
  scoring::Answer answer;
  answer.criterion = record.criterion;
  if (record.points.has_value()) {
    answer.points = record.points;
  } else {
    answer.option_ids = record.option_ids;
  }
  return answer;
}

// Scores the consensus answers and packs them for the store.
absl::StatusOr<db::StudyConsensusRecord> ScoredConsensus(const scoring::Instrument& instrument,
                                                         const db::Review& review,
                                                         const db::ReviewPolicy& policy,
                                                         const db::Study& study,
                                                         std::vector<scoring::Answer> answers) {
  scoring::ScoreRequest request = ConsensusScoreRequest(review, study.study_type, policy.policy);
  request.answers = answers;
  RQS_ASSIGN_OR_RETURN(scoring::ScoreReport report, scoring::ScoreStudy(instrument, request));
  std::map<int, int> points;
  for (const scoring::CriterionScore& score : report.criteria) points[score.criterion] = score.points;
  db::StudyConsensusRecord record;
  for (const scoring::Answer& answer : answers) {
    db::Answer stored;
    stored.criterion = answer.criterion;
    if (answer.option_ids.has_value()) stored.option_ids = *answer.option_ids;
    stored.points = points[answer.criterion];
    record.answers.push_back(std::move(stored));
  }
  record.total = report.total;
  record.max_total = report.max;
  record.percent = report.percent;
  record.attained_level = report.attained_level;
  return record;
}

std::string CriteriaList(const std::vector<int>& criteria) {
  return criteria.empty() ? "none" : absl::StrJoin(criteria, ", ");
}

absl::Status NotInRound(const db::Study& study, const StudyStatus& status) {
  if (status.phase == StudyPhase::kFinalised) {
    return absl::FailedPreconditionError(absl::StrCat(
        "study ", study.id, " has ended and its consensus is final; no round is open"));
  }
  return absl::FailedPreconditionError(
      absl::StrCat("study ", study.id, " has ended and awaits adjudication of criteria ",
                   CriteriaList(status.awaiting_adjudication), "; no round is open"));
}

}  // namespace

scoring::ScoreRequest ConsensusScoreRequest(const db::Review& review, scoring::StudyType type,
                                            const scoring::ConsensusPolicy& policy) {
  scoring::ScoreRequest request;
  request.study_type = type;
  if (review.target_rrl > 0) request.target_level = review.target_rrl;
  request.level_threshold_percent = policy.level_threshold_percent;
  return request;
}

absl::StatusOr<StudyStatus> DescribeStudy(const scoring::Instrument& instrument,
                                          const db::Review& review,
                                          const db::StudyConsensusState& state) {
  StudyStatus status;
  status.scope = Scope(instrument, review, state.study.study_type);
  std::set<int> agreed;
  for (const db::ClosedRound& round : state.rounds) {
    for (const db::RoundCriterionRecord& criterion : round.criteria) {
      if (criterion.agreed) agreed.insert(criterion.criterion);
    }
    status.agreed_after_round.push_back(static_cast<int>(agreed.size()));
  }
  for (const db::AdjudicationRecord& record : state.adjudications) {
    status.adjudicated.push_back(record.criterion);
  }
  std::sort(status.adjudicated.begin(), status.adjudicated.end());
  if (state.rounds.empty() || state.rounds.back().decision == scoring::StudyDecision::kContinue) {
    status.phase = StudyPhase::kInRound;
    status.current_round = static_cast<int>(state.rounds.size()) + 1;
    status.open_criteria = OpenCriteriaOfRound(status.scope, state.rounds, status.current_round);
    std::set<int64_t> panel(state.panel.begin(), state.panel.end());
    for (const db::Assessment& assessment : state.submissions) {
      if (assessment.round == status.current_round && panel.count(assessment.rater_id) > 0) {
        ++status.submitted_in_round;
      }
    }
    return status;
  }
  const db::ClosedRound& last = state.rounds.back();
  status.current_round = last.round;
  status.end_reason = last.end_reason;
  if (last.decision == scoring::StudyDecision::kAdjudicate) {
    for (int criterion : DisputedOf(last)) {
      if (!Contains(status.adjudicated, criterion)) {
        status.awaiting_adjudication.push_back(criterion);
      }
    }
  }
  status.phase = state.consensus.has_value() ? StudyPhase::kFinalised
                                             : StudyPhase::kAwaitingAdjudication;
  if (status.phase == StudyPhase::kAwaitingAdjudication && status.awaiting_adjudication.empty()) {
    return absl::InternalError(absl::StrCat(
        "study ", state.study.id, " has every criterion settled but no consensus stored"));
  }
  return status;
}

int OpenRoundOf(const scoring::Instrument& instrument, const db::Review& review,
                const db::StudyConsensusState& state) {
  absl::StatusOr<StudyStatus> status = DescribeStudy(instrument, review, state);
  return status.ok() ? status->current_round : 1;
}

absl::Status CheckAssessmentRound(const scoring::Instrument& instrument, const db::Review& review,
                                  const db::StudyConsensusState& state,
                                  const db::AssessmentInput& input, bool submitting) {
  RQS_ASSIGN_OR_RETURN(StudyStatus status, DescribeStudy(instrument, review, state));
  if (status.phase != StudyPhase::kInRound) return NotInRound(state.study, status);
  if (input.round != status.current_round) {
    return absl::FailedPreconditionError(
        absl::StrCat("round ", input.round, " of study ", state.study.id,
                     " is not open; the open round is ", status.current_round));
  }
  if (status.current_round == 1) return absl::OkStatus();
  std::vector<int> extra;
  std::set<int> answered;
  for (const db::Answer& answer : input.answers) {
    answered.insert(answer.criterion);
    if (!Contains(status.open_criteria, answer.criterion)) extra.push_back(answer.criterion);
  }
  if (!extra.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "round ", status.current_round, " of study ", state.study.id,
        " asks only about the disputed criteria ", CriteriaList(status.open_criteria),
        "; criteria ", CriteriaList(extra), " are settled"));
  }
  if (!submitting) return absl::OkStatus();
  std::vector<int> missing;
  for (int criterion : status.open_criteria) {
    if (answered.count(criterion) == 0) missing.push_back(criterion);
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "round ", status.current_round, " of study ", state.study.id,
        " needs an answer to every disputed criterion; missing: ", CriteriaList(missing)));
  }
  return absl::OkStatus();
}

absl::StatusOr<db::StudyTransitionWrite> CloseStudyRound(
    const scoring::Instrument& instrument, const db::Review& review,
    const db::ReviewPolicy& policy, const db::StudyConsensusState& state, int expected_round,
    db::RoundCloseReason reason, int64_t closed_by) {
  RQS_ASSIGN_OR_RETURN(StudyStatus status, DescribeStudy(instrument, review, state));
  if (status.phase != StudyPhase::kInRound) return NotInRound(state.study, status);
  const int round = status.current_round;
  if (round != expected_round) {
    return absl::FailedPreconditionError(
        absl::StrCat("round ", expected_round, " of study ", state.study.id,
                     " is not open (already closed, or not reached); the open round is ", round));
  }
  scoring::RoundInput input = RoundInputOf(state, round, status.open_criteria);
  const bool anyone_submitted =
      std::any_of(input.raters.begin(), input.raters.end(),
                  [](const scoring::RaterRound& rater) { return rater.submitted; });
  if (!anyone_submitted) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no rater has submitted round ", round, " of study ", state.study.id, "; nothing to close"));
  }
  RQS_ASSIGN_OR_RETURN(scoring::RoundResult result,
                       scoring::CloseRound(instrument, policy.policy, input));
  bool changed = true;
  if (round > 1) {
    scoring::RoundInput previous =
        RoundInputOf(state, round - 1, OpenCriteriaOfRound(status.scope, state.rounds, round - 1));
    RQS_ASSIGN_OR_RETURN(changed, scoring::RoundChangedAnswers(instrument, previous, input));
  }
  RQS_ASSIGN_OR_RETURN(scoring::StudyStep step,
                       scoring::DecideNextStep(policy.policy, result, changed));

  db::ClosedRound closed;
  closed.round = round;
  closed.reason = reason;
  closed.closed_by = closed_by;
  for (const std::string& missing : result.missing_raters) {
    closed.missing_rater_ids.push_back(RaterIdOf(missing));
  }
  closed.changed_answers = changed;
  closed.decision = step.decision;
  closed.end_reason = step.reason;
  for (const scoring::CriterionResult& criterion : result.criteria) {
    db::RoundCriterionRecord record;
    record.criterion = criterion.criterion;
    record.agreed = criterion.outcome == scoring::CriterionOutcome::kAgreed;
    if (criterion.agreed.has_value()) {
      record.agreed_key = criterion.agreed->key;
      if (criterion.agreed->answer.option_ids.has_value()) {
        record.agreed_option_ids = *criterion.agreed->answer.option_ids;
      }
      record.agreed_points = criterion.agreed->points;
    }
    for (const auto& [key, count] : criterion.distribution) {
      record.distribution.emplace_back(key, count);
    }
    record.raters_answered = criterion.raters_answered;
    record.required = criterion.required;
    closed.criteria.push_back(std::move(record));
  }
  std::sort(closed.criteria.begin(), closed.criteria.end(),
            [](const db::RoundCriterionRecord& a, const db::RoundCriterionRecord& b) {
              return a.criterion < b.criterion;
            });

  db::StudyTransitionWrite write;
  if (step.decision == scoring::StudyDecision::kConsensus) {
    std::vector<scoring::RoundResult> results = RoundResultsOf(state);
    results.push_back(std::move(result));
    RQS_ASSIGN_OR_RETURN(std::vector<scoring::Answer> answers,
                         scoring::ConsensusAnswers(instrument, results, {}));
    RQS_ASSIGN_OR_RETURN(write.consensus, ScoredConsensus(instrument, review, policy, state.study,
                                                          std::move(answers)));
  }
  write.closed_round = std::move(closed);
  return write;
}

absl::StatusOr<db::StudyTransitionWrite> AdjudicateStudy(
    const scoring::Instrument& instrument, const db::Review& review,
    const db::ReviewPolicy& policy, const db::StudyConsensusState& state,
    const std::vector<AdjudicationDecision>& decisions, int64_t adjudicated_by) {
  if (decisions.empty()) {
    return absl::InvalidArgumentError("decisions: give at least one criterion to adjudicate");
  }
  RQS_ASSIGN_OR_RETURN(StudyStatus status, DescribeStudy(instrument, review, state));
  if (status.phase != StudyPhase::kAwaitingAdjudication) {
    if (status.phase == StudyPhase::kFinalised) {
      return absl::FailedPreconditionError(absl::StrCat(
          "study ", state.study.id, " is finalised; there is nothing left to adjudicate"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat("study ", state.study.id, " is still in round ", status.current_round,
                     "; adjudication comes after its last round"));
  }
  std::set<int> seen;
  db::StudyTransitionWrite write;
  std::map<int, scoring::Adjudication> all;
  for (const db::AdjudicationRecord& record : state.adjudications) {
    all[record.criterion] = scoring::Adjudication{AdjudicatedAnswerOf(record), record.reason};
  }
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const AdjudicationDecision& decision = decisions[i];
    const int number = decision.answer.criterion;
    const std::string field = absl::StrCat("decisions[", i, "] (criterion ", number, ")");
    if (!seen.insert(number).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": criterion ", number, " is adjudicated twice in this request"));
    }
    if (Contains(status.adjudicated, number)) {
      return absl::AlreadyExistsError(absl::StrCat("criterion ", number, " of study ",
                                                   state.study.id, " is already adjudicated"));
    }
    if (!Contains(status.awaiting_adjudication, number)) {
      return absl::FailedPreconditionError(
          absl::StrCat("criterion ", number, " of study ", state.study.id,
                       " is not disputed; the criteria awaiting adjudication are ",
                       CriteriaList(status.awaiting_adjudication)));
    }
    if (absl::StripAsciiWhitespace(decision.reason).empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".reason: an adjudication needs a reason"));
    }
    const scoring::Criterion* criterion = instrument.FindCriterion(number);
    if (criterion == nullptr) {
      return absl::InternalError(absl::StrCat("criterion ", number, " is not in the instrument"));
    }
    absl::StatusOr<scoring::CanonicalAnswer> canonical =
        scoring::CanonicaliseAnswer(*criterion, decision.answer);
    if (!canonical.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", canonical.status().message()));
    }
    db::AdjudicationRecord record;
    record.criterion = number;
    if (decision.answer.points.has_value()) {
      record.points = decision.answer.points;
    } else if (decision.answer.option_ids.has_value()) {
      record.option_ids = *decision.answer.option_ids;
    }
    record.awarded_points = canonical->points;
    record.reason = decision.reason;
    record.adjudicated_by = adjudicated_by;
    all[number] = scoring::Adjudication{decision.answer, decision.reason};
    write.adjudications.push_back(std::move(record));
  }
  std::sort(write.adjudications.begin(), write.adjudications.end(),
            [](const db::AdjudicationRecord& a, const db::AdjudicationRecord& b) {
              return a.criterion < b.criterion;
            });
  if (all.size() == status.adjudicated.size() + status.awaiting_adjudication.size()) {
    RQS_ASSIGN_OR_RETURN(std::vector<scoring::Answer> answers,
                         scoring::ConsensusAnswers(instrument, RoundResultsOf(state), all));
    RQS_ASSIGN_OR_RETURN(write.consensus, ScoredConsensus(instrument, review, policy, state.study,
                                                          std::move(answers)));
  }
  return write;
}

absl::StatusOr<StudyFeedback> FeedbackForRater(const scoring::Instrument& instrument,
                                               const db::Review& review,
                                               const db::ReviewPolicy& policy,
                                               const db::StudyConsensusState& state,
                                               int64_t rater_id) {
  RQS_ASSIGN_OR_RETURN(StudyStatus status, DescribeStudy(instrument, review, state));
  if (status.phase != StudyPhase::kInRound) return NotInRound(state.study, status);
  if (status.current_round == 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("study ", state.study.id,
                     " is in round 1, which is independent: feedback comes with round 2"));
  }
  const int previous_round = status.current_round - 1;
  scoring::RoundInput previous = RoundInputOf(
      state, previous_round, OpenCriteriaOfRound(status.scope, state.rounds, previous_round));
  const scoring::RoundResult previous_result =
      RoundResultOf(state.rounds[static_cast<std::size_t>(previous_round - 1)]);
  std::vector<std::string> panel;
  for (const scoring::RaterRound& rater : previous.raters) panel.push_back(rater.rater);
  if (std::find(panel.begin(), panel.end(), RaterKey(rater_id)) == panel.end()) {
    panel.push_back(RaterKey(rater_id));  // Assigned after the previous round.
  }
  RQS_ASSIGN_OR_RETURN(
      auto labels, scoring::AssignRaterLabels(
                       panel, absl::StrCat(policy.label_salt, "/study/", state.study.id)));
  StudyFeedback feedback;
  feedback.round = status.current_round;
  for (int criterion : status.open_criteria) {
    RQS_ASSIGN_OR_RETURN(
        scoring::CriterionFeedback one,
        scoring::BuildFeedback(instrument, policy.policy, previous, previous_result, labels,
                               RaterKey(rater_id), criterion));
    feedback.criteria.push_back(std::move(one));
  }
  return feedback;
}

absl::StatusOr<StudyConsensusView> ConsensusOf(const scoring::Instrument& instrument,
                                               const db::Review& review,
                                               const db::ReviewPolicy& policy,
                                               const db::StudyConsensusState& state) {
  if (!state.consensus.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("study ", state.study.id, " has no final consensus yet"));
  }
  StudyConsensusView view;
  for (const db::Answer& stored : state.consensus->answers) {
    ConsensusAnswerSource source;
    AssignScoringAnswer(stored, source.answer);
    source.points = stored.points;
    auto adjudication =
        std::find_if(state.adjudications.begin(), state.adjudications.end(),
                     [&](const db::AdjudicationRecord& r) { return r.criterion == stored.criterion; });
    if (adjudication != state.adjudications.end()) {
      source.adjudicated = true;
      source.reason = adjudication->reason;
      source.adjudicated_by = adjudication->adjudicated_by;
    } else {
      for (const db::ClosedRound& round : state.rounds) {
        for (const db::RoundCriterionRecord& criterion : round.criteria) {
          if (criterion.criterion == stored.criterion && criterion.agreed) source.round = round.round;
        }
      }
    }
    view.answers.push_back(std::move(source));
  }
  RQS_ASSIGN_OR_RETURN(view.report, ConsensusReportOf(instrument, review, policy, state));
  return view;
}

absl::StatusOr<scoring::ScoreReport> ConsensusReportOf(const scoring::Instrument& instrument,
                                                       const db::Review& review,
                                                       const db::ReviewPolicy& policy,
                                                       const db::StudyConsensusState& state) {
  if (!state.consensus.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("study ", state.study.id, " has no final consensus yet"));
  }
  scoring::ScoreRequest request =
      ConsensusScoreRequest(review, state.study.study_type, policy.policy);
  AssignEngineAnswers(state.consensus->answers, request.answers);
  return scoring::ScoreStudy(instrument, request);
}

absl::StatusOr<ReviewAgreement> ComputeReviewAgreement(
    const scoring::Instrument& instrument, const db::Review& review,
    const std::vector<db::StudyConsensusState>& states,
    const scoring::AgreementOptions& options) {
  // Convergence needs none of what follows: it runs on a core of its own
  // meanwhile (whole-review reads run one at a time, see server/rpc.h).
  std::future<absl::StatusOr<scoring::ConvergenceReport>> convergence = std::async(
      std::launch::async, [&] { return ComputeReviewConvergence(instrument, review, states); });
  ReviewAgreement agreement;
  // Columns: every rater with a round-1 submission, by id.
  std::set<int64_t> raters;
  for (const db::StudyConsensusState& state : states) {
    for (const db::Assessment& assessment : state.submissions) {
      if (assessment.round == 1) raters.insert(assessment.rater_id);
    }
  }
  agreement.rater_ids.assign(raters.begin(), raters.end());
  const std::size_t rater_count = agreement.rater_ids.size();
  const std::vector<scoring::Criterion>& criteria = instrument.criteria;
  std::map<int, std::size_t> position_of;  // Criterion number -> index in `criteria`.
  std::vector<int> lowest;                 // What an unanswered criterion scores.
  for (std::size_t c = 0; c < criteria.size(); ++c) {
    position_of[criteria[c].number] = c;
    lowest.push_back(criteria[c].MinPoints());
  }
  ScopeCache scopes(instrument, review);

  // Round-1 points of each study with a round-1 submission, dense: one row
  // per rater column, one cell per criterion, set where answered. A review
  // holds a quarter of a million of them, so no maps.
  struct StudyRatings {
    const ScopeCache::TypeScope* scope = nullptr;
    std::string label;                       // The study id, the subject's label.
    std::vector<bool> submitted;             // By rater column.
    std::vector<std::optional<int>> points;  // [column * criteria.size() + criterion index]
  };
  std::vector<StudyRatings> rated;
  for (const db::StudyConsensusState& state : states) {
    StudyRatings study;
    for (const db::Assessment& assessment : state.submissions) {
      if (assessment.round != 1) continue;
      if (study.submitted.empty()) {
        study.submitted.assign(rater_count, false);
        study.points.assign(rater_count * criteria.size(), std::nullopt);
      }
      const std::size_t column = static_cast<std::size_t>(
          std::lower_bound(agreement.rater_ids.begin(), agreement.rater_ids.end(),
                           assessment.rater_id) -
          agreement.rater_ids.begin());
      study.submitted[column] = true;
      for (const db::Answer& answer : assessment.answers) {
        auto position = position_of.find(answer.criterion);
        if (position == position_of.end()) continue;  // Not a criterion: never rated.
        study.points[column * criteria.size() + position->second] = answer.points;
      }
    }
    if (study.submitted.empty()) continue;
    study.scope = &scopes.Of(state.study.study_type);
    study.label = RaterKey(state.study.id);
    rated.push_back(std::move(study));
  }
  agreement.studies = static_cast<int>(rated.size());
  std::vector<std::string> rater_labels;
  for (int64_t id : agreement.rater_ids) rater_labels.push_back(RaterKey(id));

  // A submitted rater's points on criterion index c: the answer's, or the
  // criterion's lowest when unanswered.
  const auto points = [&](const StudyRatings& study, std::size_t column, std::size_t c) {
    return study.points[column * criteria.size() + c].value_or(lowest[c]);
  };
  if (rater_labels.size() >= 2) {
    for (std::size_t c = 0; c < criteria.size(); ++c) {
      scoring::RatingsTable table;
      table.rater_labels = rater_labels;
      table.subject_labels.reserve(rated.size());
      table.ratings.reserve(rated.size());
      for (const StudyRatings& study : rated) {
        if (!study.scope->in_scope[c]) continue;
        std::vector<std::optional<double>> row(rater_count);
        for (std::size_t column = 0; column < rater_count; ++column) {
          // None when the rater did not submit round 1.
          if (study.submitted[column]) row[column] = points(study, column, c);
        }
        table.subject_labels.push_back(study.label);
        table.ratings.push_back(std::move(row));
      }
      if (table.ratings.empty()) continue;
      RQS_ASSIGN_OR_RETURN(scoring::AgreementResult result,
                           scoring::ComputeAgreement(table, options));
      agreement.criteria.emplace_back(criteria[c].number, std::move(result));
    }
    scoring::RatingsTable totals;
    totals.rater_labels = rater_labels;
    totals.subject_labels.reserve(rated.size());
    totals.ratings.reserve(rated.size());
    for (const StudyRatings& study : rated) {
      std::vector<std::optional<double>> row(rater_count);
      for (std::size_t column = 0; column < rater_count; ++column) {
        if (!study.submitted[column]) continue;
        int total = 0;
        for (int number : study.scope->numbers) {
          total += points(study, column, position_of.at(number));
        }
        row[column] = total;
      }
      totals.subject_labels.push_back(study.label);
      totals.ratings.push_back(std::move(row));
    }
    if (!totals.ratings.empty()) {
      RQS_ASSIGN_OR_RETURN(agreement.total_score, scoring::ComputeAgreement(totals, options));
    }
  }

  RQS_ASSIGN_OR_RETURN(agreement.convergence, convergence.get());
  return agreement;
}

absl::StatusOr<scoring::ConvergenceReport> ComputeReviewConvergence(
    const scoring::Instrument& instrument, const db::Review& review,
    const std::vector<db::StudyConsensusState>& states) {
  ScopeCache scopes(instrument, review);
  // One study's record at a time, in storage reused from study to study: a
  // review's records would hold a copy of every round-1 answer.
  scoring::ConvergenceMeasure measure(instrument);
  scoring::StudyConsensusRecord record;
  for (const db::StudyConsensusState& state : states) {
    // Studies whose round 1 has not closed have nothing to converge yet.
    if (state.rounds.empty()) continue;
    record.rounds = RoundResultsOf(state);
    static const std::vector<db::Answer> kNoAnswers;
    AssignEngineAnswers(state.consensus.has_value() ? state.consensus->answers : kNoAnswers,
                        record.consensus);
    // Round-1 answers count only against a consensus (see
    // StudyConsensusRecord): an unfinished study's are not copied.
    if (record.consensus.empty()) {
      record.first_round.raters.clear();
    } else {
      AssignRoundInput(state, 1, scopes.Of(state.study.study_type).numbers, record.first_round);
    }
    RQS_RETURN_IF_ERROR(measure.Add(record));
  }
  return measure.Report();
}

}  // namespace rqs::server
