// Builders for the rows of the instrument tables (rqs1_instrument.cc,
// rqs2_instrument.cc), so both tables read like the papers' checklists.
#ifndef RQS_SCORING_INSTRUMENT_BUILDERS_H_
#define RQS_SCORING_INSTRUMENT_BUILDERS_H_

#include <string>
#include <utility>
#include <vector>

#include "scoring/instrument.h"

namespace rqs::scoring::builders {

// A criterion that is met or not: exclusive options "no" (0) and "yes" (`points`).
inline Criterion MetOrNot(int number, int level, std::string name, Applicability applies_to,
                          int points, std::string description) {
  return Criterion{number,
                   std::move(name),
                   level,
                   applies_to,
                   OptionKind::kExclusive,
                   {{"no", "Not met", 0}, {"yes", "Met", points}},
                   std::move(description)};
}

// A criterion whose options are alternatives: exactly one is chosen.
inline Criterion Exclusive(int number, int level, std::string name, std::vector<Option> options,
                           std::string description) {
  return Criterion{number,           std::move(name), level, Applicability::kBoth,
                   OptionKind::kExclusive, std::move(options), std::move(description)};
}

// A criterion of independent sub-items whose points add up.
inline Criterion Additive(int number, int level, std::string name, std::vector<Option> sub_items,
                          std::string description) {
  return Criterion{number,          std::move(name),      level, Applicability::kBoth,
                   OptionKind::kAdditive, std::move(sub_items), std::move(description)};
}

}  // namespace rqs::scoring::builders

#endif  // RQS_SCORING_INSTRUMENT_BUILDERS_H_
