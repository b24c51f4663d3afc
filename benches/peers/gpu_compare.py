"""Runs the GPU benchmark (`examples/gpu_throughput.rs`) and its PyTorch peer
(`torch_dense_lif.py`) on the same GPU, one configuration after the other, and prints a
markdown table: Basalt steps/s, synaptic updates/s, achieved bytes/s and share of the measured
copy bandwidth (the memory-bandwidth bound), PyTorch steps/s and the Basalt/PyTorch ratio
(targets of the GPU issue: >= 50 % of the bound at N = 16k, >= 10x PyTorch).

usage: python gpu_compare.py BASALT_GPU_THROUGHPUT_BINARY [--sizes 1024,4096,16384]
           [--batches 1,32,256] [--layers 1,4] [--steps 1000] [--precisions fixed,float]
(build the binary with `cargo build --release --features gpu --example gpu_throughput`;
it is target/release/examples/gpu_throughput).
"""

import argparse
import csv
import io
import os
import subprocess
import sys

p = argparse.ArgumentParser()
p.add_argument("binary")
p.add_argument("--sizes", default="1024,4096,16384")
p.add_argument("--batches", default="1,32,256")
p.add_argument("--layers", default="1,4")
p.add_argument("--steps", default="1000")
p.add_argument("--precisions", default="fixed,float")
a = p.parse_args()

args = ["--sizes", a.sizes, "--batches", a.batches, "--layers", a.layers, "--steps", a.steps,
        "--precisions", a.precisions, "--csv"]
out = subprocess.run([a.binary, *args], check=True, capture_output=True, text=True).stdout
header = [line for line in out.splitlines() if line.startswith("# device")]
rows = list(csv.DictReader(io.StringIO("\n".join(l for l in out.splitlines() if not l.startswith("#")))))
print(header[0] if header else "# device unknown")
for line in out.splitlines():
    if "skipped" in line:
        print(line)
print("\n| layers | precision | N | batch | Basalt steps/s | synaptic updates/s | GB/s | of bound | PyTorch steps/s | Basalt / PyTorch |")
print("|---|---|---|---|---|---|---|---|---|---|")
peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_dense_lif.py")
for r in rows:
    cmd = [sys.executable, peer, "--n", r["n"], "--layers", r["layers"], "--batch", r["batch"],
           "--steps", r["steps"], "--precision", r["precision"]]
    try:
        line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        torch_rate = float(line.split(":")[1].split("steps/s")[0])
        ratio = f"{float(r['steps_per_s']) / torch_rate:.2f}x"
        torch_text = f"{torch_rate:.1f}"
    except (subprocess.CalledProcessError, ValueError, IndexError) as e:
        torch_text, ratio = f"failed ({e})", "-"
    print(f"| {r['layers']} | {r['precision']} | {r['n']} | {r['batch']} | {float(r['steps_per_s']):.1f} | "
          f"{float(r['synaptic_updates_per_s']):.3e} | {float(r['bytes_per_s']) / 1e9:.1f} | "
          f"{100 * float(r['share_of_bound']):.1f} % | {torch_text} | {ratio} |", flush=True)
