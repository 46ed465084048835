#include "scoring/instrument.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace rqs::scoring {

bool Criterion::AppliesTo(StudyType type) const {
  switch (applies_to) {
    case Applicability::kBoth:
      return true;
    case Applicability::kHandcraftedOnly:
      return type != StudyType::kDeepLearning;
    case Applicability::kDeepLearningOnly:
      return type != StudyType::kHandcrafted;
  }
  return false;
}

int Criterion::MinPoints() const {
  if (kind == OptionKind::kAdditive) {
    // Any subset may be met, including none: only negative sub-items lower it.
    int sum = 0;
    for (const Option& option : options) sum += std::min(option.points, 0);
    return sum;
  }
  int min = options.front().points;
  for (const Option& option : options) min = std::min(min, option.points);
  return min;
}

int Criterion::MaxPoints() const {
  if (kind == OptionKind::kAdditive) {
    int sum = 0;
    for (const Option& option : options) sum += std::max(option.points, 0);
    return sum;
  }
  int max = options.front().points;
  for (const Option& option : options) max = std::max(max, option.points);
  return max;
}

std::vector<int> Criterion::PossiblePoints() const {
  std::set<int> possible;
  if (kind == OptionKind::kExclusive) {
    for (const Option& option : options) possible.insert(option.points);
  } else {
    // Subset sums; criteria have at most a handful of sub-items.
    possible.insert(0);
    for (const Option& option : options) {
      std::set<int> next = possible;
      for (int sum : possible) next.insert(sum + option.points);
      possible.swap(next);
    }
  }
  return std::vector<int>(possible.begin(), possible.end());
}

const Option* Criterion::FindOption(absl::string_view id) const {
  for (const Option& option : options) {
    if (option.id == id) return &option;
  }
  return nullptr;
}

const Criterion* Instrument::FindCriterion(int number) const {
  for (const Criterion& criterion : criteria) {
    if (criterion.number == number) return &criterion;
  }
  return nullptr;
}

const std::vector<const Instrument*>& AllInstruments() {
  static const auto* const kAll = new std::vector<const Instrument*>{&Rqs2(), &Rqs1()};
  return *kAll;
}

absl::StatusOr<const Instrument*> FindInstrument(absl::string_view id) {
  std::vector<absl::string_view> known;
  for (const Instrument* instrument : AllInstruments()) {
    if (instrument->id == id) return instrument;
    known.push_back(instrument->id);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown instrument '", id, "' (known: ", absl::StrJoin(known, ", "), ")"));
}

absl::Status ValidateInstrument(const Instrument& instrument) {
  if (instrument.criteria.empty()) {
    return absl::InternalError(absl::StrCat(instrument.id, ": no criteria"));
  }
  std::set<int> numbers;
  int previous_level = 0;
  for (const Criterion& criterion : instrument.criteria) {
    const std::string where = absl::StrCat(instrument.id, " criterion ", criterion.number);
    if (criterion.number <= 0 || !numbers.insert(criterion.number).second) {
      return absl::InternalError(absl::StrCat(where, ": number not positive or not unique"));
    }
    if (instrument.level_count == 0
            ? criterion.level != 0
            : criterion.level < 1 || criterion.level > instrument.level_count) {
      return absl::InternalError(absl::StrCat(where, ": level ", criterion.level, " out of range"));
    }
    // Level grouping and cumulative reports rely on criteria ordered by level.
    if (criterion.level < previous_level) {
      return absl::InternalError(absl::StrCat(where, ": criteria not ordered by level"));
    }
    previous_level = criterion.level;
    if (criterion.name.empty() || criterion.description.empty()) {
      return absl::InternalError(absl::StrCat(where, ": missing name or description"));
    }
    const size_t min_options = criterion.kind == OptionKind::kExclusive ? 2 : 1;
    if (criterion.options.size() < min_options) {
      return absl::InternalError(absl::StrCat(where, ": too few options"));
    }
    std::set<std::string> ids;
    for (const Option& option : criterion.options) {
      if (option.id.empty() || !ids.insert(option.id).second) {
        return absl::InternalError(absl::StrCat(where, ": option id empty or not unique"));
      }
    }
  }
  return absl::OkStatus();
}

absl::string_view StudyTypeName(StudyType type) {
  switch (type) {
    case StudyType::kHandcrafted:
      return "HCR";
    case StudyType::kDeepLearning:
      return "DLR";
    case StudyType::kHybrid:
      return "HYBRID";
  }
  return "?";
}

absl::StatusOr<StudyType> ParseStudyType(absl::string_view name) {
  for (StudyType type : {StudyType::kHandcrafted, StudyType::kDeepLearning, StudyType::kHybrid}) {
    if (name == StudyTypeName(type)) return type;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown study type '", name, "' (known: HCR, DLR, HYBRID)"));
}

absl::string_view ApplicabilityName(Applicability applicability) {
  switch (applicability) {
    case Applicability::kBoth:
      return "both";
    case Applicability::kHandcraftedOnly:
      return "HCR";
    case Applicability::kDeepLearningOnly:
      return "DLR";
  }
  return "?";
}

absl::string_view OptionKindName(OptionKind kind) {
  return kind == OptionKind::kExclusive ? "exclusive" : "additive";
}

}  // namespace rqs::scoring
