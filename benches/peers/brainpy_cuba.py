"""BrainPy on the CUBA network of src/workloads.rs (4000 LIF with 5 ms refractoriness,
p = 0.02, exponential current synapses with one shared 5 ms time constant, dt 0.1 ms, 1 s),
following BrainPy's EI-network examples. Prints the run time of the second (compiled) run.
Usage: python benches/peers/brainpy_cuba.py   (venv with brainpy + jax)"""
import time
import brainpy as bp
import brainpy.math as bm

bm.set_dt(0.1)


class EINet(bp.DynSysGroup):
    def __init__(self):
        super().__init__()
        ne, ni = 3200, 800
        self.N = bp.dyn.LifRef(ne + ni, V_rest=-49., V_th=-50., V_reset=-60., tau=20., tau_ref=5.,
                               V_initializer=bp.init.Uniform(-60., -50.))
        self.E = bp.dyn.HalfProjAlignPostMg(
            comm=bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=ne, post=ne + ni), 1.62),
            syn=bp.dyn.Expon.desc(size=ne + ni, tau=5.), out=bp.dyn.CUBA.desc(), post=self.N)
        self.I = bp.dyn.HalfProjAlignPostMg(
            comm=bp.dnn.EventCSRLinear(bp.conn.FixedProb(0.02, pre=ni, post=ne + ni), -9.0),
            syn=bp.dyn.Expon.desc(size=ne + ni, tau=5.), out=bp.dyn.CUBA.desc(), post=self.N)

    def update(self):
        self.E(self.N.spike[:3200])
        self.I(self.N.spike[3200:])
        self.N()
        return self.N.spike.value.sum()


def run_once():
    model = EINet()
    t0 = time.perf_counter()
    counts = bm.for_loop(model.step_run, bm.arange(10000), progress_bar=False)
    total = float(counts.sum())
    return time.perf_counter() - t0, total


run_once()  # JIT compilation
t, spikes = run_once()
syn = 0.02 * 4000 * 4000
print(f"brainpy {bp.__version__}: run {t:.3f} s, {spikes:.0f} spikes ({spikes / 4000:.2f} Hz), "
      f"{spikes * syn / 4000 / t:.3e} events/s, realtime factor {1.0 / t:.2f}")
