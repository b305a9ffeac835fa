#include "verdict_memo.h"

namespace mxtls {

VerdictMemo::VerdictMemo(std::chrono::milliseconds ttl, std::size_t capacity) : ttl_(ttl), capacity_(capacity) {}

std::optional<codec::EngineVerdict> VerdictMemo::find(const std::string& domain, Clock::time_point now) {
  if (ttl_.count() <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(domain);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.answer;
}

void VerdictMemo::remember(const std::string& domain, const codec::EngineVerdict& answer, Clock::time_point now) {
  if (ttl_.count() <= 0 || capacity_ == 0 || !answer.severity) return;
  std::lock_guard lock(mutex_);
  if (!entries_.contains(domain)) make_room(now);
  entries_.insert_or_assign(domain, Entry{answer, now + ttl_});
}

// Full: drop what expired; if all are fresh, start over (a burst of more
// domains than `capacity` within one ttl asks the engine, as without a memo).
void VerdictMemo::make_room(Clock::time_point now) {
  if (entries_.size() < capacity_) return;
  std::erase_if(entries_, [now](const auto& e) { return e.second.expires <= now; });
  if (entries_.size() >= capacity_) entries_.clear();
}

}  // namespace mxtls
