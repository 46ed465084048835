// Three rqs-server replicas (separate processes) on one database, as behind a
// load balancer: concurrent round closes and adjudications of the same study,
// sent through all three at once, make exactly one transition each, the
// history stays consistent whichever replica is asked, and a watcher on one
// replica sees what the others did (PostgreSQL LISTEN/NOTIFY).
//
// Bounded in time: every call has a deadline; nothing asserts on durations.
#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/consensus.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"
#include "tests/integration/fault_support.h"
#include "tests/integration/server_process.h"
#include "tests/unit/db/test_database.h"

namespace rqs::testing {
namespace {

constexpr int kReplicas = 3;
constexpr int kCallsPerReplica = 4;

class ReplicasTest : public db::testing::PgTest {
 protected:
  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    admin_token_ = absl::StrCat("rqs_replicas_admin_", database_);
    token_file_ = absl::StrCat(::testing::TempDir(), "/", database_, ".token");
    std::ofstream(token_file_) << admin_token_ << "\n";
    for (int i = 0; i < kReplicas; ++i) {
      replicas_.push_back(std::make_unique<ServerProcess>(
          RQS_SERVER_BINARY,
          std::vector<std::string>{"--listen", "127.0.0.1:0", "--pool-size", "4",
                                   "--database-url", conninfo_, "--admin-token-file",
                                   token_file_},
          std::map<std::string, std::string>{{"RQS_DATABASE_URL", ""}, {"RQS_LISTEN", ""}}));
    }
    for (auto& replica : replicas_) {
      const std::string address = replica->WaitForAddress();
      ASSERT_FALSE(address.empty()) << replica->Stdout() << replica->Stderr();
      auto channel = FaultChannel(address);
      users_.push_back(v1::UserService::NewStub(channel));
      reviews_.push_back(v1::ReviewService::NewStub(channel));
      assessments_.push_back(v1::AssessmentService::NewStub(channel));
      consensus_.push_back(v1::ConsensusService::NewStub(channel));
    }
  }

  void TearDown() override {
    for (auto& replica : replicas_) replica->Stop();
    std::remove(token_file_.c_str());
    PgTest::TearDown();
  }

  // Creates a user through replica `via` and returns its id and token.
  std::pair<int64_t, std::string> MakeUser(const std::string& name, int via) {
    v1::CreateUserRequest create;
    create.set_name(name);
    v1::CreateUserResponse created;
    grpc::Status status = users_[static_cast<std::size_t>(via)]->CreateUser(
        CallContext(admin_token_).get(), create, &created);
    EXPECT_TRUE(status.ok()) << DescribeStatus(status);
    v1::IssueTokenRequest issue;
    issue.set_user_id(created.user().user_id());
    v1::IssueTokenResponse issued;
    status = users_[static_cast<std::size_t>(via)]->IssueToken(CallContext(admin_token_).get(),
                                                              issue, &issued);
    EXPECT_TRUE(status.ok()) << DescribeStatus(status);
    return {created.user().user_id(), issued.token()};
  }

  grpc::Status Submit(int via, const std::string& token, int64_t review, int64_t study,
                      const std::vector<v1::Answer>& answers, const std::string& key) {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review);
    request.set_study_id(study);
    for (const v1::Answer& answer : answers) *request.add_answers() = answer;
    request.set_idempotency_key(key);
    v1::SubmitAssessmentResponse response;
    return assessments_[static_cast<std::size_t>(via)]->SubmitAssessment(
        CallContext(token).get(), request, &response);
  }

  static v1::Answer Choose(int criterion, const std::string& option) {
    v1::Answer answer;
    answer.set_criterion(criterion);
    answer.add_option_ids(option);
    return answer;
  }

  // Counts rows with plain SQL on the shared database.
  int Count(const std::string& sql) { return std::stoi(Exec(sql)); }

  std::string admin_token_;
  std::string token_file_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::vector<std::unique_ptr<v1::UserService::Stub>> users_;
  std::vector<std::unique_ptr<v1::ReviewService::Stub>> reviews_;
  std::vector<std::unique_ptr<v1::AssessmentService::Stub>> assessments_;
  std::vector<std::unique_ptr<v1::ConsensusService::Stub>> consensus_;
};

// Runs `call(replica)` from kCallsPerReplica threads per replica at once and
// returns the status codes.
template <typename Call>
std::vector<grpc::StatusCode> FromEveryReplica(Call call) {
  std::atomic<bool> go{false};
  std::vector<grpc::StatusCode> codes(kReplicas * kCallsPerReplica);
  std::vector<std::thread> threads;
  for (int i = 0; i < kReplicas * kCallsPerReplica; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      codes[static_cast<std::size_t>(i)] = call(i % kReplicas).error_code();
    });
  }
  go.store(true);
  for (std::thread& thread : threads) thread.join();
  return codes;
}

int CountOf(const std::vector<grpc::StatusCode>& codes, grpc::StatusCode code) {
  int count = 0;
  for (grpc::StatusCode c : codes) count += c == code ? 1 : 0;
  return count;
}

TEST_F(ReplicasTest, ConcurrentTransitionsThroughThreeReplicasHappenOnce) {
  // The coordinator (admin) sets up through replica 0; three raters.
  v1::CreateReviewRequest create;
  create.set_name("Replicated review");
  create.set_instrument_id("rqs2");
  create.set_target_level(1);  // Criteria 1..5: small rounds.
  v1::CreateReviewResponse review;
  ASSERT_TRUE(reviews_[0]->CreateReview(CallContext(admin_token_).get(), create, &review).ok());
  const int64_t review_id = review.review().review_id();
  std::vector<std::pair<int64_t, std::string>> raters;
  for (int i = 0; i < 3; ++i) {
    raters.push_back(MakeUser(absl::StrCat("rater", i), i));
    v1::AddMemberRequest add;
    add.set_review_id(review_id);
    add.set_user_id(raters.back().first);
    add.set_role(v1::ROLE_RATER);
    v1::AddMemberResponse added;
    ASSERT_TRUE(reviews_[static_cast<std::size_t>(i)]
                    ->AddMember(CallContext(admin_token_).get(), add, &added)
                    .ok());
  }
  v1::AddStudiesRequest studies;
  studies.set_review_id(review_id);
  v1::StudyInput* input = studies.add_studies();
  input->set_title("The study");
  input->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  v1::AddStudiesResponse added_studies;
  ASSERT_TRUE(
      reviews_[0]->AddStudies(CallContext(admin_token_).get(), studies, &added_studies).ok());
  const int64_t study = added_studies.studies(0).study_id();
  v1::AssignRatersRequest assign;
  assign.set_review_id(review_id);
  assign.mutable_automatic()->set_raters_per_study(3);
  v1::AssignRatersResponse assigned;
  ASSERT_TRUE(reviews_[1]->AssignRaters(CallContext(admin_token_).get(), assign, &assigned).ok());

  // A watcher on replica 2 follows everything from the start.
  v1::WatchReviewRequest watch;
  watch.set_review_id(review_id);
  watch.set_after_event_id(0);
  grpc::ClientContext watch_context;
  watch_context.AddMetadata("authorization", absl::StrCat("Bearer ", admin_token_));
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  std::unique_ptr<grpc::ClientReader<v1::ReviewEvent>> watcher =
      consensus_[2]->WatchReview(&watch_context, watch);

  // Round 1: two of three raters submit (through different replicas) and
  // disagree on criterion 2; the third never does.
  ASSERT_TRUE(Submit(0, raters[0].second, review_id, study, {Choose(2, "yes")}, "r0").ok());
  ASSERT_TRUE(Submit(1, raters[1].second, review_id, study, {Choose(2, "no")}, "r1").ok());

  std::vector<grpc::StatusCode> closes = FromEveryReplica([&](int replica) {
    v1::CloseRoundRequest request;
    request.set_review_id(review_id);
    request.set_study_id(study);
    request.set_round(1);
    v1::CloseRoundResponse response;
    return consensus_[static_cast<std::size_t>(replica)]->CloseRound(
        CallContext(admin_token_).get(), request, &response);
  });
  EXPECT_EQ(CountOf(closes, grpc::StatusCode::OK), 1);
  EXPECT_EQ(CountOf(closes, grpc::StatusCode::FAILED_PRECONDITION),
            kReplicas * kCallsPerReplica - 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM study_rounds WHERE study_id = ", study)), 1);

  // Round 2 on criterion 2 only: nobody moves, so the study stops as stable
  // and awaits adjudication.
  ASSERT_TRUE(Submit(2, raters[0].second, review_id, study, {Choose(2, "yes")}, "r0-2").ok());
  ASSERT_TRUE(Submit(0, raters[1].second, review_id, study, {Choose(2, "no")}, "r1-2").ok());
  closes = FromEveryReplica([&](int replica) {
    v1::CloseRoundRequest request;
    request.set_review_id(review_id);
    request.set_study_id(study);
    request.set_round(2);
    v1::CloseRoundResponse response;
    return consensus_[static_cast<std::size_t>(replica)]->CloseRound(
        CallContext(admin_token_).get(), request, &response);
  });
  EXPECT_EQ(CountOf(closes, grpc::StatusCode::OK), 1);

  std::vector<grpc::StatusCode> adjudications = FromEveryReplica([&](int replica) {
    v1::AdjudicateRequest request;
    request.set_review_id(review_id);
    request.set_study_id(study);
    v1::AdjudicationInput* decision = request.add_decisions();
    decision->set_criterion(2);
    decision->add_option_ids(replica == 1 ? "no" : "yes");
    decision->set_reason(absl::StrCat("decided through replica ", replica));
    v1::AdjudicateResponse response;
    return consensus_[static_cast<std::size_t>(replica)]->Adjudicate(
        CallContext(admin_token_).get(), request, &response);
  });
  EXPECT_EQ(CountOf(adjudications, grpc::StatusCode::OK), 1);
  // The losers find the criterion adjudicated (or the study finalised).
  EXPECT_EQ(CountOf(adjudications, grpc::StatusCode::ALREADY_EXISTS) +
                CountOf(adjudications, grpc::StatusCode::FAILED_PRECONDITION),
            kReplicas * kCallsPerReplica - 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM adjudications WHERE study_id = ", study)), 1);
  EXPECT_EQ(Count(absl::StrCat("SELECT count(*) FROM study_consensus WHERE study_id = ", study)),
            1);

  // Every replica tells the same history.
  std::string first;
  for (int i = 0; i < kReplicas; ++i) {
    v1::GetConsensusRequest request;
    request.set_review_id(review_id);
    request.set_study_id(study);
    v1::GetConsensusResponse response;
    grpc::Status status = consensus_[static_cast<std::size_t>(i)]->GetConsensus(
        CallContext(admin_token_).get(), request, &response);
    ASSERT_TRUE(status.ok()) << DescribeStatus(status);
    ASSERT_EQ(response.studies_size(), 1);
    EXPECT_EQ(response.studies(0).state(), v1::STUDY_STATE_FINALISED);
    EXPECT_EQ(response.studies(0).rounds(), 2);
    response.mutable_studies(0)->clear_finalise_time();
    if (i == 0) first = response.SerializeAsString();
    EXPECT_EQ(response.SerializeAsString(), first) << "replica " << i;
  }

  // The watcher on replica 2 saw, in order: 2 submissions, round 1 closed,
  // 2 submissions, round 2 closed, adjudication required, finalised; each
  // transition exactly once although most changes went through replicas 0
  // and 1.
  std::vector<v1::EventKind> kinds;
  v1::ReviewEvent event;
  int64_t last_id = 0;
  while (kinds.size() < 8 && watcher->Read(&event)) {
    EXPECT_GT(event.event_id(), last_id);
    last_id = event.event_id();
    kinds.push_back(event.kind());
  }
  EXPECT_EQ(kinds, (std::vector<v1::EventKind>{
                       v1::EVENT_KIND_SUBMISSION_RECEIVED, v1::EVENT_KIND_SUBMISSION_RECEIVED,
                       v1::EVENT_KIND_ROUND_CLOSED, v1::EVENT_KIND_SUBMISSION_RECEIVED,
                       v1::EVENT_KIND_SUBMISSION_RECEIVED, v1::EVENT_KIND_ROUND_CLOSED,
                       v1::EVENT_KIND_ADJUDICATION_REQUIRED, v1::EVENT_KIND_STUDY_FINALISED}));
  watch_context.TryCancel();
  // Every event the watch saw was already sequenced into review_events.
  EXPECT_EQ(Count("SELECT count(*) FROM review_events WHERE kind = 'ROUND_CLOSED'"), 2);
}

}  // namespace
}  // namespace rqs::testing
