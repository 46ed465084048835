#include "db/store_reads.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <pqxx/result>
#include <pqxx/row>
#include <pqxx/transaction_base>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace rqs::db::internal {
namespace {

[[noreturn]] void Malformed(absl::string_view what, absl::string_view text) {
  throw std::runtime_error(
      absl::StrCat("malformed ", what, " from the database: ", text.substr(0, 80)));
}

// Parses the text array literal at the start of `text` into `values`
// (cleared first) and moves `text` past it. `whole` is for error messages.
void ConsumeTextArray(absl::string_view& text, absl::string_view whole,
                      std::vector<std::string>& values) {
  values.clear();
  if (text.empty() || text.front() != '{') Malformed("text array", whole);
  std::size_t i = 1;
  if (i < text.size() && text[i] == '}') {
    text.remove_prefix(i + 1);
    return;
  }
  while (i < text.size()) {
    if (text[i] == '"') {
      // Quoted: PostgreSQL quotes empty strings, NULL, and anything holding
      // whitespace, a brace, a comma, a quote or a backslash; it escapes the
      // last two with a backslash.
      std::string value;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && ++i == text.size()) break;
        value.push_back(text[i]);
      }
      if (i == text.size()) break;
      ++i;
      values.push_back(std::move(value));
    } else {
      std::size_t end = i;
      while (end < text.size() && text[end] != ',' && text[end] != '}') ++end;
      const absl::string_view value = text.substr(i, end - i);
      if (value.empty() || value.front() == '{') break;
      // Unquoted NULL is the null element; the string "NULL" comes quoted.
      if (value != "NULL") values.emplace_back(value);
      i = end;
    }
    if (i < text.size() && text[i] == '}') {
      text.remove_prefix(i + 1);
      return;
    }
    if (i == text.size() || text[i] != ',') break;
    ++i;
  }
  Malformed("text array", whole);
}

// Criterion numbers and points are small: plain digits, maybe a minus.
int ConsumeInt(absl::string_view& text, absl::string_view whole) {
  std::size_t i = !text.empty() && text.front() == '-' ? 1 : 0;
  const std::size_t digits = i;
  int64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
    if (value > std::numeric_limits<int>::max()) Malformed("answer scores", whole);
  }
  if (i == digits) Malformed("answer scores", whole);
  text.remove_prefix(i);
  return static_cast<int>(digits == 1 ? -value : value);
}

void ConsumeSpace(absl::string_view& text, absl::string_view whole) {
  if (text.empty() || text.front() != ' ') Malformed("answer scores", whole);
  text.remove_prefix(1);
}

// How many answers `text` holds: its array literals, i.e. the braces that
// open one (outside quotes).
std::size_t CountAnswers(absl::string_view text) {
  std::size_t count = 0;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (quoted) {
      if (text[i] == '\\') {
        ++i;
      } else if (text[i] == '"') {
        quoted = false;
      }
    } else if (text[i] == '"') {
      quoted = true;
    } else if (text[i] == '{') {
      ++count;
    }
  }
  return count;
}

bool ByCriterion(const Answer& a, const Answer& b) { return a.criterion < b.criterion; }

}  // namespace

std::vector<std::string> ParseTextArray(absl::string_view text) {
  absl::string_view rest = text;
  std::vector<std::string> values;
  ConsumeTextArray(rest, text, values);
  if (!rest.empty()) Malformed("text array", text);
  return values;
}

std::vector<int> ParseIntArray(absl::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    Malformed("integer array", text);
  }
  std::vector<int> values;
  const absl::string_view elements = text.substr(1, text.size() - 2);
  if (elements.empty()) return values;
  for (absl::string_view element : absl::StrSplit(elements, ',')) {
    int value = 0;
    if (!absl::SimpleAtoi(element, &value)) Malformed("integer array", text);
    values.push_back(value);
  }
  return values;
}

std::vector<bool> ParseBoolArray(absl::string_view text) {
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    Malformed("boolean array", text);
  }
  std::vector<bool> values;
  const absl::string_view elements = text.substr(1, text.size() - 2);
  if (elements.empty()) return values;
  for (absl::string_view element : absl::StrSplit(elements, ',')) {
    if (element != "t" && element != "f") Malformed("boolean array", text);
    values.push_back(element == "t");
  }
  return values;
}

std::vector<Answer> ParseAnswerScores(absl::string_view text) {
  std::vector<Answer> answers;
  answers.reserve(CountAnswers(text));
  if (text.empty()) return answers;
  absl::string_view rest = text;
  while (true) {
    Answer& answer = answers.emplace_back();
    answer.criterion = ConsumeInt(rest, text);
    ConsumeSpace(rest, text);
    answer.points = ConsumeInt(rest, text);
    ConsumeSpace(rest, text);
    ConsumeTextArray(rest, text, answer.option_ids);
    if (rest.empty()) return answers;
    ConsumeSpace(rest, text);
  }
}

void LoadAnswerScores(pqxx::transaction_base& txn, std::vector<Assessment>& assessments) {
  if (assessments.empty()) return;
  std::unordered_map<int64_t, Assessment*> unread;
  unread.reserve(assessments.size());
  std::string ids = "{";
  for (Assessment& assessment : assessments) {
    unread.emplace(assessment.id, &assessment);
    absl::StrAppend(&ids, ids.size() > 1 ? "," : "", assessment.id);
  }
  ids += "}";
  for (const pqxx::row& row :
       txn.exec_params("SELECT assessment_id, answers FROM assessment_scores "
                       "WHERE assessment_id = ANY($1::bigint[])",
                       ids)) {
    auto assessment = unread.find(row[0].as<int64_t>());
    if (assessment == unread.end()) continue;
    assessment->second->answers =
        ParseAnswerScores(absl::string_view(row[1].c_str(), row[1].size()));
    unread.erase(assessment);
  }
  if (!unread.empty()) {
    // No copy: a draft, or written with triggers off. Its answer rows, then;
    // no ORDER BY, as sorting each assessment's few answers here is cheaper.
    ids = "{";
    for (const auto& [id, assessment] : unread) {
      absl::StrAppend(&ids, ids.size() > 1 ? "," : "", id);
    }
    ids += "}";
    for (const pqxx::row& row : txn.exec_params(
             "SELECT assessment_id, criterion, option_ids, points FROM assessment_answers "
             "WHERE assessment_id = ANY($1::bigint[])",
             ids)) {
      Answer& answer = unread.at(row[0].as<int64_t>())->answers.emplace_back();
      answer.criterion = row[1].as<int>();
      answer.option_ids = ParseTextArray(absl::string_view(row[2].c_str(), row[2].size()));
      answer.points = row[3].as<int>();
    }
  }
  for (Assessment& assessment : assessments) {
    if (!std::is_sorted(assessment.answers.begin(), assessment.answers.end(), ByCriterion)) {
      std::sort(assessment.answers.begin(), assessment.answers.end(), ByCriterion);
    }
  }
}

}  // namespace rqs::db::internal
