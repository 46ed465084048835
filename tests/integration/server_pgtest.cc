// End-to-end tests of the rqs server: the real server on port 0, a real
// PostgreSQL database per test, real gRPC clients.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/strings/str_replace.h"
#include "db/token.h"
#include "scoring/instrument.h"
#include "server/limits.h"
#include "tests/integration/server_fixture.h"

namespace rqs::server::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

v1::Answer Choose(int criterion, const std::string& option) {
  v1::Answer answer;
  answer.set_criterion(criterion);
  answer.add_option_ids(option);
  return answer;
}

v1::Answer Points(int criterion, int points) {
  v1::Answer answer;
  answer.set_criterion(criterion);
  answer.set_points(points);
  return answer;
}

// A review with a coordinator, two raters, an observer and an outsider;
// studies[0] is assigned to rater A only, studies[1] to rater B only and
// studies[2] to both.
class ReviewTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    coordinator_ = MakeUser("coordinator");
    rater_a_ = MakeUser("rater.a");
    rater_b_ = MakeUser("rater.b");
    observer_ = MakeUser("observer");
    outsider_ = MakeUser("outsider");
    review_ = MakeReview(coordinator_);
    AddMember(coordinator_, review_, rater_a_, v1::ROLE_RATER);
    AddMember(coordinator_, review_, rater_b_, v1::ROLE_RATER);
    AddMember(coordinator_, review_, observer_, v1::ROLE_OBSERVER);
    studies_ = AddStudies(coordinator_, review_, {"Study A", "Study B", "Study AB"});
    ASSERT_EQ(studies_.size(), 3u);
    Assign(coordinator_, review_, studies_[0], rater_a_);
    Assign(coordinator_, review_, studies_[1], rater_b_);
    Assign(coordinator_, review_, studies_[2], rater_a_);
    Assign(coordinator_, review_, studies_[2], rater_b_);
  }

  grpc::Status Submit(const TestUser& rater, int64_t study, std::vector<v1::Answer> answers,
                      const std::string& key, v1::SubmitAssessmentResponse* response) {
    v1::SubmitAssessmentRequest request;
    request.set_review_id(review_);
    request.set_study_id(study);
    for (v1::Answer& answer : answers) *request.add_answers() = std::move(answer);
    request.set_idempotency_key(key);
    return assessments_->SubmitAssessment(Ctx(rater.token).get(), request, response);
  }

  grpc::Status Draft(const TestUser& rater, int64_t study, std::vector<v1::Answer> answers,
                     v1::SaveDraftResponse* response) {
    v1::SaveDraftRequest request;
    request.set_review_id(review_);
    request.set_study_id(study);
    for (v1::Answer& answer : answers) *request.add_answers() = std::move(answer);
    return assessments_->SaveDraft(Ctx(rater.token).get(), request, response);
  }

  grpc::Status GetMine(const TestUser& rater, int64_t study, v1::GetMyAssessmentResponse* out) {
    v1::GetMyAssessmentRequest request;
    request.set_review_id(review_);
    request.set_study_id(study);
    return assessments_->GetMyAssessment(Ctx(rater.token).get(), request, out);
  }

  std::vector<int64_t> ListStudyIds(const TestUser& user, grpc::Status* status) {
    v1::ListStudiesRequest request;
    request.set_review_id(review_);
    v1::ListStudiesResponse response;
    *status = reviews_->ListStudies(Ctx(user.token).get(), request, &response);
    std::vector<int64_t> ids;
    for (const v1::Study& study : response.studies()) ids.push_back(study.study_id());
    return ids;
  }

  TestUser coordinator_, rater_a_, rater_b_, observer_, outsider_;
  int64_t review_ = 0;
  std::vector<int64_t> studies_;
};

// --- Instruments -----------------------------------------------------------

TEST_F(ServerTest, InstrumentsAreServedWhole) {
  v1::ListInstrumentsResponse list;
  grpc::Status status =
      instruments_->ListInstruments(Ctx(admin_token_).get(), v1::ListInstrumentsRequest(), &list);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(list.instruments_size(), static_cast<int>(scoring::AllInstruments().size()));
  EXPECT_EQ(list.instruments(0).id(), "rqs2");

  v1::GetInstrumentRequest get;
  get.set_instrument_id("rqs2");
  v1::GetInstrumentResponse instrument;
  status = instruments_->GetInstrument(Ctx(admin_token_).get(), get, &instrument);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const scoring::Instrument& rqs2 = scoring::Rqs2();
  ASSERT_EQ(instrument.instrument().criteria_size(), static_cast<int>(rqs2.criteria.size()));
  EXPECT_EQ(instrument.instrument().summary().level_count(), rqs2.level_count);
  const v1::Criterion& sixth = instrument.instrument().criteria(5);
  EXPECT_EQ(sixth.number(), rqs2.criteria[5].number);
  EXPECT_EQ(sixth.name(), rqs2.criteria[5].name);
  EXPECT_EQ(sixth.description(), rqs2.criteria[5].description);
  EXPECT_EQ(sixth.applies_to(), v1::APPLICABILITY_HANDCRAFTED_ONLY);
  EXPECT_EQ(sixth.options_size(), static_cast<int>(rqs2.criteria[5].options.size()));
  EXPECT_EQ(sixth.max_points(), rqs2.criteria[5].MaxPoints());

  get.set_instrument_id("nope");
  status = instruments_->GetInstrument(Ctx(admin_token_).get(), get, &instrument);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

// --- Authentication and users ----------------------------------------------

TEST_F(ServerTest, EveryServiceRejectsMissingOrWrongTokens) {
  for (const std::string& token : {std::string(), std::string("wrong-token")}) {
    v1::ListInstrumentsResponse instruments;
    EXPECT_EQ(instruments_->ListInstruments(Ctx(token).get(), {}, &instruments).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    v1::GetCurrentUserResponse me;
    EXPECT_EQ(users_->GetCurrentUser(Ctx(token).get(), {}, &me).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    v1::ListReviewsResponse reviews;
    EXPECT_EQ(reviews_->ListReviews(Ctx(token).get(), {}, &reviews).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
    v1::ListMyAssignmentsResponse mine;
    EXPECT_EQ(assessments_->ListMyAssignments(Ctx(token).get(), {}, &mine).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // A header without the Bearer scheme is refused too.
  grpc::ClientContext context;
  context.AddMetadata("authorization", admin_token_);
  v1::GetCurrentUserResponse me;
  EXPECT_EQ(users_->GetCurrentUser(&context, {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ServerTest, AdminManagesUsersAndTokens) {
  v1::GetCurrentUserResponse me;
  grpc::Status status = users_->GetCurrentUser(Ctx(admin_token_).get(), {}, &me);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(me.user().name(), "admin");
  EXPECT_TRUE(me.user().is_admin());

  TestUser alice = MakeUser("alice");
  status = users_->GetCurrentUser(Ctx(alice.token).get(), {}, &me);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(me.user().user_id(), alice.id);
  EXPECT_FALSE(me.user().is_admin());

  // Only the hash is stored.
  EXPECT_EQ(Exec("SELECT count(*) FROM api_tokens WHERE token_hash = '" +
                 db::Sha256Hex(alice.token) + "'"),
            "1");
  EXPECT_EQ(Exec("SELECT count(*) FROM api_tokens WHERE token_hash = '" + alice.token + "'"),
            "0");

  v1::ListUsersResponse users;
  status = users_->ListUsers(Ctx(admin_token_).get(), {}, &users);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(users.users_size(), 2);

  v1::CreateUserRequest duplicate;
  duplicate.set_name("alice");
  v1::CreateUserResponse created;
  status = users_->CreateUser(Ctx(admin_token_).get(), duplicate, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(status);

  // A second token, listed, then revoked: it stops working at once.
  v1::IssueTokenRequest issue;
  issue.set_user_id(alice.id);
  issue.set_label("laptop");
  v1::IssueTokenResponse second;
  status = users_->IssueToken(Ctx(admin_token_).get(), issue, &second);
  ASSERT_TRUE(status.ok()) << Describe(status);
  v1::ListTokensRequest list_tokens;
  list_tokens.set_user_id(alice.id);
  v1::ListTokensResponse tokens;
  status = users_->ListTokens(Ctx(admin_token_).get(), list_tokens, &tokens);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(tokens.tokens_size(), 2);
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(second.token_id());
  v1::RevokeTokenResponse revoked;
  status = users_->RevokeToken(Ctx(admin_token_).get(), revoke, &revoked);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(users_->GetCurrentUser(Ctx(second.token()).get(), {}, &me).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(users_->GetCurrentUser(Ctx(alice.token).get(), {}, &me).ok());

  // Tokens can expire; the expiry is reported and bounded.
  issue.set_expires_in_days(30);
  v1::IssueTokenResponse expiring;
  status = users_->IssueToken(Ctx(admin_token_).get(), issue, &expiring);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_TRUE(expiring.has_expire_time());
  const int64_t days_left = (expiring.expire_time().seconds() - absl::ToUnixSeconds(absl::Now())) /
                            (24 * 3600);
  EXPECT_GE(days_left, 29);
  EXPECT_LE(days_left, 30);
  EXPECT_TRUE(users_->GetCurrentUser(Ctx(expiring.token()).get(), {}, &me).ok());
  status = users_->ListTokens(Ctx(admin_token_).get(), list_tokens, &tokens);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(tokens.tokens_size(), 3);
  EXPECT_FALSE(tokens.tokens(0).has_expire_time());
  EXPECT_EQ(tokens.tokens(2).expire_time().seconds(), expiring.expire_time().seconds());
  issue.set_expires_in_days(-1);
  status = users_->IssueToken(Ctx(admin_token_).get(), issue, &expiring);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(status);
  issue.set_expires_in_days(0);

  issue.set_user_id(9999);
  status = users_->IssueToken(Ctx(admin_token_).get(), issue, &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

TEST_F(ServerTest, OnlyAdminsManageUsersAndTokens) {
  TestUser alice = MakeUser("alice");
  const std::string before = DatabaseFingerprint();
  v1::CreateUserRequest create;
  create.set_name("mallory");
  create.set_is_admin(true);
  v1::CreateUserResponse created;
  EXPECT_EQ(users_->CreateUser(Ctx(alice.token).get(), create, &created).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListUsersResponse users;
  EXPECT_EQ(users_->ListUsers(Ctx(alice.token).get(), {}, &users).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::IssueTokenRequest issue;
  issue.set_user_id(alice.id);
  v1::IssueTokenResponse issued;
  EXPECT_EQ(users_->IssueToken(Ctx(alice.token).get(), issue, &issued).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListTokensRequest list;
  list.set_user_id(alice.id);
  v1::ListTokensResponse tokens;
  EXPECT_EQ(users_->ListTokens(Ctx(alice.token).get(), list, &tokens).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(1);
  v1::RevokeTokenResponse revoked;
  EXPECT_EQ(users_->RevokeToken(Ctx(alice.token).get(), revoke, &revoked).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(DatabaseFingerprint(), before);
}

TEST_F(ServerTest, BadUserNamesAreRejected) {
  for (const std::string& name : {std::string(), std::string("two words"),
                                  std::string(kMaxUserNameChars + 1, 'a'), std::string("a\xff")}) {
    v1::CreateUserRequest create;
    create.set_name(name);
    v1::CreateUserResponse created;
    grpc::Status status = users_->CreateUser(Ctx(admin_token_).get(), create, &created);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
    EXPECT_THAT(status.error_message(), HasSubstr("name"));
  }
}

TEST_F(ServerTest, ServesTlsWithTheConfiguredCertificate) {
  // testdata/localhost.crt is a self-signed certificate for localhost and
  // 127.0.0.1, made for this test only.
  const std::string dir = RQS_TESTDATA_DIR;
  ServerConfig config;
  config.database_url = conninfo_;
  config.listen = "127.0.0.1:0";
  config.pool_size = 2;
  config.tls_cert_file = dir + "/localhost.crt";
  config.tls_key_file = dir + "/localhost.key";
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<Server>> tls_server = Server::Start(config, log);
  ASSERT_TRUE(tls_server.ok()) << tls_server.status();

  std::ifstream cert_file(config.tls_cert_file);
  std::stringstream cert;
  cert << cert_file.rdbuf();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = cert.str();
  auto secure = v1::UserService::NewStub(
      grpc::CreateChannel((*tls_server)->address(), grpc::SslCredentials(options)));
  v1::GetCurrentUserResponse me;
  grpc::Status status = secure->GetCurrentUser(Ctx(admin_token_).get(), {}, &me);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(me.user().name(), "admin");

  // A plaintext client cannot talk to the TLS port.
  auto plain = v1::UserService::NewStub(
      grpc::CreateChannel((*tls_server)->address(), grpc::InsecureChannelCredentials()));
  auto context = Ctx(admin_token_);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  EXPECT_FALSE(plain->GetCurrentUser(context.get(), {}, &me).ok());
  (*tls_server)->Shutdown(absl::Seconds(1));
}

// --- Reviews ---------------------------------------------------------------

TEST_F(ReviewTest, CoordinatorManagesTheReview) {
  v1::GetReviewRequest get;
  get.set_review_id(review_);
  v1::GetReviewResponse review;
  grpc::Status status = reviews_->GetReview(Ctx(coordinator_.token).get(), get, &review);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(review.review().name(), "Review");
  EXPECT_EQ(review.review().instrument_id(), "rqs2");
  EXPECT_EQ(review.review().caller_role(), v1::ROLE_COORDINATOR);
  EXPECT_EQ(review.review().status(), v1::REVIEW_STATUS_OPEN);

  status = reviews_->GetReview(Ctx(rater_a_.token).get(), get, &review);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(review.review().caller_role(), v1::ROLE_RATER);

  v1::ListReviewsResponse list;
  status = reviews_->ListReviews(Ctx(observer_.token).get(), {}, &list);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(list.reviews_size(), 1);
  EXPECT_EQ(list.reviews(0).caller_role(), v1::ROLE_OBSERVER);
  status = reviews_->ListReviews(Ctx(outsider_.token).get(), {}, &list);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(list.reviews_size(), 0);

  v1::ListMembersRequest members_request;
  members_request.set_review_id(review_);
  v1::ListMembersResponse members;
  status = reviews_->ListMembers(Ctx(coordinator_.token).get(), members_request, &members);
  ASSERT_TRUE(status.ok()) << Describe(status);
  std::map<std::string, v1::Role> roles;
  for (const v1::Member& member : members.members()) roles[member.user_name()] = member.role();
  EXPECT_EQ(roles, (std::map<std::string, v1::Role>{{"coordinator", v1::ROLE_COORDINATOR},
                                                    {"rater.a", v1::ROLE_RATER},
                                                    {"rater.b", v1::ROLE_RATER},
                                                    {"observer", v1::ROLE_OBSERVER}}));

  // AddMember on an existing member changes the role, but never leaves the
  // review without a coordinator.
  AddMember(coordinator_, review_, observer_, v1::ROLE_RATER);
  v1::AddMemberRequest demote;
  demote.set_review_id(review_);
  demote.set_user_id(coordinator_.id);
  demote.set_role(v1::ROLE_OBSERVER);
  v1::AddMemberResponse demoted;
  status = reviews_->AddMember(Ctx(coordinator_.token).get(), demote, &demoted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  v1::RemoveMemberRequest remove;
  remove.set_review_id(review_);
  remove.set_user_id(rater_b_.id);
  v1::RemoveMemberResponse removed;
  // A rater with assignments stays: their ratings are part of the review.
  status = reviews_->RemoveMember(Ctx(coordinator_.token).get(), remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  remove.set_user_id(coordinator_.id);
  status = reviews_->RemoveMember(Ctx(coordinator_.token).get(), remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_THAT(status.error_message(), HasSubstr("only coordinator"));
  remove.set_user_id(outsider_.id);
  status = reviews_->RemoveMember(Ctx(coordinator_.token).get(), remove, &removed);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  status = reviews_->GetReview(Ctx(observer_.token).get(), get, &review);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(review.review().caller_role(), v1::ROLE_RATER);

  v1::ListAssignmentsRequest assignments_request;
  assignments_request.set_review_id(review_);
  v1::ListAssignmentsResponse assignments;
  status = reviews_->ListAssignments(Ctx(coordinator_.token).get(), assignments_request,
                                     &assignments);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(assignments.assignments_size(), 4);
  for (const v1::AssignmentStatus& assignment : assignments.assignments()) {
    EXPECT_EQ(assignment.state(), v1::ASSESSMENT_STATE_NOT_STARTED);
  }

  // A member without assignments can be removed, and then sees nothing.
  remove.set_user_id(observer_.id);
  status = reviews_->RemoveMember(Ctx(coordinator_.token).get(), remove, &removed);
  ASSERT_TRUE(status.ok()) << Describe(status);
  status = reviews_->ListMembers(Ctx(coordinator_.token).get(), members_request, &members);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(members.members_size(), 3);
  status = reviews_->GetReview(Ctx(observer_.token).get(), get, &review);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
}

TEST_F(ReviewTest, StudiesAreListedInPages) {
  AddStudies(coordinator_, review_, {"S4", "S5", "S6", "S7"});
  std::vector<int64_t> seen;
  std::string token;
  int pages = 0;
  do {
    v1::ListStudiesRequest request;
    request.set_review_id(review_);
    request.set_page_size(3);
    request.set_page_token(token);
    v1::ListStudiesResponse response;
    grpc::Status status = reviews_->ListStudies(Ctx(observer_.token).get(), request, &response);
    ASSERT_TRUE(status.ok()) << Describe(status);
    for (const v1::Study& study : response.studies()) seen.push_back(study.study_id());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen.size(), 7u);
  EXPECT_EQ(pages, 3);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
}

TEST_F(ReviewTest, AutomaticAssignmentGivesEachStudyKRaters) {
  TestUser rater_c = MakeUser("rater.c");
  AddMember(coordinator_, review_, rater_c, v1::ROLE_RATER);
  const std::vector<int64_t> more = AddStudies(coordinator_, review_, {"S4", "S5", "S6"});
  v1::AssignRatersRequest request;
  request.set_review_id(review_);
  request.mutable_automatic()->set_raters_per_study(2);
  v1::AssignRatersResponse response;
  grpc::Status status = reviews_->AssignRaters(Ctx(coordinator_.token).get(), request, &response);
  ASSERT_TRUE(status.ok()) << Describe(status);
  // Studies 0 and 1 had one rater, 2 had two, the three new ones none.
  EXPECT_EQ(response.created_size(), 1 + 1 + 0 + 3 * 2);
  v1::ListAssignmentsRequest list;
  list.set_review_id(review_);
  v1::ListAssignmentsResponse assignments;
  status = reviews_->ListAssignments(Ctx(coordinator_.token).get(), list, &assignments);
  ASSERT_TRUE(status.ok()) << Describe(status);
  std::map<int64_t, int> per_study;
  std::map<int64_t, int> per_rater;
  for (const v1::AssignmentStatus& a : assignments.assignments()) {
    ++per_study[a.assignment().study_id()];
    ++per_rater[a.assignment().rater_id()];
  }
  for (const auto& [study, count] : per_study) EXPECT_EQ(count, 2) << "study " << study;
  ASSERT_EQ(per_rater.size(), 3u);
  for (const auto& [rater, count] : per_rater) EXPECT_EQ(count, 4) << "rater " << rater;

  request.mutable_automatic()->set_raters_per_study(4);  // Only three raters.
  status = reviews_->AssignRaters(Ctx(coordinator_.token).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
}

TEST_F(ReviewTest, ExplicitAssignmentIsValidatedBeforeAnythingIsStored) {
  const std::string before = DatabaseFingerprint();
  v1::AssignRatersRequest request;
  request.set_review_id(review_);
  auto* pairs = request.mutable_explicit_assignments();
  v1::Assignment* good = pairs->add_assignments();
  good->set_study_id(studies_[0]);
  good->set_rater_id(rater_b_.id);
  v1::Assignment* observer = pairs->add_assignments();
  observer->set_study_id(studies_[1]);
  observer->set_rater_id(observer_.id);
  v1::AssignRatersResponse response;
  grpc::Status status = reviews_->AssignRaters(Ctx(coordinator_.token).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  observer->set_rater_id(rater_a_.id);
  observer->set_study_id(987654);
  status = reviews_->AssignRaters(Ctx(coordinator_.token).get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(status);
  EXPECT_EQ(DatabaseFingerprint(), before);
}

TEST_F(ReviewTest, RoleRulesAreEnforcedOnEveryCall) {
  const std::string before = DatabaseFingerprint();
  v1::AddStudiesRequest add_studies;
  add_studies.set_review_id(review_);
  add_studies.add_studies()->set_title("x");
  add_studies.mutable_studies(0)->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  v1::AddMemberRequest add_member;
  add_member.set_review_id(review_);
  add_member.set_user_id(outsider_.id);
  add_member.set_role(v1::ROLE_COORDINATOR);
  v1::AssignRatersRequest assign;
  assign.set_review_id(review_);
  assign.mutable_automatic()->set_raters_per_study(1);
  v1::ListMembersRequest list_members;
  list_members.set_review_id(review_);
  v1::ListAssignmentsRequest list_assignments;
  list_assignments.set_review_id(review_);
  v1::GetReviewSummaryRequest summary;
  summary.set_review_id(review_);
  v1::ListMyAssignmentsRequest my_assignments;
  my_assignments.set_review_id(review_);
  v1::RemoveMemberRequest remove;
  remove.set_review_id(review_);
  remove.set_user_id(rater_a_.id);

  // Raters and observers cannot manage the review.
  for (const TestUser* user : {&rater_a_, &observer_}) {
    v1::AddStudiesResponse studies;
    EXPECT_EQ(reviews_->AddStudies(Ctx(user->token).get(), add_studies, &studies).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::AddMemberResponse member;
    EXPECT_EQ(reviews_->AddMember(Ctx(user->token).get(), add_member, &member).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::RemoveMemberResponse removed;
    EXPECT_EQ(reviews_->RemoveMember(Ctx(user->token).get(), remove, &removed).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::AssignRatersResponse assigned;
    EXPECT_EQ(reviews_->AssignRaters(Ctx(user->token).get(), assign, &assigned).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListMembersResponse members;
    EXPECT_EQ(reviews_->ListMembers(Ctx(user->token).get(), list_members, &members).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListAssignmentsResponse assignments;
    EXPECT_EQ(reviews_->ListAssignments(Ctx(user->token).get(), list_assignments, &assignments)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  // Raters never see aggregates (they would reveal other raters' progress).
  v1::GetReviewSummaryResponse aggregate;
  EXPECT_EQ(reviews_->GetReviewSummary(Ctx(rater_a_.token).get(), summary, &aggregate).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(reviews_->GetReviewSummary(Ctx(observer_.token).get(), summary, &aggregate).ok());
  EXPECT_TRUE(
      reviews_->GetReviewSummary(Ctx(coordinator_.token).get(), summary, &aggregate).ok());
  // Only raters assess.
  for (const TestUser* user : {&coordinator_, &observer_}) {
    v1::SaveDraftResponse draft;
    EXPECT_EQ(Draft(*user, studies_[0], {Choose(2, "yes")}, &draft).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::SubmitAssessmentResponse submitted;
    EXPECT_EQ(Submit(*user, studies_[0], {Choose(2, "yes")}, "k", &submitted).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::ListMyAssignmentsResponse mine;
    EXPECT_EQ(
        assessments_->ListMyAssignments(Ctx(user->token).get(), my_assignments, &mine).error_code(),
        grpc::StatusCode::PERMISSION_DENIED);
  }
  // A non-member gets NOT_FOUND everywhere, exactly as for a review that
  // does not exist.
  v1::GetReviewRequest get;
  get.set_review_id(review_);
  v1::GetReviewResponse review;
  const grpc::Status hidden = reviews_->GetReview(Ctx(outsider_.token).get(), get, &review);
  get.set_review_id(review_ + 1000);
  const grpc::Status missing = reviews_->GetReview(Ctx(outsider_.token).get(), get, &review);
  EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(hidden.error_message(),
            absl::StrReplaceAll(missing.error_message(),
                                {{absl::StrCat(review_ + 1000), absl::StrCat(review_)}}));
  v1::AddStudiesResponse studies;
  EXPECT_EQ(reviews_->AddStudies(Ctx(outsider_.token).get(), add_studies, &studies).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::GetReviewSummaryResponse outsider_summary;
  EXPECT_EQ(reviews_->GetReviewSummary(Ctx(outsider_.token).get(), summary, &outsider_summary)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::Status list_status;
  ListStudyIds(outsider_, &list_status);
  EXPECT_EQ(list_status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(DatabaseFingerprint(), before);
}

// --- Assessments -----------------------------------------------------------

TEST_F(ReviewTest, RaterDraftsSubmitsAndReadsBack) {
  v1::SaveDraftResponse draft;
  grpc::Status status = Draft(rater_a_, studies_[0], {Choose(2, "yes")}, &draft);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(draft.assessment().state(), v1::ASSESSMENT_STATE_DRAFT);
  EXPECT_EQ(draft.assessment().report().total(), 1);

  v1::ListMyAssignmentsRequest list;
  list.set_review_id(review_);
  v1::ListMyAssignmentsResponse mine;
  status = assessments_->ListMyAssignments(Ctx(rater_a_.token).get(), list, &mine);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(mine.assignments_size(), 2);
  EXPECT_EQ(mine.draft_count(), 1);
  EXPECT_EQ(mine.not_started_count(), 1);

  v1::Answer with_text = Choose(14, "yes");
  with_text.set_rationale("Multivariable Cox model, Table 3.");
  with_text.mutable_evidence()->set_page("6");
  v1::SubmitAssessmentResponse submitted;
  status = Submit(rater_a_, studies_[0], {Choose(2, "yes"), with_text, Points(20, 2)}, "key-1",
                  &submitted);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_FALSE(submitted.replayed());
  EXPECT_EQ(submitted.assessment().state(), v1::ASSESSMENT_STATE_SUBMITTED);
  EXPECT_EQ(submitted.assessment().report().total(), 1 + 2 + 2);
  EXPECT_EQ(submitted.assessment().idempotency_key(), "key-1");

  v1::GetMyAssessmentResponse read;
  status = GetMine(rater_a_, studies_[0], &read);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(read.assessment().assessment_id(), submitted.assessment().assessment_id());
  EXPECT_EQ(read.assessment().report().total(), 5);
  ASSERT_EQ(read.assessment().answers_size(), 3);
  EXPECT_EQ(read.assessment().answers(1).rationale(), "Multivariable Cox model, Table 3.");
  EXPECT_EQ(read.assessment().answers(1).evidence().page(), "6");
  EXPECT_EQ(read.assessment().answers(2).points(), 2);

  // A submitted assessment is final.
  status = Draft(rater_a_, studies_[0], {Choose(2, "no")}, &draft);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);

  status = assessments_->ListMyAssignments(Ctx(rater_a_.token).get(), list, &mine);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(mine.submitted_count(), 1);
  EXPECT_EQ(mine.not_started_count(), 1);

  // Observers see aggregates only.
  v1::GetReviewSummaryRequest summary_request;
  summary_request.set_review_id(review_);
  v1::GetReviewSummaryResponse summary;
  status = reviews_->GetReviewSummary(Ctx(observer_.token).get(), summary_request, &summary);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(summary.assigned_count(), 4);
  EXPECT_EQ(summary.submitted_count(), 1);
  ASSERT_EQ(summary.studies_size(), 3);
  EXPECT_EQ(summary.studies(0).submitted_count(), 1);
  EXPECT_DOUBLE_EQ(summary.studies(0).mean_total(), 5.0);

  v1::ListAssignmentsRequest assignments_request;
  assignments_request.set_review_id(review_);
  v1::ListAssignmentsResponse assignments;
  status = reviews_->ListAssignments(Ctx(coordinator_.token).get(), assignments_request,
                                     &assignments);
  ASSERT_TRUE(status.ok()) << Describe(status);
  int submitted_states = 0;
  for (const auto& a : assignments.assignments()) {
    submitted_states += a.state() == v1::ASSESSMENT_STATE_SUBMITTED ? 1 : 0;
  }
  EXPECT_EQ(submitted_states, 1);
}

TEST_F(ReviewTest, RetriedSubmissionReturnsTheFirstResultAndStoresNothing) {
  v1::SubmitAssessmentResponse first;
  grpc::Status status = Submit(rater_a_, studies_[0], {Choose(2, "yes")}, "retry-key", &first);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const std::string after_first = DatabaseFingerprint();
  v1::SubmitAssessmentResponse second;
  status = Submit(rater_a_, studies_[0], {Choose(2, "yes")}, "retry-key", &second);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_TRUE(second.replayed());
  EXPECT_EQ(second.assessment().assessment_id(), first.assessment().assessment_id());
  EXPECT_EQ(second.assessment().report().total(), first.assessment().report().total());
  EXPECT_EQ(DatabaseFingerprint(), after_first);

  // A different key for the same, already submitted study is refused.
  status = Submit(rater_a_, studies_[0], {Choose(2, "yes")}, "other-key", &second);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << Describe(status);
  EXPECT_EQ(DatabaseFingerprint(), after_first);
}

TEST_F(ReviewTest, RaterNeverSeesAnotherRatersWork) {
  // A has a draft on study 0 and a submission on the shared study 2.
  v1::SaveDraftResponse draft;
  ASSERT_TRUE(Draft(rater_a_, studies_[0], {Choose(2, "yes")}, &draft).ok());
  v1::SubmitAssessmentResponse submitted;
  ASSERT_TRUE(Submit(rater_a_, studies_[2], {Choose(2, "yes")}, "a-2", &submitted).ok());

  // B lists only their own studies and assignments.
  grpc::Status status;
  EXPECT_THAT(ListStudyIds(rater_b_, &status), UnorderedElementsAre(studies_[1], studies_[2]));
  ASSERT_TRUE(status.ok()) << Describe(status);
  v1::ListMyAssignmentsRequest list;
  list.set_review_id(review_);
  v1::ListMyAssignmentsResponse mine;
  status = assessments_->ListMyAssignments(Ctx(rater_b_.token).get(), list, &mine);
  ASSERT_TRUE(status.ok()) << Describe(status);
  ASSERT_EQ(mine.assignments_size(), 2);
  for (const v1::MyAssignment& assignment : mine.assignments()) {
    // Study 2 is submitted by A, but B has not started it.
    EXPECT_EQ(assignment.state(), v1::ASSESSMENT_STATE_NOT_STARTED);
    EXPECT_EQ(assignment.total(), 0);
  }
  EXPECT_EQ(mine.submitted_count(), 0);

  // B reading the shared study gets "you have not saved", not A's work.
  v1::GetMyAssessmentResponse read;
  status = GetMine(rater_b_, studies_[2], &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  const std::string not_started = status.error_message();
  status = GetMine(rater_b_, studies_[1], &read);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  // Same message shape whether or not someone else submitted.
  EXPECT_EQ(absl::StrReplaceAll(not_started, {{absl::StrCat("study ", studies_[2]), "study S"}}),
            absl::StrReplaceAll(status.error_message(),
                                {{absl::StrCat("study ", studies_[1]), "study S"}}));

  // A study assigned only to A (with A's draft) looks exactly like a study
  // that does not exist, through every call.
  const int64_t missing = studies_.back() + 1000;
  auto same_error = [&](const grpc::Status& hidden, const grpc::Status& absent) {
    EXPECT_EQ(hidden.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(hidden);
    EXPECT_EQ(hidden.error_code(), absent.error_code());
    EXPECT_EQ(absl::StrReplaceAll(hidden.error_message(),
                                  {{absl::StrCat("study ", studies_[0], " "), "study S "}}),
              absl::StrReplaceAll(absent.error_message(),
                                  {{absl::StrCat("study ", missing, " "), "study S "}}));
  };
  same_error(GetMine(rater_b_, studies_[0], &read), GetMine(rater_b_, missing, &read));
  same_error(Draft(rater_b_, studies_[0], {Choose(2, "no")}, &draft),
             Draft(rater_b_, missing, {Choose(2, "no")}, &draft));
  same_error(Submit(rater_b_, studies_[0], {Choose(2, "no")}, "b-0", &submitted),
             Submit(rater_b_, missing, {Choose(2, "no")}, "b-0", &submitted));

  // Nothing B can do changes A's draft.
  v1::GetMyAssessmentResponse a_read;
  ASSERT_TRUE(GetMine(rater_a_, studies_[0], &a_read).ok());
  EXPECT_EQ(a_read.assessment().state(), v1::ASSESSMENT_STATE_DRAFT);
  EXPECT_EQ(a_read.assessment().report().total(), 1);

  // B's own submission on the shared study is independent of A's.
  status = Submit(rater_b_, studies_[2], {Choose(2, "no")}, "b-2", &submitted);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(submitted.assessment().report().total(), 0);
  EXPECT_EQ(submitted.assessment().rater_id(), rater_b_.id);
  // Reusing A's key is fine for B: keys are per rater.
  status = Submit(rater_b_, studies_[1], {Choose(2, "no")}, "a-2", &submitted);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_FALSE(submitted.replayed());
}

TEST_F(ReviewTest, BadAssessmentsLeaveTheDatabaseUnchanged) {
  // A deep-learning study, to which handcrafted-only criterion 6 does not apply.
  const std::vector<int64_t> dlr =
      AddStudies(coordinator_, review_, {"DLR study"}, v1::STUDY_TYPE_DEEP_LEARNING);
  ASSERT_EQ(dlr.size(), 1u);
  Assign(coordinator_, review_, dlr[0], rater_a_);
  const std::string before = DatabaseFingerprint();

  struct Case {
    std::string name;
    int64_t study;
    std::vector<v1::Answer> answers;
    std::string token;
    grpc::StatusCode code;
    std::string message_part;
  };
  v1::Answer long_rationale = Choose(2, "yes");
  long_rationale.set_rationale(std::string(kMaxRationaleChars + 1, 'x'));
  v1::Answer bad_utf8 = Choose(2, "yes");
  bad_utf8.set_rationale("caf\xc3");
  v1::Answer bad_utf8_option = Choose(2, "y\xe9s");
  const std::vector<Case> cases = {
      {"points out of range", studies_[0], {Points(14, 5)}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "criterion 14"},
      {"unknown criterion", studies_[0], {Choose(99, "yes")}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "criterion 99"},
      {"unknown option", studies_[0], {Choose(2, "maybe")}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "criterion 2"},
      {"inapplicable criterion", dlr[0], {Choose(6, "yes")}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "criterion 6"},
      {"duplicate criterion", studies_[0], {Choose(2, "yes"), Choose(2, "no")}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "criterion 2"},
      {"unknown study", studies_.back() + 1000, {Choose(2, "yes")}, rater_a_.token,
       grpc::StatusCode::NOT_FOUND, "study"},
      {"oversized rationale", studies_[0], {long_rationale}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "rationale"},
      {"invalid UTF-8 rationale", studies_[0], {bad_utf8}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "rationale"},
      {"invalid UTF-8 option", studies_[0], {bad_utf8_option}, rater_a_.token,
       grpc::StatusCode::INVALID_ARGUMENT, "option_ids"},
      {"rater not assigned", studies_[1], {Choose(2, "yes")}, rater_a_.token,
       grpc::StatusCode::NOT_FOUND, "study"},
      {"missing token", studies_[0], {Choose(2, "yes")}, "", grpc::StatusCode::UNAUTHENTICATED,
       "authorization"},
  };
  for (const Case& c : cases) {
    for (bool submit : {false, true}) {
      grpc::Status status;
      TestUser caller = rater_a_;
      caller.token = c.token;
      if (submit) {
        v1::SubmitAssessmentResponse response;
        status = Submit(caller, c.study, c.answers, "bad-" + c.name, &response);
      } else {
        v1::SaveDraftResponse response;
        status = Draft(caller, c.study, c.answers, &response);
      }
      EXPECT_EQ(status.error_code(), c.code) << c.name << ": " << Describe(status);
      EXPECT_THAT(status.error_message(), HasSubstr(c.message_part)) << c.name;
      EXPECT_EQ(DatabaseFingerprint(), before) << c.name;
    }
  }

  // Oversized and invalid study texts are refused as well.
  v1::AddStudiesRequest add;
  add.set_review_id(review_);
  v1::StudyInput* study = add.add_studies();
  study->set_study_type(v1::STUDY_TYPE_HANDCRAFTED);
  study->set_title(std::string(kMaxTitleChars + 1, 't'));
  v1::AddStudiesResponse added;
  grpc::Status status = reviews_->AddStudies(Ctx(coordinator_.token).get(), add, &added);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("studies[0].title"));
  study->set_title("ok");
  study->set_notes("bad \xc0\xaf utf8");
  status = reviews_->AddStudies(Ctx(coordinator_.token).get(), add, &added);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("studies[0].notes"));
  study->set_notes("");
  study->set_study_type(v1::STUDY_TYPE_UNSPECIFIED);
  status = reviews_->AddStudies(Ctx(coordinator_.token).get(), add, &added);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("study_type"));
  EXPECT_EQ(DatabaseFingerprint(), before);
}

TEST_F(ReviewTest, AnswersAboveTheTargetLevelAreRejected) {
  v1::CreateReviewRequest create;
  create.set_name("Level 1 only");
  create.set_instrument_id("rqs2");
  create.set_target_level(1);
  v1::CreateReviewResponse created;
  grpc::Status status = reviews_->CreateReview(Ctx(coordinator_.token).get(), create, &created);
  ASSERT_TRUE(status.ok()) << Describe(status);
  const int64_t review = created.review().review_id();
  AddMember(coordinator_, review, rater_a_, v1::ROLE_RATER);
  const std::vector<int64_t> study = AddStudies(coordinator_, review, {"S"});
  Assign(coordinator_, review, study[0], rater_a_);
  v1::SaveDraftRequest draft;
  draft.set_review_id(review);
  draft.set_study_id(study[0]);
  *draft.add_answers() = Choose(14, "yes");
  v1::SaveDraftResponse saved;
  status = assessments_->SaveDraft(Ctx(rater_a_.token).get(), draft, &saved);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("criterion 14"));

  create.set_target_level(10);
  status = reviews_->CreateReview(Ctx(coordinator_.token).get(), create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  create.set_target_level(0);
  create.set_instrument_id("rqs9");
  status = reviews_->CreateReview(Ctx(coordinator_.token).get(), create, &created);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ReviewTest, SqlLookingTextIsStoredVerbatim) {
  const std::string nasty = "Robert'); DROP TABLE studies; -- \\' \" $$ ; SELECT 1";
  const std::vector<int64_t> ids = AddStudies(coordinator_, review_, {nasty});
  ASSERT_EQ(ids.size(), 1u);
  Assign(coordinator_, review_, ids[0], rater_a_);
  v1::Answer answer = Choose(2, "yes");
  answer.set_rationale(nasty);
  answer.mutable_evidence()->set_quote("Ünïcödé ✓ " + nasty);
  v1::SubmitAssessmentResponse submitted;
  grpc::Status status = Submit(rater_a_, ids[0], {answer}, nasty, &submitted);
  ASSERT_TRUE(status.ok()) << Describe(status);

  v1::GetMyAssessmentResponse read;
  ASSERT_TRUE(GetMine(rater_a_, ids[0], &read).ok());
  EXPECT_EQ(read.assessment().answers(0).rationale(), nasty);
  EXPECT_EQ(read.assessment().answers(0).evidence().quote(), "Ünïcödé ✓ " + nasty);
  EXPECT_EQ(read.assessment().idempotency_key(), nasty);
  v1::ListStudiesRequest list;
  list.set_review_id(review_);
  v1::ListStudiesResponse studies;
  ASSERT_TRUE(reviews_->ListStudies(Ctx(rater_a_.token).get(), list, &studies).ok());
  bool found = false;
  for (const v1::Study& study : studies.studies()) found = found || study.title() == nasty;
  EXPECT_TRUE(found);
  EXPECT_EQ(Exec("SELECT count(*) FROM studies"), "4");
}

TEST_F(ReviewTest, RestartKeepsAllData) {
  v1::SubmitAssessmentResponse submitted;
  ASSERT_TRUE(Submit(rater_a_, studies_[0], {Choose(2, "yes")}, "before-restart", &submitted).ok());
  v1::SaveDraftResponse draft;
  ASSERT_TRUE(Draft(rater_b_, studies_[1], {Choose(14, "yes")}, &draft).ok());
  const std::string before = DatabaseFingerprint();

  StopServer();
  StartServer();
  ASSERT_NE(server_, nullptr);

  EXPECT_EQ(DatabaseFingerprint(), before);
  v1::GetMyAssessmentResponse read;
  grpc::Status status = GetMine(rater_a_, studies_[0], &read);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(read.assessment().state(), v1::ASSESSMENT_STATE_SUBMITTED);
  EXPECT_EQ(read.assessment().report().total(), 1);
  status = GetMine(rater_b_, studies_[1], &read);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_EQ(read.assessment().state(), v1::ASSESSMENT_STATE_DRAFT);
  EXPECT_EQ(read.assessment().report().total(), 2);
  // The retry after the restart still replays.
  status = Submit(rater_a_, studies_[0], {Choose(2, "yes")}, "before-restart", &submitted);
  ASSERT_TRUE(status.ok()) << Describe(status);
  EXPECT_TRUE(submitted.replayed());
  // Exactly one admin: the bootstrap did not run twice.
  EXPECT_EQ(Exec("SELECT count(*) FROM users WHERE is_admin"), "1");
}

}  // namespace
}  // namespace rqs::server::testing
