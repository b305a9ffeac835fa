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
      if (own->second.idle.empty()) return a;
      evict(own->second.idle);
    }
  }
  if (static_cast<int>(entries_.size()) >= limits_.total) {
    a.reached = Limit::total;
    if (idle_.empty()) return a;
    evict(idle_);
  }
  const std::uint64_t id = next_id_++;
  entries_.emplace(id, Entry{client, ++clock_, false, {}});
  if (!client.empty()) ++clients_[client].connections;
  a.slot = ConnectionSlot(this, id);
  return a;
}

void ConnectionTable::set_evictable(std::uint64_t id, Entry& e, bool on) {
  const auto key = std::make_pair(e.idle_since, id);
  Client* c = e.client.empty() ? nullptr : &clients_[e.client];
  if (on) {
    idle_.insert(key);
    if (c) c->idle.insert(key);
  } else {
    idle_.erase(key);
    if (c) c->idle.erase(key);
  }
}

void ConnectionTable::evict(IdleOrder& order) {
  const std::uint64_t id = order.begin()->second;
  const auto close = entries_.at(id).close;  // a copy: remove() needs the entry as it is
  remove(id);
  close();
}

void ConnectionTable::remove(std::uint64_t id) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;  // gave way earlier
  if (evictable(it->second)) set_evictable(id, it->second, false);
  if (!it->second.client.empty()) {
    const auto c = clients_.find(it->second.client);
    if (--c->second.connections == 0) clients_.erase(c);
  }
  entries_.erase(it);
}

void ConnectionTable::on_evict(std::uint64_t id, std::function<void()> close) {
  auto& e = entries_.at(id);
  if (evictable(e)) set_evictable(id, e, false);
  e.close = std::move(close);
  if (evictable(e)) set_evictable(id, e, true);
}

void ConnectionTable::set_busy(std::uint64_t id, bool busy, bool answered) {
  const auto it = entries_.find(id);
  if (it == entries_.end()) return;  // gave way earlier
  Entry& e = it->second;
  if (evictable(e)) set_evictable(id, e, false);
  e.busy = busy;
  if (answered) e.idle_since = ++clock_;
  if (evictable(e)) set_evictable(id, e, true);
}

}  // namespace mxtls
