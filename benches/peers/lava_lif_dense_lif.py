"""Times Lava 0.10 on the LIF(N) -> Dense(NxN) -> LIF(N) benchmark of benches/lif_dense_lif.rs.

Usage (with the oracle venv of ../shared/oracle/setup.sh):
    python benches/peers/lava_lif_dense_lif.py [--steps 1000] [--sizes 100,1000,4000]
        [--json OUT.json] [--traces DIR]
Prints one line per (N, precision): steps/s of a 1000-step run (compile excluded: the
network is compiled and run for 1 step first, as the Rust bench compiles in setup).
--traces DIR writes DIR/bench_n{N}_{precision}.npz with both populations' spikes of the
first 100 steps, which tests/bench_network.rs compares against Basalt.

The network (identical in the Rust bench; all integers, no RNG):
  wexp = -(floor(log2 N) - 2)
  Wint[i, j]   = (31 i + 17 j) mod 101                     (0..100, excitatory)
  b[i]         = 1 + ((37 i) mod 101) / 202                  (1.0 .. 1.5)
  float: LIF(N, vth=10, du=dv=0.1, bias_mant=b) -> Dense(Wint * 2^wexp / 100)
         -> LIF(N, vth=10, du=dv=0.1)
  fixed: LIF(N, vth=1000, du=dv=409, bias_mant=round(800 b), bias_exp=3)
         -> Dense(Wint, weight_exp=wexp) -> LIF(N, vth=1000, du=dv=409)
"""
import argparse, json, math, os, time
import numpy as np
from lava.proc.lif.process import LIF
from lava.proc.dense.process import Dense
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps


def network(n, fixed):
    i = np.arange(n)
    wint = ((31 * i[:, None] + 17 * i[None, :]) % 101).astype(np.float64)
    wexp = -(int(math.floor(math.log2(n))) - 2)
    b = 1.0 + ((37 * i) % 101) / 202.0
    if fixed:
        lif1 = LIF(shape=(n,), vth=1000, du=409, dv=409, bias_mant=np.round(800 * b).astype(int), bias_exp=3)
        dense = Dense(weights=wint, weight_exp=wexp)
        lif2 = LIF(shape=(n,), vth=1000, du=409, dv=409)
    else:
        lif1 = LIF(shape=(n,), vth=10, du=0.1, dv=0.1, bias_mant=b)
        dense = Dense(weights=wint * 2.0 ** wexp / 100.0)
        lif2 = LIF(shape=(n,), vth=10, du=0.1, dv=0.1)
    lif1.s_out.connect(dense.s_in)
    dense.a_out.connect(lif2.a_in)
    return lif1, dense, lif2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--sizes", default="100,1000,4000")
    ap.add_argument("--json")
    ap.add_argument("--traces")
    a = ap.parse_args()
    results = []
    for n in [int(s) for s in a.sizes.split(",")]:
        for fixed in (False, True):
            tag = "fixed_pt" if fixed else "floating_pt"
            lif1, dense, lif2 = network(n, fixed)
            lif1.run(condition=RunSteps(num_steps=1), run_cfg=Loihi2SimCfg(select_tag=tag))
            t0 = time.perf_counter()
            lif1.run(condition=RunSteps(num_steps=a.steps))
            dt = time.perf_counter() - t0
            lif1.stop()
            r = {"n": n, "precision": "fixed" if fixed else "float", "steps": a.steps,
                 "seconds": dt, "steps_per_s": a.steps / dt}
            results.append(r)
            print(f"lava N={n:5d} {r['precision']:5s}: {r['steps_per_s']:10.1f} steps/s", flush=True)
            if a.traces and n <= 1000:
                lif1, dense, lif2 = network(n, fixed)
                m1, m2 = Monitor(), Monitor()
                m1.probe(lif1.s_out, 100)
                m2.probe(lif2.s_out, 100)
                lif1.run(condition=RunSteps(num_steps=100), run_cfg=Loihi2SimCfg(select_tag=tag))
                s1 = m1.get_data()[lif1.name]["s_out"]
                s2 = m2.get_data()[lif2.name]["s_out"]
                lif1.stop()
                os.makedirs(a.traces, exist_ok=True)
                np.savez_compressed(os.path.join(a.traces, f"bench_n{n}_{r['precision']}.npz"), lif1_s=s1, lif2_s=s2)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
