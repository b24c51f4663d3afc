//! NumPy's default random generator, bit for bit: `numpy.random.default_rng(seed)` is a
//! PCG64 (XSL-RR 128/64) seeded through a `SeedSequence`. Lava's fixed-point learning draws
//! its stochastic-rounding numbers from such generators (seeds `rng_seed`, `+1`, `+2`, `+3`
//! for the traces, 2 for the synaptic variables), so reproducing them makes the simulation
//! bit-exact against Lava.

const MULT: u128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645;

/// SeedSequence constants (NumPy `bit_generator.pyx`).
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const XSHIFT: u32 = 16;
const POOL_SIZE: usize = 4;

/// NumPy's `Generator(PCG64(seed))` for a non-negative integer seed.
#[derive(Clone, Debug)]
pub struct NumpyRng {
    state: u128,
    inc: u128,
    /// The upper half of the last 64-bit output, kept for the next 32-bit draw.
    spare_u32: Option<u32>,
}

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> XSHIFT)
}

fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> XSHIFT)
}

/// `SeedSequence(seed).generate_state(4, uint64)`.
fn seed_sequence_state(seed: u64) -> [u64; 4] {
    // The entropy as little-endian 32-bit words (0 is one zero word).
    let mut entropy = vec![seed as u32];
    if seed >> 32 != 0 {
        entropy.push((seed >> 32) as u32);
    }
    let mut pool = [0u32; POOL_SIZE];
    let mut hash_const = INIT_A;
    for (i, p) in pool.iter_mut().enumerate() {
        *p = hashmix(entropy.get(i).copied().unwrap_or(0), &mut hash_const);
    }
    for src in 0..POOL_SIZE {
        for dst in 0..POOL_SIZE {
            if src != dst {
                let h = hashmix(pool[src], &mut hash_const);
                pool[dst] = mix(pool[dst], h);
            }
        }
    }
    for &e in entropy.iter().skip(POOL_SIZE) {
        for p in pool.iter_mut() {
            let h = hashmix(e, &mut hash_const);
            *p = mix(*p, h);
        }
    }
    let mut hash_const = INIT_B;
    let mut words = [0u32; 8];
    for (i, w) in words.iter_mut().enumerate() {
        let mut v = pool[i % POOL_SIZE] ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_B);
        v = v.wrapping_mul(hash_const);
        *w = v ^ (v >> XSHIFT);
    }
    std::array::from_fn(|i| u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32))
}

impl NumpyRng {
    /// `numpy.random.default_rng(seed)`.
    pub fn new(seed: u64) -> Self {
        let s = seed_sequence_state(seed);
        let init_state = (u128::from(s[0]) << 64) | u128::from(s[1]);
        let init_seq = (u128::from(s[2]) << 64) | u128::from(s[3]);
        let mut rng = NumpyRng { state: 0, inc: (init_seq << 1) | 1, spare_u32: None };
        rng.step();
        rng.state = rng.state.wrapping_add(init_state);
        rng.step();
        rng
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(MULT).wrapping_add(self.inc);
    }

    /// The next raw 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.step();
        let hi = (self.state >> 64) as u64;
        let lo = self.state as u64;
        (hi ^ lo).rotate_right((self.state >> 122) as u32)
    }

    /// The next raw 32-bit output (NumPy buffers the upper half of a 64-bit draw).
    pub fn next_u32(&mut self) -> u32 {
        if let Some(v) = self.spare_u32.take() {
            return v;
        }
        let x = self.next_u64();
        self.spare_u32 = Some((x >> 32) as u32);
        x as u32
    }

    /// `Generator.random()`: a double in [0, 1) with 53 random bits.
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `Generator.integers(0, n)` for 1 <= n <= 2^32 (Lemire's bounded method on 32-bit
    /// draws, as NumPy does for ranges that fit 32 bits).
    pub fn integers(&mut self, n: u64) -> u64 {
        debug_assert!((1..=1 << 32).contains(&n));
        if n == 1 {
            return 0;
        }
        if n == 1 << 32 {
            return u64::from(self.next_u32());
        }
        let rng_excl = n as u32;
        let mut m = u64::from(self.next_u32()) * u64::from(rng_excl);
        let mut leftover = m as u32;
        if leftover < rng_excl {
            let threshold = (u32::MAX - (rng_excl - 1)) % rng_excl;
            while leftover < threshold {
                m = u64::from(self.next_u32()) * u64::from(rng_excl);
                leftover = m as u32;
            }
        }
        m >> 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values printed by NumPy 1.26: `default_rng(s).random(3)`, `.integers(0, 128, size=1)`
    // drawn one at a time, and the raw `bit_generator.random_raw()`.
    #[test]
    fn matches_numpy() {
        let mut r = NumpyRng::new(0);
        assert_eq!(r.next_u64(), RAW0);
        let mut r = NumpyRng::new(0);
        for want in RANDOM0 {
            assert_eq!(r.random(), want);
        }
        let mut r = NumpyRng::new(1);
        let got: Vec<u64> = (0..8).map(|_| r.integers(128)).collect();
        assert_eq!(got, INTEGERS1);
        let mut r = NumpyRng::new(12345);
        assert_eq!(r.random(), 0.22733602246716966);
        // A 64-bit draw between 32-bit draws leaves NumPy's spare half alone.
        let mut r = NumpyRng::new(1);
        assert_eq!((r.random(), r.integers(128), r.random()), (0.5118216247002567, 96, 0.14415961271963373));
    }

    const RAW0: u64 = 11749869230777074271;
    const RANDOM0: [f64; 3] = [0.6369616873214543, 0.2697867137638703, 0.04097352393619469];
    const INTEGERS1: [u64; 8] = [60, 65, 96, 121, 4, 18, 105, 121];
}
