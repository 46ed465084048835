// Migrations: applied once, safely from concurrent servers, and a newer schema
// is refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "db/migrate.h"
#include "db/store.h"
#include "tests/unit/db/test_database.h"

namespace rqs::db {
namespace {

using ::testing::HasSubstr;

class MigrateTest : public testing::PgTest {};

TEST(EmbeddedMigrationsTest, AreNumberedFromOneWithoutGaps) {
  const std::vector<Migration>& migrations = EmbeddedMigrations();
  ASSERT_FALSE(migrations.empty());
  for (size_t i = 0; i < migrations.size(); ++i) {
    EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    EXPECT_FALSE(migrations[i].name.empty());
    EXPECT_FALSE(migrations[i].sql.empty());
  }
  EXPECT_EQ(migrations[0].name, "initial");
  EXPECT_EQ(LatestSchemaVersion(), static_cast<int>(migrations.size()));
}

TEST_F(MigrateTest, AppliesEachMigrationOnce) {
  absl::StatusOr<int> before = ReadSchemaVersion(conninfo_);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, 0);

  absl::StatusOr<int> first = ApplyMigrations(conninfo_, EmbeddedMigrations());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, LatestSchemaVersion());
  absl::StatusOr<int> second = ApplyMigrations(conninfo_, EmbeddedMigrations());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, LatestSchemaVersion());

  EXPECT_EQ(Exec("SELECT count(*) FROM schema_migrations"), std::to_string(LatestSchemaVersion()));
  EXPECT_EQ(Exec("SELECT name FROM schema_migrations WHERE version = 1"), "initial");
  absl::StatusOr<int> after = ReadSchemaVersion(conninfo_);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(*after, LatestSchemaVersion());
}

TEST_F(MigrateTest, ConcurrentServersApplyOnce) {
  // Several replicas starting at once, each on its own connection.
  std::vector<std::future<absl::StatusOr<int>>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(std::async(std::launch::async,
                              [this] { return ApplyMigrations(conninfo_, EmbeddedMigrations()); }));
  }
  for (auto& run : runs) {
    absl::StatusOr<int> version = run.get();
    ASSERT_TRUE(version.ok()) << version.status();
    EXPECT_EQ(*version, LatestSchemaVersion());
  }
  EXPECT_EQ(Exec("SELECT count(*) FROM schema_migrations"), std::to_string(LatestSchemaVersion()));
  EXPECT_EQ(Exec("SELECT count(*) FROM users"), "0");
}

TEST_F(MigrateTest, WaitsForTheAdvisoryLock) {
  // Another server holds the migration lock: migrating must wait for it.
  pqxx::connection holder(conninfo_);
  pqxx::nontransaction txn(holder);
  txn.exec("SELECT pg_advisory_lock(x'7271736d696772'::bigint)");
  auto run = std::async(std::launch::async,
                        [this] { return ApplyMigrations(conninfo_, EmbeddedMigrations()); });
  EXPECT_EQ(run.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  EXPECT_EQ(Exec("SELECT to_regclass('users') IS NULL"), "t");
  txn.exec("SELECT pg_advisory_unlock(x'7271736d696772'::bigint)");
  absl::StatusOr<int> version = run.get();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, LatestSchemaVersion());
}

TEST_F(MigrateTest, RefusesANewerSchema) {
  ASSERT_TRUE(ApplyMigrations(conninfo_, EmbeddedMigrations()).ok());
  const int future = LatestSchemaVersion() + 1;
  ASSERT_EQ(Exec(absl::StrCat("INSERT INTO schema_migrations (version, name) VALUES (", future,
                              ", 'from_the_future') RETURNING version")),
            std::to_string(future));

  absl::StatusOr<int> migrated = ApplyMigrations(conninfo_, EmbeddedMigrations());
  EXPECT_EQ(migrated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(migrated.status().message(), HasSubstr("newer rqs server"));

  StoreOptions options;
  options.conninfo = conninfo_;
  for (const bool migrate : {true, false}) {
    options.migrate = migrate;
    absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << store.status();
    EXPECT_THAT(store.status().message(), HasSubstr("version " + std::to_string(future)));
  }
}

TEST_F(MigrateTest, RefusesARenamedMigration) {
  ASSERT_TRUE(ApplyMigrations(conninfo_, EmbeddedMigrations()).ok());
  Exec("UPDATE schema_migrations SET name = 'something_else' WHERE version = 1");
  absl::StatusOr<int> migrated = ApplyMigrations(conninfo_, EmbeddedMigrations());
  EXPECT_EQ(migrated.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(migrated.status().message(), HasSubstr("something_else"));
}

TEST_F(MigrateTest, AFailingMigrationRollsBackAndKeepsEarlierOnes) {
  std::vector<Migration> migrations = EmbeddedMigrations();
  const int broken_version = static_cast<int>(migrations.size()) + 1;
  migrations.push_back({broken_version, "broken",
                        "CREATE TABLE half_done (id integer); SELECT * FROM no_such_table;"});
  absl::StatusOr<int> migrated = ApplyMigrations(conninfo_, migrations);
  EXPECT_FALSE(migrated.ok());
  EXPECT_EQ(Exec("SELECT max(version) FROM schema_migrations"), std::to_string(broken_version - 1));
  EXPECT_EQ(Exec("SELECT to_regclass('half_done') IS NULL"), "t");
}

TEST_F(MigrateTest, RejectsMisnumberedMigrations) {
  const std::vector<Migration> migrations = {{2, "two", "SELECT 1"}};
  EXPECT_EQ(ApplyMigrations(conninfo_, migrations).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MigrateTest, OpenWithoutMigrateRefusesAnOldSchema) {
  StoreOptions options;
  options.conninfo = conninfo_;
  options.migrate = false;
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  options.migrate = true;
  store = Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  absl::StatusOr<int> version = (*store)->SchemaVersion();
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(*version, LatestSchemaVersion());
}

TEST(MigrateUnreachableTest, ReportsUnavailable) {
  absl::StatusOr<int> version =
      ApplyMigrations("host=/nonexistent/socket/dir dbname=rqs", EmbeddedMigrations());
  EXPECT_EQ(version.status().code(), absl::StatusCode::kUnavailable) << version.status();
}

}  // namespace
}  // namespace rqs::db
