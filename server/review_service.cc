// rqs.v1.ReviewService: reviews, members, studies, rater assignments and
// aggregate results. Roles: see proto/rqs/v1/review.proto.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "scoring/instrument.h"
#include "scoring/score.h"
#include "scoring/status_macros.h"
#include "server/convert.h"
#include "server/limits.h"
#include "server/services.h"

namespace rqs::server {
namespace {

using Role = db::ReviewRole;

absl::Status CheckStudyInput(const v1::StudyInput& study, int index) {
  const std::string at = absl::StrCat("studies[", index, "].");
  RQS_RETURN_IF_ERROR(CheckRequiredText(at + "title", study.title(), kMaxTitleChars));
  RQS_RETURN_IF_ERROR(CheckText(at + "authors", study.authors(), kMaxNotesChars));
  RQS_RETURN_IF_ERROR(CheckText(at + "doi", study.doi(), kMaxLabelChars));
  RQS_RETURN_IF_ERROR(CheckText(at + "external_id", study.external_id(), kMaxExternalIdChars));
  RQS_RETURN_IF_ERROR(CheckText(at + "notes", study.notes(), kMaxNotesChars));
  if (study.year() != 0 && (study.year() < 1800 || study.year() > 3000)) {
    return absl::InvalidArgumentError(absl::StrCat(at, "year must be 0 (unknown) or 1800..3000"));
  }
  return FromProto(study.study_type(), at + "study_type").status();
}

}  // namespace

grpc::ServerUnaryReactor* ReviewServiceImpl::CreateReview(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::CreateReviewRequest& in,
              v1::CreateReviewResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(CheckRequiredText("name", in.name(), kMaxTitleChars));
        RQS_RETURN_IF_ERROR(
            CheckRequiredText("instrument_id", in.instrument_id(), kMaxIdentifierChars));
        RQS_ASSIGN_OR_RETURN(const scoring::Instrument* instrument,
                             scoring::FindInstrument(in.instrument_id()));
        if (in.target_level() < 0 || in.target_level() > instrument->level_count) {
          return absl::InvalidArgumentError(
              instrument->level_count == 0
                  ? absl::StrCat("target_level must be 0: ", instrument->id, " has no levels")
                  : absl::StrCat("target_level must be 0..", instrument->level_count));
        }
        db::NewReview review;
        review.name = in.name();
        review.instrument_id = instrument->id;
        review.target_rrl = in.target_level();
        review.coordinator_id = caller.user.id;
        RQS_ASSIGN_OR_RETURN(db::Review created, store->CreateReview(review, caller.user.id));
        ToProto(created, Role::kCoordinator, out->mutable_review());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::GetReview(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::GetReviewRequest& in,
                            v1::GetReviewResponse* out) -> absl::Status {
                      RQS_ASSIGN_OR_RETURN(
                          ReviewAccess access,
                          AuthorizeReview(*store, caller, in.review_id(),
                                          {Role::kCoordinator, Role::kRater, Role::kObserver}));
                      ToProto(access.review, access.role, out->mutable_review());
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::ListReviews(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(env_, context, request, response,
                    [store](const Caller& caller, const v1::ListReviewsRequest&,
                            v1::ListReviewsResponse* out) -> absl::Status {
                      RQS_ASSIGN_OR_RETURN(std::vector<db::Review> reviews,
                                           store->ListReviewsForUser(caller.user.id));
                      for (const db::Review& review : reviews) {
                        // A role removed since the listing query just drops the review.
                        absl::StatusOr<Role> role = store->GetReviewRole(review.id, caller.user.id);
                        if (absl::IsNotFound(role.status())) continue;
                        RQS_RETURN_IF_ERROR(role.status());
                        ToProto(review, *role, out->add_reviews());
                      }
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::AddMember(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::AddMemberRequest& in,
              v1::AddMemberResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        RQS_ASSIGN_OR_RETURN(const Role role, FromProto(in.role(), "role"));
        absl::StatusOr<db::User> user = store->GetUser(in.user_id());
        if (absl::IsNotFound(user.status())) {
          return absl::NotFoundError(absl::StrCat("user ", in.user_id(), " not found"));
        }
        RQS_RETURN_IF_ERROR(user.status());
        absl::StatusOr<db::ReviewMember> member =
            store->AddReviewMember(in.review_id(), in.user_id(), role, caller.user.id);
        if (absl::IsAlreadyExists(member.status())) {
          // A review without a coordinator could never be managed again.
          if (role != Role::kCoordinator) {
            RQS_ASSIGN_OR_RETURN(std::vector<db::ReviewMember> members,
                                 store->ListReviewMembers(in.review_id()));
            int coordinators = 0;
            bool target_is_coordinator = false;
            for (const db::ReviewMember& existing : members) {
              if (existing.role != Role::kCoordinator) continue;
              ++coordinators;
              target_is_coordinator = target_is_coordinator || existing.user_id == in.user_id();
            }
            if (target_is_coordinator && coordinators == 1) {
              return absl::FailedPreconditionError(absl::StrCat(
                  "user ", in.user_id(), " is the only coordinator of review ", in.review_id(),
                  "; make someone else coordinator first"));
            }
          }
          member = store->SetReviewMemberRole(in.review_id(), in.user_id(), role, caller.user.id);
        }
        RQS_RETURN_IF_ERROR(member.status());
        v1::Member* wire = out->mutable_member();
        wire->set_user_id(member->user_id);
        wire->set_user_name(user->name);
        wire->set_role(ToProto(member->role));
        ToProto(member->added_at, wire->mutable_add_time());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::RemoveMember(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::RemoveMemberRequest& in,
              v1::RemoveMemberResponse*) -> absl::Status {
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        return store->RemoveReviewMember(in.review_id(), in.user_id(), caller.user.id);
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::ListMembers(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::ListMembersRequest& in,
              v1::ListMembersResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        RQS_ASSIGN_OR_RETURN(std::vector<db::ReviewMember> members,
                             store->ListReviewMembers(in.review_id()));
        for (const db::ReviewMember& member : members) {
          RQS_ASSIGN_OR_RETURN(db::User user, store->GetUser(member.user_id));
          v1::Member* wire = out->add_members();
          wire->set_user_id(member.user_id);
          wire->set_user_name(user.name);
          wire->set_role(ToProto(member.role));
          ToProto(member.added_at, wire->mutable_add_time());
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::AddStudies(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request,
                                                        grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::AddStudiesRequest& in,
              v1::AddStudiesResponse* out) -> absl::Status {
        if (in.studies().empty()) return absl::InvalidArgumentError("studies is empty");
        RQS_RETURN_IF_ERROR(CheckCount("studies", static_cast<std::size_t>(in.studies_size()),
                                       kMaxStudiesPerCall));
        for (int i = 0; i < in.studies_size(); ++i) {
          RQS_RETURN_IF_ERROR(CheckStudyInput(in.studies(i), i));
        }
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        // Check every external id before storing anything, so that a clash
        // rejects the whole batch instead of half of it.
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> existing, store->ListStudies(in.review_id()));
        std::set<std::string, std::less<>> used;
        for (const db::Study& study : existing) {
          if (!study.external_id.empty()) used.insert(study.external_id);
        }
        for (int i = 0; i < in.studies_size(); ++i) {
          const std::string& id = in.studies(i).external_id();
          if (id.empty()) continue;
          if (!used.insert(id).second) {
            return absl::AlreadyExistsError(absl::StrCat(
                "studies[", i, "].external_id '", id, "' is already used in review ",
                in.review_id()));
          }
        }
        std::vector<db::NewStudy> studies;
        for (const v1::StudyInput& wire : in.studies()) {
          db::NewStudy& study = studies.emplace_back();
          study.review_id = in.review_id();
          study.title = wire.title();
          study.authors = wire.authors();
          study.year = wire.year();
          study.doi = wire.doi();
          RQS_ASSIGN_OR_RETURN(study.study_type, FromProto(wire.study_type(), "study_type"));
          study.external_id = wire.external_id();
          study.notes = wire.notes();
        }
        // One transaction: the whole batch is stored, or none of it.
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> created,
                             store->CreateStudies(studies, caller.user.id));
        for (const db::Study& study : created) ToProto(study, out->add_studies());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::ListStudies(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::ListStudiesRequest& in,
              v1::ListStudiesResponse* out) -> absl::Status {
        if (in.page_size() < 0 || in.page_size() > kMaxPageSize) {
          return absl::InvalidArgumentError(
              absl::StrCat("page_size must be 0..", kMaxPageSize));
        }
        const int page_size = in.page_size() == 0 ? kMaxPageSize : in.page_size();
        int64_t after_id = 0;
        if (!in.page_token().empty() &&
            (!absl::SimpleAtoi(in.page_token(), &after_id) || after_id < 0)) {
          return absl::InvalidArgumentError("page_token is not a token from ListStudies");
        }
        RQS_ASSIGN_OR_RETURN(
            ReviewAccess access,
            AuthorizeReview(*store, caller, in.review_id(),
                            {Role::kCoordinator, Role::kRater, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> studies, store->ListStudies(in.review_id()));
        std::set<int64_t> visible;
        const bool rater = access.role == Role::kRater;
        if (rater) {
          RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> mine,
                               store->ListAssignments(in.review_id(), caller.user.id));
          for (const db::Assignment& assignment : mine) visible.insert(assignment.study_id);
        }
        int count = 0;
        for (const db::Study& study : studies) {
          if (study.id <= after_id || (rater && visible.count(study.id) == 0)) continue;
          if (count == page_size) {
            out->set_next_page_token(absl::StrCat(out->studies(count - 1).study_id()));
            break;
          }
          ToProto(study, out->add_studies());
          ++count;
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::AssignRaters(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request,
                                                          grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::AssignRatersRequest& in,
              v1::AssignRatersResponse* out) -> absl::Status {
        if (in.mode_case() == v1::AssignRatersRequest::MODE_NOT_SET) {
          return absl::InvalidArgumentError("set explicit_assignments or automatic");
        }
        if (in.has_automatic()) {
          const int k = in.automatic().raters_per_study();
          if (k < 1 || k > kMaxRatersPerStudy) {
            return absl::InvalidArgumentError(
                absl::StrCat("automatic.raters_per_study must be 1..", kMaxRatersPerStudy));
          }
        } else {
          const auto& pairs = in.explicit_assignments().assignments();
          if (pairs.empty()) {
            return absl::InvalidArgumentError("explicit_assignments.assignments is empty");
          }
          RQS_RETURN_IF_ERROR(CheckCount("explicit_assignments.assignments",
                                         static_cast<std::size_t>(pairs.size()),
                                         kMaxAssignmentsPerCall));
        }
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        if (in.has_automatic()) {
          RQS_ASSIGN_OR_RETURN(
              std::vector<db::Assignment> created,
              store->AutoAssign(in.review_id(), in.automatic().raters_per_study(),
                                caller.user.id));
          for (const db::Assignment& assignment : created) ToProto(assignment, out->add_created());
          return absl::OkStatus();
        }
        // Validate every pair before storing any, so a bad pair rejects the batch.
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> studies, store->ListStudies(in.review_id()));
        std::set<int64_t> study_ids;
        for (const db::Study& study : studies) study_ids.insert(study.id);
        RQS_ASSIGN_OR_RETURN(std::vector<db::ReviewMember> members,
                             store->ListReviewMembers(in.review_id()));
        std::set<int64_t> raters;
        for (const db::ReviewMember& member : members) {
          if (member.role == Role::kRater) raters.insert(member.user_id);
        }
        const auto& pairs = in.explicit_assignments().assignments();
        for (int i = 0; i < pairs.size(); ++i) {
          if (study_ids.count(pairs[i].study_id()) == 0) {
            return StudyNotFound(in.review_id(), pairs[i].study_id());
          }
          if (raters.count(pairs[i].rater_id()) == 0) {
            return absl::FailedPreconditionError(
                absl::StrCat("explicit_assignments.assignments[", i, "]: user ",
                             pairs[i].rater_id(), " is not a RATER of review ", in.review_id()));
          }
        }
        std::vector<std::pair<int64_t, int64_t>> study_rater_pairs;
        for (const v1::Assignment& pair : pairs) {
          study_rater_pairs.emplace_back(pair.study_id(), pair.rater_id());
        }
        // One transaction; pairs already assigned are kept and not reported.
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> created,
                             store->AssignStudies(study_rater_pairs, caller.user.id));
        for (const db::Assignment& assignment : created) ToProto(assignment, out->add_created());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReviewServiceImpl::ListAssignments(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::ListAssignmentsRequest& in,
              v1::ListAssignmentsResponse* out) -> absl::Status {
        RQS_RETURN_IF_ERROR(
            AuthorizeReview(*store, caller, in.review_id(), {Role::kCoordinator}).status());
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> assignments,
                             store->ListAssignments(in.review_id()));
        // States only: no answer is shown.
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::Assessment> assessments,
            store->ListAssessments(in.review_id(), 0, 0, std::nullopt, db::AnswerDetail::kScores));
        std::map<std::pair<int64_t, int64_t>, v1::AssessmentState> states;
        for (const db::Assessment& assessment : assessments) {
          if (assessment.round != 1) continue;
          states[{assessment.study_id, assessment.rater_id}] = StateOf(assessment);
        }
        std::map<int64_t, std::string> names;
        for (const db::Assignment& assignment : assignments) {
          auto name = names.find(assignment.rater_id);
          if (name == names.end()) {
            RQS_ASSIGN_OR_RETURN(db::User user, store->GetUser(assignment.rater_id));
            name = names.emplace(assignment.rater_id, user.name).first;
          }
          v1::AssignmentStatus* wire = out->add_assignments();
          ToProto(assignment, wire->mutable_assignment());
          wire->set_rater_name(name->second);
          const auto state = states.find({assignment.study_id, assignment.rater_id});
          wire->set_state(state == states.end() ? v1::ASSESSMENT_STATE_NOT_STARTED
                                                : state->second);
        }
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

grpc::ServerUnaryReactor* ReviewServiceImpl::GetReviewSummary(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  db::Store* store = env_.store;
  return ServeUnary(
      env_, context, request, response,
      [store](const Caller& caller, const v1::GetReviewSummaryRequest& in,
              v1::GetReviewSummaryResponse* out) -> absl::Status {
        RQS_ASSIGN_OR_RETURN(ReviewAccess access,
                             AuthorizeReview(*store, caller, in.review_id(),
                                             {Role::kCoordinator, Role::kObserver}));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Study> studies, store->ListStudies(in.review_id()));
        RQS_ASSIGN_OR_RETURN(std::vector<db::Assignment> assignments,
                             store->ListAssignments(in.review_id()));
        RQS_ASSIGN_OR_RETURN(
            std::vector<db::Assessment> submitted,
            store->ListAssessments(in.review_id(), 0, 0, db::AssessmentStatus::kSubmitted,
                                   db::AnswerDetail::kScores));
        std::map<int64_t, int> assigned;
        for (const db::Assignment& assignment : assignments) ++assigned[assignment.study_id];
        std::map<int64_t, std::vector<int>> totals;
        std::map<int64_t, const db::Study*> by_id;
        for (const db::Study& study : studies) by_id[study.id] = &study;
        int submitted_count = 0;
        for (const db::Assessment& assessment : submitted) {
          const auto study = by_id.find(assessment.study_id);
          if (assessment.round != 1 || study == by_id.end()) continue;
          RQS_ASSIGN_OR_RETURN(
              scoring::ScoreReport report,
              ScoreAnswers(access.review, *study->second, ToScoringAnswers(assessment.answers)));
          totals[assessment.study_id].push_back(report.total);
          ++submitted_count;
        }
        for (const db::Study& study : studies) {
          v1::StudySummary* wire = out->add_studies();
          wire->set_study_id(study.id);
          wire->set_title(study.title);
          wire->set_assigned_count(assigned[study.id]);
          const std::vector<int>& scores = totals[study.id];
          wire->set_submitted_count(static_cast<int32_t>(scores.size()));
          if (!scores.empty()) {
            double sum = 0;
            for (int score : scores) sum += score;
            wire->set_mean_total(sum / static_cast<double>(scores.size()));
            wire->set_min_total(*std::min_element(scores.begin(), scores.end()));
            wire->set_max_total(*std::max_element(scores.begin(), scores.end()));
          }
        }
        out->set_assigned_count(static_cast<int32_t>(assignments.size()));
        out->set_submitted_count(submitted_count);
        return absl::OkStatus();
      },
      Workers::kReviewWide);
}

}  // namespace rqs::server
