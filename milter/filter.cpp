#include "filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <vector>

#include "log/logger.h"
#include "log/sanitize.h"
#include "address/domain.h"
#include "codec/engine_verdict.h"
#include "util/split.h"
#include "milter_metrics.h"
#include "negotiation.h"
#include "verdict_header.h"
#include "verdict_memo.h"

namespace mxtls {
namespace {

// Replaced whole by install_filter (at start and on a reload); a connection
// keeps the one it started with.
struct FilterState {
  FilterState(MilterSettings s, std::unique_ptr<PolicyClient> e)
      : settings(std::move(s)), engine(std::move(e)), memo(settings.verdict_cache, kVerdictMemoDomains) {}
  MilterSettings settings;
  std::unique_ptr<PolicyClient> engine;
  VerdictMemo memo;  // starts empty on a reload: answers under the old settings go
};
std::atomic<std::shared_ptr<FilterState>> g_state;
std::atomic<int64_t> g_last_engine_warning{0};
std::atomic<MilterMetrics*> g_metrics{nullptr};

struct MessageContext {
  std::string sender;
  std::string queue_id;
  std::vector<DomainVerdict> verdicts;
  std::string hold_reason;
  // Per-recipient log lines of accepted recipients, written at end of
  // message: Postfix assigns the queue id ({i}) only after the first
  // recipient is accepted.
  std::vector<std::string> pending_lines;
  // Engine answers by recipient domain: recipients in one domain share one
  // question per message.
  std::map<std::string, codec::EngineVerdict> answers;
};

struct ConnectionContext {
  std::shared_ptr<FilterState> state;
  std::string client_address;
  std::string client_name;
  bool networks_match = false;
  // Steps the MTA agreed not to wait for our reply to (negotiated per
  // connection): each one spares a round trip per message.
  bool no_reply_connect = false;
  bool no_reply_mail = false;
  bool no_reply_rcpt = false;
  std::unique_ptr<MessageContext> message;
};

ConnectionContext* connection(SMFICTX* ctx) { return static_cast<ConnectionContext*>(smfi_getpriv(ctx)); }

std::string macro(SMFICTX* ctx, const char* name) {
  const char* v = smfi_getsymval(ctx, const_cast<char*>(name));
  return v ? v : "";
}

std::string address_text(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (!sa) return "";
  if (sa->sa_family == AF_INET) inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
  else if (sa->sa_family == AF_INET6) inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return buf;
}

std::string strip_brackets(std::string a) {
  if (a.size() >= 2 && a.front() == '<' && a.back() == '>') a = a.substr(1, a.size() - 2);
  return a;
}

std::string queue_id(SMFICTX* ctx, const MessageContext& m) {
  if (!m.queue_id.empty()) return m.queue_id;
  const std::string i = macro(ctx, "i");
  return i.empty() ? "NOQUEUE" : sanitize(i, 20);
}

// Logs at most one warning a minute when the engine cannot answer.
void warn_engine_unavailable(const std::string& error, const MilterSettings& settings) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  int64_t last = g_last_engine_warning.load();
  if (now - last >= 60 && g_last_engine_warning.compare_exchange_strong(last, now))
    log::warning("engine unavailable (" + sanitize(error) + "): " +
                 (settings.tempfail_on_engine_failure ? "tempfailing recipients" : "accepting mail unchecked (fail open)"));
}

bool inspected(SMFICTX* ctx, const ConnectionContext& c) {
  const auto& settings = c.state->settings;
  if (settings.inspect_all) return true;
  if (settings.inspect_authenticated && !macro(ctx, "{auth_authen}").empty()) return true;
  return settings.inspect_networks && c.networks_match;
}

// The connection's context, made at negotiation (or at connect, for an MTA
// that does not negotiate): the settings it starts with stay its own.
ConnectionContext& new_connection(SMFICTX* ctx) {
  if (auto* c = connection(ctx)) return *c;
  auto* c = new ConnectionContext;
  c->state = g_state.load();
  smfi_setpriv(ctx, c);
  return *c;
}

sfsistat on_connect(SMFICTX* ctx, char* hostname, _SOCK_ADDR* hostaddr) {
  auto& c = new_connection(ctx);
  c.client_address = address_text(hostaddr);
  c.client_name = hostname ? hostname : "";
  // Postfix's non_smtpd_milters (sendmail command) and Sendmail's local
  // submissions come without an address: they are local, i.e. ours.
  c.networks_match = c.client_address.empty() || c.state->settings.networks.contains(c.client_address);
  return c.no_reply_connect ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat on_envfrom(SMFICTX* ctx, char** argv) {
  auto* c = connection(ctx);
  if (!c) return SMFIS_ACCEPT;
  c->message.reset();
  if (!inspected(ctx, *c)) return SMFIS_ACCEPT;  // not outbound mail we look at: accept this message
  c->message = std::make_unique<MessageContext>();
  c->message->sender = argv && argv[0] ? strip_brackets(argv[0]) : "";
  return c->no_reply_mail ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

// The engine's answer for the recipient's domain: asked once per domain
// and message, and not again while the memo remembers it. nullopt when the
// engine could not answer (logged).
std::optional<codec::EngineVerdict> ask_engine(SMFICTX* ctx, const ConnectionContext& c, MessageContext& m,
                                               const std::string& rcpt, const std::string& rcpt_domain) {
  if (const auto known = m.answers.find(rcpt_domain); known != m.answers.end()) return known->second;
  if (auto remembered = c.state->memo.find(rcpt_domain)) {
    m.answers.emplace(rcpt_domain, *remembered);
    return remembered;
  }
  std::string error;
  const auto reply = c.state->engine->ask(
      codec::encode_verdict_question({.recipient = rcpt, .sender = m.sender, .queue_id = macro(ctx, "i"),
                                      .client_address = c.client_address}),
      error);
  auto answer = reply ? codec::decode_engine_verdict(*reply, error) : std::nullopt;
  if (!answer) {
    warn_engine_unavailable(error, c.state->settings);
    return std::nullopt;
  }
  m.answers.emplace(rcpt_domain, *answer);
  c.state->memo.remember(rcpt_domain, *answer);
  return answer;
}

// The action logged with its suffix (verdict/action.h): "defer(monitor)",
// or "defer(not applied)" with a note where defer_recipients = no.
std::string decision_line(const std::string& rcpt, const codec::EngineVerdict& v, Applied applied) {
  return "to=<" + sanitize_address(rcpt) + ">, domain=" + v.domain +
         ", verdict=" + std::string(v.severity ? severity_name(*v.severity) : "unknown") +
         ", reason=" + std::string(v.reason ? reason_code(*v.reason) : "none") + ", action=" +
         std::string(action_name(v.action)) + std::string(applied_suffix(applied)) +
         (v.action == Action::reroute ? ", note=accepted (a milter cannot reroute; the transport socketmap does)" : "") +
         (applied == Applied::not_applied ? ", note=accepted (milter defer_recipients = no)" : "");
}

// "Go on" to a recipient: no reply at all where the MTA agreed not to wait.
sfsistat rcpt_continue(const ConnectionContext* c) {
  return c && c->no_reply_rcpt ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

sfsistat on_envrcpt(SMFICTX* ctx, char** argv) {
  auto* c = connection(ctx);
  if (!c || !c->message) return rcpt_continue(c);
  auto& m = *c->message;
  std::string rcpt = macro(ctx, "{rcpt_addr}");
  if (rcpt.empty() && argv && argv[0]) rcpt = strip_brackets(argv[0]);
  // Only the domain is judged. None that is valid (a local part only, an
  // address literal, a name too long or malformed): nothing to ask.
  const std::string rcpt_domain = recipient_domain(rcpt);
  if (rcpt_domain.empty()) {
    m.pending_lines.push_back("to=<" + sanitize_address(rcpt) + ">, action=dunno, note=no valid recipient domain: nothing to check");
    return rcpt_continue(c);
  }

  const auto answer = ask_engine(ctx, *c, m, rcpt, rcpt_domain);
  MilterMetrics* metrics = g_metrics;
  if (!answer) {
    if (metrics) metrics->engine_failure();
    if (!c->state->settings.tempfail_on_engine_failure) return rcpt_continue(c);
    smfi_setreply(ctx, const_cast<char*>("451"), const_cast<char*>("4.3.0"),
                  const_cast<char*>("TLS policy engine unavailable, try again later"));
    return SMFIS_TEMPFAIL;
  }
  if (answer->domain.empty()) return rcpt_continue(c);
  // Monitor mode only logs; with defer_recipients = no a defer is accepted.
  const Applied applied = answer->monitor ? Applied::monitor
                          : answer->action == Action::defer && !c->state->settings.defer_recipients ? Applied::not_applied
                                                                                                     : Applied::yes;
  const std::string line = decision_line(rcpt, *answer, applied);
  const Action action = applied == Applied::yes ? answer->action : Action::dunno;
  if (metrics) metrics->recipient(action);
  if (action == Action::defer) {
    // Logged now, like Postfix's own NOQUEUE reject lines: the recipient never joins the message.
    log::info(queue_id(ctx, m) + ": " + line);
    std::string status = answer->defer_status, text = answer->defer_text;
    for (auto& ch : text)
      if (ch == '%') ch = ' ';  // smfi_setreply treats % specially
    smfi_setreply(ctx, const_cast<char*>("450"), status.data(), text.data());
    return SMFIS_TEMPFAIL;
  }
  const std::string reason(answer->reason ? reason_code(*answer->reason) : "");
  if (action == Action::hold && m.hold_reason.empty()) m.hold_reason = "mxtls: TLS to " + answer->domain + " " + reason;
  add_domain_verdict(m.verdicts,
                     {answer->domain, std::string(answer->severity ? severity_name(*answer->severity) : "unknown"), reason});
  m.pending_lines.push_back(line);
  return rcpt_continue(c);
}

sfsistat on_eom(SMFICTX* ctx) {
  auto* c = connection(ctx);
  if (!c || !c->message) return SMFIS_CONTINUE;
  auto message = std::move(c->message);
  message->queue_id = sanitize(macro(ctx, "i"), 20);
  const std::string qid = queue_id(ctx, *message);
  for (const auto& line : message->pending_lines) log::info(qid + ": " + line);
  if (c->state->settings.add_header && !message->verdicts.empty()) {
    const std::string value = format_verdict_header(message->verdicts, c->state->settings.header_name.size());
    smfi_addheader(ctx, c->state->settings.header_name.data(), const_cast<char*>(value.c_str()));
  }
  if (!message->hold_reason.empty()) {
    smfi_quarantine(ctx, message->hold_reason.data());
    log::info(qid + ": hold: " + message->hold_reason);
  }
  return SMFIS_CONTINUE;
}

sfsistat on_abort(SMFICTX* ctx) {
  if (auto* c = connection(ctx)) c->message.reset();
  return SMFIS_CONTINUE;
}

sfsistat on_close(SMFICTX* ctx) {
  delete connection(ctx);
  smfi_setpriv(ctx, nullptr);
  return SMFIS_CONTINUE;
}

// Only envelope steps matter: skip headers and body (and say so, so the MTA
// does not send them); no reply to connect (always "continue"), nor to MAIL
// when every message is inspected (it cannot end in "accept" then), nor to
// RCPT when recipients are never deferred (the answer is "continue"); and
// only the macros the callbacks read.
sfsistat on_negotiate(SMFICTX* ctx, unsigned long f0, unsigned long f1, unsigned long, unsigned long, unsigned long* pf0,
                      unsigned long* pf1, unsigned long* pf2, unsigned long* pf3) {
  auto& c = new_connection(ctx);
  *pf0 = f0 & (SMFIF_ADDHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST);
  *pf1 = f1 & kSkippedSteps;
  c.no_reply_connect = f1 & SMFIP_NR_CONN;
  c.no_reply_mail = c.state->settings.inspect_all && (f1 & SMFIP_NR_MAIL);
  c.no_reply_rcpt = !c.state->settings.defer_recipients && (f1 & SMFIP_NR_RCPT);
  if (c.no_reply_connect) *pf1 |= SMFIP_NR_CONN;
  if (c.no_reply_mail) *pf1 |= SMFIP_NR_MAIL;
  if (c.no_reply_rcpt) *pf1 |= SMFIP_NR_RCPT;
  if (*pf0 & SMFIF_SETSYMLIST) request_macros(ctx);
  *pf2 = *pf3 = 0;
  return SMFIS_CONTINUE;
}

}  // namespace

MilterSettings build_milter_settings(const MilterConfig& milter, const PolicyConfig& policy) {
  MilterSettings s;
  for (const auto& item : split_list(milter.inspect)) {
    if (item == "all") s.inspect_all = true;
    else if (item == "authenticated") s.inspect_authenticated = true;
    else if (item == "networks") s.inspect_networks = true;
    else throw ConfigError("milter.inspect: unknown item '" + item + "' (expected all, authenticated, networks)");
  }
  if (!s.inspect_all && !s.inspect_authenticated && !s.inspect_networks)
    throw ConfigError("milter.inspect: empty: nothing would be inspected");
  s.networks = ClientNetworks(milter.networks);
  s.tempfail_on_engine_failure = milter.on_engine_failure == "tempfail";
  s.defer_recipients = milter.defer_recipients;
  if (s.tempfail_on_engine_failure && !s.defer_recipients)
    throw ConfigError("milter.on_engine_failure: tempfail needs milter.defer_recipients = yes "
                      "(with no, the milter answers no recipient and cannot tempfail one)");
  s.add_header = milter.header;
  s.header_name = policy.header;
  if (milter.verdict_cache.value > std::chrono::hours(1))
    throw ConfigError("milter.verdict_cache: " + format_duration(milter.verdict_cache) +
                      " is too long (at most 1h: the engine's verdicts change when destinations are probed again)");
  s.verdict_cache = milter.verdict_cache.value;
  return s;
}

void install_filter(MilterSettings settings, std::unique_ptr<PolicyClient> engine) {
  g_state.store(std::make_shared<FilterState>(std::move(settings), std::move(engine)));
}

smfiDesc filter_description() {
  smfiDesc d{};
  d.xxfi_name = const_cast<char*>("mxtls-milter");
  d.xxfi_version = SMFI_VERSION;
  d.xxfi_flags = SMFIF_ADDHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST;
  d.xxfi_connect = on_connect;
  d.xxfi_envfrom = on_envfrom;
  d.xxfi_envrcpt = on_envrcpt;
  d.xxfi_eom = on_eom;
  d.xxfi_abort = on_abort;
  d.xxfi_close = on_close;
  d.xxfi_negotiate = on_negotiate;
  return d;
}

void install_milter_metrics(MilterMetrics* metrics) { g_metrics = metrics; }

}  // namespace mxtls
