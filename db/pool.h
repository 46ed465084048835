// Internal to db/: a fixed-size pool of libpqxx connections.
//
// Connections open lazily, on first need, and are dropped as soon as one is
// seen broken; the next call opens a fresh one. So after a database restart
// calls fail with UNAVAILABLE while it is down and work again once it is up,
// without restarting the server.
#ifndef RQS_DB_POOL_H_
#define RQS_DB_POOL_H_

#include <memory>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "db/errors.h"

namespace rqs::db::internal {

class ConnectionPool {
 public:
  // `size` >= 1 connections at most; Acquire waits up to `acquire_timeout`.
  ConnectionPool(std::string conninfo, int size, absl::Duration acquire_timeout);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Runs `fn(pqxx::connection&)`, which returns absl::Status or
  // absl::StatusOr<T>, on a pooled connection. Any exception from `fn` becomes
  // a status (see errors.h), prefixed with `context`. If the connection turns
  // out to be broken before anything committed (e.g. the backend was
  // terminated while idle in the pool), `fn` runs once more on a new
  // connection, so a database restart costs callers nothing once it is over.
  template <typename Fn>
  auto Run(const std::string& context, Fn&& fn) -> std::invoke_result_t<Fn&, pqxx::connection&> {
    using Result = std::invoke_result_t<Fn&, pqxx::connection&>;
    for (int attempt = 0;; ++attempt) {
      absl::StatusOr<std::unique_ptr<pqxx::connection>> connection = Acquire(context);
      if (!connection.ok()) return Result(connection.status());
      ClassifiedError error;
      bool failed = false;
      Result result = [&]() -> Result {
        try {
          return fn(**connection);
        } catch (...) {
          failed = true;
          error = ClassifyCurrentException(context);
          return Result(error.status);
        }
      }();
      Release(std::move(*connection), failed && error.connection_broken);
      if (failed && error.retry_on_new_connection && attempt == 0) continue;
      return result;
    }
  }

  // Returns the number of open connections (idle or in use). For tests.
  int OpenConnections() const;

 private:
  // Returns an idle connection, or opens one if fewer than size_ are open.
  // UNAVAILABLE if none frees up within acquire_timeout_ or connecting fails.
  absl::StatusOr<std::unique_ptr<pqxx::connection>> Acquire(const std::string& context);
  // Returns a connection to the pool. A broken one is closed, and so is every
  // idle one: they most likely share its fate (database restarted).
  void Release(std::unique_ptr<pqxx::connection> connection, bool broken);

  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string conninfo_;
  const int size_;
  const absl::Duration acquire_timeout_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // Idle plus in use (plus being opened).
};

}  // namespace rqs::db::internal

#endif  // RQS_DB_POOL_H_
