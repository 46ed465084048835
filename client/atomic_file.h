// Writing an output file so that readers see the old content or the whole new
// content, never a half-written file.
#ifndef RQS_CLIENT_ATOMIC_FILE_H_
#define RQS_CLIENT_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rqs::client {

// Writes `bytes` exactly to `path`: to a fresh temporary file in the same
// directory, flushed to disk, then renamed over `path`. A file already at
// `path` keeps its permissions; a new one gets 0666 less the umask. On
// failure `path` is untouched and the temporary file removed.
// Errors: the errno of the failing step as a status (NOT_FOUND for a
// missing directory, PERMISSION_DENIED, ...), with a message naming `path`.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);

}  // namespace rqs::client

#endif  // RQS_CLIENT_ATOMIC_FILE_H_
