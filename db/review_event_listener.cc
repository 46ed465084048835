// ReviewEventListener: LISTEN rqs_review_events on a dedicated connection,
// served by one thread that reconnects with backoff.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <pqxx/connection>
#include <pqxx/nontransaction>
#include <pqxx/notification>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "db/errors.h"
#include "db/store.h"

namespace rqs::db {
namespace {

// The channel the review_events trigger notifies (0002_consensus.sql).
constexpr char kChannel[] = "rqs_review_events";
// How long one wait for a notification lasts: bounds how long stopping takes.
constexpr long kPollMicros = 100'000;
// Without traffic a dead peer may go unnoticed (no socket event); a trivial
// query this often finds out.
constexpr absl::Duration kPingInterval = absl::Seconds(30);
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(2);

using Callback = std::function<void(int64_t review_id)>;

// Calls the user's callback; nothing it throws may end the listener.
void Deliver(const Callback& on_event, int64_t review_id) {
  try {
    on_event(review_id);
  } catch (...) {
  }
}

class Receiver final : public pqxx::notification_receiver {
 public:
  Receiver(pqxx::connection_base& connection, Callback on_event)
      : pqxx::notification_receiver(connection, kChannel), on_event_(std::move(on_event)) {}

  void operator()(const std::string& payload, int /*backend_pid*/) override {
    int64_t review_id = 0;
    // Only the trigger notifies this channel; ignore anything else on it.
    if (absl::SimpleAtoi(payload, &review_id) && review_id > 0) Deliver(on_event_, review_id);
  }

 private:
  const Callback on_event_;
};

// A connection listening on kChannel. The receiver is declared after the
// connection so that it is destroyed first, as libpqxx requires.
struct Listening {
  std::unique_ptr<pqxx::connection> connection;
  std::unique_ptr<Receiver> receiver;
  int backend_pid = 0;
};

// Connects and LISTENs (the receiver's constructor issues it). Throws what
// libpqxx throws.
std::unique_ptr<Listening> Listen(const std::string& conninfo, const Callback& on_event) {
  auto listening = std::make_unique<Listening>();
  listening->connection = std::make_unique<pqxx::connection>(conninfo);
  listening->receiver = std::make_unique<Receiver>(*listening->connection, on_event);
  listening->backend_pid = listening->connection->backendpid();
  return listening;
}

// Closes the connection before the receiver goes: a receiver leaving an open
// connection sends UNLISTEN, which on a broken one would make libpqxx
// reconnect just for that.
void Close(std::unique_ptr<Listening> listening) {
  if (listening == nullptr) return;
  if (listening->connection != nullptr) listening->connection->disconnect();
  try {
    listening.reset();
  } catch (...) {
  }
}

class PgReviewEventListener final : public ReviewEventListener {
 public:
  PgReviewEventListener(std::string conninfo, Callback on_event,
                        std::unique_ptr<Listening> listening)
      : conninfo_(std::move(conninfo)), on_event_(std::move(on_event)) {
    thread_ = std::thread([this, first = std::move(listening)]() mutable { Run(std::move(first)); });
  }

  ~PgReviewEventListener() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

 private:
  bool Stopping() {
    absl::MutexLock lock(&mu_);
    return stop_;
  }

  // Sleeps for `duration` unless asked to stop first; returns whether to stop.
  bool SleepOrStop(absl::Duration duration) {
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), duration);
    return stop_;
  }

  // Waits for notifications until the connection fails or the listener
  // stops. Returns normally only to stop; throws on a connection failure.
  void Serve(Listening& listening) {
    absl::Time next_ping = absl::Now() + kPingInterval;
    while (!Stopping()) {
      listening.connection->await_notification(0, kPollMicros);
      // libpqxx may report a lost connection only as "not open", and would
      // then silently reconnect on next use, without our LISTEN being known
      // to be in effect: treat both as a failure.
      if (!listening.connection->is_open() ||
          listening.connection->backendpid() != listening.backend_pid) {
        throw pqxx::broken_connection("listener connection lost");
      }
      if (absl::Now() >= next_ping) {
        pqxx::nontransaction(*listening.connection).exec("SELECT 1");
        next_ping = absl::Now() + kPingInterval;
      }
    }
  }

  void Run(std::unique_ptr<Listening> listening) {
    absl::Duration backoff = kFirstBackoff;
    while (true) {
      try {
        if (listening == nullptr) {
          listening = Listen(conninfo_, on_event_);
          backoff = kFirstBackoff;
          // Events may have committed while we were away.
          Deliver(on_event_, 0);
        }
        Serve(*listening);
        Close(std::move(listening));
        return;
      } catch (...) {
        Close(std::move(listening));
      }
      if (SleepOrStop(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  const std::string conninfo_;
  const Callback on_event_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // Last: starts after everything it uses exists.
};

}  // namespace

absl::StatusOr<std::unique_ptr<ReviewEventListener>> ReviewEventListener::Start(
    std::string conninfo, std::function<void(int64_t review_id)> on_event) {
  if (!on_event) return absl::InvalidArgumentError("ReviewEventListener needs a callback");
  std::unique_ptr<Listening> first;
  try {
    first = Listen(conninfo, on_event);
  } catch (...) {
    // Whatever the cause (refused, bad address, authentication), the caller
    // can only retry later.
    const absl::Status status = internal::ClassifyCurrentException("ReviewEventListener").status;
    return absl::UnavailableError(status.message());
  }
  return std::unique_ptr<ReviewEventListener>(
      new PgReviewEventListener(std::move(conninfo), std::move(on_event), std::move(first)));
}

}  // namespace rqs::db
