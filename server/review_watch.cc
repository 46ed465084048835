#include "server/review_watch.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rqs/v1/consensus.pb.h"
#include "scoring/status_macros.h"
#include "server/auth.h"
#include "server/convert.h"

namespace rqs::server {

namespace {

// Events read per query; a longer backlog is read in several passes.
constexpr int kEventsPerRead = 1000;
// Events queued on one stream before its client counts as too slow.
constexpr std::size_t kMaxQueuedEvents = 10000;
// How often every watched review is rechecked without a notification.
constexpr absl::Duration kRecheckInterval = absl::Seconds(5);

v1::EventKind ToProto(db::ReviewEventKind kind) {
  switch (kind) {
    case db::ReviewEventKind::kSubmissionReceived:
      return v1::EVENT_KIND_SUBMISSION_RECEIVED;
    case db::ReviewEventKind::kRoundClosed:
      return v1::EVENT_KIND_ROUND_CLOSED;
    case db::ReviewEventKind::kAdjudicationRequired:
      return v1::EVENT_KIND_ADJUDICATION_REQUIRED;
    case db::ReviewEventKind::kStudyFinalised:
      return v1::EVENT_KIND_STUDY_FINALISED;
  }
  return v1::EVENT_KIND_UNSPECIFIED;
}

}  // namespace

// The state of one stream, shared by its reactor (which owns it until the
// call is done) and the hub. Every reactor operation is decided under mu_
// and performed after releasing it, because gRPC may run a reaction inline.
class ReviewWatcher {
 public:
  explicit ReviewWatcher(grpc::ServerWriteReactor<grpc::ByteBuffer>* reactor)
      : reactor_(reactor) {}

  // Set once by the start task, then read and advanced by the hub thread only.
  int64_t review_id = 0;
  int64_t cursor = 0;

  // Queues encoded events and starts writing if idle.
  void Push(std::vector<grpc::ByteBuffer> events) {
    grpc::ServerWriteReactor<grpc::ByteBuffer>* write_to = nullptr;
    const grpc::ByteBuffer* first = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (finish_called_ || reactor_ == nullptr || pending_finish_.has_value()) return;
      if (queue_.size() + events.size() > kMaxQueuedEvents) {
        pending_finish_ = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                       "the watcher fell too far behind; reconnect with the last "
                                       "event id");
        if (writing_) return;
        finish_called_ = true;
        write_to = reactor_;
      } else {
        for (grpc::ByteBuffer& event : events) queue_.push_back(std::move(event));
        if (writing_ || queue_.empty()) return;
        writing_ = true;
        write_to = reactor_;
        first = &queue_.front();
      }
    }
    if (first != nullptr) {
      write_to->StartWrite(first);
    } else {
      write_to->Finish(*pending_finish_);
    }
  }

  // Ends the stream with `status` once the write in flight, if any, is done.
  void End(grpc::Status status) {
    grpc::ServerWriteReactor<grpc::ByteBuffer>* finish = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (finish_called_ || reactor_ == nullptr) return;
      if (!pending_finish_.has_value()) pending_finish_ = status;
      if (writing_) return;
      finish_called_ = true;
      finish = reactor_;
      status = *pending_finish_;
    }
    finish->Finish(status);
  }

  // The reactor's OnWriteDone.
  void WriteDone(bool ok) {
    grpc::ServerWriteReactor<grpc::ByteBuffer>* reactor = nullptr;
    const grpc::ByteBuffer* next = nullptr;
    grpc::Status finish_status;
    {
      absl::MutexLock lock(&mu_);
      if (!queue_.empty()) queue_.pop_front();
      if (!ok && !pending_finish_.has_value()) {
        pending_finish_ = grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke");
      }
      if (pending_finish_.has_value() || queue_.empty()) {
        writing_ = false;
        if (!pending_finish_.has_value() || finish_called_) return;
        finish_called_ = true;
        finish_status = *pending_finish_;
        reactor = reactor_;
      } else {
        next = &queue_.front();
        reactor = reactor_;
      }
    }
    if (next != nullptr) {
      reactor->StartWrite(next);
    } else {
      reactor->Finish(finish_status);
    }
  }

  // The reactor's OnDone: nothing may touch it any more.
  void Detach() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
    queue_.clear();
  }

 private:
  absl::Mutex mu_;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* reactor_ ABSL_GUARDED_BY(mu_);
  std::deque<grpc::ByteBuffer> queue_ ABSL_GUARDED_BY(mu_);  // Front: being written.
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_called_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<grpc::Status> pending_finish_ ABSL_GUARDED_BY(mu_);
};

namespace {

class WatchReactor final : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  WatchReactor(ReviewWatchHub* hub)
      : hub_(hub), watcher_(std::make_shared<ReviewWatcher>(this)) {}

  std::shared_ptr<ReviewWatcher> watcher() const { return watcher_; }

  void OnWriteDone(bool ok) override { watcher_->WriteDone(ok); }
  void OnCancel() override {
    watcher_->End(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the watch"));
  }
  void OnDone() override {
    watcher_->Detach();
    hub_->Remove(watcher_.get());
    delete this;
  }

 private:
  ReviewWatchHub* const hub_;
  const std::shared_ptr<ReviewWatcher> watcher_;
};

// Authenticates and authorises the call and sets the watcher's review and
// cursor. Runs on a worker.
absl::Status StartWatch(db::Store& store, const std::string& authorization,
                        const grpc::ByteBuffer& raw_request, ReviewWatcher& watcher) {
  RQS_ASSIGN_OR_RETURN(Caller caller, Authenticate(store, authorization));
  v1::WatchReviewRequest request;
  RQS_RETURN_IF_ERROR(DecodeRequest(raw_request, &request));
  if (request.after_event_id() < -1) {
    return absl::InvalidArgumentError(
        "after_event_id: must be -1 (new events only), 0 (everything) or an event id");
  }
  RQS_ASSIGN_OR_RETURN(ReviewAccess access,
                       AuthorizeReview(store, caller, request.review_id(),
                                       {db::ReviewRole::kCoordinator}));
  watcher.review_id = access.review.id;
  if (request.after_event_id() == -1) {
    RQS_ASSIGN_OR_RETURN(watcher.cursor, store.LatestReviewEventId(access.review.id));
  } else {
    watcher.cursor = request.after_event_id();
  }
  return absl::OkStatus();
}

}  // namespace

ReviewWatchHub::ReviewWatchHub(db::Store* store) : store_(store), thread_([this] { Run(); }) {}

ReviewWatchHub::~ReviewWatchHub() {
  Shutdown();
  thread_.join();
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* ReviewWatchHub::Watch(
    const ServiceEnv& env, grpc::CallbackServerContext* context,
    const grpc::ByteBuffer* request) {
  auto* reactor = new WatchReactor(this);
  std::shared_ptr<ReviewWatcher> watcher = reactor->watcher();
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
      return reactor;
    }
  }
  db::Store* store = store_;
  const bool queued = env.pool->TrySubmit(
      [this, store, watcher, raw_request = *request,
       authorization = AuthorizationOf(*context)]() {
        absl::Status started = StartWatch(*store, authorization, raw_request, *watcher);
        if (!started.ok()) {
          watcher->End(ToGrpcStatus(started));
          return;
        }
        Add(watcher);
        Notify(watcher->review_id);
      });
  if (!queued) {
    watcher->End(ToGrpcStatus(absl::ResourceExhaustedError("the server is busy; retry with backoff")));
  }
  return reactor;
}

void ReviewWatchHub::Add(std::shared_ptr<ReviewWatcher> watcher) {
  bool refused = false;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = true;
    } else {
      watchers_[watcher.get()] = watcher;
    }
  }
  if (refused) {
    watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

void ReviewWatchHub::Remove(const ReviewWatcher* watcher) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(watcher);
}

void ReviewWatchHub::Notify(int64_t review_id) {
  absl::MutexLock lock(&mu_);
  dirty_.insert(review_id);
}

int ReviewWatchHub::OpenStreams() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(watchers_.size());
}

void ReviewWatchHub::Shutdown() {
  std::vector<std::shared_ptr<ReviewWatcher>> open;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (auto& [key, watcher] : watchers_) open.push_back(watcher);
  }
  for (const auto& watcher : open) {
    watcher->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down"));
  }
}

void ReviewWatchHub::Run() {
  for (;;) {
    std::set<int64_t> dirty;
    std::vector<std::shared_ptr<ReviewWatcher>> watchers;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || !dirty_.empty();
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&ready), kRecheckInterval)) {
        dirty_.insert(0);  // Nothing heard for a while: recheck everything.
      }
      if (stopping_) return;
      dirty.swap(dirty_);
      for (auto& [key, watcher] : watchers_) {
        if (dirty.count(0) > 0 || dirty.count(watcher->review_id) > 0) {
          watchers.push_back(watcher);
        }
      }
    }
    for (const std::shared_ptr<ReviewWatcher>& watcher : watchers) {
      absl::StatusOr<std::vector<db::ReviewEvent>> events =
          store_->ListReviewEvents(watcher->review_id, watcher->cursor, kEventsPerRead);
      // A failed read (database down) is retried at the next recheck.
      if (!events.ok() || events->empty()) continue;
      std::vector<grpc::ByteBuffer> encoded;
      for (const db::ReviewEvent& event : *events) {
        v1::ReviewEvent wire;
        wire.set_event_id(event.id);
        wire.set_review_id(event.review_id);
        wire.set_study_id(event.study_id);
        wire.set_round(event.round);
        wire.set_kind(ToProto(event.kind));
        wire.set_rater_id(event.rater_id);
        ToProto(event.at, wire.mutable_event_time());
        grpc::ByteBuffer buffer;
        if (!EncodeResponse(wire, &buffer).ok()) continue;
        encoded.push_back(std::move(buffer));
      }
      watcher->cursor = events->back().id;
      watcher->Push(std::move(encoded));
      if (static_cast<int>(events->size()) == kEventsPerRead) Notify(watcher->review_id);
    }
  }
}

}  // namespace rqs::server
