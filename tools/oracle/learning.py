"""Ground truth for on-chip learning (LearningDense + learning rules) from Lava 0.10.
Usage (oracle venv): python tools/oracle/learning.py OUT_DIR

Every case runs a pre population -> LearningDense -> post population network one step at a
time and records, after every step, the LearningDense Vars (weights, tag_1, tag_2, traces,
spike times) and the post neurons' v. Cases (each in float and in fixed point):

* stdp_{float,fixed}: pair-based STDPLoihi on a 2x2 network, t_epoch = 1.
* tags_{float,fixed}: a hand-written Loihi2FLearningRule with dw, dd and dt using x2/y2/y3
  traces, tags (t), delays (d), sgn(..), bracket constants and a decimated u1 dependency,
  t_epoch = 4, impulses with fractional parts.
* graded{1,2,3}_fixed, graded1_float: graded pre spikes (a RingBuffer of 8-bit payloads)
  with graded_spike_cfg OVERWRITE, ADD_WITH_SATURATION, ADD_WITHOUT_SATURATION.
* rstdp_{float,fixed}: three-factor RewardModulatedSTDP. The post neurons are a LearningLIF
  that sends its spikes (bap), a post trace y1 and the third factor y2 (its graded reward
  input) to the LearningDense, as Lava's own R-STDP tests and tutorial do (Lava 0.10's
  LearningLIF models send nothing on those ports).

Each case file holds `<var>` arrays of shape (steps, ...) and the spike inputs it used."""
import os, sys
import numpy as np

from lava.magma.core.run_conditions import RunSteps
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.learning.learning_rule import Loihi2FLearningRule
from lava.magma.core.learning.constants import GradedSpikeCfg
from lava.proc.learning_rules.stdp_learning_rule import STDPLoihi
from lava.proc.learning_rules.r_stdp_learning_rule import RewardModulatedSTDP
from lava.proc.lif.process import LIF
from lava.proc.dense.process import LearningDense, Dense
from lava.proc.io.source import RingBuffer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lava_models"))
from third_factor_lif import ThirdFactorLIF  # noqa: E402

OUT = sys.argv[1]
STEPS = 240
DENSE_VARS = ["weights", "tag_1", "tag_2", "x0", "tx", "x1", "x2", "y0", "ty", "y1", "y2", "y3"]


def run_case(name, rule, fixed, pre_bias, post_bias, vth, w0, tag_1=None, tag_2=None, reward=None,
             graded=None, graded_cfg=GradedSpikeCfg.USE_REGULAR_IMPULSE):
    """Builds pre LIF (or a RingBuffer of graded spikes) -> LearningDense -> post (LIF, or
    ThirdFactorLIF with a reward) and records every step."""
    n_pre, n_post = len(pre_bias), len(post_bias)
    if graded is None:
        pre = LIF(shape=(n_pre,), du=0, dv=0, vth=vth, bias_mant=np.array(pre_bias))
    else:
        pre = RingBuffer(data=graded)
    kw = {}
    if graded is not None:
        kw["num_message_bits"] = 8
        kw["graded_spike_cfg"] = graded_cfg
    if tag_1 is not None:
        kw["tag_1"] = np.array(tag_1, dtype=float)
    if tag_2 is not None:
        kw["tag_2"] = np.array(tag_2, dtype=float)
    dense = LearningDense(weights=np.array(w0, dtype=float), learning_rule=rule, name="plastic", **kw)
    pre.s_out.connect(dense.s_in)
    if reward is None:
        post = LIF(shape=(n_post,), du=0, dv=0, vth=vth, bias_mant=np.array(post_bias))
        dense.a_out.connect(post.a_in)
        post.s_out.connect(dense.s_in_bap)
    else:
        post = ThirdFactorLIF(shape=(n_post,), du=0, dv=0, vth=vth, bias_mant=np.array(post_bias),
                              learning_rule=rule)
        dense.a_out.connect(post.a_in)
        src = RingBuffer(data=reward)
        conn = Dense(weights=np.eye(n_post), num_message_bits=8)
        src.s_out.connect(conn.s_in)
        conn.a_out.connect(post.a_third_factor_in)
        post.s_out_bap.connect(dense.s_in_bap)
        post.s_out_y1.connect(dense.s_in_y1)
        post.s_out_y2.connect(dense.s_in_y2)
        post.s_out_y3.connect(dense.s_in_y3)
    cfg = Loihi2SimCfg(select_tag="fixed_pt" if fixed else "floating_pt")
    rec = {v: [] for v in DENSE_VARS}
    rec["post_v"], rec["pre_v"] = [], []
    for _ in range(STEPS):
        pre.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
        for v in DENSE_VARS:
            rec[v].append(np.array(getattr(dense, v).get(), dtype=float))
        rec["post_v"].append(np.array(post.v.get(), dtype=float))
        if graded is None:
            rec["pre_v"].append(np.array(pre.v.get(), dtype=float))
    pre.stop()
    arrays = {k: np.stack(v) for k, v in rec.items() if v}
    if reward is not None:
        arrays["reward"] = reward
    if graded is not None:
        arrays["graded"] = graded
    np.savez(os.path.join(OUT, f"{name}.npz"), **arrays)
    w = arrays["weights"]
    print(f"{name}: final weights {w[-1].tolist()}, distinct weight matrices {len(np.unique(w, axis=0))}")


os.makedirs(OUT, exist_ok=True)

# Pair-based STDP, 2x2.
for fixed in (False, True):
    rule = STDPLoihi(learning_rate=1, A_plus=1, A_minus=-2, tau_plus=10, tau_minus=10, t_epoch=1, rng_seed=0)
    if fixed:
        run_case("stdp_fixed", rule, True, [1900, 2500], [1200, 1500], 100, [[40, -20], [10, 60]])
    else:
        run_case("stdp_float", rule, False, [0.3, 0.41], [0.12, 0.2], 1, [[0.5, -0.2], [0.1, 0.6]])

# Tags, delays, sgn, constants, x2/y2/y3 traces and a decimated u1 dependency, t_epoch = 4.
DW = "x0 * (y1 + 2) * 2^-3 - y0 * x1 * 2^-2 + u1 * t * 2^-4 - y0 * x2 * y3 * 2^-6"
DD = "y0 * x2 * 2^-2 - x0 * d * 2^-3 + x0 * (y3 - 5) * 2"
DT = "x0 * y2 * 3 * 2^-3 - u1 * t * 2^-1 + y0 * sgn(w - 2) * x1 * 2^-3"
for fixed in (False, True):
    rule = Loihi2FLearningRule(dw=DW, dd=DD, dt=DT, x1_impulse=16.5, x1_tau=8, x2_impulse=10.25, x2_tau=20,
                               y1_impulse=12, y1_tau=6, y2_impulse=7.75, y2_tau=15, y3_impulse=20, y3_tau=30,
                               t_epoch=4, rng_seed=3)
    tag_1 = [[3, -2, 0], [1, 5, -4]]
    tag_2 = [[0, 2, 1], [4, 0, 3]]
    if fixed:
        run_case("tags_fixed", rule, True, [1900, 2500, 1300], [1200, 1500], 100, [[40, -20, 6], [10, 60, -90]],
                 tag_1, tag_2)
    else:
        run_case("tags_float", rule, False, [0.3, 0.41, 0.22], [0.12, 0.2], 1,
                 [[0.5, -0.2, 0.1], [0.1, 0.6, -0.9]], tag_1, tag_2)

# Reward-modulated STDP (three factors), reward during steps 80..140.
for fixed in (False, True):
    rule = RewardModulatedSTDP(learning_rate=1, A_plus=4 if fixed else 2, A_minus=-2, pre_trace_decay_tau=10,
                               post_trace_decay_tau=10, pre_trace_kernel_magnitude=20,
                               post_trace_kernel_magnitude=20, eligibility_trace_decay_tau=2.4,
                               t_epoch=1 if fixed else 2, rng_seed=5)
    reward = np.zeros((2, STEPS))
    reward[:, 80:140] = 16 if fixed else 1.0
    if fixed:
        run_case("rstdp_fixed", rule, True, [1900, 2500], [2400, 1600], 90, [[0, 4], [-6, 10]], reward=reward)
    else:
        run_case("rstdp_float", rule, False, [0.3, 0.41], [0.25, 0.2], 1, [[0.0, 0.4], [-0.6, 1.0]],
                 reward=reward)

# Graded pre spikes: payloads update x1 directly (the x1 impulse is forced to 0).
rng = np.random.default_rng(7)
payload = np.where(rng.random((3, STEPS)) < 0.35, rng.integers(1, 256, (3, STEPS)), 0).astype(float)
for cfg in (1, 2, 3):
    for fixed in ((False, True) if cfg == 1 else (True,)):
        rule = Loihi2FLearningRule(dw="x0 * y1 * 2^-3 - y0 * x1 * 2^-4 + y0 * x2 * 2^-5", x1_impulse=0, x1_tau=12,
                                   x2_impulse=9.5, x2_tau=25, y1_impulse=14, y1_tau=9, t_epoch=2, rng_seed=9)
        name = f"graded{cfg}_{'fixed' if fixed else 'float'}"
        if fixed:
            run_case(name, rule, True, [0, 0, 0], [1200, 1500], 100, [[40, -20, 6], [10, 60, -90]],
                     graded=payload, graded_cfg=GradedSpikeCfg(cfg))
        else:
            run_case(name, rule, False, [0, 0, 0], [0.12, 0.2], 1, [[0.005, -0.002, 0.001], [0.001, 0.006, -0.009]],
                     graded=payload, graded_cfg=GradedSpikeCfg(cfg))
