#include "db/token.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace rqs::db {

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  // EVP_Digest only fails on allocation failure, where nothing sensible is left
  // to do; an empty result then fails every lookup instead of matching one.
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return std::string();
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), length));
}

absl::StatusOr<std::string> NewTokenSecret() {
  std::array<unsigned char, 32> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return absl::InternalError("the random number generator failed");
  }
  return "rqs_" + absl::WebSafeBase64Escape(absl::string_view(
                      reinterpret_cast<const char*>(random.data()), random.size()));
}

}  // namespace rqs::db
