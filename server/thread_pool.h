// A fixed-size thread pool with a bounded queue, for the server's blocking
// work.
//
// gRPC callback handlers run on gRPC's own threads and must never block, yet
// every RPC needs the database. Handlers therefore hand their work to this
// pool, sized like the database connection pool so that a worker rarely waits
// for a connection. The queue is bounded: when it is full, TrySubmit refuses
// the task and the caller fails the RPC fast instead of piling up memory.
#ifndef RQS_SERVER_THREAD_POOL_H_
#define RQS_SERVER_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace rqs::server {

class ThreadPool {
 public:
  // Starts `threads` workers (at least 1) accepting up to `max_queued` waiting
  // tasks (at least 1).
  ThreadPool(int threads, std::size_t max_queued);
  // Runs every queued task, then joins the workers.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. Returns false, without running it, if the queue is full or
  // the pool is shutting down.
  bool TrySubmit(std::function<void()> task);

 private:
  void Work();
  bool HasWorkOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  const std::size_t max_queued_;
  std::vector<std::thread> workers_;
};

}  // namespace rqs::server

#endif  // RQS_SERVER_THREAD_POOL_H_
