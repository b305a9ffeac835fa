// `mxtls cache list|show|forget|flush`: inspect and edit the verdict store.
// A running mxtls-policyd sees forget/flush after `systemctl reload` (SIGHUP).
#include <ctime>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "config/config.h"
#include "log/sanitize.h"
#include "store/open_store.h"
#include "tls/certificate.h"

namespace mxtls::cli {
namespace {

std::string when(int64_t t) { return t ? format_date(static_cast<std::time_t>(t)) : "-"; }

void print_row(const StoredVerdict& v) {
  std::cout << sanitize(v.domain) << "\t" << severity_name(v.severity) << "\t" << reason_code(v.reason) << "\t"
            << outcome_name(v.outcome) << "\t" << (v.mx.empty() ? "-" : v.mx) << "\t" << (v.tls.empty() ? "-" : v.tls)
            << "\tprobed " << when(v.probed_at) << "\texpires " << when(v.expires_at) << "\n";
}

}  // namespace

int cache_command(const std::vector<std::string>& args) {
  std::string config_path = kDefaultConfigPath;
  std::vector<std::string> words;
  CommandLine line{"mxtls cache", po::options_description("mxtls cache [OPTIONS] list | show DOMAIN | forget DOMAIN | flush\n\nOptions"),
                   "words", &words};
  line.visible.add_options()("help,h", "show this help")("config,c", po::value(&config_path), "configuration file");
  po::variables_map vm;
  if (const auto stop = parse_command_line(line, args, vm)) return *stop;
  const std::string verb = words.empty() ? "" : words[0];
  const bool needs_domain = verb == "show" || verb == "forget";
  if (!(verb == "list" || verb == "flush" || needs_domain) || words.size() != (needs_domain ? 2u : 1u))
    return usage_error(line, "expected list, show DOMAIN, forget DOMAIN or flush");
  try {
    const Config config = load_config(config_path, !vm.count("config"));
    // Never create the store here: a file made by root would lock the
    // daemon's user out of it.
    const auto store = open_store(config.store, StoreAccess::existing);
    if (!store) {
      std::cerr << "mxtls cache: no store at " << describe_store(config.store) << " yet (mxtls-policyd creates it)\n";
      return verb == "list" || verb == "flush" ? kExitOk : kExitUnreachable;
    }
    if (verb == "list") {
      std::size_t n = 0;
      store->for_each([&](const StoredVerdict& v) {
        print_row(v);
        ++n;
      });
      std::cerr << n << " verdict(s) in " << describe_store(config.store) << "\n";
    } else if (verb == "show") {
      const auto v = store->get(words[1]);
      if (!v) {
        std::cerr << "mxtls cache: no verdict for " << sanitize(words[1]) << "\n";
        return kExitUnreachable;
      }
      print_row(*v);
      std::cout << "  level " << v->level << "\n  detail " << sanitize(v->detail, 400) << "\n  fix "
                << reason_info(v->reason).remediation << "\n";
    } else if (verb == "forget") {
      if (!store->forget(words[1])) {
        std::cerr << "mxtls cache: no verdict for " << sanitize(words[1]) << "\n";
        return kExitUnreachable;
      }
      std::cout << "forgot " << sanitize(words[1]) << " (reload mxtls-policyd to apply)\n";
    } else {
      std::cout << "flushed " << store->flush() << " verdict(s) (reload mxtls-policyd to apply)\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "mxtls cache: " << e.what() << "\n";
    return kExitConfig;
  }
  return kExitOk;
}

}  // namespace mxtls::cli
