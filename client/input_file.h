// Reading a command's input file, where "-" means standard input.
#ifndef RQS_CLIENT_INPUT_FILE_H_
#define RQS_CLIENT_INPUT_FILE_H_

#include <istream>
#include <string>

#include "absl/status/statusor.h"

namespace rqs::client {

// Returns the whole content of `path`, or of `stdin_stream` when path is "-".
// Errors: NOT_FOUND / PERMISSION_DENIED / INVALID_ARGUMENT naming the path and
// the system's reason.
absl::StatusOr<std::string> ReadInputFile(const std::string& path, std::istream& stdin_stream);

}  // namespace rqs::client

#endif  // RQS_CLIENT_INPUT_FILE_H_
