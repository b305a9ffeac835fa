// mxtls-policyd following the MTA's own log ([feedback] mta_log): each
// delivery status line (report/mta_log classifies it) is set beside the
// cached verdict; a delivery our verdict did not predict is counted, logged
// once ("feedback: prediction disagreed: ...", both sides) and its
// destination re-probed at once, at most once per reprobe_interval.
// Never blocks answers: the file is polled on the io thread every
// poll_interval, at most kMaxReadPerPoll bytes a time, lines past
// kMaxMtaLine skipped. Survives rotation by rename+create (the old file is
// read to its end, then the new one from its start) and by copytruncate (a
// file shorter than what was read is read again from its start). Or the
// systemd journal's mail facility (engine/journal_source.h), at most
// kMaxJournalEntriesPerPoll entries a poll. Starts at the end of the file
// or journal: the past is `mxtls report`'s. [feedback] takes a restart
// (server/reload).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.h"
#include "engine/daemon_metrics.h"
#include "engine/journal_source.h"
#include "engine/scheduler.h"
#include "engine/verdict_cache.h"
#include "report/mta_log.h"

namespace mxtls {

// Throws ConfigError naming the key: poll_interval under 10ms.
void check_feedback_config(const FeedbackConfig& config);

class MtaLogFollower {
 public:
  static constexpr std::size_t kMaxReadPerPoll = 1 << 20;
  static constexpr std::size_t kMaxJournalEntriesPerPoll = 10000;
  static constexpr std::size_t kMaxTrackedDestinations = 10000;  // re-probe times remembered

  MtaLogFollower(asio::io_context& io, const FeedbackConfig& config, const VerdictCache& cache, Scheduler& scheduler,
                 DaemonMetrics& metrics);
  ~MtaLogFollower();
  MtaLogFollower(const MtaLogFollower&) = delete;
  MtaLogFollower& operator=(const MtaLogFollower&) = delete;

  void start();

 private:
  void poll();
  void poll_file();
  void poll_journal();
  bool open_file(bool at_end);
  void close_file();
  bool read_available();  // true: the end of the file was reached
  bool truncated() const;
  void take(std::string_view bytes);
  void delivery(const MtaDelivery& d);

  FeedbackConfig config_;
  const VerdictCache& cache_;
  Scheduler& scheduler_;
  DaemonMetrics& metrics_;
  asio::steady_timer timer_;
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  // The last bytes read, up to kTruncationWitness: still there before our
  // offset unless the file was cut and written again (truncated()).
  static constexpr std::size_t kTruncationWitness = 64;
  std::string last_read_;
  bool opened_once_ = false;
  bool missing_logged_ = false;
  std::string partial_;        // a line not ended yet (at most kMaxMtaLine bytes)
  bool skipping_ = false;      // inside a line longer than kMaxMtaLine
  std::optional<std::string> journal_dir_;  // set: the journal, not a file
  std::unique_ptr<JournalSource> journal_;
  MtaLogReader reader_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> reprobed_;
};

}  // namespace mxtls
