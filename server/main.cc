// rqs-server: the consensus server. Parses its configuration (server/config.h),
// starts the server and runs until SIGINT or SIGTERM; with --migrate-only it
// applies the database migrations and exits instead.
#include <malloc.h>
#include <signal.h>

#include <iostream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/config.h"
#include "server/server.h"

// glibc gives every thread that allocates concurrently its own arena, up to
// 8 per core, and an arena keeps the high-water mark of the largest call it
// served. With one worker per database connection, a few large reads (a
// review's whole state) on different workers multiplied the server's memory
// by the number of workers; two arenas keep it near one call's peak.
constexpr int kMallocArenas = 2;

int main(int argc, char** argv) {
  mallopt(M_ARENA_MAX, kMallocArenas);
#ifdef NDEBUG
  // Abseil as Debian builds it checks every Mutex acquisition for lock-order
  // cycles, its debug-build default: 2 % of the server's CPU under the write
  // load (perf). The Debug build of the ASan run keeps the check, and
  // ThreadSanitizer reports lock-order inversions by itself.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<rqs::server::ServerConfig> config =
      rqs::server::ParseServerConfig(args, rqs::server::ProcessEnv());
  if (!config.ok()) {
    std::cerr << "rqs-server: " << config.status().message() << "\n";
    return 2;
  }
  if (config->help) {
    std::cout << rqs::server::ServerUsage();
    return 0;
  }
  // Before the signals are blocked: SIGTERM ends a migration at once, and
  // PostgreSQL rolls back the migration it interrupts.
  if (config->migrate_only) {
    absl::StatusOr<int> version = rqs::server::MigrateDatabase(*config);
    if (!version.ok()) {
      std::cerr << "rqs-server: cannot migrate the database: " << version.status() << "\n";
      return 1;
    }
    std::cout << "rqs-server: migrations done; the database schema is at version " << *version
              << std::endl;
    return 0;
  }

  // Block the shutdown signals before any thread starts, so every thread
  // inherits the mask and only sigwait below receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (!config->UsesTls()) {
    std::cerr << "rqs-server: warning: serving plaintext (no TLS) on loopback address "
              << config->listen << "; use --tls-cert and --tls-key for remote clients\n";
  }
  absl::StatusOr<std::unique_ptr<rqs::server::Server>> server =
      rqs::server::Server::Start(*config, std::cout);
  if (!server.ok()) {
    std::cerr << "rqs-server: cannot start: " << server.status() << "\n";
    return 1;
  }
  // Tests and scripts read this line to learn the port when --listen used port 0.
  std::cout << "rqs-server: listening on " << (*server)->address()
            << (config->UsesTls() ? " (TLS)" : " (plaintext)") << std::endl;
  if (config->HasHealthListener()) {
    // Printed after the line above, and without its "listening on", so that
    // readers of that line still find the main address first.
    std::cout << "rqs-server: health checks on " << (*server)->health_address()
              << " (plaintext, grpc.health.v1.Health only)" << std::endl;
  }

  int received = 0;
  sigwait(&signals, &received);
  std::cout << "rqs-server: received signal " << received << ", shutting down" << std::endl;
  (*server)->Shutdown();
  server->reset();
  std::cout << "rqs-server: stopped" << std::endl;
  return 0;
}
