#include "controller/scheduler/option_memo.hpp"

namespace sy::sched {

OptionMemo::Identity OptionMemo::identity(const Profile& profile) {
  return {profile.topology_aware, profile.interconnect_aware, profile.scorers};
}

std::map<OptionMemo::Key, OptionMemo::Option>& OptionMemo::for_profile(const Profile& profile) {
  Identity now = identity(profile);
  if (now != profile_ || options_.size() > kMostOptions) {
    options_.clear();
    profile_ = std::move(now);
  }
  return options_;
}

std::map<OptionMemo::RingKey, double>& OptionMemo::rings() {
  if (rings_.size() > kMostOptions) rings_.clear();
  return rings_;
}

}  // namespace sy::sched
