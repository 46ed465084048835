#include "client/consensus_args.h"

#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "client/args.h"
#include "client/input_file.h"
#include "client/session.h"
#include "nlohmann/json.hpp"
#include "scoring/status_macros.h"

namespace rqs::client {
namespace {

namespace v1 = ::rqs::v1;

// `message` and where to read more: "missing --round (see 'rqs help round')".
absl::Status Usage(absl::string_view message, absl::string_view command) {
  return absl::InvalidArgumentError(absl::StrCat(message, " (see 'rqs help ", command, "')"));
}

absl::StatusOr<ParsedArgs> Parse(const std::vector<std::string>& args, const ArgSpec& spec,
                                 absl::string_view usage) {
  absl::StatusOr<ParsedArgs> parsed = ParseArgs(args, spec);
  if (!parsed.ok()) return Usage(parsed.status().message(), usage);
  return parsed;
}

// The review from --review / RQS_REVIEW, or the one positional argument when
// `positional_allowed`.
absl::StatusOr<int64_t> Review(const ParsedArgs& parsed, bool positional_allowed,
                               absl::string_view usage) {
  const size_t allowed = positional_allowed ? 1 : 0;
  if (parsed.positional.size() > allowed) {
    return Usage(absl::StrCat("unexpected argument '", parsed.positional[allowed], "'"), usage);
  }
  absl::StatusOr<int64_t> review = ReviewFrom(parsed, 0);
  if (!review.ok()) return Usage(review.status().message(), usage);
  return review;
}

absl::StatusOr<int64_t> RequiredId(const ParsedArgs& parsed, absl::string_view flag,
                                   absl::string_view usage) {
  const std::optional<std::string> value = parsed.Get(flag);
  if (!value.has_value()) return Usage(absl::StrCat("missing --", flag), usage);
  return ParseId(*value, absl::StrCat("--", flag));
}

absl::StatusOr<std::optional<int32_t>> OptionalInt32(const ParsedArgs& parsed,
                                                     absl::string_view flag) {
  RQS_ASSIGN_OR_RETURN(const std::optional<int64_t> value, parsed.GetInt(flag));
  if (!value.has_value()) return std::optional<int32_t>();
  if (*value < std::numeric_limits<int32_t>::min() ||
      *value > std::numeric_limits<int32_t>::max()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", *value, " is out of range"));
  }
  return std::optional<int32_t>(static_cast<int32_t>(*value));
}

absl::StatusOr<std::optional<double>> OptionalDouble(const ParsedArgs& parsed,
                                                     absl::string_view flag) {
  const std::optional<std::string> value = parsed.Get(flag);
  if (!value.has_value()) return std::optional<double>();
  double number = 0;
  if (!absl::SimpleAtod(*value, &number) || !std::isfinite(number)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": expected a number, got '", *value, "'"));
  }
  return std::optional<double>(number);
}

absl::StatusOr<std::optional<bool>> OptionalYesNo(const ParsedArgs& parsed,
                                                  absl::string_view flag) {
  const std::optional<std::string> value = parsed.Get(flag);
  if (!value.has_value()) return std::optional<bool>();
  RQS_ASSIGN_OR_RETURN(const bool yes, ParseYesNo(*value, absl::StrCat("--", flag)));
  return std::optional<bool>(yes);
}

// Errors end with a pointer to the command's help, so they stay one line.
constexpr char kPolicyUsage[] = "policy";
constexpr char kRoundUsage[] = "round";
constexpr char kFeedbackUsage[] = "feedback";
constexpr char kAdjudicateUsage[] = "adjudicate";
constexpr char kConsensusUsage[] = "consensus";
constexpr char kAgreementUsage[] = "agreement";
constexpr char kExportUsage[] = "export";
constexpr char kReportUsage[] = "report";
constexpr char kWatchUsage[] = "watch";

// The JSON type of `value` for messages.
std::string TypeName(const nlohmann::json& value) { return value.type_name(); }

}  // namespace

absl::StatusOr<bool> ParseYesNo(absl::string_view text, absl::string_view flag) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "yes" || lower == "true" || lower == "on" || lower == "1") return true;
  if (lower == "no" || lower == "false" || lower == "off" || lower == "0") return false;
  return absl::InvalidArgumentError(absl::StrCat(flag, ": expected yes or no, got '", text, "'"));
}

absl::StatusOr<PolicyArgs> ParsePolicyArgs(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("expected 'show' or 'set'", kPolicyUsage);
  PolicyArgs policy;
  const std::string& verb = args[0];
  if (verb != "show" && verb != "set") {
    return Usage(absl::StrCat("unknown verb '", verb, "' (show, set)"), kPolicyUsage);
  }
  policy.set = verb == "set";
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  ArgSpec spec{{"review"}, {}};
  if (policy.set) {
    spec.value_flags.insert(
        {"threshold", "max-rounds", "stop-when-stable", "level-threshold", "share-rationales"});
  }
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed, Parse(rest, spec, kPolicyUsage));
  RQS_ASSIGN_OR_RETURN(policy.review_id, Review(parsed, true, kPolicyUsage));
  if (!policy.set) return policy;
  RQS_ASSIGN_OR_RETURN(policy.agreement_threshold, OptionalDouble(parsed, "threshold"));
  RQS_ASSIGN_OR_RETURN(policy.max_rounds, OptionalInt32(parsed, "max-rounds"));
  RQS_ASSIGN_OR_RETURN(policy.stop_when_stable, OptionalYesNo(parsed, "stop-when-stable"));
  RQS_ASSIGN_OR_RETURN(policy.level_threshold, OptionalDouble(parsed, "level-threshold"));
  RQS_ASSIGN_OR_RETURN(policy.share_rationales, OptionalYesNo(parsed, "share-rationales"));
  if (!policy.agreement_threshold && !policy.max_rounds && !policy.stop_when_stable &&
      !policy.level_threshold && !policy.share_rationales) {
    return Usage("give at least one field to change", kPolicyUsage);
  }
  return policy;
}

v1::Policy ApplyPolicyChanges(const PolicyArgs& args, v1::Policy policy) {
  if (args.agreement_threshold) policy.set_agreement_threshold(*args.agreement_threshold);
  if (args.max_rounds) policy.set_max_rounds(*args.max_rounds);
  if (args.stop_when_stable) policy.set_stop_when_stable(*args.stop_when_stable);
  if (args.level_threshold) policy.set_level_threshold_percent(*args.level_threshold);
  if (args.share_rationales) policy.set_share_rationales(*args.share_rationales);
  return policy;
}

absl::StatusOr<int64_t> ParseReviewOnlyArgs(const std::vector<std::string>& args,
                                            absl::string_view usage) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed, Parse(args, {{"review"}, {}}, usage));
  return Review(parsed, true, usage);
}

absl::StatusOr<v1::CloseRoundRequest> ParseRoundArgs(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("expected 'close'", kRoundUsage);
  if (args[0] != "close") {
    return Usage(absl::StrCat("unknown verb '", args[0], "' (close)"), kRoundUsage);
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(rest, {{"review", "study", "round"}, {"all"}}, kRoundUsage));
  v1::CloseRoundRequest request;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, false, kRoundUsage));
  request.set_review_id(review);
  const bool all = parsed.Has("all");
  if (all == parsed.Get("study").has_value()) {
    return Usage("give --study S or --all", kRoundUsage);
  }
  if (!all) {
    RQS_ASSIGN_OR_RETURN(const int64_t study, RequiredId(parsed, "study", kRoundUsage));
    request.set_study_id(study);
  }
  RQS_ASSIGN_OR_RETURN(const std::optional<int32_t> round, OptionalInt32(parsed, "round"));
  if (!round.has_value()) return Usage("missing --round", kRoundUsage);
  request.set_round(*round);
  return request;
}

absl::StatusOr<FeedbackArgs> ParseFeedbackArgs(const std::vector<std::string>& args) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(args, {{"review", "study", "template"}, {}}, kFeedbackUsage));
  FeedbackArgs feedback;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, false, kFeedbackUsage));
  RQS_ASSIGN_OR_RETURN(const int64_t study, RequiredId(parsed, "study", kFeedbackUsage));
  feedback.request.set_review_id(review);
  feedback.request.set_study_id(study);
  feedback.template_path = parsed.Get("template");
  if (feedback.template_path.has_value() && feedback.template_path->empty()) {
    return Usage("--template: empty file name", kFeedbackUsage);
  }
  return feedback;
}

absl::StatusOr<std::vector<v1::AdjudicationInput>> ParseAdjudicationFile(
    absl::string_view json_text) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text.begin(), json_text.end());
  } catch (const nlohmann::json::exception& error) {
    return absl::InvalidArgumentError(absl::StrCat("malformed JSON: ", error.what()));
  }
  if (!root.is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected a JSON list of decisions, got ", TypeName(root)));
  }
  if (root.empty()) return absl::InvalidArgumentError("the list of decisions is empty");
  std::vector<v1::AdjudicationInput> decisions;
  for (size_t i = 0; i < root.size(); ++i) {
    const nlohmann::json& item = root[i];
    const std::string at = absl::StrCat("[", i, "]");
    if (!item.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": expected an object, got ", TypeName(item)));
    }
    for (const auto& field : item.items()) {
      if (field.key() != "criterion" && field.key() != "option_ids" && field.key() != "points" &&
          field.key() != "reason") {
        return absl::InvalidArgumentError(absl::StrCat(at, ".", field.key(), ": unknown field"));
      }
    }
    const auto integer = [&](const char* key) -> absl::StatusOr<int32_t> {
      const nlohmann::json& value = item[key];
      if (!value.is_number_integer() ||
          value.get<int64_t>() > std::numeric_limits<int32_t>::max() ||
          value.get<int64_t>() < std::numeric_limits<int32_t>::min()) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ".", key, ": expected an integer, got ",
                         value.is_number() ? value.dump() : TypeName(value)));
      }
      return static_cast<int32_t>(value.get<int64_t>());
    };
    v1::AdjudicationInput decision;
    if (!item.contains("criterion")) {
      return absl::InvalidArgumentError(absl::StrCat(at, ": missing field 'criterion'"));
    }
    RQS_ASSIGN_OR_RETURN(const int32_t criterion, integer("criterion"));
    decision.set_criterion(criterion);
    const std::string named = absl::StrCat(at, " (criterion ", criterion, ")");
    const bool has_options = item.contains("option_ids") && !item["option_ids"].is_null();
    const bool has_points = item.contains("points") && !item["points"].is_null();
    if (has_options == has_points) {
      return absl::InvalidArgumentError(
          absl::StrCat(named, ": give exactly one of 'option_ids' and 'points'"));
    }
    if (has_options) {
      const nlohmann::json& ids = item["option_ids"];
      if (!ids.is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat(named, ".option_ids: expected a list of option ids, got ", TypeName(ids)));
      }
      for (size_t j = 0; j < ids.size(); ++j) {
        if (!ids[j].is_string()) {
          return absl::InvalidArgumentError(absl::StrCat(
              named, ".option_ids[", j, "]: expected a string, got ", TypeName(ids[j])));
        }
        decision.add_option_ids(ids[j].get<std::string>());
      }
    } else {
      RQS_ASSIGN_OR_RETURN(const int32_t points, integer("points"));
      decision.set_points(points);
    }
    if (!item.contains("reason") || !item["reason"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          named, ".reason: expected a string (why this answer)",
          item.contains("reason") ? absl::StrCat(", got ", TypeName(item["reason"])) : ""));
    }
    decision.set_reason(item["reason"].get<std::string>());
    decisions.push_back(std::move(decision));
  }
  return decisions;
}

absl::StatusOr<v1::AdjudicateRequest> ParseAdjudicateArgs(const std::vector<std::string>& args,
                                                          std::istream& in) {
  RQS_ASSIGN_OR_RETURN(
      const ParsedArgs parsed,
      Parse(args, {{"review", "study", "criterion", "option", "points", "reason", "file"}, {}},
            kAdjudicateUsage));
  v1::AdjudicateRequest request;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, false, kAdjudicateUsage));
  RQS_ASSIGN_OR_RETURN(const int64_t study, RequiredId(parsed, "study", kAdjudicateUsage));
  request.set_review_id(review);
  request.set_study_id(study);
  const std::vector<std::string> options = parsed.GetAll("option");
  const bool single =
      parsed.Get("criterion") || !options.empty() || parsed.Get("points") || parsed.Get("reason");
  if (const std::optional<std::string> file = parsed.Get("file"); file.has_value()) {
    if (single) {
      return Usage("--file replaces --criterion, --option, --points and --reason",
                   kAdjudicateUsage);
    }
    RQS_ASSIGN_OR_RETURN(const std::string text, ReadInputFile(*file, in));
    absl::StatusOr<std::vector<v1::AdjudicationInput>> decisions = ParseAdjudicationFile(text);
    if (!decisions.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(*file, ": ", decisions.status().message()));
    }
    for (v1::AdjudicationInput& decision : *decisions) {
      *request.add_decisions() = std::move(decision);
    }
    return request;
  }
  RQS_ASSIGN_OR_RETURN(const std::optional<int32_t> criterion, OptionalInt32(parsed, "criterion"));
  if (!criterion.has_value()) return Usage("missing --criterion (or --file)", kAdjudicateUsage);
  v1::AdjudicationInput* decision = request.add_decisions();
  decision->set_criterion(*criterion);
  RQS_ASSIGN_OR_RETURN(const std::optional<int32_t> points, OptionalInt32(parsed, "points"));
  if (options.empty() == !points.has_value()) {
    return Usage("give --option ID... or --points P", kAdjudicateUsage);
  }
  if (points.has_value()) {
    decision->set_points(*points);
  } else {
    // "--option a,b" and "--option a --option b" are the same; "--option ''"
    // chooses no sub-item of an additive criterion.
    for (const std::string& value : options) {
      for (absl::string_view id : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
        decision->add_option_ids(std::string(absl::StripAsciiWhitespace(id)));
      }
    }
  }
  const std::optional<std::string> reason = parsed.Get("reason");
  if (!reason.has_value()) return Usage("missing --reason TEXT", kAdjudicateUsage);
  decision->set_reason(*reason);
  return request;
}

absl::StatusOr<v1::GetConsensusRequest> ParseConsensusArgs(const std::vector<std::string>& args) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(args, {{"review", "study"}, {}}, kConsensusUsage));
  v1::GetConsensusRequest request;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, true, kConsensusUsage));
  request.set_review_id(review);
  if (parsed.Get("study").has_value()) {
    RQS_ASSIGN_OR_RETURN(const int64_t study, RequiredId(parsed, "study", kConsensusUsage));
    request.set_study_id(study);
  }
  return request;
}

bool IsRemoteAgreement(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") return false;
    if (arg == "--review" || absl::StartsWith(arg, "--review=")) return true;
  }
  return false;
}

absl::StatusOr<v1::GetAgreementRequest> ParseRemoteAgreementArgs(
    const std::vector<std::string>& args) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(args, {{"review", "bootstrap", "seed"}, {}}, kAgreementUsage));
  v1::GetAgreementRequest request;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, false, kAgreementUsage));
  request.set_review_id(review);
  RQS_ASSIGN_OR_RETURN(const std::optional<int32_t> bootstrap, OptionalInt32(parsed, "bootstrap"));
  request.set_bootstrap_replicates(bootstrap.value_or(0));
  if (const std::optional<std::string> seed = parsed.Get("seed"); seed.has_value()) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(*seed, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--seed: expected a non-negative integer, got '", *seed, "'"));
    }
    request.set_seed(value);
  }
  return request;
}

absl::StatusOr<v1::ExportFormat> ParseExportFormat(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "long") return v1::EXPORT_FORMAT_LONG_CSV;
  if (lower == "wide") return v1::EXPORT_FORMAT_WIDE_CSV;
  if (lower == "json") return v1::EXPORT_FORMAT_JSON;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: unknown format '", text, "' (long, wide, json)"));
}

absl::StatusOr<ExportArgs> ParseExportArgs(const std::vector<std::string>& args) {
  // "-o FILE" is the short form of --output.
  std::vector<std::string> normalised;
  for (const std::string& arg : args) normalised.push_back(arg == "-o" ? "--output" : arg);
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(normalised, {{"review", "format", "output"}, {}}, kExportUsage));
  ExportArgs export_args;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, true, kExportUsage));
  export_args.request.set_review_id(review);
  const std::optional<std::string> format = parsed.Get("format");
  if (!format.has_value()) return Usage("missing --format long|wide|json", kExportUsage);
  RQS_ASSIGN_OR_RETURN(const v1::ExportFormat parsed_format, ParseExportFormat(*format));
  export_args.request.set_format(parsed_format);
  export_args.output = parsed.Get("output");
  if (export_args.output.has_value() && export_args.output->empty()) {
    return Usage("--output: empty file name", kExportUsage);
  }
  if (export_args.output == "-") export_args.output.reset();
  return export_args;
}

absl::StatusOr<ReportArgs> ParseReportArgs(const std::vector<std::string>& args) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(args, {{"review", "html"}, {}}, kReportUsage));
  ReportArgs report;
  RQS_ASSIGN_OR_RETURN(report.review_id, Review(parsed, true, kReportUsage));
  const std::optional<std::string> html = parsed.Get("html");
  if (!html.has_value() || html->empty()) return Usage("missing --html FILE", kReportUsage);
  report.html_path = *html;
  return report;
}

absl::StatusOr<v1::WatchReviewRequest> ParseWatchArgs(const std::vector<std::string>& args) {
  RQS_ASSIGN_OR_RETURN(const ParsedArgs parsed,
                       Parse(args, {{"review", "after"}, {}}, kWatchUsage));
  v1::WatchReviewRequest request;
  RQS_ASSIGN_OR_RETURN(const int64_t review, Review(parsed, true, kWatchUsage));
  request.set_review_id(review);
  RQS_ASSIGN_OR_RETURN(const std::optional<int64_t> after, parsed.GetInt("after"));
  if (after.has_value() && *after < -1) {
    return absl::InvalidArgumentError(
        "--after: expected an event id, 0 (the whole history) or -1 (only new events)");
  }
  request.set_after_event_id(after.value_or(-1));
  return request;
}

}  // namespace rqs::client
