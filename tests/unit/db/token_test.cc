#include "db/token.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "absl/strings/match.h"

namespace rqs::db {
namespace {

TEST(Sha256HexTest, MatchesKnownVectors) {
  // FIPS 180-2 examples.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(NewTokenSecretTest, IsPrefixedRandomAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const absl::StatusOr<std::string> secret = NewTokenSecret();
    ASSERT_TRUE(secret.ok()) << secret.status();
    EXPECT_TRUE(absl::StartsWith(*secret, "rqs_"));
    EXPECT_EQ(secret->size(), 4u + 43u);
    EXPECT_TRUE(seen.insert(*secret).second);
  }
}

}  // namespace
}  // namespace rqs::db
