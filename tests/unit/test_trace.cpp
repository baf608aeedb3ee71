// Unit tests of trace replay (trace_counts, trace_tokens): every format read back exactly, loads equal
// to the trace's counts, per-token destinations, every bad-input message, 1 vs 2 threads identical.
// Trace files are written here, byte by byte, into a fresh temporary directory.
#include "support/trace_files.hpp"

#include <gtest/gtest.h>


namespace moesim {
namespace {

using namespace test_traces;

// 2 steps x 2 layers x 4 experts; k = 2.
const char* kCountsJson =
    R"({"rank": 0, "logical_count": [[[3, 1, 0, 2], [1, 1, 1, 1]], [[0, 0, 4, 0], [2, 2, 0, 0]]],
        "average_utilization_rate_over_window": null, "note": "a \"quoted\" string", "nested": {"a": [1, {}]}})";

TEST(TraceCounts, SglangJsonDealsHitsRoundRobin) {
  TempDir t;
  const auto w = make(input("trace_counts", t.write("c.json", kCountsJson), "sglang_json", 4, 2, 2));
  ASSERT_TRUE(w->replays());
  Assignments a;
  w->replay(0, 0, a);
  // Counts [3, 1, 0, 2], sum 6, k 2 -> 3 tokens. Hits in expert order: e0 e0 e0 e1 e3 e3; hit i goes to
  // token i % 3, slot i / 3: token 0 = {0, 1}, token 1 = {0, 3}, token 2 = {0, 3}.
  EXPECT_EQ(a.tokens, 3);
  EXPECT_EQ(a.slots, 2);
  EXPECT_EQ(a.expert, (std::vector<int32_t>{0, 1, 0, 3, 0, 3}));
  EXPECT_EQ(a.weight, std::vector<float>(6, 0.5f));
  EXPECT_EQ(a.requested, 6);
  // Counts [1, 1, 1, 1]: 2 tokens, token 0 = {0, 2}, token 1 = {1, 3}.
  w->replay(0, 1, a);
  EXPECT_EQ(a.expert, (std::vector<int32_t>{0, 2, 1, 3}));
  // Counts [2, 2, 0, 0] at step 1, layer 1: token 0 = {0, 1}, token 1 = {0, 1}.
  w->replay(1, 1, a);
  EXPECT_EQ(a.expert, (std::vector<int32_t>{0, 1, 0, 1}));
}

TEST(TraceCounts, OddSumLeavesAnEmptySlot) {
  TempDir t;
  const auto w = make(input("trace_counts", t.write("c.json", R"({"logical_count": [[[2, 0, 1, 0]]]})"), "sglang_json", 4, 1, 1));
  Assignments a;
  w->replay(0, 0, a);
  // Sum 3, k 2 -> 2 tokens; hits e0 e0 e2 -> token 0 = {0, 2}, token 1 = {0, empty}.
  EXPECT_EQ(a.expert, (std::vector<int32_t>{0, 2, 0, kNoExpert}));
  EXPECT_EQ(a.weight, (std::vector<float>{0.5f, 0.5f, 0.5f, 0.0f}));
  EXPECT_EQ(a.requested, 3);
}

TEST(TraceCounts, AllBlocksTraceSkipsDenseLayers) {
  TempDir t;
  // 3 blocks, the first dense (zero counts, as SGLang records it): MoE layer 0 is trace layer 1.
  WorkloadInput in = input("trace_counts", t.write("c.json", R"({"logical_count": [[[0,0],[2,0],[0,4]]]})"), "sglang_json", 2, 2, 1);
  in.model_layers = 3, in.first_dense_layers = 1;
  const auto w = make(in);
  Assignments a;
  w->replay(0, 1, a);  // trace layer 2: [0, 4] -> 2 tokens, both {1, 1}
  EXPECT_EQ(a.expert, (std::vector<int32_t>{1, 1, 1, 1}));
}

// A scenario of the trace in `dir`: 2 MoE layers, 4 experts, top-2, 2 devices (experts 0-1 on device 0).
std::string scenario(const TempDir& t, const std::string& workload, int threads, int steps = 2) {
  return t.write("scen.yaml", "model: {num_layers: 2, num_experts: 4, top_k: 2}\n"
                              "cluster: {devices: 2, devices_per_node: 2}\n"
                              "run: {steps: " + std::to_string(steps) + ", tokens_per_step: 2, threads: " +
                                  std::to_string(threads) + "}\nworkload: " + workload + "\n");
}

TEST(TraceCounts, LoadsPerExpertEqualTheTrace) {
  TempDir t;
  t.write("traces/c.json", kCountsJson);
  const auto r = run_scenario(scenario(t, "{name: trace_counts, path: traces/c.json}", 1));
  // Mean over the 2 steps of each count: layer 0 ([3,1,0,2] + [0,0,4,0]) / 2, layer 1 ([1,1,1,1] + [2,2,0,0]) / 2.
  const auto& et = r.setups[0].expert_tokens_mean;
  EXPECT_EQ(et[0], (std::vector<double>{1.5, 0.5, 2.0, 1.0}));
  EXPECT_EQ(et[1], (std::vector<double>{1.5, 1.5, 0.5, 0.5}));
  EXPECT_EQ(r.setups[0].spec.workload.format, "sglang_json");  // inferred from .json
  // Device loads (experts 0-1 on device 0): layer 0 step 0 = [4, 2], step 1 = [0, 4]; layer 1 = [2, 2], [4, 0].
  // Mean over steps and layers: device 0 (4 + 0 + 2 + 4) / 4 = 2.5, device 1 (2 + 4 + 2 + 0) / 4 = 2.
  EXPECT_EQ(r.setups[0].device_assignments_mean, (std::vector<double>{2.5, 2.0}));
  // Percentiles interpolate between order statistics (numpy's default). Layer 0, expert 0 holds 3 then 0:
  // p50 1.5, p99 = 0 + 0.99 x 3 = 2.97, max 3. Device 0's four (step, layer) loads 4, 2, 0, 4 sort to
  // [0, 2, 4, 4]: p50 3, p99 at rank 0.99 x 3 = 2.97 -> 4, max 4; device 1's 2, 2, 4, 0 -> [0, 2, 2, 4]:
  // p50 2, p99 2 + 0.97 x 2 = 3.94, max 4.
  const Distribution& e0 = r.setups[0].expert_tokens[0][0];
  EXPECT_DOUBLE_EQ(e0.mean, 1.5);
  EXPECT_DOUBLE_EQ(e0.p50, 1.5);
  EXPECT_NEAR(e0.p99, 2.97, 1e-12);
  EXPECT_DOUBLE_EQ(e0.max, 3.0);
  const auto& dev = r.setups[0].device_assignments;
  ASSERT_EQ(dev.size(), 2u);
  EXPECT_DOUBLE_EQ(dev[0].p50, 3.0);
  EXPECT_DOUBLE_EQ(dev[0].p99, 4.0);
  EXPECT_DOUBLE_EQ(dev[0].max, 4.0);
  EXPECT_DOUBLE_EQ(dev[1].p50, 2.0);
  EXPECT_NEAR(dev[1].p99, 3.94, 1e-12);
  EXPECT_DOUBLE_EQ(dev[1].max, 4.0);
}

// run.measure_from 1: step 0 is a warm-up, simulated but left out of every aggregate. The trace's loads
// are exact, so each aggregate must be step 1's alone: layer 0 [0, 0, 4, 0], layer 1 [2, 2, 0, 0]; device
// loads (experts 0-1 on device 0) layer 0 [0, 4], layer 1 [4, 0], mean over the 2 layers [2, 2]; requested
// = 4 + 4 = 8 assignments. The per-step series keeps both steps: step 0's layer-0 device max/mean is
// 4 / 3 (loads [4, 2]), layer 1's 1 ([2, 2]): mean 7/6; step 1's 4 / 2 = 2 on both layers.
TEST(TraceCounts, MeasureFromLeavesTheWarmupOut) {
  TempDir t;
  t.write("c.json", kCountsJson);
  const std::string path = t.write("scen.yaml", "model: {num_layers: 2, num_experts: 4, top_k: 2}\n"
                                                "cluster: {devices: 2, devices_per_node: 2}\n"
                                                "run: {steps: 2, tokens_per_step: 2, measure_from: 1}\n"
                                                "workload: {name: trace_counts, path: c.json}\n");
  const auto r = run_scenario(path);
  const SetupResult& s = r.setups[0];
  EXPECT_EQ(s.expert_tokens_mean[0], (std::vector<double>{0, 0, 4, 0}));
  EXPECT_EQ(s.expert_tokens_mean[1], (std::vector<double>{2, 2, 0, 0}));
  EXPECT_EQ(s.device_assignments_mean, (std::vector<double>{2, 2}));
  EXPECT_EQ(s.requested, 8);
  const int m = static_cast<int>(Metric::device_max_over_mean);
  EXPECT_DOUBLE_EQ(s.overall[m].mean, 2.0);
  EXPECT_DOUBLE_EQ(s.overall[m].max, 2.0);
  ASSERT_EQ(s.per_step.size(), 2u);
  EXPECT_DOUBLE_EQ(s.per_step[0][m], 7.0 / 6.0);
  EXPECT_DOUBLE_EQ(s.per_step[1][m], 2.0);
  // measure_from must leave a step to measure.
  const std::string bad = t.write("bad.yaml", "model: {num_layers: 2, num_experts: 4, top_k: 2}\n"
                                              "run: {steps: 2, measure_from: 2}\n");
  EXPECT_EQ(error_of([&] { load_scenario(bad, {}, builtin_registries()); }),
            bad + ": run.measure_from: leaves no step to measure: run.steps is 2 (after --steps / --set); lower it, "
                  "e.g. --set run.measure_from=0 (got '2')");
}

TEST(TraceCounts, TrtllmSumsRankFiles) {
  TempDir t;
  t.write("stat/meta_info.json", R"({"num_experts": 4, "num_experts_per_token": 2})");
  // Iterations 100-101, model layers 3 and 5 (trace layers 0 and 1). rank0 I64, rank1 I32 and F32.
  t.write("stat/rank0.safetensors", safetensors({{"100_3", "I64", raw<int64_t>({1, 0, 0, 1}), 4},
                                                 {"100_5", "I64", raw<int64_t>({0, 0, 0, 0}), 4},
                                                 {"101_3", "I64", raw<int64_t>({0, 2, 0, 0}), 4},
                                                 {"101_5", "I64", raw<int64_t>({1, 1, 1, 1}), 4}}));
  t.write("stat/rank1.safetensors", safetensors({{"100_3", "I32", raw<int32_t>({2, 1, 0, 1}), 4},
                                                 {"100_5", "F32", raw<float>({0, 0, 4, 0}), 4},
                                                 {"101_3", "I32", raw<int32_t>({0, 0, 2, 0}), 4},
                                                 {"101_5", "F32", raw<float>({1, 1, 1, 1}), 4}}));
  const auto r = run_scenario(scenario(t, "{name: trace_counts, path: stat}", 1));
  // Sums: 100_3 [3,1,0,2], 100_5 [0,0,4,0], 101_3 [0,2,2,0], 101_5 [2,2,2,2]. Means over the 2 iterations:
  const auto& et = r.setups[0].expert_tokens_mean;
  EXPECT_EQ(et[0], (std::vector<double>{1.5, 1.5, 1.0, 1.0}));
  EXPECT_EQ(et[1], (std::vector<double>{1.0, 1.0, 3.0, 1.0}));
  EXPECT_EQ(r.setups[0].spec.workload.format, "trtllm");
}

// 2 layers x 4 tokens x k 2, as CSV rows and as .npy.
const std::vector<int32_t> kIds = {0, 1, 2, 3, 0, 2, 1, 3,   // layer 0, tokens 0..3
                                   0, 2, 1, 3, 0, 1, 2, 3};  // layer 1
const char* kCsv =
    "layer,token,e0,e1\n0,0,0,1\n0,1,2,3\n0,2,0,2\n0,3,1,3\n\n1,0,0,2\n1,1,1,3\n1,2,0,1\r\n1,3,2,3\n";

TEST(TraceTokens, CsvAndNpyReplayTheRows) {
  TempDir t;
  std::string i4, i8;
  for (int32_t v : kIds) i4 += le_bytes<int32_t>(v), i8 += le_bytes<int64_t>(v);
  for (const auto& [path, format] :
       {std::pair{t.write("a.csv", kCsv), "csv"}, {t.write("a.npy", npy("<i4", "(2, 4, 2)", i4)), "npy"},
        {t.write("b.npy", npy("<i8", "(2, 4, 2)", i8)), "npy"}}) {
    const auto w = make(input("trace_tokens", path, format, 4, 2, 2));
    Assignments a;
    for (int step = 0; step < 2; ++step)
      for (int layer = 0; layer < 2; ++layer) {
        w->replay(step, layer, a);  // tokens 2 * step and 2 * step + 1 of the layer
        const auto first = kIds.begin() + (layer * 4 + step * 2) * 2;
        EXPECT_EQ(a.expert, std::vector<int32_t>(first, first + 4)) << path << " step " << step << " layer " << layer;
        EXPECT_EQ(a.requested, 4);
      }
  }
}

TEST(TraceTokens, PerTokenTrafficFollowsTheTrace) {
  TempDir t;
  t.write("a.csv", kCsv);
  const auto r = run_scenario(scenario(t, "{name: trace_tokens, path: a.csv}", 1));
  // Devices: experts 0-1 on device 0, 2-3 on device 1. Layer 0: step 0 tokens {0,1} {2,3} -> 1 and 1
  // destination devices (mean 1); step 1 {0,2} {1,3} -> 2 and 2 (mean 2). Layer 1: step 0 {0,2} {1,3}
  // -> 2; step 1 {0,1} {2,3} -> 1. Per layer over steps: mean 1.5, max 2.
  for (int l = 0; l < 2; ++l) {
    const Distribution& d = r.setups[0].per_layer[l][static_cast<int>(Metric::dest_devices_per_token)];
    EXPECT_DOUBLE_EQ(d.mean, 1.5);
    EXPECT_DOUBLE_EQ(d.max, 2.0);
  }
  // Layer 0 names every expert twice over the 2 steps (ids 0 1 2 3, then 0 2 1 3): 1 per step each.
  EXPECT_EQ(r.setups[0].expert_tokens_mean[0], (std::vector<double>{1.0, 1.0, 1.0, 1.0}));
}

TEST(Trace, OneAndTwoThreadsIdentical) {
  TempDir t;
  t.write("c.json", kCountsJson);
  t.write("a.csv", kCsv);
  for (const std::string w : {"{name: trace_counts, path: c.json}", "{name: trace_tokens, path: a.csv}"}) {
    const auto r1 = run_scenario(scenario(t, w, 1));
    const auto r2 = run_scenario(scenario(t, w, 2));
    EXPECT_EQ(r1.setups[0].expert_tokens_mean, r2.setups[0].expert_tokens_mean) << w;
    EXPECT_EQ(r1.setups[0].device_assignments_mean, r2.setups[0].device_assignments_mean) << w;
    for (size_t s = 0; s < r1.setups[0].per_step.size(); ++s)
      EXPECT_EQ(r1.setups[0].per_step[s], r2.setups[0].per_step[s]) << w << " step " << s;
  }
}

}  // namespace
}  // namespace moesim
