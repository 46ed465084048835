// The rqs-server process is killed (SIGKILL) and restarted on the same port,
// three times, while clients submit assessments and retry each with the same
// idempotency key until it is acknowledged. Afterwards every submission has
// been acknowledged, and the database holds each exactly once, with the id
// the client was given, whole (all its answers), and nothing half-written.
//
// Bounded in time: every call has a deadline and the clients give up after
// two minutes; nothing asserts on how long anything took.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/integration/fault_support.h"
#include "tests/integration/server_process.h"
#include "tests/unit/db/test_database.h"

namespace rqs::testing {
namespace {

constexpr int kRaters = 4;
constexpr int kStudiesPerRater = 40;
constexpr int kKills = 3;

class FaultKillTest : public db::testing::PgTest {
 protected:
  // Starts rqs-server on `listen` over this test's database.
  std::unique_ptr<ServerProcess> StartServer(const std::string& listen) {
    return std::make_unique<ServerProcess>(
        RQS_SERVER_BINARY,
        std::vector<std::string>{"--listen", listen, "--pool-size", "4", "--database-url",
                                 conninfo_, "--admin-token-file", token_file_},
        std::map<std::string, std::string>{{"RQS_DATABASE_URL", ""}, {"RQS_LISTEN", ""}});
  }

  void SetUp() override {
    PgTest::SetUp();
    if (HasFatalFailure()) return;
    admin_token_ = absl::StrCat("rqs_fault_kill_admin_", database_);
    token_file_ = absl::StrCat(::testing::TempDir(), "/", database_, ".token");
    std::ofstream(token_file_) << admin_token_ << "\n";
  }

  void TearDown() override {
    std::remove(token_file_.c_str());
    PgTest::TearDown();
  }

  std::string admin_token_;
  std::string token_file_;
};

TEST_F(FaultKillTest, AcknowledgedSubmissionsSurviveKillsExactlyOnce) {
  std::unique_ptr<ServerProcess> server = StartServer("127.0.0.1:0");
  const std::string address = server->WaitForAddress();
  ASSERT_FALSE(address.empty()) << server->Stdout() << server->Stderr();
  // Restarts reuse the port, so the clients' channels simply reconnect.
  const std::string same_port = absl::StrCat("127.0.0.1:", PortOf(address));

  std::string error;
  const FaultReview review =
      SetUpFaultReview(FaultChannel(address), admin_token_, kRaters, kStudiesPerRater, &error);
  ASSERT_EQ(error, "");

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  SubmissionLoad load(address, review, "kill", give_up);
  for (int kill = 1; kill <= kKills; ++kill) {
    // Kill at 1/4, 2/4 and 3/4 of the submissions, while calls are in flight.
    const int target = load.total() * kill / (kKills + 1);
    while (load.acknowledged() < target && !load.done() &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server->Stop(SIGKILL);
    server = StartServer(same_port);
    ASSERT_EQ(server->WaitForAddress(), same_port)
        << "restart " << kill << ": " << server->Stdout() << server->Stderr();
  }
  load.Join();

  EXPECT_EQ(absl::StrJoin(load.Unexpected(), "\n"), "");
  const std::map<std::string, Acknowledgement> acknowledged = load.Acknowledgements();
  EXPECT_EQ(static_cast<int>(acknowledged.size()), load.total());
  EXPECT_EQ(CheckStoredExactlyOnce(conninfo_, "kill", acknowledged,
                                   static_cast<int>(review.full_answers.size())),
            "");
  int replayed = 0;
  for (const auto& [key, ack] : acknowledged) replayed += ack.replayed ? 1 : 0;
  std::string codes;
  for (const auto& [code, count] : load.FailureCodes()) {
    absl::StrAppend(&codes, " code ", code, " x", count);
  }
  std::printf("%d submissions, %d acknowledged as replays, failed attempts:%s\n", load.total(),
              replayed, codes.empty() ? " none" : codes.c_str());
  EXPECT_EQ(server->Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace rqs::testing
