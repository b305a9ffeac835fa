// The client side of an SMTP conversation as far as a probe needs it:
// read the greeting, send EHLO, STARTTLS and QUIT, read replies. Every step
// has a deadline (the Watchdog cancels the socket) and every reply goes
// through the bounded parser in smtp/reply.h. It never sends mail.
#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "smtp/reply.h"
#include "util/asio.h"
#include "util/watchdog.h"

namespace mxtls::smtp {

struct StepResult {
  bool ok = false;          // a complete, well-formed reply arrived
  bool timed_out = false;
  bool tls_bytes = false;   // the server sent a TLS record instead of SMTP text
  bool malformed = false;   // the reply broke the protocol or a limit of smtp/reply.h (error says which)
  std::string error;        // transport or parse error when !ok
  Reply reply;
};

class Dialogue {
 public:
  Dialogue(tcp::socket& socket, Watchdog& watchdog) : socket_(socket), watchdog_(watchdog) {}

  asio::awaitable<StepResult> read_reply(std::chrono::milliseconds budget);
  // Writes `line` + CRLF, then reads the reply.
  asio::awaitable<StepResult> command(std::string line, std::chrono::milliseconds budget);
  // Bytes received after the last reply (a server must send none after
  // "220" to STARTTLS: anything here would be injected into the TLS session).
  std::size_t unread_bytes() const { return buffer_.size(); }

 private:
  tcp::socket& socket_;
  Watchdog& watchdog_;
  std::string buffer_;
};

}  // namespace mxtls::smtp
