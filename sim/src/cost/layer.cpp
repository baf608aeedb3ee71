#include "cost/layer.hpp"

#include <algorithm>
#include <cmath>

namespace moesim::cost {

double token_copy_bytes(int hidden, DType d) {
  switch (d) {
    case DType::fp8: return hidden + 4.0 * std::ceil(hidden / 128.0);
    case DType::int8: return hidden + 4.0;
    case DType::bf16: return 2.0 * hidden;
  }
  return 2.0 * hidden;
}

namespace {

double beside(double x, double y, double share) {
  if (y <= 0) return x;
  if (share <= 0) return std::max(x, y);
  return y >= x / (1.0 - share) ? y : x + share * y;
}

}  // namespace

double block_wall_s(const StageTimes& t, int micro_batches, double share) {
  if (micro_batches <= 1) return t.attention + t.moe + t.dispatch + t.combine;
  return beside(t.attention, t.dispatch, share) + beside(t.moe, t.dispatch, share) + beside(t.moe, t.combine, share) +
         beside(t.attention, t.combine, share);
}

}  // namespace moesim::cost
