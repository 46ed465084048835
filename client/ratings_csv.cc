#include "client/ratings_csv.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace rqs::client {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The columns the reader needs, in the order of `RequiredColumn`.
enum RequiredColumn : size_t { kStudy = 0, kRater = 1, kCriterion = 2, kValue = 3 };
constexpr std::array<absl::string_view, 4> kColumnNames = {"study", "rater", "criterion", "value"};

absl::Status LineError(uint32_t line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", message));
}

// Splits the buffer into RFC 4180 records. Fields are views into the buffer
// unless a quoted field holds "" escapes, in which case the unescaped text
// lives in scratch storage owned by the tokenizer until the next record.
class CsvTokenizer {
 public:
  explicit CsvTokenizer(absl::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  // The line the most recently read record started on.
  uint32_t record_line() const { return record_line_; }

  // Reads the next record into `fields`. Returns InvalidArgumentError for an
  // unterminated quoted field or text between a closing quote and the next
  // delimiter. Must not be called when AtEnd().
  absl::Status ReadRecord(std::vector<absl::string_view>& fields) {
    fields.clear();
    scratch_used_ = 0;
    record_line_ = line_;
    while (true) {
      if (pos_ < text_.size() && text_[pos_] == '"') {
        absl::string_view field;
        if (absl::Status status = ReadQuotedField(field); !status.ok()) return status;
        fields.push_back(field);
      } else {
        const size_t start = pos_;
        while (pos_ < text_.size()) {
          const char c = text_[pos_];
          if (c == ',' || c == '\n' || c == '\r') break;
          ++pos_;
        }
        fields.push_back(text_.substr(start, pos_ - start));
      }
      if (pos_ >= text_.size()) return absl::OkStatus();
      const char c = text_[pos_++];
      if (c == ',') continue;
      // A record ends at LF, CRLF or a lone CR.
      if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
      ++line_;
      return absl::OkStatus();
    }
  }

 private:
  absl::Status ReadQuotedField(absl::string_view& field) {
    const uint32_t start_line = line_;
    ++pos_;  // Opening quote.
    const size_t start = pos_;
    std::string* unescaped = nullptr;
    while (true) {
      const size_t quote = text_.find('"', pos_);
      if (quote == absl::string_view::npos) {
        return LineError(start_line, "quoted field is never closed");
      }
      line_ += static_cast<uint32_t>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                                text_.begin() + static_cast<std::ptrdiff_t>(quote),
                                                '\n'));
      if (quote + 1 < text_.size() && text_[quote + 1] == '"') {
        // An escaped quote: from here on the field is assembled in scratch.
        if (unescaped == nullptr) {
          unescaped = NextScratch();
          unescaped->assign(text_.data() + start, quote + 1 - start);
        } else {
          unescaped->append(text_.data() + pos_, quote + 1 - pos_);
        }
        pos_ = quote + 2;
        continue;
      }
      if (unescaped == nullptr) {
        field = text_.substr(start, quote - start);
      } else {
        unescaped->append(text_.data() + pos_, quote - pos_);
        field = *unescaped;
      }
      pos_ = quote + 1;
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        return LineError(line_, "unexpected text after the closing quote of a quoted field");
      }
      return absl::OkStatus();
    }
  }

  std::string* NextScratch() {
    if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
    return &scratch_[scratch_used_++];
  }

  absl::string_view text_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t record_line_ = 1;
  // Unescaped quoted fields of the current record. A deque, because growing it
  // must not move strings that earlier fields of the record still view.
  std::deque<std::string> scratch_;
  size_t scratch_used_ = 0;
};

absl::string_view TrimBlanks(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a finite decimal number (already trimmed), allowing a leading '+'.
// Returns nullopt for anything else, including "nan" and "inf", which
// std::from_chars would accept.
std::optional<double> ParseNumber(absl::string_view text) {
  if (!text.empty() && text.front() == '+') {
    text.remove_prefix(1);
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) return std::nullopt;
  }
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

// Maps ids to dense indices in order of first appearance. Consecutive records
// usually repeat the previous id (files are grouped by study or criterion), so
// the last hit is checked before hashing.
class Interner {
 public:
  explicit Interner(std::vector<std::string>& ids) : ids_(ids) {}

  uint32_t Intern(absl::string_view id) {
    if (last_ != kNone && id == ids_[last_]) return last_;
    auto [it, inserted] = index_.try_emplace(id, static_cast<uint32_t>(ids_.size()));
    if (inserted) ids_.emplace_back(id);
    last_ = it->second;
    return last_;
  }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  std::vector<std::string>& ids_;
  absl::flat_hash_map<std::string, uint32_t> index_;
  uint32_t last_ = kNone;
};

struct Record {
  uint32_t criterion;
  uint32_t study;
  uint32_t rater;
  uint32_t line;
  double value;
};

// A duplicate rating found while building tables.
struct Duplicate {
  uint32_t line = 0;
  absl::Status status;
};

// Builds one dense table per criterion from `records` (in file order). When
// the same study, rater and criterion occur twice, returns the duplicate whose
// second occurrence is on the earliest line instead.
std::optional<Duplicate> BuildTables(const std::vector<Record>& records, RatingsData& data) {
  const size_t num_criteria = data.criteria.size();
  // Group record indices by criterion, keeping file order within each group.
  std::vector<uint32_t> group_start(num_criteria + 1, 0);
  for (const Record& record : records) ++group_start[record.criterion + 1];
  for (size_t c = 0; c < num_criteria; ++c) group_start[c + 1] += group_start[c];
  std::vector<uint32_t> order(records.size());
  {
    std::vector<uint32_t> next(group_start.begin(), group_start.end() - 1);
    for (size_t i = 0; i < records.size(); ++i) {
      order[next[records[i].criterion]++] = static_cast<uint32_t>(i);
    }
  }

  constexpr uint32_t kUnset = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> study_local(data.study_ids.size(), kUnset);
  std::vector<uint32_t> rater_local(data.rater_ids.size(), kUnset);
  std::optional<Duplicate> earliest;
  std::vector<uint32_t> seen_line;
  for (size_t c = 0; c < num_criteria; ++c) {
    CriterionRatings& table = data.criteria[c];
    table.studies.clear();
    table.raters.clear();
    const uint32_t begin = group_start[c];
    const uint32_t end = group_start[c + 1];
    for (uint32_t k = begin; k < end; ++k) {
      const Record& record = records[order[k]];
      if (k == begin) table.first_line = record.line;
      if (study_local[record.study] == kUnset) {
        study_local[record.study] = static_cast<uint32_t>(table.studies.size());
        table.studies.push_back(record.study);
      }
      if (rater_local[record.rater] == kUnset) {
        rater_local[record.rater] = static_cast<uint32_t>(table.raters.size());
        table.raters.push_back(record.rater);
      }
    }
    const size_t num_raters = table.raters.size();
    table.values.assign(table.studies.size() * num_raters, kMissing);
    seen_line.assign(table.values.size(), 0);
    for (uint32_t k = begin; k < end; ++k) {
      const Record& record = records[order[k]];
      const size_t cell = study_local[record.study] * num_raters + rater_local[record.rater];
      if (seen_line[cell] != 0) {
        // Within a criterion, records are in file order, so the first repeat
        // found is this criterion's earliest.
        if (!earliest.has_value() || record.line < earliest->line) {
          earliest = Duplicate{
              record.line,
              LineError(
                  record.line,
                  absl::StrCat("duplicate rating: study '", data.study_ids[record.study],
                               "', rater '", data.rater_ids[record.rater], "', criterion '",
                               table.criterion, "' was already rated on line ", seen_line[cell]))};
        }
        break;
      }
      seen_line[cell] = record.line;
      table.values[cell] = record.value;
    }
    // Reset only the entries this criterion touched, so the pass stays linear
    // in the number of records however many criteria there are.
    for (uint32_t study : table.studies) study_local[study] = kUnset;
    for (uint32_t rater : table.raters) rater_local[rater] = kUnset;
  }
  return earliest;
}

// Reads the header record and returns the field position of each required
// column.
absl::StatusOr<std::array<size_t, 4>> ParseHeader(const std::vector<absl::string_view>& fields,
                                                  uint32_t line) {
  constexpr size_t kAbsent = std::numeric_limits<size_t>::max();
  std::array<size_t, 4> positions;
  positions.fill(kAbsent);
  for (size_t i = 0; i < fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(std::string(TrimBlanks(fields[i])));
    for (size_t column = 0; column < kColumnNames.size(); ++column) {
      if (name != kColumnNames[column]) continue;
      if (positions[column] != kAbsent) {
        return LineError(
            line, absl::StrCat("column '", kColumnNames[column], "' appears twice in the header"));
      }
      positions[column] = i;
    }
  }
  std::vector<absl::string_view> absent;
  for (size_t column = 0; column < kColumnNames.size(); ++column) {
    if (positions[column] == kAbsent) absent.push_back(kColumnNames[column]);
  }
  if (!absent.empty()) {
    return LineError(line, absl::StrCat("header lacks column", absent.size() > 1 ? "s " : " ", "'",
                                        absl::StrJoin(absent, "', '"),
                                        "' (expected study,rater,criterion,value)"));
  }
  return positions;
}

// A field quoted in a message: a runaway field (say, a whole file swallowed by
// an unclosed quote in the value column) must not flood the terminal.
std::string Excerpt(absl::string_view field) {
  constexpr size_t kMaxLength = 40;
  if (field.size() <= kMaxLength) return std::string(field);
  return absl::StrCat(field.substr(0, kMaxLength), "...");
}

bool AllBlank(const std::vector<absl::string_view>& fields) {
  return std::all_of(fields.begin(), fields.end(),
                     [](absl::string_view field) { return TrimBlanks(field).empty(); });
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  const std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::DataLossError(message);
  }
}

}  // namespace

bool CriterionRatings::missing(size_t subject, size_t rater) const {
  return std::isnan(at(subject, rater));
}

absl::StatusOr<RatingsData> ParseRatingsCsv(std::string_view input) {
  absl::string_view text(input.data(), input.size());
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  CsvTokenizer tokenizer(text);
  std::vector<absl::string_view> fields;
  fields.reserve(8);

  // The header is the first record that is not blank.
  std::optional<std::array<size_t, 4>> positions;
  while (!tokenizer.AtEnd()) {
    if (absl::Status status = tokenizer.ReadRecord(fields); !status.ok()) return status;
    if (AllBlank(fields)) continue;
    absl::StatusOr<std::array<size_t, 4>> header = ParseHeader(fields, tokenizer.record_line());
    if (!header.ok()) return header.status();
    positions = *header;
    break;
  }
  if (!positions.has_value()) {
    return LineError(1, "the file is empty: expected the header study,rater,criterion,value");
  }
  const uint32_t header_line = tokenizer.record_line();
  const size_t needed_fields = *std::max_element(positions->begin(), positions->end()) + 1;

  RatingsData data;
  std::vector<std::string> criterion_ids;
  Interner studies(data.study_ids);
  Interner raters(data.rater_ids);
  Interner criteria(criterion_ids);
  std::vector<Record> records;
  // A rough guess (about 20 bytes a record) saves most regrowth on big files.
  records.reserve(text.size() / 24 + 1);

  absl::Status parse_error;
  while (!tokenizer.AtEnd()) {
    if (absl::Status status = tokenizer.ReadRecord(fields); !status.ok()) {
      parse_error = status;
      break;
    }
    const uint32_t line = tokenizer.record_line();
    if (AllBlank(fields)) continue;
    if (fields.size() < needed_fields) {
      parse_error = LineError(line, absl::StrCat("expected at least ", needed_fields,
                                                 " fields, found ", fields.size()));
      break;
    }
    std::array<absl::string_view, 4> values;
    for (size_t column = 0; column < values.size(); ++column) {
      values[column] = TrimBlanks(fields[(*positions)[column]]);
    }
    const char* empty_id = values[kStudy].empty()       ? "study"
                           : values[kRater].empty()     ? "rater"
                           : values[kCriterion].empty() ? "criterion"
                                                        : nullptr;
    if (empty_id != nullptr) {
      parse_error = LineError(line, absl::StrCat("empty ", empty_id, " id"));
      break;
    }
    double value = kMissing;
    if (!values[kValue].empty()) {
      const std::optional<double> number = ParseNumber(values[kValue]);
      if (!number.has_value()) {
        parse_error =
            LineError(line, absl::StrCat("value '", Excerpt(values[kValue]),
                                         "' is not a number (leave it empty if missing)"));
        break;
      }
      value = *number;
    }
    if (records.size() >= std::numeric_limits<uint32_t>::max() - 1) {
      parse_error = LineError(line, "too many records");
      break;
    }
    records.push_back(Record{criteria.Intern(values[kCriterion]), studies.Intern(values[kStudy]),
                             raters.Intern(values[kRater]), line, value});
  }

  data.criteria.resize(criterion_ids.size());
  for (size_t c = 0; c < criterion_ids.size(); ++c) {
    data.criteria[c].criterion = std::move(criterion_ids[c]);
  }
  data.num_records = records.size();
  // Duplicates among the records before a parse error are on earlier lines,
  // so they are reported first.
  if (std::optional<Duplicate> duplicate = BuildTables(records, data); duplicate.has_value()) {
    return duplicate->status;
  }
  if (!parse_error.ok()) return parse_error;
  if (records.empty()) {
    return LineError(header_line, "no ratings after the header");
  }
  return data;
}

absl::StatusOr<RatingsData> ReadRatingsCsv(std::istream& input) {
  std::string text;
  constexpr size_t kChunk = size_t{1} << 16;
  std::string chunk(kChunk, '\0');
  while (input.read(chunk.data(), static_cast<std::streamsize>(kChunk)) || input.gcount() > 0) {
    text.append(chunk.data(), static_cast<size_t>(input.gcount()));
  }
  if (input.bad()) return absl::DataLossError("error reading the input stream");
  return ParseRatingsCsv(text);
}

absl::StatusOr<RatingsData> ReadRatingsCsvFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open '", path, "'"));
  std::string text;
  struct stat info;
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0) {
    text.reserve(static_cast<size_t>(info.st_size));
  }
  constexpr size_t kChunk = size_t{1} << 20;
  std::string chunk(kChunk, '\0');
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), kChunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      return ErrnoStatus(error, absl::StrCat("cannot read '", path, "'"));
    }
    if (n == 0) break;
    text.append(chunk.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return ParseRatingsCsv(text);
}

CriterionRatings ComputeTotal(const RatingsData& data) {
  CriterionRatings total;
  total.criterion = "total";
  const size_t num_studies = data.study_ids.size();
  const size_t num_raters = data.rater_ids.size();
  total.studies.resize(num_studies);
  total.raters.resize(num_raters);
  for (size_t i = 0; i < num_studies; ++i) total.studies[i] = static_cast<uint32_t>(i);
  for (size_t j = 0; j < num_raters; ++j) total.raters[j] = static_cast<uint32_t>(j);
  total.values.assign(num_studies * num_raters, 0.0);
  // Counting the parts present per cell catches both empty values and ratings
  // with no record at all for a criterion.
  std::vector<uint32_t> parts(total.values.size(), 0);
  for (const CriterionRatings& table : data.criteria) {
    for (size_t i = 0; i < table.num_subjects(); ++i) {
      const size_t row = size_t{table.studies[i]} * num_raters;
      for (size_t j = 0; j < table.num_raters(); ++j) {
        const double value = table.at(i, j);
        if (std::isnan(value)) continue;
        total.values[row + table.raters[j]] += value;
        ++parts[row + table.raters[j]];
      }
    }
  }
  for (size_t cell = 0; cell < total.values.size(); ++cell) {
    // A sum beyond the range of double (finite ratings near 1e308) has no
    // value to report either; it must not fail the whole file.
    if (parts[cell] != data.criteria.size() || !std::isfinite(total.values[cell])) {
      total.values[cell] = kMissing;
    }
  }
  return total;
}

scoring::RatingsTable ToAgreementTable(const RatingsData& data, const CriterionRatings& ratings) {
  scoring::RatingsTable table;
  table.subject_labels.reserve(ratings.num_subjects());
  for (uint32_t study : ratings.studies) table.subject_labels.push_back(data.study_ids[study]);
  table.rater_labels.reserve(ratings.num_raters());
  for (uint32_t rater : ratings.raters) table.rater_labels.push_back(data.rater_ids[rater]);
  table.ratings.resize(ratings.num_subjects());
  for (size_t i = 0; i < ratings.num_subjects(); ++i) {
    std::vector<std::optional<double>>& row = table.ratings[i];
    row.resize(ratings.num_raters());
    for (size_t j = 0; j < ratings.num_raters(); ++j) {
      if (!ratings.missing(i, j)) row[j] = ratings.at(i, j);
    }
  }
  return table;
}

}  // namespace rqs::client
