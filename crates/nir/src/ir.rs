//! The NIR graph in memory: nodes with their parameters as NIR defines them (SPEC §5.1,
//! continuous time, PyTorch layouts) and the edges between them.

use std::collections::BTreeMap;

/// An n-dimensional parameter array (C order), e.g. a weight matrix (out, in) or a
/// per-neuron time constant. A scalar has an empty shape.
pub type Tensor = basalt_core::persist::hdf5::Array;

/// Builds a tensor from a shape and C-order values.
pub fn tensor(shape: &[usize], data: Vec<f64>) -> Tensor {
    Tensor { shape: shape.to_vec(), data }
}

/// A parameter's value per element of a population of `n`: a one-value parameter
/// broadcast, otherwise its values as they are.
pub(crate) fn per_neuron(t: &Tensor, n: usize) -> Vec<f64> {
    if t.data.len() == 1 {
        vec![t.data[0]; n]
    } else {
        t.data.clone()
    }
}

/// Padding of a convolution: explicit per spatial axis, or PyTorch's `'same'` / `'valid'`.
#[derive(Clone, Debug, PartialEq)]
pub enum Padding {
    /// Zeros added on both sides of each spatial axis.
    Explicit(Vec<usize>),
    /// Output as large as the input (stride 1).
    Same,
    /// No padding.
    Valid,
}

/// One NIR node. Field names and meanings are NIR's (`nir.ir`); time constants are in
/// seconds, weights in PyTorch order.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// Graph input of the given shape.
    Input {
        /// Shape of one time step's input.
        shape: Vec<usize>,
    },
    /// Graph output of the given shape.
    Output {
        /// Shape of one time step's output.
        shape: Vec<usize>,
    },
    /// `y = W x + b`.
    Affine {
        /// (out, in).
        weight: Tensor,
        /// (out,).
        bias: Tensor,
    },
    /// `y = W x`.
    Linear {
        /// (out, in).
        weight: Tensor,
    },
    /// `y = s * x` elementwise.
    Scale {
        /// Per element.
        scale: Tensor,
    },
    /// 1-D convolution (cross-correlation), weight (Cout, Cin/groups, K).
    Conv1d {
        /// Input length, if given.
        input_shape: Option<usize>,
        /// (Cout, Cin/groups, K).
        weight: Tensor,
        /// Stride.
        stride: usize,
        /// Padding.
        padding: Padding,
        /// Dilation.
        dilation: usize,
        /// Groups.
        groups: usize,
        /// (Cout,).
        bias: Tensor,
    },
    /// 2-D convolution (cross-correlation), weight (Cout, Cin/groups, Kh, Kw).
    Conv2d {
        /// Input (H, W), if given.
        input_shape: Option<[usize; 2]>,
        /// (Cout, Cin/groups, Kh, Kw).
        weight: Tensor,
        /// Stride (H, W).
        stride: [usize; 2],
        /// Padding.
        padding: Padding,
        /// Dilation (H, W).
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
        /// (Cout,).
        bias: Tensor,
    },
    /// Sum over each window, per channel.
    SumPool2d {
        /// Window (H, W).
        kernel_size: [usize; 2],
        /// Stride (H, W).
        stride: [usize; 2],
        /// Padding (H, W).
        padding: [usize; 2],
    },
    /// Mean over each window, per channel.
    AvgPool2d {
        /// Window (H, W).
        kernel_size: [usize; 2],
        /// Stride (H, W).
        stride: [usize; 2],
        /// Padding (H, W).
        padding: [usize; 2],
    },
    /// Flattens axes `start_dim..=end_dim` of the input (NIR counts axes without a batch
    /// axis; negative values count from the end).
    Flatten {
        /// Input shape, if given.
        input_type: Option<Vec<usize>>,
        /// First flattened axis.
        start_dim: i64,
        /// Last flattened axis.
        end_dim: i64,
    },
    /// `y(t) = x(t - delay)`, delay in seconds per element.
    Delay {
        /// Per element, seconds.
        delay: Tensor,
    },
    /// `z = H(x - threshold)` (spike where x > threshold).
    Threshold {
        /// Per element.
        threshold: Tensor,
    },
    /// Integrator `dv/dt = R I`; its output is v.
    I {
        /// R.
        r: Tensor,
    },
    /// Integrate-and-fire: `dv/dt = R I`, spike where v > v_threshold, then v = v_reset.
    IF {
        /// R.
        r: Tensor,
        /// Threshold.
        v_threshold: Tensor,
        /// Reset value.
        v_reset: Tensor,
    },
    /// Leaky integrator `tau dv/dt = (v_leak - v) + R I`; its output is v.
    LI {
        /// Membrane time constant (s).
        tau: Tensor,
        /// R.
        r: Tensor,
        /// Leak potential.
        v_leak: Tensor,
    },
    /// Leaky integrate-and-fire: LI plus a threshold and a reset to v_reset.
    LIF {
        /// Membrane time constant (s).
        tau: Tensor,
        /// R.
        r: Tensor,
        /// Leak potential.
        v_leak: Tensor,
        /// Threshold.
        v_threshold: Tensor,
        /// Reset value.
        v_reset: Tensor,
    },
    /// Current-based leaky integrator: `tau_syn dI/dt = -I + w_in S`,
    /// `tau_mem dv/dt = (v_leak - v) + R I`; its output is v.
    CubaLI {
        /// Synaptic time constant (s).
        tau_syn: Tensor,
        /// Membrane time constant (s).
        tau_mem: Tensor,
        /// R.
        r: Tensor,
        /// Leak potential.
        v_leak: Tensor,
        /// Input weight.
        w_in: Tensor,
    },
    /// Current-based LIF: CubaLI plus a threshold and a reset to v_reset.
    CubaLIF {
        /// Synaptic time constant (s).
        tau_syn: Tensor,
        /// Membrane time constant (s).
        tau_mem: Tensor,
        /// R.
        r: Tensor,
        /// Leak potential.
        v_leak: Tensor,
        /// Threshold.
        v_threshold: Tensor,
        /// Reset value.
        v_reset: Tensor,
        /// Input weight.
        w_in: Tensor,
    },
    /// Passes its input on unchanged.
    Identity,
    /// A nested graph; edges to and from it go to its Input and Output nodes.
    Graph(Graph),
}

impl Node {
    /// NIR's class name of the node (the `type` string in files).
    pub fn kind(&self) -> &'static str {
        match self {
            Node::Input { .. } => "Input",
            Node::Output { .. } => "Output",
            Node::Affine { .. } => "Affine",
            Node::Linear { .. } => "Linear",
            Node::Scale { .. } => "Scale",
            Node::Conv1d { .. } => "Conv1d",
            Node::Conv2d { .. } => "Conv2d",
            Node::SumPool2d { .. } => "SumPool2d",
            Node::AvgPool2d { .. } => "AvgPool2d",
            Node::Flatten { .. } => "Flatten",
            Node::Delay { .. } => "Delay",
            Node::Threshold { .. } => "Threshold",
            Node::I { .. } => "I",
            Node::IF { .. } => "IF",
            Node::LI { .. } => "LI",
            Node::LIF { .. } => "LIF",
            Node::CubaLI { .. } => "CubaLI",
            Node::CubaLIF { .. } => "CubaLIF",
            Node::Identity => "Identity",
            Node::Graph(_) => "NIRGraph",
        }
    }
}

/// A NIR graph: named nodes and directed edges `(source, target)` between node names
/// (dotted names such as `rec.lif` address nodes inside a nested graph).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Graph {
    /// Nodes by name.
    pub nodes: BTreeMap<String, Node>,
    /// Edges (source, target).
    pub edges: Vec<(String, String)>,
}

impl Graph {
    /// A graph from nodes and edges given as string pairs.
    pub fn new(nodes: impl IntoIterator<Item = (String, Node)>, edges: &[(&str, &str)]) -> Graph {
        Graph {
            nodes: nodes.into_iter().collect(),
            edges: edges.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect(),
        }
    }
}
