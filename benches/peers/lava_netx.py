"""Times Lava 0.10 on the netx workloads of benches/netx.rs (fixed point, batch 1):
lava-dl's pilotnet_sdnn network file (its input frame on a source ring buffer) for 90 steps,
and lava-dl's dense block test (Dense 200 -> 256 + LIF vth 6, du 4095, dv 415, bias_exp 6,
weights through netx's optimize_weight_bits; in.npy on a ring buffer) for 2000 steps.
Compile is excluded: each graph runs 1 step first.

Usage (oracle venv): python benches/peers/lava_netx.py [--json OUT.json]"""
import argparse, json, os, time
import numpy as np
from lava.lib.dl import netx
from lava.lib.dl.netx.utils import optimize_weight_bits
from lava.proc.dense.process import Dense
from lava.proc.lif.process import LIF
from lava.proc.io.source import RingBuffer as Source
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

FX = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/fixtures/lava-dl")


def pilotnet():
    net = netx.hdf5.Network(net_config=f"{FX}/pilotnet_sdnn/network.net")
    src = Source(data=np.load(f"{FX}/pilotnet_sdnn/input.npy"))
    src.s_out.connect(net.layers[0].neuron.a_in)
    return src


def dense_block():
    w, bits, wexp, _ = optimize_weight_bits(np.load(f"{FX}/dense/weight.npy"))
    src = Source(data=np.load(f"{FX}/dense/in.npy"))
    dense = Dense(weights=w, weight_exp=wexp, num_weight_bits=bits)
    lif = LIF(shape=(256,), vth=6, du=4095, dv=415, bias_exp=6)
    src.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    return src


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    a = ap.parse_args()
    results = []
    for name, build, steps in [("pilotnet_sdnn_90_steps", pilotnet, 90), ("dense_2000_steps", dense_block, 2000)]:
        proc = build()
        cfg = Loihi2SimCfg(select_tag="fixed_pt")
        proc.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
        t0 = time.perf_counter()
        proc.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
        dt = time.perf_counter() - t0
        proc.stop()
        results.append({"workload": name, "steps": steps, "seconds": dt, "steps_per_s": steps / dt})
        print(f"Lava 0.10 {name}: {steps / dt:.1f} steps/s ({dt:.2f} s)", flush=True)
    if a.json:
        json.dump(results, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
