// ReleaseFreedMemory hands memory that glibc kept after frees back to the
// system.
#include "server/memory.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

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

}  // namespace
}  // namespace rqs::server
