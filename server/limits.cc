#include "server/limits.h"

#include <cstdint>

#include "absl/strings/str_cat.h"

namespace rqs::server {
namespace {

// Counts the code points of `value`, or returns -1 if it is not valid UTF-8
// (overlong forms, surrogates and values above U+10FFFF are invalid, as in
// RFC 3629) or contains NUL, so that no stored text can break a client's
// decoder or the database.
std::int64_t CountUtf8CodePoints(absl::string_view value, bool allow_nul = false) {
  std::int64_t count = 0;
  std::size_t i = 0;
  const std::size_t n = value.size();
  while (i < n) {
    const auto byte = static_cast<unsigned char>(value[i]);
    std::size_t length = 0;
    std::uint32_t code_point = 0;
    if (byte == 0 && !allow_nul) {
      return -1;  // PostgreSQL text cannot hold NUL; reject it like bad UTF-8.
    } else if (byte < 0x80) {
      length = 1;
      code_point = byte;
    } else if ((byte & 0xE0) == 0xC0) {
      length = 2;
      code_point = byte & 0x1Fu;
    } else if ((byte & 0xF0) == 0xE0) {
      length = 3;
      code_point = byte & 0x0Fu;
    } else if ((byte & 0xF8) == 0xF0) {
      length = 4;
      code_point = byte & 0x07u;
    } else {
      return -1;
    }
    if (i + length > n) return -1;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(value[i + k]);
      if ((next & 0xC0) != 0x80) return -1;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    const bool overlong = (length == 2 && code_point < 0x80) ||
                          (length == 3 && code_point < 0x800) ||
                          (length == 4 && code_point < 0x10000);
    if (overlong || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return -1;
    }
    i += length;
    ++count;
  }
  return count;
}

}  // namespace

bool IsValidUtf8(absl::string_view value) {
  return CountUtf8CodePoints(value, /*allow_nul=*/true) >= 0;
}

absl::Status CheckText(absl::string_view field, absl::string_view value, std::size_t max_chars) {
  const std::int64_t chars = CountUtf8CodePoints(value);
  if (chars < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is not valid UTF-8 or contains a NUL character"));
  }
  if (static_cast<std::size_t>(chars) > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is too long: ", chars, " characters, at most ", max_chars));
  }
  return absl::OkStatus();
}

absl::Status CheckRequiredText(absl::string_view field, absl::string_view value,
                               std::size_t max_chars) {
  if (value.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  return CheckText(field, value, max_chars);
}

absl::Status CheckCount(absl::string_view field, std::size_t size, std::size_t max_size) {
  if (size > max_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " has too many elements: ", size, ", at most ", max_size));
  }
  return absl::OkStatus();
}

}  // namespace rqs::server
