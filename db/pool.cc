#include "db/pool.h"

#include <memory>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "db/errors.h"

namespace rqs::db::internal {

ConnectionPool::ConnectionPool(std::string conninfo, int size, absl::Duration acquire_timeout)
    : conninfo_(std::move(conninfo)), size_(size), acquire_timeout_(acquire_timeout) {}

ConnectionPool::~ConnectionPool() {
  // Close outside the lock: disconnecting talks to the server.
  std::vector<std::unique_ptr<pqxx::connection>> idle;
  {
    absl::MutexLock lock(&mu_);
    idle.swap(idle_);
  }
}

int ConnectionPool::OpenConnections() const {
  absl::MutexLock lock(&mu_);
  return open_;
}

bool ConnectionPool::CanAcquire() const { return !idle_.empty() || open_ < size_; }

absl::StatusOr<std::unique_ptr<pqxx::connection>> ConnectionPool::Acquire(
    const std::string& context) {
  {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(absl::Condition(this, &ConnectionPool::CanAcquire),
                              acquire_timeout_)) {
      return absl::UnavailableError(absl::StrCat(context, ": all ", size_,
                                                 " database connections stayed busy for ",
                                                 absl::FormatDuration(acquire_timeout_)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return connection;
    }
    ++open_;  // Reserve the slot; connect without holding the lock.
  }
  try {
    return std::make_unique<pqxx::connection>(conninfo_);
  } catch (...) {
    {
      absl::MutexLock lock(&mu_);
      --open_;
    }
    return ClassifyCurrentException(context).status;
  }
}

void ConnectionPool::Release(std::unique_ptr<pqxx::connection> connection, bool broken) {
  std::vector<std::unique_ptr<pqxx::connection>> to_close;
  {
    absl::MutexLock lock(&mu_);
    if (broken || !connection->is_open()) {
      to_close.push_back(std::move(connection));
      for (auto& idle : idle_) to_close.push_back(std::move(idle));
      idle_.clear();
      open_ -= static_cast<int>(to_close.size());
    } else {
      idle_.push_back(std::move(connection));
    }
  }
  // `to_close` is destroyed here, outside the lock.
}

}  // namespace rqs::db::internal
