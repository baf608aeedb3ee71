#include "cost/all_to_all.hpp"

#include <algorithm>

namespace moesim::cost {

namespace {

std::vector<LinkCopies> low_latency(const BatchLoad& load, int rpn) {
  const int R = static_cast<int>(load.device_assignments.size());
  std::vector<LinkCopies> out(R);
  std::vector<double> send_in(R), send_out(R), recv_in(R), recv_out(R);
  for (int s = 0; s < R; ++s)
    for (int d = 0; d < R; ++d) {
      if (s == d) continue;
      const double n = double(load.pair_assignments[size_t(s) * R + d]);
      const bool same = s / rpn == d / rpn;
      (same ? send_in[s] : send_out[s]) += n;
      (same ? recv_in[d] : recv_out[d]) += n;
    }
  for (int r = 0; r < R; ++r) out[r] = {std::max(send_in[r], recv_in[r]), std::max(send_out[r], recv_out[r])};
  return out;
}

std::vector<LinkCopies> normal(const BatchLoad& load, int rpn) {
  const int R = static_cast<int>(load.device_assignments.size());
  const int N = load.nodes;
  const auto tokens = [&](int s, int d) { return double(load.pair_tokens[size_t(s) * R + d]); };
  std::vector<LinkCopies> out(R);
  for (int r = 0; r < R; ++r) {
    const int node = r / rpn, local = r % rpn;
    const int first = node * rpn, last = std::min(R, first + rpn);  // ranks [first, last) share r's node
    double send_out = 0, recv_out = 0, send_in = 0, recv_in = 0;
    for (int n = 0; n < N; ++n)
      if (n != node) send_out += double(load.pair_node_tokens[size_t(r) * N + n]);
    for (int d = first; d < last; ++d)
      if (d != r) send_in += tokens(r, d), recv_in += tokens(d, r);
    for (int s = 0; s < R; ++s) {
      if (s / rpn == node) continue;
      if (s % rpn == local) {  // r is s's rail peer: receives once per token, forwards to its node-mates
        recv_out += double(load.pair_node_tokens[size_t(s) * N + node]);
        for (int d = first; d < last; ++d)
          if (d != r) send_in += tokens(s, d);
      } else {
        recv_in += tokens(s, r);  // forwarded to r by its node-mate on s's rail
      }
    }
    out[r] = {std::max(send_in, recv_in), std::max(send_out, recv_out)};
  }
  return out;
}

}  // namespace

std::vector<LinkCopies> all_to_all_copies(const BatchLoad& load, int ranks_per_node, AllToAll mode) {
  const int rpn = std::max(1, ranks_per_node);
  return mode == AllToAll::low_latency ? low_latency(load, rpn) : normal(load, rpn);
}

}  // namespace moesim::cost
