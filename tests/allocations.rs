//! The step loop allocates nothing, and a compiled N=4000 network holds its weights once:
//! measured with a counting global allocator. One test function, so that no other test
//! thread allocates while counting.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

use basalt::prelude::*;
use basalt::walkthrough::Precision;
use basalt::workloads::lif_dense_lif;

struct Counting;
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn step_loop_allocates_nothing_and_memory_stays_within_twice_the_weights() {
    for precision in [Precision::Float, Precision::Fixed] {
        // Small network with monitors on a Var and an OutPort.
        let mut w = lif_dense_lif(300, precision).unwrap();
        let mon = w.net.add(Monitor::new()).unwrap();
        mon.probe(&mut w.net, w.lif2.v(), 400).unwrap();
        mon.probe(&mut w.net, w.lif1.s_out(), 400).unwrap();
        let mut rt = w.net.runtime(&precision.run_config()).unwrap();
        rt.run(RunSteps::new(10)).unwrap();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        rt.run(RunSteps::new(300)).unwrap();
        let during = ALLOCATIONS.load(Ordering::Relaxed) - before;
        assert_eq!(during, 0, "{}: {during} allocations in 300 steps", precision.name());
    }

    for precision in [Precision::Float, Precision::Fixed] {
        let n = 4000;
        let base = LIVE_BYTES.load(Ordering::Relaxed);
        let w = lif_dense_lif(n, precision).unwrap();
        let mut rt = w.net.runtime(&precision.run_config()).unwrap();
        drop(w);
        // Warm up (the rayon pool starts on the first large step), then count.
        rt.run(RunSteps::new(60)).unwrap();
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        rt.run(RunSteps::new(40)).unwrap();
        assert_eq!(ALLOCATIONS.load(Ordering::Relaxed) - before, 0, "{}: N=4000 step loop allocated", precision.name());
        let held = (LIVE_BYTES.load(Ordering::Relaxed) - base) as f64;
        // Lava's weight matrix: float64 for float models, int32 for fixed models.
        let weight_bytes = (n * n * if precision == Precision::Float { 8 } else { 4 }) as f64;
        assert!(
            held <= 2.0 * weight_bytes,
            "{}: runtime holds {:.1} MB for a {:.1} MB weight matrix",
            precision.name(),
            held / 1e6,
            weight_bytes / 1e6
        );
        println!(
            "{}: runtime holds {:.1} MB for a {:.1} MB weight matrix",
            precision.name(),
            held / 1e6,
            weight_bytes / 1e6
        );
        drop(rt);
    }
}
