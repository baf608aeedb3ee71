// workload/popularity.cpp: per-layer expert popularity of the synthetic workload.
#include "workload/synthetic.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace moesim {
namespace {

using workload_detail::Purpose;
using workload_detail::stream_id;

}  // namespace

// n standard normals from one Philox stream: counter q gives 4 words = 2 Box-Muller pairs, each
// pair (u1, u2) giving two independent normals r cos(2 pi u2) and r sin(2 pi u2). out: [n].
void workload_detail::fill_normals(const Philox& rng, int n, std::vector<double>& out) {
  out.assign(static_cast<size_t>(n), 0.0);
  for (int q = 0; 4 * q < n; ++q) {
    const auto w = rng.words(static_cast<uint64_t>(q));
    for (int pair = 0; pair < 2; ++pair) {
      const double u1 = Philox::to_unit_open_d(w[2 * pair]);
      const double u2 = Philox::to_unit_open_d(w[2 * pair + 1]);
      const double r = std::sqrt(-2.0 * std::log(u1));
      const double angle = 6.283185307179586 * u2;
      const int e = 4 * q + 2 * pair;
      if (e < n) out[static_cast<size_t>(e)] = r * std::cos(angle);
      if (e + 1 < n) out[static_cast<size_t>(e + 1)] = r * std::sin(angle);
    }
  }
}

namespace {

using workload_detail::fill_normals;

// A random permutation of 0..n-1 (Fisher-Yates), words taken in order from one stream.
// j = floor(w * (i + 1) / 2^32): bias below (i + 1) / 2^32, negligible for expert counts.
std::vector<int> random_permutation(const Philox& rng, int n) {
  std::vector<int> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), 0);
  uint64_t word_index = 0;
  std::array<uint32_t, 4> w{};
  for (int i = n - 1; i > 0; --i, ++word_index) {
    if (word_index % 4 == 0) w = rng.words(word_index / 4);
    const uint64_t j = (static_cast<uint64_t>(w[word_index % 4]) * static_cast<uint64_t>(i + 1)) >> 32;
    std::swap(perm[static_cast<size_t>(i)], perm[j]);
  }
  return perm;
}

// Unnormalised log popularity before the per-layer noise: [num_experts].
std::vector<double> base_log_popularity(const WorkloadInput& in, int draw_layer) {
  const int n = in.num_experts;
  std::vector<double> logp(static_cast<size_t>(n), 0.0);
  const WorkloadSpec& s = in.spec;
  if (s.popularity == Popularity::zipf) {
    // perm[r] is the expert of rank r + 1, with popularity (r + 1)^-s.
    const Philox rng(in.seed, stream_id(0, static_cast<uint64_t>(draw_layer), Purpose::rank_order));
    const std::vector<int> perm = random_permutation(rng, n);
    for (int r = 0; r < n; ++r) logp[static_cast<size_t>(perm[static_cast<size_t>(r)])] = -s.zipf_exponent * std::log(r + 1.0);
  } else if (s.popularity == Popularity::lognormal) {
    const Philox rng(in.seed, stream_id(0, static_cast<uint64_t>(draw_layer), Purpose::lognormal_z));
    std::vector<double> z;
    fill_normals(rng, n, z);
    for (int e = 0; e < n; ++e) logp[static_cast<size_t>(e)] = s.lognormal_sigma * z[static_cast<size_t>(e)];
  }
  return logp;  // uniform: all zero
}

}  // namespace

std::vector<double> synthetic_popularity(const WorkloadInput& in, int layer) {
  const int n = in.num_experts;
  MOESIM_CHECK(n > 0, "synthetic_popularity needs num_experts > 0");
  // Without shuffle_layers every layer reuses layer 0's draw (same hot experts everywhere).
  std::vector<double> logp = base_log_popularity(in, in.spec.shuffle_layers ? layer : 0);
  if (in.spec.layer_sigma > 0.0) {
    const Philox rng(in.seed, stream_id(0, static_cast<uint64_t>(layer), Purpose::layer_noise));
    std::vector<double> z;
    fill_normals(rng, n, z);
    for (int e = 0; e < n; ++e) logp[static_cast<size_t>(e)] += in.spec.layer_sigma * z[static_cast<size_t>(e)];
  }
  // Normalise in log space first (subtract the max) so that exp never overflows.
  const double top = *std::max_element(logp.begin(), logp.end());
  double sum = 0.0;
  for (double& v : logp) sum += (v = std::exp(v - top));
  for (double& v : logp) v /= sum;
  return logp;
}

}  // namespace moesim
