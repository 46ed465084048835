// Quality-scoring instruments as data.
//
// An Instrument is a list of criteria. Each criterion belongs to a readiness
// level (RRL 1..9 for RQS 2.0; no levels for RQS 1.0), applies to handcrafted
// radiomics, deep-learning radiomics or both, and offers answer options worth
// points. Options combine in one of two ways:
//   - kExclusive: the rater picks exactly one option (e.g. RQS 2.0 criterion 3,
//     image protocol level 0..4). Single-weight items are exclusive yes/no.
//   - kAdditive: independent sub-items, any subset may be met and their points
//     add up (e.g. RQS 2.0 criterion 20, open data / segmentations / code).
//
// No code outside this data knows which instrument it is scoring: every rule
// (maxima, minima, valid points, level grouping) is derived from these tables.
#ifndef RQS_SCORING_INSTRUMENT_H_
#define RQS_SCORING_INSTRUMENT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rqs::scoring {

// The methodological family of a study being scored.
enum class StudyType {
  kHandcrafted,   // HCR: handcrafted (engineered) radiomics features.
  kDeepLearning,  // DLR: deep-learning radiomics.
  kHybrid,        // Both approaches; every criterion applies.
};

// Which study types a criterion applies to.
enum class Applicability { kBoth, kHandcraftedOnly, kDeepLearningOnly };

// How the options of a criterion combine into its points.
enum class OptionKind { kExclusive, kAdditive };

// One answer option (kExclusive) or sub-item (kAdditive).
struct Option {
  std::string id;     // Stable identifier used in answer files and the API.
  std::string label;  // Human-readable text, as printed in the paper.
  int points = 0;     // Points awarded when this option is chosen / met.
};

// One criterion (item) of an instrument.
struct Criterion {
  int number = 0;  // 1-based number as printed in the paper.
  std::string name;
  int level = 0;  // Readiness level (1..level_count), 0 if the instrument has none.
  Applicability applies_to = Applicability::kBoth;
  OptionKind kind = OptionKind::kExclusive;
  std::vector<Option> options;
  std::string description;  // What a rater needs to decide, from the paper.

  // Returns true if this criterion is scored for studies of `type`.
  bool AppliesTo(StudyType type) const;
  // Lowest points the criterion can award (an unanswered criterion scores this).
  int MinPoints() const;
  // Highest points the criterion can award.
  int MaxPoints() const;
  // Every distinct points value the criterion can award, ascending.
  std::vector<int> PossiblePoints() const;
  // Returns the option with `id`, or nullptr.
  const Option* FindOption(absl::string_view id) const;
};

// A whole instrument.
struct Instrument {
  std::string id;       // "rqs2", "rqs1".
  std::string name;     // "Radiomics Quality Score 2.0".
  std::string version;  // Version of the rubric data; recorded with every assessment.
  std::string citation;
  int level_count = 0;  // 9 for RQS 2.0; 0 when the instrument has no levels.
  std::vector<Criterion> criteria;

  // Returns the criterion numbered `number`, or nullptr.
  const Criterion* FindCriterion(int number) const;
};

// The built-in RQS 2.0 rubric (Lambin et al., Nat Rev Clin Oncol 2025; Table 2, Box 1).
const Instrument& Rqs2();
// The built-in RQS 1.0 rubric (Lambin et al., Nat Rev Clin Oncol 2017; 16 items).
const Instrument& Rqs1();
// Every built-in instrument, RQS 2.0 first.
const std::vector<const Instrument*>& AllInstruments();

// Returns the built-in instrument with `id`.
// Errors: INVALID_ARGUMENT naming the id and the known ids.
absl::StatusOr<const Instrument*> FindInstrument(absl::string_view id);

// Checks the internal consistency of an instrument's data: unique criterion
// numbers and option ids, levels within 1..level_count (or 0 when there are no
// levels), at least one option per criterion, exclusive criteria with at least
// two options. Returns INTERNAL naming the first inconsistency.
absl::Status ValidateInstrument(const Instrument& instrument);

// "HCR", "DLR", "HYBRID".
absl::string_view StudyTypeName(StudyType type);
// Parses "HCR", "DLR" or "HYBRID" (case-sensitive).
// Errors: INVALID_ARGUMENT naming the value and the accepted names.
absl::StatusOr<StudyType> ParseStudyType(absl::string_view name);
// "both", "HCR", "DLR".
absl::string_view ApplicabilityName(Applicability applicability);
// "exclusive", "additive".
absl::string_view OptionKindName(OptionKind kind);

}  // namespace rqs::scoring

#endif  // RQS_SCORING_INSTRUMENT_H_
