// Live review events for ConsensusService.WatchReview.
//
// Events are rows the store writes in the transaction of the change they
// describe (db::ReviewEvent), and PostgreSQL notifies every listening server
// when such a transaction commits. So a stream sees events made through any
// replica: the hub reacts to notifications (db::ReviewEventListener), reads
// the new rows after each stream's cursor and queues them on the stream.
// Reading after a cursor, rather than forwarding notification payloads,
// means a lost notification only delays events (the hub also rechecks every
// review with a watcher every few seconds) and never drops or reorders one.
//
// The hub reads on its own thread, so a burst of events never takes workers
// from unary calls; writes to a stream happen one at a time, as gRPC's
// callback API requires. A stream whose client falls too far behind is ended
// with RESOURCE_EXHAUSTED rather than buffering without bound.
#ifndef RQS_SERVER_REVIEW_WATCH_H_
#define RQS_SERVER_REVIEW_WATCH_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <memory>
#include <set>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "db/store.h"
#include "server/rpc.h"

namespace rqs::server {

class ReviewWatchHub;

// One WatchReview stream's state, shared by its reactor and the hub.
class ReviewWatcher;

// Fans review events out to the open WatchReview streams.
class ReviewWatchHub {
 public:
  explicit ReviewWatchHub(db::Store* store);
  // Ends every stream and stops the thread.
  ~ReviewWatchHub();
  ReviewWatchHub(const ReviewWatchHub&) = delete;
  ReviewWatchHub& operator=(const ReviewWatchHub&) = delete;

  // Starts the stream of one WatchReview call; returns its reactor.
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Watch(const ServiceEnv& env,
                                                    grpc::CallbackServerContext* context,
                                                    const grpc::ByteBuffer* request);

  // Events of `review_id` committed (0: any review may have new events).
  // Never blocks; safe from any thread.
  void Notify(int64_t review_id);

  // Ends every open stream with UNAVAILABLE (the server is shutting down)
  // and refuses new ones. Idempotent.
  void Shutdown();

  // Streams open now; for tests.
  int OpenStreams();

  // For ReviewWatcher.
  void Add(std::shared_ptr<ReviewWatcher> watcher);
  void Remove(const ReviewWatcher* watcher);

 private:
  void Run();

  db::Store* const store_;
  absl::Mutex mu_;
  std::map<const ReviewWatcher*, std::shared_ptr<ReviewWatcher>> watchers_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> dirty_ ABSL_GUARDED_BY(mu_);  // Reviews to read; 0 = all.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace rqs::server

#endif  // RQS_SERVER_REVIEW_WATCH_H_
