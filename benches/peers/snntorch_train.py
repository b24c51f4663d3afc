"""Times snnTorch training the slayer issue's workload on one CPU thread: Linear(200, 256)
-> Synaptic (current-based LIF, alpha 0.75, beta 0.97) -> Linear(256, 10) -> Synaptic,
stepped over T = 100, batch 32, random input spikes (rate 0.1) and labels, spike-count MSE
loss (correct rate 0.2, incorrect 0.03), Adam lr 1e-3: forward + backward + step.

Usage (oracle venv): python benches/peers/snntorch_train.py [--json OUT.json]"""
import torch
import snntorch as snn
import snntorch.functional as SF
from train_timing import setup, train_steps

args = setup()


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.lif1 = torch.nn.Linear(200, 256), snn.Synaptic(alpha=0.75, beta=0.97)
        self.fc2, self.lif2 = torch.nn.Linear(256, 10), snn.Synaptic(alpha=0.75, beta=0.97)

    def forward(self, x):  # x: (T, batch, 200)
        syn1, mem1 = self.lif1.init_synaptic()
        syn2, mem2 = self.lif2.init_synaptic()
        out = []
        for t in range(x.shape[0]):
            s1, syn1, mem1 = self.lif1(self.fc1(x[t]), syn1, mem1)
            s2, syn2, mem2 = self.lif2(self.fc2(s1), syn2, mem2)
            out.append(s2)
        return torch.stack(out)


train_steps(args, "snnTorch", Net(), SF.mse_count_loss(correct_rate=0.2, incorrect_rate=0.03),
            (torch.rand(100, 32, 200) < 0.1).float(), torch.randint(0, 10, (32,)))
