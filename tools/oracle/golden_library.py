"""Golden traces of Lava 0.10's process library for crates/core/tests/golden_*.rs.

Each case drives one process from a source RingBuffer (or its own dynamics) for STEPS steps
with random, seeded parameters, probes every Var and the output port with Monitors, and
writes tests/data/golden/<case>.npz holding the inputs ("in"), the parameters ("p_<name>")
and the traces ("<var>", shape (steps, *var_shape)). Run with the oracle venv:

    python tools/oracle/golden_library.py crates/core/tests/data/golden [CASE ...]
"""
import os
import sys
import numpy as np
from lava.proc.io.source import RingBuffer as Source
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

STEPS = 120
OUT = sys.argv[1]
ONLY = set(sys.argv[2:])
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def record(name, proc, tag, var_names, port_names, inputs=None, params=None, exceptions=None, steps=STEPS, extra=None):
    """Runs `proc` (fed by a Source of `inputs` into its port `a_in`/`s_in` if given) and saves."""
    if name in ONLY or not ONLY:
        pass
    else:
        return
    monitors = []
    for v in var_names:
        m = Monitor()
        m.probe(getattr(proc, v), steps)
        monitors.append((v, m))
    for p in port_names:
        m = Monitor()
        m.probe(getattr(proc, p), steps)
        monitors.append((p, m))
    if inputs is not None:
        src = Source(data=inputs)
        port = proc.a_in if hasattr(proc, "a_in") else proc.s_in
        src.s_out.connect(port)
    cfg = Loihi2SimCfg(select_tag=tag, exception_proc_model_map=exceptions or {})
    proc.run(condition=RunSteps(num_steps=steps), run_cfg=cfg)
    arrays = {}
    for key, m in monitors:
        arrays[key] = np.array(m.get_data()[proc.name][key], dtype=np.float64)
    proc.stop()
    if inputs is not None:
        arrays["in"] = np.asarray(inputs, dtype=np.float64)
    for k, v in (params or {}).items():
        arrays["p_" + k] = np.asarray(v, dtype=np.float64)
    for k, v in (extra or {}).items():
        arrays[k] = np.asarray(v, dtype=np.float64)
    np.savez_compressed(os.path.join(OUT, name + ".npz"), **arrays)
    print("wrote", name, {k: a.shape for k, a in arrays.items()})


# Scalar Vars (du, dv, vth, ...) cannot be probed by a Monitor in Lava (its RefPort
# reader fails on Python scalars); they are constants and stored as parameters instead.
LIF_VARS = ["u", "v", "bias_exp", "bias_mant"]


def lif_params(rng, n, fixed):
    if fixed:
        return dict(du=rng.randint(0, 4096), dv=rng.randint(0, 1200),
                    bias_mant=rng.randint(-500, 2500, n), bias_exp=rng.randint(0, 5, n),
                    vth=rng.randint(50, 400))
    return dict(du=rng.uniform(0, 0.5), dv=rng.uniform(0, 0.5), bias_mant=rng.uniform(-0.2, 2.0, n),
                bias_exp=np.zeros(n), vth=rng.uniform(1, 10))


def lif_inputs(rng, n, fixed, low=-20, high=60):
    if fixed:
        return rng.randint(low, high, (n, STEPS)) * (rng.rand(n, STEPS) < 0.4)
    return rng.uniform(low / 20, high / 20, (n, STEPS)) * (rng.rand(n, STEPS) < 0.4)


@case
def lif_float():
    from lava.proc.lif.process import LIF
    rng = np.random.RandomState(1); n = 5
    p = lif_params(rng, n, False)
    record("lif_float", LIF(shape=(n,), **p), "floating_pt", LIF_VARS, ["s_out"], lif_inputs(rng, n, False), p)


@case
def lif_fixed():
    from lava.proc.lif.process import LIF
    rng = np.random.RandomState(2); n = 5
    p = lif_params(rng, n, True)
    p["bias_exp"] = np.array([0, 2, -1, -3, 4])  # negative exponents floor-shift
    record("lif_fixed", LIF(shape=(n,), **p), "fixed_pt", LIF_VARS, ["s_out"], lif_inputs(rng, n, True), p)


@case
def lif_fixed_threshold_edge():
    # du = dv = 4095: u = a_in << 6 and v ~ u, so a_in = 10 puts v exactly on vth << 6 = 640
    # (no spike: the comparison is strict) and a_in = 11 just above it.
    from lava.proc.lif.process import LIF
    n = 2; p = dict(du=4095, dv=4095, bias_mant=np.zeros(n, int), bias_exp=np.zeros(n, int), vth=10)
    inp = np.tile(np.array([[10, 11, 0, 10], [11, 10, 10, 0]]), (1, STEPS // 4))
    record("lif_fixed_threshold_edge", LIF(shape=(n,), **p), "fixed_pt", LIF_VARS, ["s_out"], inp, p)


@case
def lif_reset_float():
    from lava.proc.lif.process import LIFReset
    rng = np.random.RandomState(3); n = 4
    p = lif_params(rng, n, False)
    record("lif_reset_float", LIFReset(shape=(n,), reset_interval=7, reset_offset=3, **p), "floating_pt",
           LIF_VARS, ["s_out"], lif_inputs(rng, n, False), dict(p, reset_interval=7, reset_offset=3))


@case
def lif_reset_fixed():
    from lava.proc.lif.process import LIFReset
    rng = np.random.RandomState(4); n = 4
    p = lif_params(rng, n, True)
    record("lif_reset_fixed", LIFReset(shape=(n,), reset_interval=17, reset_offset=22, **p), "fixed_pt",
           LIF_VARS, ["s_out"], lif_inputs(rng, n, True), dict(p, reset_interval=17, reset_offset=22))


@case
def ternary_lif_float():
    from lava.proc.lif.process import TernaryLIF
    rng = np.random.RandomState(5); n = 5
    p = lif_params(rng, n, False); p.pop("vth")
    p.update(vth_hi=4.0, vth_lo=-3.0)
    record("ternary_lif_float", TernaryLIF(shape=(n,), **p), "floating_pt", LIF_VARS, ["s_out"],
           lif_inputs(rng, n, False, -80, 60), p)


@case
def ternary_lif_fixed():
    from lava.proc.lif.process import TernaryLIF
    rng = np.random.RandomState(6); n = 5
    p = lif_params(rng, n, True); p.pop("vth")
    p["bias_mant"] = rng.randint(-1500, 1500, n)
    p.update(vth_hi=150, vth_lo=-120)
    record("ternary_lif_fixed", TernaryLIF(shape=(n,), **p), "fixed_pt", LIF_VARS, ["s_out"],
           lif_inputs(rng, n, True, -400, 300), p)


@case
def lif_refractory_float():
    from lava.proc.lif.process import LIFRefractory
    rng = np.random.RandomState(7); n = 5
    p = lif_params(rng, n, False)
    record("lif_refractory_float", LIFRefractory(shape=(n,), refractory_period=4, **p), "floating_pt",
           LIF_VARS + ["refractory_period_end"], ["s_out"], lif_inputs(rng, n, False), dict(p, refractory_period=4))


SDN_VARS = ["sigma", "act", "residue", "error"]


def sdn_inputs(rng, n, fixed, scale):
    x = rng.randint(-scale, scale, (n, STEPS)) if fixed else rng.uniform(-scale, scale, (n, STEPS))
    return x * (rng.rand(n, STEPS) < 0.5)


@case
def sigma_float():
    from lava.proc.sdn.process import Sigma
    rng = np.random.RandomState(11); n = 4
    record("sigma_float", Sigma(shape=(n,)), "floating_pt", ["sigma"], ["s_out"], sdn_inputs(rng, n, False, 2.0))


@case
def sigma_fixed():
    from lava.proc.sdn.process import Sigma
    rng = np.random.RandomState(12); n = 4
    record("sigma_fixed", Sigma(shape=(n,)), "fixed_pt", ["sigma"], ["s_out"], sdn_inputs(rng, n, True, 300))


@case
def delta_float():
    from lava.proc.sdn.process import Delta
    rng = np.random.RandomState(13); n = 5
    p = dict(vth=0.7, cum_error=False, spike_exp=0, state_exp=0)
    inp = np.cumsum(sdn_inputs(rng, n, False, 0.6), axis=1)
    record("delta_float", Delta(shape=(n,), **p), "floating_pt", SDN_VARS, ["s_out"], inp, p)


@case
def delta_fixed_exps():
    from lava.proc.sdn.process import Delta
    rng = np.random.RandomState(14); n = 5
    p = dict(vth=20, cum_error=False, spike_exp=3, state_exp=2)
    inp = np.cumsum(sdn_inputs(rng, n, True, 15), axis=1)
    record("delta_fixed_exps", Delta(shape=(n,), **p), "fixed_pt", SDN_VARS, ["s_out"], inp, p)


@case
def delta_fixed_cum_error():
    from lava.proc.sdn.process import Delta
    rng = np.random.RandomState(15); n = 5
    p = dict(vth=25, cum_error=True, spike_exp=0, state_exp=0)
    inp = np.cumsum(sdn_inputs(rng, n, True, 12), axis=1)
    record("delta_fixed_cum_error", Delta(shape=(n,), **p), "fixed_pt", SDN_VARS, ["s_out"], inp, p)


@case
def sigma_delta_float_relu():
    from lava.proc.sdn.process import SigmaDelta, ActivationMode
    rng = np.random.RandomState(16); n = 5
    p = dict(vth=0.5, bias=rng.uniform(-1, 1, n), act_mode=ActivationMode.RELU, cum_error=False)
    record("sigma_delta_float_relu", SigmaDelta(shape=(n,), **p), "floating_pt", SDN_VARS + ["bias"], ["s_out"],
           sdn_inputs(rng, n, False, 0.8), dict(p, act_mode=1))


@case
def sigma_delta_float_unit_cum_error():
    from lava.proc.sdn.process import SigmaDelta, ActivationMode
    rng = np.random.RandomState(17); n = 5
    p = dict(vth=0.9, bias=rng.uniform(-1, 1, n), act_mode=ActivationMode.UNIT, cum_error=True)
    record("sigma_delta_float_unit_cum_error", SigmaDelta(shape=(n,), **p), "floating_pt", SDN_VARS + ["bias"],
           ["s_out"], sdn_inputs(rng, n, False, 0.5), dict(p, act_mode=0))


@case
def sigma_delta_fixed_relu_exps():
    from lava.proc.sdn.process import SigmaDelta, ActivationMode
    rng = np.random.RandomState(18); n = 5
    p = dict(vth=3, bias=rng.randint(-20, 20, n), act_mode=ActivationMode.RELU, cum_error=False,
             spike_exp=2, state_exp=4)
    record("sigma_delta_fixed_relu_exps", SigmaDelta(shape=(n,), **p), "fixed_pt", SDN_VARS + ["bias"], ["s_out"],
           sdn_inputs(rng, n, True, 400), dict(p, act_mode=1))


@case
def sigma_delta_fixed_unit_cum_error():
    from lava.proc.sdn.process import SigmaDelta, ActivationMode
    rng = np.random.RandomState(19); n = 5
    p = dict(vth=30, bias=rng.randint(-50, 50, n), act_mode=ActivationMode.UNIT, cum_error=True)
    record("sigma_delta_fixed_unit_cum_error", SigmaDelta(shape=(n,), **p), "fixed_pt", SDN_VARS + ["bias"],
           ["s_out"], sdn_inputs(rng, n, True, 20), dict(p, act_mode=0))


def conv_case(name, seed, tag, in_shape, w_shape, graded=False, wmax=5, smax=1, **kw):
    from lava.proc.conv.process import Conv
    rng = np.random.RandomState(seed)
    w = rng.randint(-wmax, wmax + 1, w_shape).astype(float)
    if graded:
        inp = rng.randint(-smax, smax + 1, in_shape + (STEPS,)) * (rng.rand(*in_shape, STEPS) < 0.5)
    else:
        inp = (rng.rand(*in_shape, STEPS) < 0.3).astype(int)
    if tag == "floating_pt":
        w = w * 0.37
    proc = Conv(weight=w, input_shape=in_shape, num_message_bits=8 if graded else 0, **kw)
    params = {k: np.asarray(v) for k, v in kw.items()}
    params["weight"] = w
    record(name, proc, tag, ["a_buf"], ["a_out"], inp, params)


@case
def conv_float():
    conv_case("conv_float", 21, "floating_pt", (6, 5, 2), (3, 3, 3, 2), padding=1)


@case
def conv_fixed_groups_asymmetric():
    # groups 2, stride (2, 1), padding (1, 0), dilation (1, 2).
    conv_case("conv_fixed_groups_asymmetric", 22, "fixed_pt", (7, 8, 4), (6, 3, 2, 2),
              groups=2, stride=(2, 1), padding=(1, 0), dilation=(1, 2))


@case
def conv_fixed_graded_wraps_24_bits():
    # Graded inputs up to 2^20 with weights up to 100: sums leave 24 bits and wrap.
    conv_case("conv_fixed_graded_wraps_24_bits", 23, "fixed_pt", (4, 4, 2), (2, 2, 2, 2), graded=True,
              wmax=100, smax=1 << 20, stride=1, padding=1)


def random_sparse(rng, shape, density, lo, hi, fixed):
    w = rng.randint(lo, hi + 1, shape).astype(float) if fixed else rng.uniform(lo, hi, shape)
    w[rng.rand(*shape) > density] = 0
    return w


def binary_inputs(rng, n, p=0.3):
    return (rng.rand(n, STEPS) < p).astype(int)


@case
def sparse_float():
    from scipy.sparse import csr_matrix
    from lava.proc.sparse.process import Sparse
    rng = np.random.RandomState(31)
    w = random_sparse(rng, (6, 9), 0.4, -1.0, 1.5, False)
    record("sparse_float", Sparse(weights=csr_matrix(w)), "floating_pt", ["a_buff"], ["a_out"],
           binary_inputs(rng, 9), dict(dense=w))


@case
def sparse_fixed_mixed_weight_exp():
    from scipy.sparse import csr_matrix
    from lava.proc.sparse.process import Sparse
    rng = np.random.RandomState(32)
    w = random_sparse(rng, (6, 9), 0.4, -300, 300, True)
    record("sparse_fixed_mixed_weight_exp", Sparse(weights=csr_matrix(w), weight_exp=-1, num_weight_bits=7),
           "fixed_pt", ["a_buff"], ["a_out"], binary_inputs(rng, 9), dict(dense=w, weight_exp=-1, num_weight_bits=7))


@case
def sparse_fixed_graded():
    from scipy.sparse import csr_matrix
    from lava.proc.sparse.process import Sparse
    rng = np.random.RandomState(33)
    w = random_sparse(rng, (5, 7), 0.5, 0, 120, True)
    inp = rng.randint(-50, 200, (7, STEPS)) * (rng.rand(7, STEPS) < 0.5)
    record("sparse_fixed_graded", Sparse(weights=csr_matrix(w), num_message_bits=8, weight_exp=2),
           "fixed_pt", ["a_buff"], ["a_out"], inp, dict(dense=w, weight_exp=2, num_message_bits=8))


@case
def delay_dense_float():
    from lava.proc.dense.process import DelayDense
    rng = np.random.RandomState(34)
    w = rng.uniform(-1, 2, (4, 6)); d = rng.randint(0, 5, (4, 6))
    record("delay_dense_float", DelayDense(weights=w, delays=d), "floating_pt", ["a_buff"], ["a_out"],
           binary_inputs(rng, 6), dict(weights=w, delays=d))


@case
def delay_dense_fixed():
    from lava.proc.dense.process import DelayDense
    rng = np.random.RandomState(35)
    w = rng.randint(-200, 200, (4, 6)).astype(float); d = rng.randint(0, 7, (4, 6))
    d[0, :] = 0  # delays of 0 behave like Dense
    record("delay_dense_fixed", DelayDense(weights=w, delays=d, weight_exp=-2, max_delay=8), "fixed_pt",
           ["a_buff"], ["a_out"], binary_inputs(rng, 6), dict(weights=w, delays=d, weight_exp=-2, max_delay=8))


@case
def delay_sparse_fixed():
    from scipy.sparse import csr_matrix
    from lava.proc.sparse.process import DelaySparse
    rng = np.random.RandomState(36)
    w = random_sparse(rng, (5, 8), 0.5, 1, 100, True)
    d = np.where(w != 0, rng.randint(0, 6, w.shape), 0)
    record("delay_sparse_fixed", DelaySparse(weights=csr_matrix(w), delays=csr_matrix(d)), "fixed_pt",
           ["a_buff"], ["a_out"], binary_inputs(rng, 8), dict(dense=w, delays=d))


ATRLIF_VARS = ["i", "v", "theta", "r", "s", "bias_mant", "bias_exp"]


@case
def atrlif_float():
    from lava.proc.atrlif.process import ATRLIF
    rng = np.random.RandomState(41); n = 5
    p = dict(delta_i=rng.uniform(0.1, 0.6), delta_v=rng.uniform(0.1, 0.6), delta_theta=rng.uniform(0.05, 0.4),
             delta_r=rng.uniform(0.05, 0.4), theta_0=rng.uniform(2, 6), theta_step=rng.uniform(1, 4),
             bias_mant=rng.uniform(0, 1.5, n))
    record("atrlif_float", ATRLIF(shape=(n,), theta=p["theta_0"], **p), "floating_pt", ATRLIF_VARS, ["s_out"],
           lif_inputs(rng, n, False, -10, 80), p)


@case
def atrlif_fixed():
    # Lava's fixed model takes integer decays (0 or 1 are meaningful: x*4096 in uint16).
    from lava.proc.atrlif.process import ATRLIF
    rng = np.random.RandomState(42); n = 5
    p = dict(delta_i=0, delta_v=0, delta_theta=1, delta_r=1, theta_0=int(rng.randint(40, 90)),
             theta_step=int(rng.randint(5, 30)), bias_mant=rng.randint(0, 300, n), bias_exp=rng.randint(0, 3, n))
    record("atrlif_fixed", ATRLIF(shape=(n,), **p), "fixed_pt", ATRLIF_VARS, ["s_out"],
           lif_inputs(rng, n, True, -10, 40), p)


def save(name, arrays):
    np.savez_compressed(os.path.join(OUT, name + ".npz"), **{k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})
    print("wrote", name, {k: np.shape(v) for k, v in arrays.items()})


@case
def spiker_receiver():
    from lava.proc.spiker.process import Spiker
    from lava.proc.receiver.process import Receiver
    sp = Spiker(shape=(3,), period=np.array([3, 5, 7]), payload=np.array([1, 4, -2]))
    rc = Receiver(shape=(3,))
    sp.s_out.connect(rc.a_in)
    m1, m2 = Monitor(), Monitor()
    m1.probe(sp.s_out, STEPS); m2.probe(rc.payload, STEPS)
    sp.run(condition=RunSteps(num_steps=STEPS), run_cfg=Loihi2SimCfg())
    out = dict(s_out=m1.get_data()[sp.name]["s_out"], payload=m2.get_data()[rc.name]["payload"],
               p_period=[3, 5, 7], p_payload=[1, 4, -2])
    sp.stop()
    save("spiker_receiver", out)


def reset_read(name, tag, p, inputs):
    from lava.proc.lif.process import LIF
    from lava.proc.io.reset import Reset
    from lava.proc.io.sink import Read
    n = len(p["bias_mant"])
    lif = LIF(shape=(n,), **p)
    src = Source(data=inputs); src.s_out.connect(lif.a_in)
    reset = Reset(interval=7, offset=2); reset.connect_var(lif.u)
    read = Read(buffer=5, interval=3, offset=1); read.connect_var(lif.v)
    # A Monitor of u itself would race with the Reset's write in Lava (both act in the
    # same management phase; which comes first varies), so v, which u drives from the next
    # step on, is recorded instead.
    m = Monitor(); m.probe(lif.v, STEPS)
    lif.run(condition=RunSteps(num_steps=STEPS), run_cfg=Loihi2SimCfg(select_tag=tag))
    out = dict(v=m.get_data()[lif.name]["v"], read_data=read.data.get(), **{"p_" + k: v for k, v in p.items()}, **{"in": inputs})
    lif.stop()
    save(name, out)


@case
def reset_read_float():
    rng = np.random.RandomState(51)
    reset_read("reset_read_float", "floating_pt", lif_params(rng, 4, False), lif_inputs(rng, 4, False))


@case
def reset_read_fixed():
    rng = np.random.RandomState(52)
    reset_read("reset_read_fixed", "fixed_pt", lif_params(rng, 4, True), lif_inputs(rng, 4, True))


@case
def spike_dataloader():
    from lava.proc.io.dataloader import SpikeDataloader
    from lava.proc.io.sink import RingBuffer as Sink
    rng = np.random.RandomState(53)
    data = [((rng.rand(3, 6) < 0.5).astype(float) * rng.randint(1, 5, (3, 6)), float(k)) for k in range(4)]
    dl = SpikeDataloader(dataset=data, interval=8, offset=2)
    s1 = Sink(shape=(3,), buffer=STEPS); s2 = Sink(shape=(1,), buffer=STEPS)
    dl.s_out.connect(s1.a_in); dl.ground_truth.connect(s2.a_in)
    dl.run(condition=RunSteps(num_steps=STEPS), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    out = dict(s_out=s1.data.get(), gt=s2.data.get(), samples=np.stack([d for d, _ in data]))
    dl.stop()
    save("spike_dataloader", out)


@case
def state_dataloader():
    from lava.proc.io.dataloader import StateDataloader
    from lava.proc.lif.process import LIF
    rng = np.random.RandomState(54)
    data = [(rng.randint(0, 50, 3).astype(float), float(k)) for k in range(3)]
    lif = LIF(shape=(3,), du=0.5, dv=0.5, vth=1000)
    dl = StateDataloader(dataset=data, interval=5, offset=1); dl.connect_var(lif.u)
    m = Monitor(); m.probe(lif.v, STEPS)  # not u: see reset_read
    lif.run(condition=RunSteps(num_steps=STEPS), run_cfg=Loihi2SimCfg(select_tag="floating_pt"))
    out = dict(v=m.get_data()[lif.name]["v"], samples=np.stack([d for d, _ in data]))
    lif.stop()
    save("state_dataloader", out)


def rf_case(name, cls, tag, seed, **kw):
    rng = np.random.RandomState(seed); n = 4
    proc = cls(shape=(n,), **kw)
    if tag == "fixed_pt":
        re_in = rng.randint(-40, 120, (n, STEPS)) * (rng.rand(n, STEPS) < 0.3)
        im_in = rng.randint(-60, 60, (n, STEPS)) * (rng.rand(n, STEPS) < 0.3)
    else:
        re_in = rng.uniform(-0.3, 1.0, (n, STEPS)) * (rng.rand(n, STEPS) < 0.3)
        im_in = rng.uniform(-0.5, 0.5, (n, STEPS)) * (rng.rand(n, STEPS) < 0.3)
    s1, s2 = Source(data=re_in), Source(data=im_in)
    s1.s_out.connect(proc.a_real_in); s2.s_out.connect(proc.a_imag_in)
    mons = {}
    for v in ("real", "imag"):
        mons[v] = Monitor(); mons[v].probe(getattr(proc, v), STEPS)
    mons["s_out"] = Monitor(); mons["s_out"].probe(proc.s_out, STEPS)
    proc.run(condition=RunSteps(num_steps=STEPS), run_cfg=Loihi2SimCfg(select_tag=tag))
    out = {k: m.get_data()[proc.name][k] for k, m in mons.items()}
    proc.stop()
    out.update({"in_real": re_in, "in_imag": im_in}, **{"p_" + k: v for k, v in kw.items()})
    save(name, out)


@case
def rf_float():
    from lava.proc.rf.process import RF
    rf_case("rf_float", RF, "floating_pt", 61, period=7.3, alpha=0.08, vth=0.8)


@case
def rf_fixed():
    from lava.proc.rf.process import RF
    rf_case("rf_fixed", RF, "fixed_pt", 62, period=9, alpha=0.05, vth=3, state_exp=6, decay_bits=12)


@case
def rf_iz_float():
    from lava.proc.rf_iz.process import RF_IZ
    rf_case("rf_iz_float", RF_IZ, "floating_pt", 63, period=6.0, alpha=0.1, vth=0.6)


@case
def rf_iz_fixed():
    from lava.proc.rf_iz.process import RF_IZ
    rf_case("rf_iz_fixed", RF_IZ, "fixed_pt", 64, period=8, alpha=0.04, vth=2, state_exp=6, decay_bits=12)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    for name, fn in CASES.items():
        if not ONLY or name in ONLY:
            fn()
