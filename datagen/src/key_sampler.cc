#include "key_sampler.h"

#include <cmath>

#include "common/status.h"

namespace sluice {

KeySampler::KeySampler(uint32_t n, KeyDistribution distribution, double exponent) : n_(n) {
  SLUICE_CHECK(n >= 1);
  if (distribution == KeyDistribution::kUniform) return;
  SLUICE_CHECK(exponent > 0);
  // Vose's alias construction over probabilities scaled by n (mean 1).
  std::vector<double> scaled(n);
  double total = 0;
  for (uint32_t k = 0; k < n; ++k) {
    scaled[k] = std::pow(static_cast<double>(k) + 1.0, -exponent);
    total += scaled[k];
  }
  for (uint32_t k = 0; k < n; ++k) scaled[k] = scaled[k] * n / total;
  slots_.resize(n);
  std::vector<uint32_t> small, large;
  for (uint32_t k = 0; k < n; ++k) {
    slots_[k] = {UINT32_MAX, k};
    (scaled[k] < 1.0 ? small : large).push_back(k);
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t less = small.back();
    small.pop_back();
    const uint32_t more = large.back();
    const double threshold = std::ldexp(scaled[less], 32);
    slots_[less] = {threshold >= 4294967295.0 ? UINT32_MAX : static_cast<uint32_t>(threshold), more};
    scaled[more] = (scaled[more] + scaled[less]) - 1.0;
    if (scaled[more] < 1.0) {
      large.pop_back();
      small.push_back(more);
    }
  }
  // What remains has probability 1 up to rounding: those slots always keep their own key.
}

double KeySampler::Probability(uint32_t key) const {
  if (slots_.empty()) return 1.0 / n_;
  double mass = 0;
  for (uint32_t slot = 0; slot < n_; ++slot) {
    const double keep = std::ldexp(static_cast<double>(slots_[slot].threshold), -32);
    if (slot == key) mass += keep;
    if (slots_[slot].alias == key) mass += 1.0 - keep;
  }
  return mass / n_;
}

}  // namespace sluice
