// Versioned schema migrations.
//
// Migrations are the files db/migrations/NNNN_name.sql, compiled into the
// binary (see EmbedMigrations.cmake). ApplyMigrations runs the pending ones,
// each in its own transaction together with its row in `schema_migrations`,
// while holding a PostgreSQL advisory lock, so that several replicas starting
// at once apply each migration exactly once. A database whose schema is newer
// than the binary is refused rather than used: an old server could otherwise
// write rows a newer schema no longer accepts.
//
// Store::Open calls these; they are public for tests and tools.
#ifndef RQS_DB_MIGRATE_H_
#define RQS_DB_MIGRATE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rqs::db {

// One migration. `sql` runs as one multi-statement script.
struct Migration {
  int version = 0;        // 1, 2, 3, ... without gaps.
  std::string_view name;  // From the file name, e.g. "initial".
  std::string_view sql;
};

// Returns the migrations compiled into this binary, ordered by version.
const std::vector<Migration>& EmbeddedMigrations();

// Returns the version of the newest embedded migration.
int LatestSchemaVersion();

// Applies every migration of `migrations` (versions 1..N in order) not yet
// recorded in the database at `conninfo`. Returns the schema version after.
// Errors: FAILED_PRECONDITION if the database records a version above N or a
// different name for a version; INVALID_ARGUMENT if `migrations` is not
// numbered 1..N; UNAVAILABLE if the database cannot be reached; any error of
// a migration's SQL (the failing migration is rolled back, earlier ones stay).
absl::StatusOr<int> ApplyMigrations(const std::string& conninfo,
                                    const std::vector<Migration>& migrations);

// Returns the highest version recorded in the database at `conninfo` (0 for a
// database never migrated) without changing anything. UNAVAILABLE if the
// database cannot be reached.
absl::StatusOr<int> ReadSchemaVersion(const std::string& conninfo);

}  // namespace rqs::db

#endif  // RQS_DB_MIGRATE_H_
