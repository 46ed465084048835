#include "tests/integration/server_fixture.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace rqs::server::testing {

std::string Describe(const grpc::Status& status) {
  return absl::StrCat("code ", status.error_code(), ": ", status.error_message());
}

void ServerTest::SetUp() {
  PgTest::SetUp();
  if (HasFatalFailure()) return;
  admin_token_ = absl::StrCat("rqs_test_admin_token_", getpid(), "_", database_);
  admin_token_file_ = absl::StrCat(::testing::TempDir(), "/", database_, ".admin-token");
  std::ofstream(admin_token_file_) << admin_token_ << "\n";
  StartServer();
}

void ServerTest::TearDown() {
  StopServer();
  if (!admin_token_file_.empty()) std::remove(admin_token_file_.c_str());
  PgTest::TearDown();
}

void ServerTest::StartServer() {
  ServerConfig config;
  config.database_url = conninfo_;
  config.listen = "127.0.0.1:0";
  config.admin_token_file = admin_token_file_;
  config.pool_size = 4;
  std::ostringstream log;
  absl::StatusOr<std::unique_ptr<Server>> server = Server::Start(config, log);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  ASSERT_GT(server_->port(), 0);
  channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  instruments_ = v1::InstrumentService::NewStub(channel_);
  users_ = v1::UserService::NewStub(channel_);
  reviews_ = v1::ReviewService::NewStub(channel_);
  assessments_ = v1::AssessmentService::NewStub(channel_);
  consensus_ = v1::ConsensusService::NewStub(channel_);
}

void ServerTest::StopServer() {
  instruments_.reset();
  users_.reset();
  reviews_.reset();
  assessments_.reset();
  consensus_.reset();
  channel_.reset();
  if (server_ != nullptr) server_->Shutdown();
  server_.reset();
}

std::unique_ptr<grpc::ClientContext> ServerTest::Ctx(const std::string& token) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return context;
}

TestUser ServerTest::MakeUser(const std::string& name) {
  TestUser user;
  user.name = name;
  v1::CreateUserRequest create;
  create.set_name(name);
  v1::CreateUserResponse created;
  grpc::Status status = users_->CreateUser(Ctx(admin_token_).get(), create, &created);
  EXPECT_TRUE(status.ok()) << Describe(status);
  user.id = created.user().user_id();
  v1::IssueTokenRequest issue;
  issue.set_user_id(user.id);
  issue.set_label("test");
  v1::IssueTokenResponse issued;
  status = users_->IssueToken(Ctx(admin_token_).get(), issue, &issued);
  EXPECT_TRUE(status.ok()) << Describe(status);
  user.token = issued.token();
  return user;
}

std::string ServerTest::DatabaseFingerprint() {
  return Exec(
      "SELECT concat_ws('/', (SELECT count(*) FROM audit_log), (SELECT count(*) FROM users), "
      "(SELECT count(*) FROM api_tokens), (SELECT count(*) FROM reviews), "
      "(SELECT count(*) FROM review_members), (SELECT count(*) FROM studies), "
      "(SELECT count(*) FROM assignments), (SELECT count(*) FROM assessments), "
      "(SELECT count(*) FROM assessment_answers))");
}

int64_t ServerTest::MakeReview(const TestUser& coordinator, const std::string& name) {
  v1::CreateReviewRequest request;
  request.set_name(name);
  request.set_instrument_id("rqs2");
  v1::CreateReviewResponse response;
  grpc::Status status = reviews_->CreateReview(Ctx(coordinator.token).get(), request, &response);
  EXPECT_TRUE(status.ok()) << Describe(status);
  return response.review().review_id();
}

void ServerTest::AddMember(const TestUser& coordinator, int64_t review_id, const TestUser& user,
                           v1::Role role) {
  v1::AddMemberRequest request;
  request.set_review_id(review_id);
  request.set_user_id(user.id);
  request.set_role(role);
  v1::AddMemberResponse response;
  grpc::Status status = reviews_->AddMember(Ctx(coordinator.token).get(), request, &response);
  EXPECT_TRUE(status.ok()) << Describe(status);
}

std::vector<int64_t> ServerTest::AddStudies(const TestUser& coordinator, int64_t review_id,
                                            const std::vector<std::string>& titles,
                                            v1::StudyType type) {
  v1::AddStudiesRequest request;
  request.set_review_id(review_id);
  for (const std::string& title : titles) {
    v1::StudyInput* study = request.add_studies();
    study->set_title(title);
    study->set_study_type(type);
  }
  v1::AddStudiesResponse response;
  grpc::Status status = reviews_->AddStudies(Ctx(coordinator.token).get(), request, &response);
  EXPECT_TRUE(status.ok()) << Describe(status);
  std::vector<int64_t> ids;
  for (const v1::Study& study : response.studies()) ids.push_back(study.study_id());
  return ids;
}

void ServerTest::Assign(const TestUser& coordinator, int64_t review_id, int64_t study_id,
                        const TestUser& rater) {
  v1::AssignRatersRequest request;
  request.set_review_id(review_id);
  v1::Assignment* pair = request.mutable_explicit_assignments()->add_assignments();
  pair->set_study_id(study_id);
  pair->set_rater_id(rater.id);
  v1::AssignRatersResponse response;
  grpc::Status status = reviews_->AssignRaters(Ctx(coordinator.token).get(), request, &response);
  EXPECT_TRUE(status.ok()) << Describe(status);
}

}  // namespace rqs::server::testing
