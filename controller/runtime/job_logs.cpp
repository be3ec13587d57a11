#include "controller/runtime/job_logs.hpp"

#include <fstream>

#include "common/log.hpp"

namespace sy::runtime {
namespace fs = std::filesystem;

JobLogs::JobLogs(fs::path dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    SY_LOG(error, "jobs") << "cannot create " << dir_.string() << ": " << ec.message();
  }
}

fs::path JobLogs::file_of(std::int64_t job) const {
  return dir_ / (std::to_string(job) + ".log");
}

std::int64_t JobLogs::append(const std::string& node, const protocol::JobOutput& o) {
  const std::scoped_lock lock(mutex_);
  std::int64_t& kept = kept_[{o.job, node}];
  if (o.end <= kept) return kept;  // resent after a reconnect: kept already
  std::string_view text = o.text;
  // A resent slice that overlaps what is kept: keep only its new part (when the text has the
  // slice's length, i.e. nothing in it was replaced, the byte offsets map onto it).
  if (o.offset < kept && static_cast<std::int64_t>(text.size()) == o.end - o.offset) {
    text.remove_prefix(static_cast<std::size_t>(kept - o.offset));
  }
  std::ofstream out(file_of(o.job), std::ios::app | std::ios::binary);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out.flush()) {
    SY_LOG(error, "jobs") << "cannot write " << file_of(o.job).string();
    return kept;  // not acknowledged: the agent sends it again
  }
  kept = o.end;
  return kept;
}

JobLogs::Slice JobLogs::read(std::int64_t job, std::int64_t offset, std::int64_t max) const {
  const std::scoped_lock lock(mutex_);
  Slice s{.text = "", .next = offset};
  std::ifstream in(file_of(job), std::ios::binary);
  if (!in) return s;
  in.seekg(offset);
  s.text.resize(static_cast<std::size_t>(max));
  in.read(s.text.data(), max);
  s.text.resize(static_cast<std::size_t>(in.gcount()));
  if (static_cast<std::int64_t>(s.text.size()) == max) {
    const auto nl = s.text.rfind('\n');
    if (nl != std::string::npos) s.text.resize(nl + 1);
  }
  s.next = offset + static_cast<std::int64_t>(s.text.size());
  return s;
}

void JobLogs::forget(std::int64_t job) {
  const std::scoped_lock lock(mutex_);
  kept_.erase(kept_.lower_bound({job, std::string()}), kept_.lower_bound({job + 1, std::string()}));
  std::error_code ec;
  fs::remove(file_of(job), ec);
}

JobLogs::Tail JobLogs::tail(std::int64_t job, std::int64_t max) const {
  std::int64_t size = 0;
  {
    const std::scoped_lock lock(mutex_);
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(file_of(job), ec);
    if (ec) return {};
    size = static_cast<std::int64_t>(bytes);
  }
  if (size <= max) return {0, read(job, 0, max)};
  // One byte more than asked: when it is a line's end, the tail starts on a whole line.
  Slice s = read(job, size - max - 1, max + 1);
  const auto nl = s.text.find('\n');
  if (nl == std::string::npos) return {s.next, {"", s.next}};
  const std::int64_t skipped = static_cast<std::int64_t>(nl) + 1;
  return {size - max - 1 + skipped, {s.text.substr(nl + 1), s.next}};
}

}  // namespace sy::runtime
