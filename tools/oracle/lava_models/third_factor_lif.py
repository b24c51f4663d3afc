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


class _ThirdFactorSends:
    """The learning part of both models: y1 follows the spikes of the previous step; y2 is
    this step's third-factor input."""
    FLOOR = False

    def run_spk(self):
        rule = self._learning_rule
        y = self.y1 * np.exp(-1 / rule.post_trace_decay_tau) + rule.post_trace_kernel_magnitude * self.s_out_buff
        self.y1 = np.floor(y) if self.FLOOR else y
        super().run_spk()
        self.y2 = self.a_third_factor_in.recv()
        self.s_out_bap.send(self.s_out_buff)
        self.s_out_y1.send(self.y1)
        self.s_out_y2.send(self.y2)
        self.s_out_y3.send(self.y3)


@implements(proc=ThirdFactorLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class ThirdFactorLIFFloat(_ThirdFactorSends, LearningNeuronModelFloat, AbstractPyLifModelFloat):
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    vth: float = LavaPyType(float, float)

    def __init__(self, proc_params):
        super().__init__(proc_params)
        self.s_out_buff = np.zeros(proc_params["shape"])

    def spiking_activation(self):
        return self.v > self.vth


@implements(proc=ThirdFactorLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("bit_accurate_loihi", "fixed_pt")
class ThirdFactorLIFFixed(_ThirdFactorSends, LearningNeuronModelFixed, AbstractPyLifModelFixed):
    FLOOR = True

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

