//! The process allocator's handling of freed memory during training.
//!
//! A training step frees and reallocates the same multi-megabyte tensors every batch. glibc's
//! defaults hand such blocks back to the kernel (`munmap`, heap trimming), so every batch pays
//! page faults on fresh pages: about a fifth of a CPU step of the slayer benchmark. Keeping
//! freed memory for reuse is what PyTorch's caching allocator does for lava-dl on a GPU.

/// Asks the allocator to keep freed memory for reuse instead of returning it to the kernel:
/// blocks up to 32 MiB come from the heap (not separate mappings) and up to 1 GiB of free
/// heap top is kept. Process-wide, idempotent; a no-op where the C library is not glibc.
/// Called by [`crate::train::Assistant::new`]; the process's memory then stays at its peak.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only changes glibc's tuning parameters; it takes no pointers
            // and is documented as callable at any time. A refused value (return 0) leaves
            // glibc's default in place, which is correct, only slower.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            }
        });
    }
}
