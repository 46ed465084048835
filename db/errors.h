// Internal to db/: turns libpqxx and standard exceptions into absl::Status.
#ifndef RQS_DB_ERRORS_H_
#define RQS_DB_ERRORS_H_

#include <string>

#include "absl/status/status.h"

namespace rqs::db::internal {

// What an exception means for the caller and for the connection it came from.
struct ClassifiedError {
  absl::Status status;
  // The connection is unusable (lost, terminated, or in an unknown state) and
  // must be dropped from the pool.
  bool connection_broken = false;
  // The transaction certainly did not commit and failed only because its
  // connection broke, so running it again on a fresh connection is safe.
  bool retry_on_new_connection = false;
};

// Classifies the exception being handled. Call only inside a catch block.
// `context` (e.g. "CreateUser") prefixes the status message.
//
//   unique violation                      -> ALREADY_EXISTS
//   foreign-key violation                 -> NOT_FOUND (a referenced row is missing)
//   check / not-null violation, bad data  -> INVALID_ARGUMENT
//   restrict violation, object not in prerequisite state -> FAILED_PRECONDITION
//   serialization failure, deadlock       -> ABORTED
//   insufficient privilege                -> PERMISSION_DENIED
//   lost connection, server shutting down -> UNAVAILABLE
//   anything else                         -> INTERNAL
ClassifiedError ClassifyCurrentException(const std::string& context);

}  // namespace rqs::db::internal

#endif  // RQS_DB_ERRORS_H_
