#include "client/agreement_command.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "client/ratings_csv.h"
#include "nlohmann/json.hpp"
#include "scoring/agreement.h"

namespace rqs::client {
namespace {

// ordered_json keeps keys in the order written, so the report reads in the
// order the issue lists the figures.
using Json = nlohmann::ordered_json;

constexpr std::string_view kUsage =
    "usage: rqs agreement [--bootstrap N] [--seed S] [--threads T] FILE.csv\n"
    "\n"
    "Inter-rater agreement statistics for long-format ratings. FILE is a CSV with\n"
    "the header study,rater,criterion,value (other columns are ignored; an empty\n"
    "value is a missing rating); '-' reads standard input. Prints JSON.\n"
    "\n"
    "  --bootstrap N  add bootstrap percentile intervals from N resamples of the\n"
    "                 studies (default 0: none)\n"
    "  --seed S       seed of the bootstrap (default 20240229); the same file, N\n"
    "                 and S always give the same intervals\n"
    "  --threads T    worker threads (default 0: one per core)\n";

// More worker threads than this is a typo, not a machine.
constexpr int kMaxThreads = 256;

struct Flags {
  std::string path;
  scoring::AgreementOptions options;
  int threads = 0;
  bool help = false;
};

template <typename Int>
std::optional<Int> ParseInteger(std::string_view text) {
  Int value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// Parses the flags. Returns INVALID_ARGUMENT naming the bad flag or value.
absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags flags;
  bool have_path = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
      return flags;
    }
    if (arg == "-" || arg.empty() || arg[0] != '-') {
      if (have_path) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected one input file, got '", flags.path, "' and '", arg, "'"));
      }
      flags.path = arg;
      have_path = true;
      continue;
    }
    // --name=value or --name value.
    std::string name = arg;
    std::optional<std::string> value;
    if (const size_t equals = arg.find('='); equals != std::string::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (name != "--bootstrap" && name != "--seed" && name != "--threads") {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag '", name, "'"));
    }
    if (!value.has_value()) {
      if (i + 1 == args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag '", name, "' needs a value"));
      }
      value = args[++i];
    }
    if (name == "--seed") {
      const std::optional<uint64_t> seed = ParseInteger<uint64_t>(*value);
      if (!seed.has_value()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--seed must be a non-negative integer, got '", *value, "'"));
      }
      flags.options.seed = *seed;
      continue;
    }
    const int limit = name == "--bootstrap" ? scoring::kMaxBootstrapReplicates : kMaxThreads;
    const std::optional<int> number = ParseInteger<int>(*value);
    if (!number.has_value() || *number < 0 || *number > limit) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be an integer from 0 to ", limit, ", got '", *value, "'"));
    }
    if (name == "--bootstrap") {
      flags.options.bootstrap_replicates = *number;
    } else {
      flags.threads = *number;
    }
  }
  if (!have_path) return absl::InvalidArgumentError("missing input file (use '-' for stdin)");
  return flags;
}

Json Number(const std::optional<double>& value) {
  return value.has_value() ? Json(*value) : Json(nullptr);
}

Json Band(const scoring::Statistic& statistic) {
  return statistic.interpretation.empty() ? Json(nullptr) : Json(statistic.interpretation);
}

// The names the report uses for each statistic: the names, which for
// the ICCs and weighted kappas differ from the library's keys.
struct ReportName {
  scoring::StatisticId id;
  const char* name;
};
constexpr ReportName kKrippendorffNames[] = {
    {scoring::StatisticId::kKrippendorffAlphaNominal, "nominal"},
    {scoring::StatisticId::kKrippendorffAlphaOrdinal, "ordinal"},
    {scoring::StatisticId::kKrippendorffAlphaInterval, "interval"},
    {scoring::StatisticId::kKrippendorffAlphaRatio, "ratio"},
};
constexpr ReportName kIccNames[] = {
    {scoring::StatisticId::kIcc1, "ICC1"},   {scoring::StatisticId::kIcc2, "ICC2"},
    {scoring::StatisticId::kIcc3, "ICC3"},   {scoring::StatisticId::kIcc1k, "ICC1k"},
    {scoring::StatisticId::kIcc2k, "ICC2k"}, {scoring::StatisticId::kIcc3k, "ICC3k"},
};
constexpr ReportName kCohenNames[] = {
    {scoring::StatisticId::kCohenKappa, "cohen_kappa"},
    {scoring::StatisticId::kCohenKappaLinear, "weighted_kappa_linear"},
    {scoring::StatisticId::kCohenKappaQuadratic, "weighted_kappa_quadratic"},
};
constexpr ReportName kGwetNames[] = {
    {scoring::StatisticId::kGwetAc1, "gwet_ac1"},
    {scoring::StatisticId::kGwetAc2Linear, "gwet_ac2_linear"},
    {scoring::StatisticId::kGwetAc2Quadratic, "gwet_ac2_quadratic"},
};

// Every statistic with its report name, in report order: percent agreement,
// the Cohen kappas (two raters only), Fleiss and Gwet, Krippendorff's alphas as
// "krippendorff_alpha_<metric>", then the ICCs.
std::vector<std::pair<scoring::StatisticId, std::string>> AllReportNames(bool two_raters) {
  std::vector<std::pair<scoring::StatisticId, std::string>> names = {
      {scoring::StatisticId::kPercentAgreement, "percent_agreement"}};
  if (two_raters) {
    for (const ReportName& entry : kCohenNames) names.emplace_back(entry.id, entry.name);
  }
  names.emplace_back(scoring::StatisticId::kFleissKappa, "fleiss_kappa");
  for (const ReportName& entry : kGwetNames) names.emplace_back(entry.id, entry.name);
  for (const ReportName& entry : kKrippendorffNames) {
    names.emplace_back(entry.id, absl::StrCat("krippendorff_alpha_", entry.name));
  }
  for (const ReportName& entry : kIccNames) names.emplace_back(entry.id, entry.name);
  return names;
}

Json EntryJson(const std::string& criterion, const scoring::AgreementResult& result,
               const scoring::AgreementOptions& options) {
  using scoring::GetStatistic;
  const bool two_raters = result.raters == 2;
  Json entry;
  entry["criterion"] = criterion;
  entry["subjects"] = result.subjects;
  entry["subjects_used"] = result.subjects_used;
  entry["raters"] = result.raters;
  entry["percent_agreement"] = Number(result.percent_agreement.value);
  if (two_raters) {
    for (const ReportName& cohen : kCohenNames) {
      const scoring::Statistic& statistic = GetStatistic(result, cohen.id);
      const std::string name = cohen.name;
      entry[name] = Number(statistic.value);
      entry[name + "_se"] = Number(statistic.standard_error);
      entry[name + "_ci_low"] = Number(statistic.ci_lower);
      entry[name + "_ci_high"] = Number(statistic.ci_upper);
      entry[name + "_z"] = Number(statistic.z);
      entry[name + "_p"] = Number(statistic.p_value);
    }
  }
  entry["fleiss_kappa"] = Number(result.fleiss_kappa.value);
  entry["fleiss_kappa_se"] = Number(result.fleiss_kappa.standard_error);
  entry["fleiss_kappa_z"] = Number(result.fleiss_kappa.z);
  entry["fleiss_kappa_p"] = Number(result.fleiss_kappa.p_value);
  for (const ReportName& gwet : kGwetNames) {
    const scoring::Statistic& statistic = GetStatistic(result, gwet.id);
    const std::string name = gwet.name;
    entry[name] = Number(statistic.value);
    entry[name + "_se"] = Number(statistic.standard_error);
    entry[name + "_ci_low"] = Number(statistic.ci_lower);
    entry[name + "_ci_high"] = Number(statistic.ci_upper);
    entry[name + "_p"] = Number(statistic.p_value);
  }

  Json alpha = Json::object();
  for (const ReportName& metric : kKrippendorffNames) {
    alpha[metric.name] = Number(GetStatistic(result, metric.id).value);
  }
  entry["krippendorff_alpha"] = std::move(alpha);

  Json icc = Json::object();
  for (const ReportName& type : kIccNames) {
    const scoring::Statistic& statistic = GetStatistic(result, type.id);
    icc[type.name] =
        Json{{"value", Number(statistic.value)},     {"F", Number(statistic.f)},
             {"df1", Number(statistic.df1)},         {"df2", Number(statistic.df2)},
             {"p", Number(statistic.p_value)},       {"ci_low", Number(statistic.ci_lower)},
             {"ci_high", Number(statistic.ci_upper)}};
  }
  entry["icc"] = std::move(icc);

  const std::vector<std::pair<scoring::StatisticId, std::string>> names =
      AllReportNames(two_raters);
  // Bands: Landis & Koch for kappa-type figures, Koo & Li for ICCs; percent
  // agreement has none.
  Json bands = Json::object();
  for (const auto& [id, name] : names) {
    if (id == scoring::StatisticId::kPercentAgreement) continue;
    bands[name] = Band(GetStatistic(result, id));
  }
  entry["interpretation"] = std::move(bands);

  if (options.bootstrap_replicates > 0) {
    Json intervals = Json::object();
    for (const auto& [id, name] : names) {
      const scoring::Statistic& statistic = GetStatistic(result, id);
      intervals[name] = Json{{"ci_low", Number(statistic.bootstrap_ci_lower)},
                             {"ci_high", Number(statistic.bootstrap_ci_upper)}};
    }
    entry["bootstrap"] = Json{{"replicates", options.bootstrap_replicates},
                              {"seed", options.seed},
                              {"confidence_level", options.confidence_level},
                              {"intervals", std::move(intervals)}};
  }
  entry["warnings"] = result.warnings;
  return entry;
}

// One table to analyse: a criterion of the file or the total.
struct Job {
  const CriterionRatings* ratings;
  std::optional<absl::StatusOr<scoring::AgreementResult>> result;
};

// Computes every job's statistics. Criteria are independent, so with several
// of them each worker takes whole criteria (the library then runs its
// bootstrap single-threaded); a lone table gets all threads for its bootstrap.
void RunJobs(const RatingsData& data, std::vector<Job>& jobs,
             const scoring::AgreementOptions& options, int threads) {
  const unsigned hardware = std::max(1u, std::thread::hardware_concurrency());
  const size_t wanted = threads > 0 ? static_cast<size_t>(threads) : size_t{hardware};
  const size_t workers = std::min(wanted, jobs.size());
  scoring::AgreementOptions job_options = options;
  job_options.threads = workers > 1 ? 1 : static_cast<int>(wanted);

  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next++; i < jobs.size(); i = next++) {
      // Converted inside the worker so that only `workers` library tables
      // exist at a time.
      const scoring::RatingsTable table = ToAgreementTable(data, *jobs[i].ratings);
      jobs[i].result = scoring::ComputeAgreement(table, job_options);
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (std::thread& thread : pool) thread.join();
}

}  // namespace

int RunAgreementCommand(const std::vector<std::string>& args, CommandIo& io) {
  const absl::StatusOr<Flags> flags = ParseFlags(args);
  if (!flags.ok()) {
    io.err << "rqs agreement: " << flags.status().message() << " (see 'rqs agreement --help')\n";
    return kExitBadInput;
  }
  if (flags->help) {
    io.out << kUsage;
    return kExitOk;
  }

  const bool from_stdin = flags->path == "-";
  const std::string source = from_stdin ? "<stdin>" : flags->path;
  absl::StatusOr<RatingsData> data =
      from_stdin ? ReadRatingsCsv(io.in) : ReadRatingsCsvFile(flags->path);
  if (!data.ok()) {
    // File errors already name the file; content errors name the line.
    if (data.status().code() == absl::StatusCode::kInvalidArgument) {
      io.err << "rqs agreement: " << source << ": " << data.status().message() << "\n";
    } else {
      io.err << "rqs agreement: " << data.status().message() << "\n";
    }
    return kExitBadInput;
  }

  std::vector<Job> jobs;
  jobs.reserve(data->criteria.size() + 1);
  for (const CriterionRatings& criterion : data->criteria) jobs.push_back(Job{&criterion, {}});
  std::optional<CriterionRatings> total;
  if (data->criteria.size() > 1) {
    total = ComputeTotal(*data);
    jobs.push_back(Job{&*total, {}});
  }
  RunJobs(*data, jobs, flags->options, flags->threads);

  Json criteria = Json::array();
  for (const Job& job : jobs) {
    const absl::StatusOr<scoring::AgreementResult>& result = *job.result;
    if (!result.ok()) {
      io.err << "rqs agreement: " << source;
      if (job.ratings->first_line > 0) io.err << ": line " << job.ratings->first_line;
      io.err << ": criterion '" << job.ratings->criterion << "': " << result.status().message()
             << "\n";
      return kExitBadInput;
    }
    criteria.push_back(EntryJson(job.ratings->criterion, *result, flags->options));
  }
  Json report;
  report["criteria"] = std::move(criteria);
  // Ids are not checked for UTF-8; replacing bad bytes beats failing on them.
  io.out << report.dump(2, ' ', false, Json::error_handler_t::replace) << "\n";
  io.out.flush();
  return io.out ? kExitOk : kExitFailure;
}

}  // namespace rqs::client
