#include "dns/resolver.h"

#include <unbound.h>

#include <cstdio>
#include <memory>
#include <utility>
#include <stdexcept>

#include "util/split.h"

namespace mxtls::dns {
namespace {

// One query's rendezvous with libunbound's callback. A coroutine frame
// destroyed while suspended (the daemon stopping) takes its Pending with it:
// the destructor then cancels the query, so no callback reaches freed memory,
// or frees the answer that came but was never read.
struct Pending {
  Pending(asio::any_io_executor ex, ub_ctx* ctx) : signal(ex), ctx(ctx) {}
  Pending(const Pending&) = delete;
  Pending& operator=(const Pending&) = delete;
  ~Pending() {
    if (asked && !finished) ub_cancel(ctx, async_id);
    if (result) ub_resolve_free(result);
  }
  asio::steady_timer signal;
  ub_ctx* ctx;
  bool asked = false;
  int async_id = 0;
  bool finished = false;
  int err = 0;
  ub_result* result = nullptr;  // owned until taken
};

void on_result(void* arg, int err, ub_result* result) {
  auto* p = static_cast<Pending*>(arg);
  p->finished = true;
  p->err = err;
  p->result = result;
  p->signal.cancel();
}

void check(int rc, const std::string& what) {
  if (rc != 0) throw std::runtime_error("dns: " + what + ": " + ub_strerror(rc));
}

}  // namespace

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::nodata: return "nodata";
    case Status::nxdomain: return "nxdomain";
    case Status::servfail: return "servfail";
    case Status::timeout: return "timeout";
  }
  return "?";
}

std::string_view security_name(Security s) {
  switch (s) {
    case Security::insecure: return "insecure";
    case Security::secure: return "secure";
    case Security::bogus: return "bogus";
  }
  return "?";
}

Resolver::Resolver(asio::io_context& io, const DnsConfig& config)
    : io_(io), ctx_(ub_ctx_create()), fd_(io), timeout_(config.timeout.value) {
  if (!ctx_) throw std::runtime_error("dns: cannot create libunbound context");
  // libunbound's own log lines (validation errors, ...) would land on our
  // stderr; what matters of them comes back in each answer (why_bogus).
  if ((quiet_ = std::fopen("/dev/null", "w"))) ub_ctx_debugout(ctx_, quiet_);
  check(ub_ctx_async(ctx_, 1), "async mode");
  if (config.forwarder.empty()) {
    check(ub_ctx_resolvconf(ctx_, nullptr), "reading /etc/resolv.conf");
  } else {
    check(ub_ctx_set_fwd(ctx_, config.forwarder.c_str()), "forwarder '" + config.forwarder + "'");
  }
  // libunbound serves RFC 6761 names (test., invalid., ...) locally and
  // empty; listed zones are passed to the forwarder instead (lab use).
  for (const auto& zone : split_list(config.transparent_zones))
    check(ub_ctx_set_option(ctx_, "local-zone:", (zone + " transparent").c_str()), "local-zone " + zone);
  if (!config.trust_anchor.empty()) {
    check(ub_ctx_add_ta_file(ctx_, config.trust_anchor.c_str()), "trust anchor file '" + config.trust_anchor + "'");
    validating_ = true;
  }
  fd_.assign(ub_fd(ctx_));
}

Resolver::~Resolver() {
  fd_.release();  // owned by libunbound
  ub_ctx_delete(ctx_);
  if (quiet_) std::fclose(quiet_);
}

void Resolver::watch() {
  if (watching_ || outstanding_ == 0) return;
  watching_ = true;
  fd_.async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& ec) {
    watching_ = false;
    if (ec && ec != asio::error::operation_aborted) return;
    if (!ec) ub_process(ctx_);
    // A query may have started while this wait was being cancelled (when the
    // last one finished): keep watching while any is outstanding.
    watch();
  });
}

asio::awaitable<Answer> Resolver::query(const std::string& name, int rrtype, std::size_t max_records) {
  Pending pending(io_.get_executor(), ctx_);
  const int rc = ub_resolve_async(ctx_, name.c_str(), rrtype, 1, &pending, on_result, &pending.async_id);
  if (rc != 0) co_return Answer{Status::servfail, {}, {}, 0, std::string("resolver error: ") + ub_strerror(rc)};
  pending.asked = true;
  ++outstanding_;
  watch();
  pending.signal.expires_after(timeout_);
  boost::system::error_code ec;
  co_await pending.signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  if (--outstanding_ == 0) {
    boost::system::error_code ignored;
    fd_.cancel(ignored);  // nothing left to wait for: let the io_context finish
  }
  if (!pending.finished) {
    co_return Answer{Status::timeout, {}, {}, 0, "no answer within " + std::to_string(timeout_.count()) + "ms"};
  }
  Answer answer;
  std::unique_ptr<ub_result, void (*)(ub_result*)> owned(std::exchange(pending.result, nullptr), ub_resolve_free);
  const ub_result* r = owned.get();
  if (pending.err != 0 || !r) {
    answer = {Status::servfail, {}, {}, 0, std::string("resolver error: ") + ub_strerror(pending.err)};
  } else if (r->bogus) {
    answer = {Status::servfail, Security::bogus, {}, 0, std::string("DNSSEC bogus: ") + (r->why_bogus ? r->why_bogus : "")};
  } else if (r->nxdomain || r->rcode == 3) {
    answer = {Status::nxdomain, {}, {}, 0, "NXDOMAIN"};
  } else if (r->rcode != 0) {
    answer = {Status::servfail, {}, {}, 0, "rcode " + std::to_string(r->rcode)};
  } else if (!r->havedata) {
    answer = {Status::nodata, {}, {}, 0, "no records"};
  } else {
    answer.status = Status::ok;
    for (std::size_t i = 0; r->data[i]; ++i) {
      ++answer.total;
      if (i < max_records) answer.rdata.emplace_back(r->data[i], static_cast<std::size_t>(r->len[i]));
    }
  }
  // Secure: validated; a secure NXDOMAIN or no-data answer is a proven denial.
  if (r && !r->bogus && r->secure) answer.security = Security::secure;
  co_return answer;
}

}  // namespace mxtls::dns
