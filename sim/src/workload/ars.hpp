// workload/ars.hpp (internal): ARS-5, the counter-based generator of the synthetic logits' noise.
//
// ARS ("AES Randomized Series", Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1,
// 2, 3", SC'11; Random123's ars.h) is the AES round function with a Weyl-sequence key schedule: for a
// 128-bit counter c and key k, v = c ^ k, then four rounds v = aesenc(v, k + i w) for i = 1 .. 4 and
// v = aesenclast(v, k + 5 w), with w = (0x9E3779B97F4A7C15, 0xBB67AE8584CAA73B) added as two 64-bit
// halves. Five rounds: Random123's authors "know of no statistical flaws with ROUNDS=5 or more" (ars.h,
// ARS1xm128i_R); their default of 7 is a safety margin over that, and 5 is what Intel's oneMKL ships as
// its ARS5 generator. The two rounds saved are 10% of the AVX-512 generator's time (the AES rounds run
// on one port of Intel cores, with its logs' VGETEXPPS and VGETMANTPS): 7.4 -> 8.1 M tokens/s at 256
// experts (bench/README.md). One AES round is one instruction on x86-64 (AES-NI; four blocks per
// instruction with VAES on 512-bit registers), against the 10 rounds of multiplies of Philox4x32-10.
//
// Here: the portable definition (the AES round in software, FIPS-197 section 5.1: SubBytes, ShiftRows,
// MixColumns, AddRoundKey), bit-for-bit the instructions' results (tests/unit/test_ars.cpp checks the
// FIPS-197 AES-128 example and Random123's ars4x32), and the dispatch to the AES-NI twin (ars_aesni.cpp).
// Blocks are four 32-bit words, word j holding bytes 4 j .. 4 j + 3 of the 128-bit value in little-endian
// order, as _mm_set_epi32(w3, w2, w1, w0) lays them out.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace moesim::ars {

using Block = std::array<uint32_t, 4>;

inline constexpr int kRounds = 5;  // Random123's ARS1xm128i_R<5> (its default, ARS1xm128i, is 7)
// The Weyl increments of the key schedule (ars.h: the golden ratio and sqrt(3) - 1 as 64-bit fractions),
// added to the low and the high 64 bits of the key.
inline constexpr uint64_t kWeylLo = 0x9E3779B97F4A7C15ULL, kWeylHi = 0xBB67AE8584CAA73BULL;

// The round keys k + i w, i = 0 .. kRounds (round_keys[0] is the key itself).
using RoundKeys = std::array<Block, kRounds + 1>;
inline RoundKeys round_keys(const Block& key) {
  uint64_t lo = key[0] | (uint64_t{key[1]} << 32), hi = key[2] | (uint64_t{key[3]} << 32);
  RoundKeys rk{};
  for (int i = 0; i <= kRounds; ++i) {
    rk[static_cast<std::size_t>(i)] = {static_cast<uint32_t>(lo), static_cast<uint32_t>(lo >> 32), static_cast<uint32_t>(hi),
                                  static_cast<uint32_t>(hi >> 32)};
    lo += kWeylLo;
    hi += kWeylHi;
  }
  return rk;
}

namespace detail {

// The AES S-box (FIPS-197 section 5.1.1): the multiplicative inverse in GF(2^8) modulo x^8 + x^4 + x^3 +
// x + 1, then the affine map b ^ rotl(b, 1) ^ rotl(b, 2) ^ rotl(b, 3) ^ rotl(b, 4) ^ 0x63. Built by walking
// the powers of the generator 3 and of its inverse together (p 3^i, q 3^-i). S(0x00) = 0x63, S(0x53) =
// 0xED (FIPS-197's example).
constexpr std::array<uint8_t, 256> make_sbox() {
  std::array<uint8_t, 256> s{};
  const auto rotl8 = [](uint8_t x, int k) { return static_cast<uint8_t>((x << k) | (x >> (8 - k))); };
  uint8_t p = 1, q = 1;
  do {
    p = static_cast<uint8_t>(p ^ (p << 1) ^ ((p & 0x80) ? 0x1B : 0));  // p * 3
    q = static_cast<uint8_t>(q ^ (q << 1));                           // q / 3: q * 0xF6
    q = static_cast<uint8_t>(q ^ (q << 2));
    q = static_cast<uint8_t>(q ^ (q << 4));
    if (q & 0x80) q = static_cast<uint8_t>(q ^ 0x09);
    s[p] = static_cast<uint8_t>(q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63);
  } while (p != 1);
  s[0] = 0x63;  // 0 has no inverse: the affine map of 0
  return s;
}
inline constexpr std::array<uint8_t, 256> kSbox = make_sbox();
static_assert(kSbox[0x00] == 0x63 && kSbox[0x53] == 0xED && kSbox[0x01] == 0x7C && kSbox[0xFF] == 0x16);

constexpr uint8_t xtime(uint8_t a) { return static_cast<uint8_t>((a << 1) ^ ((a & 0x80) ? 0x1B : 0)); }

// Byte r (row) of column c of the state.
constexpr uint8_t byte_of(const Block& s, int r, int c) { return static_cast<uint8_t>(s[static_cast<std::size_t>(c & 3)] >> (8 * r)); }

}  // namespace detail

// One AES encryption round, as AESENC: ShiftRows (row r moves left by r columns), SubBytes, MixColumns,
// then the round key xored in.
constexpr Block aes_round(const Block& s, const Block& rk) {
  Block out{};
  for (int c = 0; c < 4; ++c) {
    uint8_t a[4];
    for (int r = 0; r < 4; ++r) a[r] = detail::kSbox[detail::byte_of(s, r, c + r)];
    // MixColumns: b_r = 2 a_r ^ 3 a_{r+1} ^ a_{r+2} ^ a_{r+3} (indices mod 4).
    uint32_t col = 0;
    for (int r = 0; r < 4; ++r) {
      const uint8_t a1 = a[(r + 1) & 3];
      const uint8_t b = static_cast<uint8_t>(detail::xtime(a[r]) ^ detail::xtime(a1) ^ a1 ^ a[(r + 2) & 3] ^ a[(r + 3) & 3]);
      col |= uint32_t{b} << (8 * r);
    }
    out[static_cast<std::size_t>(c)] = col ^ rk[static_cast<std::size_t>(c)];
  }
  return out;
}

// The last AES round, as AESENCLAST: ShiftRows, SubBytes and the round key, no MixColumns.
constexpr Block aes_last_round(const Block& s, const Block& rk) {
  Block out{};
  for (int c = 0; c < 4; ++c) {
    uint32_t col = 0;
    for (int r = 0; r < 4; ++r) col |= uint32_t{detail::kSbox[detail::byte_of(s, r, c + r)]} << (8 * r);
    out[static_cast<std::size_t>(c)] = col ^ rk[static_cast<std::size_t>(c)];
  }
  return out;
}

// ARS-5 of one counter, in software (the reference the instruction paths are tested against).
constexpr Block ars_portable(const Block& ctr, const RoundKeys& rk) {
  Block v{ctr[0] ^ rk[0][0], ctr[1] ^ rk[0][1], ctr[2] ^ rk[0][2], ctr[3] ^ rk[0][3]};
  for (int i = 1; i < kRounds; ++i) v = aes_round(v, rk[static_cast<std::size_t>(i)]);
  return aes_last_round(v, rk[kRounds]);
}

// ARS-5 of n <= 16 counters {q0 + i, c1, c2, c3} (i < n), word j of counter i into out[4 i + j] (the
// order of the values they make); AES-NI where the CPU has it (ars_aesni.cpp), else ars_portable: the
// same bits. out: [4 n].
void ars_counters(uint32_t q0, uint32_t c1, uint32_t c2, uint32_t c3, const RoundKeys& rk, int n, uint32_t* out);
bool aesni_supported();
// The AES-NI twin of ars_counters (only call when aesni_supported()).
void ars_counters_aesni(uint32_t q0, uint32_t c1, uint32_t c2, uint32_t c3, const RoundKeys& rk, int n, uint32_t* out);

}  // namespace moesim::ars
