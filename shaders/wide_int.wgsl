// Integer helpers beyond 32 bits (WGSL has no i64), prepended to the kernels whose Lava
// fixed-point models multiply into 64 bits (ATRLIF, RF, learning). Signed 64-bit values are
// vec2<u32> (lo, hi) in two's complement.

// The full 64-bit product of two u32 as (lo, hi).
fn mul32(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xFFFFu;
    let a1 = a >> 16u;
    let b0 = b & 0xFFFFu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let lo1 = p00 + (p01 << 16u);
    let c1 = select(0u, 1u, lo1 < p00);
    let lo = lo1 + (p10 << 16u);
    let c2 = select(0u, 1u, lo < lo1);
    return vec2<u32>(lo, p11 + (p01 >> 16u) + (p10 >> 16u) + c1 + c2);
}

fn i64_from(x: i32) -> vec2<u32> {
    return vec2<u32>(bitcast<u32>(x), select(0u, 0xFFFFFFFFu, x < 0));
}

fn i64_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

fn i64_neg(a: vec2<u32>) -> vec2<u32> {
    return i64_add(~a, vec2<u32>(1u, 0u));
}

fn i64_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    return i64_add(a, i64_neg(b));
}

fn i64_less(a: vec2<u32>, b: vec2<u32>) -> bool {
    let ah = bitcast<i32>(a.y);
    let bh = bitcast<i32>(b.y);
    return ah < bh || (ah == bh && a.x < b.x);
}

// An i64 saturated to [lo, hi].
fn i64_clamp(a: vec2<u32>, lo: i32, hi: i32) -> i32 {
    if (i64_less(a, i64_from(lo))) {
        return lo;
    }
    if (i64_less(i64_from(hi), a)) {
        return hi;
    }
    return bitcast<i32>(a.x);
}

// rtz(x * f, k) (the product rounded toward zero after a right shift by k < 32) as an i64,
// for any i32 x and u32 f.
fn mul_rtz(x: i32, f: u32, k: u32) -> vec2<u32> {
    let m = mul32(u32(abs(x)), f);
    var q = m;
    if (k > 0u) {
        q = vec2<u32>((m.x >> k) | (m.y << (32u - k)), m.y >> k);
    }
    return select(q, i64_neg(q), x < 0);
}

// rtz(x, k) of an i32 (k < 32).
fn rtz32(x: i32, k: u32) -> i32 {
    return (x + select(0, (1 << k) - 1, x < 0)) >> k;
}

// Lava's bias: the mantissa shifted left by e (right when negative), in 64 bits, then
// truncated to int32.
fn shift_exp(x: i32, e: i32) -> i32 {
    if (e >= 32) {
        return 0;
    }
    if (e >= 0) {
        return x << u32(e);
    }
    return x >> u32(min(-e, 31));
}
