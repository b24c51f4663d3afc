"""Times snnTorch training the slayer issue's workload on one CPU thread: Linear(200, 256)
-> Synaptic (current-based LIF, alpha 0.75, beta 0.97) -> Linear(256, 10) -> Synaptic,
stepped over T = 100, batch 32, random input spikes (rate 0.1) and labels, spike-count MSE
loss (correct rate 0.2, incorrect 0.03), Adam lr 1e-3: forward + backward + step.

Usage (oracle venv): python benches/peers/snntorch_train.py [--json OUT.json]"""
import argparse, json, time
import torch
import snntorch as snn
import snntorch.functional as SF

ap = argparse.ArgumentParser()
ap.add_argument("--json")
ap.add_argument("--iters", type=int, default=20)
a = ap.parse_args()
torch.set_num_threads(1)
torch.manual_seed(0)


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


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = SF.mse_count_loss(correct_rate=0.2, incorrect_rate=0.03)
x = (torch.rand(100, 32, 200) < 0.1).float()
y = torch.randint(0, 10, (32,))


def step():
    opt.zero_grad()
    loss = loss_fn(net(x), y)
    loss.backward()
    opt.step()


for _ in range(3):
    step()
t0 = time.perf_counter()
for _ in range(a.iters):
    step()
dt = time.perf_counter() - t0
rate = a.iters * 32 / dt
print(f"snnTorch: {rate:.0f} samples/s ({dt / a.iters * 1000:.1f} ms per batch of 32)", flush=True)
if a.json:
    json.dump({"peer": "snnTorch", "samples_per_s": rate}, open(a.json, "w"))
