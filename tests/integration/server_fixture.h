// Test support for the rqs server: a real server on port 0 over a private
// PostgreSQL database (tests/unit/db/test_database.h), with stubs for every
// service and helpers to make users, tokens and a populated review.
#ifndef RQS_TESTS_INTEGRATION_SERVER_FIXTURE_H_
#define RQS_TESTS_INTEGRATION_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rqs/v1/assessment.grpc.pb.h"
#include "rqs/v1/consensus.grpc.pb.h"
#include "rqs/v1/instrument.grpc.pb.h"
#include "rqs/v1/review.grpc.pb.h"
#include "rqs/v1/user.grpc.pb.h"
#include "server/server.h"
#include "tests/unit/db/test_database.h"

namespace rqs::server::testing {

// A user of the test server and its clear token.
struct TestUser {
  int64_t id = 0;
  std::string name;
  std::string token;
};

// Prints a grpc::Status for assertion messages.
std::string Describe(const grpc::Status& status);

class ServerTest : public db::testing::PgTest {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts (or restarts) the in-process server on the test database.
  void StartServer();
  // Shuts the server down and destroys it; the database stays.
  void StopServer();

  // A client context carrying `token` (none if empty) and a deadline.
  static std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

  // Creates a user (as admin) and issues it a token.
  TestUser MakeUser(const std::string& name);

  // Rows of every table that records work; equal before and after a call
  // means the call stored nothing.
  std::string DatabaseFingerprint();

  // Creates a review (rqs2, HCR studies) coordinated by `coordinator`.
  int64_t MakeReview(const TestUser& coordinator, const std::string& name = "Review");
  void AddMember(const TestUser& coordinator, int64_t review_id, const TestUser& user,
                 v1::Role role);
  // Adds handcrafted studies titled `titles`; returns their ids.
  std::vector<int64_t> AddStudies(const TestUser& coordinator, int64_t review_id,
                                  const std::vector<std::string>& titles,
                                  v1::StudyType type = v1::STUDY_TYPE_HANDCRAFTED);
  void Assign(const TestUser& coordinator, int64_t review_id, int64_t study_id,
              const TestUser& rater);

  std::string admin_token_;  // The bootstrap admin's token, from a token file.
  std::string admin_token_file_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::InstrumentService::Stub> instruments_;
  std::unique_ptr<v1::UserService::Stub> users_;
  std::unique_ptr<v1::ReviewService::Stub> reviews_;
  std::unique_ptr<v1::AssessmentService::Stub> assessments_;
  std::unique_ptr<v1::ConsensusService::Stub> consensus_;
};

}  // namespace rqs::server::testing

#endif  // RQS_TESTS_INTEGRATION_SERVER_FIXTURE_H_
