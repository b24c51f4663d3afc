"""Brian2 (C++ standalone) on the CUBA network of src/workloads.rs (Brette et al. 2007
benchmark 2 with one shared synaptic time constant of 5 ms, dt 0.1 ms, 1 s).
Prints the run time (code generation and compilation excluded), spikes, events/s.
Usage: python benches/peers/brian2_cuba.py   (venv with brian2; see benches/peers/README.md)"""
import tempfile, time
from brian2 import *

BUILD_DIR = tempfile.mkdtemp()
set_device("cpp_standalone", directory=BUILD_DIR, build_on_run=False)
defaultclock.dt = 0.1 * ms
taum, taus = 20 * ms, 5 * ms
Vt, Vr, El = -50 * mV, -60 * mV, -49 * mV
eqs = """dv/dt = (g - (v - El)) / taum : volt (unless refractory)
dg/dt = -g / taus : volt"""
P = NeuronGroup(4000, eqs, threshold="v > Vt", reset="v = Vr", refractory=5 * ms, method="exact")
P.v = "Vr + rand() * (Vt - Vr)"
P.g = 0 * mV
Ce = Synapses(P, P, on_pre="g += 1.62*mV")
Ci = Synapses(P, P, on_pre="g -= 9*mV")
Ce.connect("i < 3200", p=0.02)
Ci.connect("i >= 3200", p=0.02)
mon = SpikeMonitor(P)
run(1 * second)
device.build(directory=BUILD_DIR, run=True, compile=True)
t = device._last_run_time
n_syn = len(Ce.i[:]) + len(Ci.i[:])
spikes = mon.num_spikes
print(f"brian2 cpp_standalone: run {t:.3f} s, {spikes} spikes ({spikes / 4000:.2f} Hz), "
      f"{float(spikes) * float(n_syn) / 4000 / t:.3e} events/s, realtime factor {1.0 / t:.2f}")
