#include "client/session.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace rqs::client {

namespace v1 = ::rqs::v1;

bool Session::Connect(const ChannelSettings& settings) {
  absl::StatusOr<Connection> connection = Connection::Open(options_, settings);
  if (!connection.ok()) {
    // A missing token or unreadable TLS roots is a usage problem.
    exit_code_ = BadInput(connection.status().message());
    return false;
  }
  connection_.emplace(std::move(*connection));
  return true;
}

int Session::BadInput(absl::string_view message) {
  io_.err << "rqs " << command_ << ": " << message << "\n";
  return kExitBadInput;
}

void Session::Fail(absl::string_view message) {
  io_.err << "rqs " << command_ << ": " << message << "\n";
  exit_code_ = kExitFailure;
}

void Session::PrintJson(const google::protobuf::Message& message, bool one_line) {
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.add_whitespace = !one_line;
  print.always_print_primitive_fields = true;
  print.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &json, print);
  io_.out << json;
  if (json.empty() || json.back() != '\n') io_.out << "\n";
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    out << line << "\n";
  }
}

absl::StatusOr<int64_t> ReviewFrom(const ParsedArgs& parsed, size_t positional_index) {
  if (parsed.positional.size() > positional_index) {
    return ParseId(parsed.positional[positional_index], "REVIEW");
  }
  if (const std::optional<std::string> review = parsed.Get("review"); review.has_value()) {
    return ParseId(*review, "--review");
  }
  if (const char* env = std::getenv("RQS_REVIEW"); env != nullptr && *env != '\0') {
    return ParseId(env, "RQS_REVIEW");
  }
  return absl::InvalidArgumentError("missing REVIEW (or --review / RQS_REVIEW)");
}

std::string StudyTypeName(v1::StudyType type) {
  switch (type) {
    case v1::STUDY_TYPE_HANDCRAFTED:
      return "HCR";
    case v1::STUDY_TYPE_DEEP_LEARNING:
      return "DLR";
    case v1::STUDY_TYPE_HYBRID:
      return "HYBRID";
    default:
      return "-";
  }
}

void PrintReport(Session& session, const v1::ScoreReport& report) {
  std::ostream& out = session.out();
  out << absl::StrFormat("Total %d of %d (%.1f %%)", report.total(), report.max_total(),
                         report.percent());
  if (report.target_level() > 0) {
    out << absl::StrFormat(", target RRL%d, attained RRL%d (threshold %g %%)",
                           report.target_level(), report.attained_level(),
                           report.level_threshold_percent());
  } else {
    out << absl::StrFormat(", range %d to %d", report.min_total(), report.max_total());
  }
  out << "\n";
  if (report.levels_size() > 0) {
    Table table({"RRL", "points", "max", "percent", "cumulative", "cum. %", "attained"});
    for (const v1::LevelScore& level : report.levels()) {
      table.Add({absl::StrCat(level.level()), absl::StrCat(level.points()),
                 absl::StrCat(level.max_points()), absl::StrFormat("%.1f", level.percent()),
                 absl::StrCat(level.cumulative_points(), "/", level.cumulative_max_points()),
                 absl::StrFormat("%.1f", level.cumulative_percent()),
                 level.attained() ? "yes" : "no"});
    }
    table.Print(out);
  }
}

bool ListAllStudies(Session& session, v1::ReviewService::Stub& stub, int64_t review,
                    v1::ListStudiesResponse& all) {
  v1::ListStudiesRequest request;
  request.set_review_id(review);
  do {
    v1::ListStudiesResponse page;
    if (!session.Call(stub, &v1::ReviewService::Stub::ListStudies, request, page)) return false;
    for (v1::Study& study : *page.mutable_studies()) *all.add_studies() = std::move(study);
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  return true;
}

bool FindStudy(Session& session, int64_t review, int64_t study_id, v1::Study& study) {
  auto reviews = session.Stub<v1::ReviewService>();
  v1::ListStudiesResponse all;
  if (!ListAllStudies(session, *reviews, review, all)) return false;
  for (const v1::Study& candidate : all.studies()) {
    if (candidate.study_id() == study_id) {
      study = candidate;
      return true;
    }
  }
  session.Fail(absl::StrCat("NOT_FOUND: study ", study_id, " is not in review ", review,
                            " or not visible to you"));
  return false;
}

std::string OptionHint(const v1::Criterion& criterion) {
  std::vector<std::string> options;
  for (const v1::CriterionOption& option : criterion.options()) {
    options.push_back(absl::StrCat(option.id(), " (", option.points() > 0 ? "+" : "",
                                   option.points(), ": ", option.label(), ")"));
  }
  return absl::StrCat(criterion.description(), " ",
                      criterion.kind() == v1::OPTION_KIND_ADDITIVE
                          ? "Sub-items that add up; list those met in \"options\": "
                          : "Choose one \"option\": ",
                      absl::StrJoin(options, "; "), ".");
}

bool CriterionApplies(const v1::Criterion& criterion, v1::StudyType type) {
  return criterion.applies_to() == v1::APPLICABILITY_BOTH || type == v1::STUDY_TYPE_HYBRID ||
         (criterion.applies_to() == v1::APPLICABILITY_HANDCRAFTED_ONLY &&
          type == v1::STUDY_TYPE_HANDCRAFTED) ||
         (criterion.applies_to() == v1::APPLICABILITY_DEEP_LEARNING_ONLY &&
          type == v1::STUDY_TYPE_DEEP_LEARNING);
}

}  // namespace rqs::client
