#include "metrics/endpoint.h"

#include <prometheus/exposer.h>

#include <stdexcept>

#include "config/config.h"
#include "config/socket_address.h"

namespace mxtls {
namespace {

// civetweb's form of the address: "127.0.0.1:9478", "[::1]:9478".
std::string bind_address(const std::string& spec, const std::string& key) {
  const auto where = parse_socket_address(spec, key);
  if (where.unix_socket)
    throw ConfigError(key + ": '" + spec + "': the metrics endpoint is HTTP over TCP: inet:ADDRESS:PORT");
  if (where.port == 0) throw ConfigError(key + ": '" + spec + "': a port is needed");
  const bool v6 = where.address.find(':') != std::string::npos;
  return (v6 ? "[" + where.address + "]" : where.address) + ":" + std::to_string(where.port);
}

}  // namespace

void check_metrics_listen(const std::string& spec, const std::string& key) {
  if (!spec.empty()) bind_address(spec, key);
}

MetricsEndpoint::MetricsEndpoint() : registry_(std::make_shared<prometheus::Registry>()) {}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::listen(const std::string& spec, const std::string& key) {
  const std::string address = bind_address(spec, key);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& e) {
    throw std::runtime_error(key + ": cannot listen on " + spec + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
}

}  // namespace mxtls
