// Per-layer EPLB placements from a weights file (placement.weights_file, the W.json `moesim place` reads)
// or from a counts trace (placement.weights_from_trace): the placement of each MoE layer comes from its own
// row. A counts trace replays the same loads exactly, so the device loads can be derived by hand.
#include "support/trace_files.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

using namespace test_traces;

// 1 step x 2 layers x 4 experts (top-2: 10 hits = 5 tokens per layer).
const char* kTrace = R"({"logical_count": [[[4, 3, 2, 1], [4, 1, 3, 2]]]})";

std::string scenario(const TempDir& t, const std::string& setups, const std::string& model_extra = "") {
  return t.write("scen.yaml", "model: {num_layers: 2, num_experts: 4, top_k: 2" + model_extra + "}\n"
                              "cluster: {devices: 2, devices_per_node: 2}\n"
                              "run: {steps: 1, tokens_per_step: 5}\n"
                              "workload: {name: trace_counts, path: c.json}\nsetups:\n" + setups);
}

double max_over_mean(const SetupResult& s, int layer) {
  return s.per_layer[static_cast<size_t>(layer)][static_cast<int>(Metric::device_max_over_mean)].mean;
}

// EPLB with 4 slots on 2 devices (no replicas) packs 2 experts per device, heaviest first into the lighter
// device with room. Layer 0 loads [4, 3, 2, 1]: e0 -> d0, e1 -> d1, e2 -> d1 (3 < 4), e3 -> d0: {0, 3} = 5,
// {1, 2} = 5: max/mean 1. Layer 1 loads [4, 1, 3, 2]: e0 -> d0, e2 -> d1, e3 -> d1, e1 -> d0: {0, 1} = 5,
// {2, 3} = 5: 1. With layer 0's placement on layer 1 (one `weight` row for all): {0, 3} = 6, {1, 2} = 4:
// 6 / 5 = 1.2. Contiguous ({0, 1}, {2, 3}): layer 0 [7, 3]: 7 / 5 = 1.4; layer 1 [5, 5]: 1.
TEST(PlacementWeights, OneEplbPlacementPerLayerFromAFileOrATrace) {
  TempDir t;
  t.write("c.json", kTrace);
  t.write("w/W.json", R"({"weight": [[4, 3, 2, 1], [4, 1, 3, 2]]})");
  const auto r = run_scenario(scenario(t, "  - name: contiguous\n"
                                          "  - name: shared\n    placement: {name: eplb, weight: [4, 3, 2, 1]}\n"
                                          "  - name: file\n    placement: {name: eplb, weights_file: w/W.json}\n"
                                          "  - name: trace\n    placement: {name: eplb, weights_from_trace: c.json}\n"));
  ASSERT_EQ(r.setups.size(), 4u);
  EXPECT_DOUBLE_EQ(max_over_mean(r.setups[0], 0), 1.4);
  EXPECT_DOUBLE_EQ(max_over_mean(r.setups[0], 1), 1.0);
  EXPECT_DOUBLE_EQ(max_over_mean(r.setups[1], 0), 1.0);
  EXPECT_DOUBLE_EQ(max_over_mean(r.setups[1], 1), 1.2);
  for (size_t s : {2u, 3u})
    for (int l = 0; l < 2; ++l) EXPECT_DOUBLE_EQ(max_over_mean(r.setups[s], l), 1.0) << r.setups[s].spec.name << " layer " << l;
  EXPECT_EQ(r.setups[2].spec.placement.weights_file, (t.dir / "w" / "W.json").string());  // resolved
  EXPECT_EQ(r.setups[3].spec.placement.layer_weight, (std::vector<std::vector<double>>{{4, 3, 2, 1}, {4, 1, 3, 2}}));
}

// weights_steps [first, end): the hits of those trace steps only, summed. Steps: 0 -> [1, 1, 1, 1]
// (uniform), 1 -> [4, 3, 2, 1]. [1, 2] gives [4, 3, 2, 1]; all steps give [5, 4, 3, 2].
// A trace of every block (1 dense + 1 MoE) skips the dense block's counts.
TEST(PlacementWeights, TraceStepRangeAndDenseBlocks) {
  TempDir t;
  t.write("c.json", R"({"logical_count": [[[1, 1, 1, 1], [1, 1, 1, 1]], [[4, 3, 2, 1], [4, 3, 2, 1]]]})");
  t.write("blocks.json", R"({"logical_count": [[[0, 0, 0, 0], [4, 3, 2, 1]]]})");
  const std::string s = t.write("scen.yaml", "model: {num_layers: 2, num_experts: 4, top_k: 2}\n"
                                             "cluster: {devices: 2, devices_per_node: 2}\nsetups:\n"
                                             "  - name: window\n    placement: {name: eplb, weights_from_trace: c.json, weights_steps: [1, 2]}\n"
                                             "  - name: all\n    placement: {name: eplb, weights_from_trace: c.json}\n");
  const ScenarioSpec spec = load_scenario(s, {}, builtin_registries());
  EXPECT_EQ(spec.setups[0].placement.layer_weight[1], (std::vector<double>{4, 3, 2, 1}));
  EXPECT_EQ(spec.setups[1].placement.layer_weight[0], (std::vector<double>{5, 4, 3, 2}));
  const std::string d = t.write("dense.yaml", "model: {num_layers: 2, first_dense_layers: 1, num_experts: 4, top_k: 2}\n"
                                              "placement: {name: eplb, weights_from_trace: blocks.json}\n");
  const ScenarioSpec dense = load_scenario(d, {}, builtin_registries());
  EXPECT_EQ(dense.setups[0].placement.layer_weight, (std::vector<std::vector<double>>{{4, 3, 2, 1}}));
}

TEST(PlacementWeights, Errors) {
  TempDir t;
  t.write("c.json", kTrace);
  t.write("W3.json", R"({"weight": [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]})");
  t.write("Wshort.json", R"({"weight": [[1, 1, 1, 1], [1, 1, 1]]})");
  t.write("Wneg.json", R"({"weight": [[1, 1, 1, 1], [1, -1, 1, 1]]})");
  const std::string s = (t.dir / "scen.yaml").string();
  const auto err = [&](const std::string& placement) {
    return error_of([&] { load_scenario(scenario(t, "  - name: a\n    placement: " + placement + "\n"), {}, builtin_registries()); });
  };
  const std::string w3 = (t.dir / "W3.json").string();
  EXPECT_EQ(err("{name: eplb, weights_file: W3.json}"),
            w3 + ": weight: the model has 2 MoE layers: weights_file needs one layer (row) per MoE layer (got '3 rows')");
  EXPECT_EQ(err("{name: eplb, weights_file: Wshort.json}"),
            (t.dir / "Wshort.json").string() + ": weight[1]: expected 4 entries, one load per routed expert (got '3 entries')");
  EXPECT_EQ(err("{name: eplb, weights_file: Wneg.json}"),
            (t.dir / "Wneg.json").string() + ": weight[1][1]: expected a finite, non-negative load (at most 3.4e38) (got '-1')");
  EXPECT_EQ(err("{name: eplb, weights_from_trace: c.json, weights_steps: [0, 2]}"),
            s + ": setups[0].placement.weights_steps: beyond the trace " + (t.dir / "c.json").string() +
                ": it holds 1 steps (got '[0, 2]')");
  EXPECT_EQ(err("{name: eplb, weights_steps: [0, 1]}"),
            s + ": setups[0].placement.weights_steps: only weights_from_trace has steps (got '[0, 1]')");
  EXPECT_EQ(err("{name: eplb, weights_from_trace: c.json, weights_steps: [1, 1]}"),
            s + ": setups[0].placement.weights_steps: expected first < end (got '[1, 1]')");
  EXPECT_EQ(err("{name: contiguous, weights_file: W3.json}"),
            s + ": setups[0].placement.weights_file: only the eplb placement reads weights (placement is 'contiguous') (got 'W3.json')");
  EXPECT_EQ(err("{name: eplb, weights_file: W3.json, weights_from_trace: c.json}"),
            s + ": setups[0].placement.weights_from_trace: give weights_file or weights_from_trace, not both (got 'c.json')");
  EXPECT_EQ(err("{name: eplb, weight: [1, 1, 1, 1], weights_file: W3.json}"),
            s + ": setups[0].placement.weights_file: give `weight` (one row for every layer) or a weights file, not both (got 'W3.json')");
  EXPECT_EQ(err("{name: eplb, weights_file: nope.json}"),
            s + ": setups[0].placement.weights_file: no such file or directory (" + (t.dir / "nope.json").string() +
                ") (got 'nope.json')");
  // A trace of another model: 2 layers for a model of 3 MoE layers.
  EXPECT_EQ(error_of([&] {
              load_scenario(t.write("m3.yaml", "model: {num_layers: 3, num_experts: 4, top_k: 2}\n"
                                               "placement: {name: eplb, weights_from_trace: c.json}\n"),
                            {}, builtin_registries());
            }),
            (t.dir / "c.json").string() + ": logical_count[0]: the model has 3 MoE layers: weights_from_trace needs one "
                                          "layer (row) per MoE layer (got '2 rows')");
}

}  // namespace
}  // namespace moesim
