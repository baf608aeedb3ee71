// ARS-5 (workload/ars.hpp): the software AES rounds against FIPS-197's published AES-128 example, the
// whole generator against Random123's own ars4x32 (Debian's librandom123-dev, AES-NI), and the AES-NI
// path against the software one.
#include "workload/ars.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC push_options
#pragma GCC target("aes,sse4.1")
// The pragma enables the instructions but not the __AES__ macro Random123's feature test reads.
#define R123_USE_AES_NI 1
#include <Random123/ars.h>
namespace {
#if R123_USE_AES_NI
constexpr bool kHaveRandom123Ars = true;
moesim::ars::Block random123_ars4x32(const moesim::ars::Block& ctr, const moesim::ars::Block& key) {
  using Ars = r123::ARS4x32_R<moesim::ars::kRounds>;
  const Ars::ctr_type c = {{ctr[0], ctr[1], ctr[2], ctr[3]}};
  const Ars::key_type k = {{key[0], key[1], key[2], key[3]}};
  const Ars::ctr_type r = Ars()(c, k);
  return {r[0], r[1], r[2], r[3]};
}
#else
constexpr bool kHaveRandom123Ars = false;
moesim::ars::Block random123_ars4x32(const moesim::ars::Block&, const moesim::ars::Block&) { return {}; }
#endif
}  // namespace
#pragma GCC pop_options
#else
namespace {
constexpr bool kHaveRandom123Ars = false;
moesim::ars::Block random123_ars4x32(const moesim::ars::Block&, const moesim::ars::Block&) { return {}; }
}  // namespace
#endif

namespace moesim {
namespace {

// 16 bytes (FIPS-197 order: byte 0 first) as the four little-endian words of a block.
ars::Block from_bytes(const uint8_t (&b)[16]) {
  ars::Block w{};
  for (int i = 0; i < 16; ++i) w[static_cast<size_t>(i / 4)] |= uint32_t{b[i]} << (8 * (i % 4));
  return w;
}

// AES-128 key expansion (FIPS-197 section 5.2) on little-endian words: RotWord is a right rotation by
// 8 bits, Rcon xors the low byte.
std::vector<ars::Block> aes128_round_keys(const ars::Block& key) {
  const uint8_t rcon[10] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36};
  std::vector<uint32_t> w(key.begin(), key.end());
  for (int i = 4; i < 44; ++i) {
    uint32_t t = w[static_cast<size_t>(i - 1)];
    if (i % 4 == 0) {
      t = (t >> 8) | (t << 24);
      uint32_t s = 0;
      for (int b = 0; b < 4; ++b) s |= uint32_t{ars::detail::kSbox[(t >> (8 * b)) & 0xff]} << (8 * b);
      t = s ^ rcon[i / 4 - 1];
    }
    w.push_back(w[static_cast<size_t>(i - 4)] ^ t);
  }
  std::vector<ars::Block> rk(11);
  for (int r = 0; r < 11; ++r)
    for (int j = 0; j < 4; ++j) rk[static_cast<size_t>(r)][static_cast<size_t>(j)] = w[static_cast<size_t>(4 * r + j)];
  return rk;
}

// FIPS-197 Appendix C.1 (AES-128): key 00 01 .. 0f, plaintext 00 11 22 .. ff, ciphertext
// 69 c4 e0 d8 6a 7b 04 30 d8 cd b7 80 70 b4 c5 5a. Nine aes_round calls and one aes_last_round after the
// initial AddRoundKey are the cipher, so this checks SubBytes, ShiftRows, MixColumns and the byte order.
TEST(Ars, SoftwareRoundsGiveFips197Aes128Example) {
  const uint8_t key[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f};
  const uint8_t plain[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  const uint8_t cipher[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
  const std::vector<ars::Block> rk = aes128_round_keys(from_bytes(key));
  // FIPS-197 Appendix A.1: the last round key of this key is 13 11 1d 7f e3 94 4a 17 f3 07 a7 8b 4d 2b 30 c5.
  const uint8_t last_key[16] = {0x13, 0x11, 0x1d, 0x7f, 0xe3, 0x94, 0x4a, 0x17, 0xf3, 0x07, 0xa7, 0x8b, 0x4d, 0x2b, 0x30, 0xc5};
  ASSERT_EQ(rk[10], from_bytes(last_key));
  ars::Block s = from_bytes(plain);
  for (int j = 0; j < 4; ++j) s[static_cast<size_t>(j)] ^= rk[0][static_cast<size_t>(j)];
  for (int r = 1; r < 10; ++r) s = ars::aes_round(s, rk[static_cast<size_t>(r)]);
  EXPECT_EQ(ars::aes_last_round(s, rk[10]), from_bytes(cipher));
}

// Key schedule of ARS: round key i is the key plus i times the Weyl pair, as two 64-bit additions with
// carries across the 32-bit words and wrap-around at 2^64.
TEST(Ars, RoundKeysAreWeylSteps) {
  const ars::RoundKeys rk = ars::round_keys({0xffffffffu, 0xffffffffu, 1u, 0u});
  // low half: 2^64 - 1 + 0x9E3779B97F4A7C15 = 0x9E3779B97F4A7C14 (mod 2^64); high: 1 + 0xBB67AE8584CAA73B.
  EXPECT_EQ(rk[1], (ars::Block{0x7F4A7C14u, 0x9E3779B9u, 0x84CAA73Cu, 0xBB67AE85u}));
  // i = 5, the last: 2^64 - 1 + 5 * 0x9E3779B97F4A7C15 = 0x1715609F7C746C68 (mod 2^64); high half
  // 1 + 5 * 0xBB67AE8584CAA73B = 0xA906689B97F54428 (mod 2^64).
  EXPECT_EQ(rk[5], (ars::Block{0x7C746C68u, 0x1715609Fu, 0x97F54428u, 0xA906689Bu}));
}

std::vector<ars::Block> sample_blocks() {
  std::vector<ars::Block> out = {{0, 0, 0, 0}, {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, {1, 2, 3, 4}};
  uint64_t x = 0x243F6A8885A308D3ULL;  // splitmix-style walk over the 128-bit space
  for (int i = 0; i < 200; ++i) {
    ars::Block b{};
    for (auto& w : b) {
      x += 0x9E3779B97F4A7C15ULL;
      w = static_cast<uint32_t>((x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ULL >> 32);
    }
    out.push_back(b);
  }
  return out;
}

// The whole of ARS-5 against Random123's ARS4x32_R<5> on counters and keys with every bit pattern class:
// the software definition is the published generator.
TEST(Ars, PortableMatchesRandom123) {
  if (!kHaveRandom123Ars || !ars::aesni_supported()) GTEST_SKIP() << "no AES-NI: Random123's ARS cannot run here";
  const std::vector<ars::Block> blocks = sample_blocks();
  for (size_t i = 0; i + 1 < blocks.size(); ++i) {
    const ars::Block& ctr = blocks[i];
    const ars::Block& key = blocks[i + 1];
    ASSERT_EQ(ars::ars_portable(ctr, ars::round_keys(key)), random123_ars4x32(ctr, key)) << "sample " << i;
  }
}

// The AES-NI path of ars_counters gives the software rounds' words, for 1 .. 16 counters and a counter
// that wraps at 2^32.
TEST(Ars, AesniMatchesPortable) {
  if (!ars::aesni_supported()) GTEST_SKIP() << "no AES-NI on this CPU";
  const ars::RoundKeys rk = ars::round_keys({0x89abcdefu, 0x01234567u, 5u, 6u});
  for (int n = 1; n <= 16; ++n) {
    for (uint32_t q0 : {0u, 77u, 0xfffffff8u}) {
      uint32_t out[64] = {};
      ars::ars_counters_aesni(q0, 0xdeadbeefu, 3u, 0x80000000u, rk, n, out);
      for (int i = 0; i < n; ++i) {
        const ars::Block ref = ars::ars_portable({q0 + static_cast<uint32_t>(i), 0xdeadbeefu, 3u, 0x80000000u}, rk);
        for (int j = 0; j < 4; ++j) ASSERT_EQ(out[4 * i + j], ref[static_cast<size_t>(j)]) << "n " << n << " counter " << i;
      }
    }
  }
}

}  // namespace
}  // namespace moesim
