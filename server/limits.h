// Input limits of the rqs gRPC API, enforced by the server before any request
// reaches the database.
//
// The limits keep a single request from exhausting memory, the database or
// another user's patience, and they bound every text a rater or coordinator
// can store. They are documented for clients in the .proto comments
// (proto/rqs/v1/*.proto); the numbers here are the authority. Lengths are in
// Unicode code points (characters), not bytes, so a limit means the same for
// every script. Every text must be valid UTF-8 without NUL characters (which
// PostgreSQL cannot store). A violation is
// INVALID_ARGUMENT naming the field.
#ifndef RQS_SERVER_LIMITS_H_
#define RQS_SERVER_LIMITS_H_

#include <cstddef>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace rqs::server {

// Largest request message, in bytes. Large enough for a 1,000-study
// AddStudies call at the maximum title length (4 bytes per character).
inline constexpr int kMaxMessageBytes = 8 * 1024 * 1024;
// Largest response message (Export of a large review), in bytes.
inline constexpr int kMaxResponseBytes = 512 * 1024 * 1024;

// Review names, study titles.
inline constexpr std::size_t kMaxTitleChars = 1000;
// Review descriptions.
inline constexpr std::size_t kMaxDescriptionChars = 10000;
// A rater's rationale for one answer.
inline constexpr std::size_t kMaxRationaleChars = 10000;
// A rater's evidence quote for one answer.
inline constexpr std::size_t kMaxEvidenceChars = 10000;
// A study's external id (DOI, PMID, citation key).
inline constexpr std::size_t kMaxExternalIdChars = 200;
// Instrument ids and answer option ids.
inline constexpr std::size_t kMaxIdentifierChars = 64;
// User login names (ASCII letters, digits, '.', '_', '-', '@').
inline constexpr std::size_t kMaxUserNameChars = 100;
// Token labels, evidence page and section, DOIs.
inline constexpr std::size_t kMaxLabelChars = 200;
// Study authors and notes.
inline constexpr std::size_t kMaxNotesChars = 10000;
// Client-chosen idempotency keys of submissions.
inline constexpr std::size_t kMaxIdempotencyKeyChars = 128;

// Studies per AddStudies call.
inline constexpr std::size_t kMaxStudiesPerCall = 1000;
// Explicit assignments per AssignRaters call.
inline constexpr std::size_t kMaxAssignmentsPerCall = 10000;
// Answers per assessment (an instrument has far fewer criteria).
inline constexpr std::size_t kMaxAnswers = 200;
// Option ids per answer.
inline constexpr std::size_t kMaxOptionsPerAnswer = 32;
// Raters per study for automatic assignment.
inline constexpr int kMaxRatersPerStudy = 100;
// Longest lifetime of an API token, in days (ten years).
inline constexpr int kMaxTokenDays = 3650;
// Page size of paginated listings (also the default).
inline constexpr int kMaxPageSize = 1000;

// Returns whether `value` is valid UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF). NUL characters are valid here.
bool IsValidUtf8(absl::string_view value);

// Returns OK if `value` is valid UTF-8 without NUL characters and of at most
// `max_chars` code points.
// Errors: INVALID_ARGUMENT naming `field` (invalid UTF-8, NUL, too long).
absl::Status CheckText(absl::string_view field, absl::string_view value, std::size_t max_chars);

// Like CheckText, and also rejects an empty value.
// Errors: INVALID_ARGUMENT naming `field`.
absl::Status CheckRequiredText(absl::string_view field, absl::string_view value,
                               std::size_t max_chars);

// Returns OK if a repeated field of `size` elements has at most `max_size`.
// Errors: INVALID_ARGUMENT naming `field`.
absl::Status CheckCount(absl::string_view field, std::size_t size, std::size_t max_size);

}  // namespace rqs::server

#endif  // RQS_SERVER_LIMITS_H_
