"""Lava 0.10 on the on-chip learning benchmark (basalt::workloads::stdp_network):
LIF(n) -> LearningDense(n x n, STDPLoihi(1, 1, -1, 10, 10), t_epoch 1) -> LIF(n), post
spikes fed back, STEPS steps, float and fixed point. Prints steps/s and the final weight sum
(to check that both simulators ran the same network).
Usage (oracle venv): python benches/peers/lava_learning.py [n] [steps]"""
import sys, time
import numpy as np
from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
from lava.proc.lif.process import LIF
from lava.proc.dense.process import LearningDense

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
i = np.arange(n)
w = ((7 * i[:, None] + 13 * i[None, :]) % 41 - 20).astype(float)
for fixed in (False, True):
    if fixed:
        pre_b, post_b, vth, scale = 1000 + 20 * i, 800 + 10 * i, 100, 1.0
    else:
        pre_b, post_b, vth, scale = 0.1 + 0.003 * i, 0.08 + 0.002 * i, 1, 0.01
    rule = STDPLoihi(learning_rate=1, A_plus=1, A_minus=-1, tau_plus=10, tau_minus=10, t_epoch=1, rng_seed=0)
    pre = LIF(shape=(n,), vth=vth, bias_mant=pre_b)
    dense = LearningDense(weights=w * scale, learning_rule=rule)
    post = LIF(shape=(n,), vth=vth, bias_mant=post_b)
    pre.s_out.connect(dense.s_in)
    dense.a_out.connect(post.a_in)
    post.s_out.connect(dense.s_in_bap)
    cfg = Loihi2SimCfg(select_tag="fixed_pt" if fixed else "floating_pt")
    pre.run(condition=RunSteps(num_steps=1), run_cfg=cfg)  # compile and start outside the timing
    t0 = time.perf_counter()
    pre.run(condition=RunSteps(num_steps=steps - 1), run_cfg=cfg)
    dt = time.perf_counter() - t0
    total = float(np.sum(dense.weights.get()))
    pre.stop()
    print(f"{'fixed' if fixed else 'float'}: {(steps - 1) / dt:.1f} steps/s, final weight sum {total:.6g}")
