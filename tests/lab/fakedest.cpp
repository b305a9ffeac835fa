// mxtls-fakedest: the lab's fake destination MX hosts. One process serves
// every failure case, chosen by the address a connection arrives on, as
// described in a config file (one case per line, "key=value" words):
//
//   case=tls10 listen=127.0.0.14:25 min=TLSv1 max=TLSv1 cert=a.pem key=a.key
//
// It speaks enough SMTP to take a message (EHLO, STARTTLS, MAIL, RCPT, DATA,
// QUIT) and records each delivery, with the TLS version used, in
// SPOOL/<case>.log (and the message itself in SPOOL/<case>.msgs) so tests
// can prove what the real Postfix did. Hostile servers: greeting= replaces
// the greeting line (percent-encoded, so it may hold spaces and quotes),
// greeting_bytes= pads it to one line of that many bytes, ehlo_lines= adds
// that many lines to the EHLO reply; log_connections=yes records each
// connection in SPOOL/<case>.connections as "connection ADDRESS:PORT" (the
// address it came to).
// Handshake details: dh=FILE (finite-field DH parameters for DHE, served
// even below OpenSSL's 1024-bit floor) or dh=auto, groups= (key-exchange
// groups, e.g. ffdhe2048), server_ciphers=yes (the server's cipher order
// wins: aNULL first makes an anonymous server), client_cert=require (a
// client certificate is demanded; without one the handshake fails) or
// client_cert=request (asked for, not needed).
// address it came to). Slow servers: greeting_delay=S greets after S
// seconds; greeting_pause=S sends "220-" at once and the final "220" line
// S seconds later, and drops a client that talks before it (as postscreen
// does). listen= takes IPv6 addresses too: [fd00::10]:25.
// A lab tool: blocking sockets, one thread per connection at a time (taken
// from a pool of idle ones: creating a thread per connection cost the
// benches' 2 cores more than the TLS handshakes); never a product.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Case {
  std::map<std::string, std::string> opt;
  SSL_CTX* ctx = nullptr;
  SSL_CTX* sni_ctx = nullptr;  // served when the client's SNI equals opt["sni_name"]
  std::string get(const std::string& k, const std::string& dflt = "") const {
    auto it = opt.find(k);
    return it == opt.end() ? dflt : it->second;
  }
};

std::string g_spool;
std::mutex g_spool_mutex;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "mxtls-fakedest: %s\n", msg.c_str());
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

int version_of(const std::string& name) {
  if (name == "TLSv1") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  die("unknown version " + name);
}

// OpenSSL refuses DH groups under 1024 bits even at security level 0; a
// lab server must be able to offer them.
int allow_everything(const SSL*, const SSL_CTX*, int, int, int, void*, void*) { return 1; }

// Accepts any client certificate: the lab only asks whether one was sent.
int accept_any_client(int, X509_STORE_CTX*) { return 1; }

void set_handshake_details(const Case& c, SSL_CTX* ctx) {
  const std::string dh = c.get("dh");
  if (dh == "auto") {
    SSL_CTX_set_dh_auto(ctx, 1);
  } else if (!dh.empty()) {
    SSL_CTX_set_security_callback(ctx, allow_everything);
    BIO* in = BIO_new_file(dh.c_str(), "r");
    EVP_PKEY* params = in ? PEM_read_bio_Parameters(in, nullptr) : nullptr;
    BIO_free(in);
    if (!params || SSL_CTX_set0_tmp_dh_pkey(ctx, params) != 1) die("cannot use DH parameters " + dh);
  }
  if (c.opt.count("groups") && SSL_CTX_set1_groups_list(ctx, c.get("groups").c_str()) != 1) die("bad groups");
  if (c.get("server_ciphers") == "yes") SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (c.get("client_cert") == "require")
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_client);
  else if (c.get("client_cert") == "request")
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_client);
}

SSL_CTX* make_ctx(const Case& c, const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_security_level(ctx, 0);  // the lab must be able to serve TLSv1 and 1024-bit keys
  if (SSL_CTX_set_cipher_list(ctx, c.get("ciphers", "DEFAULT:@SECLEVEL=0").c_str()) != 1) die("bad ciphers");
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_min_proto_version(ctx, version_of(c.get("min", "TLSv1")));
  SSL_CTX_set_max_proto_version(ctx, version_of(c.get("max", "TLSv1.3")));
  if (c.opt.count("sigalgs") && SSL_CTX_set1_sigalgs_list(ctx, c.get("sigalgs").c_str()) != 1) die("bad sigalgs");
  if (SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM) != 1) die("cannot load " + cert);
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) die("cannot load " + key);
  set_handshake_details(c, ctx);
  if (c.opt.count("chain")) {
    // Extra certificates sent after the leaf (the intermediate).
    FILE* f = std::fopen(c.get("chain").c_str(), "r");
    if (!f) die("cannot open " + c.get("chain"));
    while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) SSL_CTX_add_extra_chain_cert(ctx, x);
    ERR_clear_error();
    std::fclose(f);
  }
  return ctx;
}

int sni_callback(SSL* ssl, int*, void* arg) {
  auto* c = static_cast<Case*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name && c->sni_ctx && c->get("sni_name") == name) SSL_set_SSL_CTX(ssl, c->sni_ctx);
  return SSL_TLSEXT_ERR_OK;
}

// A line-oriented channel over a socket or a TLS session.
struct Channel {
  int fd;
  SSL* ssl = nullptr;
  std::string buf;
  bool send(const std::string& s) {
    return ssl ? SSL_write(ssl, s.data(), static_cast<int>(s.size())) > 0
               : ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  bool line(std::string& out) {
    while (true) {
      auto nl = buf.find('\n');
      if (nl != std::string::npos) {
        out = buf.substr(0, nl);
        if (!out.empty() && out.back() == '\r') out.pop_back();
        buf.erase(0, nl + 1);
        return true;
      }
      if (buf.size() > 100000) return false;
      char tmp[4096];
      const int n = ssl ? SSL_read(ssl, tmp, sizeof tmp) : static_cast<int>(recv(fd, tmp, sizeof tmp, 0));
      if (n <= 0) return false;
      buf.append(tmp, static_cast<std::size_t>(n));
    }
  }
};

void record(const Case& c, const std::string& what, const char* file = ".log") {
  std::lock_guard lock(g_spool_mutex);
  std::ofstream(g_spool + "/" + c.get("case") + file, std::ios::app) << what << "\n";
}

// The whole message, for tests that look at headers: SPOOL/<case>.msgs.
void keep_message(const Case& c, const std::string& message) {
  std::lock_guard lock(g_spool_mutex);
  std::ofstream(g_spool + "/" + c.get("case") + ".msgs", std::ios::app) << message << "--- end of message ---\n";
}

// "%22" -> '"': config values are whitespace-free words.
std::string percent_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string greeting_line(const Case& c, const std::string& host) {
  std::string line = c.opt.count("greeting") ? percent_decode(c.get("greeting"))
                                             : "220 " + host + " ESMTP mxtls lab (" + c.get("case") + ")";
  if (c.opt.count("greeting_bytes")) line.resize(std::stoul(c.get("greeting_bytes")), 'x');
  return line + "\r\n";
}

void wait_for_close(int fd) {
  char tmp[4096];
  while (recv(fd, tmp, sizeof tmp, 0) > 0) {}
}

bool tls_accept(Case& c, Channel& ch) {
  ch.ssl = SSL_new(c.ctx);
  SSL_set_fd(ch.ssl, ch.fd);
  if (SSL_accept(ch.ssl) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

// greeting_pause: the first greeting line now, the last one after a pause
// that the client must wait out in silence. False: the client talked.
bool paused_greeting(Channel& ch, const std::string& host, int seconds) {
  ch.send("220-" + host + " ESMTP mxtls lab: wait for it\r\n");
  pollfd p{ch.fd, POLLIN, 0};
  if (poll(&p, 1, seconds * 1000) != 0) {
    ch.send("554 5.5.1 Protocol error: talked before the greeting\r\n");
    return false;
  }
  return true;
}

void smtp_session(Case& c, int fd) {
  Channel ch{fd, nullptr, {}};
  const std::string host = c.get("hostname", "mx." + c.get("case") + ".test");
  const std::string mode = c.get("mode", "smtp");
  if (mode == "tarpit") return wait_for_close(fd);
  if (mode == "implicit_tls" && !tls_accept(c, ch)) return;
  if (c.opt.count("greeting_delay")) std::this_thread::sleep_for(std::chrono::seconds(std::stoi(c.get("greeting_delay"))));
  if (c.opt.count("greeting_pause") && !paused_greeting(ch, host, std::stoi(c.get("greeting_pause")))) return;
  ch.send(greeting_line(c, host));
  std::string line, rcpts;
  while (ch.line(line)) {
    std::string verb = line.substr(0, line.find(' '));
    for (auto& ch_ : verb) ch_ = static_cast<char>(std::toupper(static_cast<unsigned char>(ch_)));
    if (verb == "EHLO") {
      std::string reply = "250-" + host + "\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n";
      for (int i = 0; i < std::stoi(c.get("ehlo_lines", "0")); ++i) reply += "250-X-LAB-PADDING " + std::to_string(i) + "\r\n";
      if (!ch.ssl && c.get("starttls", "yes") == "yes") reply += "250-STARTTLS\r\n";
      ch.send(reply + "250 8BITMIME\r\n");
    } else if (verb == "HELO") {
      ch.send("250 " + host + "\r\n");
    } else if (verb == "STARTTLS" && !ch.ssl) {
      const std::string answer = c.get("starttls_reply", "220");
      if (answer != "220") {
        ch.send(answer + " 4.7.0 TLS not available due to local problem\r\n");
        continue;
      }
      ch.send("220 2.0.0 Ready to start TLS\r\n");
      if (mode == "stall") return wait_for_close(fd);
      if (!tls_accept(c, ch)) return;
      ch.buf.clear();
    } else if (verb == "MAIL") {
      rcpts.clear();
      ch.send("250 2.1.0 Ok\r\n");
    } else if (verb == "RCPT") {
      rcpts += line.substr(line.find(':') + 1) + " ";
      ch.send("250 2.1.5 Ok\r\n");
    } else if (verb == "DATA") {
      ch.send("354 End data with <CR><LF>.<CR><LF>\r\n");
      std::string message;
      while (ch.line(line) && line != ".") message += line + "\n";
      record(c, "delivered tls=" + std::string(ch.ssl ? SSL_get_version(ch.ssl) : "none") + " bytes=" +
                    std::to_string(message.size()) + " rcpt=" + rcpts);
      keep_message(c, message);
      ch.send("250 2.0.0 Ok: queued\r\n");
    } else if (verb == "RSET" || verb == "NOOP") {
      ch.send("250 2.0.0 Ok\r\n");
    } else if (verb == "QUIT") {
      ch.send("221 2.0.0 Bye\r\n");
      break;
    } else {
      ch.send("502 5.5.2 Error: command not recognized\r\n");
    }
  }
  if (ch.ssl) {
    SSL_shutdown(ch.ssl);
    SSL_free(ch.ssl);
  }
}

// Connections waiting for a thread, and the threads waiting for one: a
// connection goes to an idle thread, or to a new one when none is idle.
class SessionPool {
 public:
  void start(Case* c, int fd) {
    std::lock_guard lock(mutex_);
    waiting_.push_back({c, fd});
    if (idle_ > 0) {
      --idle_;
      ready_.notify_one();
    } else {
      std::thread([this] { work(); }).detach();
    }
  }

 private:
  void work() {
    while (true) {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return !waiting_.empty(); });
      const auto [c, fd] = waiting_.front();
      waiting_.pop_front();
      lock.unlock();
      session(*c, fd);
      lock.lock();
      ++idle_;
    }
  }

  static void session(Case& c, int fd) {
    if (c.get("log_connections") == "yes") {
      sockaddr_in local{};
      socklen_t len = sizeof local;
      char text[INET_ADDRSTRLEN] = "?";
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0)
        inet_ntop(AF_INET, &local.sin_addr, text, sizeof text);
      record(c, "connection " + std::string(text) + ":" + std::to_string(ntohs(local.sin_port)), ".connections");
    }
    smtp_session(c, fd);
    close(fd);
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<Case*, int>> waiting_;
  int idle_ = 0;  // threads waiting (or woken for a connection not yet taken)
};
SessionPool g_sessions;

void serve(Case* c, const std::string& where) {
  const auto colon = where.rfind(':');
  const auto port = htons(static_cast<uint16_t>(std::stoi(where.substr(colon + 1))));
  sockaddr_storage ss{};
  socklen_t ss_len;
  if (where.front() == '[') {  // [IPv6]:port
    auto& sa6 = reinterpret_cast<sockaddr_in6&>(ss);
    sa6.sin6_family = AF_INET6;
    sa6.sin6_port = port;
    if (inet_pton(AF_INET6, where.substr(1, colon - 2).c_str(), &sa6.sin6_addr) != 1) die("bad listen address " + where);
    ss_len = sizeof sa6;
  } else {
    auto& sa = reinterpret_cast<sockaddr_in&>(ss);
    sa.sin_family = AF_INET;
    sa.sin_port = port;
    if (inet_pton(AF_INET, where.substr(0, colon).c_str(), &sa.sin_addr) != 1) die("bad listen address " + where);
    ss_len = sizeof sa;
  }
  const int s = socket(ss.ss_family, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(s, reinterpret_cast<sockaddr*>(&ss), ss_len) != 0 || listen(s, 512) != 0)
    die("cannot listen on " + where + ": " + std::strerror(errno));
  while (true) {
    const int fd = accept(s, nullptr, nullptr);
    if (fd < 0) continue;
    timeval tv{120, 0};  // nothing in the lab talks for longer
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    g_sessions.start(c, fd);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: mxtls-fakedest CONFIG SPOOL_DIR\n");
    return 64;
  }
  signal(SIGPIPE, SIG_IGN);
  g_spool = argv[2];
  std::ifstream in(argv[1]);
  if (!in) die(std::string("cannot read ") + argv[1]);
  std::vector<Case*> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto* c = new Case;  // lives for the process
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      const auto eq = w.find('=');
      if (eq == std::string::npos) die("bad word '" + w + "' in: " + line);
      c->opt[w.substr(0, eq)] = w.substr(eq + 1);
    }
    if (c->opt.count("cert")) c->ctx = make_ctx(*c, c->get("cert"), c->get("key"));
    if (c->opt.count("sni_cert")) {
      c->sni_ctx = make_ctx(*c, c->get("sni_cert"), c->get("sni_key"));
      SSL_CTX_set_tlsext_servername_callback(c->ctx, sni_callback);
      SSL_CTX_set_tlsext_servername_arg(c->ctx, c);
    }
    cases.push_back(c);
  }
  std::vector<std::thread> listeners;
  for (auto* c : cases) {
    std::istringstream addrs(c->get("listen"));
    std::string a;
    while (std::getline(addrs, a, ',')) listeners.emplace_back(serve, c, a);
  }
  std::fprintf(stderr, "mxtls-fakedest: serving %zu cases\n", cases.size());
  for (auto& t : listeners) t.join();
}
