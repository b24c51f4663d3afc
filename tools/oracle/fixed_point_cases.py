"""Cross-checks the hand-derived fixed-point cases of crates/core/tests/fixed_point.rs
against Lava 0.10 (run with the venv of ../shared/oracle/setup.sh). Prints u and v per step
for each case; the test file's expected numbers must match these."""
import numpy as np
from lava.proc.lif.process import LIF
from lava.proc.io.source import RingBuffer
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps


def trace(a_in, **lif_kwargs):
    src = RingBuffer(data=np.array([a_in]))
    lif = LIF(shape=(1,), **lif_kwargs)
    src.s_out.connect(lif.a_in)
    mu, mv = Monitor(), Monitor()
    mu.probe(lif.u, len(a_in))
    mv.probe(lif.v, len(a_in))
    lif.run(condition=RunSteps(num_steps=len(a_in)), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
    u = mu.get_data()[lif.name]["u"][:, 0]
    v = mv.get_data()[lif.name]["v"][:, 0]
    lif.stop()
    return u.tolist(), v.tolist()


print("wrap", trace([131073, -131072], du=4095, dv=4095, vth=131071))
print("sat+", trace([0] * 19, dv=0, bias_mant=4095, bias_exp=7, vth=131072)[1][14:])
print("sat-", trace([0] * 17, dv=0, bias_mant=-4096, bias_exp=7)[1][13:])
print("negexp", trace([0] * 3, dv=1000, bias_mant=-7, bias_exp=-1)[1])
print("posexp", trace([0] * 3, dv=0, bias_mant=7, bias_exp=-1)[1])
print("du0", trace([1, 0, 0], du=0, dv=4095, vth=1000)[0])
