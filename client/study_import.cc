#include "client/study_import.h"

#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/csv.h"
#include "scoring/status_macros.h"

namespace rqs::client {
namespace {

// Records from a file name their line; a record built from flags (line 0)
// needs no prefix.
absl::Status LineError(size_t line, absl::string_view reason) {
  if (line == 0) return absl::InvalidArgumentError(reason);
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", reason));
}

absl::StatusOr<std::optional<int>> ParseYear(absl::string_view text, size_t line) {
  absl::StatusOr<std::optional<int>> year = ParseStudyYear(text);
  if (!year.ok()) return LineError(line, year.status().message());
  return year;
}

// Checks one record and the uniqueness of its DOI and external id in the file.
absl::Status ValidateRecord(StudyRecord& record, std::set<std::string>& dois,
                            std::set<std::string>& external_ids) {
  record.title = std::string(absl::StripAsciiWhitespace(record.title));
  if (record.title.empty()) return LineError(record.line, "missing title");
  if (!record.doi.empty()) {
    absl::StatusOr<std::string> doi = NormaliseDoi(record.doi);
    if (!doi.ok()) return LineError(record.line, doi.status().message());
    record.doi = absl::AsciiStrToLower(*doi);  // DOIs are case-insensitive.
    if (!dois.insert(record.doi).second) {
      return LineError(record.line, absl::StrCat("DOI ", record.doi, " appears twice"));
    }
  }
  record.external_id = std::string(absl::StripAsciiWhitespace(record.external_id));
  if (!record.external_id.empty() && !external_ids.insert(record.external_id).second) {
    return LineError(record.line,
                     absl::StrCat("external id '", record.external_id, "' appears twice"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<int>> ParseStudyYear(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) return std::optional<int>();
  int year = 0;
  if (!absl::SimpleAtoi(text, &year) || year < 1900 || year > 2100) {
    return absl::InvalidArgumentError(
        absl::StrCat("year '", text, "' is not a year between 1900 and 2100"));
  }
  return std::optional<int>(year);
}

absl::Status ValidateStudies(std::vector<StudyRecord>& records) {
  std::set<std::string> dois, external_ids;
  for (StudyRecord& record : records) {
    RQS_RETURN_IF_ERROR(ValidateRecord(record, dois, external_ids));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> NormaliseDoi(absl::string_view doi) {
  doi = absl::StripAsciiWhitespace(doi);
  for (absl::string_view prefix :
       {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/",
        "doi.org/", "doi:", "DOI:", "doi: ", "DOI: "}) {
    if (absl::ConsumePrefix(&doi, prefix)) break;
  }
  doi = absl::StripAsciiWhitespace(doi);
  if (!absl::StartsWith(doi, "10.") || !absl::StrContains(doi, "/")) {
    return absl::InvalidArgumentError(absl::StrCat("DOI '", doi, "' does not start with '10.'"));
  }
  return std::string(doi);
}

StudyFileFormat DetectStudyFileFormat(absl::string_view path, absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".ris")) return StudyFileFormat::kRis;
  if (absl::EndsWith(lower, ".csv")) return StudyFileFormat::kCsv;
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  for (absl::string_view line : absl::StrSplit(text.substr(0, 4096), '\n')) {
    line = absl::StripLeadingAsciiWhitespace(line);
    if (line.empty()) continue;
    return absl::StartsWith(line, "TY  -") ? StudyFileFormat::kRis : StudyFileFormat::kCsv;
  }
  return StudyFileFormat::kCsv;
}

absl::StatusOr<std::vector<StudyRecord>> ParseStudiesCsv(absl::string_view text) {
  CsvReader reader(text);
  std::vector<std::string> fields;
  size_t line = 0;
  if (!reader.Next(fields, line)) {
    RQS_RETURN_IF_ERROR(reader.status());
    return absl::InvalidArgumentError("empty file: expected a header row with at least 'title'");
  }
  enum Column { kTitle, kAuthors, kYear, kDoi, kStudyType, kExternalId, kNotes, kColumnCount };
  static const std::map<std::string, Column>* const kNames = new std::map<std::string, Column>{
      {"title", kTitle},          {"authors", kAuthors},        {"year", kYear},  {"doi", kDoi},
      {"study_type", kStudyType}, {"external_id", kExternalId}, {"notes", kNotes}};
  std::vector<std::optional<size_t>> index(kColumnCount);
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(fields[i]));
    const auto known = kNames->find(name);
    if (known == kNames->end()) continue;
    if (index[known->second].has_value()) {
      return LineError(line, absl::StrCat("column '", name, "' appears twice in the header"));
    }
    index[known->second] = i;
  }
  if (!index[kTitle].has_value()) return LineError(line, "header has no 'title' column");

  std::vector<StudyRecord> records;
  while (reader.Next(fields, line)) {
    auto field = [&](Column column) -> std::string {
      return index[column].has_value() && *index[column] < fields.size() ? fields[*index[column]]
                                                                         : std::string();
    };
    StudyRecord record;
    record.line = line;
    record.title = field(kTitle);
    for (absl::string_view author : absl::StrSplit(field(kAuthors), ';', absl::SkipWhitespace())) {
      record.authors.emplace_back(absl::StripAsciiWhitespace(author));
    }
    RQS_ASSIGN_OR_RETURN(record.year, ParseYear(field(kYear), line));
    record.doi = field(kDoi);
    const std::string type = std::string(absl::StripAsciiWhitespace(field(kStudyType)));
    if (!type.empty()) {
      absl::StatusOr<scoring::StudyType> parsed =
          scoring::ParseStudyType(absl::AsciiStrToUpper(type));
      if (!parsed.ok()) return LineError(line, parsed.status().message());
      record.study_type = *parsed;
    }
    record.external_id = field(kExternalId);
    record.notes = field(kNotes);
    records.push_back(std::move(record));
  }
  RQS_RETURN_IF_ERROR(reader.status());
  if (records.empty()) return absl::InvalidArgumentError("no studies in the file");
  RQS_RETURN_IF_ERROR(ValidateStudies(records));
  return records;
}

absl::StatusOr<std::vector<StudyRecord>> ParseStudiesRis(absl::string_view text) {
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<StudyRecord> records;
  std::optional<StudyRecord> current;
  std::string fallback_title;  // CT/BT, used when there is no TI/T1.
  size_t line_number = 0;
  std::string* continued = nullptr;  // The value a continuation line extends.
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::ConsumeSuffix(&line, "\r");
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    // A tag line is "XX  - value". Other lines continue the previous tag's
    // value (long titles, notes and abstracts wrap in some exports).
    if (line.size() < 5 || line.substr(2, 3) != "  -") {
      if (!current.has_value()) {
        return LineError(line_number,
                         absl::StrCat("not a RIS tag line: '", line.substr(0, 40), "'"));
      }
      if (continued != nullptr) absl::StrAppend(continued, " ", absl::StripAsciiWhitespace(line));
      continue;
    }
    const absl::string_view tag = line.substr(0, 2);
    const absl::string_view value = absl::StripAsciiWhitespace(line.substr(5));
    continued = nullptr;
    if (tag == "TY") {
      if (current.has_value()) {
        return LineError(line_number, "new record (TY) before the previous one ended (ER)");
      }
      current.emplace();
      current->line = line_number;
      fallback_title.clear();
      continue;
    }
    if (!current.has_value()) {
      return LineError(line_number, absl::StrCat("tag ", tag, " outside a record (TY ... ER)"));
    }
    if (tag == "ER") {
      if (current->title.empty()) current->title = fallback_title;
      records.push_back(std::move(*current));
      current.reset();
    } else if (tag == "TI" || tag == "T1") {
      if (current->title.empty()) {
        current->title = std::string(value);
        continued = &current->title;
      }
    } else if (tag == "CT" || tag == "BT") {
      if (fallback_title.empty()) fallback_title = std::string(value);
    } else if (tag == "AU" || tag == "A1") {
      if (!value.empty()) current->authors.emplace_back(value);
    } else if (tag == "PY" || tag == "Y1" || (tag == "DA" && !current->year.has_value())) {
      // "2021///" or "2021/03/04/": the year is the first four characters.
      RQS_ASSIGN_OR_RETURN(current->year, ParseYear(value.substr(0, 4), line_number));
    } else if (tag == "DO") {
      current->doi = std::string(value);
    } else if (tag == "ID" || (tag == "AN" && current->external_id.empty())) {
      current->external_id = std::string(value);
    } else if (tag == "N1") {
      current->notes =
          current->notes.empty() ? std::string(value) : absl::StrCat(current->notes, "\n", value);
      continued = &current->notes;
    }
  }
  if (current.has_value()) {
    return LineError(current->line, "record has no end (ER  - )");
  }
  if (records.empty()) return absl::InvalidArgumentError("no studies in the file");
  RQS_RETURN_IF_ERROR(ValidateStudies(records));
  return records;
}

absl::StatusOr<std::vector<StudyRecord>> ParseStudies(StudyFileFormat format,
                                                      absl::string_view text) {
  return format == StudyFileFormat::kRis ? ParseStudiesRis(text) : ParseStudiesCsv(text);
}

}  // namespace rqs::client
