"""A LearningLIF whose models send bap spikes, a post trace y1 and a reward y2 to a
LearningDense, as Lava's own R-STDP tests and tutorial do (Lava 0.10's LearningLIF models send
nothing on those ports). It lives in its own directory because Lava imports every module next
to a Process's module when it searches for ProcessModels."""
import numpy as np

from lava.proc.lif.process import LearningLIF
from lava.magma.core.model.py.neuron import LearningNeuronModelFloat, LearningNeuronModelFixed
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol
from lava.magma.core.model.py.ports import PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.decorator import implements, requires, tag
from lava.proc.lif.models import AbstractPyLifModelFloat, AbstractPyLifModelFixed


class ThirdFactorLIF(LearningLIF):
    """LearningLIF whose models send bap spikes, a post trace y1 and the reward y2."""


def _post_trace(y1, spiked, rule, floor):
    y = y1 * np.exp(-1 / rule.post_trace_decay_tau) + rule.post_trace_kernel_magnitude * spiked
    return np.floor(y) if floor else y


@implements(proc=ThirdFactorLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class ThirdFactorLIFFloat(LearningNeuronModelFloat, AbstractPyLifModelFloat):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    vth: float = LavaPyType(float, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.s_out_buff = np.zeros(proc_params["shape"])

    def spiking_activation(self):
        return self.v > self.vth

    def run_spk(self):
        # y1 follows the spikes of the previous step; y2 is this step's reward input.
        self.y1 = _post_trace(self.y1, self.s_out_buff, self._learning_rule, False)
        super().run_spk()
        self.y2 = self.a_third_factor_in.recv()
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


@implements(proc=ThirdFactorLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class ThirdFactorLIFFixed(LearningNeuronModelFixed, AbstractPyLifModelFixed):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, np.int32, precision=24)
    vth: int = LavaPyType(int, np.int32, precision=17)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.effective_vth = 0
        self.s_out_buff = np.zeros(proc_params["shape"])

    def scale_threshold(self):
        self.effective_vth = np.left_shift(self.vth, self.vth_shift)
        self.isthrscaled = True

    def spiking_activation(self):
        return self.v > self.effective_vth

    def run_spk(self):
        self.y1 = _post_trace(self.y1, self.s_out_buff, self._learning_rule, True)
        super().run_spk()
        self.y2 = self.a_third_factor_in.recv()
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)
