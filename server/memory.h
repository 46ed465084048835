// Handing the heap memory that large calls freed back to the system (glibc).
//
// glibc keeps what a thread's arena frees for that arena's later
// allocations, so an arena holds the high-water mark of the largest call it
// served. A review-wide read (every study's state, tens of megabytes) runs
// on the review-wide worker (Workers::kReviewWide); releasing what it freed
// brings the server's resident memory back down after such reads.
#ifndef RQS_SERVER_MEMORY_H_
#define RQS_SERVER_MEMORY_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace rqs::server {

// Returns the free heap memory of every arena to the system. Takes about
// 10 ms after a 2,000-study read, so run it off the call's critical path and
// only after calls that allocate a lot.
void ReleaseFreedMemory();

// Releases freed memory once the large calls pause: `idle` after the last
// one ended, if no other ended meanwhile. Releasing after every call made
// the next one fault the same pages back in: page faults and madvise were a
// quarter of the CPU of back-to-back 2,000-study reads, and GetSummary took
// 266-275 ms (median of 8) against 175-210 ms without the release.
class IdleMemoryReleaser {
 public:
  // Starts the thread that waits for the pauses; `release` frees the memory.
  explicit IdleMemoryReleaser(absl::Duration idle,
                              std::function<void()> release = ReleaseFreedMemory);
  // Stops the thread; a release still waiting for its pause does not happen.
  ~IdleMemoryReleaser();
  IdleMemoryReleaser(const IdleMemoryReleaser&) = delete;
  IdleMemoryReleaser& operator=(const IdleMemoryReleaser&) = delete;

  // A large call ended: release `idle` from now unless another ends first.
  void CallEnded();

  // How many releases ran.
  int64_t releases() const;

 private:
  void Run();
  bool PendingOrStopping() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const absl::Duration idle_;
  const std::function<void()> release_;
  mutable absl::Mutex mutex_;
  absl::Time last_end_ ABSL_GUARDED_BY(mutex_);
  bool pending_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  int64_t releases_ ABSL_GUARDED_BY(mutex_) = 0;
  std::thread thread_;
};

}  // namespace rqs::server

#endif  // RQS_SERVER_MEMORY_H_
