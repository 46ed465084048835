#include "client/input_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace rqs::client {

absl::StatusOr<std::string> ReadInputFile(const std::string& path, std::istream& stdin_stream) {
  std::ostringstream content;
  if (path == "-") {
    content << stdin_stream.rdbuf();
    return content.str();
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    const std::string reason = absl::StrCat("cannot open ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(reason);
    if (error == EACCES) return absl::PermissionDeniedError(reason);
    return absl::InvalidArgumentError(reason);
  }
  content << file.rdbuf();
  if (file.bad()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return content.str();
}

}  // namespace rqs::client
