#include "db/errors.h"

#include <exception>
#include <new>
#include <pqxx/except>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rqs::db::internal {
namespace {

// PostgreSQL's messages end with a newline and may carry DETAIL/HINT lines;
// the first line is the part worth returning.
std::string FirstLine(std::string_view message) {
  const size_t end = message.find('\n');
  return std::string(message.substr(0, end));
}

absl::Status FromSqlState(const std::string& context, const std::string& sqlstate,
                          const std::string& message, bool& broken) {
  const std::string text = absl::StrCat(context, ": ", FirstLine(message));
  if (sqlstate == "23505") return absl::AlreadyExistsError(text);
  if (sqlstate == "23503") return absl::NotFoundError(text);
  if (sqlstate == "23514" || sqlstate == "23502" || sqlstate == "21000") {
    return absl::InvalidArgumentError(text);
  }
  if (sqlstate == "23001" || sqlstate == "55000") return absl::FailedPreconditionError(text);
  if (sqlstate == "40001" || sqlstate == "40P01") return absl::AbortedError(text);
  if (sqlstate == "42501") return absl::PermissionDeniedError(text);
  // Class 08: connection exception. 57P01..57P03: the server is shutting down,
  // crashed or starting up. 53300: too many connections.
  if (absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P") ||
      sqlstate == "53300") {
    broken = true;
    return absl::UnavailableError(text);
  }
  // Class 22: data exception (bad value, overflow, invalid text).
  if (absl::StartsWith(sqlstate, "22")) return absl::InvalidArgumentError(text);
  return absl::InternalError(absl::StrCat(text, " (SQLSTATE ", sqlstate, ")"));
}

}  // namespace

ClassifiedError ClassifyCurrentException(const std::string& context) {
  ClassifiedError result;
  try {
    throw;
  } catch (const pqxx::in_doubt_error& e) {
    // The connection broke while COMMIT was in flight: it may or may not have
    // committed, so a retry must be the caller's (idempotent) decision.
    result.connection_broken = true;
    result.status = absl::UnavailableError(absl::StrCat(
        context, ": connection lost during commit; outcome unknown: ", FirstLine(e.what())));
  } catch (const pqxx::statement_completion_unknown& e) {
    result.connection_broken = true;
    result.status = absl::UnavailableError(
        absl::StrCat(context, ": statement outcome unknown: ", FirstLine(e.what())));
  } catch (const pqxx::broken_connection& e) {
    result.connection_broken = true;
    result.retry_on_new_connection = true;
    result.status = absl::UnavailableError(
        absl::StrCat(context, ": database unavailable: ", FirstLine(e.what())));
  } catch (const pqxx::transaction_rollback& e) {
    // serialization_failure, deadlock_detected and their parent.
    result.status = absl::AbortedError(
        absl::StrCat(context, ": concurrent update, retry: ", FirstLine(e.what())));
  } catch (const pqxx::sql_error& e) {
    bool broken = false;
    result.status = FromSqlState(context, e.sqlstate(), e.what(), broken);
    result.connection_broken = broken;
    // A terminated backend reports 57P01 on its next statement; nothing of
    // this transaction can have committed.
    result.retry_on_new_connection = broken;
  } catch (const std::bad_alloc&) {
    result.status = absl::ResourceExhaustedError(absl::StrCat(context, ": out of memory"));
  } catch (const std::exception& e) {
    result.status = absl::InternalError(absl::StrCat(context, ": ", FirstLine(e.what())));
  } catch (...) {
    result.status = absl::InternalError(absl::StrCat(context, ": unknown exception"));
  }
  return result;
}

}  // namespace rqs::db::internal
