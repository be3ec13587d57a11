#include "tests/support/web_driver.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "common/base64.hpp"

namespace sy::test {

namespace {

constexpr const char* kDriver = "/usr/bin/chromedriver";
constexpr const char* kBrowser = "/usr/bin/chromium";

// A loopback port free now, for chromedriver (which cannot report a port it chose).
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free loopback port for chromedriver");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

std::string WebDriver::why_not() {
  namespace fs = std::filesystem;
  if (!fs::exists(kBrowser)) return std::string(kBrowser) + " is missing (Debian package chromium)";
  if (!fs::exists(kDriver)) {
    return std::string(kDriver) + " is missing (Debian package chromium-driver)";
  }
  return "";
}

WebDriver::WebDriver(const std::string& log_path, bool accept_any_certificate, int width,
                     int height) {
  const int port = free_port();
  driver_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{kDriver, "--port=" + std::to_string(port), "--log-level=WARNING"},
      log_path);
  http_ = std::make_unique<HttpClient>(Endpoint{"127.0.0.1", static_cast<std::uint16_t>(port)},
                                       std::chrono::seconds(60));
  // chromedriver answers /status once it listens.
  for (int i = 0; i < 100; ++i) {
    auto status = http_->request("GET", "/status");
    if (status && status->status == 200) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const nlohmann::json options{
      {"binary", kBrowser},
      {"args",
       {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--window-size=" + std::to_string(width) + "," + std::to_string(height)}}};
  auto created = call("POST", "/session",
                      {{"capabilities",
                        {{"alwaysMatch",
                          {{"browserName", "chrome"},
                           {"acceptInsecureCerts", accept_any_certificate},
                           {"goog:chromeOptions", options}}}}}});
  session_ = created.at("sessionId").get<std::string>();
}

WebDriver::~WebDriver() {
  try {
    if (!session_.empty()) call("DELETE", "/session/" + session_);
  } catch (const std::exception&) {
    // The browser is gone already; chromedriver is stopped below either way.
  }
  if (driver_) {
    driver_->signal(SIGTERM);
    driver_->wait(std::chrono::seconds(5));
  }
}

nlohmann::json WebDriver::call(const std::string& method, const std::string& path,
                               const nlohmann::json& body) {
  auto r = http_->request(method, path, body.is_null() ? "" : body.dump(),
                          {{"Content-Type", "application/json"}});
  if (!r) throw std::runtime_error("chromedriver " + method + " " + path + ": " + r.error());
  auto answer = nlohmann::json::parse(r->body, nullptr, false);
  if (r->status != 200 || !answer.is_object()) {
    throw std::runtime_error("chromedriver " + method + " " + path + ": " +
                             std::to_string(r->status) + " " + r->body.substr(0, 2000));
  }
  return answer.value("value", nlohmann::json());
}

void WebDriver::open(const std::string& url) {
  call("POST", "/session/" + session_ + "/url", {{"url", url}});
}

nlohmann::json WebDriver::run(const std::string& script, const nlohmann::json& args) {
  return call("POST", "/session/" + session_ + "/execute/sync",
              {{"script", script}, {"args", args}});
}

int WebDriver::count(const std::string& css) {
  return run("return document.querySelectorAll(arguments[0]).length;", {css}).get<int>();
}

std::string WebDriver::text(const std::string& css) {
  const auto t =
      run("const e = document.querySelector(arguments[0]); return e ? e.textContent : '';", {css});
  return t.is_string() ? t.get<std::string>() : std::string();
}

void WebDriver::hover(const std::string& css) {
  auto found = call("POST", "/session/" + session_ + "/element",
                    {{"using", "css selector"}, {"value", css}});
  // The W3C name of an element reference's key.
  const nlohmann::json element{
      {"element-6066-11e4-a52e-4f735466cecf",
       found.at("element-6066-11e4-a52e-4f735466cecf").get<std::string>()}};
  call("POST", "/session/" + session_ + "/actions",
       {{"actions",
         {{{"type", "pointer"},
           {"id", "mouse"},
           {"parameters", {{"pointerType", "mouse"}}},
           {"actions",
            {{{"type", "pointerMove"},
              {"duration", 0},
              {"origin", element},
              {"x", 0},
              {"y", 0}}}}}}}});
}

void WebDriver::screenshot(const std::string& path) {
  const auto png = unbase64(call("GET", "/session/" + session_ + "/screenshot").get<std::string>());
  if (!png) throw std::runtime_error("screenshot: not base64");
  std::ofstream out(path, std::ios::binary);
  out << *png;
  if (!out) throw std::runtime_error("cannot write " + path);
}

}  // namespace sy::test
