#include "client/watch_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "client/consensus_args.h"
#include "client/consensus_commands.h"
#include "client/session.h"
#include "rqs/v1/consensus.grpc.pb.h"

namespace rqs::client {

namespace v1 = ::rqs::v1;

std::string DescribeEvent(const v1::ReviewEvent& event, absl::TimeZone zone) {
  const absl::Time time = event.has_event_time()
                              ? absl::FromUnixSeconds(event.event_time().seconds()) +
                                    absl::Nanoseconds(event.event_time().nanos())
                              : absl::Now();
  std::string what;
  switch (event.kind()) {
    case v1::EVENT_KIND_SUBMISSION_RECEIVED:
      what = absl::StrCat("submission received (rater ", event.rater_id(), ")");
      break;
    case v1::EVENT_KIND_ROUND_CLOSED:
      what = absl::StrCat("round ", event.round(), " closed");
      break;
    case v1::EVENT_KIND_ADJUDICATION_REQUIRED:
      what = "adjudication required";
      break;
    case v1::EVENT_KIND_STUDY_FINALISED:
      what = "finalised";
      break;
    default:
      what = absl::StrCat("event ", static_cast<int>(event.kind()));
      break;
  }
  return absl::StrCat(absl::FormatTime("%H:%M:%S", time, zone), " study ", event.study_id(),
                      " round ", event.round(), ": ", what);
}

void WatchTally::Add(const v1::ReviewEvent& event) {
  v1::StudyState& state = studies_[event.study_id()];
  switch (event.kind()) {
    case v1::EVENT_KIND_SUBMISSION_RECEIVED:
      ++submissions_;
      state = v1::STUDY_STATE_IN_ROUND;
      break;
    case v1::EVENT_KIND_ROUND_CLOSED:
      // The study either opens the next round or ends; an end comes as its
      // own event right after.
      ++rounds_closed_;
      state = v1::STUDY_STATE_IN_ROUND;
      break;
    case v1::EVENT_KIND_ADJUDICATION_REQUIRED:
      state = v1::STUDY_STATE_AWAITING_ADJUDICATION;
      break;
    case v1::EVENT_KIND_STUDY_FINALISED:
      state = v1::STUDY_STATE_FINALISED;
      break;
    default:
      break;
  }
}

std::string WatchTally::Line() const {
  int in_round = 0, awaiting = 0, finalised = 0;
  for (const auto& [study, state] : studies_) {
    if (state == v1::STUDY_STATE_IN_ROUND) ++in_round;
    if (state == v1::STUDY_STATE_AWAITING_ADJUDICATION) ++awaiting;
    if (state == v1::STUDY_STATE_FINALISED) ++finalised;
  }
  return absl::StrCat(studies_.size(), " studies seen: ", in_round, " in round, ", awaiting,
                      " awaiting adjudication, ", finalised, " finalised; ", submissions_,
                      " submissions, ", rounds_closed_, " rounds closed");
}

namespace {

// Turns SIGINT and SIGTERM into a clean stop: cancels the stream being read
// and wakes a reconnect back-off. The signals are blocked in every thread
// (gRPC's threads inherit the mask, so they must be blocked before the
// channel exists) and taken with sigtimedwait by one thread, because nothing
// gRPC offers may be called from a signal handler.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGINT);
    sigaddset(&signals_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
    thread_ = std::thread([this] { Wait(); });
  }
  ~StopSignals() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool stopped() const { return stopped_; }

  // The context of the stream now being read (nullptr between streams).
  void SetContext(grpc::ClientContext* context) {
    std::lock_guard<std::mutex> lock(mutex_);
    context_ = context;
    if (context_ != nullptr && stopped_) context_->TryCancel();
  }

  // Sleeps for `delay` or until a stop signal. Returns false if stopped.
  bool Sleep(std::chrono::milliseconds delay) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, delay, [this] { return stopped_.load(); });
    return !stopped_;
  }

 private:
  void Wait() {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done_) {
      if (sigtimedwait(&signals_, nullptr, &tick) > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
        if (context_ != nullptr) context_->TryCancel();
        wake_.notify_all();
        return;
      }
    }
  }

  sigset_t signals_;
  sigset_t previous_;
  std::atomic<bool> done_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  std::thread thread_;
};

}  // namespace

int RunWatchCommand(const std::vector<std::string>& args, const GlobalOptions& options,
                    CommandIo& io) {
  Session session(options, io, "watch");
  absl::StatusOr<v1::WatchReviewRequest> request = ParseWatchArgs(args);
  if (!request.ok()) return session.BadInput(request.status().message());
  StopSignals stop;
  ChannelSettings settings;
  settings.keepalive = true;
  if (!session.Connect(settings)) return session.exit_code();
  auto stub = session.Stub<v1::ConsensusService>();

  // The running tally is for people: only on a terminal and without --json.
  const bool live = !session.json() && &io.out == &std::cout && isatty(STDOUT_FILENO) == 1;
  constexpr char kClearLine[] = "\r\033[K";
  const absl::TimeZone zone = absl::LocalTimeZone();
  WatchTally tally;
  bool tally_shown = false;

  constexpr std::chrono::milliseconds kFirstDelay(500), kMaxDelay(30000);
  std::chrono::milliseconds delay = kFirstDelay;
  int64_t last_event = request->after_event_id();
  for (;;) {
    // Resume after the last event seen, so nothing is shown twice or lost.
    v1::WatchReviewRequest resume = *request;
    resume.set_after_event_id(last_event);
    std::unique_ptr<grpc::ClientContext> context = session.NewStreamContext();
    stop.SetContext(context.get());
    std::unique_ptr<grpc::ClientReader<v1::ReviewEvent>> reader =
        stub->WatchReview(context.get(), resume);
    v1::ReviewEvent event;
    while (reader->Read(&event)) {
      delay = kFirstDelay;
      last_event = std::max(last_event, event.event_id());
      if (session.json()) {
        session.PrintJson(event, /*one_line=*/true);
      } else {
        if (tally_shown) session.out() << kClearLine;
        session.out() << DescribeEvent(event, zone) << "\n";
        if (live) {
          tally.Add(event);
          session.out() << tally.Line();
          tally_shown = true;
        }
      }
      session.out().flush();
    }
    const grpc::Status status = reader->Finish();
    stop.SetContext(nullptr);
    if (stop.stopped()) break;
    if (status.ok()) {
      if (tally_shown) session.out() << "\n";
      session.err() << "rqs watch: the server ended the stream\n";
      return kExitOk;
    }
    // A server that shuts down cancels its streams (CANCELLED); one that is
    // gone or restarting is UNAVAILABLE. Either way it may come back.
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::CANCELLED) {
      if (tally_shown) session.out() << "\n";
      session.Fail(DescribeRpcError(status, options));
      return session.exit_code();
    }
    // The server restarted or the network failed: try again, backing off.
    session.err() << "rqs watch: " << DescribeRpcError(status, options) << "; reconnecting in "
                  << static_cast<double>(delay.count()) / 1000 << " s"
                  << (last_event > 0 ? absl::StrCat(" (after event ", last_event, ")") : "")
                  << "\n";
    session.err().flush();
    if (!stop.Sleep(delay)) break;
    delay = std::min(delay * 2, kMaxDelay);
  }
  if (tally_shown) session.out() << "\n";
  session.out().flush();
  return kExitOk;
}

}  // namespace rqs::client
