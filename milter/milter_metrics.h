// What mxtls-milter counts for Prometheus ([metrics] milter_listen): the
// action applied to each inspected recipient and the engine's failures.
// Counted from libmilter's session threads (atomic increments).
#pragma once
#include <array>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "verdict/action.h"

namespace mxtls {

class MilterMetrics {
 public:
  explicit MilterMetrics(prometheus::Registry& registry);
  void recipient(Action applied);
  void engine_failure();

 private:
  std::array<prometheus::Counter*, static_cast<std::size_t>(Action::hold) + 1> recipients_{};
  prometheus::Counter& engine_failures_;
};

}  // namespace mxtls
