#pragma once
// A headless Chromium driven through chromedriver's W3C WebDriver API, for tests of the web
// dashboard: open a page, run a script in it, move the pointer over an element, take a
// screenshot. Debian's `chromium` and `chromium-driver` packages provide the programs.

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/http_client.hpp"
#include "tests/support/process.hpp"

namespace sy::test {

class WebDriver {
 public:
  // Why a browser cannot be driven here ("" when it can): the programs are missing.
  static std::string why_not();
  // Starts chromedriver (its log in `log_path`) and a headless browser session of
  // `width`x`height`. `accept_any_certificate`: for a test's own CA, which the browser cannot
  // be told to trust. Throws with chromedriver's answer when either does not start.
  explicit WebDriver(const std::string& log_path, bool accept_any_certificate = false,
                     int width = 1400, int height = 1000);
  ~WebDriver();
  WebDriver(const WebDriver&) = delete;
  WebDriver& operator=(const WebDriver&) = delete;

  void open(const std::string& url);
  // Runs `script` (a function body: `return ...;`, seeing `args` as `arguments`) in the page;
  // its return value.
  nlohmann::json run(const std::string& script,
                     const nlohmann::json& args = nlohmann::json::array());
  // How many elements match `css`, and the text of the first ("" when none does).
  int count(const std::string& css);
  std::string text(const std::string& css);
  // Moves the pointer to the middle of the first element matching `css`.
  void hover(const std::string& css);
  // The page as a PNG, written to `path`.
  void screenshot(const std::string& path);

 private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr);
  std::unique_ptr<ChildProcess> driver_;
  std::unique_ptr<HttpClient> http_;
  std::string session_;
};

}  // namespace sy::test
