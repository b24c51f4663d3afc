// On-chip learning of a LearningDense (docs/ARCHITECTURE.md, "Learning on the GPU"; Lava
// PyLearningDenseModelFloat and PyLearningDenseModelBitApproximate), written over `Scalar`
// with `FIXED` branches (a precision prelude is prepended). The forward pass is dense.wgsl's; these kernels keep the
// traces and apply the rule:
//   learn_pre (one thread per pre neuron) and learn_post (per post neuron) record this step's
//   spikes: spike step in the epoch, repeated-spike impulses, graded-spike modes, y0;
//   learn_third (three-factor rules) overwrites y1..y3 with the post neuron's traces;
//   at an epoch end (t mod t_epoch == 0): learn_epoch (per neuron) replays each trace over the
//   epoch into `history`, learn_synapses (per synapse) evaluates every product on the traces
//   at its dependency's spike step, learn_clear (per neuron) forgets the epoch's spikes.
// Fixed point keeps every value an integer: the host turns each step's NumPy random numbers
// into integers (`rand`), and the decay's f64 product is computed exactly in 96-bit integer
// arithmetic from the factor's 53-bit mantissa (`decay_fixed`), so stochastic rounding is exact.

struct Trace {
    // Fixed point: the impulse's integer part (i32 bits); float: the impulse (f32 bits).
    impulse: u32,
    // Fixed point: the impulse's fraction in 1/256 (0..=256).
    frac: u32,
    // 1 when the trace decays (tau != 0); otherwise it is 0 between impulses.
    decays: u32,
    // Float: exp(-1/tau) (f32 bits).
    factor: u32,
    // Fixed point: exp(-1/tau) = mantissa * 2^-shift, the 53-bit mantissa as (hi, lo).
    m_hi: u32,
    m_lo: u32,
    shift: u32,
    _pad: u32,
}

struct Params {
    n_pre: u32,
    n_post: u32,
    t_epoch: u32,
    graded_in: u32,
    // 0 regular impulse, 1 overwrite, 2 add with saturation, 3 add without saturation.
    graded_cfg: u32,
    three_factor: u32,
    // 0 mixed, 1 excitatory, 2 inhibitory.
    sign_mode: u32,
    // k of the u<k> dependency, -1 when the rule has none.
    decimate: i32,
    _a: u32,
    _b: u32,
    _c: u32,
    _d: u32,
    // x1, x2, y1, y2, y3.
    traces: array<Trace, 5>,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> s_in: array<Scalar>;
@group(0) @binding(2) var<storage, read> bap: array<Scalar>;
// [x1 (n_pre) | x2 (n_pre) | y1 | y2 | y3 (n_post each)].
@group(0) @binding(3) var<storage, read_write> traces: array<Scalar>;
// [tx (n_pre) | ty (n_post) | x0 (n_pre) | y0 (n_post)].
@group(0) @binding(4) var<storage, read_write> times: array<i32>;
// (t_epoch + 1) rows laid out as `traces`.
@group(0) @binding(5) var<storage, read_write> history: array<Scalar>;
// [weights | delays (tag_2) | tags (tag_1)], each (n_post, n_pre) row-major.
@group(0) @binding(6) var<storage, read_write> syn: array<Scalar>;
// The rule: [n_series, per series: dst, n_products, per product: dependency (0 x0,
// 1 y0, 2 u), mantissa, exponent + 7, n_factors, per factor: variable, constant, sgn].
@group(0) @binding(7) var<storage, read> rule: array<i32>;
// Fixed point, 8 words per step in slot (t - 1) mod 256: post impulse number of the spike
// phase; at an epoch end the x and y impulse numbers, the x and y decay numbers as 53-bit
// integers (hi, lo), and floor(128 * synaptic number).
@group(0) @binding(8) var<storage, read> rand: array<u32>;
@group(0) @binding(10) var<storage, read> clock: array<u32>;
@group(0) @binding(11) var<storage, read> y1_in: array<Scalar>;
@group(0) @binding(12) var<storage, read> y2_in: array<Scalar>;
@group(0) @binding(13) var<storage, read> y3_in: array<Scalar>;

const TRACE_MAX: i32 = 127;
const ACC_MIN: i32 = -32769;
const ACC_MAX: i32 = 32767;

// Offset of trace k (0..5) in `traces` and in a `history` row.
fn trace_offset(k: u32) -> u32 {
    return select(2u * p.n_pre + (k - 2u) * p.n_post, k * p.n_pre, k < 2u);
}

fn row_len() -> u32 {
    return 2u * p.n_pre + 3u * p.n_post;
}

// Step within the epoch, 1..=t_epoch.
fn epoch_step() -> i32 {
    let r = clock[0] % p.t_epoch;
    return i32(select(r, p.t_epoch, r == 0u));
}

fn epoch_ends() -> bool {
    return clock[0] % p.t_epoch == 0u;
}

fn rand_word(w: u32) -> u32 {
    return rand[((clock[0] - 1u) % 256u) * 8u + w];
}

// A trace after trace k's impulse: fixed point adds the integer part plus 1 where `random`
// (0..128) is below the fraction, clipped to 7 bits; float adds the impulse.
fn add_impulse(v: Scalar, k: u32, random: u32) -> Scalar {
    let t = p.traces[k];
    if (FIXED) {
        let up = select(0, 1, random < t.frac);
        return Scalar(clamp(i32(v) + bitcast<i32>(t.impulse) + up, 0, TRACE_MAX));
    } else {
        return v + Scalar(bitcast<f32>(t.impulse));
    }
}

// 96-bit unsigned integers as (lo, mid, hi) words.
fn shr96(a: vec3<u32>, n: u32) -> vec3<u32> {
    var w = a;
    var k = n;
    while (k >= 32u) {
        w = vec3<u32>(w.y, w.z, 0u);
        k = k - 32u;
    }
    if (k == 0u) {
        return w;
    }
    return vec3<u32>((w.x >> k) | (w.y << (32u - k)), (w.y >> k) | (w.z << (32u - k)), w.z >> k);
}

fn shl96(a: vec3<u32>, n: u32) -> vec3<u32> {
    var w = a;
    var k = n;
    while (k >= 32u) {
        w = vec3<u32>(0u, w.x, w.y);
        k = k - 32u;
    }
    if (k == 0u) {
        return w;
    }
    return vec3<u32>(w.x << k, (w.y << k) | (w.x >> (32u - k)), (w.z << k) | (w.y >> (32u - k)));
}

fn pow2_96(n: u32) -> vec3<u32> {
    return shl96(vec3<u32>(1u, 0u, 0u), n);
}

// The low n bits of a.
fn low96(a: vec3<u32>, n: u32) -> vec3<u32> {
    return a - shl96(shr96(a, n), n);
}

fn add96(a: vec3<u32>, b: vec3<u32>) -> vec3<u32> {
    let x = a.x + b.x;
    let c0 = select(0u, 1u, x < a.x);
    let y1 = a.y + b.y;
    let y = y1 + c0;
    let c1 = select(0u, 1u, y1 < a.y) + select(0u, 1u, y < y1);
    return vec3<u32>(x, y, a.z + b.z + c1);
}

fn sub96(a: vec3<u32>, b: vec3<u32>) -> vec3<u32> {
    let x = a.x - b.x;
    let b0 = select(0u, 1u, a.x < b.x);
    let y1 = a.y - b.y;
    let y = y1 - b0;
    let b1 = select(0u, 1u, a.y < b.y) + select(0u, 1u, y1 < b0);
    return vec3<u32>(x, y, a.z - b.z - b1);
}

fn less96(a: vec3<u32>, b: vec3<u32>) -> bool {
    return a.z < b.z || (a.z == b.z && (a.y < b.y || (a.y == b.y && a.x < b.x)));
}

fn is_zero96(a: vec3<u32>) -> bool {
    return (a.x | a.y | a.z) == 0u;
}

fn bit_length96(a: vec3<u32>) -> u32 {
    if (a.z != 0u) { return 96u - countLeadingZeros(a.z); }
    if (a.y != 0u) { return 64u - countLeadingZeros(a.y); }
    return 32u - countLeadingZeros(a.x);
}

// a / 2^k rounded half to even.
fn shr_round_even96(a: vec3<u32>, k: u32) -> vec3<u32> {
    if (k == 0u) {
        return a;
    }
    let q = shr96(a, k);
    let r = low96(a, k);
    let half = pow2_96(k - 1u);
    let up = less96(half, r) || (all(r == half) && (q.x & 1u) == 1u);
    return select(q, add96(q, vec3<u32>(1u, 0u, 0u)), up);
}

// ceil(a / 2^k).
fn shr_ceil96(a: vec3<u32>, k: u32) -> vec3<u32> {
    let q = shr96(a, k);
    return select(q, add96(q, vec3<u32>(1u, 0u, 0u)), !is_zero96(low96(a, k)));
}

// Lava's fixed-point decay of an integer trace value v by trace k's factor f (an f64):
// x = f * v rounded to f64, then floor(x) plus 1 where the step's 53-bit random number
// (hi, lo) is below ceil((x - floor(x)) * 2^53) (the f64 difference, rounded as f64 rounds
// it). Exact for every i32 v: with f = m * 2^-s, |x| = round53(m * |v|) * 2^-s.
fn decay_fixed(v: i32, k: u32, hi: u32, lo: u32) -> i32 {
    let t = p.traces[k];
    let a = u32(abs(v));
    let lo_part = mul32(t.m_lo, a);
    let hi_part = mul32(t.m_hi, a);
    let product = add96(vec3<u32>(lo_part.x, lo_part.y, 0u), vec3<u32>(0u, hi_part.x, hi_part.y));
    let length = bit_length96(product);
    var rounded = product;
    if (length > 53u) {
        let d = length - 53u;
        rounded = shl96(shr_round_even96(product, d), d);
    }
    let int_part = shr96(rounded, t.shift).x;
    let frac = low96(rounded, t.shift);
    // The fraction's bits below 2^-53.
    let extra = t.shift - 53u;
    var floor_v: i32;
    var threshold: vec3<u32>;
    if (v >= 0) {
        floor_v = i32(int_part);
        threshold = shr_ceil96(frac, extra);
    } else if (is_zero96(frac)) {
        floor_v = -i32(int_part);
        threshold = vec3<u32>(0u);
    } else {
        // floor(-a) = -(I + 1); the fraction 1 - F / 2^s is exact below 1/2 and rounded to
        // 53 bits at or above it.
        floor_v = -i32(int_part) - 1;
        let g = sub96(pow2_96(t.shift), frac);
        if (less96(g, pow2_96(t.shift - 1u))) {
            threshold = shr_ceil96(g, extra);
        } else {
            threshold = shr_round_even96(g, extra);
        }
    }
    let below = hi < threshold.y || (hi == threshold.y && lo < threshold.x);
    return floor_v + select(0, 1, below);
}

// A trace value after one step of trace k's decay (0 without decay).
fn decay_step(v: Scalar, k: u32, hi: u32, lo: u32) -> Scalar {
    let t = p.traces[k];
    if (t.decays == 0u) {
        return ZERO;
    }
    if (FIXED) {
        return Scalar(decay_fixed(i32(v), k, hi, lo));
    } else {
        return v * Scalar(bitcast<f32>(t.factor));
    }
}

@compute @workgroup_size(64)
fn learn_pre(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let j = gid.x + gid.y * wg.x * 64u;
    if (j >= p.n_pre) { return; }
    let s = s_in[j];
    let spiked = s != ZERO;
    let multi = times[j] > 0 && spiked;
    var count = spiked;
    var x2_update = multi;
    var x1 = traces[j];
    // A repeated spike in the epoch adds its impulses at once (rounded with random 0).
    if (multi && p.graded_cfg == 0u) {
        x1 = add_impulse(x1, 0u, 0u);
    }
    if (FIXED) {
        // Half the payload (binary spikes: half of 1), rounded half to even, mod 256.
        let payload = select(i32(spiked), i32(s), p.graded_in != 0u);
        let h = payload >> 1u;
        let scaled = select(h, h + (h & 1), (payload & 1) != 0) & 255;
        let sum = (i32(x1) + scaled) % 256;
        switch p.graded_cfg {
            case 1u: {
                if (spiked) { x1 = Scalar(scaled); }
            }
            case 2u: {
                x1 = Scalar(min(sum, TRACE_MAX));
            }
            case 3u: {
                let overflow = sum > TRACE_MAX;
                count = count && overflow;
                x2_update = x2_update && overflow;
                x1 = Scalar(select(sum, sum - TRACE_MAX, overflow));
            }
            default: {}
        }
    } else {
        let half = select(Scalar(select(0.0, 1.0, spiked)), s, p.graded_in != 0u) / Scalar(2.0);
        if (p.graded_cfg == 1u && spiked) {
            x1 = half;
        } else if (p.graded_cfg >= 2u) {
            x1 = x1 + half;
        }
    }
    traces[j] = x1;
    if (x2_update) {
        traces[p.n_pre + j] = add_impulse(traces[p.n_pre + j], 1u, 0u);
    }
    if (count) {
        times[j] = epoch_step();
    }
}

@compute @workgroup_size(64)
fn learn_post(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n_post || bap[i] == ZERO) { return; }
    let ty = p.n_pre + i;
    times[2u * p.n_pre + p.n_post + i] = 1;
    if (times[ty] > 0) {
        let random = rand_word(0u);
        for (var k: u32 = 2u; k < 5u; k = k + 1u) {
            let at = trace_offset(k) + i;
            traces[at] = add_impulse(traces[at], k, random);
        }
    }
    times[ty] = epoch_step();
}

@compute @workgroup_size(64)
fn learn_third(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let i = gid.x + gid.y * wg.x * 64u;
    if (i >= p.n_post) { return; }
    traces[trace_offset(2u) + i] = y1_in[i];
    traces[trace_offset(3u) + i] = y2_in[i];
    traces[trace_offset(4u) + i] = y3_in[i];
}

// Neuron g (pre neurons first, then post): x0 / y0 from its spike step, then each of its
// traces replayed over the epoch (row 0: the value at the epoch start; row t: after decay
// and the impulse of a spike recorded at step t). The last row becomes the trace (a
// three-factor rule's y traces come from the post neuron instead).
@compute @workgroup_size(64)
fn learn_epoch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let g = gid.x + gid.y * wg.x * 64u;
    let n = p.n_pre + p.n_post;
    if (g >= n || !epoch_ends()) { return; }
    let post = g >= p.n_pre;
    let idx = select(g, g - p.n_pre, post);
    let spike_step = times[g];
    times[n + g] = select(0, 1, spike_step > 0);
    let side = select(0u, 1u, post);
    let impulse_random = rand_word(1u + side);
    let hi = rand_word(3u + 2u * side);
    let lo = rand_word(4u + 2u * side);
    let row = row_len();
    let k0 = select(0u, 2u, post);
    let k1 = select(2u, 5u, post);
    for (var k = k0; k < k1; k = k + 1u) {
        let at = trace_offset(k) + idx;
        var v = traces[at];
        history[at] = v;
        for (var t: u32 = 1u; t <= p.t_epoch; t = t + 1u) {
            v = decay_step(v, k, hi, lo);
            if (u32(spike_step) == t) {
                v = add_impulse(v, k, impulse_random);
            }
            history[t * row + at] = v;
        }
        if (!post || p.three_factor == 0u) {
            traces[at] = v;
        }
    }
}

// The value of variable `var` (ids as basalt's FactorVar order) for synapse k = (i, j),
// traces taken at history row `step`.
fn variable(id: i32, i: u32, j: u32, k: u32, step: u32) -> Scalar {
    let n = p.n_pre + p.n_post;
    switch id {
        case 0: { return Scalar(times[n + j]); }
        case 1: { return Scalar(times[n + p.n_pre + i]); }
        case 2, 3: { return history[step * row_len() + trace_offset(u32(id - 2)) + j]; }
        case 4, 5, 6: { return history[step * row_len() + trace_offset(u32(id - 2)) + i]; }
        case 7, 8, 9: { return syn[u32(id - 7) * p.n_pre * p.n_post + k]; }
        default: { return ZERO; }
    }
}

// Bits the fixed-point model clips a factor of variable `id` to.
fn width(id: i32) -> u32 {
    switch id {
        case 0, 1: { return 1u; }
        case 2, 3, 4, 5, 6: { return 7u; }
        case 10: { return 8u; }
        default: { return 9u; }
    }
}

// Fixed point after the products: sign saturation, stochastic rounding to 8 bits (up where
// the synaptic number is below the fraction), range saturation.
fn finish_fixed(dst: i32, acc0: i32, syn_random: u32) -> i32 {
    var acc = acc0;
    if ((dst == 0 && p.sign_mode == 1u) || dst == 1) {
        acc = max(acc, 0);
    } else if (dst == 0 && p.sign_mode == 2u) {
        acc = min(acc, 0);
    }
    let v = (acc >> 7u) + select(0, 1, syn_random < u32(acc & 127));
    if (dst == 0) {
        switch p.sign_mode {
            case 1u: { return clamp(v, 0, 255); }
            case 2u: { return clamp(v, -255, 0); }
            default: { return clamp(v, -256, 255); }
        }
    }
    if (dst == 1) {
        return clamp(v, 0, 255);
    }
    return clamp(v, -257, 255);
}

// Float: weights keep their sign mode's sign, delays stay >= 0.
fn saturate_float(dst: i32, v: Scalar) -> Scalar {
    if ((dst == 0 && p.sign_mode == 1u) || dst == 1) {
        return max(v, ZERO);
    }
    if (dst == 0 && p.sign_mode == 2u) {
        return min(v, ZERO);
    }
    return v;
}

@compute @workgroup_size(64)
fn learn_synapses(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let n = p.n_pre * p.n_post;
    let k = gid.x + gid.y * wg.x * 64u;
    if (k >= n || !epoch_ends()) { return; }
    let i = k / p.n_pre;
    let j = k % p.n_pre;
    let n_neurons = p.n_pre + p.n_post;
    let x0 = times[n_neurons + j] != 0;
    let y0 = times[n_neurons + p.n_pre + i] != 0;
    let tx = u32(times[j]);
    let ty = u32(times[p.n_pre + i]);
    var u = false;
    if (p.decimate >= 0) {
        u = ((clock[0] / p.t_epoch) & ((1u << u32(p.decimate)) - 1u)) == 0u;
    }
    let syn_random = rand_word(7u);
    var targets: array<i32, 3>;
    var values: array<Scalar, 3>;
    let n_series = rule[0];
    var pc = 1;
    for (var s = 0; s < n_series; s = s + 1) {
        let dst = rule[pc];
        let n_products = rule[pc + 1];
        pc = pc + 2;
        let current = syn[u32(dst) * n + k];
        var acc = i32(current) << 7u;
        var sum = ZERO;
        for (var q = 0; q < n_products; q = q + 1) {
            let dep = rule[pc];
            let mantissa = rule[pc + 1];
            let exponent = rule[pc + 2];
            let n_factors = rule[pc + 3];
            pc = pc + 4;
            var gate = u;
            var step = p.t_epoch;
            if (dep == 0) {
                gate = x0;
                step = tx;
            } else if (dep == 1) {
                gate = y0;
                step = ty;
            }
            var cur = select(0, 1, gate);
            var bits = 4u;
            var term = Scalar(ldexp(f32(mantissa), exponent - 7)) * Scalar(cur);
            for (var f = 0; f < n_factors; f = f + 1) {
                let id = rule[pc];
                let constant = rule[pc + 1];
                let sgn = rule[pc + 2] != 0;
                pc = pc + 3;
                var v = Scalar(constant);
                if (id != 10) {
                    v = variable(id, i, j, k, step) + Scalar(constant);
                    if (sgn) {
                        v = sign(v);
                    }
                }
                let w = width(id);
                bits = bits + w;
                let lim = 1 << w;
                cur = cur * clamp(i32(v), -lim, lim - 1);
                term = term * v;
            }
            if (FIXED) {
                cur = cur * mantissa;
                cur = cur >> u32(max(i32(bits) - 15, 0));
                cur = clamp(cur << u32(exponent), ACC_MIN, ACC_MAX);
                acc = clamp(acc + cur, ACC_MIN, ACC_MAX);
            } else {
                sum = sum + term;
            }
        }
        targets[s] = dst;
        if (FIXED) {
            values[s] = Scalar(finish_fixed(dst, acc, syn_random));
        } else {
            values[s] = saturate_float(dst, current + sum);
        }
    }
    for (var s = 0; s < n_series; s = s + 1) {
        syn[u32(targets[s]) * n + k] = values[s];
    }
}

@compute @workgroup_size(64)
fn learn_clear(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let g = gid.x + gid.y * wg.x * 64u;
    let n = p.n_pre + p.n_post;
    if (g >= n || !epoch_ends()) { return; }
    times[g] = 0;
    times[n + g] = 0;
}
