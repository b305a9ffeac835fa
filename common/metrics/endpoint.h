// A daemon's optional Prometheus endpoint: an HTTP listener (prometheus-cpp's
// pull exposer) serving GET /metrics from one registry. The metrics are
// counted whether or not anyone scrapes them (atomic increments); the
// listener exists only when configured.
#pragma once
#include <memory>
#include <string>

#include <prometheus/registry.h>

namespace prometheus {
class Exposer;
}

namespace mxtls {

class MetricsEndpoint {
 public:
  MetricsEndpoint();
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Starts serving on `spec` (inet:ADDRESS:PORT); `key` names the setting
  // in errors. Throws ConfigError for a bad spec, std::runtime_error when
  // the address cannot be bound.
  void listen(const std::string& spec, const std::string& key);

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

// Checks a listen spec without binding it. Throws ConfigError naming `key`.
void check_metrics_listen(const std::string& spec, const std::string& key);

}  // namespace mxtls
