// rqs.v1.AssessmentService: a rater's own assessments.
//
// Blinding is enforced here by construction: every store query is keyed by
// the caller's own user id, and a study that is not assigned to the caller is
// NOT_FOUND exactly like one that does not exist (FindVisibleStudy).
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scoring/status_macros.h"
#include "server/consensus_engine.h"
#include "server/convert.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {
namespace {

using Role = db::ReviewRole;

absl::Status CheckAnswers(const google::protobuf::RepeatedPtrField<v1::Answer>& answers) {
  RQS_RETURN_IF_ERROR(CheckCount("answers", static_cast<std::size_t>(answers.size()), kMaxAnswers));
  for (int i = 0; i < answers.size(); ++i) {
    const v1::Answer& answer = answers[i];
    const std::string at = absl::StrCat("answers[", i, "] (criterion ", answer.criterion(), ").");
    RQS_RETURN_IF_ERROR(CheckCount(at + "option_ids",
                                   static_cast<std::size_t>(answer.option_ids_size()),
                                   kMaxOptionsPerAnswer));
    for (const std::string& id : answer.option_ids()) {
      RQS_RETURN_IF_ERROR(CheckText(at + "option_ids", id, kMaxIdentifierChars));
    }
    RQS_RETURN_IF_ERROR(CheckText(at + "rationale", answer.rationale(), kMaxRationaleChars));
    RQS_RETURN_IF_ERROR(CheckText(at + "evidence.page", answer.evidence().page(), kMaxLabelChars));
    RQS_RETURN_IF_ERROR(
        CheckText(at + "evidence.section", answer.evidence().section(), kMaxLabelChars));
    RQS_RETURN_IF_ERROR(
        CheckText(at + "evidence.quote", answer.evidence().quote(), kMaxEvidenceChars));
  }
  return absl::OkStatus();
}

// What SaveDraft and SubmitAssessment prepare before the store call.
struct PreparedAssessment {
  db::AssessmentInput input;
  ReviewAccess access;
  db::Study study;
  const scoring::Instrument* instrument = nullptr;
};

absl::StatusOr<const scoring::Instrument*> InstrumentOf(const db::Review& review) {
  absl::StatusOr<const scoring::Instrument*> instrument =
      scoring::FindInstrument(review.instrument_id);
  // CreateReview only stores known ids, so this is a server bug, not bad input.
  if (!instrument.ok()) return absl::InternalError(instrument.status().message());
  return instrument;
}

// What SaveDraft and SubmitAssessment share: checks, authorisation and
// scoring. Nothing is stored yet. `requested_round` 0 means the study's open
// round, which the store chooses with the study locked (RulesFor); a retried
// submission keeps the round of its first attempt, found by its idempotency
// key, even if that round closed since.
absl::StatusOr<PreparedAssessment> PrepareAssessment(
    db::Store& store, const Caller& caller, int64_t review_id, int64_t study_id,
    const google::protobuf::RepeatedPtrField<v1::Answer>& answers, int requested_round,
    const std::string& idempotency_key) {
  RQS_RETURN_IF_ERROR(CheckAnswers(answers));
  if (requested_round < 0) {
    return absl::InvalidArgumentError("round: must be 0 (the open round) or a round >= 1");
  }
  PreparedAssessment prepared;
  RQS_ASSIGN_OR_RETURN(StudyGrant grant,
                       AuthorizeStudy(store, caller, review_id, study_id, {Role::kRater}));
  prepared.access = std::move(grant.access);
  prepared.study = std::move(grant.study);
  RQS_ASSIGN_OR_RETURN(prepared.instrument, InstrumentOf(prepared.access.review));
  RQS_ASSIGN_OR_RETURN(
      scoring::ScoreReport report,
      ScoreAnswers(prepared.access.review, prepared.study, ToScoringAnswers(answers)));
  db::AssessmentInput& input = prepared.input;
  input.study_id = study_id;
  input.rater_id = caller.user.id;
  input.round = requested_round;
  input.instrument_version = report.instrument_version;
  input.server_version = RQS_SERVER_VERSION;
  input.answers = ToDbAnswers(answers, report);
  input.idempotency_key = idempotency_key;
  return prepared;
}

// The store rules of an assessment of `prepared`'s study: round 0 is the
// open round; the round must be open (and from round 2 answer exactly the
// disputed criteria); the last submission of a panel of two or more raters
// closes the round.
db::AssessmentRules RulesFor(const PreparedAssessment& prepared, bool submitting) {
  const scoring::Instrument* instrument = prepared.instrument;
  const db::Review review = prepared.access.review;
  db::AssessmentRules rules;
  rules.open_round = [instrument, review](const db::ReviewPolicy&,
                                          const db::StudyConsensusState& state) {
    return OpenRoundOf(*instrument, review, state);
  };
  rules.check = [instrument, review, submitting](const db::ReviewPolicy&,
                                                 const db::StudyConsensusState& state,
                                                 const db::AssessmentInput& input) {
    return CheckAssessmentRound(*instrument, review, state, input, submitting);
  };
  if (submitting) {
    rules.on_round_complete =
        [instrument, review](
            const db::ReviewPolicy& policy,
            const db::StudyConsensusState& state) -> absl::StatusOr<db::StudyTransitionWrite> {
      // One rater alone cannot agree with anyone: a study not yet double
      // scored waits for more raters or for a coordinator to close it.
      if (state.panel.size() < static_cast<std::size_t>(scoring::kMinAnsweringRaters)) {
        return db::StudyTransitionWrite{};
      }
      // The store calls this only for the study's open round.
      const int round = static_cast<int>(state.rounds.size()) + 1;
      return CloseStudyRound(*instrument, review, policy, state, round,
                             db::RoundCloseReason::kAllSubmitted, /*closed_by=*/0);
    };
  }
  return rules;
}

// The caller's current answers as of `assessment`: its answers over those
// the caller submitted in earlier rounds (a later round answers only the
// disputed criteria).
std::vector<db::Answer> CurrentAnswers(const db::StudyConsensusState& state,
                                       const db::Assessment& assessment) {
  std::map<int, db::Answer> merged;
  for (const db::Assessment& earlier : state.submissions) {
    if (earlier.rater_id != assessment.rater_id || earlier.round >= assessment.round) continue;
    for (const db::Answer& answer : earlier.answers) merged[answer.criterion] = answer;
  }
  for (const db::Answer& answer : assessment.answers) merged[answer.criterion] = answer;
  std::vector<db::Answer> answers;
  for (auto& [criterion, answer] : merged) answers.push_back(std::move(answer));
  return answers;
}

// Encodes a stored assessment with the report of the caller's current
// answers as of it.
absl::Status EncodeAssessment(const ReviewAccess& access, const db::Study& study,
                              const db::StudyConsensusState& state,
                              const db::Assessment& assessment, v1::Assessment* out) {
  RQS_ASSIGN_OR_RETURN(
      scoring::ScoreReport report,
      ScoreAnswers(access.review, study, ToScoringAnswers(CurrentAnswers(state, assessment))));
  ToProto(assessment, report, out);
  return absl::OkStatus();
}

// EncodeAssessment for an assessment just written. Round 1 has no earlier
// answers; a later round reads the caller's earlier ones, which are history
// and cannot have changed since the write.
absl::Status EncodeWritten(db::Store& store, const PreparedAssessment& prepared,
                           const db::Assessment& assessment, v1::Assessment* out) {
  db::StudyConsensusState state;
  if (assessment.round > 1) {
    RQS_ASSIGN_OR_RETURN(state, store.GetStudyConsensusState(prepared.study.id));
  }
  return EncodeAssessment(prepared.access, prepared.study, state, assessment, out);
}

}  // namespace

grpc::ServerUnaryReactor* AssessmentServiceImpl::ListMyAssignments(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::ListMyAssignmentsRequest& in,
              v1::ListMyAssignmentsResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewAccess access,
                             AuthorizeReview(*store, caller, in.review_id(), {Role::kRater}));
        RQS_ASSIGN_OR_RETURN(const scoring::Instrument* instrument, InstrumentOf(access.review));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> assignments,
                             store->ListAssignments(in.review_id(), caller.user.id));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assessment> assessments,
                             store->ListAssessments(in.review_id(), 0, caller.user.id));
        RQS_ASSIGN_OR_RETURN(std::vector<db::StudyConsensusState> states,
                             store->ListStudyConsensusStates(in.review_id()));
        std::map<int64_t, const db::StudyConsensusState*> by_id;
        for (const db::StudyConsensusState& state : states) by_id[state.study.id] = &state;
        for (const db::Assignment& assignment : assignments) {
          const auto study = by_id.find(assignment.study_id);
          if (assignment.rater_id != caller.user.id || study == by_id.end()) continue;
          const db::StudyConsensusState& state = *study->second;
          RQS_ASSIGN_OR_RETURN(StudyStatus status,
                               DescribeStudy(*instrument, access.review, state));
          v1::MyAssignment* wire = out->add_assignments();
          ToProto(state.study, wire->mutable_study());
          wire->set_current_round(status.current_round);
          const bool in_round = status.phase == StudyPhase::kInRound;
          if (in_round) {
            for (int criterion : status.open_criteria) wire->add_open_criteria(criterion);
          }
          // The caller's assessment of the current round (the last one they
          // saved once the study ended).
          const db::Assessment* mine = nullptr;
          for (const db::Assessment& assessment : assessments) {
            // Defence in depth: never let another rater's row through.
            if (assessment.rater_id != caller.user.id || assessment.study_id != state.study.id) {
              continue;
            }
            if (in_round ? assessment.round == status.current_round
                         : mine == nullptr || assessment.round > mine->round) {
              mine = &assessment;
            }
          }
          wire->set_action_needed(
              in_round && (mine == nullptr || mine->status != db::AssessmentStatus::kSubmitted));
          if (mine == nullptr) {
            wire->set_state(v1::ASSESSMENT_STATE_NOT_STARTED);
            out->set_not_started_count(out->not_started_count() + 1);
            continue;
          }
          wire->set_state(StateOf(*mine));
          if (wire->state() == v1::ASSESSMENT_STATE_SUBMITTED) {
            out->set_submitted_count(out->submitted_count() + 1);
          } else {
            out->set_draft_count(out->draft_count() + 1);
          }
          RQS_ASSIGN_OR_RETURN(scoring::ScoreReport report,
                               ScoreAnswers(access.review, state.study,
                                            ToScoringAnswers(CurrentAnswers(state, *mine))));
          wire->set_total(report.total);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AssessmentServiceImpl::SaveDraft(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::SaveDraftRequest& in,
              v1::SaveDraftResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(PreparedAssessment prepared,
                             PrepareAssessment(*store, caller, in.review_id(), in.study_id(),
                                               in.answers(), in.round(), ""));
        const db::AssessmentRules rules = RulesFor(prepared, /*submitting=*/false);
        RQS_ASSIGN_OR_RETURN(db::Assessment saved,
                             store->SaveDraft(prepared.input, caller.user.id, &rules));
        return EncodeWritten(*store, prepared, saved, out->mutable_assessment());
      });
}

grpc::ServerUnaryReactor* AssessmentServiceImpl::SubmitAssessment(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::SubmitAssessmentRequest& in,
              v1::SubmitAssessmentResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(
            CheckRequiredText("idempotency_key", in.idempotency_key(), kMaxIdempotencyKeyChars));
        RQS_ASSIGN_OR_RETURN(PreparedAssessment prepared,
                             PrepareAssessment(*store, caller, in.review_id(), in.study_id(),
                                               in.answers(), in.round(), in.idempotency_key()));
        const db::AssessmentRules rules = RulesFor(prepared, /*submitting=*/true);
        RQS_ASSIGN_OR_RETURN(db::SubmitResult result,
                             store->SubmitAssessment(prepared.input, caller.user.id, &rules));
        out->set_replayed(result.replayed);
        return EncodeWritten(*store, prepared, result.assessment, out->mutable_assessment());
      });
}

grpc::ServerUnaryReactor* AssessmentServiceImpl::GetMyAssessment(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetMyAssessmentRequest& in,
              v1::GetMyAssessmentResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(StudyGrant grant, AuthorizeStudy(*store, caller, in.review_id(),
                                                              in.study_id(), {Role::kRater}));
        const ReviewAccess& access = grant.access;
        const db::Study& study = grant.study;
        if (in.round() < 0) {
          return absl::InvalidArgumentError("round: must be 0 (the latest) or a round >= 1");
        }
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assessment> mine,
                             store->ListAssessments(in.review_id(), in.study_id(), caller.user.id));
        const db::Assessment* assessment = nullptr;
        for (const db::Assessment& candidate : mine) {
          // Defence in depth: never let another rater's row through.
          if (candidate.rater_id != caller.user.id) continue;
          if (in.round() != 0 ? candidate.round == in.round()
                              : assessment == nullptr || candidate.round > assessment->round) {
            assessment = &candidate;
          }
        }
        if (assessment == nullptr) {
          return absl::NotFoundError(
              in.round() == 0 ? absl::StrCat("you have not saved an assessment of study ",
                                             in.study_id(), " yet")
                              : absl::StrCat("you have not saved an assessment of study ",
                                             in.study_id(), " in round ", in.round()));
        }
        RQS_ASSIGN_OR_RETURN(db::StudyConsensusState state,
                             store->GetStudyConsensusState(study.id));
        return EncodeAssessment(access, study, state, *assessment, out->mutable_assessment());
      });
}

}  // namespace rqs::server
