//! Runtime CPU-feature dispatch for the hot loops: the same Rust code compiled once for the
//! baseline target and once with AVX2 enabled, chosen at run time, so binaries stay
//! portable while modern CPUs get wide vectors.

/// Runs `f`, compiled with AVX2 and FMA disabled/enabled to match the CPU. `f` must be an
/// `#[inline(always)]` closure so that its body is generated inside the feature-enabled
/// function. (FMA is not enabled: it would change float rounding.)
#[inline(always)]
pub fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            // SAFETY: the CPU supports AVX2 (checked just above).
            return unsafe { avx2(f) };
        }
    }
    f()
}
