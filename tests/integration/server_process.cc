#include "tests/integration/server_process.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace rqs::testing {
namespace {

// The server's output goes to files, not pipes: a pipe nobody drains would
// eventually block a chatty server mid-test.
std::string NewOutputFile(const char* stream) {
  const char* tmp = std::getenv("TMPDIR");
  std::string path =
      std::string(tmp != nullptr ? tmp : "/tmp") + "/rqs-server-" + stream + "-XXXXXX";
  const int fd = mkstemp(path.data());
  if (fd >= 0) close(fd);
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env)
    : out_path_(NewOutputFile("out")), err_path_(NewOutputFile("err")) {
  pid_ = fork();
  if (pid_ == 0) {
    // A test that dies (a sanitizer abort, a crash) must not leave its
    // servers running: the kernel kills the child with its parent.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    const int out = open(out_path_.c_str(), O_WRONLY | O_TRUNC);
    const int err = open(err_path_.c_str(), O_WRONLY | O_TRUNC);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    for (const auto& [name, value] : env) {
      if (value.empty()) {
        unsetenv(name.c_str());
      } else {
        setenv(name.c_str(), value.c_str(), 1);
      }
    }
    std::vector<std::string> copy = args;
    std::string program = binary;
    std::vector<char*> argv = {program.data()};
    for (std::string& arg : copy) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    Wait();
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

std::string ServerProcess::WaitForLine(const std::string& needle, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    stdout_ = ReadFile(out_path_);
    std::size_t newline;
    while ((newline = stdout_.find('\n', scanned_)) != std::string::npos) {
      std::string line = stdout_.substr(scanned_, newline - scanned_);
      scanned_ = newline + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    if (exited_ || std::chrono::steady_clock::now() >= deadline) return "";
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = status;
      continue;  // Read what it wrote before it ended.
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string ServerProcess::WaitForAddress(int timeout_ms) {
  const std::string line = WaitForLine("listening on ", timeout_ms);
  const std::string prefix = "listening on ";
  const std::size_t start = line.find(prefix);
  if (start == std::string::npos) return "";
  const std::size_t from = start + prefix.size();
  return line.substr(from, line.find(' ', from) - from);
}

int ServerProcess::Stop(int signal) {
  if (!exited_) kill(pid_, signal);
  return Wait();
}

int ServerProcess::Wait() {
  if (!exited_) {
    waitpid(pid_, &exit_status_, 0);
    exited_ = true;
  }
  stdout_ = ReadFile(out_path_);
  return WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
}

std::string ServerProcess::Stderr() const { return ReadFile(err_path_); }

}  // namespace rqs::testing
