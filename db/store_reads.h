// Internal to db/: the readers behind the store's review-wide reads with
// AnswerDetail::kScores, kept apart from its writes.
//
// A review of 2,000 studies x 3 raters x 42 criteria holds a quarter of a
// million answers. These readers take them from the compact copies of
// migration 0004 (one text per submitted assessment or consensus) and decode
// PostgreSQL's text output directly, rather than one row and one libpqxx
// conversion per value.
#ifndef RQS_DB_STORE_READS_H_
#define RQS_DB_STORE_READS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "db/store.h"

namespace pqxx {
class transaction_base;
}  // namespace pqxx

namespace rqs::db::internal {

// Returns the elements of a one-dimensional text array in PostgreSQL's text
// output, unquoted and unescaped: {a,"b c","d\"e",""} gives a, b c, d"e and
// the empty string. NULL elements are left out, as the store's other array
// readers do. Throws std::runtime_error (the pool reports INTERNAL) for
// anything else, nested arrays included.
std::vector<std::string> ParseTextArray(absl::string_view text);

// Returns the elements of a one-dimensional integer or boolean array in
// PostgreSQL's text output ("{1,-2}", "{t,f}"). Throw std::runtime_error for
// anything else, NULL elements included.
std::vector<int> ParseIntArray(absl::string_view text);
std::vector<bool> ParseBoolArray(absl::string_view text);

// Returns the answers in migration 0004's compact format ("<criterion>
// <points> <option ids as a text[] literal>", space-separated; "" for none),
// with empty rationale and evidence, in the order given. Throws
// std::runtime_error for malformed text.
std::vector<Answer> ParseAnswerScores(absl::string_view text);

// Fills in the answers of `assessments` (which must have none yet) with
// criterion, option ids and points, ordered by criterion; rationale and
// evidence stay empty. Reads the compact copies (assessment_scores), and the
// answer rows of any assessment without one (drafts).
void LoadAnswerScores(pqxx::transaction_base& txn, std::vector<Assessment>& assessments);

}  // namespace rqs::db::internal

#endif  // RQS_DB_STORE_READS_H_
