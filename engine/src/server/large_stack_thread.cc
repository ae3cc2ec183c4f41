#include "server/large_stack_thread.h"

#include <cstring>

#include "common/strings.h"

namespace sluice {

absl::Status LargeStackThread::Start(std::function<void()> body) {
  body_ = std::move(body);
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kStackBytes);
  const int error = pthread_create(&thread_, &attributes, &LargeStackThread::Main, this);
  pthread_attr_destroy(&attributes);
  if (error != 0)
    return absl::ResourceExhaustedError(StrCat("cannot start a thread: ", std::strerror(error)));
  started_ = true;
  return absl::OkStatus();
}

void LargeStackThread::Join() {
  if (!started_) return;
  pthread_join(thread_, nullptr);
  started_ = false;
}

void* LargeStackThread::Main(void* self) {
  static_cast<LargeStackThread*>(self)->body_();
  return nullptr;
}

absl::Status LargeStackThread::Run(std::function<void()> body) {
  LargeStackThread thread;
  SLUICE_RETURN_IF_ERROR(thread.Start(std::move(body)));
  thread.Join();
  return absl::OkStatus();
}

}  // namespace sluice
