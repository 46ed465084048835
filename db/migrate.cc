#include "db/migrate.h"

#include <cstdint>
#include <map>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "db/errors.h"

namespace rqs::db {
namespace {

// Key of the session-level advisory lock that serializes migrations across
// every server of one database ("rqsmigr" in ASCII).
constexpr int64_t kMigrationLockKey = 0x7271736d696772;

absl::Status CheckNumbering(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(absl::StrCat("migration '", std::string(migrations[i].name),
                                                     "' has version ", migrations[i].version,
                                                     ", expected ", i + 1));
    }
  }
  return absl::OkStatus();
}

// Returns the recorded versions and names; empty if never migrated.
std::map<int, std::string> ReadApplied(pqxx::connection& connection) {
  pqxx::nontransaction txn(connection);
  const pqxx::result exists =
      txn.exec_params("SELECT to_regclass('schema_migrations') IS NOT NULL");
  std::map<int, std::string> applied;
  if (!exists[0][0].as<bool>()) return applied;
  for (const pqxx::row& row : txn.exec("SELECT version, name FROM schema_migrations")) {
    applied[row[0].as<int>()] = row[1].as<std::string>();
  }
  return applied;
}

absl::StatusOr<int> MigrateLocked(pqxx::connection& connection,
                                  const std::vector<Migration>& migrations) {
  {
    pqxx::work txn(connection);
    txn.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "  version    integer PRIMARY KEY,"
        "  name       text NOT NULL,"
        "  applied_at timestamptz NOT NULL DEFAULT now())");
    txn.commit();
  }
  const std::map<int, std::string> applied = ReadApplied(connection);
  const int known = static_cast<int>(migrations.size());
  int current = 0;
  for (const auto& [version, name] : applied) {
    if (version > known) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database schema is at version ", applied.rbegin()->first,
                       " but this server only knows versions up to ", known,
                       "; run a newer rqs server against this database"));
    }
    const Migration& migration = migrations[static_cast<size_t>(version - 1)];
    if (name != migration.name) {
      return absl::FailedPreconditionError(
          absl::StrCat("the database recorded migration ", version, " as '", name,
                       "' but this server knows it as '", std::string(migration.name), "'"));
    }
    current = version > current ? version : current;
  }
  for (const Migration& migration : migrations) {
    if (applied.count(migration.version) != 0) continue;
    pqxx::work txn(connection);
    txn.exec(std::string(migration.sql));
    txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version, std::string(migration.name));
    txn.commit();
    current = migration.version;
  }
  return current;
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(EmbeddedMigrations().size()); }

absl::StatusOr<int> ApplyMigrations(const std::string& conninfo,
                                    const std::vector<Migration>& migrations) {
  if (absl::Status status = CheckNumbering(migrations); !status.ok()) return status;
  try {
    // A dedicated connection: the advisory lock belongs to the session and is
    // released when it closes, even if this process dies midway.
    pqxx::connection connection(conninfo);
    {
      pqxx::nontransaction txn(connection);
      txn.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    }
    absl::StatusOr<int> result = MigrateLocked(connection, migrations);
    pqxx::nontransaction txn(connection);
    txn.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    return result;
  } catch (...) {
    return internal::ClassifyCurrentException("ApplyMigrations").status;
  }
}

absl::StatusOr<int> ReadSchemaVersion(const std::string& conninfo) {
  try {
    pqxx::connection connection(conninfo);
    const std::map<int, std::string> applied = ReadApplied(connection);
    return applied.empty() ? 0 : applied.rbegin()->first;
  } catch (...) {
    return internal::ClassifyCurrentException("ReadSchemaVersion").status;
  }
}

}  // namespace rqs::db
