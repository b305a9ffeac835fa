#include "engine/store_writer.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <utility>

#include "config/duration.h"
#include "log/logger.h"
#include "store/open_store.h"
#include "store/probe_record.h"

namespace mxtls {
namespace {

using Clock = std::chrono::steady_clock;

std::string count(std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); }

// StoreError texts read "store <path>: why"; log lines read "store: <path>: why".
std::string log_text(const StoreError& e) {
  const std::string_view what = e.what();
  return "store: " + std::string(what.starts_with("store ") ? what.substr(6) : what);
}

}  // namespace

StoreWriter::StoreWriter(const StoreConfig& config, std::chrono::seconds history, Renewed renewed)
    : config_(config), history_(history), renewed_(std::move(renewed)) {
  if (config_.backend == "none") return;
  try {
    open();
  } catch (const StoreError& e) {
    failed(log_text(e));
  }
  thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void StoreWriter::save(StoredVerdict v, bool cacheable) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    if (cacheable) held_.verdicts.insert_or_assign(v.domain, v);
    held_.probes.push_back(history_record(std::move(v)));  // facts only for a transport failure
    trim();
  }
  wake_.notify_one();
}

void StoreWriter::restore(std::vector<StoredVerdict> verdicts) {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& v : verdicts) held_.verdicts.try_emplace(v.domain, std::move(v));
  }
  wake_.notify_one();
}

void StoreWriter::trim() {
  while (held_.probes.size() > kMaxHeldProbes) {
    held_.probes.pop_front();
    ++dropped_probes_;
  }
}

void StoreWriter::give_back(Held batch) {
  // Whatever was queued meanwhile is newer: it wins, and goes after.
  // Held, a verdict or history record keeps its fields but not its probe
  // facts (up to 16 KiB each): memory stays what it was before they had facts.
  for (auto& [domain, v] : batch.verdicts) {
    v.facts.clear();
    held_.verdicts.try_emplace(domain, std::move(v));
  }
  for (auto& record : batch.probes) record.facts.clear();
  held_.probes.insert(held_.probes.begin(), std::make_move_iterator(batch.probes.begin()),
                      std::make_move_iterator(batch.probes.end()));
  trim();
}

void StoreWriter::failed(const std::string& why) {
  ++failures_;
  up_ = false;
  if (failing_) return;  // one line per failure, not one per retry
  failing_ = true;
  log::error(why + "; verdicts are held in memory and written once it works again (retrying every " +
             std::to_string(kRetryInterval.count()) + "s)");
}

void StoreWriter::open() {
  try {
    store_ = open_store(config_, StoreAccess::create);
  } catch (const StoreError& e) {
    if (e.kind() != StoreError::Kind::corrupt) throw;
    renew(log_text(e));
  }
}

void StoreWriter::renew(const std::string& why) {
  store_.reset();
  const std::string aside = set_aside_store(config_);
  store_ = open_store(config_, StoreAccess::create);
  log::error(why + "; set it aside as " + aside + " and started anew with the verdicts held in memory");
  if (renewed_) renewed_();
}

void StoreWriter::carry_over() {
  StoreCarryOver carried;
  try {
    carried = store_->reopen();
  } catch (const StoreError& e) {
    throw StoreError(std::string(e.what()) + " (the file was deleted or replaced while in use: it is made anew when this works)",
                     e.kind());
  }
  log::error("store: " + describe_store(config_) + ": the file was deleted or replaced while in use; " +
             (carried.created ? "made it anew" : "reopened the file the path names now") + " with the " +
             count(carried.verdicts, "verdict") + " and " + count(carried.probes, "probe record") + " the old one held");
}

void StoreWriter::attempt(const Held& batch, bool prune) {
  // Pruning first: a batch is given back whole when a step fails, and must
  // not have been written already.
  const auto steps = [&] {
    try {
      if (prune) {
        const auto n = store_->prune_history(std::time(nullptr) - history_.count());
        if (n > 0) log::info("store: deleted " + count(n, "probe record") + " older than " + format_duration(Duration{history_}));
      }
      if (batch.empty()) return;
      std::vector<StoredVerdict> verdicts, probes(batch.probes.begin(), batch.probes.end());
      verdicts.reserve(batch.verdicts.size());
      for (const auto& [domain, v] : batch.verdicts) verdicts.push_back(v);
      store_->write(verdicts, probes);
    } catch (const StoreError& e) {
      // Opened again at the next try: a connection SQLite turned read-only,
      // or one that failed midway, is not reused.
      if (e.kind() != StoreError::Kind::corrupt) store_.reset();
      throw;
    }
  };
  try {
    if (!store_) open();
    switch (store_->health()) {
      case StoreHealth::sound: break;
      case StoreHealth::moved: carry_over(); break;
      case StoreHealth::corrupt:
        throw StoreError("store " + describe_store(config_) + ": the file's header is no longer SQLite's", StoreError::Kind::corrupt);
    }
    steps();
  } catch (const StoreError& e) {
    if (e.kind() != StoreError::Kind::corrupt) throw;
    renew(log_text(e));
    steps();
  }
}

void StoreWriter::run() {
  auto next_prune = Clock::now();  // at start, then once an hour
  auto next_check = Clock::now() + kRetryInterval;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_until(lock, failing_ ? next_check : std::min(next_check, next_prune),
                     [this] { return stopping_ || (!failing_ && !held_.empty()); });
    const bool stop = stopping_;
    Held batch = std::exchange(held_, {});
    const std::size_t dropped = std::exchange(dropped_probes_, 0);
    lock.unlock();

    // While failing, pruning is the write that tells the store works again.
    const bool prune = failing_ || Clock::now() >= next_prune;
    bool written = true;
    try {
      attempt(batch, prune);
      if (prune) next_prune = Clock::now() + std::chrono::hours(1);
      if (failing_) {
        failing_ = false;
        up_ = true;
        log::info("store: " + describe_store(config_) + ": writing again" +
                  (batch.empty() ? "" : "; wrote the " + count(batch.verdicts.size(), "verdict") + " and " +
                                            count(batch.probes.size(), "probe record") + " held in memory") +
                  (dropped ? " (" + count(dropped, "older probe record") + " dropped: more than " +
                                 std::to_string(kMaxHeldProbes) + " held)"
                           : ""));
      }
    } catch (const StoreError& e) {
      written = false;
      failed(log_text(e));
    }
    next_check = Clock::now() + kRetryInterval;

    lock.lock();
    if (!written) {
      give_back(std::move(batch));
      dropped_probes_ += dropped;
    }
    // Stopping: done once all is written, or once the store fails; what
    // arrived during the last write (a restore) gets one more round.
    if (stop && (held_.empty() || !written)) {
      if (!held_.empty())
        log::error("store: " + describe_store(config_) + ": stopping with " + count(held_.verdicts.size(), "verdict") + " and " +
                   count(held_.probes.size(), "probe record") + " not written");
      return;
    }
  }
}

}  // namespace mxtls
