// Google Benchmark suite for the agreement statistics and the ratings CSV
// reader behind `rqs agreement`.
//
// Every statistic runs on the two table shapes of the issue's benchmark files:
// 2,000 studies x 3 raters and 100,000 studies x 5 raters (Cohen's kappa, which
// needs exactly two raters, on the first two columns). Ratings are RQS-like
// ordinal categories with about 1% missing, drawn from a fixed seed. Run e.g.
//   build/bench/agreement_bench --benchmark_filter=Fleiss
// items_per_second counts ratings (table cells) processed.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "benchmark/benchmark.h"
#include "client/ratings_csv.h"
#include "scoring/agreement.h"

namespace rqs::scoring {
namespace {

// A table of `subjects` x `raters` ratings on a 0..4 scale: each subject has a
// true category, which a rater reports 70% of the time and otherwise misses by
// one. About 1% of the ratings are missing.
const RatingsTable& Table(int subjects, int raters) {
  static std::map<std::pair<int, int>, RatingsTable> cache;
  auto [it, inserted] = cache.try_emplace({subjects, raters});
  if (!inserted) return it->second;
  RatingsTable& table = it->second;
  std::mt19937_64 rng(20240229u + static_cast<uint64_t>(subjects * 31 + raters));
  std::uniform_int_distribution<int> category(0, 4);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int j = 0; j < raters; ++j) table.rater_labels.push_back("R" + std::to_string(j + 1));
  table.subject_labels.reserve(static_cast<size_t>(subjects));
  table.ratings.reserve(static_cast<size_t>(subjects));
  for (int i = 0; i < subjects; ++i) {
    table.subject_labels.push_back("S" + std::to_string(i + 1));
    const int truth = category(rng);
    std::vector<std::optional<double>> row(static_cast<size_t>(raters));
    for (std::optional<double>& cell : row) {
      const double u = unit(rng);
      if (u < 0.01) continue;  // Missing.
      int rated = truth;
      if (u > 0.7) rated = truth == 4 || (truth > 0 && u > 0.85) ? truth - 1 : truth + 1;
      cell = static_cast<double>(rated);
    }
    table.ratings.push_back(std::move(row));
  }
  return table;
}

// The first two raters of Table(subjects, raters), for Cohen's kappa.
const RatingsTable& TwoRaterTable(int subjects) {
  static std::map<int, RatingsTable> cache;
  auto [it, inserted] = cache.try_emplace(subjects);
  if (!inserted) return it->second;
  const RatingsTable& source = Table(subjects, 3);
  RatingsTable& table = it->second;
  table.subject_labels = source.subject_labels;
  table.rater_labels = {source.rater_labels[0], source.rater_labels[1]};
  for (const auto& row : source.ratings) table.ratings.push_back({row[0], row[1]});
  return table;
}

int Subjects(const benchmark::State& state) { return static_cast<int>(state.range(0)); }
int Raters(const benchmark::State& state) { return static_cast<int>(state.range(1)); }

void SetRatingsProcessed(benchmark::State& state, const RatingsTable& table) {
  const auto cells = static_cast<int64_t>(table.ratings.size() * table.rater_labels.size());
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * cells);
}

// Fails the benchmark run loudly rather than timing an error path.
template <typename T>
void Check(benchmark::State& state, const absl::StatusOr<T>& result) {
  if (!result.ok()) state.SkipWithError(std::string(result.status().message()).c_str());
}

void BM_PercentAgreement(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = PercentAgreement(table);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

void BM_CohenKappa(benchmark::State& state) {
  const RatingsTable& table = TwoRaterTable(Subjects(state));
  const auto weighting = static_cast<Weighting>(state.range(2));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = CohenKappa(table, weighting);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

void BM_FleissKappa(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = FleissKappa(table);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

void BM_GwetAc(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  const auto weighting = static_cast<Weighting>(state.range(2));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = GwetAc(table, weighting);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

void BM_KrippendorffAlpha(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  const auto metric = static_cast<AlphaMetric>(state.range(2));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = KrippendorffAlpha(table, metric);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

void BM_Icc(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  const auto type = static_cast<IccType>(state.range(2));
  for (auto _ : state) {
    absl::StatusOr<Statistic> result = Icc(table, type);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

// Everything `rqs agreement` computes for one criterion, without bootstrap.
void BM_ComputeAgreement(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  for (auto _ : state) {
    absl::StatusOr<AgreementResult> result = ComputeAgreement(table);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

// ComputeAgreement with bootstrap intervals: range(2) replicates on range(3)
// threads (1 is what `rqs agreement` uses per criterion with many criteria).
void BM_ComputeAgreementBootstrap(benchmark::State& state) {
  const RatingsTable& table = Table(Subjects(state), Raters(state));
  AgreementOptions options;
  options.bootstrap_replicates = static_cast<int>(state.range(2));
  options.threads = static_cast<int>(state.range(3));
  for (auto _ : state) {
    absl::StatusOr<AgreementResult> result = ComputeAgreement(table, options);
    Check(state, result);
    benchmark::DoNotOptimize(result);
  }
  SetRatingsProcessed(state, table);
}

// The shapes of the issue's two benchmark files.
void Shapes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"subjects", "raters"})->Args({2000, 3})->Args({100000, 5});
}

// Shapes crossed with the values 0..count-1 of an enum argument.
void ShapesBy(benchmark::internal::Benchmark* bench, const char* name, int count) {
  bench->ArgNames({"subjects", "raters", name});
  for (const auto& [subjects, raters] : {std::pair{2000, 3}, std::pair{100000, 5}}) {
    for (int value = 0; value < count; ++value) bench->Args({subjects, raters, value});
  }
}

BENCHMARK(BM_PercentAgreement)->Apply(Shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CohenKappa)
    ->Apply([](benchmark::internal::Benchmark* bench) { ShapesBy(bench, "weighting", 3); })
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FleissKappa)->Apply(Shapes)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GwetAc)
    ->Apply([](benchmark::internal::Benchmark* bench) { ShapesBy(bench, "weighting", 3); })
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_KrippendorffAlpha)
    ->Apply([](benchmark::internal::Benchmark* bench) { ShapesBy(bench, "metric", 4); })
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Icc)
    ->Apply([](benchmark::internal::Benchmark* bench) { ShapesBy(bench, "type", 6); })
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ComputeAgreement)->Apply(Shapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ComputeAgreementBootstrap)
    ->ArgNames({"subjects", "raters", "replicates", "threads"})
    ->Args({2000, 3, 1000, 1})
    ->Args({2000, 3, 1000, 0})
    ->Args({100000, 5, 100, 0})
    ->Unit(benchmark::kMillisecond);

// The CSV reader on the first benchmark file's shape: 100,000 studies x 5
// raters x 1 criterion, 500,000 records held in memory (no disk I/O).
void BM_ParseRatingsCsv(benchmark::State& state) {
  const int subjects = Subjects(state);
  const int raters = Raters(state);
  std::string text = "study,rater,criterion,value\n";
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> category(0, 4);
  for (int i = 0; i < subjects; ++i) {
    const std::string study = "S" + std::to_string(1000000 + i);
    for (int j = 0; j < raters; ++j) {
      text += study + ",R" + std::to_string(j + 1) + ",open_science," +
              std::to_string(category(rng)) + "\n";
    }
  }
  for (auto _ : state) {
    absl::StatusOr<client::RatingsData> data = client::ParseRatingsCsv(text);
    Check(state, data);
    benchmark::DoNotOptimize(data);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * subjects * raters);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_ParseRatingsCsv)
    ->ArgNames({"subjects", "raters"})
    ->Args({100000, 5})
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace rqs::scoring
