#include "cost/all_to_all.hpp"

#include <algorithm>

namespace moesim::cost {

namespace {

std::vector<LinkCopies> low_latency(const BatchLoad& load, int rpn) {
  const int R = static_cast<int>(load.device_assignments.size());
  std::vector<LinkCopies> out(R);
  std::vector<double> send_in(R), send_out(R), recv_in(R), recv_out(R);
  for (int s = 0; s < R; ++s) {
    const int64_t* row = load.pair_assignments.data() + size_t(s) * R;
    const int first = s / rpn * rpn, last = std::min(R, first + rpn);  // s's node: ranks [first, last)
    out[s].self = double(row[s]);
    double total = 0;
    for (int d = 0; d < R; ++d) {
      total += double(row[d]);
      recv_out[d] += double(row[d]);  // corrected below for the node's own ranks
    }
    for (int d = first; d < last; ++d) {
      if (d == s) {
        recv_out[d] -= double(row[d]);
        continue;
      }
      send_in[s] += double(row[d]);
      recv_in[d] += double(row[d]);
      recv_out[d] -= double(row[d]);
    }
    send_out[s] = total - send_in[s] - double(row[s]);
  }
  for (int r = 0; r < R; ++r) {
    out[r].intra = std::max(send_in[r], recv_in[r]);
    out[r].inter = std::max(send_out[r], recv_out[r]);
    out[r].inter_received = recv_out[r];
  }
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
    out[r] = {std::max(send_in, recv_in), std::max(send_out, recv_out), recv_out, tokens(r, r)};
  }
  return out;
}

}  // namespace

std::vector<LinkCopies> all_to_all_copies(const BatchLoad& load, int ranks_per_node, AllToAll mode) {
  const int rpn = std::max(1, ranks_per_node);
  return mode == AllToAll::low_latency ? low_latency(load, rpn) : normal(load, rpn);
}

LinkCopies device_copies(const LinkCopies& rank, int etp, int attention_tp) {
  const double k = std::max(1, etp);
  const double lacking = std::max(0.0, 1.0 - double(std::max(1, attention_tp)) / k);
  const double gathered = (rank.inter_received + rank.self * lacking) * (k - 1) / k;
  return {rank.intra + gathered, rank.inter / k, rank.inter_received / k, 0.0};
}

}  // namespace moesim::cost
