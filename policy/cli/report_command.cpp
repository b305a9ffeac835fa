// `mxtls report`: the stored verdicts, the probe history of a recent
// window and, if given, mxtls-policyd/mxtls-milter log files, summarised
// (policy/report/summary.h does the work).
#include <ctime>
#include <fstream>
#include <iostream>
#include <unordered_map>
#include <utility>
#include <limits>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "config/config.h"
#include "config/duration.h"
#include "report/summary.h"
#include "report/what_if.h"
#include "store/open_store.h"
#include "tls/client_profile.h"

namespace mxtls::cli {

namespace {

// Reads our decision lines and the MTA's delivery lines from one log file
// ("-": standard input). Lines past kMaxDecisionLine are skipped whole,
// never buffered whole.
bool read_log(const std::string& path, SummaryInput& in, MtaLogReader& mta, OutcomeTally& tally) {
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) return false;
  }
  std::istream& stream = path == "-" ? std::cin : file;
  char line[kMaxDecisionLine + 2];
  while (true) {
    stream.getline(line, sizeof line);
    if (stream.bad() || (stream.gcount() == 0 && stream.eof())) break;
    ++in.log_lines;
    if (stream.fail() && !stream.eof()) {  // longer than any decision line: skip its rest
      stream.clear();
      stream.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
      continue;
    }
    if (auto d = parse_decision_line(line)) in.decisions.push_back(std::move(*d));
    else if (auto delivery = mta.read(line)) tally.add(*delivery);
    if (stream.eof()) break;
  }
  return true;
}

}  // namespace

int report_command(const std::vector<std::string>& args) {
  std::string config_path = kDefaultConfigPath;
  std::string since_text = "7d";
  std::vector<std::string> logs;
  std::size_t top = 10;
  std::vector<std::string> what_if;
  std::string what_if_ca;
  CommandLine line{"mxtls report", po::options_description("mxtls report [OPTIONS]\n\nOptions"), "", nullptr};
  line.visible.add_options()("help,h", "show this help")("config,c", po::value(&config_path), "configuration file")(
      "since", po::value(&since_text), "window of probe history to read (default 7d)")(
      "log", po::value(&logs), "a log file with mxtls-policyd/mxtls-milter lines (repeatable; - for stdin)")(
      "top", po::value(&top), "destinations listed per group (default 10)")("json", "one JSON document")(
      "what-if", po::value(&what_if),
      "'KEY=VALUE ...': judge every stored probe again under these Postfix settings (smtp_tls_security_level, "
      "smtp_tls_protocols, smtp_tls_mandatory_protocols, smtp_tls_ciphers, smtp_tls_mandatory_ciphers, "
      "smtp_tls_[mandatory_]exclude_ciphers, smtp_tls_CAfile, smtp_tls_CApath, smtp_tls_{secure,verify}_cert_match; "
      "no spaces in a value) without probing, and list the destinations whose mail would stop flowing, go out in "
      "plaintext or flow again")("what-if-ca", po::value(&what_if_ca),
                                  "with or without --what-if: judge the stored chains against this CA file (PEM)");
  po::variables_map vm;
  if (const auto stop = parse_command_line(line, args, vm)) return *stop;
  const auto since = parse_duration(since_text);
  if (!since || since->value.count() <= 0)
    return usage_error(line, "--since: '" + since_text + "' is not a duration (e.g. 24h, 7d)");

  std::optional<WhatIfSettings> proposal;
  if (!what_if.empty() || !what_if_ca.empty()) {
    std::string joined;
    for (const auto& w : what_if) joined += w + " ";
    const WhatIfParse parsed = parse_what_if(joined, what_if_ca);
    if (!parsed.settings) return usage_error(line, parsed.error);
    proposal = parsed.settings;
  }

  SummaryInput in;
  in.now = std::time(nullptr);
  ClientProfile current, proposed;
  in.since = in.now - std::chrono::duration_cast<std::chrono::seconds>(since->value).count();
  try {
    const Config config = load_config(config_path, !vm.count("config"));
    if (proposal) {
      current = build_client_profile(config.tls);
      proposed = proposed_profile(config.tls, current, *proposal);
    }
    // Never create the store here (see `mxtls cache`): no store, no verdicts.
    if (const auto store = open_store(config.store, StoreAccess::existing)) {
      store->for_each([&](const StoredVerdict& v) { in.verdicts.push_back(v); });
      // Only a destination's newest record keeps its facts (the what-if reads no other): memory stays bounded.
      std::unordered_map<std::string, std::size_t> newest;
      store->for_each_probe(in.since, [&](const StoredVerdict& v) {
        auto [it, first] = newest.try_emplace(v.domain, in.history.size());
        if (!first) in.history[std::exchange(it->second, in.history.size())].facts.clear();
        in.history.push_back(v);
        if (!proposal) in.history.back().facts.clear();
      });
    } else {
      std::cerr << "mxtls report: no store at " << describe_store(config.store) << ": verdicts and history are empty\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "mxtls report: " << e.what() << "\n";
    return kExitConfig;
  }
  MtaLogReader mta;
  OutcomeTally tally(in.verdicts, in.history);
  for (const auto& path : logs) {
    if (!read_log(path, in, mta, tally)) {
      std::cerr << "mxtls report: cannot read " << path << "\n";
      return kExitUsage;
    }
  }
  in.mta = tally.result();
  in.mta_deliveries = tally.deliveries();
  if (proposal) {
    const WhatIfReport report = run_what_if(in.verdicts, in.history, current, proposed, *proposal, in.mta);
    std::cout << (vm.count("json") ? render_what_if_json(report) : render_what_if_text(report));
    return kExitOk;
  }
  const Summary summary = summarize(in);
  std::cout << (vm.count("json") ? render_summary_json(summary) : render_summary_text(summary, top));
  return kExitOk;
}

}  // namespace mxtls::cli
