#include "client/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rqs::client {
namespace {

absl::Status Failure(absl::string_view what, const std::string& path, int error) {
  return absl::ErrnoToStatus(error,
                             absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(error)));
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return absl::InvalidArgumentError(absl::StrCat(path, " is a directory"));
  std::string temp =
      absl::StrCat(dir, slash == std::string::npos ? "/" : "", ".", base, ".tmp.XXXXXX");
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0) return Failure("write", path, errno);
  temp.assign(name.data());

  // mkstemp creates 0600; give the file the mode a plain open() would.
  mode_t mode = 0;
  struct stat existing;
  if (stat(path.c_str(), &existing) == 0) {
    mode = existing.st_mode & 07777;
  } else {
    const mode_t mask = umask(0);
    umask(mask);
    mode = 0666 & ~mask;
  }
  int error = 0;
  const char* step = "write";
  if (fchmod(fd, mode) != 0) {
    error = errno;
  }
  size_t written = 0;
  while (error == 0 && written < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
    } else {
      written += static_cast<size_t>(n);
    }
  }
  if (error == 0 && fsync(fd) != 0) error = errno;
  if (close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && rename(temp.c_str(), path.c_str()) != 0) {
    error = errno;
    step = "replace";
  }
  if (error != 0) {
    unlink(temp.c_str());
    return Failure(step, path, error);
  }
  return absl::OkStatus();
}

}  // namespace rqs::client
