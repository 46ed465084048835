// Scoring throughput: one whole RQS 2.0 assessment (42 answers) per iteration,
// the work the server does for every submission.
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "scoring/score.h"

namespace rqs::scoring {
namespace {

ScoreRequest FullHybridAssessment() {
  ScoreRequest request;
  request.study_type = StudyType::kHybrid;
  for (const Criterion& criterion : Rqs2().criteria) {
    Answer answer;
    answer.criterion = criterion.number;
    if (criterion.kind == OptionKind::kExclusive) {
      answer.option_ids = std::vector<std::string>{criterion.options.back().id};
    } else {
      answer.option_ids = std::vector<std::string>{criterion.options.front().id};
    }
    request.answers.push_back(std::move(answer));
  }
  return request;
}

void BM_ScoreFullRqs2Assessment(benchmark::State& state) {
  const ScoreRequest request = FullHybridAssessment();
  for (auto _ : state) {
    absl::StatusOr<ScoreReport> report = ScoreStudy(Rqs2(), request);
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreFullRqs2Assessment);

void BM_ScoreByPoints(benchmark::State& state) {
  ScoreRequest request;
  request.study_type = StudyType::kHandcrafted;
  for (const Criterion& criterion : Rqs2().criteria) {
    request.answers.push_back(Answer{criterion.number, std::nullopt, criterion.MaxPoints()});
  }
  for (auto _ : state) {
    absl::StatusOr<ScoreReport> report = ScoreStudy(Rqs2(), request);
    benchmark::DoNotOptimize(report);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ScoreByPoints);

}  // namespace
}  // namespace rqs::scoring
