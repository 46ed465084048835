// Reads long-format inter-rater ratings from CSV for `rqs agreement`.
//
// The input has one rating per record and a header naming at least the columns
// `study`, `rater`, `criterion` and `value`, in any order; other columns are
// ignored. A value is a decimal number; an empty value means the rater left the
// item unrated. Records follow RFC 4180 (quoted fields with "" escapes and
// embedded line breaks, LF or CRLF line ends), and a leading UTF-8 byte order
// mark is skipped.
//
// The reader turns the records into one dense subjects x raters table per
// criterion, the shape agreement statistics take. Study and rater ids are
// interned once, so memory grows with the number of ratings, not with the
// length of the ids.
#ifndef RQS_CLIENT_RATINGS_CSV_H_
#define RQS_CLIENT_RATINGS_CSV_H_

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "scoring/agreement.h"

namespace rqs::client {

// One criterion's ratings: rows are studies, columns are raters, row-major.
// A missing rating (empty value, or no record for that study and rater) is NaN.
struct CriterionRatings {
  std::string criterion;
  // The line of the criterion's first record, for messages about it; 0 for a
  // computed table such as the total.
  uint32_t first_line = 0;
  // Indices into RatingsData::study_ids / rater_ids, in order of first
  // appearance within this criterion.
  std::vector<uint32_t> studies;
  std::vector<uint32_t> raters;
  std::vector<double> values;  // studies.size() * raters.size() entries.

  size_t num_subjects() const { return studies.size(); }
  size_t num_raters() const { return raters.size(); }
  double at(size_t subject, size_t rater) const { return values[subject * raters.size() + rater]; }
  bool missing(size_t subject, size_t rater) const;
};

// Everything read from one ratings file.
struct RatingsData {
  std::vector<std::string> study_ids;      // In order of first appearance in the file.
  std::vector<std::string> rater_ids;      // In order of first appearance in the file.
  std::vector<CriterionRatings> criteria;  // In order of first appearance in the file.
  size_t num_records = 0;                  // Data records read (blank lines excluded).
};

// Parses a whole ratings CSV held in memory.
//
// Returns the per-criterion tables, or InvalidArgumentError whose message
// starts with "line N: " (N counted from 1, the line a record starts on) for:
// a header without one of the four required columns (or naming one twice), a
// record lacking a required field, an empty study/rater/criterion id, a value
// that is not a finite number, the same study, rater and criterion twice,
// malformed quoting, and input with no header or no ratings. When the input
// has several problems, the one on the earliest line is reported.
absl::StatusOr<RatingsData> ParseRatingsCsv(std::string_view text);

// Reads `input` to its end and parses it as ParseRatingsCsv does. Returns
// DataLossError when the stream fails before its end.
absl::StatusOr<RatingsData> ReadRatingsCsv(std::istream& input);

// Reads and parses the file at `path`. Returns NotFoundError /
// PermissionDeniedError / DataLossError when it cannot be read, otherwise as
// ParseRatingsCsv does.
absl::StatusOr<RatingsData> ReadRatingsCsvFile(const std::string& path);

// The total score per study and rater: the sum of the values of every
// criterion in `data`. The table has every study and rater of the file, in
// order of first appearance; an entry is NaN (missing) when any criterion lacks
// that study and rater's rating, so a total is never a partial sum, or when the
// sum overflows the range of double.
CriterionRatings ComputeTotal(const RatingsData& data);

// Converts `ratings` (a criterion of `data`, or its total) to the table the
// statistics library takes, labelling rows and columns with the study and
// rater ids.
scoring::RatingsTable ToAgreementTable(const RatingsData& data, const CriterionRatings& ratings);

}  // namespace rqs::client

#endif  // RQS_CLIENT_RATINGS_CSV_H_
