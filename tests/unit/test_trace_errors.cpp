// Bad trace inputs: each gives moesim::Error naming the file, the field and the bad value; the tests
// assert the exact messages ("<file>: <field>: <problem> (got '<value>')").
#include "support/trace_files.hpp"

#include <gtest/gtest.h>

namespace moesim {
namespace {

using namespace test_traces;

// The error of opening `bytes` written as `name`, read as `format` by `workload` (4 experts, 2 layers, 2 steps).
std::string open_error(const TempDir& t, const std::string& workload, const std::string& format,
                       const std::string& name, const std::string& bytes) {
  const std::string path = t.write(name, bytes);
  return error_of([&] { make(input(workload, path, format, 4, 2, 2)); });
}

std::string counts_error(const TempDir& t, const std::string& json) {
  return open_error(t, "trace_counts", "sglang_json", "c.json", json);
}

TEST(TraceErrors, SglangJson) {
  TempDir t;
  const std::string p = (t.dir / "c.json").string();
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, NaN, 0], [1, 1, 1, 1]]]})"),
            p + ": logical_count[0][0][2]: expert count is NaN (got 'NaN')");
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, 3, 0], [1, -1, 1, 1]]]})"),
            p + ": logical_count[0][1][1]: expert count is negative (got '-1')");
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2.5, 3, 0], [1, 1, 1, 1]]]})"),
            p + ": logical_count[0][0][1]: expert count is not a whole number (got '2.5')");
  // 3 experts per layer, the model has 4.
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, 3], [1, 1, 1]], [[1, 2, 3], [1, 1, 1]]]})"),
            p + ": logical_count[0][0]: the model has 4 routed experts; the trace must count each of them (got '3 experts')");
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, 3, 4], [1, 1, 1]]]})"),
            p + ": logical_count[0][1]: has a different number of experts than logical_count[0][0] (4) (got '3')");
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, 3, 4], [1, 1, 1, 1]], [[1, 2, 3, 4]]]})"),
            p + ": logical_count[1]: has a different number of layers than logical_count[0] (2) (got '1')");
  EXPECT_EQ(counts_error(t, R"({"count": []})"),
            p + ": logical_count: missing key: expected {\"logical_count\": [steps][layers][experts]}");
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2, 3, 4], [1, 1, 1, 1]])"),
            p + ": logical_count: expected ']' at byte 47 (got 'end of file')");
}

TEST(TraceErrors, StepsAndLayersBeyondTheTrace) {
  TempDir t;
  const std::string p = t.write("c.json", R"({"logical_count": [[[1, 2, 3, 4], [1, 1, 1, 1]]]})");
  // One step in the trace, run.steps 2.
  EXPECT_EQ(error_of([&] { make(input("trace_counts", p, "sglang_json", 4, 2, 2)); }),
            "scen.yaml: run.steps: exceeds the trace " + p + ": it holds 1 steps (got '2')");
  // Two layers in the trace, 3 simulated.
  EXPECT_EQ(error_of([&] { make(input("trace_counts", p, "sglang_json", 4, 3, 1)); }),
            "scen.yaml: run.layers: more MoE layers simulated than the trace " + p +
                " holds (2); set run.layers to at most 2 (got '3')");
  // 4 tokens per layer in steps of 2 tokens: 2 steps; 3 asked for.
  const std::string csv = t.write("a.csv", "0,0,0,1\n0,1,2,3\n0,2,0,2\n0,3,1,3\n1,0,0,2\n1,1,1,3\n1,2,0,1\n1,3,2,3\n");
  EXPECT_EQ(error_of([&] { make(input("trace_tokens", csv, "csv", 4, 2, 3)); }),
            "scen.yaml: run.steps: exceeds the trace " + csv +
                ": it holds 4 tokens per layer, 2 steps of 2 tokens (run.tokens_per_step) (got '3')");
}

TEST(TraceErrors, Safetensors) {
  TempDir t;
  t.write("s/meta_info.json", R"({"num_experts": 4, "num_experts_per_token": 2})");
  const std::string p = (t.dir / "s" / "rank0.safetensors").string();
  const auto err = [&](const std::string& bytes) { return open_error(t, "trace_counts", "trtllm", "s/rank0.safetensors", bytes); };
  const std::string good = safetensors({{"0_3", "I64", raw<int64_t>({1, 0, 0, 1}), 4}});
  // Header length 1000, file 8 + 4 bytes.
  EXPECT_EQ(err(le_bytes<uint64_t>(1000) + "{}  "),
            p + ": header length: exceeds the file's 12 bytes: truncated safetensors (got '1000')");
  EXPECT_EQ(err("abc"), p + ": header length: the file has 3 bytes, fewer than the 8-byte header length: truncated safetensors");
  // The last 8 bytes of data cut off: data_offsets [0, 32] beyond the 24 data bytes left.
  EXPECT_EQ(err(good.substr(0, good.size() - 8)),
            p + ": 0_3.data_offsets: beyond the file's 24 data bytes: truncated safetensors (got '[0,32]')");
  EXPECT_EQ(err(safetensors({{"0_3", "I64", raw<int64_t>({1, 0, 0, 1, 0}), 5}})),
            p + ": 0_3.shape: expected [4]: one count per expert (meta_info.json num_experts) (got '[5]')");
  EXPECT_EQ(err(safetensors({{"0_3", "I64", raw<int64_t>({1, -2, 0, 1}), 4}})),
            p + ": 0_3[1]: expert count is negative (got '-2')");
  EXPECT_EQ(err(safetensors({{"0_3", "F32", raw<float>({1, 0, NAN, 1}), 4}})),
            p + ": 0_3[2]: expert count is NaN (got 'nan')");
  EXPECT_EQ(err(safetensors({{"0_3", "F16", raw<int16_t>({1, 0, 0, 1}), 4}})),
            p + ": 0_3.dtype: unsupported dtype; expected I32, I64 or F32 (got 'F16')");
  EXPECT_EQ(err(safetensors({{"layer3", "I64", raw<int64_t>({1, 0, 0, 1}), 4}})),
            p + ": layer3: expected a tensor named \"{iter}_{layer}\" (got 'layer3')");
  // Iteration 1 lacks layer 3.
  EXPECT_EQ(err(safetensors({{"0_3", "I64", raw<int64_t>({1, 0, 0, 1}), 4}, {"0_4", "I64", raw<int64_t>({1, 0, 0, 1}), 4},
                             {"1_4", "I64", raw<int64_t>({1, 0, 0, 1}), 4}})),
            (t.dir / "s").string() + ": \"1_3\": missing tensor: iterations must be consecutive and hold every layer");
}

TEST(TraceErrors, TrtllmMetaInfo) {
  TempDir t;
  t.write("s/rank0.safetensors", safetensors({{"0_3", "I64", raw<int64_t>({1, 0, 0, 1}), 4}}));
  const std::string m = (t.dir / "s" / "meta_info.json").string();
  const auto err = [&](const std::string& meta) { return open_error(t, "trace_counts", "trtllm", "s/meta_info.json", meta); };
  EXPECT_EQ(err(R"({"num_experts": 8})"), m + ": num_experts: the model has 4 routed experts (got '8')");
  EXPECT_EQ(err(R"({"num_experts": 4, "num_experts_per_token": 4})"),
            m + ": num_experts_per_token: differs from the model's top_k (2) (got '4')");
  EXPECT_EQ(err(R"({"experts": 4})"), m + ": num_experts: missing required key");
}

TEST(TraceErrors, Npy) {
  TempDir t;
  const std::string p = (t.dir / "a.npy").string();
  const auto err = [&](const std::string& bytes) { return open_error(t, "trace_tokens", "npy", "a.npy", bytes); };
  std::string i4;
  for (int32_t v : {0, 1, 2, 3, 0, 2, 1, 3, 0, 2, 1, 3, 0, 1, 2, 3}) i4 += le_bytes<int32_t>(v);
  EXPECT_EQ(err(npy("<f4", "(2, 4, 2)", i4)), p + ": descr: expected int32 or int64 expert ids ('<i4' or '<i8') (got '<f4')");
  EXPECT_EQ(err(npy("<i4", "(8, 2)", i4)), p + ": shape: expected 3 dimensions [layers, tokens, k] (got '(8, 2)')");
  EXPECT_EQ(err(npy("<i4", "(2, 4, 2)", i4.substr(4))),
            p + ": data: shape [2, 4, 2] needs 64 bytes: truncated .npy (got '60 bytes')");
  std::string bad = i4;
  bad.replace(4 * 13, 4, le_bytes<int32_t>(9));  // layer 1, token 2, slot 1
  EXPECT_EQ(err(npy("<i4", "(2, 4, 2)", bad)), p + ": [1, 2], e1: expected an expert id in [0, 4) or -1 (no expert) (got '9')");
  EXPECT_EQ(err("PK\x03\x04 not numpy"), p + ": magic: not a .npy file (expected \\x93NUMPY)");
}

TEST(TraceErrors, Csv) {
  TempDir t;
  const std::string p = (t.dir / "a.csv").string();
  const auto err = [&](const std::string& text) { return open_error(t, "trace_tokens", "csv", "a.csv", text); };
  EXPECT_EQ(err("layer,token,e0,e1\n0,0,0,1\n0,1,2,7\n"),
            p + ": line 3, e1: expected an expert id in [0, 4) or -1 (no expert) (got '7')");
  EXPECT_EQ(err("0,0,0,1\n0,1,2,2\n"), p + ": line 2, e1: expert repeated in one token's row (got '2')");
  EXPECT_EQ(err("0,0,0,1\n0,2,2,3\n"),
            p + ": line 2: rows must run layer by layer from 0, tokens 0, 1, 2, ... within each layer; expected layer 0 token 1 (got '0,2')");
  EXPECT_EQ(err("0,0,0,1\n0,1,2,3\n1,0,0,1\n"),
            p + ": line 3: layer 1 has a different number of tokens than layer 0 (2) (got '1 tokens')");
  EXPECT_EQ(err("0,0,0,1\n0,1,2,x\n"), p + ": line 2: expected integers: layer,token,e0,e1,... (got 'x')");
  EXPECT_EQ(err("0,0,0,1\n0,1,2\n"), p + ": line 2: every row must have the same k as the first (2) (got '1 expert ids')");
}

TEST(TraceErrors, UnknownFormat) {
  TempDir t;
  const std::string p = t.write("c.json", R"({"logical_count": [[[1, 2, 3, 4]]]})");
  EXPECT_EQ(error_of([&] { make(input("trace_counts", p, "parquet", 4, 1, 1)); }),
            p + ": format: unknown trace format for trace_counts; valid: sglang_json, trtllm (got 'parquet')");
}

// Config: the workload's path and format keys.
TEST(TraceErrors, ScenarioKeys) {
  TempDir t;
  t.write("c.json", R"({"logical_count": [[[1, 2, 3, 4]]]})");
  const auto load = [&](const std::string& workload) {
    const std::string s = t.write("scen.yaml", "model: {num_layers: 1, num_experts: 4, top_k: 2}\nworkload: " + workload + "\n");
    return error_of([&] { load_scenario(s, {}, builtin_registries()); });
  };
  const std::string s = (t.dir / "scen.yaml").string();
  EXPECT_EQ(load("{name: trace_counts, path: nope.json}"),
            s + ": workload.path: no such file or directory (" + (t.dir / "nope.json").string() + ") (got 'nope.json')");
  EXPECT_EQ(load("{name: trace_counts}"), s + ": workload.path: missing required key: the trace that trace_counts replays");
  EXPECT_EQ(load("{name: trace_counts, path: c.json, format: parquet}"),
            s + ": workload.format: expected one of: sglang_json, trtllm, csv, npy (got 'parquet')");
  EXPECT_EQ(load("{name: trace_tokens, path: c.json}"),
            s + ": workload.format: trace_tokens replays per-token expert ids: format csv or npy (got 'sglang_json')");
  EXPECT_EQ(load("{name: synthetic, path: c.json}"),
            s + ": workload.path: only the trace workloads (trace_counts, trace_tokens) read a file (got 'c.json')");
  EXPECT_EQ(load("{name: trace_counts, path: scen.yaml}"),
            s + ": workload.path: cannot tell the trace format from the name; set format (sglang_json, trtllm, csv, npy) (got 'scen.yaml')");
}

}  // namespace
}  // namespace moesim
