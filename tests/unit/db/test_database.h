// Test support for rqs::db: a private PostgreSQL database per test.
//
// PgTest creates a uniquely named database in the cluster named by
// RQS_TEST_DATABASE_URL before each test and drops it after, so tests can run
// in parallel. Without the variable every test FAILS (never skips): a green run
// must mean the storage layer was exercised.
#ifndef RQS_TESTS_UNIT_DB_TEST_DATABASE_H_
#define RQS_TESTS_UNIT_DB_TEST_DATABASE_H_

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "db/store.h"

namespace rqs::db::testing {

// Returns `conninfo` (keyword/value string or URL) with its database replaced
// by `dbname`, as a keyword/value string. INVALID_ARGUMENT if it does not parse.
absl::StatusOr<std::string> WithDatabase(const std::string& conninfo, const std::string& dbname);

class PgTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Opens a Store on this test's database (migrating it).
  std::unique_ptr<Store> OpenStore(int pool_size = 4);
  // Runs `sql` on a new connection to this test's database; returns the first
  // column of the first row ("" if none), or the error message prefixed with
  // "ERROR: " if PostgreSQL refused it.
  std::string Exec(const std::string& sql);

  std::string admin_conninfo_;  // RQS_TEST_DATABASE_URL.
  std::string database_;        // This test's database name.
  std::string conninfo_;        // Connection string for it.
};

}  // namespace rqs::db::testing

#endif  // RQS_TESTS_UNIT_DB_TEST_DATABASE_H_
