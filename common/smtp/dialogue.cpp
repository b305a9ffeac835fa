#include "smtp/dialogue.h"

namespace mxtls::smtp {

asio::awaitable<StepResult> Dialogue::read_reply(std::chrono::milliseconds budget) {
  StepResult result;
  watchdog_.arm(budget);
  char chunk[4096];
  while (true) {
    const auto parsed = parse_reply(buffer_);
    if (parsed.status == ParseStatus::complete) {
      buffer_.erase(0, parsed.consumed);
      result.ok = true;
      result.reply = parsed.reply;
      break;
    }
    if (looks_like_tls_record(buffer_)) {
      result.tls_bytes = true;
      result.error = "TLS record where an SMTP reply was expected";
      break;
    }
    if (parsed.status == ParseStatus::malformed) {
      result.malformed = true;
      result.error = parsed.error;
      break;
    }
    boost::system::error_code ec;
    const std::size_t n = co_await socket_.async_read_some(asio::buffer(chunk), asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      result.timed_out = watchdog_.fired();
      result.error = result.timed_out ? "timed out waiting for the server" : ec == asio::error::eof ? "connection closed by the server" : ec.message();
      break;
    }
    buffer_.append(chunk, n);
  }
  watchdog_.disarm();
  co_return result;
}

asio::awaitable<StepResult> Dialogue::command(std::string line, std::chrono::milliseconds budget) {
  line += "\r\n";
  boost::system::error_code ec;
  watchdog_.arm(budget);
  co_await asio::async_write(socket_, asio::buffer(line), asio::redirect_error(asio::use_awaitable, ec));
  watchdog_.disarm();
  if (ec) {
    StepResult result;
    result.timed_out = watchdog_.fired();
    result.error = result.timed_out ? "timed out sending to the server" : ec.message();
    co_return result;
  }
  co_return co_await read_reply(budget);
}

}  // namespace mxtls::smtp
