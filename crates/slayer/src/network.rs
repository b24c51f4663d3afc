//! Networks of slayer blocks, read from and written to netx HDF5 files (SPEC §3.7, §4).

use std::path::Path;

use basalt_netx::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::error::{Result, SlayerError};
use crate::neuron::alif::AlifNeuron;
use crate::neuron::cuba::{step_delay, CubaNeuron};
use crate::neuron::sigma_delta::SigmaDeltaNeuron;
use crate::neuron::Neuron;
use crate::quantize::quantize_8bit;
use crate::synapse::Dense;

/// slayer's `sigma_delta.Input` block: inputs quantized to 8 bits (`quantize_8bit`), then
/// delta-encoded into graded messages (no learnable input weight or bias).
#[derive(Clone, Debug, PartialEq)]
pub struct InputBlock {
    /// The encoder (only its delta unit runs).
    pub neuron: SigmaDeltaNeuron,
    /// Number of inputs.
    pub size: usize,
}

impl InputBlock {
    /// The messages for inputs `x` (batch, size, time); differentiable.
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let [batch, n, steps] = x.dims();
        if n != self.size {
            return Err(SlayerError::Shape {
                what: "Input block input".into(),
                expected: format!("(batch, {}, time)", self.size),
                got: vec![batch, n, steps],
            });
        }
        self.neuron.encode(quantize_8bit(x))
    }
}

/// slayer's `cuba.Dense` / `alif.Dense` / `sigma_delta.Dense` / `sigma_delta.Output` block: a
/// Dense synapse into neurons. Spiking blocks shift their spikes one step later
/// (`delay_shift`, on by default) to mirror the hop between Lava layers; sigma-delta blocks
/// do not (slayer's default for them).
#[derive(Module, Debug)]
pub struct DenseBlock {
    /// The synapse (its weights are the trainable parameters).
    pub synapse: Dense,
    /// The neurons.
    #[module(skip)]
    pub neuron: Neuron,
    /// Shift the output one step later (slayer's `delay_shift`).
    #[module(skip)]
    pub delay_shift: bool,
}

impl DenseBlock {
    /// The block's output spikes for input spikes `x` (batch, in, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let s = self.neuron.forward(self.synapse.forward(x)?)?;
        Ok(if self.delay_shift { step_delay(s) } else { s })
    }

    /// The same spikes with slayer's surrogate gradients (for training).
    pub fn forward_train(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        let s = self.neuron.forward_train(self.synapse.forward(x)?)?;
        Ok(if self.delay_shift { step_delay(s) } else { s })
    }
}

/// A feed-forward chain of blocks, optionally behind a sigma-delta Input block.
#[derive(Module, Debug)]
pub struct Network {
    /// The sigma-delta Input block (netx layer 0 when present).
    #[module(skip)]
    pub input: Option<InputBlock>,
    /// Blocks, input to output.
    pub blocks: Vec<DenseBlock>,
}

impl Network {
    /// A new network of dense CUBA blocks with `sizes` = [inputs, hidden..., outputs],
    /// every layer's neurons as `neuron`, weights initialised as slayer's (`weight_scale`).
    pub fn dense(sizes: &[usize], neuron: &CubaNeuron, weight_scale: f64, device: &Device) -> Network {
        let blocks = sizes
            .windows(2)
            .map(|w| DenseBlock {
                synapse: Dense::init(w[0], w[1], weight_scale, device),
                neuron: Neuron::Cuba(neuron.clone()),
                delay_shift: true,
            })
            .collect();
        Network { input: None, blocks }
    }

    /// A new sigma-delta network as lava-dl's PilotNet SDNN is built, with `sizes` =
    /// [inputs, hidden..., outputs]: a delta-encoding Input block, `sigma_delta.Dense` ReLU
    /// blocks for the hidden layers and a `sigma_delta.Output` block (Dense + sigma) whose
    /// output is the decoded activation; every delta unit with `threshold`, weights
    /// initialised as slayer's (`weight_scale`).
    pub fn sigma_delta(sizes: &[usize], threshold: f64, weight_scale: f64, device: &Device) -> Result<Network> {
        if sizes.len() < 2 {
            return Err(SlayerError::Parameter {
                what: "sizes".into(),
                reason: format!("need inputs and outputs, got {sizes:?}"),
            });
        }
        let neuron = SigmaDeltaNeuron::new(threshold)?;
        let last = sizes.len() - 2;
        let blocks = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| DenseBlock {
                synapse: Dense::init(w[0], w[1], weight_scale, device),
                neuron: if i == last { Neuron::Sigma(neuron.clone()) } else { Neuron::SigmaDelta(neuron.clone()) },
                delay_shift: false,
            })
            .collect();
        Ok(Network { input: Some(InputBlock { neuron, size: sizes[0] }), blocks })
    }

    /// Every block's output for input spikes `x`, with surrogate gradients (training).
    pub fn forward_train(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, DenseBlock::forward_train)
    }

    /// Feeds `x` through the Input block (if any) and the blocks with `step`; returns every
    /// block's output.
    fn chain(
        &self,
        x: Tensor<3>,
        step: impl Fn(&DenseBlock, Tensor<3>) -> Result<Tensor<3>>,
    ) -> Result<Vec<Tensor<3>>> {
        let mut outs = Vec::with_capacity(self.blocks.len() + 1);
        let mut h = x;
        if let Some(input) = &self.input {
            h = input.forward(h)?;
            outs.push(h.clone());
        }
        for b in &self.blocks {
            h = step(b, h)?;
            outs.push(h.clone());
        }
        Ok(outs)
    }

    /// Reads a netx file's layers as slayer blocks on `device` (what lava-dl's
    /// `netx.hdf5` descriptions mean to slayer). Builds `dense` layers with CUBA or ALIF
    /// neurons; any other layer is a clear error naming it.
    pub fn from_netx(path: impl AsRef<Path>, device: &Device) -> Result<Network> {
        Network::from_layers(&basalt_netx::read_layers(path)?, device)
    }

    /// A NIR graph as slayer blocks on `device`, discretised with time step `dt` (seconds)
    /// as `basalt_nir::nir_to_netx` does: a model from snnTorch, Norse or another NIR
    /// exporter, ready to fine-tune.
    pub fn from_nir(graph: &basalt_nir::Graph, dt: f64, device: &Device) -> Result<Network> {
        Network::from_layers(&basalt_nir::nir_to_netx(graph, dt)?, device)
    }

    /// The network as a NIR graph with time step `dt` (seconds): the netx layers of
    /// [`Network::netx_layers`] through `basalt_nir::netx_to_nir`.
    pub fn to_nir(&self, dt: f64) -> Result<basalt_nir::Graph> {
        Ok(basalt_nir::netx_to_nir(&self.netx_layers()?, dt)?)
    }

    /// netx layer descriptions as slayer blocks on `device` (see [`Network::from_netx`]):
    /// `dense` layers with CUBA, ALIF or SDNN neurons (SDNN with `sigma_output` as a
    /// sigma-delta Output block) and a first `input` layer with SDNN neurons.
    pub fn from_layers(layers: &[LayerConfig], device: &Device) -> Result<Network> {
        let mut input = None;
        let mut blocks = Vec::new();
        for (position, c) in layers.iter().enumerate() {
            let unsupported = |reason: &str| SlayerError::Unsupported {
                layer: c.index,
                kind: c.type_name.clone(),
                reason: reason.into(),
            };
            let neuron_kind = c.neuron.as_ref().map(|n| &n.kind);
            if let LayerKind::Input = c.kind {
                let Some(NeuronKind::Sdnn { vth_mant, sigma_output: false }) = neuron_kind else {
                    return Err(unsupported("only sigma-delta (SDNN) input layers are built so far"));
                };
                if position != 0 {
                    return Err(unsupported("an input layer must come first"));
                }
                let size = c.shape.iter().product();
                if c.shape.len() != 1 {
                    return Err(unsupported("only flat (1-D) inputs are built so far"));
                }
                input = Some(InputBlock { neuron: SigmaDeltaNeuron::from_device_params(*vth_mant)?, size });
                continue;
            }
            let LayerKind::Dense { weight, weight_rec: None, weight_imag: None, bias: None, delay: None } = &c.kind
            else {
                return Err(unsupported("only dense layers without bias, delay or recurrence are built so far"));
            };
            let (neuron, delay_shift) = match neuron_kind {
                Some(NeuronKind::Cuba { i_decay, v_decay, vth_mant }) => {
                    (Neuron::Cuba(CubaNeuron::from_device_params(*i_decay, *v_decay, *vth_mant)?), true)
                }
                Some(NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step }) => (
                    Neuron::Alif(AlifNeuron::from_device_params(
                        [*i_decay, *v_decay, *th_decay, *ref_decay],
                        *vth_mant,
                        *vth_step,
                    )?),
                    true,
                ),
                Some(NeuronKind::Sdnn { vth_mant, sigma_output }) => {
                    let n = SigmaDeltaNeuron::from_device_params(*vth_mant)?;
                    (if *sigma_output { Neuron::Sigma(n) } else { Neuron::SigmaDelta(n) }, false)
                }
                _ => return Err(unsupported("only CUBA, ALIF and SDNN neurons are built so far")),
            };
            blocks.push(DenseBlock { synapse: Dense::from_netx_weights(weight, device)?, neuron, delay_shift });
        }
        Ok(Network { input, blocks })
    }

    /// Every block's output for input spikes `x` (batch, in, time), input to output.
    pub fn forward(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, DenseBlock::forward)
    }

    /// The netx layer descriptions slayer's `export_hdf5` writes for these blocks.
    pub fn netx_layers(&self) -> Result<Vec<LayerConfig>> {
        let mut layers = Vec::with_capacity(self.blocks.len() + 1);
        if let Some(input) = &self.input {
            layers.push(LayerConfig {
                index: 0,
                type_name: "input".into(),
                shape: vec![input.size],
                kind: LayerKind::Input,
                neuron: Some(NeuronConfig {
                    kind: NeuronKind::Sdnn { vth_mant: input.neuron.vth_mant(), sigma_output: false },
                    message_bits: None,
                }),
            });
        }
        for b in &self.blocks {
            let index = layers.len();
            let kind = match &b.neuron {
                Neuron::Cuba(n) if n.is_graded() => {
                    return Err(SlayerError::Unsupported {
                        layer: index,
                        kind: "dense".into(),
                        reason: "exporting graded-spike CUBA neurons is not supported yet".into(),
                    })
                }
                Neuron::Cuba(n) => {
                    let (i_decay, v_decay, vth_mant) = n.device_params();
                    NeuronKind::Cuba { i_decay, v_decay, vth_mant }
                }
                Neuron::Alif(n) => {
                    let ([i_decay, v_decay, th_decay, ref_decay], vth_mant, vth_step) = n.device_params();
                    NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step }
                }
                Neuron::SigmaDelta(n) => NeuronKind::Sdnn { vth_mant: n.vth_mant(), sigma_output: false },
                Neuron::Sigma(n) => NeuronKind::Sdnn { vth_mant: n.vth_mant(), sigma_output: true },
            };
            let weight = b.synapse.netx_weights()?;
            layers.push(LayerConfig {
                index,
                type_name: "dense".into(),
                shape: vec![weight.nrows()],
                kind: LayerKind::Dense { weight, weight_rec: None, weight_imag: None, bias: None, delay: None },
                neuron: Some(NeuronConfig { kind, message_bits: None }),
            });
        }
        Ok(layers)
    }

    /// Writes the network as a netx `.net` file (atomically) that lava-dl's netx and
    /// `basalt_netx::load` read.
    pub fn export_netx(&self, path: impl AsRef<Path>) -> Result<()> {
        basalt_netx::write(path, &self.netx_layers()?)?;
        Ok(())
    }
}
