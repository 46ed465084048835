#include "server/memory.h"

#include <malloc.h>

#include <utility>

#include "absl/time/clock.h"

namespace rqs::server {

void ReleaseFreedMemory() { malloc_trim(0); }

IdleMemoryReleaser::IdleMemoryReleaser(absl::Duration idle, std::function<void()> release)
    : idle_(idle), release_(std::move(release)), thread_([this] { Run(); }) {}

IdleMemoryReleaser::~IdleMemoryReleaser() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

void IdleMemoryReleaser::CallEnded() {
  absl::MutexLock lock(&mutex_);
  last_end_ = absl::Now();
  pending_ = true;
}

int64_t IdleMemoryReleaser::releases() const {
  absl::MutexLock lock(&mutex_);
  return releases_;
}

bool IdleMemoryReleaser::PendingOrStopping() const { return pending_ || stopping_; }

void IdleMemoryReleaser::Run() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    mutex_.Await(absl::Condition(this, &IdleMemoryReleaser::PendingOrStopping));
    if (stopping_) return;
    // A call that ends while we wait moves the release on.
    const absl::Time due = last_end_ + idle_;
    if (absl::Now() < due) {
      mutex_.AwaitWithDeadline(absl::Condition(&stopping_), due);
      continue;
    }
    pending_ = false;
    // Not under the lock: a call ending meanwhile must not wait for it.
    mutex_.Unlock();
    release_();
    mutex_.Lock();
    ++releases_;
  }
}

}  // namespace rqs::server
