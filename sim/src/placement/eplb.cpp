// placement/eplb.cpp: DeepSeek EPLB's balanced packing, replication and hierarchical rebalancing
// (deepseek-ai/EPLB eplb.py), one layer at a time: EPLB's layers never interact.
#include "placement/eplb.hpp"

#include "moesim/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace moesim::eplb {
namespace {

using Ids = std::vector<int32_t>;

std::string str(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

std::string indexed(const std::string& key, size_t i) { return key + "[" + std::to_string(i) + "]"; }

// perm: [n], a permutation; returns its inverse (inv[perm[i]] = i).
Ids inverse(const Ids& perm) {
  Ids inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[static_cast<size_t>(perm[i])] = static_cast<int32_t>(i);
  return inv;
}

void require_positive(int v, const std::string& file, const std::string& key) {
  if (v < 1) throw Error(file, key, std::to_string(v), "must be at least 1");
}

void require_multiple(int v, int of, const std::string& file, const std::string& key, const std::string& what) {
  if (v % of != 0)
    throw Error(file, key, std::to_string(v), "must be a multiple of " + what + " (" + std::to_string(of) + ")");
}

// weight: [layers][num_logical] -> the same in float32, after checking shape and values.
std::vector<std::vector<float>> checked_float(const WeightMatrix& weight, const Keys& k) {
  if (weight.empty()) throw Error(k.weight_file, k.weight, "", "expected at least one layer of expert loads");
  std::vector<std::vector<float>> out;
  out.reserve(weight.size());
  for (size_t l = 0; l < weight.size(); ++l) {
    const auto& row = weight[l];
    const std::string key = indexed(k.weight, l);
    if (row.empty()) throw Error(k.weight_file, key, "[]", "expected at least one logical expert's load");
    if (row.size() != weight[0].size())
      throw Error(k.weight_file, key, std::to_string(row.size()) + " entries",
                  "rows must be equally long: expected " + std::to_string(weight[0].size()) + " entries, as in row 0");
    std::vector<float> f(row.size());
    for (size_t e = 0; e < row.size(); ++e) {
      f[e] = static_cast<float>(row[e]);
      if (!std::isfinite(row[e]) || row[e] < 0 || !std::isfinite(f[e]))
        throw Error(k.weight_file, indexed(key, e), str(row[e]), "expected a finite, non-negative load (at most 3.4e38)");
    }
    out.push_back(std::move(f));
  }
  return out;
}

struct LayerPlan {
  Ids phy2log;  // [num_replicas]
  Ids phyrank;  // [num_replicas]
  Ids logcnt;   // [num_logical]
};

// One layer of eplb.py's rebalance_experts_hierarchical; preconditions already checked.
// w: [num_logical]. "mlog" numbers the logical experts node by node after step 1 (EPLB's name).
LayerPlan plan_layer(const std::vector<float>& w, int num_replicas, int num_groups, int num_nodes, int num_gpus) {
  const int num_logical = static_cast<int>(w.size());
  const int group_size = num_logical / num_groups, groups_per_node = num_groups / num_nodes;
  const int log_per_node = num_logical / num_nodes, phy_per_node = num_replicas / num_nodes;
  const int phy_per_gpu = num_replicas / num_gpus;

  // Step 1: pack groups onto nodes. tokens_per_group: [num_groups]; log2mlog, mlog2log: [num_logical].
  std::vector<float> tokens_per_group(static_cast<size_t>(num_groups), 0.0f);
  for (int e = 0; e < num_logical; ++e) tokens_per_group[static_cast<size_t>(e / group_size)] += w[static_cast<size_t>(e)];
  const Packing groups = balanced_packing(tokens_per_group, num_nodes);
  Ids log2mlog(static_cast<size_t>(num_logical));
  for (int e = 0; e < num_logical; ++e) {
    const auto g = static_cast<size_t>(e / group_size);
    log2mlog[static_cast<size_t>(e)] = (groups.pack_index[g] * groups_per_node + groups.rank_in_pack[g]) * group_size + e % group_size;
  }
  const Ids mlog2log = inverse(log2mlog);

  LayerPlan plan{Ids(static_cast<size_t>(num_replicas)), Ids(static_cast<size_t>(num_replicas)), {}};
  Ids mlogcnt(static_cast<size_t>(num_logical));
  for (int node = 0; node < num_nodes; ++node) {
    // Step 2: replicate within the node. tokens_per_mlog: [log_per_node].
    std::vector<float> tokens_per_mlog(static_cast<size_t>(log_per_node));
    for (int m = 0; m < log_per_node; ++m)
      tokens_per_mlog[static_cast<size_t>(m)] = w[static_cast<size_t>(mlog2log[static_cast<size_t>(node * log_per_node + m)])];
    const Replication rep = replicate_experts(tokens_per_mlog, phy_per_node);
    std::copy(rep.logcnt.begin(), rep.logcnt.end(), mlogcnt.begin() + node * log_per_node);

    // Step 3: pack the node's slots onto its GPUs, each slot carrying load / replica count. [phy_per_node]
    std::vector<float> tokens_per_phy(static_cast<size_t>(phy_per_node));
    for (size_t p = 0; p < tokens_per_phy.size(); ++p) {
      const auto m = static_cast<size_t>(rep.phy2log[p]);
      tokens_per_phy[p] = tokens_per_mlog[m] / static_cast<float>(rep.logcnt[m]);
    }
    const Packing gpus = balanced_packing(tokens_per_phy, num_gpus / num_nodes);
    Ids phy2pphy(tokens_per_phy.size());
    for (size_t p = 0; p < phy2pphy.size(); ++p) phy2pphy[p] = gpus.pack_index[p] * phy_per_gpu + gpus.rank_in_pack[p];
    const Ids pphy2phy = inverse(phy2pphy);
    for (int q = 0; q < phy_per_node; ++q) {
      const auto phy = static_cast<size_t>(pphy2phy[static_cast<size_t>(q)]);
      const auto slot = static_cast<size_t>(node * phy_per_node + q);
      plan.phy2log[slot] = mlog2log[static_cast<size_t>(node * log_per_node + rep.phy2log[phy])];
      plan.phyrank[slot] = rep.rank[phy];
    }
  }
  plan.logcnt.resize(static_cast<size_t>(num_logical));
  for (size_t e = 0; e < plan.logcnt.size(); ++e) plan.logcnt[e] = mlogcnt[static_cast<size_t>(log2mlog[e])];
  return plan;
}

// Fills r.log2phy [layers][num_logical][max_replicas]: slot p is entry phyrank[p] of expert phy2log[p].
void fill_log2phy(Rebalance& r) {
  r.max_replicas = 0;
  for (const auto& row : r.logcnt) r.max_replicas = std::max(r.max_replicas, *std::max_element(row.begin(), row.end()));
  r.log2phy.clear();
  for (size_t l = 0; l < r.phy2log.size(); ++l) {
    std::vector<Ids> layer(r.logcnt[l].size(), Ids(static_cast<size_t>(r.max_replicas), -1));
    for (size_t p = 0; p < r.phy2log[l].size(); ++p)
      layer[static_cast<size_t>(r.phy2log[l][p])][static_cast<size_t>(r.phyrank[l][p])] = static_cast<int32_t>(p);
    r.log2phy.push_back(std::move(layer));
  }
}

}  // namespace

Packing balanced_packing(std::span<const float> weight, int num_packs) {
  const auto n = static_cast<int>(weight.size());
  if (num_packs < 1 || n % num_packs != 0)
    throw Error("", "num_packs", std::to_string(num_packs), "must divide the " + std::to_string(n) + " items");
  const int per_pack = n / num_packs;
  Packing out{Ids(weight.size()), Ids(weight.size(), 0)};
  if (per_pack == 1) {  // eplb.py: item i in pack i, whatever the weights
    std::iota(out.pack_index.begin(), out.pack_index.end(), 0);
    return out;
  }
  Ids order(weight.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return weight[static_cast<size_t>(a)] > weight[static_cast<size_t>(b)]; });
  std::vector<float> pack_weight(static_cast<size_t>(num_packs), 0.0f);
  Ids pack_items(static_cast<size_t>(num_packs), 0);
  for (const int32_t item : order) {
    size_t best = pack_weight.size();
    for (size_t p = 0; p < pack_weight.size(); ++p)
      if (pack_items[p] < per_pack && (best == pack_weight.size() || pack_weight[p] < pack_weight[best])) best = p;
    MOESIM_CHECK(best < pack_weight.size(), "balanced_packing: every pack full before the last item");
    out.pack_index[static_cast<size_t>(item)] = static_cast<int32_t>(best);
    out.rank_in_pack[static_cast<size_t>(item)] = pack_items[best]++;
    pack_weight[best] += weight[static_cast<size_t>(item)];
  }
  return out;
}

Replication replicate_experts(std::span<const float> weight, int num_phy) {
  const auto num_log = static_cast<int>(weight.size());
  if (num_phy < num_log)
    throw Error("", "num_phy", std::to_string(num_phy), "must be at least the " + std::to_string(num_log) + " logical experts");
  Replication r{Ids(static_cast<size_t>(num_phy)), Ids(static_cast<size_t>(num_phy), 0), Ids(weight.size(), 1)};
  std::iota(r.phy2log.begin(), r.phy2log.begin() + num_log, 0);
  for (int i = num_log; i < num_phy; ++i) {
    size_t best = 0;
    float best_load = weight[0] / static_cast<float>(r.logcnt[0]);
    for (size_t e = 1; e < weight.size(); ++e) {
      const float load = weight[e] / static_cast<float>(r.logcnt[e]);
      if (load > best_load) best = e, best_load = load;
    }
    r.phy2log[static_cast<size_t>(i)] = static_cast<int32_t>(best);
    r.rank[static_cast<size_t>(i)] = r.logcnt[best]++;
  }
  return r;
}

Rebalance rebalance_hierarchical(const WeightMatrix& weight, int num_replicas, int num_groups, int num_nodes,
                                 int num_gpus, const Keys& k) {
  const auto w = checked_float(weight, k);
  const int num_logical = static_cast<int>(w[0].size());
  require_positive(num_replicas, k.file, k.replicas);
  require_positive(num_groups, k.file, k.groups);
  require_positive(num_nodes, k.file, k.nodes);
  require_positive(num_gpus, k.file, k.gpus);
  if (num_logical % num_groups != 0)
    throw Error(k.file, k.groups, std::to_string(num_groups),
                "must divide the " + std::to_string(num_logical) + " logical experts");
  require_multiple(num_groups, num_nodes, k.file, k.groups, k.nodes);
  require_multiple(num_gpus, num_nodes, k.file, k.gpus, k.nodes);
  require_multiple(num_replicas, num_gpus, k.file, k.replicas, k.gpus);
  if (num_replicas < num_logical)
    throw Error(k.file, k.replicas, std::to_string(num_replicas),
                "must be at least the number of logical experts (" + std::to_string(num_logical) + ")");
  Rebalance r;
  r.hierarchical = true;
  for (const auto& row : w) {
    LayerPlan plan = plan_layer(row, num_replicas, num_groups, num_nodes, num_gpus);
    r.phy2log.push_back(std::move(plan.phy2log));
    r.phyrank.push_back(std::move(plan.phyrank));
    r.logcnt.push_back(std::move(plan.logcnt));
  }
  fill_log2phy(r);
  return r;
}

Rebalance rebalance_global(const WeightMatrix& weight, int num_replicas, int num_gpus, const Keys& k) {
  Rebalance r = rebalance_hierarchical(weight, num_replicas, 1, 1, num_gpus, k);
  r.hierarchical = false;
  return r;
}

Rebalance rebalance_experts(const WeightMatrix& weight, int num_replicas, int num_groups, int num_nodes,
                            int num_gpus, const Keys& k) {
  require_positive(num_groups, k.file, k.groups);
  require_positive(num_nodes, k.file, k.nodes);
  if (num_groups % num_nodes == 0) return rebalance_hierarchical(weight, num_replicas, num_groups, num_nodes, num_gpus, k);
  return rebalance_global(weight, num_replicas, num_gpus, k);
}

}  // namespace moesim::eplb
