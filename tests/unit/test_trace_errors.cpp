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
  // Cut after a comma: the next count is missing and the message says so (it used to show a NUL byte).
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[1, 2,)"), p + ": logical_count[0][0][2]: expected a number (got 'end of file')");
  EXPECT_EQ(counts_error(t, "{\"logical_count\": [[[1, 2, \n"), p + ": logical_count[0][0][2]: expected a number (got 'end of file')");
  // A control byte is shown escaped.
  EXPECT_EQ(counts_error(t, std::string(R"({"logical_count": [[[1, )") + '\x01' + "]]]}"),
            p + ": logical_count[0][0][1]: expected a number (got '\\x01')");
  // Hex and a leading '+' are not JSON numbers (strtod alone would take them).
  EXPECT_EQ(counts_error(t, R"({"logical_count": [[[0x10, 1, 1, 1]]]})"),
            p + ": logical_count[0][0][0]: expected a number (got '0x10')");
}

// The object must be well formed: closed, nothing after it, logical_count once.
TEST(TraceErrors, SglangJsonIsStrict) {
  TempDir t;
  const std::string p = (t.dir / "c.json").string();
  const auto one_step = [&](const std::string& json) {  // the error of a 1-step run
    return error_of([&] { make(input("trace_counts", t.write("c.json", json), "sglang_json", 4, 2, 1)); });
  };
  const std::string cell = R"([[[1, 1, 1, 1], [1, 1, 1, 1]]])";  // 1 step x 2 layers x 4 experts
  // {"logical_count": <cell> is 18 + 30 = 48 bytes: the closing brace is missing at byte 48.
  EXPECT_EQ(one_step(R"({"logical_count": )" + cell),
            p + ": expected ',' or '}' closing the JSON object at byte 48 (got 'end of file')");
  // Junk after the object: '}' at byte 48, the 'x' at byte 50 after one space.
  EXPECT_EQ(one_step(R"({"logical_count": )" + cell + "} x"),
            p + ": trailing characters after the JSON object at byte 50 (got 'x')");
  EXPECT_EQ(one_step(R"({"logical_count": )" + cell + R"(, "logical_count": )" + cell + "}"),
            p + ": logical_count: duplicated key: the object names logical_count twice");
  // The well-formed versions open (white space after the object is fine).
  EXPECT_EQ(one_step(R"({"logical_count": )" + cell + "}\n\n"), "(no error)");
}

// A count so large the replay would need ~1e12 / 2 tokens in one batch: refused, naming the cell, instead
// of std::bad_alloc. The bound: 2^21 tokens x top_k 2 = 4194304 hits. 1e12 is over it at the first count.
TEST(TraceErrors, HugeCountsAreRefusedNotAllocated) {
  TempDir t;
  const std::string p = (t.dir / "c.json").string();
  const auto one_step = [&](const std::string& json) {  // the error of a 1-step run
    return error_of([&] { make(input("trace_counts", t.write("c.json", json), "sglang_json", 4, 2, 1)); });
  };
  const std::string limit = "one step and layer would replay as more than 2097152 tokens of top_k 2 (4194304 hits), the "
                            "most moesim replays per step: a corrupt count?";
  EXPECT_EQ(one_step(R"({"logical_count": [[[1e12, 0, 0, 0], [1, 1, 1, 1]]]})"),
            p + ": logical_count[0][0]: " + limit + " (got '1000000000000 expert hits')");
  // The bound is on the sum: 4 x 1048576 = 4194304 is exactly at it (allowed); one more hit is not.
  EXPECT_EQ(one_step(R"({"logical_count": [[[1, 1, 1, 1], [1048576, 1048576, 1048576, 1048576]]]})"), "(no error)");
  EXPECT_EQ(one_step(R"({"logical_count": [[[1, 1, 1, 1], [1048576, 1048576, 1048576, 1048577]]]})"),
            p + ": logical_count[0][1]: " + limit + " (got '4194305 expert hits')");
  // TensorRT-LLM: summed over the rank files: 2^21 + 2^21 on rank 0 (at the bound), + 1 on rank 1.
  t.write("s/meta_info.json", R"({"num_experts": 4, "num_experts_per_token": 2})");
  t.write("s/rank0.safetensors", safetensors({{"0_3", "I64", raw<int64_t>({2097152, 2097152, 0, 0}), 4},
                                              {"0_4", "I64", raw<int64_t>({1, 0, 0, 1}), 4}}));
  t.write("s/rank1.safetensors", safetensors({{"0_3", "I64", raw<int64_t>({0, 0, 0, 1}), 4},
                                              {"0_4", "I64", raw<int64_t>({1, 0, 0, 1}), 4}}));
  EXPECT_EQ(error_of([&] { make(input("trace_counts", (t.dir / "s").string(), "trtllm", 4, 2, 1)); }),
            (t.dir / "s").string() + ": \"0_3\": " + limit + " (got '4194305 expert hits')");
  // trace_tokens cuts steps of run.tokens_per_step tokens: the same bound applies to it.
  WorkloadInput in = input("trace_tokens", t.write("a.csv", "0,0,0,1\n1,0,0,1\n"), "csv", 4, 2, 1);
  in.tokens_per_step = 2097153;
  EXPECT_EQ(error_of([&] { make(in); }),
            "scen.yaml: run.tokens_per_step: trace_tokens replays at most 2097152 tokens per step (got '2097153')");
}

TEST(TraceErrors, StepsAndLayersBeyondTheTrace) {
  TempDir t;
  const std::string p = t.write("c.json", R"({"logical_count": [[[1, 2, 3, 4], [1, 1, 1, 1]]]})");
  // One step in the trace, run.steps 2.
  EXPECT_EQ(error_of([&] { make(input("trace_counts", p, "sglang_json", 4, 2, 2)); }),
            "scen.yaml: run.steps: exceeds the trace " + p + ": it holds 1 steps (got '2')");
  // Two layers in the trace, a model of 3 MoE layers.
  EXPECT_EQ(error_of([&] { make(input("trace_counts", p, "sglang_json", 4, 3, 1)); }),
            p + ": logical_count[0]: the model has 3 MoE layers: a trace must hold one layer per MoE layer; is it a "
                "trace of another model? (got '2 layers')");
  // 4 tokens per layer in steps of 2 tokens: 2 steps; 3 asked for.
  const std::string csv = t.write("a.csv", "0,0,0,1\n0,1,2,3\n0,2,0,2\n0,3,1,3\n1,0,0,2\n1,1,1,3\n1,2,0,1\n1,3,2,3\n");
  EXPECT_EQ(error_of([&] { make(input("trace_tokens", csv, "csv", 4, 2, 3)); }),
            "scen.yaml: run.steps: exceeds the trace " + csv +
                ": it holds 4 tokens per layer, 2 steps of 2 tokens (run.tokens_per_step) (got '3')");
}

// A trace's layers must be the model's MoE layers or all its blocks; any other count is another model's
// trace (it used to replay its first layers silently).
TEST(TraceErrors, LayerCountMustMatchTheModel) {
  TempDir t;
  // 3 layers, 4 experts, 1 step.
  const std::string p = t.write("c.json", R"({"logical_count": [[[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]]})");
  // A model of 2 MoE layers after 2 dense blocks (4 blocks): 3 is neither 2 nor 4.
  WorkloadInput in = input("trace_counts", p, "sglang_json", 4, 2, 1);
  in.model_layers = 4, in.first_dense_layers = 2;
  EXPECT_EQ(error_of([&] { make(in); }),
            p + ": logical_count[0]: the model has 2 MoE layers: a trace must hold one layer per MoE layer or one per "
                "block (4, the 2 leading dense blocks included); is it a trace of another model? (got '3 layers')");
  // A model of 4 MoE layers, one of them simulated (run.layers 1): still another model's trace.
  in = input("trace_counts", p, "sglang_json", 4, 1, 1);
  in.model_layers = 4;
  EXPECT_EQ(error_of([&] { make(in); }),
            p + ": logical_count[0]: the model has 4 MoE layers: a trace must hold one layer per MoE layer; is it a "
                "trace of another model? (got '3 layers')");
  // 3 MoE layers, 1 simulated: fine (the first layer replays).
  in.model_layers = 3;
  EXPECT_EQ(error_of([&] { make(in); }), "(no error)");
  // .npy: the layers are shape[0]; CSV: the layer column.
  std::string ids;
  for (int i = 0; i < 3 * 2; ++i) ids += le_bytes<int32_t>(i % 4);  // rows {0, 1}, {2, 3}, {0, 1}
  const std::string npy_path = t.write("a.npy", npy("<i4", "(3, 1, 2)", ids));
  EXPECT_EQ(error_of([&] { make(input("trace_tokens", npy_path, "npy", 4, 2, 1)); }),
            npy_path + ": shape: the model has 2 MoE layers: a trace must hold one layer per MoE layer; is it a trace "
                       "of another model? (got '3 layers')");
  const std::string csv = t.write("a.csv", "0,0,0,1\n");
  EXPECT_EQ(error_of([&] { make(input("trace_tokens", csv, "csv", 4, 2, 1)); }),
            csv + ": layer: the model has 2 MoE layers: a trace must hold one layer per MoE layer; is it a trace of "
                  "another model? (got '1 layers')");
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
  EXPECT_EQ(err(npy("<i4", "(2, x, 2)", i4)), p + ": shape: expected a tuple of whole numbers (layers, tokens, k) (got '(2, x, 2)')");
}

// The shape is checked before any size is computed: k must be the model's top_k, and layers x tokens x k x
// item bytes must not overflow (2^31 x 2^31 x 8 x 4 = 2^67 bytes used to wrap around and abort).
TEST(TraceErrors, NpyShapeAgainstTheModel) {
  TempDir t;
  const auto err = [&](const std::string& shape, int experts, int top_k) {
    const std::string path = t.write("a.npy", npy("<i4", shape, std::string(64, '\0')));
    WorkloadInput in = input("trace_tokens", path, "npy", experts, 2, 1);
    in.top_k = top_k;
    return error_of([&] { make(in); });
  };
  const std::string p = (t.dir / "a.npy").string();
  EXPECT_EQ(err("(2147483648, 2147483648, 8)", 256, 8),
            p + ": shape: needs more than 2^63 bytes of data, more than any file holds: a corrupt header "
                "(got '(2147483648, 2147483648, 8)')");
  // A k = 6 trace for a top-8 model (it used to be accepted, 6 of 8 slots replayed).
  EXPECT_EQ(err("(2, 4, 6)", 256, 8),
            p + ": shape: k (the last dimension) is 6; the model's top_k is 8: a per-token trace names top_k experts "
                "per token (got '(2, 4, 6)')");
  // A huge k is refused before anything loops over it.
  EXPECT_EQ(err("(2, 4, 1099511627776)", 256, 8),
            p + ": shape: k (the last dimension) is 1099511627776; the model's top_k is 8: a per-token trace names "
                "top_k experts per token (got '(2, 4, 1099511627776)')");
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
  // The model's top_k is 2: a first row of 3 ids is refused.
  EXPECT_EQ(err("layer,token,e0,e1,e2\n0,0,0,1,2\n"),
            p + ": line 2: the model's top_k is 2: every row names top_k experts (-1 for an empty slot) (got '3 expert ids')");
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

// Keys that act through the router or the synthetic logits do nothing for a replayed trace: errors.
TEST(TraceErrors, KeysATraceWouldIgnore) {
  TempDir t;
  t.write("c.json", R"({"logical_count": [[[1, 2, 3, 4]]]})");
  const auto load = [&](const std::string& extra) {
    const std::string s = t.write("scen.yaml", "model: {num_layers: 1, num_experts: 4, top_k: 2, num_groups: 2}\n"
                                               "workload: {name: trace_counts, path: c.json}\n" + extra);
    return error_of([&] { load_scenario(s, {}, builtin_registries()); });
  };
  const std::string s = (t.dir / "scen.yaml").string();
  const std::string bypass = "has no effect with workload trace_counts: a trace replays recorded routing decisions and "
                             "bypasses the router; remove the key";
  EXPECT_EQ(load("router: {bias_update_speed: 0.001}\n"), s + ": router.bias_update_speed: " + bypass + " (got '0.001')");
  EXPECT_EQ(load("setups:\n  - name: a\n    router: {name: moge, groups: 2, voted_experts: 1}\n"),
            s + ": setups[0].router.voted_experts: " + bypass + " (got '1')");
  EXPECT_EQ(load("setups:\n  - name: a\n    workload: {drift: 0.1}\n"),
            s + ": setups[0].workload.drift: only the synthetic workload reads it: trace_counts replays the trace as "
                "recorded; remove the key (got '0.1')");
  // A synthetic setup beside the trace setup keeps its keys.
  EXPECT_EQ(load("setups:\n  - name: trace\n  - name: synth\n    workload: {name: synthetic, path: '', drift: 0.1}\n"),
            "(no error)");
}

}  // namespace
}  // namespace moesim
