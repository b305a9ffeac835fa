#include "milter_metrics.h"

#include <prometheus/family.h>

namespace mxtls {

MilterMetrics::MilterMetrics(prometheus::Registry& r)
    : engine_failures_(prometheus::BuildCounter().Name("mxtls_milter_engine_failures_total")
                           .Help("Questions to mxtls-policyd that got no answer in time").Register(r).Add({})) {
  auto& family = prometheus::BuildCounter().Name("mxtls_milter_recipients_total")
                     .Help("Inspected recipients by the action applied").Register(r);
  for (std::size_t a = 0; a < recipients_.size(); ++a)
    recipients_[a] = &family.Add({{"action", std::string(action_name(static_cast<Action>(a)))}});
}

void MilterMetrics::recipient(Action applied) { recipients_[static_cast<std::size_t>(applied)]->Increment(); }

void MilterMetrics::engine_failure() { engine_failures_.Increment(); }

}  // namespace mxtls
