// The gRPC services of rqs-server, as thin adapters.
//
// The services are registered as raw (ByteBuffer) callback services and
// ServeUnary decodes requests itself: gRPC's own decoding would answer a
// request holding invalid UTF-8 with a bare UNIMPLEMENTED, where clients
// deserve INVALID_ARGUMENT naming the field.
//
// Each RPC decodes its request, checks the limits (server/limits.h),
// authorises the caller (server/auth.h), calls the scoring engine and the
// store, and encodes the response. All of it runs on the worker pool through
// ServeUnary (server/rpc.h); the gRPC callback threads never block. Error
// codes are listed in the .proto files.
#ifndef RQS_SERVER_SERVICES_H_
#define RQS_SERVER_SERVICES_H_

#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/consensus.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"
#include "server/review_watch.h"
#include "server/rpc.h"

namespace rqs::server {

// Every method of InstrumentService as a raw (ByteBuffer) callback method.
using RawInstrumentService =
    v1::InstrumentService::WithRawCallbackMethod_ListInstruments<
    v1::InstrumentService::WithRawCallbackMethod_GetInstrument<
    v1::InstrumentService::Service>>;

// rqs.v1.InstrumentService: the built-in rubrics.
class InstrumentServiceImpl final : public RawInstrumentService {
 public:
  explicit InstrumentServiceImpl(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* ListInstruments(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetInstrument(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;

 private:
  ServiceEnv env_;
};

// Every method of UserService as a raw (ByteBuffer) callback method.
using RawUserService =
    v1::UserService::WithRawCallbackMethod_GetCurrentUser<
    v1::UserService::WithRawCallbackMethod_CreateUser<
    v1::UserService::WithRawCallbackMethod_ListUsers<
    v1::UserService::WithRawCallbackMethod_IssueToken<
    v1::UserService::WithRawCallbackMethod_ListTokens<
    v1::UserService::WithRawCallbackMethod_RevokeToken<
    v1::UserService::Service>>>>>>;

// rqs.v1.UserService: users and tokens (administrators).
class UserServiceImpl final : public RawUserService {
 public:
  explicit UserServiceImpl(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* GetCurrentUser(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreateUser(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListUsers(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* IssueToken(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListTokens(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RevokeToken(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;

 private:
  ServiceEnv env_;
};

// Every method of ReviewService as a raw (ByteBuffer) callback method.
using RawReviewService =
    v1::ReviewService::WithRawCallbackMethod_CreateReview<
    v1::ReviewService::WithRawCallbackMethod_GetReview<
    v1::ReviewService::WithRawCallbackMethod_ListReviews<
    v1::ReviewService::WithRawCallbackMethod_AddMember<
    v1::ReviewService::WithRawCallbackMethod_RemoveMember<
    v1::ReviewService::WithRawCallbackMethod_ListMembers<
    v1::ReviewService::WithRawCallbackMethod_AddStudies<
    v1::ReviewService::WithRawCallbackMethod_ListStudies<
    v1::ReviewService::WithRawCallbackMethod_AssignRaters<
    v1::ReviewService::WithRawCallbackMethod_ListAssignments<
    v1::ReviewService::WithRawCallbackMethod_GetReviewSummary<
    v1::ReviewService::Service>>>>>>>>>>>;

// rqs.v1.ReviewService: reviews, members, studies, assignments, aggregates.
class ReviewServiceImpl final : public RawReviewService {
 public:
  explicit ReviewServiceImpl(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* CreateReview(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetReview(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListReviews(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* AddMember(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RemoveMember(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListMembers(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* AddStudies(grpc::CallbackServerContext* context,
                                       const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListStudies(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* AssignRaters(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListAssignments(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetReviewSummary(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) override;

 private:
  ServiceEnv env_;
};

// Every method of AssessmentService as a raw (ByteBuffer) callback method.
using RawAssessmentService =
    v1::AssessmentService::WithRawCallbackMethod_ListMyAssignments<
    v1::AssessmentService::WithRawCallbackMethod_SaveDraft<
    v1::AssessmentService::WithRawCallbackMethod_SubmitAssessment<
    v1::AssessmentService::WithRawCallbackMethod_GetMyAssessment<
    v1::AssessmentService::Service>>>>;

// rqs.v1.AssessmentService: a rater's own assessments (blinded).
class AssessmentServiceImpl final : public RawAssessmentService {
 public:
  explicit AssessmentServiceImpl(ServiceEnv env) : env_(env) {}

  grpc::ServerUnaryReactor* ListMyAssignments(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SaveDraft(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SubmitAssessment(grpc::CallbackServerContext* context,
                                             const grpc::ByteBuffer* request,
                                             grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetMyAssessment(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) override;

 private:
  ServiceEnv env_;
};

// Every method of ConsensusService as a raw (ByteBuffer) callback method.
using RawConsensusService =
    v1::ConsensusService::WithRawCallbackMethod_GetPolicy<
    v1::ConsensusService::WithRawCallbackMethod_SetPolicy<
    v1::ConsensusService::WithRawCallbackMethod_GetProgress<
    v1::ConsensusService::WithRawCallbackMethod_CloseRound<
    v1::ConsensusService::WithRawCallbackMethod_GetFeedback<
    v1::ConsensusService::WithRawCallbackMethod_Adjudicate<
    v1::ConsensusService::WithRawCallbackMethod_GetConsensus<
    v1::ConsensusService::WithRawCallbackMethod_GetAgreement<
    v1::ConsensusService::WithRawCallbackMethod_GetSummary<
    v1::ConsensusService::WithRawCallbackMethod_Export<
    v1::ConsensusService::WithRawCallbackMethod_WatchReview<
    v1::ConsensusService::Service>>>>>>>>>>>;

// rqs.v1.ConsensusService: policy, Delphi rounds, adjudication, consensus,
// agreement, summary, export and live events.
class ConsensusServiceImpl final : public RawConsensusService {
 public:
  ConsensusServiceImpl(ServiceEnv env, ReviewWatchHub* watch_hub)
      : env_(env), watch_hub_(watch_hub) {}

  grpc::ServerUnaryReactor* GetPolicy(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SetPolicy(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetProgress(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CloseRound(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetFeedback(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Adjudicate(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetConsensus(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetAgreement(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetSummary(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* context,
                                const grpc::ByteBuffer* request,
                                grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* WatchReview(
      grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) override {
    return watch_hub_->Watch(env_, context, request);
  }

 private:
  ServiceEnv env_;
  ReviewWatchHub* watch_hub_;
};

}  // namespace rqs::server

#endif  // RQS_SERVER_SERVICES_H_
