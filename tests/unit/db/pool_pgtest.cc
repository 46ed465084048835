// The connection pool: bounded, thread-safe, and it survives the database
// going away, whether its backends are killed or the server restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "db/pool.h"
#include "db/store.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using internal::ConnectionPool;

class PoolTest : public testing::PgTest {
 protected:
  // Counts this database's backends other than the one counting.
  std::string Backends() {
    return Exec(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
  }

  // Kills every other client backend of this test's database, as an operator
  // or a failover would, and waits until they are gone. One session does it
  // all: a session of its own per poll would itself linger while exiting.
  void KillBackends() {
    pqxx::connection killer(conninfo_);
    pqxx::nontransaction txn(killer);
    const std::string others =
        "FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_type = 'client backend' AND pid <> pg_backend_pid()";
    txn.exec("SELECT pg_terminate_backend(pid) " + others);
    int remaining = -1;
    for (int i = 0; i < 200 && remaining != 0; ++i) {
      if (i > 0) absl::SleepFor(absl::Milliseconds(10));
      // pg_stat_activity is a snapshot per transaction; each exec is its own.
      remaining = txn.exec("SELECT count(*) " + others)[0][0].as<int>();
    }
    ASSERT_EQ(remaining, 0);
  }
};

TEST_F(PoolTest, OpensLazilyAndNeverMoreThanItsSize) {
  ConnectionPool pool(conninfo_, 2, absl::Seconds(10));
  EXPECT_EQ(pool.OpenConnections(), 0);
  std::vector<std::future<absl::Status>> runs;
  for (int i = 0; i < 8; ++i) {
    runs.push_back(std::async(std::launch::async, [&pool] {
      return pool.Run("Sleep", [](pqxx::connection& c) -> absl::Status {
        pqxx::nontransaction txn(c);
        txn.exec("SELECT pg_sleep(0.05)");
        return absl::OkStatus();
      });
    }));
  }
  for (auto& run : runs) EXPECT_TRUE(run.get().ok());
  EXPECT_EQ(pool.OpenConnections(), 2);
}

TEST_F(PoolTest, TimesOutWhenExhausted) {
  ConnectionPool pool(conninfo_, 1, absl::Milliseconds(100));
  absl::Notification holding;
  absl::Notification release;
  std::thread holder([&] {
    absl::Status status = pool.Run("Hold", [&](pqxx::connection&) -> absl::Status {
      holding.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
  });
  holding.WaitForNotification();
  absl::Status waited = pool.Run("Wait", [](pqxx::connection&) { return absl::OkStatus(); });
  EXPECT_EQ(waited.code(), absl::StatusCode::kUnavailable) << waited;
  release.Notify();
  holder.join();
  EXPECT_TRUE(pool.Run("Again", [](pqxx::connection&) { return absl::OkStatus(); }).ok());
}

TEST_F(PoolTest, ExceptionsBecomeStatuses) {
  ConnectionPool pool(conninfo_, 1, absl::Seconds(10));
  absl::Status syntax = pool.Run("Syntax", [](pqxx::connection& c) -> absl::Status {
    pqxx::nontransaction txn(c);
    txn.exec("SELEC 1");
    return absl::OkStatus();
  });
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal) << syntax;
  EXPECT_THAT(std::string(syntax.message()), ::testing::HasSubstr("Syntax"));
  absl::Status thrown = pool.Run(
      "Throw", [](pqxx::connection&) -> absl::Status { throw std::runtime_error("boom"); });
  EXPECT_EQ(thrown.code(), absl::StatusCode::kInternal);
  // The connection is still usable afterwards.
  EXPECT_TRUE(pool.Run("Ok", [](pqxx::connection&) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(pool.OpenConnections(), 1);
}

TEST_F(PoolTest, StoreRecoversWhenBackendsAreKilled) {
  std::unique_ptr<Store> store = OpenStore(3);
  ASSERT_NE(store, nullptr);
  // Open all three connections.
  std::vector<std::future<absl::Status>> runs;
  for (int i = 0; i < 6; ++i) {
    runs.push_back(std::async(std::launch::async, [&store, i] {
      NewUser user;
      user.name = "user" + std::to_string(i);
      return store->CreateUser(user, 0).status();
    }));
  }
  for (auto& run : runs) ASSERT_TRUE(run.get().ok());
  ASSERT_NE(Backends(), "0");

  KillBackends();
  // Every pooled connection is dead; the next calls still succeed, on fresh
  // connections, without an error reaching the caller.
  absl::StatusOr<std::vector<User>> users = store->ListUsers();
  ASSERT_TRUE(users.ok()) << users.status();
  EXPECT_EQ(users->size(), 6u);
  NewUser user;
  user.name = "after";
  EXPECT_TRUE(store->CreateUser(user, 0).ok());

  KillBackends();
  user.name = "after2";
  EXPECT_TRUE(store->CreateUser(user, 0).ok());
}

// Runs deploy/pg.sh with `args`; returns its standard output, trimmed.
std::string PgSh(const std::string& args) {
  const std::string command = absl::StrCat(RQS_PG_SH, " ", args);
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  std::string output;
  char buffer[256];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  EXPECT_EQ(pclose(pipe), 0) << command;
  return std::string(absl::StripAsciiWhitespace(output));
}

// A real server restart, on a private cluster so that the tests sharing
// RQS_TEST_DATABASE_URL are not disturbed. Needs only the PostgreSQL binaries.
TEST(PoolRestartTest, StoreWorksAgainAfterTheServerRestarts) {
  char dir_template[] = "/tmp/rqs-restart.XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string url = PgSh("start " + dir);
  ASSERT_FALSE(url.empty());

  StoreOptions options;
  options.conninfo = url;
  options.pool_size = 2;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  NewUser user;
  user.name = "before";
  EXPECT_TRUE((*store)->CreateUser(user, 0).ok());

  PgSh("stop " + dir);
  absl::StatusOr<std::vector<User>> down = (*store)->ListUsers();
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable) << down.status();
  user.name = "while_down";
  EXPECT_EQ((*store)->CreateUser(user, 0).status().code(), absl::StatusCode::kUnavailable);

  PgSh("start " + dir);
  absl::StatusOr<std::vector<User>> up = (*store)->ListUsers();
  ASSERT_TRUE(up.ok()) << up.status();
  ASSERT_EQ(up->size(), 1u);  // Data survived; nothing half-written while down.
  EXPECT_EQ((*up)[0].name, "before");
  user.name = "after";
  EXPECT_TRUE((*store)->CreateUser(user, 0).ok());

  store->reset();
  PgSh("stop " + dir);
  EXPECT_EQ(std::system(("rm -rf '" + dir + "'").c_str()), 0);
}

}  // namespace
}  // namespace rqs::db
