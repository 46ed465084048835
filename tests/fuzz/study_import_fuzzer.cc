// Fuzz target for the study importers behind `rqs studies import`:
// ParseStudiesCsv and ParseStudiesRis (and the format sniffing in front of
// them).
//
// The files come from reference managers and spreadsheets, so they are
// untrusted. Every input goes through both parsers: CSV and RIS share the
// validation (titles, years, DOIs, duplicates), and a file that is one format
// is a good mutation seed for the other. An import is all or nothing, so a
// successful parse must hold only records that passed validation.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "client/study_import.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool IsTrimmed(absl::string_view text) { return absl::StripAsciiWhitespace(text) == text; }

void CheckRecords(const std::vector<rqs::client::StudyRecord>& records) {
  RQS_FUZZ_CHECK(!records.empty());  // "no studies" is an error.
  std::set<std::string> dois;
  std::set<std::string> external_ids;
  size_t previous_line = 0;
  for (const rqs::client::StudyRecord& record : records) {
    RQS_FUZZ_CHECK(!record.title.empty());
    RQS_FUZZ_CHECK(IsTrimmed(record.title));
    // Records come in file order and name the line they start on.
    RQS_FUZZ_CHECK(record.line > previous_line);
    previous_line = record.line;
    RQS_FUZZ_CHECK(!record.year.has_value() || (*record.year >= 1900 && *record.year <= 2100));
    if (!record.doi.empty()) {
      RQS_FUZZ_CHECK(absl::StartsWith(record.doi, "10."));
      RQS_FUZZ_CHECK(absl::StrContains(record.doi, "/"));
      RQS_FUZZ_CHECK(absl::AsciiStrToLower(record.doi) == record.doi);
      RQS_FUZZ_CHECK(dois.insert(record.doi).second);
    }
    if (!record.external_id.empty()) {
      RQS_FUZZ_CHECK(IsTrimmed(record.external_id));
      RQS_FUZZ_CHECK(external_ids.insert(record.external_id).second);
    }
    for (const std::string& author : record.authors) RQS_FUZZ_CHECK(!author.empty());
  }
}

void CheckResult(const absl::StatusOr<std::vector<rqs::client::StudyRecord>>& records) {
  if (records.ok()) {
    CheckRecords(*records);
  } else {
    RQS_FUZZ_CHECK(absl::IsInvalidArgument(records.status()));
    RQS_FUZZ_CHECK(!records.status().message().empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  CheckResult(rqs::client::ParseStudiesCsv(text));
  const absl::StatusOr<std::vector<rqs::client::StudyRecord>> ris =
      rqs::client::ParseStudiesRis(text);
  CheckResult(ris);
  // RIS records never carry a study type: the importer's default applies.
  if (ris.ok()) {
    for (const rqs::client::StudyRecord& record : *ris) {
      RQS_FUZZ_CHECK(!record.study_type.has_value());
    }
  }

  // Sniffing (no file name to go by) must pick one of the two, without crashing.
  const rqs::client::StudyFileFormat format = rqs::client::DetectStudyFileFormat("", text);
  RQS_FUZZ_CHECK(format == rqs::client::StudyFileFormat::kCsv ||
                 format == rqs::client::StudyFileFormat::kRis);
  return 0;
}
