// rqs.v1.AssessmentService: a rater's own assessments.
//
// Blinding is enforced here by construction: every store query is keyed by
// the caller's own user id, and a study that is not assigned to the caller is
// NOT_FOUND exactly like one that does not exist (FindVisibleStudy).
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scoring/status_macros.h"
#include "server/convert.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {
namespace {

using Role = db::ReviewRole;

// The round every assessment belongs to until consensus rounds exist.
constexpr int kFirstRound = 1;

absl::Status CheckAnswers(const google::protobuf::RepeatedPtrField<v1::Answer>& answers) {
  RQS_RETURN_IF_ERROR(
      CheckCount("answers", static_cast<std::size_t>(answers.size()), kMaxAnswers));
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
    RQS_RETURN_IF_ERROR(
        CheckText(at + "evidence.page", answer.evidence().page(), kMaxLabelChars));
    RQS_RETURN_IF_ERROR(
        CheckText(at + "evidence.section", answer.evidence().section(), kMaxLabelChars));
    RQS_RETURN_IF_ERROR(
        CheckText(at + "evidence.quote", answer.evidence().quote(), kMaxEvidenceChars));
  }
  return absl::OkStatus();
}

// What SaveDraft and SubmitAssessment share: checks, authorisation and
// scoring. Returns the store input; nothing is stored yet.
absl::StatusOr<std::pair<db::AssessmentInput, ReviewAccess>> PrepareAssessment(
    db::Store& store, const Caller& caller, int64_t review_id, int64_t study_id,
    const google::protobuf::RepeatedPtrField<v1::Answer>& answers, db::Study* study_out) {
  RQS_RETURN_IF_ERROR(CheckAnswers(answers));
  RQS_ASSIGN_OR_RETURN(ReviewAccess access,
                       AuthorizeReview(store, caller, review_id, {Role::kRater}));
  RQS_ASSIGN_OR_RETURN(db::Study study, FindVisibleStudy(store, caller, access, study_id));
  RQS_ASSIGN_OR_RETURN(scoring::ScoreReport report,
                       ScoreAnswers(access.review, study, ToScoringAnswers(answers)));
  db::AssessmentInput input;
  input.study_id = study_id;
  input.rater_id = caller.user.id;
  input.round = kFirstRound;
  input.instrument_version = report.instrument_version;
  input.server_version = RQS_SERVER_VERSION;
  input.answers = ToDbAnswers(answers, report);
  *study_out = std::move(study);
  return std::make_pair(std::move(input), std::move(access));
}

// Encodes a stored assessment with the report its stored answers score.
absl::Status EncodeAssessment(const ReviewAccess& access, const db::Study& study,
                              const db::Assessment& assessment, v1::Assessment* out) {
  RQS_ASSIGN_OR_RETURN(scoring::ScoreReport report,
                       ScoreAnswers(access.review, study, ToScoringAnswers(assessment.answers)));
  ToProto(assessment, report, out);
  return absl::OkStatus();
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
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> assignments,
                             store->ListAssignments(in.review_id(), caller.user.id));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assessment> assessments,
                             store->ListAssessments(in.review_id(), 0, caller.user.id));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> studies, store->ListStudies(in.review_id()));
        std::map<int64_t, const db::Study*> by_id;
        for (const db::Study& study : studies) by_id[study.id] = &study;
        std::map<int64_t, const db::Assessment*> mine;
        for (const db::Assessment& assessment : assessments) {
          // Defence in depth: never let another rater's row through.
          if (assessment.rater_id != caller.user.id || assessment.round != kFirstRound) continue;
          mine[assessment.study_id] = &assessment;
        }
        for (const db::Assignment& assignment : assignments) {
          const auto study = by_id.find(assignment.study_id);
          if (assignment.rater_id != caller.user.id || study == by_id.end()) continue;
          v1::MyAssignment* wire = out->add_assignments();
          ToProto(*study->second, wire->mutable_study());
          const auto assessment = mine.find(assignment.study_id);
          if (assessment == mine.end()) {
            wire->set_state(v1::ASSESSMENT_STATE_NOT_STARTED);
            out->set_not_started_count(out->not_started_count() + 1);
            continue;
          }
          wire->set_state(StateOf(*assessment->second));
          if (wire->state() == v1::ASSESSMENT_STATE_SUBMITTED) {
            out->set_submitted_count(out->submitted_count() + 1);
          } else {
            out->set_draft_count(out->draft_count() + 1);
          }
          RQS_ASSIGN_OR_RETURN(
              scoring::ScoreReport report,
              ScoreAnswers(access.review, *study->second,
                           ToScoringAnswers(assessment->second->answers)));
          wire->set_total(report.total);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* AssessmentServiceImpl::SaveDraft(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request,
                                                           grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::SaveDraftRequest& in,
                            v1::SaveDraftResponse* out) -> absl::Status {
                      db::Study study;
                      RQS_ASSIGN_OR_RETURN(auto prepared,
                                           PrepareAssessment(*store, caller, in.review_id(),
                                                             in.study_id(), in.answers(), &study));
                      RQS_ASSIGN_OR_RETURN(db::Assessment saved,
                                           store->SaveDraft(prepared.first, caller.user.id));
                      return EncodeAssessment(prepared.second, study, saved,
                                              out->mutable_assessment());
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
        RQS_RETURN_IF_ERROR(CheckRequiredText("idempotency_key", in.idempotency_key(),
                                              kMaxIdempotencyKeyChars));
        db::Study study;
        RQS_ASSIGN_OR_RETURN(auto prepared, PrepareAssessment(*store, caller, in.review_id(),
                                                              in.study_id(), in.answers(), &study));
        prepared.first.idempotency_key = in.idempotency_key();
        RQS_ASSIGN_OR_RETURN(db::SubmitResult result,
                             store->SubmitAssessment(prepared.first, caller.user.id));
        out->set_replayed(result.replayed);
        return EncodeAssessment(prepared.second, study, result.assessment,
                                out->mutable_assessment());
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
        RQS_ASSIGN_OR_RETURN(ReviewAccess access,
                             AuthorizeReview(*store, caller, in.review_id(), {Role::kRater}));
        RQS_ASSIGN_OR_RETURN(db::Study study,
                             FindVisibleStudy(*store, caller, access, in.study_id()));
        absl::StatusOr<db::Assessment> assessment =
            store->FindAssessment(in.study_id(), caller.user.id, kFirstRound);
        if (absl::IsNotFound(assessment.status())) {
          return absl::NotFoundError(
              absl::StrCat("you have not saved an assessment of study ", in.study_id(), " yet"));
        }
        RQS_RETURN_IF_ERROR(assessment.status());
        return EncodeAssessment(access, study, *assessment, out->mutable_assessment());
      });
}

}  // namespace rqs::server
