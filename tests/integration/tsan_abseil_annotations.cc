// ThreadSanitizer builds only (cmake/ProjectOptions.cmake links this file into
// every executable when RQS_SANITIZERS contains "thread").
//
// Debian's Abseil is not built with ThreadSanitizer, so absl::Mutex and
// absl::CondVar synchronise through atomics and futexes that TSan never sees:
// every access guarded by an absl::Mutex, in our code and in gRPC's, would be
// reported as a data race. This file interposes the out-of-line Mutex and
// CondVar entry points (an executable's definitions come first in the dynamic
// symbol lookup, also for calls made from libgrpc), calls the real ones in
// libabsl_synchronization through dlsym(RTLD_NEXT), and tells TSan about the
// happens-before edges they create: a release when the mutex is given up
// (Unlock, or while waiting in Await / CondVar::Wait) and an acquire once it
// is held again, and before Abseil evaluates a waiter's Condition. These are the annotations Abseil
// itself makes when it is compiled with TSan. Nothing is suppressed: races on memory that is not
// protected by a mutex are still reported.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

#define RQS_TSAN_STR2(x) #x
#define RQS_TSAN_STR(x) RQS_TSAN_STR2(x)

// The Itanium-mangled name of absl::<Abseil's inline namespace>::`rest`.
std::string AbslSymbol(const char* rest) {
  const std::string inline_namespace = RQS_TSAN_STR(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  return "_ZN4absl" + std::to_string(inline_namespace.size()) + inline_namespace + rest;
}

// Returns the next definition of `mangled_rest` after this executable's: the
// real one in libabsl_synchronization. Aborts if there is none.
template <typename Fn>
Fn Real(const char* mangled_rest) {
  const std::string name = AbslSymbol(mangled_rest);
  void* symbol = dlsym(RTLD_NEXT, name.c_str());
  if (symbol == nullptr) {
    std::fprintf(stderr, "tsan_abseil_annotations: %s not found\n", name.c_str());
    std::abort();
  }
  return reinterpret_cast<Fn>(symbol);
}

void Acquired(const void* mu) { __tsan_acquire(const_cast<void*>(mu)); }
void Releasing(const void* mu) { __tsan_release(const_cast<void*>(mu)); }

// A condition of Await / LockWhen is evaluated inside Abseil with the mutex
// held, by the waiting thread or by the thread unlocking, before the
// wrapper's own acquire. So the waiter publishes its condition (a release on
// the wrapper, after the condition and the wrapper are written), and the
// wrapper's function acquires that and the mutex before it evaluates the
// condition, and releases the mutex after. The wrapper uses Condition's void* constructor, whose
// glue is compiled into Abseil (not instrumented), so nothing reads the wrapper before that
// acquire.
struct AnnotatedCondition {
  AnnotatedCondition(const absl::Condition& c, const absl::Mutex* m) : condition(&c), mu(m) {
    Releasing(this);
  }
  const absl::Condition* condition;
  const absl::Mutex* mu;
};
bool EvalAnnotated(void* arg) {
  Acquired(arg);
  const auto* annotated = static_cast<const AnnotatedCondition*>(arg);
  Acquired(annotated->mu);
  const bool result = annotated->condition->Eval();
  // The evaluating thread holds the mutex until it gives it up inside
  // Abseil: whoever holds it next comes after this evaluation.
  Releasing(annotated->mu);
  return result;
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

using MutexFn = void (*)(Mutex*);
using MutexTryFn = bool (*)(Mutex*);
using MutexCondFn = void (*)(Mutex*, const Condition&);
using MutexCondTimeoutFn = bool (*)(Mutex*, const Condition&, Duration);
using MutexCondDeadlineFn = bool (*)(Mutex*, const Condition&, Time);
using CondVarFn = void (*)(CondVar*, Mutex*);
using CondVarTimeoutFn = bool (*)(CondVar*, Mutex*, Duration);
using CondVarDeadlineFn = bool (*)(CondVar*, Mutex*, Time);

void Mutex::Lock() {
  static const auto real = Real<MutexFn>("5Mutex4LockEv");
  real(this);
  Acquired(this);
}

void Mutex::Unlock() {
  static const auto real = Real<MutexFn>("5Mutex6UnlockEv");
  Releasing(this);
  real(this);
}

bool Mutex::TryLock() {
  static const auto real = Real<MutexTryFn>("5Mutex7TryLockEv");
  const bool locked = real(this);
  if (locked) Acquired(this);
  return locked;
}

void Mutex::ReaderLock() {
  static const auto real = Real<MutexFn>("5Mutex10ReaderLockEv");
  real(this);
  Acquired(this);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<MutexFn>("5Mutex12ReaderUnlockEv");
  Releasing(this);
  real(this);
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<MutexTryFn>("5Mutex13ReaderTryLockEv");
  const bool locked = real(this);
  if (locked) Acquired(this);
  return locked;
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = Real<MutexCondFn>("5Mutex8LockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated(cond, this);
  real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)));
  Acquired(this);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real = Real<MutexCondFn>("5Mutex14ReaderLockWhenERKNS0_9ConditionE");
  AnnotatedCondition annotated(cond, this);
  real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)));
  Acquired(this);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real =
      Real<MutexCondTimeoutFn>("5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated(cond, this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), timeout);
  Acquired(this);  // Held on return whatever the result.
  return result;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real =
      Real<MutexCondDeadlineFn>("5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition annotated(cond, this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), deadline);
  Acquired(this);
  return result;
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real =
      Real<MutexCondTimeoutFn>("5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated(cond, this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), timeout);
  Acquired(this);
  return result;
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real =
      Real<MutexCondDeadlineFn>("5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition annotated(cond, this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), deadline);
  Acquired(this);
  return result;
}

// Await releases the mutex while it waits and holds it again on return.
void Mutex::Await(const Condition& cond) {
  static const auto real = Real<MutexCondFn>("5Mutex5AwaitERKNS0_9ConditionE");
  AnnotatedCondition annotated(cond, this);
  Releasing(this);
  real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)));
  Acquired(this);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real =
      Real<MutexCondTimeoutFn>("5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  AnnotatedCondition annotated(cond, this);
  Releasing(this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), timeout);
  Acquired(this);
  return result;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real =
      Real<MutexCondDeadlineFn>("5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  AnnotatedCondition annotated(cond, this);
  Releasing(this);
  const bool result =
      real(this, Condition(&EvalAnnotated, static_cast<void*>(&annotated)), deadline);
  Acquired(this);
  return result;
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<CondVarFn>("7CondVar4WaitEPNS0_5MutexE");
  Releasing(mu);
  real(this, mu);
  Acquired(mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real =
      Real<CondVarTimeoutFn>("7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Releasing(mu);
  const bool result = real(this, mu, timeout);
  Acquired(mu);
  return result;
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real =
      Real<CondVarDeadlineFn>("7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Releasing(mu);
  const bool result = real(this, mu, deadline);
  Acquired(mu);
  return result;
}

ABSL_NAMESPACE_END
}  // namespace absl
