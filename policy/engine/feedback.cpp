#include "engine/feedback.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "log/logger.h"
#include "log/sanitize.h"
#include "report/reconcile.h"

namespace mxtls {

void check_feedback_config(const FeedbackConfig& config) {
  if (config.poll_interval.value < std::chrono::milliseconds(10))
    throw ConfigError("feedback.poll_interval must be at least 10ms");
}

MtaLogFollower::MtaLogFollower(asio::io_context& io, const FeedbackConfig& config, const VerdictCache& cache,
                               Scheduler& scheduler, DaemonMetrics& metrics)
    : config_(config), cache_(cache), scheduler_(scheduler), metrics_(metrics), timer_(io),
      journal_dir_(journal_directory(config.mta_log)) {}

MtaLogFollower::~MtaLogFollower() { close_file(); }

void MtaLogFollower::start() {
  if (config_.mta_log.empty()) return;
  const std::string source = !journal_dir_ ? sanitize(config_.mta_log)
                             : journal_dir_->empty() ? std::string("the journal (mail facility)")
                                                     : "the journal in " + sanitize(*journal_dir_) + " (mail facility)";
  log::info("feedback: following " + source + " (re-probe at most every " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(config_.reprobe_interval.value).count()) +
            "s per destination)");
  poll();
}

bool MtaLogFollower::open_file(bool at_end) {
  const int fd = ::open(config_.mta_log.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  struct stat st{};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const std::string why = fd < 0 ? std::strerror(errno) : "not a regular file";
    if (fd >= 0) ::close(fd);
    if (!missing_logged_)
      log::warning("feedback: cannot read " + sanitize(config_.mta_log) + ": " + why + "; trying again every poll");
    missing_logged_ = true;
    return false;
  }
  if (missing_logged_) log::info("feedback: reading " + sanitize(config_.mta_log) + " again");
  missing_logged_ = false;
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  offset_ = at_end ? st.st_size : 0;
  if (at_end) ::lseek(fd_, offset_, SEEK_SET);
  // What precedes the start: the witness of a later truncation.
  last_read_.assign(static_cast<std::size_t>(std::min<off_t>(offset_, kTruncationWitness)), '\0');
  if (::pread(fd_, last_read_.data(), last_read_.size(), offset_ - static_cast<off_t>(last_read_.size())) !=
      static_cast<ssize_t>(last_read_.size()))
    last_read_.clear();
  partial_.clear();
  skipping_ = false;
  return true;
}

void MtaLogFollower::close_file() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void MtaLogFollower::poll() {
  if (journal_dir_) poll_journal();
  else poll_file();
  timer_.expires_after(config_.poll_interval.value);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) poll();
  });
}

void MtaLogFollower::poll_journal() {
  if (!journal_) {
    try {
      journal_ = std::make_unique<JournalSource>(*journal_dir_);
      if (missing_logged_) log::info("feedback: reading the journal again");
      missing_logged_ = false;
    } catch (const std::exception& e) {
      if (!missing_logged_) log::warning("feedback: " + sanitize(e.what()) + "; trying again every poll");
      missing_logged_ = true;
      return;
    }
  }
  journal_->read(kMaxJournalEntriesPerPoll, [this](std::string_view line) {
    if (const auto d = reader_.read(line)) delivery(*d);
  });
}

void MtaLogFollower::poll_file() {
  // The first file found at start is read from its end; every later one
  // (created after a rotation, or after it was missing) from its start.
  if (fd_ >= 0 || open_file(!opened_once_)) {
    opened_once_ = true;
    if (truncated()) {  // copytruncate: read the file again from its start
      ::lseek(fd_, 0, SEEK_SET);
      offset_ = 0;
      last_read_.clear();
      partial_.clear();
      skipping_ = false;
    }
    const bool at_end = read_available();
    struct stat path{};
    if (::stat(config_.mta_log.c_str(), &path) == 0 && (path.st_ino != ino_ || path.st_dev != dev_) && at_end) {
      // Renamed away and read to its end: on to the new file.
      close_file();
      open_file(false);
    }
  }
}

// The file was cut (copytruncate) if it is now shorter than what we read,
// or if the bytes just before our offset are no longer the ones we read
// there: it was cut and written again past our offset between two polls.
bool MtaLogFollower::truncated() const {
  struct stat ours{};
  if (::fstat(fd_, &ours) != 0) return false;
  if (ours.st_size < offset_) return true;
  if (last_read_.empty() || offset_ < static_cast<off_t>(last_read_.size())) return false;
  std::string now(last_read_.size(), '\0');
  const ssize_t n = ::pread(fd_, now.data(), now.size(), offset_ - static_cast<off_t>(last_read_.size()));
  return n != static_cast<ssize_t>(now.size()) || now != last_read_;
}

bool MtaLogFollower::read_available() {
  char buffer[64 * 1024];
  std::size_t budget = kMaxReadPerPoll;
  while (budget > 0) {
    const ssize_t n = ::read(fd_, buffer, std::min(sizeof buffer, budget));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    offset_ += n;
    budget -= static_cast<std::size_t>(n);
    last_read_.append(buffer, static_cast<std::size_t>(n));
    if (last_read_.size() > kTruncationWitness) last_read_.erase(0, last_read_.size() - kTruncationWitness);
    take(std::string_view(buffer, static_cast<std::size_t>(n)));
  }
  return false;
}

void MtaLogFollower::take(std::string_view bytes) {
  while (!bytes.empty()) {
    const auto nl = bytes.find('\n');
    const auto piece = bytes.substr(0, nl);
    if (!skipping_) {
      if (partial_.size() + piece.size() > kMaxMtaLine) {
        skipping_ = true;
        partial_.clear();
      } else {
        partial_.append(piece);
      }
    }
    if (nl == std::string_view::npos) return;
    if (!skipping_)
      if (const auto d = reader_.read(partial_)) delivery(*d);
    partial_.clear();
    skipping_ = false;
    bytes.remove_prefix(nl + 1);
  }
}

void MtaLogFollower::delivery(const MtaDelivery& d) {
  metrics_.mta_delivery();
  const CachedVerdict* cached = cache_.find(d.domain);
  if (!cached) return;  // nothing predicted: the policy path asks for a probe itself
  StoredVerdict predicted;
  predicted.outcome = cached->outcome;
  predicted.reason = cached->reason;
  predicted.severity = cached->severity;
  const auto why = prediction_disagreement(d, predicted);
  if (!why) return;

  const auto now = std::chrono::steady_clock::now();
  if (const auto it = reprobed_.find(d.domain); it != reprobed_.end() && now - it->second < config_.reprobe_interval.value) {
    metrics_.prediction_disagreed(false);
    return;
  }
  if (reprobed_.size() >= kMaxTrackedDestinations) std::erase_if(reprobed_, [&](const auto& e) {
    return now - e.second >= config_.reprobe_interval.value;
  });
  if (reprobed_.size() >= kMaxTrackedDestinations) reprobed_.clear();  // bounded: a flood forgets, it does not grow
  reprobed_[d.domain] = now;
  const auto request = scheduler_.request(d.domain);
  const bool queued = request == Scheduler::Request::queued || request == Scheduler::Request::already_pending;
  metrics_.prediction_disagreed(true);
  log::warning("feedback: prediction disagreed: domain=" + sanitize(d.domain) + ", queue_id=" + sanitize(d.queue_id) +
               ", relay=" + sanitize(d.relay) + ", predicted=" + std::string(outcome_name(cached->outcome)) +
               ", predicted_reason=" + std::string(reason_code(cached->reason)) + ", mta=" + sanitize(d.status) +
               ", mta_tls=" + std::string(mta_tls_name(d.tls)) +
               ", mta_reason=" + (d.reason ? std::string(reason_code(*d.reason)) : std::string("none")) +
               ", action=" + (queued ? "reprobe" : request == Scheduler::Request::backing_off ? "none(backing_off)" : "none(overloaded)") +
               ", detail=\"" + sanitize_quoted(*why) + "\", evidence=\"" + sanitize_quoted(d.evidence) + "\"");
}

}  // namespace mxtls
