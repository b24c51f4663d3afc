"""Ground truth for basalt-nir: NIR files written by the real `nir` package (and one exported
by snnTorch), with their simulation by an independent NumPy reference of Basalt's documented
discretisation (crates/nir/src/sim.rs):

* forward Euler with step dt, the current before the voltage;
* spike where v > v_threshold, then v = v_reset (0);
* synapse nodes (Affine, Linear, Scale, Delay) deliver at step t what entered at t - 1
  (a Delay of d steps: t - 1 - d); neurons and outputs see their inputs of the same step.

Usage (oracle venv): python tools/oracle/nir_cases.py crates/nir/tests/data
Writes <case>.nir and <case>.npz (input_<name> (T, n), output_<name> (T, n), dt).
"""
import sys
import pathlib

import numpy as np
import nir
import torch
import torch.nn.functional as F

OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "crates/nir/tests/data")
OUT.mkdir(parents=True, exist_ok=True)
T = 120
SYNAPSES = (nir.Affine, nir.Linear, nir.Scale, nir.Delay, nir.Conv1d, nir.Conv2d, nir.SumPool2d, nir.AvgPool2d)


def flat_nodes(graph, prefix=""):
    """Inlines sub-graphs: returns {name: node} and [(src, dst)] with inner Input/Output
    nodes as pass-throughs (None)."""
    nodes, edges = {}, []

    def endpoint(name, entering):
        head = name.split(".")[0]
        sub = graph.nodes[head]
        if isinstance(sub, nir.NIRGraph) and "." not in name:
            want = nir.Input if entering else nir.Output
            (inner,) = [k for k, v in sub.nodes.items() if isinstance(v, want)]
            return f"{prefix}{head}.{inner}"
        return prefix + name

    for a, b in graph.edges:
        edges.append((endpoint(a, False), endpoint(b, True)))
    for name, node in graph.nodes.items():
        if isinstance(node, nir.NIRGraph):
            n, e = flat_nodes(node, f"{prefix}{name}.")
            for k, v in n.items():
                nodes[k] = None if isinstance(v, (nir.Input, nir.Output)) else v
            edges += e
        else:
            nodes[prefix + name] = node
    # bypass pass-through nodes
    for k in [k for k, v in nodes.items() if v is None]:
        ins = [a for a, b in edges if b == k]
        outs = [b for a, b in edges if a == k]
        edges = [(a, b) for a, b in edges if a != k and b != k] + [(a, b) for a in ins for b in outs]
        del nodes[k]
    return nodes, edges


def conv1d(n, x):
    """PyTorch's conv1d of a (C, L) array by a nir.Conv1d node; returns (1, Cout, Lout)."""
    pad = n.padding if isinstance(n.padding, str) else int(np.asarray(n.padding).reshape(-1)[0])
    return F.conv1d(torch.as_tensor(x, dtype=torch.float64)[None], torch.as_tensor(n.weight, dtype=torch.float64),
                    torch.as_tensor(n.bias, dtype=torch.float64), stride=int(np.asarray(n.stride).reshape(-1)[0]),
                    padding=pad, dilation=int(np.asarray(n.dilation).reshape(-1)[0]), groups=int(n.groups))


def simulate(graph, inputs, dt):
    nodes, edges = flat_nodes(graph)
    src = {k: [a for a, b in edges if b == k] for k in nodes}
    shape = {}

    def derive(n, s):
        """Output shape of node n for input shape s (None: elementwise)."""
        if isinstance(n, nir.Conv2d):
            y = F.conv2d(torch.zeros((1,) + tuple(s), dtype=torch.float64), torch.as_tensor(n.weight, dtype=torch.float64),
                         stride=tuple(n.stride), padding=tuple(n.padding), dilation=tuple(n.dilation), groups=int(n.groups))
            return tuple(y.shape[1:])
        if isinstance(n, nir.Conv1d):
            return tuple(conv1d(n, np.zeros(s)).shape[1:])
        if isinstance(n, (nir.SumPool2d, nir.AvgPool2d)):
            y = F.avg_pool2d(torch.zeros((1,) + tuple(s)), tuple(n.kernel_size), tuple(n.stride), tuple(n.padding))
            return tuple(y.shape[1:])
        if isinstance(n, nir.Flatten):
            return (int(np.prod(s)),)
        return tuple(s)

    for k, n in nodes.items():
        if isinstance(n, nir.Input):
            shape[k] = tuple(int(x) for x in n.input_type["input"])
        elif isinstance(n, (nir.Affine, nir.Linear)):
            shape[k] = (n.weight.shape[0],)
    changed = True
    while changed:
        changed = False
        for k, n in nodes.items():
            if k not in shape:
                for a in src[k]:
                    if a in shape:
                        shape[k] = derive(n, shape[a])
                        changed = True
                        break
    size = {k: int(np.prod(v)) for k, v in shape.items()}
    out = {k: [] for k, n in nodes.items() if isinstance(n, nir.Output)}
    cur = {k: np.zeros(size[k]) for k in nodes}       # outputs at this step
    prev = {k: np.zeros(size[k]) for k in nodes}      # outputs at the previous step
    state = {k: {"I": np.zeros(size[k]), "v": np.zeros(size[k])} for k in nodes}
    hist = {k: [] for k, n in nodes.items() if isinstance(n, nir.Delay)}
    # neurons in an order where neuron -> neuron edges go forward
    neurons = [k for k, n in nodes.items() if not isinstance(n, SYNAPSES + (nir.Input, nir.Output, nir.Flatten))]
    order = []
    while len(order) < len(neurons):
        for k in neurons:
            if k not in order and all(a in order or a not in neurons for a in src[k]):
                order.append(k)

    def b(x, k):
        return np.broadcast_to(np.asarray(x, dtype=np.float64).reshape(-1), (size[k],))

    for t in range(T):
        for k, n in nodes.items():
            if isinstance(n, nir.Input):
                cur[k] = inputs[k][t].reshape(-1)
            elif isinstance(n, nir.Flatten):
                continue
            elif isinstance(n, SYNAPSES):
                x = sum((prev[a].reshape(-1) for a in src[k]), 0.0)
                if isinstance(n, nir.Conv2d):
                    (a,) = src[k]
                    xi = torch.as_tensor(x.reshape((1,) + shape[a]), dtype=torch.float64)
                    y = F.conv2d(xi, torch.as_tensor(n.weight, dtype=torch.float64), torch.as_tensor(n.bias, dtype=torch.float64),
                                 stride=tuple(n.stride), padding=tuple(n.padding), dilation=tuple(n.dilation), groups=int(n.groups))
                    cur[k] = y.numpy().reshape(-1)
                elif isinstance(n, nir.Conv1d):
                    (a,) = src[k]
                    cur[k] = conv1d(n, x.reshape(shape[a])).numpy().reshape(-1)
                elif isinstance(n, (nir.SumPool2d, nir.AvgPool2d)):
                    (a,) = src[k]
                    xi = torch.as_tensor(x.reshape((1,) + shape[a]), dtype=torch.float64)
                    y = F.avg_pool2d(xi, tuple(n.kernel_size), tuple(n.stride), tuple(n.padding), count_include_pad=True)
                    if isinstance(n, nir.SumPool2d):
                        y = y * float(np.prod(n.kernel_size))
                    cur[k] = y.numpy().reshape(-1)
                elif isinstance(n, nir.Affine):
                    cur[k] = n.weight.astype(np.float64) @ x + n.bias
                elif isinstance(n, nir.Linear):
                    cur[k] = n.weight.astype(np.float64) @ x
                elif isinstance(n, nir.Scale):
                    cur[k] = b(n.scale, k) * x
                else:
                    hist[k].append(x)
                    d = np.rint(b(n.delay, k) / dt).astype(int)
                    cur[k] = np.array([hist[k][-1 - d[i]][i] if len(hist[k]) > d[i] else 0.0 for i in range(size[k])])
        for k in order:
            n, s = nodes[k], state[k]
            S = sum((cur[a].reshape(-1) for a in src[k]), np.zeros(size[k]))
            spiking = True
            if isinstance(n, nir.CubaLIF) or isinstance(n, nir.CubaLI):
                s["I"] = s["I"] + dt / b(n.tau_syn, k) * (-s["I"] + b(n.w_in, k) * S)
                s["v"] = s["v"] + dt / b(n.tau_mem, k) * (b(n.v_leak, k) - s["v"] + b(n.r, k) * s["I"])
                spiking = isinstance(n, nir.CubaLIF)
            elif isinstance(n, (nir.LIF, nir.LI)):
                s["v"] = s["v"] + dt / b(n.tau, k) * (b(n.v_leak, k) - s["v"] + b(n.r, k) * S)
                spiking = isinstance(n, nir.LIF)
            elif isinstance(n, (nir.IF, nir.I)):
                s["v"] = s["v"] + dt * b(n.r, k) * S
                spiking = isinstance(n, nir.IF)
            elif isinstance(n, nir.Threshold):
                s["v"] = S.copy()
            else:
                raise TypeError(type(n))
            if spiking:
                th = b(n.threshold if isinstance(n, nir.Threshold) else n.v_threshold, k)
                z = s["v"] > th
                cur[k] = z.astype(np.float64)
                s["v"] = np.where(z, 0.0, s["v"])
            else:
                cur[k] = s["v"].copy()
        for k, n in nodes.items():
            if isinstance(n, nir.Flatten):
                (a,) = src[k]
                cur[k] = cur[a].reshape(-1).copy()
        for k in out:
            (a,) = src[k]
            out[k].append(cur[a].copy())
        prev = {k: v.copy() for k, v in cur.items()}
    return {k: np.array(v) for k, v in out.items()}


def save(name, graph, inputs, dt):
    nir.write(OUT / f"{name}.nir", graph)
    back = nir.read(OUT / f"{name}.nir")
    outs = simulate(back, inputs, dt)
    arrays = {f"input_{k}": v.reshape(T, -1) for k, v in inputs.items()}
    arrays.update({f"output_{k}": v for k, v in outs.items()})
    np.savez(OUT / f"{name}.npz", dt=np.array(dt), **arrays)
    print(name, {k: (v.shape, float(np.abs(v).sum())) for k, v in outs.items()})


rng = np.random.default_rng(7)


def spikes(n, p=0.3):
    return (rng.random((T, n)) < p).astype(np.float64)


# 1. Two CUBA layers with Affine biases, a leak and a leaky read-out of the voltage.
dt = 1e-3
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(input_type=np.array([6])),
        "fc1": nir.Affine(weight=rng.normal(0, 1.5, (5, 6)), bias=rng.normal(0.2, 0.1, 5)),
        "lif1": nir.CubaLIF(tau_syn=np.full(5, 5e-3), tau_mem=np.full(5, 1e-2), r=np.full(5, 2.0),
                            v_leak=rng.normal(0, 0.1, 5), v_threshold=np.full(5, 0.4), w_in=np.full(5, 1.5)),
        "fc2": nir.Linear(weight=rng.normal(0, 1.0, (3, 5))),
        "lif2": nir.CubaLIF(tau_syn=np.full(3, 4e-3), tau_mem=np.full(3, 8e-3), r=np.full(3, 1.0),
                            v_leak=np.zeros(3), v_threshold=np.full(3, 0.2), w_in=np.full(3, 1.0)),
        "fc3": nir.Affine(weight=rng.normal(0, 1.0, (2, 3)), bias=np.array([0.05, -0.02])),
        "readout": nir.CubaLI(tau_syn=np.full(2, 3e-3), tau_mem=np.full(2, 6e-3), r=np.full(2, 1.0),
                              v_leak=np.zeros(2), w_in=np.full(2, 1.0)),
        "spikes": nir.Output(output_type=np.array([3])),
        "voltage": nir.Output(output_type=np.array([2])),
    },
    edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "spikes"),
           ("lif2", "fc3"), ("fc3", "readout"), ("readout", "voltage")],
)
save("cuba", g, {"input": spikes(6)}, dt)

# 2. LIF, Scale, IF, Delay, Threshold, an integrator and a leaky integrator, with an input
#    fed both through a synapse and straight into neurons.
dt = 1e-3
g = nir.NIRGraph(
    nodes={
        "x": nir.Input(input_type=np.array([4])),
        "w": nir.Linear(weight=rng.normal(0.5, 0.5, (4, 4))),
        "lif": nir.LIF(tau=np.full(4, 5e-3), r=np.full(4, 3.0), v_leak=np.array([0.1, 0.0, -0.1, 0.2]),
                       v_threshold=np.full(4, 0.5)),
        "scale": nir.Scale(scale=np.array([1.0, 2.0, 0.5, 1.5])),
        "if": nir.IF(r=np.full(4, 400.0), v_threshold=np.full(4, 1.0)),
        "delay": nir.Delay(delay=np.array([0.0, 1e-3, 2e-3, 5e-3])),
        "th": nir.Threshold(threshold=np.full(4, 0.5)),
        "integ": nir.I(r=np.full(4, 50.0)),
        "li": nir.LI(tau=np.full(4, 4e-3), r=np.full(4, 1.0), v_leak=np.full(4, 0.05)),
        "out_th": nir.Output(output_type=np.array([4])),
        "out_if": nir.Output(output_type=np.array([4])),
        "out_i": nir.Output(output_type=np.array([4])),
        "out_li": nir.Output(output_type=np.array([4])),
    },
    edges=[("x", "w"), ("w", "lif"), ("x", "lif"), ("lif", "scale"), ("scale", "if"), ("if", "out_if"),
           ("if", "delay"), ("delay", "th"), ("th", "out_th"), ("lif", "integ"), ("integ", "out_i"),
           ("x", "li"), ("li", "out_li")],
)
save("lif_family", g, {"x": spikes(4, 0.4)}, dt)

# 3. A recurrent LIF layer as a nested graph (the layout snnTorch's RLeaky exports).
dt = 1e-4
n = 5
rec = nir.NIRGraph(
    nodes={
        "input": nir.Input(input_type=np.array([n])),
        "lif": nir.LIF(tau=np.full(n, 1e-3), r=np.full(n, 10.0), v_leak=np.zeros(n), v_threshold=np.full(n, 1.0)),
        "w_rec": nir.Linear(weight=rng.normal(0, 0.5, (n, n))),
        "output": nir.Output(output_type=np.array([n])),
    },
    edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")],
)
g = nir.NIRGraph(
    nodes={
        "input": nir.Input(input_type=np.array([3])),
        "fc": nir.Affine(weight=rng.normal(1.0, 1.0, (n, 3)), bias=np.full(n, 0.1)),
        "rec": rec,
        "output": nir.Output(output_type=np.array([n])),
    },
    edges=[("input", "fc"), ("fc", "rec"), ("rec", "output")],
)
save("recurrent", g, {"input": spikes(3, 0.3)}, dt)

# 4. Convolutions, pooling and flattening on a (C, H, W) input.
dt = 1e-3
g = nir.NIRGraph(
    nodes={
        "image": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=rng.normal(0.3, 0.6, (3, 2, 3, 3)), stride=1, padding=1,
                           dilation=1, groups=1, bias=np.array([0.05, 0.0, -0.05])),
        "lif1": nir.CubaLIF(tau_syn=np.full((3, 8, 8), 2e-3), tau_mem=np.full((3, 8, 8), 4e-3),
                            r=np.full((3, 8, 8), 2.0), v_leak=rng.normal(0, 0.2, (3, 8, 8)),
                            v_threshold=np.full((3, 8, 8), 0.3), w_in=np.full((3, 8, 8), 2.0)),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "conv2": nir.Conv2d(input_shape=(4, 4), weight=rng.normal(0.2, 0.5, (4, 3, 3, 3)), stride=(2, 1), padding=(1, 0),
                            dilation=1, groups=1, bias=np.zeros(4)),
        "lif2": nir.LIF(tau=np.full((4, 2, 2), 3e-3), r=np.full((4, 2, 2), 1.0), v_leak=np.zeros((4, 2, 2)),
                        v_threshold=np.full((4, 2, 2), 0.1)),
        "flat": nir.Flatten(input_type={"input": np.array([4, 2, 2])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=rng.normal(0.2, 0.5, (5, 16)), bias=rng.normal(0, 0.1, 5)),
        "lif3": nir.LIF(tau=np.full(5, 3e-3), r=np.full(5, 1.0), v_leak=np.zeros(5), v_threshold=np.full(5, 0.1)),
        "avg": nir.AvgPool2d(kernel_size=np.array([4, 4]), stride=np.array([4, 4]), padding=np.array([0, 0])),
        "out": nir.Output(output_type=np.array([5])),
        "feature_map": nir.Output(output_type=np.array([3, 8, 8])),
        "pooled": nir.Output(output_type=np.array([3, 2, 2])),
    },
    edges=[("image", "conv"), ("conv", "lif1"), ("lif1", "pool"), ("pool", "conv2"), ("conv2", "lif2"),
           ("lif2", "flat"), ("flat", "fc"), ("fc", "lif3"), ("lif3", "out"), ("lif1", "feature_map"),
           ("lif1", "avg"), ("avg", "pooled")],
    type_check=False,
)
save("conv", g, {"image": spikes(128, 0.3)}, dt)

# 5. A network exported by snnTorch (Linear -> Leaky -> Linear -> Synaptic).
import torch  # noqa: E402
import snntorch as snn  # noqa: E402
from snntorch.export_nir import export_to_nir  # noqa: E402

torch.manual_seed(3)
net = torch.nn.Sequential(
    torch.nn.Linear(8, 6),
    snn.Leaky(beta=torch.full((6,), 0.9), threshold=torch.full((6,), 0.5), init_hidden=True),
    torch.nn.Linear(6, 4),
    snn.Synaptic(alpha=torch.full((4,), 0.8), beta=torch.full((4,), 0.85), threshold=torch.full((4,), 0.3),
                 init_hidden=True, output=True),
)
with torch.no_grad():
    net[0].weight.mul_(3.0)
    net[2].weight.mul_(3.0)
g = export_to_nir(net, torch.zeros(8))
save("snntorch", g, {"input": spikes(8, 0.4)}, 1e-4)

# 6. 1-D convolutions on a (C, L) input: padded, then strided and dilated (nir 1.0.8 infers
#    a grouped Conv1d's input channels wrongly, so groups stay 1 here),
#    with a bias into a CUBA layer and the voltage of a leaky read-out.
dt = 1e-3
g = nir.NIRGraph(
    nodes={
        "signal": nir.Input(input_type=np.array([2, 16])),
        "conv_a": nir.Conv1d(input_shape=16, weight=rng.normal(0.4, 0.6, (4, 2, 3)), stride=1, padding=1,
                             dilation=1, groups=1, bias=np.array([0.1, 0.0, -0.05, 0.05])),
        "lif_a": nir.CubaLIF(tau_syn=np.full((4, 16), 2e-3), tau_mem=np.full((4, 16), 4e-3), r=np.full((4, 16), 2.0),
                             v_leak=np.zeros((4, 16)), v_threshold=np.full((4, 16), 1.5), w_in=np.full((4, 16), 1.0)),
        "conv_b": nir.Conv1d(input_shape=16, weight=rng.normal(0.2, 0.5, (3, 4, 3)), stride=2, padding=2,
                             dilation=2, groups=1, bias=np.array([0.02, -0.01, 0.0])),
        "li_b": nir.CubaLI(tau_syn=np.full((3, 8), 3e-3), tau_mem=np.full((3, 8), 6e-3), r=np.full((3, 8), 1.0),
                           v_leak=np.zeros((3, 8)), w_in=np.full((3, 8), 1.0)),
        "spikes": nir.Output(output_type=np.array([4, 16])),
        "voltage": nir.Output(output_type=np.array([3, 8])),
    },
    edges=[("signal", "conv_a"), ("conv_a", "lif_a"), ("lif_a", "spikes"), ("lif_a", "conv_b"), ("conv_b", "li_b"),
           ("li_b", "voltage")],
    type_check=False,
)
save("conv1d", g, {"signal": spikes(32, 0.3)}, dt)
