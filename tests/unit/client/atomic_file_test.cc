#include "client/atomic_file.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rqs::client {
namespace {

using ::testing::HasSubstr;

std::string MakeTempDir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/rqs-atomic-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return "";
  return dir;
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int CountEntries(const std::string& dir) {
  int count = 0;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return -1;
  while (const dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") ++count;
  }
  closedir(handle);
  return count;
}

TEST(AtomicFileTest, WritesTheBytesExactly) {
  const std::string dir = MakeTempDir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/export.csv";
  const std::string bytes = std::string("a,b\r\n\"x\",1\n", 11) + std::string(1, '\0') + "\xff";
  ASSERT_TRUE(WriteFileAtomically(path, bytes).ok());
  EXPECT_EQ(Read(path), bytes);
  // Replacing keeps no temporary file behind.
  ASSERT_TRUE(WriteFileAtomically(path, "new").ok());
  EXPECT_EQ(Read(path), "new");
  EXPECT_EQ(CountEntries(dir), 1);
}

TEST(AtomicFileTest, KeepsTheModeOfAnExistingFile) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/report.html";
  ASSERT_TRUE(WriteFileAtomically(path, "1").ok());
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(WriteFileAtomically(path, "2").ok());
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0640u);
}

TEST(AtomicFileTest, FailureLeavesNothing) {
  const std::string dir = MakeTempDir();
  const absl::Status missing = WriteFileAtomically(dir + "/no/such/dir/x.csv", "x");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("/no/such/dir/x.csv"));
  // A directory in the way: the rename fails and the temporary file goes.
  ASSERT_EQ(mkdir((dir + "/taken").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir + "/taken/inner").c_str(), 0755), 0);
  EXPECT_FALSE(WriteFileAtomically(dir + "/taken", "x").ok());
  EXPECT_EQ(CountEntries(dir), 1);
  EXPECT_EQ(WriteFileAtomically(dir + "/", "x").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace rqs::client
