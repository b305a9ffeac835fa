#include "server/connection_table.h"

namespace mxtls {

ConnectionSlot::ConnectionSlot(ConnectionSlot&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)), id_(other.id_) {}

ConnectionSlot& ConnectionSlot::operator=(ConnectionSlot&& other) noexcept {
  if (this != &other) {
    if (table_) table_->remove(id_);
    table_ = std::exchange(other.table_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

ConnectionSlot::~ConnectionSlot() {
  if (table_) table_->remove(id_);
}

void ConnectionSlot::on_evict(std::function<void()> close) {
  if (table_) table_->on_evict(id_, std::move(close));
}
void ConnectionSlot::busy() {
  if (table_) table_->set_busy(id_, true, false);
}
void ConnectionSlot::waiting() {
  if (table_) table_->set_busy(id_, false, false);
}
void ConnectionSlot::answered() {
  if (table_) table_->set_busy(id_, false, true);
}

std::size_t ConnectionTable::connections_of(const std::string& client) const {
  const auto it = clients_.find(client);
  return it == clients_.end() ? 0 : static_cast<std::size_t>(it->second.connections);
}

ConnectionTable::Admission ConnectionTable::admit(const std::string& client) {
  Admission a;
  if (!client.empty()) {
    const auto own = clients_.find(client);
    if (own != clients_.end() && own->second.connections >= limits_.per_client) {
      a.reached = Limit::per_client;
      if (!evict_idlest(&client)) return a;
    }
  }
  if (static_cast<int>(entries_.size()) >= limits_.total) {
    a.reached = Limit::total;
    if (!evict_idlest(nullptr)) return a;
  }
  const std::uint64_t id = next_id_++;
  entries_.emplace(id, Entry{client, ++clock_, false, {}});
  if (!client.empty()) ++clients_[client].connections;
  a.slot = ConnectionSlot(this, id);
  return a;
}

// Only when the table is full, so each request pays no bookkeeping: a scan
// of at most max_connections entries for the one idle longest.
bool ConnectionTable::evict_idlest(const std::string* client) {
  auto chosen = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const Entry& e = it->second;
    if (e.busy || !e.close || (client && e.client != *client)) continue;
    if (chosen == entries_.end() || e.idle_since < chosen->second.idle_since) chosen = it;
  }
  if (chosen == entries_.end()) return false;
  const auto close = chosen->second.close;  // a copy: remove() needs the entry as it is
  remove(chosen->first);
  close();
  return true;
}

void ConnectionTable::remove(std::uint64_t id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;  // gave way earlier
  if (!it->second.client.empty()) {
    const auto c = clients_.find(it->second.client);
    if (--c->second.connections == 0) clients_.erase(c);
  }
  entries_.erase(it);
}

void ConnectionTable::on_evict(std::uint64_t id, std::function<void()> close) {
  if (const auto it = entries_.find(id); it != entries_.end()) it->second.close = std::move(close);
}

void ConnectionTable::set_busy(std::uint64_t id, bool busy, bool answered) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;  // gave way earlier
  it->second.busy = busy;
  if (answered) it->second.idle_since = ++clock_;
}

}  // namespace mxtls
