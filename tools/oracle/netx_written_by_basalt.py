"""Checks that lava-dl's netx loads netx files written by Basalt and reproduces its ground
truths with them. Usage (oracle venv): python tools/oracle/netx_written_by_basalt.py DIR
where DIR holds `basalt convert` outputs of the fixtures:
  tinynet_tiny.net, pilotnet_sdnn_network.net, tiny_cuba_slayer_network.net"""
import os, sys
import numpy as np
from lava.lib.dl import netx
from lava.proc.io.source import RingBuffer as Source
from lava.proc.io.sink import RingBuffer as Sink
from lava.proc.monitor.process import Monitor
from lava.magma.core.run_configs import Loihi2SimCfg
from lava.magma.core.run_conditions import RunSteps

d = sys.argv[1]
fx = os.path.join(os.path.dirname(__file__), "../../../shared/fixtures/lava-dl")

net = netx.hdf5.Network(net_config=os.path.join(d, "pilotnet_sdnn_network.net"))
src = Source(data=np.load(f"{fx}/pilotnet_sdnn/input.npy")); src.s_out.connect(net.layers[0].neuron.a_in)
sink = Sink(shape=net.out.shape, buffer=9); net.out.connect(sink.a_in)
net.run(condition=RunSteps(num_steps=9), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
out = sink.data.get(); net.stop()
print("pilotnet_sdnn written by Basalt, run by lava-dl netx: error", np.abs(out - np.load(f"{fx}/pilotnet_sdnn/output.npy")).sum())

io = np.load(f"{fx}/tiny_cuba_slayer/io.npz")
net = netx.hdf5.Network(net_config=os.path.join(d, "tiny_cuba_slayer_network.net"))
src = Source(data=np.concatenate([io["x"], np.zeros((20, 5))], axis=1)); src.s_out.connect(net.inp)
m = Monitor(); m.probe(net.layers[0].neuron.s_out, 55)
net.run(condition=RunSteps(num_steps=55), run_cfg=Loihi2SimCfg(select_tag="fixed_pt"))
h = m.get_data()[net.layers[0].neuron.name]["s_out"].T; net.stop()
print("tiny_cuba_slayer written by Basalt, run by lava-dl netx: hidden error", np.abs(h - io["hidden_lava"]).sum())

net = netx.hdf5.Network(net_config=os.path.join(d, "tinynet_tiny.net"))
print("tinynet written by Basalt loads in lava-dl netx:", len(net.layers), "layers")
