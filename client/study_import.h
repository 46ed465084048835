// Reading the studies of a review from the files reference managers export.
//
// Two formats:
//   - CSV with a header row. Columns (case-insensitive, any order; others are
//     ignored): title (required), authors, year, doi, study_type, external_id,
//     notes. Authors are separated by semicolons.
//   - RIS (as EndNote, Zotero and Mendeley export): records from "TY  - " to
//     "ER  - ". Title from TI/T1 (else CT/BT), authors from AU/A1 (one per
//     line), year from PY/Y1/DA (first four digits), DOI from DO, external id
//     from ID/AN, notes from N1. RIS has no study type: studies get the
//     default type.
//
// Every record is validated, so an import is all or nothing: a missing title,
// a year outside 1900-2100, a DOI not starting with "10.", an unknown study
// type, or a DOI / external id that appears twice are errors naming the line.
#ifndef RQS_CLIENT_STUDY_IMPORT_H_
#define RQS_CLIENT_STUDY_IMPORT_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "scoring/instrument.h"

namespace rqs::client {

// One study to add to a review.
struct StudyRecord {
  std::string title;
  std::vector<std::string> authors;
  std::optional<int> year;
  std::string doi;  // Normalised: no "https://doi.org/" or "doi:" prefix.
  std::optional<scoring::StudyType> study_type;  // Unset: the importer's default.
  std::string external_id;
  std::string notes;
  size_t line = 0;  // Where the record starts in its file, for messages.
};

// The formats ParseStudies understands.
enum class StudyFileFormat { kCsv, kRis };

// Guesses the format from the file name (.ris / .csv) or, failing that, from
// the content (a line starting with "TY  - " means RIS).
StudyFileFormat DetectStudyFileFormat(absl::string_view path, absl::string_view text);

// Parses CSV as described above.
// Errors: INVALID_ARGUMENT "line N: ..." (see the file comment), or "no
// studies" for a file without records.
absl::StatusOr<std::vector<StudyRecord>> ParseStudiesCsv(absl::string_view text);

// Parses RIS as described above. Errors: as ParseStudiesCsv, plus a record
// without its "ER  - " end.
absl::StatusOr<std::vector<StudyRecord>> ParseStudiesRis(absl::string_view text);

// Parses `text` in `format`.
absl::StatusOr<std::vector<StudyRecord>> ParseStudies(StudyFileFormat format,
                                                      absl::string_view text);

// Checks and normalises records built by hand or parsed from a file: trims
// the title (required), normalises the DOI, and rejects a DOI or external id
// that appears twice. Messages start with "line N: " for records from a file
// (line > 0). Errors: INVALID_ARGUMENT.
absl::Status ValidateStudies(std::vector<StudyRecord>& records);

// Parses a publication year; empty text means none. Errors: INVALID_ARGUMENT
// unless it is an integer between 1900 and 2100.
absl::StatusOr<std::optional<int>> ParseStudyYear(absl::string_view text);

// Strips the resolver prefixes people paste ("https://doi.org/", "doi:") and
// surrounding blanks. Returns INVALID_ARGUMENT unless the result starts with
// "10." and holds a "/".
absl::StatusOr<std::string> NormaliseDoi(absl::string_view doi);

}  // namespace rqs::client

#endif  // RQS_CLIENT_STUDY_IMPORT_H_
