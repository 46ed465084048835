// API token secrets and their SHA-256 hashes.
//
// A token secret is shown to its user once; the database keeps only
// Sha256Hex(secret), and a request is authenticated by hashing the secret it
// presents and looking the hash up (Store::LookupApiToken). Both functions use
// OpenSSL's libcrypto rather than hand-written cryptography.
#ifndef RQS_DB_TOKEN_H_
#define RQS_DB_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace rqs::db {

// Returns the SHA-256 digest of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

// Returns a new random token secret: "rqs_" followed by 43 URL-safe base64
// characters (256 bits from the OS's CSPRNG). INTERNAL if the generator fails.
absl::StatusOr<std::string> NewTokenSecret();

}  // namespace rqs::db

#endif  // RQS_DB_TOKEN_H_
