// The daemon's connections and which one gives way when a new one arrives
// and the budget is full, for all clients (policy.max_connections) or for
// one client address (policy.max_connections_per_client): the one idle
// longest, never one whose request is being answered. Bookkeeping only; a
// connection is closed by the closer its request loop attached.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace mxtls {

class ConnectionTable;

// One connection's place in the table, held by its request loop; it leaves
// the table when destroyed.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  ConnectionSlot(ConnectionSlot&& other) noexcept;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept;
  ~ConnectionSlot();

  // How to close this connection when it must give way; until then it is
  // never chosen. The closer must stay callable while the slot lives.
  void on_evict(std::function<void()> close);
  void busy();      // a request may be complete: being answered
  void waiting();   // not yet: still reading it, idle as before
  void answered();  // answered: idle from now until the next request

 private:
  friend class ConnectionTable;
  ConnectionSlot(ConnectionTable* table, std::uint64_t id) : table_(table), id_(id) {}
  ConnectionTable* table_ = nullptr;
  std::uint64_t id_ = 0;
};

class ConnectionTable {
 public:
  struct Limits {
    int total = 1000;
    int per_client = 250;
  };
  enum class Limit { none, total, per_client };
  struct Admission {
    std::optional<ConnectionSlot> slot;  // empty: refused, everything in the way is busy
    Limit reached = Limit::none;         // the limit that made a connection give way (or refused this one)
  };

  explicit ConnectionTable(Limits limits) : limits_(limits) {}
  ConnectionTable(const ConnectionTable&) = delete;
  ConnectionTable& operator=(const ConnectionTable&) = delete;

  // Makes room for a new connection from `client` (an address; "" for a
  // unix socket, which has no per-client limit), closing the connection
  // idle longest (the client's own when its limit is what is reached).
  Admission admit(const std::string& client);

  std::size_t size() const { return entries_.size(); }
  std::size_t connections_of(const std::string& client) const;

 private:
  friend class ConnectionSlot;
  struct Entry {
    std::string client;
    std::uint64_t idle_since = 0;
    bool busy = false;
    std::function<void()> close;
  };
  struct Client {
    int connections = 0;
  };

  // Closes the connection idle longest (of `client`, if given); false when
  // every candidate is busy.
  bool evict_idlest(const std::string* client);
  void remove(std::uint64_t id);
  void on_evict(std::uint64_t id, std::function<void()> close);
  void set_busy(std::uint64_t id, bool busy, bool answered);

  Limits limits_;
  std::uint64_t next_id_ = 1;
  std::uint64_t clock_ = 0;  // orders idleness; a counter, not time
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::unordered_map<std::string, Client> clients_;
};

}  // namespace mxtls
