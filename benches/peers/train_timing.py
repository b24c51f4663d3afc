"""Shared by lava_dl_train.py and snntorch_train.py: command-line arguments, one CPU thread,
and timing of training steps (3 warm-up steps, then `--iters` timed ones) on one batch."""
import argparse, json, time
import torch


def setup():
    """Parses --json and --iters; pins torch to one thread and seeds it."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--json")
    ap.add_argument("--iters", type=int, default=20)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    return args


def train_steps(args, peer, net, loss_fn, x, y, batch=32):
    """Times Adam steps (zero_grad, forward, loss, backward, step); prints and saves the
    samples per second."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(args.iters):
        step()
    dt = time.perf_counter() - t0
    rate = args.iters * batch / dt
    print(f"{peer}: {rate:.0f} samples/s ({dt / args.iters * 1000:.1f} ms per batch of {batch})", flush=True)
    if args.json:
        json.dump({"peer": peer, "samples_per_s": rate}, open(args.json, "w"))
