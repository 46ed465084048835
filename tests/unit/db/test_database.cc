#include "tests/unit/db/test_database.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <pqxx/connection>
#include <pqxx/except>
#include <pqxx/nontransaction>
#include <random>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

// LeakSanitizer hook (a no-op without it): libpqxx 6.4 leaks one PGresult
// when it transparently reconnects a connection it found broken, as the pool
// tests provoke on purpose. The leak is inside libpqxx, not ours to fix.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpqxx\n"; }

namespace rqs::db::testing {
namespace {

std::string QuoteValue(absl::string_view value) {
  return absl::StrCat("'", absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"'", "\\'"}}), "'");
}

std::string UniqueDatabaseName() {
  static std::atomic<int> counter{0};
  std::random_device random;
  return absl::StrCat("rqs_test_", getpid(), "_", counter++, "_", random() % 1000000);
}

}  // namespace

absl::StatusOr<std::string> WithDatabase(const std::string& conninfo, const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(absl::StrCat("bad connection string: ", message));
  }
  std::string result;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string_view(option->keyword) == "dbname") continue;
    absl::StrAppend(&result, option->keyword, "=", QuoteValue(option->val), " ");
  }
  PQconninfoFree(options);
  absl::StrAppend(&result, "dbname=", QuoteValue(dbname));
  return result;
}

void PgTest::SetUp() {
  const char* url = std::getenv("RQS_TEST_DATABASE_URL");
  if (url == nullptr || *url == '\0') {
    FAIL() << "RQS_TEST_DATABASE_URL is not set. These tests need a PostgreSQL cluster: run "
              "deploy/test.sh, or `export RQS_TEST_DATABASE_URL=$(deploy/pg.sh start DIR)`.";
  }
  admin_conninfo_ = url;
  database_ = UniqueDatabaseName();
  absl::StatusOr<std::string> conninfo = WithDatabase(admin_conninfo_, database_);
  ASSERT_TRUE(conninfo.ok()) << conninfo.status();
  conninfo_ = *conninfo;
  try {
    pqxx::connection admin(admin_conninfo_);
    pqxx::nontransaction txn(admin);
    txn.exec("CREATE DATABASE " + admin.quote_name(database_));
  } catch (const std::exception& e) {
    FAIL() << "cannot create a test database via RQS_TEST_DATABASE_URL='" << admin_conninfo_
           << "': " << e.what();
  }
}

void PgTest::TearDown() {
  if (database_.empty()) return;
  try {
    pqxx::connection admin(admin_conninfo_);
    pqxx::nontransaction txn(admin);
    txn.exec("DROP DATABASE IF EXISTS " + admin.quote_name(database_) + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "cannot drop test database " << database_ << ": " << e.what();
  }
}

std::unique_ptr<Store> PgTest::OpenStore(int pool_size) {
  StoreOptions options;
  options.conninfo = conninfo_;
  options.pool_size = pool_size;
  options.acquire_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<Store>> store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::string PgTest::Exec(const std::string& sql) {
  try {
    pqxx::connection connection(conninfo_);
    pqxx::nontransaction txn(connection);
    const pqxx::result result = txn.exec(sql);
    if (result.empty() || result.columns() == 0 || result[0][0].is_null()) return "";
    return result[0][0].as<std::string>();
  } catch (const pqxx::sql_error& e) {
    return absl::StrCat("ERROR: ", e.what());
  }
}

}  // namespace rqs::db::testing
