"""Times Lava 0.10's compile of the N=4000 LIF -> Dense -> LIF network (float), the peer
figure for benches/persistence.rs. Usage: python benches/peers/lava_compile_time.py [N]"""
import sys, time
from lava.magma.compiler.compiler import Compiler
from lava.magma.core.run_configs import Loihi2SimCfg
sys.path.insert(0, __file__.rsplit("/", 1)[0])
from lava_lif_dense_lif import network

n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
lif1, dense, lif2 = network(n, False)
t0 = time.perf_counter()
Compiler().compile(lif1, Loihi2SimCfg(select_tag="floating_pt"))
print(f"lava compile N={n}: {time.perf_counter() - t0:.3f} s")
