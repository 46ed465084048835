#include "client/answer_file.h"

#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "scoring/status_macros.h"

namespace rqs::client {
namespace {

using nlohmann::json;

const std::set<std::string, std::less<>>& TopLevelKeys() {
  static const auto* const kKeys = new std::set<std::string, std::less<>>{
      "instrument", "study_type", "target_rrl", "level_threshold", "answers",
      "study",      "comment",    "review_id",  "study_id", "round"};
  return *kKeys;
}

// Keys an answer may carry. Name, hint and rrl are written by `rqs template`
// for the rater's convenience and ignored when scoring.
const std::set<std::string, std::less<>>& AnswerKeys() {
  static const auto* const kKeys = new std::set<std::string, std::less<>>{
      "criterion", "option", "options", "points", "rationale", "evidence", "name", "hint", "rrl"};
  return *kKeys;
}

absl::Status FieldError(absl::string_view where, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", reason));
}

std::string TypeName(const json& value) { return value.type_name(); }

absl::Status CheckKeys(const json& object, const std::set<std::string, std::less<>>& allowed,
                       absl::string_view where) {
  for (const auto& item : object.items()) {
    if (allowed.count(item.key()) == 0) {
      return FieldError(where.empty() ? item.key() : absl::StrCat(where, ".", item.key()),
                        "unknown field");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> GetString(const json& value, absl::string_view where) {
  if (!value.is_string()) {
    return FieldError(where, absl::StrCat("expected a string, got ", TypeName(value)));
  }
  return value.get<std::string>();
}

absl::StatusOr<int> GetInt(const json& value, absl::string_view where) {
  // JSON has one number type; accept 2.0 but not 2.5.
  if (value.is_number_integer()) {
    if (value.is_number_unsigned() ? value.get<uint64_t>() > std::numeric_limits<int>::max()
                                   : value.get<int64_t>() > std::numeric_limits<int>::max() ||
                                         value.get<int64_t>() < std::numeric_limits<int>::min()) {
      return FieldError(where, "integer out of range");
    }
    return static_cast<int>(value.get<int64_t>());
  }
  if (value.is_number_float()) {
    const double number = value.get<double>();
    if (std::trunc(number) == number && std::fabs(number) < 1e9) return static_cast<int>(number);
    return FieldError(where, absl::StrCat("expected an integer, got ", value.dump()));
  }
  return FieldError(where, absl::StrCat("expected an integer, got ", TypeName(value)));
}

absl::StatusOr<std::string> GetOptionalString(const json& object, const char* key,
                                              absl::string_view where) {
  const auto value = object.find(key);
  if (value == object.end() || value->is_null()) return std::string();
  return GetString(*value, where.empty() ? std::string(key) : absl::StrCat(where, ".", key));
}

absl::StatusOr<EvidenceNote> ParseEvidence(const json& value, absl::string_view where) {
  EvidenceNote evidence;
  if (value.is_null()) return evidence;
  if (value.is_string()) {
    evidence.section = value.get<std::string>();
    return evidence;
  }
  if (!value.is_object()) {
    return FieldError(where, absl::StrCat("expected a string or an object with page, section, "
                                          "quote, got ",
                                          TypeName(value)));
  }
  static const auto* const kKeys =
      new std::set<std::string, std::less<>>{"page", "section", "quote"};
  RQS_RETURN_IF_ERROR(CheckKeys(value, *kKeys, where));
  RQS_ASSIGN_OR_RETURN(evidence.page, GetOptionalString(value, "page", where));
  RQS_ASSIGN_OR_RETURN(evidence.section, GetOptionalString(value, "section", where));
  RQS_ASSIGN_OR_RETURN(evidence.quote, GetOptionalString(value, "quote", where));
  return evidence;
}

absl::StatusOr<scoring::Answer> ParseAnswer(const json& item, absl::string_view where,
                                            AnswerNote& note) {
  if (!item.is_object()) {
    return FieldError(where, absl::StrCat("expected an object, got ", TypeName(item)));
  }
  RQS_RETURN_IF_ERROR(CheckKeys(item, AnswerKeys(), where));
  scoring::Answer answer;
  const auto criterion = item.find("criterion");
  if (criterion == item.end()) return FieldError(where, "missing field 'criterion'");
  RQS_ASSIGN_OR_RETURN(answer.criterion, GetInt(*criterion, absl::StrCat(where, ".criterion")));

  // From here on, messages name the criterion, which is what a rater looks for.
  const std::string at = absl::StrCat(where, " (criterion ", answer.criterion, ")");
  const auto option = item.find("option");
  const auto options = item.find("options");
  const auto points = item.find("points");
  if (option != item.end() && options != item.end()) {
    return FieldError(at, "give 'option' or 'options', not both");
  }
  if (option != item.end() && !option->is_null()) {
    RQS_ASSIGN_OR_RETURN(std::string id, GetString(*option, absl::StrCat(at, ".option")));
    answer.option_ids = std::vector<std::string>{std::move(id)};
  }
  if (options != item.end() && !options->is_null()) {
    if (!options->is_array()) {
      return FieldError(absl::StrCat(at, ".options"),
                        absl::StrCat("expected a list of option ids, got ", TypeName(*options)));
    }
    std::vector<std::string> ids;
    for (size_t i = 0; i < options->size(); ++i) {
      RQS_ASSIGN_OR_RETURN(std::string id,
                           GetString((*options)[i], absl::StrCat(at, ".options[", i, "]")));
      ids.push_back(std::move(id));
    }
    answer.option_ids = std::move(ids);
  }
  if (points != item.end() && !points->is_null()) {
    RQS_ASSIGN_OR_RETURN(answer.points, GetInt(*points, absl::StrCat(at, ".points")));
  }
  for (const char* text_field : {"name", "hint"}) {
    RQS_RETURN_IF_ERROR(GetOptionalString(item, text_field, at).status());
  }
  RQS_ASSIGN_OR_RETURN(note.rationale, GetOptionalString(item, "rationale", at));
  if (const auto evidence = item.find("evidence"); evidence != item.end()) {
    RQS_ASSIGN_OR_RETURN(note.evidence, ParseEvidence(*evidence, absl::StrCat(at, ".evidence")));
  }
  return answer;
}

}  // namespace

absl::StatusOr<AnswerFile> ParseAnswerFile(absl::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::exception& error) {
    // A syntax error (parse_error, whose message carries the line and column)
    // or a number beyond the range of double (out_of_range, e.g. 1e400).
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", error.what()));
  }
  if (!root.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON object at the top level, got ", TypeName(root)));
  }
  RQS_RETURN_IF_ERROR(CheckKeys(root, TopLevelKeys(), ""));

  AnswerFile file;
  const auto instrument = root.find("instrument");
  if (instrument == root.end()) return FieldError("instrument", "missing (\"rqs2\" or \"rqs1\")");
  RQS_ASSIGN_OR_RETURN(std::string instrument_id, GetString(*instrument, "instrument"));
  absl::StatusOr<const scoring::Instrument*> found = scoring::FindInstrument(instrument_id);
  if (!found.ok()) return FieldError("instrument", found.status().message());
  file.instrument = *found;

  const auto study_type = root.find("study_type");
  if (study_type == root.end()) return FieldError("study_type", "missing (HCR, DLR or HYBRID)");
  RQS_ASSIGN_OR_RETURN(std::string study_type_name, GetString(*study_type, "study_type"));
  absl::StatusOr<scoring::StudyType> type = scoring::ParseStudyType(study_type_name);
  if (!type.ok()) return FieldError("study_type", type.status().message());
  file.request.study_type = *type;

  if (const auto target = root.find("target_rrl"); target != root.end() && !target->is_null()) {
    RQS_ASSIGN_OR_RETURN(file.request.target_level, GetInt(*target, "target_rrl"));
  }
  if (const auto threshold = root.find("level_threshold");
      threshold != root.end() && !threshold->is_null()) {
    if (!threshold->is_number()) {
      return FieldError("level_threshold",
                        absl::StrCat("expected a number (percent), got ", TypeName(*threshold)));
    }
    file.request.level_threshold_percent = threshold->get<double>();
  }
  for (const char* text_field : {"study", "comment"}) {
    RQS_RETURN_IF_ERROR(GetOptionalString(root, text_field, "").status());
  }
  for (auto [key, target] :
       {std::pair{"review_id", &file.review_id}, std::pair{"study_id", &file.study_id}}) {
    const auto id = root.find(key);
    if (id == root.end() || id->is_null()) continue;
    if (!id->is_number_integer() || id->get<int64_t>() <= 0) {
      return FieldError(key, absl::StrCat("expected a positive integer id, got ", id->dump()));
    }
    *target = id->get<int64_t>();
  }

  if (const auto round = root.find("round"); round != root.end() && !round->is_null()) {
    RQS_ASSIGN_OR_RETURN(const int number, GetInt(*round, "round"));
    if (number < 1) {
      return FieldError("round", absl::StrCat("expected a round number >= 1, got ", number));
    }
    file.round = number;
  }

  const auto answers = root.find("answers");
  if (answers != root.end() && !answers->is_null()) {
    if (!answers->is_array()) {
      return FieldError("answers", absl::StrCat("expected a list, got ", TypeName(*answers)));
    }
    for (size_t i = 0; i < answers->size(); ++i) {
      AnswerNote note;
      RQS_ASSIGN_OR_RETURN(scoring::Answer answer,
                           ParseAnswer((*answers)[i], absl::StrCat("answers[", i, "]"), note));
      file.request.answers.push_back(std::move(answer));
      file.notes.push_back(std::move(note));
    }
  }
  return file;
}

absl::StatusOr<scoring::ScoreReport> ScoreAnswerFile(absl::string_view json_text) {
  RQS_ASSIGN_OR_RETURN(AnswerFile file, ParseAnswerFile(json_text));
  return scoring::ScoreStudy(*file.instrument, file.request);
}

nlohmann::ordered_json ScoreReportToJson(const scoring::ScoreReport& report) {
  nlohmann::ordered_json out;
  out["instrument"] = report.instrument_id;
  out["instrument_version"] = report.instrument_version;
  out["study_type"] = std::string(scoring::StudyTypeName(report.study_type));
  // Instruments without levels keep the keys, as null, so every report has one shape.
  const bool has_levels = report.target_level > 0;
  out["target_rrl"] = has_levels ? nlohmann::ordered_json(report.target_level) : nullptr;
  out["level_threshold"] =
      has_levels ? nlohmann::ordered_json(report.level_threshold_percent) : nullptr;
  out["total"] = report.total;
  out["max"] = report.max;
  out["min"] = report.min;
  out["percent"] = report.percent;
  out["attained_rrl"] = has_levels ? nlohmann::ordered_json(report.attained_level) : nullptr;
  if (has_levels) {
    nlohmann::ordered_json levels = nlohmann::ordered_json::array();
    for (const scoring::LevelScore& level : report.levels) {
      levels.push_back({{"rrl", level.level},
                        {"points", level.points},
                        {"max", level.max},
                        {"percent", level.percent},
                        {"cumulative_points", level.cumulative_points},
                        {"cumulative_max", level.cumulative_max},
                        {"cumulative_percent", level.cumulative_percent},
                        {"attained", level.attained}});
    }
    out["levels"] = std::move(levels);
  }
  nlohmann::ordered_json criteria = nlohmann::ordered_json::array();
  for (const scoring::CriterionScore& criterion : report.criteria) {
    nlohmann::ordered_json entry = {{"criterion", criterion.criterion}};
    if (criterion.level > 0) entry["rrl"] = criterion.level;
    entry["answered"] = criterion.answered;
    if (!criterion.option_ids.empty()) entry["options"] = criterion.option_ids;
    entry["points"] = criterion.points;
    entry["max"] = criterion.max;
    criteria.push_back(std::move(entry));
  }
  out["criteria"] = std::move(criteria);
  return out;
}

}  // namespace rqs::client
