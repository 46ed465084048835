// PostgreSQL is restarted (stopped, then started again) while clients submit
// assessments to a live rqs-server and retry each with the same idempotency
// key. While the database is down the server answers UNAVAILABLE (and only
// that); once it is back the server recovers by itself, without a restart;
// and everything it acknowledged is stored exactly once.
//
// The database is a private cluster of its own (deploy/pg.sh in a temporary
// directory, like the pool's restart test in tests/unit/db), so restarting it
// cannot disturb the tests that share RQS_TEST_DATABASE_URL and this test can
// run in parallel with them.
//
// Bounded in time: every call has a deadline and the clients give up after
// two minutes; nothing asserts on how long anything took.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "rqs/v1/user.grpc.pb.h"
#include "tests/integration/fault_support.h"
#include "tests/integration/server_process.h"

namespace rqs::testing {
namespace {

constexpr int kRaters = 4;
constexpr int kStudiesPerRater = 30;

// Runs deploy/pg.sh with `args`; returns its standard output, trimmed, or
// nullopt if it failed.
std::optional<std::string> PgSh(const std::string& args) {
  const std::string command = absl::StrCat(RQS_PG_SH, " ", args);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  std::string output;
  char buffer[256];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  if (pclose(pipe) != 0) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(output));
}

// A private PostgreSQL cluster, stopped and removed at the end whatever
// happened in between.
class PrivateCluster {
 public:
  PrivateCluster() {
    char dir_template[] = "/tmp/rqs-dbrestart.XXXXXX";
    if (mkdtemp(dir_template) != nullptr) dir_ = dir_template;
    if (!dir_.empty()) url_ = PgSh("start " + dir_).value_or("");
  }
  ~PrivateCluster() {
    if (dir_.empty()) return;
    PgSh("stop " + dir_);
    if (std::system(("rm -rf '" + dir_ + "'").c_str()) != 0) {
      std::fprintf(stderr, "cannot remove %s\n", dir_.c_str());
    }
  }
  PrivateCluster(const PrivateCluster&) = delete;
  PrivateCluster& operator=(const PrivateCluster&) = delete;

  // Stops the cluster; returns whether it is down.
  bool Stop() { return PgSh("stop " + dir_).has_value() && QueryValue(url_, "SELECT 1") != "1"; }
  // Starts it again; returns whether it is up.
  bool Start() { return PgSh("start " + dir_) == url_; }

  const std::string& url() const { return url_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string url_;
};

TEST(FaultDbRestartTest, ServerAnswersUnavailableWhileDownAndLosesNothing) {
  PrivateCluster cluster;
  ASSERT_FALSE(cluster.url().empty()) << "deploy/pg.sh start failed";
  const std::string admin_token = "rqs_fault_db_restart_admin_token";
  const std::string token_file = cluster.dir() + "/admin.token";
  std::ofstream(token_file) << admin_token << "\n";

  ServerProcess server(RQS_SERVER_BINARY,
                       {"--listen", "127.0.0.1:0", "--pool-size", "4", "--database-url",
                        cluster.url(), "--admin-token-file", token_file},
                       {{"RQS_DATABASE_URL", ""}, {"RQS_LISTEN", ""}});
  const std::string address = server.WaitForAddress();
  ASSERT_FALSE(address.empty()) << server.Stdout() << server.Stderr();
  std::string error;
  const FaultReview review =
      SetUpFaultReview(FaultChannel(address), admin_token, kRaters, kStudiesPerRater, &error);
  ASSERT_EQ(error, "");
  auto users = v1::UserService::NewStub(FaultChannel(address));

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  {
    SubmissionLoad load(address, review, "dbrestart", give_up);
    while (load.acknowledged() < load.total() / 3 && !load.done() &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }

    ASSERT_TRUE(cluster.Stop());
    // Down: a call that needs the database is UNAVAILABLE, not an internal
    // error and not a hang.
    v1::GetCurrentUserResponse me;
    const grpc::Status down = users->GetCurrentUser(
        CallContext(review.raters[0].token).get(), v1::GetCurrentUserRequest(), &me);
    EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << DescribeStatus(down);
    // Let the clients meet the outage too (they keep retrying), then start.
    const auto outage_end = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (load.FailureCodes()[grpc::StatusCode::UNAVAILABLE] < 2 * kRaters &&
           std::chrono::steady_clock::now() < outage_end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_TRUE(cluster.Start());
    load.Join();

    // Meanwhile the only failure clients saw was UNAVAILABLE.
    EXPECT_EQ(absl::StrJoin(load.Unexpected(), "\n"), "");
    std::string codes;
    for (const auto& [code, count] : load.FailureCodes()) {
      absl::StrAppend(&codes, " code ", code, " x", count);
      EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << "failed attempts:" << codes;
    }
    std::printf("%d submissions; failed attempts:%s\n", load.total(),
                codes.empty() ? " none" : codes.c_str());

    const std::map<std::string, Acknowledgement> acknowledged = load.Acknowledgements();
    EXPECT_EQ(static_cast<int>(acknowledged.size()), load.total());
    EXPECT_EQ(CheckStoredExactlyOnce(cluster.url(), "dbrestart", acknowledged,
                                     static_cast<int>(review.full_answers.size())),
              "");
  }
  // Recovered by itself: the same process serves again.
  v1::GetCurrentUserResponse me;
  const grpc::Status up = users->GetCurrentUser(CallContext(review.raters[0].token).get(),
                                                v1::GetCurrentUserRequest(), &me);
  EXPECT_TRUE(up.ok()) << DescribeStatus(up);
  EXPECT_EQ(me.user().user_id(), review.raters[0].id);
  EXPECT_EQ(server.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace rqs::testing
