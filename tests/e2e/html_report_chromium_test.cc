// Loads the HTML review report in Debian's headless Chromium (package
// `chromium`, see deploy/install-deps.sh) and checks that a real browser
// parses and paints it without touching the network:
//   - --dump-dom: the rendered DOM holds every table and SVG chart, and user
//     text stays text;
//   - --screenshot: the PNG is not blank and shows the charts' blue bars;
//   - --log-net-log: the page started no network request. Chromium's own
//     background requests (component updater, ...) are browser-initiated and
//     fail anyway under --host-resolver-rules="MAP * ~NOTFOUND"; a control
//     page with an <img> from the network proves the check sees page requests.
// A missing Chromium is a failure, not a skip. RQS_CHROMIUM overrides the
// binary; RQS_KEEP_TEST_FILES=1 keeps the report, DOM, PNG and net log.
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/html_report.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/e2e/cli_runner.h"
#include "tests/unit/client/html_report_fixture.h"

namespace rqs::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Seconds one Chromium run may take before `timeout` kills its process group.
constexpr char kRunSeconds[] = "25";

std::string ChromiumBinary() {
  const char* override_path = std::getenv("RQS_CHROMIUM");
  return override_path != nullptr && *override_path != '\0' ? override_path : "/usr/bin/chromium";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// A fresh directory per test, removed afterwards unless RQS_KEEP_TEST_FILES=1.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "rqs-chromium-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = templ;
  }
  ~TempDir() {
    const char* keep = std::getenv("RQS_KEEP_TEST_FILES");
    if (keep != nullptr && std::string(keep) == "1") {
      std::cerr << "kept " << path_ << "\n";
      return;
    }
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs headless Chromium on `page` with a fresh profile, the network mapped
// to nowhere and a net log, under coreutils `timeout`.
CliResult RunChromium(const TempDir& dir, const std::string& name, const fs::path& page,
                      const std::vector<std::string>& extra, fs::path* net_log) {
  *net_log = dir.path() / (name + "-netlog.json");
  std::vector<std::string> args = {"-k",
                                   "5",
                                   kRunSeconds,
                                   ChromiumBinary(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-quic",
                                   "--no-first-run",
                                   "--disable-background-networking",
                                   "--disable-component-update",
                                   "--disable-sync",
                                   "--disable-extensions",
                                   "--hide-scrollbars",
                                   "--user-data-dir=" + (dir.path() / (name + "-profile")).string(),
                                   "--host-resolver-rules=MAP * ~NOTFOUND",
                                   "--log-net-log=" + net_log->string()};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back("file://" + page.string());
  return RunCli("/usr/bin/timeout", args);
}

// URLs of the network requests a page started: URL requests in the net log
// whose initiator is an origin (the page's; file:// pages have the opaque
// origin "null"). Requests Chromium makes for itself say "not an origin".
std::vector<std::string> PageRequests(const std::string& net_log_text) {
  const nlohmann::json log = nlohmann::json::parse(net_log_text);
  const int start_job = log.at("constants").at("logEventTypes").at("URL_REQUEST_START_JOB");
  std::vector<std::string> urls;
  for (const nlohmann::json& event : log.at("events")) {
    if (event.at("type") != start_job || !event.contains("params")) continue;
    const nlohmann::json& params = event.at("params");
    const auto url = params.find("url");
    if (url == params.end()) continue;
    const auto initiator = params.find("initiator");
    if (initiator == params.end() || *initiator != "not an origin") urls.push_back(url->dump());
  }
  return urls;
}

// A decoded 8-bit RGB or RGBA PNG, as Chromium's screenshots are.
struct Image {
  uint32_t width = 0;
  uint32_t height = 0;
  size_t channels = 0;
  std::vector<uint8_t> pixels;  // Rows of width * channels bytes.

  std::array<uint8_t, 3> Rgb(size_t x, size_t y) const {
    const uint8_t* p = &pixels[(y * width + x) * channels];
    return {p[0], p[1], p[2]};
  }
};

uint32_t BigEndian32(const std::string& data, size_t at) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(data[at])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(data[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(data[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(data[at + 3]));
}

int Paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Decodes a non-interlaced 8-bit RGB/RGBA PNG; throws on anything else.
Image DecodePng(const std::string& data) {
  if (data.size() < 8 || data.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    throw std::runtime_error("not a PNG");
  }
  Image image;
  std::string compressed;
  for (size_t at = 8; at + 8 <= data.size();) {
    const uint32_t length = BigEndian32(data, at);
    const std::string type = data.substr(at + 4, 4);
    if (at + 12 + length > data.size()) throw std::runtime_error("truncated PNG chunk");
    if (type == "IHDR") {
      image.width = BigEndian32(data, at + 8);
      image.height = BigEndian32(data, at + 12);
      const int depth = data[at + 16], colour = data[at + 17], interlace = data[at + 20];
      if (depth != 8 || (colour != 2 && colour != 6) || interlace != 0) {
        throw std::runtime_error("unsupported PNG format");
      }
      image.channels = colour == 2 ? 3 : 4;
    } else if (type == "IDAT") {
      compressed.append(data, at + 8, length);
    } else if (type == "IEND") {
      break;
    }
    at += 12 + length;
  }
  const size_t stride = static_cast<size_t>(image.width) * image.channels;
  std::vector<uint8_t> raw((stride + 1) * image.height);
  uLongf raw_size = static_cast<uLongf>(raw.size());
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()),
                 static_cast<uLong>(compressed.size())) != Z_OK ||
      raw_size != raw.size()) {
    throw std::runtime_error("bad PNG image data");
  }
  image.pixels.resize(stride * image.height);
  for (size_t y = 0; y < image.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* row = &image.pixels[y * stride];
    const uint8_t* up = y > 0 ? &image.pixels[(y - 1) * stride] : nullptr;
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= image.channels ? row[i - image.channels] : 0;
      const int b = up != nullptr ? up[i] : 0;
      const int c = (up != nullptr && i >= image.channels) ? up[i - image.channels] : 0;
      int predictor = 0;
      switch (filter) {
        case 0:
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) / 2;
          break;
        case 4:
          predictor = Paeth(a, b, c);
          break;
        default:
          throw std::runtime_error("bad PNG filter");
      }
      row[i] = static_cast<uint8_t>((in[i] + predictor) & 0xff);
    }
  }
  return image;
}

bool Near(const std::array<uint8_t, 3>& rgb, int r, int g, int b) {
  return std::abs(rgb[0] - r) <= 8 && std::abs(rgb[1] - g) <= 8 && std::abs(rgb[2] - b) <= 8;
}

class HtmlReportChromiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Fail, never skip: a machine without Chromium cannot vouch for the report.
    ASSERT_EQ(access(ChromiumBinary().c_str(), X_OK), 0)
        << ChromiumBinary() << " is missing: install Debian's `chromium` package "
        << "(deploy/install-deps.sh) or set RQS_CHROMIUM";
    ASSERT_EQ(access("/usr/bin/timeout", X_OK), 0) << "coreutils `timeout` is missing";
  }
  TempDir dir_;
};

TEST_F(HtmlReportChromiumTest, RendersTablesAndChartsWithoutNetwork) {
  const std::string html = client::RenderHtmlReport(client::testing::SmallReviewInput(true));
  const fs::path page = dir_.path() / "report.html";
  std::ofstream(page, std::ios::binary) << html;

  fs::path net_log;
  const CliResult dom = RunChromium(dir_, "dom", page, {"--dump-dom"}, &net_log);
  ASSERT_EQ(dom.exit_code, 0) << "chromium --dump-dom failed (124: timed out):\n" << dom.err;
  std::ofstream(dir_.path() / "dom.html", std::ios::binary) << dom.out;

  // The browser kept every table and chart the renderer wrote.
  EXPECT_THAT(dom.out, HasSubstr("RQS review report"));
  EXPECT_EQ(Count(dom.out, "<svg "), Count(html, "<svg "));
  EXPECT_GE(Count(dom.out, "<svg "), 9u);  // 2 summary, legend, heatmap, 4 studies, forest.
  EXPECT_EQ(Count(dom.out, "<table"), Count(html, "<table"));
  EXPECT_GE(Count(dom.out, "<table"), 6u);
  EXPECT_EQ(Count(dom.out, "<figure>"), 4u);
  EXPECT_EQ(Count(dom.out, "<rect "), Count(html, "<rect "));
  EXPECT_EQ(Count(dom.out, "<circle "), 41u);
  EXPECT_THAT(dom.out, HasSubstr("Inter-rater agreement"));
  EXPECT_THAT(dom.out, HasSubstr("5.8 \xC2\xB1 5.7"));
  // The hostile title is text, not a script element.
  EXPECT_THAT(dom.out, HasSubstr("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; Co's study"));
  EXPECT_THAT(dom.out, Not(HasSubstr("<script")));

  EXPECT_THAT(PageRequests(ReadFile(net_log)), ::testing::IsEmpty());
}

TEST_F(HtmlReportChromiumTest, ScreenshotShowsTheCharts) {
  const fs::path page = dir_.path() / "report.html";
  std::ofstream(page, std::ios::binary)
      << client::RenderHtmlReport(client::testing::SmallReviewInput(true));
  const fs::path png = dir_.path() / "report.png";

  fs::path net_log;
  const CliResult shot = RunChromium(
      dir_, "shot", page, {"--screenshot=" + png.string(), "--window-size=1200,2000"}, &net_log);
  ASSERT_EQ(shot.exit_code, 0) << "chromium --screenshot failed (124: timed out):\n" << shot.err;
  const std::string data = ReadFile(png);
  ASSERT_GT(data.size(), 20u * 1024) << "screenshot too small to hold the report";

  const Image image = DecodePng(data);
  EXPECT_EQ(image.width, 1200u);
  EXPECT_EQ(image.height, 2000u);
  std::set<uint32_t> colours;
  size_t blue = 0, background = 0;
  for (size_t y = 0; y < image.height; ++y) {
    for (size_t x = 0; x < image.width; ++x) {
      const std::array<uint8_t, 3> rgb = image.Rgb(x, y);
      colours.insert(static_cast<uint32_t>(rgb[0]) << 16 | static_cast<uint32_t>(rgb[1]) << 8 |
                     rgb[2]);
      if (Near(rgb, 0x2b, 0x6c, 0xb0)) ++blue;  // Bars of the summary charts.
      if (Near(rgb, 0xff, 0xff, 0xff)) ++background;
    }
  }
  const size_t total = static_cast<size_t>(image.width) * image.height;
  EXPECT_GT(colours.size(), 50u) << "the page looks blank";
  EXPECT_GT(blue, 2000u) << "no chart bars painted";
  EXPECT_LT(background, total * 98 / 100) << "the page is almost all background";

  EXPECT_THAT(PageRequests(ReadFile(net_log)), ::testing::IsEmpty());
}

// 2,000 studies: the browser loads the whole page in time, with every study
// in the table and the capped per-study charts.
TEST_F(HtmlReportChromiumTest, LargeReviewLoads) {
  const std::string html = client::RenderHtmlReport(client::testing::LargeReviewInput(2000));
  const fs::path page = dir_.path() / "large.html";
  std::ofstream(page, std::ios::binary) << html;
  const fs::path png = dir_.path() / "large.png";
  fs::path net_log;
  const CliResult run = RunChromium(
      dir_, "large", page,
      {"--dump-dom", "--screenshot=" + png.string(), "--window-size=1200,2000"}, &net_log);
  ASSERT_EQ(run.exit_code, 0) << "chromium failed (124: timed out):\n" << run.err;
  EXPECT_EQ(Count(run.out, "<td>Generated study "), 2000u);
  EXPECT_EQ(Count(run.out, "<figure>"), static_cast<size_t>(client::kMaxStudyCharts));
  EXPECT_EQ(Count(run.out, "<path "), Count(html, "<path "));
  EXPECT_THAT(PageRequests(ReadFile(net_log)), ::testing::IsEmpty());
}

// The net-log check must see a page's own request; otherwise the two checks
// above would pass vacuously (e.g. if Chromium changed its net log).
TEST_F(HtmlReportChromiumTest, NetLogCheckSeesAPageRequest) {
  const fs::path page = dir_.path() / "control.html";
  std::ofstream(page, std::ios::binary)
      << "<!DOCTYPE html><html><body><img src=\"http://rqs-control.invalid/pixel.png\" "
         "alt=\"\"></body></html>\n";
  fs::path net_log;
  const CliResult run = RunChromium(dir_, "control", page, {"--dump-dom"}, &net_log);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(PageRequests(ReadFile(net_log)),
              ::testing::Contains(HasSubstr("rqs-control.invalid")));
}

}  // namespace
}  // namespace rqs::testing
