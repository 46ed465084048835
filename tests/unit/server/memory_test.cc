// ReleaseFreedMemory hands memory that glibc kept after frees back to the
// system; IdleMemoryReleaser does so once the large calls pause.
#include "server/memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace rqs::server {
namespace {

// The process's resident memory in bytes (/proc/self/statm).
std::size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0;
  std::size_t resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

TEST(ReleaseFreedMemoryTest, ReturnsWhatFreesLeftInTheHeap) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers replace glibc's allocator";
#endif
  // 64 MB in blocks small enough for the heap, each followed by a small
  // block that stays: glibc cannot shrink the heap from its top and keeps
  // the freed blocks, as after a large read.
  constexpr std::size_t kBlock = 16 * 1024;
  constexpr std::size_t kBlocks = 4096;
  std::vector<std::unique_ptr<char[]>> freed;
  std::vector<std::unique_ptr<char[]>> kept;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    freed.emplace_back(new char[kBlock]);
    std::memset(freed.back().get(), 1, kBlock);
    kept.emplace_back(new char[16]);
  }
  freed.clear();
  const std::size_t before = ResidentBytes();
  ReleaseFreedMemory();
  const std::size_t after = ResidentBytes();
  EXPECT_GT(before, after + kBlock * kBlocks / 2) << "before " << before << ", after " << after;
}

// Waits (up to a minute, far beyond any pause the tests ask for) until
// `releaser` has released `count` times; returns whether it did.
bool WaitForReleases(const IdleMemoryReleaser& releaser, int64_t count) {
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  while (releaser.releases() < count) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

TEST(IdleMemoryReleaserTest, ReleasesOnceTheCallsPause) {
  std::atomic<int> released{0};
  IdleMemoryReleaser releaser(absl::Milliseconds(20), [&] { ++released; });
  EXPECT_EQ(releaser.releases(), 0);  // Nothing before a call ended.
  releaser.CallEnded();
  ASSERT_TRUE(WaitForReleases(releaser, 1));
  EXPECT_EQ(released.load(), 1);
  // Another pause after another call: another release.
  releaser.CallEnded();
  ASSERT_TRUE(WaitForReleases(releaser, 2));
  EXPECT_EQ(released.load(), 2);
}

TEST(IdleMemoryReleaserTest, NoReleaseBeforeThePauseEvenWhenStopping) {
  std::atomic<int> released{0};
  {
    // A pause no test lasts: the release is still waiting when the
    // releaser stops, and it is dropped.
    IdleMemoryReleaser releaser(absl::Hours(1), [&] { ++released; });
    for (int i = 0; i < 100; ++i) releaser.CallEnded();
    EXPECT_EQ(releaser.releases(), 0);
  }
  EXPECT_EQ(released.load(), 0);
}

TEST(IdleMemoryReleaserTest, CallsEndingFromManyThreadsAreAllServed) {
  std::atomic<int> released{0};
  IdleMemoryReleaser releaser(absl::ZeroDuration(), [&] { ++released; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) releaser.CallEnded();
    });
  }
  for (std::thread& thread : threads) thread.join();
  // However the ends interleaved with the releases, they are followed by a
  // release, and there are never more releases than ends.
  ASSERT_TRUE(WaitForReleases(releaser, 1));
  EXPECT_GE(released.load(), 1);
  EXPECT_LE(released.load(), 4000);
}

}  // namespace
}  // namespace rqs::server
