#include "engine/cuda/cupti_timer.hpp"

#include <cupti.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include "engine/cuda/cupti_api.hpp"

namespace ktune::cuda {

namespace {

struct CuptiFunctions {
  decltype(&::cuptiActivityRegisterCallbacks) register_callbacks = nullptr;
  decltype(&::cuptiActivityEnable) enable = nullptr;
  decltype(&::cuptiActivityDisable) disable = nullptr;
  decltype(&::cuptiActivityFlushAll) flush_all = nullptr;
  decltype(&::cuptiActivityGetNextRecord) next_record = nullptr;
  decltype(&::cuptiActivityGetNumDroppedRecords) dropped = nullptr;
  decltype(&::cuptiGetResultString) result_string = nullptr;
};

CuptiFunctions g_cupti;
std::mutex g_records_mutex;
std::vector<KernelRecord> g_records;  // filled by CUPTI's buffer-completed callback
std::uint64_t g_dropped = 0;
bool g_active = false;

constexpr std::size_t kBufferBytes = 4u << 20;
constexpr std::size_t kAlignment = 8;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t, size_t valid_size) {
  CUpti_Activity* record = nullptr;
  std::vector<KernelRecord> batch;
  while (g_cupti.next_record(buffer, valid_size, &record) == CUPTI_SUCCESS) {
    if (record->kind != CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL && record->kind != CUPTI_ACTIVITY_KIND_KERNEL) continue;
    const auto* kernel = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
    batch.push_back({kernel->start, kernel->end, kernel->correlationId});
  }
  size_t dropped = 0;
  if (g_cupti.dropped) g_cupti.dropped(context, stream_id, &dropped);
  std::free(buffer);
  std::lock_guard lock(g_records_mutex);
  g_records.insert(g_records.end(), batch.begin(), batch.end());
  g_dropped += dropped;
}

std::string cupti_error(const char* call, CUptiResult rc) {
  const char* text = nullptr;
  if (g_cupti.result_string) g_cupti.result_string(rc, &text);
  return std::string(call) + " failed: " + (text ? text : "CUPTI error " + std::to_string(static_cast<int>(rc)));
}

}  // namespace

Result<std::unique_ptr<CuptiKernelTimer>> CuptiKernelTimer::start() {
  if (g_active) return make_error(Errc::internal, "a CUPTI kernel timer is already active in this process");
  auto library = load_cupti();
  if (!library) return library.error();
  void* handle = (*library)->handle;
  auto sym = [&](const char* name, auto& fn) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
    return fn != nullptr;
  };
  if (!sym("cuptiActivityRegisterCallbacks", g_cupti.register_callbacks) || !sym("cuptiActivityEnable", g_cupti.enable) ||
      !sym("cuptiActivityDisable", g_cupti.disable) || !sym("cuptiActivityFlushAll", g_cupti.flush_all) ||
      !sym("cuptiActivityGetNextRecord", g_cupti.next_record))
    return make_error(Errc::unsupported, (*library)->path + " lacks the activity API");
  sym("cuptiActivityGetNumDroppedRecords", g_cupti.dropped);
  sym("cuptiGetResultString", g_cupti.result_string);

  if (CUptiResult rc = g_cupti.register_callbacks(buffer_requested, buffer_completed); rc != CUPTI_SUCCESS)
    return make_error(Errc::unsupported, cupti_error("cuptiActivityRegisterCallbacks", rc));
  if (CUptiResult rc = g_cupti.enable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL); rc != CUPTI_SUCCESS)
    return make_error(Errc::unsupported, cupti_error("cuptiActivityEnable(CONCURRENT_KERNEL)", rc));
  g_active = true;
  return std::unique_ptr<CuptiKernelTimer>(new CuptiKernelTimer());
}

CuptiKernelTimer::~CuptiKernelTimer() {
  if (!g_active) return;
  g_cupti.flush_all(1);
  g_cupti.disable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL);
  g_active = false;
  std::lock_guard lock(g_records_mutex);
  g_records.clear();
}

Result<std::vector<KernelRecord>> CuptiKernelTimer::collect() {
  if (CUptiResult rc = g_cupti.flush_all(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED); rc != CUPTI_SUCCESS)
    return make_error(Errc::internal, cupti_error("cuptiActivityFlushAll", rc));
  std::vector<KernelRecord> out;
  {
    std::lock_guard lock(g_records_mutex);
    out.swap(g_records);
  }
  // Records of one stream complete in launch order; sorting by start makes that explicit.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.start_ns < b.start_ns; });
  return out;
}

std::uint64_t CuptiKernelTimer::dropped_records() const {
  std::lock_guard lock(g_records_mutex);
  return g_dropped;
}

}  // namespace ktune::cuda
