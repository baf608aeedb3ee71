// scripts/sglang-pt-to-json under python3, with a stand-in `torch` module written here: its torch.load
// evaluates a Python literal in which T([...]) builds a tensor (shape, dim, unsqueeze, indexing, tolist:
// what the script uses), so each test states the dump SGLang would write, in the structure of
// sglang/srt/eplb/expert_distribution.py (stat: {"logical_count": [steps, layers, experts], ...};
// per_token: {"records": [{"forward_pass_id", "rank", "topk_ids_of_layer": [layers, tokens, 8]}, ...],
// "last_physical_to_logical_map": [layers, physical]}). The outputs are checked byte for byte and read
// back through moesim's own trace readers. Skipped when python3 is not installed.
#include "support/trace_files.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <sstream>

namespace moesim {
namespace {

using namespace test_traces;

const char* kFakeTorch = R"(# A stand-in for torch: just what scripts/sglang-pt-to-json calls.
class Tensor:
    def __init__(self, data):
        self._d = data
    @property
    def shape(self):
        s, d = [], self._d
        while isinstance(d, list):
            s.append(len(d))
            d = d[0] if d else None
        return tuple(s)
    def dim(self):
        return len(self.shape)
    def unsqueeze(self, i):
        assert i == 0
        return Tensor([self._d])
    def __getitem__(self, i):
        return Tensor(self._d[i])
    def tolist(self):
        return self._d

def load(path, map_location=None, weights_only=None):
    with open(path) as f:
        return eval(f.read(), {"T": Tensor})
)";

bool have_python3() { return std::system("command -v python3 >/dev/null 2>&1") == 0; }

struct ScriptRun {
  int rc = -1;
  std::string out, err;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// python3 scripts/sglang-pt-to-json ARGS, with the fake torch package in `torch_dir` first on PYTHONPATH.
ScriptRun convert(const TempDir& t, const std::string& args, const std::string& torch_init = kFakeTorch) {
  t.write("py/torch/__init__.py", torch_init);
  const std::string script = std::string(MOESIM_SOURCE_DIR) + "/scripts/sglang-pt-to-json";
  const fs::path out = t.dir / "stdout", err = t.dir / "stderr";
  const std::string cmd = "cd '" + t.dir.string() + "' && PYTHONPATH='" + (t.dir / "py").string() + "' python3 '" + script +
                          "' " + args + " >'" + out.string() + "' 2>'" + err.string() + "'";
  const int status = std::system(cmd.c_str());
  ScriptRun r;
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out), r.err = read_file(err);
  return r;
}

TEST(TraceConvert, StatDumpBecomesLogicalCountJson) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed: scripts/sglang-pt-to-json cannot run";
  TempDir t;
  t.write("dump.pt", R"({"rank": 0, "logical_count": T([[[3, 1, 0, 2], [1, 1, 1, 1]], [[0, 0, 4, 0], [2, 2, 0, 0]]]),
                       "average_utilization_rate_over_window": None})");
  const ScriptRun r = convert(t, "dump.pt");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string json = (t.dir / "dump.json").string();  // default: the input with .json
  EXPECT_EQ(r.out, "dump.json: logical_count [2, 2, 4] (steps, layers, experts)\n");  // run in t.dir
  // One step per json.dumps of its [layers][experts] list, joined by ','.
  EXPECT_EQ(read_file(json), "{\"logical_count\": [[[3, 1, 0, 2], [1, 1, 1, 1]],[[0, 0, 4, 0], [2, 2, 0, 0]]]}\n");
  // moesim replays it: step 1, layer 0 counts [0, 0, 4, 0] at top-2 -> 2 tokens, both {2, 2}.
  const auto w = make(input("trace_counts", json, "sglang_json", 4, 2, 2));
  Assignments a;
  w->replay(1, 0, a);
  EXPECT_EQ(a.expert, (std::vector<int32_t>{2, 2, 2, 2}));
  // One step dumped as [layers, experts] is read as [1, layers, experts]; an explicit output name is used.
  t.write("one.pt", R"({"logical_count": T([[1, 2, 3, 4], [4, 3, 2, 1]])})");
  ASSERT_EQ(convert(t, "one.pt out.json").rc, 0);
  EXPECT_EQ(read_file(t.dir / "out.json"), "{\"logical_count\": [[[1, 2, 3, 4], [4, 3, 2, 1]]]}\n");
}

// Two rank files of a per_token dump of a 2-layer model with 4 logical experts and 5 physical ones:
// rank 0 maps physical 4 to logical 0, rank 1 maps it to logical 1. Records sort by (forward_pass_id,
// rank): rank 0 pass 0 (2 tokens), rank 1 pass 0 (1 token), rank 0 pass 1 (1 token) - rank 0's file
// lists pass 1 first. Every token has 8 slots, the last 6 always -1: k = 2.
//   layer 0: r0p0 [0, 1] [2, 4->0]   r1p0 [2, 3]        r0p1 [1, 3]
//   layer 1: r0p0 [3, 2] [1, 0]      r1p0 [4->1, 2]     r0p1 [4->0, 1]
TEST(TraceConvert, PerTokenDumpBecomesNpy) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed: scripts/sglang-pt-to-json cannot run";
  TempDir t;
  const std::string pad = ", -1, -1, -1, -1, -1, -1]";
  const auto row = [&](int a, int b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + pad; };
  t.write("r0.pt", "{\"records\": [\n"
                   "  {\"forward_pass_id\": 1, \"rank\": 0, \"topk_ids_of_layer\": T([[" + row(1, 3) + "], [" + row(4, 1) + "]])},\n"
                   "  {\"forward_pass_id\": 0, \"rank\": 0, \"topk_ids_of_layer\": T([[" + row(0, 1) + ", " + row(2, 4) + "], [" +
                       row(3, 2) + ", " + row(1, 0) + "]])}],\n"
                   " \"last_physical_to_logical_map\": T([[0, 1, 2, 3, 0], [0, 1, 2, 3, 0]])}\n");
  t.write("r1.pt", "{\"records\": [{\"forward_pass_id\": 0, \"rank\": 1, \"topk_ids_of_layer\": T([[" + row(2, 3) + "], [" +
                       row(4, 2) + "]])}],\n \"last_physical_to_logical_map\": T([[0, 1, 2, 3, 1], [0, 1, 2, 3, 1]])}\n");
  const ScriptRun r = convert(t, "r0.pt r1.pt ids.npy");
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string npy_path = (t.dir / "ids.npy").string();
  EXPECT_EQ(r.out, "ids.npy: topk ids [2, 4, 2] (layers, tokens, k) from 3 records\n");
  std::string data;
  for (int32_t v : {0, 1, 2, 0, 2, 3, 1, 3, /* layer 1 */ 3, 2, 1, 0, 1, 2, 0, 1}) data += le_bytes<int32_t>(v);
  EXPECT_EQ(read_file(npy_path), npy("<i4", "(2, 4, 2)", data));  // the header numpy itself writes
  // moesim replays it (top-2, 2 tokens per step): step 1 at layer 1 is tokens 2 and 3: [1, 2], [0, 1].
  const auto w = make(input("trace_tokens", npy_path, "npy", 4, 2, 2));
  Assignments a;
  w->replay(1, 1, a);
  EXPECT_EQ(a.expert, (std::vector<int32_t>{1, 2, 0, 1}));
}

TEST(TraceConvert, ErrorsExitNonZeroWithAMessage) {
  if (!have_python3()) GTEST_SKIP() << "python3 is not installed: scripts/sglang-pt-to-json cannot run";
  TempDir t;
  t.write("other.pt", R"({"state_dict": {}})");
  ScriptRun r = convert(t, "other.pt");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "sglang-pt-to-json: other.pt: not an expert-distribution dump: expected a dict with 'logical_count' "
                   "(stat mode) or 'records' (per_token mode)\n");
  t.write("stat.pt", R"({"logical_count": T([[[1, 2]]])})");
  r = convert(t, "stat.pt out.npy");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "sglang-pt-to-json: out.npy: a stat dump converts to .json\n");
  EXPECT_FALSE(fs::exists(t.dir / "out.npy"));
  // No torch at all: the script says what to install.
  r = convert(t, "stat.pt", "raise ImportError('no torch here')\n");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("PyTorch is needed to read a .pt file"), std::string::npos) << r.err;
  EXPECT_EQ(convert(t, "").rc, 2);  // usage
  t.write("empty.pt", R"({"records": []})");
  r = convert(t, "empty.pt");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "sglang-pt-to-json: empty.pt: the per_token dump has no records\n");
  // An id beyond the physical-to-logical map fails while the output is being written (layer 1 comes after
  // layer 0 was written): no output and no temporary file are left behind.
  t.write("bad.pt", R"({"records": [{"topk_ids_of_layer": T([[[0, 1]], [[0, 7]]])}],
                        "last_physical_to_logical_map": T([[0, 1, 2], [0, 1, 2]])})");
  r = convert(t, "bad.pt");
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(r.err, "sglang-pt-to-json: layer 1: physical expert id 7 is not in last_physical_to_logical_map (3 physical "
                   "experts)\n");
  EXPECT_FALSE(fs::exists(t.dir / "bad.npy"));
  for (const auto& e : fs::directory_iterator(t.dir))
    EXPECT_NE(e.path().filename().string().rfind(".sglang-pt-to-json-", 0), 0u) << e.path();
}

}  // namespace
}  // namespace moesim
