// Bootstrap percentile intervals: subjects resampled with replacement.
//
// Reproducibility: replicate b draws its subjects from its own std::mt19937_64
// (fully specified by the C++ standard), seeded with ReplicateSeed(seed, b),
// and maps 32-bit outputs to indices with Lemire's multiply-and-reject method
// instead of std::uniform_int_distribution, whose output differs between
// standard libraries. Replicates are independent of each other, so the result
// does not depend on the number of threads.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "scoring/agreement.h"
#include "scoring/agreement_internal.h"

namespace rqs::scoring::agreement_internal {
namespace {

// Ratio alpha's expected disagreement is quadratic in the distinct values; it
// is bootstrapped only for short value lists.
constexpr std::size_t kMaxBootstrapRatioValues = 64;
// A percentile interval is reported when at least this share of the
// replicates gave a defined value.
constexpr double kMinDefinedShare = 0.5;

// Uniform index in [0, bound) from 32-bit draws (Lemire 2019), bound < 2^32.
// Each 64-bit engine output supplies two draws, low half first.
class IndexDraw {
 public:
  explicit IndexDraw(std::uint32_t bound) : bound_(bound), threshold_((0u - bound) % bound) {}

  std::uint32_t operator()(std::mt19937_64& engine) {
    while (true) {
      std::uint32_t x = 0;
      if (has_spare_) {
        x = spare_;
        has_spare_ = false;
      } else {
        const std::uint64_t word = engine();
        x = static_cast<std::uint32_t>(word);
        spare_ = static_cast<std::uint32_t>(word >> 32);
        has_spare_ = true;
      }
      const std::uint64_t product = static_cast<std::uint64_t>(x) * bound_;
      // Rejecting the low zone makes every index exactly equally likely.
      if (static_cast<std::uint32_t>(product) >= threshold_) {
        return static_cast<std::uint32_t>(product >> 32);
      }
    }
  }

  void Reset() { has_spare_ = false; }

 private:
  std::uint32_t bound_;
  std::uint32_t threshold_;
  std::uint32_t spare_ = 0;
  bool has_spare_ = false;
};

// Linear-interpolation quantile (R type 7) of sorted values.
double Quantile(const std::vector<double>& sorted, double p) {
  const double h = (static_cast<double>(sorted.size()) - 1.0) * p;
  const std::size_t lo = static_cast<std::size_t>(std::floor(h));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::uint64_t ReplicateSeed(std::uint64_t seed, std::uint64_t replicate) {
  std::uint64_t z = seed + (replicate + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void Bootstrap(const PreparedTable& prepared, const AgreementOptions& options,
               AgreementResult& result) {
  const int replicates = options.bootstrap_replicates;
  const int subjects = prepared.subjects;
  if (replicates <= 0) return;
  if (subjects < 2) {
    result.warnings.push_back("Bootstrap intervals need at least 2 subjects; none computed.");
    return;
  }
  const bool include_ratio = prepared.alpha_values.size() <= kMaxBootstrapRatioValues;
  const std::size_t count = static_cast<std::size_t>(replicates);
  // values[replicate * kStatisticCount + statistic], NaN where undefined.
  std::vector<double> values(count * static_cast<std::size_t>(kStatisticCount));

  int threads = options.threads;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min(threads, replicates);

  auto work = [&](int first, int last) {
    Workspace workspace;
    std::vector<double> weight(static_cast<std::size_t>(subjects));
    IndexDraw draw(static_cast<std::uint32_t>(subjects));
    StatisticValues out;
    for (int b = first; b < last; ++b) {
      std::mt19937_64 engine(ReplicateSeed(options.seed, static_cast<std::uint64_t>(b)));
      draw.Reset();
      std::fill(weight.begin(), weight.end(), 0.0);
      for (int i = 0; i < subjects; ++i) weight[draw(engine)] += 1.0;
      EvaluateValues(prepared, weight.data(), include_ratio, workspace, out);
      std::copy(out.begin(), out.end(),
                values.begin() + static_cast<std::ptrdiff_t>(b) * kStatisticCount);
    }
  };
  if (threads <= 1) {
    work(0, replicates);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
      const int first = static_cast<int>(static_cast<long long>(replicates) * t / threads);
      const int last = static_cast<int>(static_cast<long long>(replicates) * (t + 1) / threads);
      pool.emplace_back(work, first, last);
    }
    for (std::thread& thread : pool) thread.join();
  }

  const double tail = (1.0 - options.confidence_level) / 2.0;
  std::vector<double> column;
  column.reserve(count);
  for (const StatisticId id : kAllStatistics) {
    Statistic& stat = GetStatistic(result, id);
    if (!stat.value.has_value()) continue;
    column.clear();
    for (std::size_t b = 0; b < count; ++b) {
      const double v =
          values[b * static_cast<std::size_t>(kStatisticCount) + static_cast<std::size_t>(id)];
      if (std::isfinite(v)) column.push_back(v);
    }
    if (id == StatisticId::kKrippendorffAlphaRatio && !include_ratio) {
      result.warnings.push_back(
          "No bootstrap interval for Krippendorff's ratio alpha: too many distinct values.");
      continue;
    }
    const double defined = static_cast<double>(column.size()) / static_cast<double>(count);
    if (column.size() < 2 || defined < kMinDefinedShare) {
      result.warnings.push_back(absl::StrFormat(
          "No bootstrap interval for %s: it was undefined in %d of %d replicates.",
          StatisticKey(id), replicates - static_cast<int>(column.size()), replicates));
      continue;
    }
    if (column.size() < count) {
      result.warnings.push_back(absl::StrFormat(
          "The bootstrap interval for %s uses the %d of %d replicates in which it was defined.",
          StatisticKey(id), static_cast<int>(column.size()), replicates));
    }
    std::sort(column.begin(), column.end());
    stat.bootstrap_ci_lower = Quantile(column, tail);
    stat.bootstrap_ci_upper = Quantile(column, 1.0 - tail);
  }
}

}  // namespace rqs::scoring::agreement_internal
