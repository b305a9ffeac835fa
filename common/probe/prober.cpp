#include "probe/prober.h"

#include <unistd.h>

#include <algorithm>

#include "dns/rdata.h"
#include "smtp/dialogue.h"
#include "sts/judge.h"

namespace mxtls {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// What the compat connection's greeting wait leaves of the destination's
// deadline for the implicit-TLS check of a silent server (connect,
// handshake); a third of the deadline where that is less.
constexpr milliseconds kImplicitTlsCheck{5000};

// One TCP connection of a probe: the TLS stream (plaintext SMTP runs on its
// next layer until STARTTLS), its watchdog and its SMTP dialogue.
struct Connection {
  Connection(asio::io_context& io, asio::ssl::context& ctx, Clock::time_point deadline)
      : stream(io, ctx), watchdog(Watchdog::create(stream.next_layer(), deadline)),
        dialogue(stream.next_layer(), *watchdog) {}
  TlsStream stream;
  std::shared_ptr<Watchdog> watchdog;
  smtp::Dialogue dialogue;
};

// What the plaintext part of a connection established.
struct SmtpStage {
  bool ready_for_tls = false;
  std::optional<Reason> failure;
  std::string detail;
  bool silent_greeting = false;  // no byte before the greeting deadline
  double greeting_s = 0;          // from connect to the end of the greeting
  bool tls_bytes = false;
  std::string banner;
  bool starttls_offered = false;
  int starttls_code = 0;
  std::string starttls_reply;
  bool injected = false;
};

SmtpStage step_failure(const smtp::StepResult& r, const char* step) {
  SmtpStage s;
  s.failure = r.timed_out ? Reason::timeout : r.malformed ? Reason::smtp_protocol_violation : Reason::connect_failed;
  s.detail = std::string(step) + (r.malformed ? ": protocol violation: " : ": ") + r.error;
  return s;
}

asio::awaitable<SmtpStage> smtp_until_starttls(Connection& c, const tcp::endpoint& ep, const StepTimeouts& timeouts,
                                              const std::string& helo) {
  SmtpStage s;
  auto& socket = c.stream.next_layer();
  boost::system::error_code ec;
  c.watchdog->arm(timeouts.connect);
  co_await socket.async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  c.watchdog->disarm();
  if (ec) {
    s.failure = c.watchdog->fired() ? Reason::timeout : Reason::connect_failed;
    s.detail = "connect: " + (c.watchdog->fired() ? std::string("timed out") : ec.message());
    co_return s;
  }
  socket.set_option(tcp::no_delay(true), ec);

  const auto connected = Clock::now();
  // The whole greeting, multi-line and slow as it may be, before a word of
  // ours: servers that drop early talkers (postscreen) see none.
  auto greeting = co_await c.dialogue.read_reply(timeouts.greeting);
  s.greeting_s = std::chrono::duration<double>(Clock::now() - connected).count();
  if (!greeting.ok) {
    s = step_failure(greeting, "greeting");
    s.tls_bytes = greeting.tls_bytes;
    s.silent_greeting = greeting.timed_out && c.dialogue.unread_bytes() == 0;
    if (greeting.tls_bytes) s.failure = Reason::tls_on_plain_port;
    co_return s;
  }
  s.banner = greeting.reply.first_line();
  if (greeting.reply.code != 220) {
    s.failure = Reason::banner_rejected;
    s.detail = "greeting: " + std::to_string(greeting.reply.code) + " " + greeting.reply.first_line();
    co_return s;
  }
  std::string ehlo_line = "EHLO " + helo;
  auto ehlo = co_await c.dialogue.command(std::move(ehlo_line), timeouts.ehlo);
  if (!ehlo.ok) {
    const auto banner = s.banner;
    s = step_failure(ehlo, "EHLO");
    s.banner = banner;
    co_return s;
  }
  if (ehlo.reply.code != 250) {
    s.failure = Reason::banner_rejected;
    s.detail = "EHLO: " + std::to_string(ehlo.reply.code) + " " + ehlo.reply.first_line();
    co_return s;
  }
  s.starttls_offered = smtp::ehlo_keywords(ehlo.reply).count("STARTTLS") > 0;
  if (!s.starttls_offered) co_return s;

  std::string starttls_line = "STARTTLS";
  auto starttls = co_await c.dialogue.command(std::move(starttls_line), timeouts.starttls);
  if (!starttls.ok) {
    const auto kept = s;
    s = step_failure(starttls, "STARTTLS");
    s.banner = kept.banner;
    s.starttls_offered = true;
    co_return s;
  }
  s.starttls_code = starttls.reply.code;
  s.starttls_reply = starttls.reply.first_line();
  s.injected = c.dialogue.unread_bytes() > 0;
  s.ready_for_tls = starttls.reply.code == 220;
  co_return s;
}

// Best effort: tell the server we are done, without waiting long.
asio::awaitable<void> quit_over_tls(Connection& c) {
  static const std::string kQuit = "QUIT\r\n";
  boost::system::error_code ec;
  c.watchdog->arm(milliseconds(500));
  co_await asio::async_write(c.stream, asio::buffer(kQuit), asio::redirect_error(asio::use_awaitable, ec));
  c.watchdog->disarm();
  c.stream.next_layer().close(ec);
}

std::string local_host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == 0) return "localhost";
  return buf;
}

}  // namespace

// How much of one destination's probe is its own work: the lookups, then
// each host until its probe ends or it joins another destination's probe.
struct Prober::Progress {
  int own = 1;
  bool joined = false;
  std::function<void()> on_waiting;
  void own_done() {
    if (--own == 0 && joined && on_waiting) std::exchange(on_waiting, nullptr)();
  }
  void join() {
    joined = true;
    own_done();
  }
};

Prober::Prober(asio::io_context& io, const ProbeConfig& config, const ClientProfile& profile, dns::Resolver& resolver)
    : io_(io), config_(config), profile_(profile), timeouts_(step_timeouts(config, profile.connection)),
      survey_(survey_when(config.survey)), resolver_(resolver), contexts_(profile),
      connections_(io.get_executor(), config.concurrency), hosts_(io.get_executor(), config.connections_per_address),
      helo_name_(config.helo_name.empty() ? local_host_name() : config.helo_name) {}

void Prober::reconfigure(const ProbeConfig& config) {
  const ProbeConfig sized_at_start = config_;
  config_ = config;
  config_.concurrency = sized_at_start.concurrency;
  config_.connections_per_address = sized_at_start.connections_per_address;
  timeouts_ = step_timeouts(config_, profile_.connection);
  survey_ = survey_when(config_.survey);
  helo_name_ = config.helo_name.empty() ? local_host_name() : config.helo_name;
}

Prober::SurveyWhen Prober::survey_when(const std::string& setting) {
  return setting == "always" ? SurveyWhen::always : setting == "no" ? SurveyWhen::never : SurveyWhen::on_failure;
}

// Where the classifier reads the survey (classify/classifier.cpp): a failed
// compat handshake (the versions the server accepts, a legacy signature, the
// DH group's size), an anonymous session (the survey's certificate is judged
// instead), and a certificate with a problem (a verify error, a weak key, or
// not naming the MX host): the survey's other-SNI view says whether the
// server has another certificate behind SNI (sni_dependent, which the
// tlspolicy socketmap fixes with servername=hostname). Not surveyed under
// on-failure: a DANE handshake (judged by its TLSA records alone) and a
// certificate that verifies and names the MX host, where sni_dependent would
// be a note that changes no outcome. The name is checked against the MX host
// only: one host probe serves every destination that needs the host.
bool Prober::needs_survey(const MxProbe& mx) const {
  if (survey_ != SurveyWhen::on_failure) return survey_ == SurveyWhen::always;
  const auto& hs = mx.compat;
  if (!hs.ok || hs.anonymous()) return true;
  if (hs.dane.enabled) return false;
  return !hs.verify_issues.empty() || key_is_weak(hs.chain.front()) || !certificate_matches(hs.leaf.get(), mx.host, false);
}

bool Prober::host_matches(const HandshakeResult& compat, const std::string& mx_host, const std::string& nexthop) const {
  for (const auto& m : profile_.match) {
    if ((m == "hostname" && certificate_matches(compat.leaf.get(), mx_host, false)) ||
        (m == "nexthop" && certificate_matches(compat.leaf.get(), nexthop, false)) ||
        (m == "dot-nexthop" && certificate_matches(compat.leaf.get(), nexthop, true)))
      return true;
  }
  return false;
}

asio::awaitable<void> Prober::lookup_addresses(const Host& host, HostAddresses& out) {
  // At most this many addresses of one family are kept per host: more than
  // the MTA tries over all hosts (address_order.h).
  constexpr std::size_t kPerFamily = kMaxAddressesTried;
  boost::system::error_code ec;
  const auto literal = asio::ip::make_address(host.name, ec);
  if (!ec) {
    if (family_allowed(literal)) out.addresses.push_back({host.name, host.preference, host.from_mx, literal});
    else out.detail = host.name + ": an address of a family our MTA does not use (inet_protocols)";
    co_return;
  }
  std::string problems;
  for (const int type : {dns::kTypeA, dns::kTypeAAAA}) {
    if (type == dns::kTypeA ? !profile_.connection.ipv4 : !profile_.connection.ipv6) continue;
    const auto answer = co_await resolver_.query(host.name, type);
    std::size_t kept = 0;
    if (answer.status == dns::Status::ok && answer.security != dns::Security::bogus) {
      for (const auto& rdata : answer.rdata) {
        const auto text = type == dns::kTypeA ? dns::parse_a(rdata) : dns::parse_aaaa(rdata);
        if (!text || kept == kPerFamily) continue;
        const auto address = asio::ip::make_address(*text, ec);
        if (ec) continue;
        out.addresses.push_back({host.name, host.preference, host.from_mx, address, answer.security});
        ++kept;
      }
    }
    if (kept) continue;
    out.bogus = out.bogus || answer.security == dns::Security::bogus;
    problems += std::string(problems.empty() ? "" : ", ") + (type == dns::kTypeA ? "A" : "AAAA") + ": " +
                std::string(dns::status_name(answer.status)) +
                (answer.security == dns::Security::bogus ? " (" + answer.detail + ")" : "");
  }
  if (out.addresses.empty()) out.detail = host.name + " " + problems;
}

std::vector<Prober::Entry> Prober::plan_entries(const std::vector<Host>& hosts, std::vector<HostAddresses>& lookups,
                                                DestinationProbe& out) {
  std::vector<MxAddress> all;
  std::vector<Entry> entries;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    for (auto& a : lookups[i].addresses) all.push_back(std::move(a));
    if (lookups[i].addresses.empty()) {
      Entry e;
      e.target = {hosts[i].name, hosts[i].preference, hosts[i].from_mx, {}};
      e.target.security = lookups[i].bogus ? dns::Security::bogus : dns::Security::insecure;
      e.failure_detail = lookups[i].detail;
      e.bogus = lookups[i].bogus;
      entries.push_back(std::move(e));
    }
  }
  AddressPlan plan = plan_addresses(std::move(all), profile_.connection);
  out.addresses_beyond_limit = plan.beyond_limit;
  for (auto& a : plan.tried) {
    Entry e;
    e.alternate = std::any_of(entries.begin(), entries.end(), [&a](const Entry& x) { return x.has_address && x.target.host == a.host; });
    e.has_address = true;
    e.target = std::move(a);
    entries.push_back(std::move(e));
  }
  // Hosts without an address at their preference (the MTA notes the lookup failure and goes on).
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.target.preference < b.target.preference; });
  return entries;
}

asio::awaitable<void> Prober::resolve_hosts(const Target& target, DestinationProbe& out, std::vector<Host>& hosts) {
  if (target.literal_host) {
    hosts.push_back({target.name, 0});
    co_return;
  }
  const auto answer = co_await resolver_.query(target.name, dns::kTypeMX);
  out.mx_security = answer.security;
  if (answer.security == dns::Security::bogus) {
    out.dns_failure = Reason::dnssec_bogus;
    out.dns_detail = target.name + " MX: " + answer.detail;
    co_return;
  }
  switch (answer.status) {
    case dns::Status::nxdomain:
      out.dns_failure = Reason::nxdomain;
      out.dns_detail = target.name + " MX: NXDOMAIN";
      co_return;
    case dns::Status::servfail:
    case dns::Status::timeout:
      out.dns_failure = Reason::dns_failure;
      out.dns_detail = target.name + " MX: " + answer.detail;
      co_return;
    case dns::Status::nodata: {
      // RFC 5321 5.1: no MX means the domain itself is the implicit MX.
      // Named, not a temporary in the co_await expression: GCC 12 mis-destroys those.
      const Host self{target.name, 0};
      HostAddresses implicit;
      co_await lookup_addresses(self, implicit);
      if (!implicit.addresses.empty()) {
        hosts.push_back({target.name, 0});
      } else {
        out.dns_failure = Reason::no_mx;
        out.dns_detail = target.name + ": no MX and no address records";
      }
      co_return;
    }
    case dns::Status::ok: break;
  }
  std::vector<dns::MxRecord> records;
  for (const auto& rdata : answer.rdata)
    if (auto mx = dns::parse_mx(rdata)) records.push_back(std::move(*mx));
  if (records.size() == 1 && records[0].host.empty()) {
    out.dns_failure = Reason::null_mx;
    out.dns_detail = target.name + " MX: 0 . (RFC 7505 null MX)";
    co_return;
  }
  std::erase_if(records, [](const dns::MxRecord& r) { return r.host.empty(); });
  if (records.empty()) {
    out.dns_failure = Reason::dns_failure;
    out.dns_detail = target.name + " MX: no usable record";
    co_return;
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.preference < b.preference; });
  out.mx_present = true;
  for (const auto& r : records) {
    if (static_cast<int>(hosts.size()) >= config_.max_mx_hosts) break;
    hosts.push_back({r.host, r.preference, true});
  }
}

void Prober::enable_sts(sts::StsResolver& resolver, const ClientProfile& sts_profile) {
  sts_contexts_ = std::make_unique<TlsClientContexts>(sts_profile);
  sts_ = &resolver;
}

asio::awaitable<void> Prober::lookup_sts(const std::string& domain, sts::Lookup& out) {
  out = co_await sts_->lookup(domain);
}

asio::awaitable<DestinationProbe> Prober::probe(const Target& target, std::function<void()> on_waiting) {
  const auto started = Clock::now();
  DestinationProbe out;
  out.domain = target.literal_host ? "[" + target.name + "]" : target.name;
  out.literal_host = target.literal_host;
  std::vector<Host> hosts;
  if (sts_ && !target.literal_host) {
    // The policy lookup (TXT, HTTPS) runs beside the MX lookup.
    WaitGroup lookups(io_.get_executor());
    lookups.spawn(lookup_sts(target.name, out.sts), [&out](const std::string& error) {
      out.sts.checked = true;
      out.sts.problem = Reason::sts_policy_fetch_failed;
      out.sts.problem_detail = "internal error: " + error;
    });
    co_await resolve_hosts(target, out, hosts);
    co_await lookups.wait();
  } else {
    co_await resolve_hosts(target, out, hosts);
  }
  std::vector<HostAddresses> lookups(hosts.size());
  {
    WaitGroup addresses(io_.get_executor());
    for (std::size_t i = 0; i < hosts.size(); ++i) {
      HostAddresses& l = lookups[i];
      addresses.spawn(lookup_addresses(hosts[i], l), [&l](const std::string& error) { l.detail = "internal error: " + error; });
    }
    co_await addresses.wait();
  }
  const std::vector<Entry> entries = plan_entries(hosts, lookups, out);
  out.hosts.resize(entries.size());
  Progress progress{1 + static_cast<int>(entries.size()), false, std::move(on_waiting)};
  const sts::Policy* policy =
      out.sts.policy && out.sts.policy->mode != sts::Mode::none ? &*out.sts.policy : nullptr;
  const Deadline deadline = Clock::now() + config_.destination_timeout.value;
  WaitGroup all(io_.get_executor());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    MxProbe& mx = out.hosts[i];
    all.spawn(probe_host(entries[i], target, out, policy, deadline, mx, progress), [&mx](const std::string& error) {
      mx.failure = Reason::probe_error;
      mx.failure_detail = "internal error: " + error;
    });
  }
  progress.own_done();  // the MX lookup
  co_await all.wait();
  out.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  co_return out;
}

asio::awaitable<void> Prober::probe_host(const Entry& entry, const Target& target, const DestinationProbe& destination,
                                         const sts::Policy* policy, Deadline deadline, MxProbe& mx, Progress& progress) {
  const auto started = Clock::now();
  const MxAddress& host = entry.target;
  mx.host = host.host;
  mx.preference = host.preference;
  mx.port = target.port ? target.port : config_.port;
  mx.alternate = entry.alternate;
  bool joined = false;
  mx.dane.validating = resolver_.validating();
  mx.dane.mx_present = host.from_mx && destination.mx_present;
  mx.dane.mx_security = destination.mx_security;
  mx.dane.address_security = host.security;
  const std::optional<asio::ip::address> address =
      entry.has_address ? std::optional<asio::ip::address>(host.address) : std::nullopt;
  if (!address) {
    mx.failure = entry.bogus ? Reason::dnssec_bogus : Reason::dns_failure;
    mx.failure_detail = entry.failure_detail;
  } else {
    mx.address = address->to_string();
    if (!config_.allow_private_targets && !is_public_address(*address)) {
      mx.failure = Reason::target_forbidden;
      mx.failure_detail = mx.address + " is not a public address";
    } else {
      // Named, not temporaries in the co_await expression: GCC 12 mis-destroys those.
      const bool sts = policy && sts_contexts_;
      const HostProbes::Run run = [this, deadline, sts](MxProbe& m, AsyncSemaphore& address_connections) {
        return run_host(m, address_connections, deadline, sts);
      };
      const std::function<void()> join = [&progress] { progress.join(); };
      // The handshakes also depend on this destination's DNSSEC facts (at
      // dane levels) and on whether it has an MTA-STS policy: only
      // destinations alike share a probe.
      const std::string variant = (level_is_dane(profile_.level) ? dane_inputs_key(mx.dane) : std::string()) +
                                  (sts ? "|sts" : "") + (mx.alternate ? "|alternate" : "");
      joined = co_await hosts_.probe(mx, variant, run, join);
      // The facts may come from another destination's probe of the host:
      // the certificates are matched against this destination's names.
      mx.compat.host_matches = mx.compat.ok && host_matches(mx.compat, host.host, target.name);
      if (sts) mx.sts.host_matches = mx.sts.ok && sts::certificate_matches_policy(mx.sts.leaf.get(), *policy);
    }
  }
  mx.elapsed_s = std::chrono::duration<double>(Clock::now() - started).count();
  if (!joined) progress.own_done();
}

asio::awaitable<void> Prober::run_host(MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline, bool sts) {
  if (dane_wants_tlsa(profile_, mx.dane)) co_await lookup_tlsa(mx);
  // Named, not a temporary in the co_await expression: GCC 12 mis-destroys those.
  const CompatSetup setup = compat_setup(mx);
  co_await run_compat(mx, setup, address_connections, deadline);
  if (mx.failure || mx.starttls_code != 220) co_return;
  WaitGroup more(io_.get_executor());
  if (!mx.compat.timed_out && needs_survey(mx) && !(mx.alternate && mx.compat.ok)) {
    // The survey sends SNI exactly when the compat handshake did not, so
    // the two together show whether the certificate depends on SNI. A
    // server that stalled the compat handshake is not surveyed, nor an
    // alternate address whose compat handshake worked (the host's first
    // address shows the versions; keeps dual-stack hosts cheap).
    const auto survey = [&](asio::ssl::context& context, HandshakeResult& result, bool send_sni) {
      more.spawn(run_survey(mx, context, result, send_sni, address_connections, deadline),
                 [&result](const std::string& error) {
                   result.attempted = true;
                   result.error = "internal error: " + error;
                 });
    };
    for (auto v : kTlsVersions) survey(contexts_.survey(v), mx.survey[static_cast<std::size_t>(v)], !mx.compat.sni_sent);
    if (mx.compat.anonymous()) survey(contexts_.certified(), mx.certified, mx.compat.sni_sent);
  }
  if (sts) {
    more.spawn(run_sts(mx, address_connections, deadline), [&mx](const std::string& error) {
      mx.sts.attempted = true;
      mx.sts.error = "internal error: " + error;
    });
  }
  co_await more.wait();
}

asio::awaitable<void> Prober::lookup_tlsa(MxProbe& mx) {
  auto& f = mx.dane;
  f.tlsa_name = "_" + std::to_string(mx.port) + "._tcp." + mx.host;
  const auto answer = co_await resolver_.query(f.tlsa_name, dns::kTypeTLSA, dns::kMaxTlsaRecords);
  f.tlsa_security = answer.security;
  f.tlsa_detail = answer.detail;
  if (answer.security == dns::Security::bogus) {
    f.tlsa = TlsaLookup::bogus;
  } else if (answer.status == dns::Status::servfail || answer.status == dns::Status::timeout) {
    f.tlsa = TlsaLookup::error;
  } else if (answer.status != dns::Status::ok) {
    f.tlsa = TlsaLookup::not_found;
    f.tlsa_detail = std::string(dns::status_name(answer.status)) + ", " + std::string(dns::security_name(answer.security));
  } else {
    // Postfix reads an RRset that is not DNSSEC-validated as no records.
    f.tlsa = answer.security == dns::Security::secure ? TlsaLookup::found : TlsaLookup::not_found;
    if (f.tlsa == TlsaLookup::not_found) f.tlsa_detail = "the TLSA RRset is insecure (not DNSSEC-signed)";
    f.records_total = answer.total;
    for (const auto& rdata : answer.rdata) {
      if (auto r = dns::parse_tlsa(rdata)) f.records.push_back(std::move(*r));
      else ++f.malformed;
    }
  }
}

Prober::CompatSetup Prober::compat_setup(const MxProbe& mx) {
  CompatSetup s;
  s.sni = profile_.send_sni ? mx.host : std::string();
  s.context = &contexts_.compat();
  if (!level_is_dane(profile_.level)) return s;
  const auto decision = decide_dane(profile_, mx.dane);
  switch (decision.mode) {
    case DaneMode::may: s.context = &contexts_.compat(SecurityLevel::may); break;
    case DaneMode::encrypt:
      s.context = &contexts_.compat(SecurityLevel::encrypt);
      // Records Postfix kept but OpenSSL refused: Postfix set up DANE (SNI =
      // the host) before it found that out and fell back (tls_client_start).
      if (decision.reason == Reason::tlsa_unusable &&
          std::any_of(mx.dane.records.begin(), mx.dane.records.end(), dns::postfix_keeps))
        s.sni = mx.host;
      break;
    case DaneMode::dane:
    case DaneMode::defer:
      // Postfix would not connect for defer; the probe still looks (with
      // the records, if there are any) so the report can show the server.
      if (decision.usable > 0 || decision.mode == DaneMode::dane) {
        s.sni = mx.host;  // RFC 7672 8.1: SNI is the TLSA base domain
        s.dane = dane_setup(mx.host, mx.dane);
      } else {
        s.context = &contexts_.compat(SecurityLevel::encrypt);
      }
      break;
  }
  return s;
}

asio::awaitable<void> Prober::run_compat(MxProbe& mx, const CompatSetup& setup, AsyncSemaphore& address_connections,
                                        Deadline deadline) {
  const tcp::endpoint ep(asio::ip::make_address(mx.address), static_cast<unsigned short>(mx.port));
  SmtpStage stage;
  {
    co_await address_connections.acquire();
    Permit address_permit(address_connections);
    co_await connections_.acquire();
    Permit permit(connections_);
    Connection c(io_, *setup.context, deadline);
    // The MTA may wait minutes for a greeting; the probe waits as long as
    // the destination's deadline allows, less the time the implicit-TLS
    // check below needs, so a silent server is still told apart.
    StepTimeouts steps = timeouts_;
    const auto reserve = std::min(kImplicitTlsCheck, std::chrono::duration_cast<milliseconds>(config_.destination_timeout.value / 3));
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - reserve - Clock::now());
    steps.greeting = std::min(steps.greeting, std::max(left, milliseconds(500)));
    stage = co_await smtp_until_starttls(c, ep, steps, helo_name_);
    mx.greeting_s = stage.greeting_s;
    mx.banner = stage.banner;
    mx.starttls_offered = stage.starttls_offered;
    mx.starttls_code = stage.starttls_code;
    mx.starttls_reply = stage.starttls_reply;
    mx.injected_bytes = stage.injected;
    if (stage.ready_for_tls) {
      const DaneSetup* dane = setup.dane ? &*setup.dane : nullptr;
      mx.compat = co_await run_handshake(c.stream, *c.watchdog, timeouts_.handshake, setup.sni, dane);
      if (mx.compat.ok) co_await quit_over_tls(c);
    }
  }
  if (stage.failure) {
    mx.failure = stage.failure;
    mx.failure_detail = stage.detail;
    // A server silent where a greeting belongs may be speaking implicit TLS
    // (it waits for our ClientHello); one more connection tells.
    if (stage.silent_greeting && co_await speaks_implicit_tls(mx, address_connections, deadline)) {
      mx.failure = Reason::tls_on_plain_port;
      mx.failure_detail = "no SMTP greeting, but a TLS handshake succeeds on port " + std::to_string(mx.port);
    }
  }
}

asio::awaitable<void> Prober::run_survey(const MxProbe& mx, asio::ssl::context& context, HandshakeResult& result, bool send_sni,
                                        AsyncSemaphore& address_connections, Deadline deadline) {
  const tcp::endpoint ep(asio::ip::make_address(mx.address), static_cast<unsigned short>(mx.port));
  co_await address_connections.acquire();
  Permit address_permit(address_connections);
  co_await connections_.acquire();
  Permit permit(connections_);
  Connection c(io_, context, deadline);
  const auto stage = co_await smtp_until_starttls(c, ep, timeouts_, helo_name_);
  if (!stage.ready_for_tls) {
    result.attempted = true;
    result.error = stage.failure ? stage.detail : "STARTTLS not accepted on survey connection";
    co_return;
  }
  const std::string sni = send_sni ? mx.host : std::string();
  result = co_await run_handshake(c.stream, *c.watchdog, timeouts_.handshake, sni);
  if (result.ok) co_await quit_over_tls(c);
}

asio::awaitable<void> Prober::run_sts(MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline) {
  // Postfix under "secure match=<patterns> servername=hostname": a
  // connection of its own, the mandatory settings, SNI; each destination
  // matches the certificate against its policy's patterns afterwards.
  const tcp::endpoint ep(asio::ip::make_address(mx.address), static_cast<unsigned short>(mx.port));
  co_await address_connections.acquire();
  Permit address_permit(address_connections);
  co_await connections_.acquire();
  Permit permit(connections_);
  Connection c(io_, sts_contexts_->compat(), deadline);
  const auto stage = co_await smtp_until_starttls(c, ep, timeouts_, helo_name_);
  if (!stage.ready_for_tls) {
    mx.sts.attempted = true;
    mx.sts.timed_out = stage.failure == Reason::timeout;
    mx.sts.error = stage.failure ? stage.detail : "STARTTLS not accepted on the MTA-STS connection";
    co_return;
  }
  const std::string sni = mx.host;
  mx.sts = co_await run_handshake(c.stream, *c.watchdog, timeouts_.handshake, sni);
  if (mx.sts.ok) co_await quit_over_tls(c);
}

asio::awaitable<bool> Prober::speaks_implicit_tls(const MxProbe& mx, AsyncSemaphore& address_connections, Deadline deadline) {
  const tcp::endpoint ep(asio::ip::make_address(mx.address), static_cast<unsigned short>(mx.port));
  co_await address_connections.acquire();
  Permit address_permit(address_connections);
  co_await connections_.acquire();
  Permit permit(connections_);
  Connection c(io_, contexts_.any_version(), deadline);
  boost::system::error_code ec;
  c.watchdog->arm(timeouts_.connect);
  co_await c.stream.next_layer().async_connect(ep, asio::redirect_error(asio::use_awaitable, ec));
  c.watchdog->disarm();
  if (ec) co_return false;
  const auto result = co_await run_handshake(c.stream, *c.watchdog, timeouts_.handshake, mx.host);
  co_return result.ok;
}

}  // namespace mxtls
