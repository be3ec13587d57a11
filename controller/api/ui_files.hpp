#pragma once
// UiFiles: the web dashboard's static files (controller/ui/), compiled into the controller and
// served read-only at /ui/ without a user: they hold no data. The page reads everything through
// the API with a session token (`sy dashboard`). "/" sends browsers to /ui/.

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/api/api_types.hpp"

namespace sy::api {

class UiFiles : public RequestHandler {
 public:
  void handle(ApiRequest request, Responder respond) override;
};

}  // namespace sy::api

namespace sy::ui {
// The files under controller/ui/, by name relative to it ("index.html").
std::optional<std::string_view> embedded_file(std::string_view name);
const std::vector<std::pair<std::string_view, std::string_view>>& embedded_files();
}  // namespace sy::ui
