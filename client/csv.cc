#include "client/csv.h"

#include "absl/strings/str_cat.h"

namespace rqs::client {

CsvReader::CsvReader(absl::string_view text) : text_(text) {
  if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
}

bool CsvReader::Next(std::vector<std::string>& fields, size_t& line) {
  fields.clear();
  while (status_.ok() && pos_ < text_.size()) {
    // Skip blank lines.
    if (text_[pos_] == '\n') {
      ++pos_;
      ++line_;
      continue;
    }
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      continue;
    }
    line = line_;
    std::string field;
    bool quoted = false;
    bool after_quote = false;  // A quoted field ended; only a separator may follow.
    while (true) {
      if (pos_ >= text_.size()) {
        if (quoted) {
          status_ = absl::InvalidArgumentError(
              absl::StrCat("line ", line, ": quoted field not closed before the end of input"));
          return false;
        }
        fields.push_back(std::move(field));
        return true;
      }
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field.push_back('"');
            ++pos_;
          } else {
            quoted = false;
            after_quote = true;
          }
        } else {
          if (c == '\n') ++line_;
          field.push_back(c);
        }
        continue;
      }
      if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
        after_quote = false;
      } else if (c == '\n' || (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n')) {
        if (c == '\r') ++pos_;
        ++line_;
        fields.push_back(std::move(field));
        return true;
      } else if (after_quote) {
        status_ = absl::InvalidArgumentError(
            absl::StrCat("line ", line_, ": unexpected character after a closing quote"));
        return false;
      } else if (c == '"' && field.empty()) {
        quoted = true;
      } else {
        field.push_back(c);
      }
    }
  }
  return false;
}

}  // namespace rqs::client
