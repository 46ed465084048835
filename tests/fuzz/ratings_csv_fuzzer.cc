// Fuzz target for the ratings CSV reader of `rqs agreement`: ParseRatingsCsv,
// and, on inputs it accepts, the path the command takes next: ComputeTotal,
// ToAgreementTable and scoring::ComputeAgreement.
//
// Ratings files are exported from spreadsheets and survey tools, so they are
// untrusted. The reader must reject malformed input with a "line N: " error;
// whatever it accepts must be a well-formed table the statistics accept, and
// the statistics must keep their promise of never reporting NaN or infinity.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "client/ratings_csv.h"
#include "scoring/agreement.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The statistics are polynomial in the table size (Krippendorff's alpha is
// quadratic in the distinct values); larger tables would let one input take
// seconds and starve the search. The parser itself is exercised at any size.
constexpr size_t kMaxCells = 256;
constexpr size_t kMaxTablesPerInput = 4;

void CheckOptionalFinite(const std::optional<double>& value) {
  RQS_FUZZ_CHECK(!value.has_value() || std::isfinite(*value));
}

void CheckStatistic(const rqs::scoring::Statistic& statistic) {
  for (const std::optional<double>* field :
       {&statistic.value, &statistic.standard_error, &statistic.z, &statistic.f, &statistic.df1,
        &statistic.df2, &statistic.p_value, &statistic.ci_lower, &statistic.ci_upper,
        &statistic.bootstrap_ci_lower, &statistic.bootstrap_ci_upper}) {
    CheckOptionalFinite(*field);
  }
  if (statistic.p_value.has_value()) {
    RQS_FUZZ_CHECK(*statistic.p_value >= 0 && *statistic.p_value <= 1);
  }
}

void CheckTable(const rqs::client::RatingsData& data,
                const rqs::client::CriterionRatings& ratings) {
  RQS_FUZZ_CHECK(ratings.values.size() == ratings.num_subjects() * ratings.num_raters());
  for (uint32_t study : ratings.studies) RQS_FUZZ_CHECK(study < data.study_ids.size());
  for (uint32_t rater : ratings.raters) RQS_FUZZ_CHECK(rater < data.rater_ids.size());
  for (double value : ratings.values) RQS_FUZZ_CHECK(std::isnan(value) || std::isfinite(value));
}

// Runs the statistics on one table, as `rqs agreement` does, if it is small.
void CheckAgreement(const rqs::client::RatingsData& data,
                    const rqs::client::CriterionRatings& ratings) {
  if (ratings.values.size() > kMaxCells) return;
  const rqs::scoring::RatingsTable table = rqs::client::ToAgreementTable(data, ratings);
  RQS_FUZZ_CHECK(table.ratings.size() == ratings.num_subjects());
  RQS_FUZZ_CHECK(table.rater_labels.size() == ratings.num_raters());

  rqs::scoring::AgreementOptions options;
  // A few replicates on one thread cover the bootstrap code cheaply and
  // deterministically.
  options.bootstrap_replicates = 8;
  options.threads = 1;
  const absl::StatusOr<rqs::scoring::AgreementResult> result =
      rqs::scoring::ComputeAgreement(table, options);
  if (ratings.num_raters() < 2) {
    // The one malformation the reader cannot rule out: a criterion with a
    // single rater. `rqs agreement` reports it; it must not be a crash.
    RQS_FUZZ_CHECK(absl::IsInvalidArgument(result.status()));
    return;
  }
  // Everything else the reader builds is a valid table.
  RQS_FUZZ_CHECK(result.ok());
  RQS_FUZZ_CHECK(static_cast<size_t>(result->subjects) == ratings.num_subjects());
  RQS_FUZZ_CHECK(static_cast<size_t>(result->raters) == ratings.num_raters());
  RQS_FUZZ_CHECK(result->subjects_used >= 0 && result->subjects_used <= result->subjects);
  for (double category : result->categories) RQS_FUZZ_CHECK(std::isfinite(category));
  for (rqs::scoring::StatisticId id : rqs::scoring::kAllStatistics) {
    CheckStatistic(rqs::scoring::GetStatistic(*result, id));
  }
  const std::optional<double>& percent = result->percent_agreement.value;
  RQS_FUZZ_CHECK(!percent.has_value() || (*percent >= 0 && *percent <= 1 + 1e-9));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<rqs::client::RatingsData> parsed = rqs::client::ParseRatingsCsv(text);
  if (!parsed.ok()) {
    RQS_FUZZ_CHECK(absl::IsInvalidArgument(parsed.status()));
    RQS_FUZZ_CHECK(absl::StartsWith(parsed.status().message(), "line "));
    return 0;
  }

  RQS_FUZZ_CHECK(parsed->num_records > 0);
  RQS_FUZZ_CHECK(!parsed->criteria.empty());
  // Ids are interned: non-empty and each listed once.
  for (const std::vector<std::string>* ids : {&parsed->study_ids, &parsed->rater_ids}) {
    RQS_FUZZ_CHECK(!ids->empty());
    RQS_FUZZ_CHECK(std::set<std::string>(ids->begin(), ids->end()).size() == ids->size());
    for (const std::string& id : *ids) RQS_FUZZ_CHECK(!id.empty());
  }
  std::set<std::string> criteria;
  for (const rqs::client::CriterionRatings& ratings : parsed->criteria) {
    RQS_FUZZ_CHECK(!ratings.criterion.empty());
    RQS_FUZZ_CHECK(criteria.insert(ratings.criterion).second);
    RQS_FUZZ_CHECK(ratings.first_line > 0);
    CheckTable(*parsed, ratings);
  }

  for (size_t c = 0; c < parsed->criteria.size() && c < kMaxTablesPerInput; ++c) {
    CheckAgreement(*parsed, parsed->criteria[c]);
  }
  const rqs::client::CriterionRatings total = rqs::client::ComputeTotal(*parsed);
  RQS_FUZZ_CHECK(total.num_subjects() == parsed->study_ids.size());
  RQS_FUZZ_CHECK(total.num_raters() == parsed->rater_ids.size());
  CheckTable(*parsed, total);
  CheckAgreement(*parsed, total);
  return 0;
}
