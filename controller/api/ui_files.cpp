#include "controller/api/ui_files.hpp"

namespace sy::api {

namespace {

std::string content_type_of(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

}  // namespace

void UiFiles::handle(ApiRequest request, Responder respond) {
  if (request.method != "GET") return respond(error_response(405, "method_not_allowed", "use GET"));
  if (request.path == "/" || request.path == "/ui") {
    ApiResponse moved(302);
    moved.content_type = "text/plain; charset=utf-8";
    moved.text = "see /ui/\n";
    moved.headers["Location"] = "/ui/";
    return respond(std::move(moved));
  }
  std::string_view name = std::string_view(request.path).substr(4);  // after "/ui/"
  if (name.empty()) name = "index.html";
  const auto file = ui::embedded_file(name);
  if (!file)
    return respond(error_response(404, "no_such_file", "no dashboard file " + request.path));
  ApiResponse out(200);
  out.content_type = content_type_of(name);
  out.text = std::string(*file);
  // The page's scripts come only from here, it talks only to this controller (fetch and its
  // WebSocket), and no other site may frame it.
  out.headers["Content-Security-Policy"] =
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
      "base-uri 'none'; form-action 'none'";
  out.headers["X-Content-Type-Options"] = "nosniff";
  out.headers["Referrer-Policy"] = "no-referrer";
  out.headers["Cache-Control"] = "no-cache";
  respond(std::move(out));
}

}  // namespace sy::api
