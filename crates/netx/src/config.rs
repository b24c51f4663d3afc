//! The netx layer descriptions, read from the HDF5 tree (lava-dl's `NetDict`): typed,
//! checked, weights cast to integers as lava-dl does.

use basalt_core::persist::hdf5::{Array, Tree, Value};

use crate::error::NetxError;

/// A neuron model of a layer.
#[derive(Clone, Debug, PartialEq)]
pub enum NeuronKind {
    /// `CUBA` / `LOIHI`: current-based LIF.
    Cuba {
        /// Current decay (0..=4096).
        i_decay: f64,
        /// Voltage decay (0..=4096).
        v_decay: f64,
        /// Threshold mantissa.
        vth_mant: f64,
    },
    /// `SDNN`: sigma-delta.
    Sdnn {
        /// Threshold mantissa.
        vth_mant: f64,
        /// Output layer accumulating (Sigma) instead of encoding.
        sigma_output: bool,
    },
    /// `ALIF`: adaptive-threshold LIF (slayer's alif neuron), built as a Basalt `Alif`.
    Alif {
        /// Current decay (0..=4096).
        i_decay: f64,
        /// Voltage decay (0..=4096).
        v_decay: f64,
        /// Threshold decay toward vThMant (0..=4096).
        th_decay: f64,
        /// Refractory decay (0..=4096).
        ref_decay: f64,
        /// Base threshold mantissa.
        vth_mant: f64,
        /// Threshold increase per spike (mantissa).
        vth_step: f64,
    },
    /// `RF_PHASE` (Lava RF) or another type containing `RF` (Lava RF_IZ): resonate-and-fire,
    /// fed by a complex dense layer.
    Rf {
        /// The type string as stored (`PHASE` in it selects RF, else RF_IZ).
        type_name: String,
        /// Sine decay (of 4096).
        sin_decay: f64,
        /// Cosine decay (of 4096).
        cos_decay: f64,
        /// Threshold mantissa.
        vth_mant: f64,
    },
    /// Any other type (loading fails with its name).
    Other(String),
}

/// The `neuron` group of a layer.
#[derive(Clone, Debug, PartialEq)]
pub struct NeuronConfig {
    /// Model and parameters.
    pub kind: NeuronKind,
    /// `messageBits` (graded spikes), when given.
    pub message_bits: Option<u32>,
}

/// What a layer is.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    /// Input neurons (driven through their `a_in`).
    Input,
    /// All-to-all synapses (out, in) with optional per-neuron bias and axonal delays;
    /// `dense_rec` (slayer's Recurrent block) adds recurrent weights.
    Dense {
        /// Weights (out, in), integers.
        weight: ndarray::Array2<f64>,
        /// Recurrent weights (out, out) of a `dense_rec` layer, integers.
        weight_rec: Option<ndarray::Array2<f64>>,
        /// Imaginary weights (out, in) of a complex layer (`weight/real`, `weight/imag`,
        /// for RF neurons); `weight` then holds the real part.
        weight_imag: Option<ndarray::Array2<f64>>,
        /// Bias per output neuron.
        bias: Option<Vec<f64>>,
        /// Delays (per output neuron, per input, or per synapse).
        delay: Option<Vec<f64>>,
    },
    /// Convolution (`conv`) or transposed convolution (`convT`, slayer's ConvT block, which
    /// lava-dl's netx cannot load); weight in the file's order, parameters in (H, W).
    Conv {
        /// Weight values, C order: (Cout, Cin/groups, kH, kW), or for `convT` torch's
        /// transposed layout (Cin, Cout/groups, kH, kW).
        weight: Vec<f64>,
        /// The weight's shape (as above).
        weight_shape: [usize; 4],
        /// `convT`: the transposed convolution.
        transposed: bool,
        /// Bias per output channel.
        bias: Option<Vec<f64>>,
        /// Stride (H, W).
        stride: [usize; 2],
        /// Padding (H, W).
        padding: [usize; 2],
        /// Dilation (H, W).
        dilation: [usize; 2],
        /// Groups.
        groups: usize,
    },
    /// Sum pooling per channel (slayer's `Pool` block) or its transpose (`unpool`, slayer's
    /// Unpool block), which lava-dl's netx cannot load: one kernel shared by every channel,
    /// built as a grouped (transposed) convolution.
    Pool {
        /// `unpool`: the transposed operation (up-sampling).
        transposed: bool,
        /// The shared kernel, (kH, kW) C order, integers.
        weight: Vec<f64>,
        /// Kernel size (H, W).
        kernel: [usize; 2],
        /// Stride (H, W); slayer's default is the kernel size.
        stride: [usize; 2],
        /// Padding (H, W).
        padding: [usize; 2],
        /// Dilation (H, W).
        dilation: [usize; 2],
    },
    /// Flattens the previous layer's output (C order of its CHW layout).
    Flatten,
    /// Mean over `groups` equal groups of the previous layer's output (slayer's Average
    /// block, in its C-order CHW flattening); `shape` is (groups, 1, 1).
    Average {
        /// Number of output groups.
        groups: usize,
    },
    /// Concatenates the previous layer's output with earlier layers' outputs (their file
    /// indices) along the channel axis: a skip connection (netx README's `concat`).
    Concat {
        /// File indices of the other layers, in concatenation order after the previous one.
        layers: Vec<usize>,
    },
    /// A type this loader does not build yet.
    Unsupported(String),
}

/// One layer of a netx file.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerConfig {
    /// Position in the file (`/layer/<index>`).
    pub index: usize,
    /// The `type` string.
    pub type_name: String,
    /// What it is.
    pub kind: LayerKind,
    /// `shape` as stored: (C, H, W) for images, (N,) for dense.
    pub shape: Vec<usize>,
    /// The neuron, if the layer has one.
    pub neuron: Option<NeuronConfig>,
}

impl LayerConfig {
    /// The layer's neuron shape in Lava's order (WHC): the stored shape reversed.
    pub fn lava_shape(&self) -> Vec<usize> {
        self.shape.iter().rev().copied().collect()
    }
}

/// Reads the layers of a netx tree.
pub(crate) fn parse(path: &str, tree: &Tree) -> Result<Vec<LayerConfig>, NetxError> {
    let layers = tree
        .groups
        .get("layer")
        .ok_or_else(|| NetxError::File { path: path.into(), reason: "no /layer group: not a netx network".into() })?;
    let count = layers.groups.len();
    let mut out = Vec::with_capacity(count);
    for index in 0..count {
        let g = layers.groups.get(&index.to_string()).ok_or_else(|| NetxError::File {
            path: path.into(),
            reason: format!("layers are not numbered 0..{count}: /layer/{index} is missing"),
        })?;
        out.push(parse_layer(path, index, g)?);
    }
    Ok(out)
}

struct Fields<'a> {
    path: &'a str,
    index: usize,
    type_name: String,
    g: &'a Tree,
}

impl Fields<'_> {
    fn err(&self, reason: String) -> NetxError {
        NetxError::Layer { path: self.path.into(), layer: self.index, kind: self.type_name.clone(), reason }
    }
    fn numbers(&self, key: &str) -> Result<Option<Array>, NetxError> {
        match self.g.datasets.get(key) {
            None => Ok(None),
            Some(Value::Numbers(a)) => {
                if let Some(bad) = a.data.iter().find(|x| !x.is_finite()) {
                    return Err(self.err(format!("`{key}` holds the non-finite value {bad}")));
                }
                Ok(Some(a.clone()))
            }
            Some(_) => Err(self.err(format!("`{key}` is not numeric"))),
        }
    }
    fn required(&self, key: &str) -> Result<Array, NetxError> {
        self.numbers(key)?.ok_or_else(|| self.err(format!("missing dataset `{key}`")))
    }
    fn pair(&self, key: &str, default: usize) -> Result<[usize; 2], NetxError> {
        match self.numbers(key)? {
            None => Ok([default; 2]),
            Some(Array { data: v, .. }) if v.len() == 1 => Ok([v[0] as usize; 2]),
            Some(Array { data: v, .. }) if v.len() == 2 && v.iter().all(|&x| x >= 0.0) => {
                Ok([v[0] as usize, v[1] as usize])
            }
            Some(Array { data: v, .. }) => {
                Err(self.err(format!("`{key}` must hold 1 or 2 non-negative values, got {v:?}")))
            }
        }
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::Text(t)) | Some(Value::FixedText(t)) => {
            t.first().map(|s| s.trim_end_matches('\0').trim().to_string())
        }
        _ => None,
    }
}

fn parse_layer(path: &str, index: usize, g: &Tree) -> Result<LayerConfig, NetxError> {
    let type_name = text(g.datasets.get("type")).ok_or_else(|| NetxError::Layer {
        path: path.into(),
        layer: index,
        kind: "?".into(),
        reason: "missing dataset `type`".into(),
    })?;
    let f = Fields { path, index, type_name: type_name.clone(), g };
    let shape: Vec<usize> = match f.numbers("shape")? {
        Some(Array { data: v, .. }) if v.iter().all(|&x| x >= 1.0) => v.iter().map(|&x| x as usize).collect(),
        Some(Array { data: v, .. }) => return Err(f.err(format!("`shape` must be positive, got {v:?}"))),
        None => Vec::new(),
    };
    // Weights and biases are cast to integers, as lava-dl's NetDict does (`astype(int)`).
    let ints = |v: Vec<f64>| v.into_iter().map(f64::trunc).collect::<Vec<_>>();
    let kind = match type_name.as_str() {
        "input" => LayerKind::Input,
        "flatten" => LayerKind::Flatten,
        "average" => match shape.first() {
            Some(&groups) if shape[1..].iter().all(|&d| d == 1) => LayerKind::Average { groups },
            _ => return Err(f.err(format!("`shape` must be (groups, 1, 1), got {shape:?}"))),
        },
        "concat" => {
            let Array { data: ids, .. } = f.required("layers")?;
            if ids.iter().any(|&x| x < 0.0 || x.fract() != 0.0) {
                return Err(f.err(format!("`layers` must hold layer indices, got {ids:?}")));
            }
            LayerKind::Concat { layers: ids.iter().map(|&x| x as usize).collect() }
        }
        // `dense_comp` names a complex dense layer (lava-dl's loader dispatches it to a
        // method it lacks, so it fails there); read it like `dense` with complex weights.
        "dense" | "dense_rec" | "dense_comp" => {
            // A complex layer stores `weight/real` and `weight/imag`.
            let complex = g.groups.get("weight").map(|w| {
                let part = |k: &str| match w.datasets.get(k) {
                    Some(Value::Numbers(a)) if a.data.iter().all(|x| x.is_finite()) => Ok(a.clone()),
                    Some(_) => Err(f.err(format!("`weight/{k}` must be finite numbers"))),
                    None => Err(f.err(format!("missing dataset `weight/{k}`"))),
                };
                Ok::<_, NetxError>((part("real")?, part("imag")?))
            });
            let (Array { shape: wshape, data: w }, imag) = match complex {
                Some(parts) => {
                    let (re, im) = parts?;
                    (re, Some(im))
                }
                None if type_name == "dense_comp" => {
                    return Err(f.err("`dense_comp` needs `weight/real` and `weight/imag`".into()))
                }
                None => (f.required("weight")?, None),
            };
            let n_out: usize = shape.iter().product();
            let n_in = if wshape.len() == 2 && wshape[0] == n_out {
                wshape[1]
            } else if n_out > 0 && w.len() % n_out == 0 {
                w.len() / n_out
            } else {
                return Err(f.err(format!("`weight` of shape {wshape:?} does not have {n_out} output rows")));
            };
            let weight = ndarray::Array2::from_shape_vec((n_out, n_in), ints(w)).map_err(|e| f.err(e.to_string()))?;
            let weight_imag = match imag {
                Some(Array { data: im, .. }) if im.len() == n_out * n_in => {
                    Some(ndarray::Array2::from_shape_vec((n_out, n_in), ints(im)).map_err(|e| f.err(e.to_string()))?)
                }
                Some(Array { shape: ishape, .. }) => {
                    return Err(f.err(format!("`weight/imag` of shape {ishape:?} is not ({n_out}, {n_in})")))
                }
                None => None,
            };
            let bias = f.numbers("bias")?.map(|a| ints(a.data));
            let delay = f.numbers("delay")?.map(|a| a.data);
            let weight_rec = if type_name == "dense_rec" {
                let Array { shape: rshape, data: r } = f.required("weight_rec")?;
                if r.len() != n_out * n_out {
                    return Err(f.err(format!("`weight_rec` of shape {rshape:?} is not ({n_out}, {n_out})")));
                }
                Some(ndarray::Array2::from_shape_vec((n_out, n_out), ints(r)).map_err(|e| f.err(e.to_string()))?)
            } else {
                None
            };
            LayerKind::Dense { weight, weight_rec, weight_imag, bias, delay }
        }
        "conv" | "convT" => {
            let Array { shape: wshape, data: w } = f.required("weight")?;
            if wshape.len() < 4 || wshape[4..].iter().any(|&d| d != 1) {
                return Err(f.err(format!("`weight` must be (Cout, Cin, kH, kW[, 1]), got shape {wshape:?}")));
            }
            let groups = f.numbers("groups")?.map_or(1, |a| a.data.first().map_or(1, |&g| g as usize));
            LayerKind::Conv {
                weight: ints(w),
                weight_shape: [wshape[0], wshape[1], wshape[2], wshape[3]],
                transposed: type_name == "convT",
                bias: f.numbers("bias")?.map(|a| ints(a.data)),
                stride: f.pair("stride", 1)?,
                padding: f.pair("padding", 0)?,
                dilation: f.pair("dilation", 1)?,
                groups,
            }
        }
        "pool" | "unpool" => {
            let Array { shape: wshape, data: w } = f.required("weight")?;
            // slayer writes (1, 1, kH, kW): one kernel for all channels.
            if wshape.len() < 2 || wshape[..wshape.len() - 2].iter().any(|&d| d != 1) {
                return Err(f.err(format!("`weight` must be one kernel (1, 1, kH, kW), got shape {wshape:?}")));
            }
            let kernel = [wshape[wshape.len() - 2], wshape[wshape.len() - 1]];
            if let Some(Array { data: k, .. }) = f.numbers("kernelSize")? {
                if k.len() != 2 || k[0] as usize != kernel[0] || k[1] as usize != kernel[1] {
                    return Err(f.err(format!("`kernelSize` {k:?} disagrees with `weight` of shape {wshape:?}")));
                }
            }
            LayerKind::Pool {
                transposed: type_name == "unpool",
                weight: ints(w),
                kernel,
                stride: if f.numbers("stride")?.is_some() { f.pair("stride", 1)? } else { kernel },
                padding: f.pair("padding", 0)?,
                dilation: f.pair("dilation", 1)?,
            }
        }
        other => LayerKind::Unsupported(other.to_string()),
    };
    let neuron = match g.groups.get("neuron") {
        None => None,
        Some(n) => Some(parse_neuron(&f, n)?),
    };
    Ok(LayerConfig { index, type_name, kind, shape, neuron })
}

fn parse_neuron(f: &Fields<'_>, n: &Tree) -> Result<NeuronConfig, NetxError> {
    let t = text(n.datasets.get("type")).ok_or_else(|| f.err("missing dataset `neuron/type`".into()))?;
    let scalar = |key: &str| -> Result<f64, NetxError> {
        match n.datasets.get(key) {
            Some(Value::Numbers(a)) if a.data.len() == 1 && a.data[0].is_finite() => Ok(a.data[0]),
            Some(_) => Err(f.err(format!("`neuron/{key}` must be one finite number"))),
            None => Err(f.err(format!("missing dataset `neuron/{key}`"))),
        }
    };
    let message_bits = match n.datasets.get("messageBits") {
        Some(Value::Numbers(a)) if a.data.len() == 1 && (0.0..=32.0).contains(&a.data[0]) => Some(a.data[0] as u32),
        Some(_) => return Err(f.err("`neuron/messageBits` must be 0..=32".into())),
        None => None,
    };
    let kind = match t.as_str() {
        "CUBA" | "LOIHI" => {
            NeuronKind::Cuba { i_decay: scalar("iDecay")?, v_decay: scalar("vDecay")?, vth_mant: scalar("vThMant")? }
        }
        "ALIF" => {
            if let Some(Value::Numbers(a)) = n.datasets.get("gradedSpike") {
                if a.data.iter().any(|&x| x != 0.0) {
                    return Err(f.err("graded-spike ALIF neurons are not supported".into()));
                }
            }
            NeuronKind::Alif {
                i_decay: scalar("iDecay")?,
                v_decay: scalar("vDecay")?,
                th_decay: scalar("thDecay")?,
                ref_decay: scalar("refDecay")?,
                vth_mant: scalar("vThMant")?,
                vth_step: scalar("vThStep")?,
            }
        }
        "SDNN" => {
            NeuronKind::Sdnn { vth_mant: scalar("vThMant")?, sigma_output: n.datasets.contains_key("sigma_output") }
        }
        rf if rf.contains("RF") => NeuronKind::Rf {
            type_name: rf.to_string(),
            sin_decay: scalar("sinDecay")?,
            cos_decay: scalar("cosDecay")?,
            vth_mant: scalar("vThMant")?,
        },
        other => NeuronKind::Other(other.to_string()),
    };
    Ok(NeuronConfig { kind, message_bits })
}
