// A small RFC 4180 CSV record reader.
//
// Fields are separated by commas; a field may be quoted with double quotes, in
// which case it may contain commas, line breaks and doubled quotes (""). Lines
// end in LF or CRLF. A leading UTF-8 byte order mark is skipped. Blank lines
// are skipped.
#ifndef RQS_CLIENT_CSV_H_
#define RQS_CLIENT_CSV_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace rqs::client {

// Reads records one at a time from text held in memory.
class CsvReader {
 public:
  explicit CsvReader(absl::string_view text);

  // Reads the next record into `fields`. Returns true and sets `line` to the
  // 1-based line the record starts on; false at the end of the input or on an
  // error, which status() then reports.
  bool Next(std::vector<std::string>& fields, size_t& line);

  // OK, or INVALID_ARGUMENT "line N: ..." for malformed quoting.
  const absl::Status& status() const { return status_; }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
  absl::Status status_;
};

}  // namespace rqs::client

#endif  // RQS_CLIENT_CSV_H_
