// Runs a built binary as a child process and captures what it prints.
#ifndef RQS_TESTS_E2E_CLI_RUNNER_H_
#define RQS_TESTS_E2E_CLI_RUNNER_H_

#include <string>
#include <vector>

namespace rqs::testing {

// What a finished process left behind.
struct CliResult {
  int exit_code = -1;  // -1 if the process did not exit normally.
  std::string out;
  std::string err;
};

// Runs `binary` with `args`, feeding `stdin_text` on standard input, and waits
// for it to finish. Uses fork/exec directly, so arguments are never
// interpreted by a shell.
CliResult RunCli(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& stdin_text = "");

// Writes `content` to a fresh file in the test's temporary directory and
// returns its path.
std::string WriteTempFile(const std::string& name, const std::string& content);

}  // namespace rqs::testing

#endif  // RQS_TESTS_E2E_CLI_RUNNER_H_
