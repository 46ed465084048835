// Runs the real rqs-server executable as a child process, for tests that
// exercise it as an operator would (binary tests, CLI end-to-end tests, and
// fault tests that kill it).
#ifndef RQS_TESTS_INTEGRATION_SERVER_PROCESS_H_
#define RQS_TESTS_INTEGRATION_SERVER_PROCESS_H_

#include <sys/types.h>

#include <csignal>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace rqs::testing {

// A child rqs-server process with its stdout and stderr captured.
class ServerProcess {
 public:
  // Starts `binary` with `args` and the environment variables `env` added (an
  // empty value unsets the variable).
  ServerProcess(const std::string& binary, const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {});
  // Kills the process (SIGKILL) if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Reads stdout until a line contains `needle`, the process ends or the
  // timeout passes; returns that line ("" if none).
  std::string WaitForLine(const std::string& needle, int timeout_ms = 60000);

  // Waits for "listening on HOST:PORT" and returns HOST:PORT ("" if the
  // server never got there).
  std::string WaitForAddress(int timeout_ms = 60000);

  // Sends `signal` and returns the exit status (see Wait).
  int Stop(int signal = SIGTERM);

  // Waits for the process to end; returns its exit code, -1 if a signal ended it.
  int Wait();

  // Everything written to stdout, as of the last WaitForLine or Wait.
  const std::string& Stdout() const { return stdout_; }
  // Everything written to stderr so far.
  std::string Stderr() const;

  pid_t pid() const { return pid_; }

 private:
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = 0;
  std::string stdout_;
  std::size_t scanned_ = 0;
};

}  // namespace rqs::testing

#endif  // RQS_TESTS_INTEGRATION_SERVER_PROCESS_H_
