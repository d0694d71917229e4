#include "workers/compile_pool.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "workers/compile_protocol.hpp"
#include "workers/nvrtc_compiler.hpp"
#include "workers/process/supervised_child.hpp"
#include "workers/process/unique_fd.hpp"

namespace ktune::workers {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// How long an exiting worker gets to leave on its own after its stdin closes.
constexpr auto kExitGrace = std::chrono::milliseconds(2000);

CompileResult failed(CompileStatus status, std::string log) {
  CompileResult r;
  r.status = status;
  r.log = std::move(log);
  return r;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.3g s", static_cast<double>(ms.count()) / 1000.0);
  return buffer;
}

}  // namespace

bool worker_memory_limit_supported() noexcept {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

std::size_t default_worker_count() {
  const unsigned hw = std::thread::hardware_concurrency();
  return std::clamp<std::size_t>(hw == 0 ? 1 : hw, 1, 32);
}

process::ExecutableSearch worker_search(const fs::path& explicit_path) {
  process::ExecutableSearch search{"ktune-worker", explicit_path, "KTUNE_WORKER", {}};
#ifdef KTUNE_INSTALL_BINDIR
  search.fallbacks.push_back(fs::path(KTUNE_INSTALL_BINDIR) / "ktune-worker");
#endif
#ifdef KTUNE_BUILD_WORKER
  search.fallbacks.push_back(fs::path(KTUNE_BUILD_WORKER));
#endif
  return search;
}

struct Pending {
  CompileJob job;
  std::optional<Hash128> key;
  std::function<void(CompileResult)> done;
};

class CompilePool::Impl {
 public:
  explicit Impl(CompilePoolOptions options, fs::path worker)
      : options_(std::move(options)), worker_(std::move(worker)), nvrtc_version_(workers::nvrtc_version()) {
    count_ = options_.workers == 0 ? default_worker_count() : options_.workers;
    if (options_.memory_limit_bytes == 0) {
      const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
      const std::uint64_t physical = pages > 0 && page > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) : 0;
      options_.memory_limit_bytes = std::max<std::uint64_t>(physical / count_, 2ULL << 30);
    }
    slots_.resize(count_);
  }

  Status start_threads() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return make_error(Errc::internal, "compile pool: pipe2 failed");
    stop_read_.reset(fds[0]);
    stop_write_.reset(fds[1]);
    threads_.reserve(count_);
    for (std::size_t i = 0; i < count_; ++i) threads_.emplace_back([this, i] { run_slot(i); });
    return Ok{};
  }

  void submit(CompileJob job, std::function<void(CompileResult)> done) {
    Pending pending{std::move(job), std::nullopt, std::move(done)};
    if (options_.cache != nullptr) {
      pending.key = cubin_key(pending.job, nvrtc_version_);
      if (auto hit = options_.cache->get(*pending.key)) {
        {
          std::lock_guard lock(mutex_);
          ++stats_.submitted;
          ++stats_.cache_hits;
          ++stats_.completed;
          if (!hit->ok()) ++stats_.failed;  // a cached compile error
        }
        deliver(pending, std::move(*hit));
        return;
      }
    }
    {
      std::unique_lock lock(mutex_);
      if (!stopping_) {
        ++stats_.submitted;
        queue_.push_back(std::move(pending));
        lock.unlock();
        work_cv_.notify_one();
        return;
      }
    }
    deliver(pending, failed(CompileStatus::cancelled, "compile pool is shut down"));
  }

  void warm() {
    {
      std::lock_guard lock(mutex_);
      for (auto& s : slots_) {
        if (!s.ready) {
          s.want_start = true;
          s.start_error.clear();
        }
      }
    }
    work_cv_.notify_all();
  }

  Status wait_ready(std::chrono::milliseconds timeout) {
    warm();
    std::unique_lock lock(mutex_);
    const bool settled = ready_cv_.wait_for(lock, timeout, [&] {
      return stopping_ || std::all_of(slots_.begin(), slots_.end(),
                                      [](const Slot& s) { return s.ready || !s.start_error.empty(); });
    });
    if (stopping_) return make_error(Errc::internal, "compile pool is shut down");
    for (const auto& s : slots_)
      if (!s.ready && !s.start_error.empty()) return make_error(Errc::internal, s.start_error);
    if (!settled) return make_error(Errc::internal, "compile pool: workers not ready within " + seconds_text(timeout));
    return Ok{};
  }

  void shutdown() {
    std::deque<Pending> cancelled;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      cancelled.swap(queue_);
    }
    // The stop pipe stays readable from now on, waking every thread blocked on a worker.
    const char byte = 1;
    while (::write(stop_write_.get(), &byte, 1) < 0 && errno == EINTR) {
    }
    work_cv_.notify_all();
    ready_cv_.notify_all();
    for (auto& p : cancelled) deliver(p, failed(CompileStatus::cancelled, "compile pool shut down before the job ran"));
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

  std::size_t size() const noexcept { return count_; }
  const fs::path& worker_path() const noexcept { return worker_; }
  const std::string& nvrtc_version() const noexcept { return nvrtc_version_; }
  CompilePoolStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  std::vector<int> worker_pids() const {
    std::lock_guard lock(mutex_);
    std::vector<int> pids;
    for (const auto& s : slots_)
      if (s.ready) pids.push_back(s.pid);
    return pids;
  }

 private:
  struct Slot {
    bool want_start = false;
    bool ready = false;
    int pid = 0;
    std::string start_error;
  };

  void deliver(Pending& pending, CompileResult result) noexcept {
    try {
      if (pending.done) pending.done(std::move(result));
    } catch (...) {
      // A throwing callback must not take a pool thread down; the contract says it must not throw.
    }
  }

  process::SupervisedChildOptions supervision() const {
    process::SupervisedChildOptions o;
    o.name = "ktune-worker";
    o.spawn.program = worker_;
    o.spawn.args = {"--parent-pid", std::to_string(::getpid())};
    if (options_.memory_limit_bytes != UINT64_MAX && worker_memory_limit_supported()) {
      o.spawn.args.push_back("--memory-limit-bytes");
      o.spawn.args.push_back(std::to_string(options_.memory_limit_bytes));
    }
    if (!options_.pch_dir.empty()) {
      o.spawn.args.push_back("--pch-dir");
      o.spawn.args.push_back(options_.pch_dir.string());
    }
    o.spawn.environment = options_.environment;
    o.hello_type = frame_type(MessageType::hello);
    o.startup_timeout = options_.startup_timeout;
    o.stop_fd = stop_read_.get();
    return o;
  }

  // A worker from another build would compile with another NVRTC: its cubins would be filed under
  // the wrong key.
  Status check_hello(std::string_view payload) const {
    auto hello = decode_hello(payload);
    if (hello && hello->protocol_version == kWireVersion && hello->nvrtc_version == nvrtc_version_) return Ok{};
    return make_error(Errc::internal, "ktune-worker " + worker_.string() + " does not match this ktune (" +
                                          (hello ? "NVRTC " + hello->nvrtc_version + " vs " + nvrtc_version_ : hello.error().message) +
                                          ")");
  }

  // Runs on the slot's own thread for the pool's lifetime. Workers are spawned only here: the
  // worker's PR_SET_PDEATHSIG fires when the *thread* that spawned it exits, so spawning from a
  // caller's short-lived thread would kill the worker with it.
  void run_slot(std::size_t index) {
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);  // a dead worker gives EPIPE, not a dead caller

    process::SupervisedChild child(supervision(), [this](std::string_view hello) { return check_hello(hello); });
    for (;;) {
      std::optional<Pending> job;
      bool start_only = false;
      {
        std::unique_lock lock(mutex_);
        for (;;) {
          if (stopping_) break;
          if (!queue_.empty()) {
            job.emplace(std::move(queue_.front()));
            queue_.pop_front();
            break;
          }
          if (slots_[index].want_start && !child.has_child()) {
            start_only = true;
            break;
          }
          if (child.has_child() && options_.idle_timeout.count() > 0) {
            if (work_cv_.wait_for(lock, options_.idle_timeout) == std::cv_status::timeout && queue_.empty() &&
                !stopping_) {
              ++stats_.retired_idle;
              slots_[index].ready = false;
              lock.unlock();
              child.stop(kExitGrace);
              lock.lock();
            }
          } else {
            work_cv_.wait(lock);
          }
        }
        if (stopping_ && !job) break;
      }
      if (start_only) {
        (void)start_worker(index, child);
        continue;
      }
      run_job(index, child, *job);
    }
    child.stop(kExitGrace);
    std::lock_guard lock(mutex_);
    slots_[index].ready = false;
  }

  Status start_worker(std::size_t index, process::SupervisedChild& child) {
    if (auto started = child.start(); !started) {
      std::lock_guard lock(mutex_);
      slots_[index].want_start = false;
      slots_[index].ready = false;
      slots_[index].start_error = started.error().message;
      ready_cv_.notify_all();
      return make_error(Errc::internal, started.error().message);
    }
    std::lock_guard lock(mutex_);
    auto& slot = slots_[index];
    slot.want_start = false;
    slot.ready = true;
    slot.pid = child.pid();
    slot.start_error.clear();
    ++stats_.workers_started;
    ready_cv_.notify_all();
    return Ok{};
  }

  void not_ready(std::size_t index) {
    std::lock_guard lock(mutex_);
    slots_[index].ready = false;
  }

  void run_job(std::size_t index, process::SupervisedChild& child, Pending& pending) {
    using process::ChildFate;
    CompileResult result;
    std::string request;
    bool sendable = false;
    try {
      request = encode_job(pending.job);
      if (request.size() > kMaxPayload) throw std::length_error("wire: payload exceeds kMaxPayload");
      sendable = true;
    } catch (const std::exception& e) {
      result = failed(CompileStatus::internal, std::string("job cannot be sent to a worker: ") + e.what());
    }
    int attempts = 0;
    while (sendable) {
      ++attempts;
      if (!child.has_child()) {
        if (auto started = start_worker(index, child); !started) {
          result = failed(CompileStatus::internal, started.error().message);
          break;
        }
      }
      process::Reply reply =
          child.request(frame_type(MessageType::compile_request), request, Clock::now() + options_.job_timeout);

      if (reply.fate == ChildFate::answered) {
        auto decoded = reply.message.type == frame_type(MessageType::compile_result)
                           ? decode_result(reply.message.payload)
                           : Result<CompileResult>(make_error(Errc::corrupt, "unexpected message type"));
        if (!decoded) {
          child.kill();
          not_ready(index);
          result = failed(CompileStatus::internal, "ktune-worker sent a malformed answer: " + decoded.error().message);
          break;
        }
        result = std::move(*decoded);
        if (result.status == CompileStatus::out_of_memory) {
          // The worker exits by itself after this answer; make sure, and replace it.
          child.stop(kExitGrace);
          std::lock_guard lock(mutex_);
          slots_[index].ready = false;
          ++stats_.out_of_memory;
        }
        break;
      }
      not_ready(index);  // every other fate leaves no worker behind
      if (reply.fate == ChildFate::timeout) {
        {
          std::lock_guard lock(mutex_);
          ++stats_.timeouts;
        }
        result = failed(CompileStatus::timeout,
                        "ktune-worker gave no answer within " + seconds_text(options_.job_timeout) + "; killed and replaced");
        break;
      }
      if (reply.fate == ChildFate::stopped) {
        result = failed(CompileStatus::cancelled, "compile pool shut down while the job ran");
        break;
      }
      if (reply.fate == ChildFate::broken) {
        result = failed(CompileStatus::internal, "talking to ktune-worker failed: " + reply.error);
        break;
      }
      {
        std::lock_guard lock(mutex_);
        if (reply.fate == ChildFate::out_of_memory)
          ++stats_.out_of_memory;
        else
          ++stats_.crashes;
      }
      if (reply.fate == ChildFate::out_of_memory) {
        result = failed(CompileStatus::out_of_memory,
                        "ktune-worker was killed by SIGKILL while compiling (most likely the out-of-memory killer)");
        break;
      }
      result = failed(CompileStatus::crash, "ktune-worker " + (reply.exit ? reply.exit->describe() : reply.error) + " while compiling");
      if (attempts < 2) continue;  // once more on a fresh worker: the crash may not be the job's fault
      result.log += " (also on the retry with a fresh worker)";
      break;
    }
    result.attempts = attempts;
    result.from_cache = false;
    if (options_.cache != nullptr && pending.key) (void)options_.cache->put(*pending.key, result);  // ok or compile_error
    {
      std::lock_guard lock(mutex_);
      ++stats_.completed;
      if (!result.ok()) ++stats_.failed;
    }
    deliver(pending, std::move(result));
  }

  CompilePoolOptions options_;
  fs::path worker_;
  std::string nvrtc_version_;
  std::size_t count_ = 1;

  mutable std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable ready_cv_;
  std::deque<Pending> queue_;
  std::vector<Slot> slots_;
  bool stopping_ = false;
  CompilePoolStats stats_;

  process::UniqueFd stop_read_, stop_write_;
  std::vector<std::thread> threads_;
};

Result<std::unique_ptr<CompilePool>> CompilePool::create(CompilePoolOptions options) {
  auto worker = process::locate_executable(worker_search(options.worker_path));
  if (!worker) return worker.error();
  auto impl = std::make_unique<Impl>(std::move(options), std::move(*worker));
  if (auto started = impl->start_threads(); !started) return started.error();
  return std::unique_ptr<CompilePool>(new CompilePool(std::move(impl)));
}

CompilePool::CompilePool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompilePool::~CompilePool() { shutdown(); }

std::future<CompileResult> CompilePool::submit(CompileJob job) {
  auto promise = std::make_shared<std::promise<CompileResult>>();
  auto future = promise->get_future();
  impl_->submit(std::move(job), [promise](CompileResult r) { promise->set_value(std::move(r)); });
  return future;
}

void CompilePool::submit(CompileJob job, std::function<void(CompileResult)> on_done) {
  impl_->submit(std::move(job), std::move(on_done));
}

void CompilePool::warm() { impl_->warm(); }
Status CompilePool::wait_ready(std::chrono::milliseconds timeout) { return impl_->wait_ready(timeout); }
void CompilePool::shutdown() { impl_->shutdown(); }
std::size_t CompilePool::size() const noexcept { return impl_->size(); }
const fs::path& CompilePool::worker_path() const noexcept { return impl_->worker_path(); }
const std::string& CompilePool::nvrtc_version() const noexcept { return impl_->nvrtc_version(); }
CompilePoolStats CompilePool::stats() const { return impl_->stats(); }
std::vector<int> CompilePool::worker_pids() const { return impl_->worker_pids(); }

}  // namespace ktune::workers
