// Status propagation helpers missing from Abseil 20220623 (Debian 12).
//
// RQS_RETURN_IF_ERROR(expr) returns the status of `expr` from the enclosing
// function when it is not OK. RQS_ASSIGN_OR_RETURN(lhs, expr) evaluates an
// absl::StatusOr<T> expression and either assigns its value to `lhs` or returns
// its status. Example:
//
//   RQS_ASSIGN_OR_RETURN(const Instrument* instrument, FindInstrument(id));
//   RQS_RETURN_IF_ERROR(ValidateInstrument(*instrument));
#ifndef RQS_SCORING_STATUS_MACROS_H_
#define RQS_SCORING_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RQS_RETURN_IF_ERROR(expr)                    \
  do {                                               \
    const ::absl::Status rqs_status_ = (expr);       \
    if (!rqs_status_.ok()) return rqs_status_;       \
  } while (false)

#define RQS_STATUS_CONCAT_INNER_(a, b) a##b
#define RQS_STATUS_CONCAT_(a, b) RQS_STATUS_CONCAT_INNER_(a, b)

#define RQS_ASSIGN_OR_RETURN(lhs, expr) \
  RQS_ASSIGN_OR_RETURN_IMPL_(RQS_STATUS_CONCAT_(rqs_statusor_, __LINE__), lhs, expr)

#define RQS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // RQS_SCORING_STATUS_MACROS_H_
