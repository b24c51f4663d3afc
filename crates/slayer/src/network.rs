//! Networks of slayer blocks, read from and written to netx HDF5 files (SPEC §3.7, §4).

use std::path::Path;

use basalt_netx::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::error::{Result, SlayerError};
use crate::neuron::alif::AlifNeuron;
use crate::neuron::cuba::{step_delay, CubaNeuron};
use crate::neuron::Neuron;
use crate::synapse::Dense;

/// slayer's `cuba.Dense` / `alif.Dense` block: a Dense synapse into neurons, whose spikes are shifted
/// one step later (`delay_shift`, on by default) to mirror the hop between Lava layers.
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

/// A feed-forward chain of blocks.
#[derive(Module, Debug)]
pub struct Network {
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
        Network { blocks }
    }

    /// Every block's output for input spikes `x`, with surrogate gradients (training).
    pub fn forward_train(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, DenseBlock::forward_train)
    }

    /// Feeds `x` through the blocks with `step`; returns every block's output.
    fn chain(
        &self,
        x: Tensor<3>,
        step: impl Fn(&DenseBlock, Tensor<3>) -> Result<Tensor<3>>,
    ) -> Result<Vec<Tensor<3>>> {
        let mut outs = Vec::with_capacity(self.blocks.len());
        let mut h = x;
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

    /// netx layer descriptions as slayer blocks on `device` (see [`Network::from_netx`]).
    pub fn from_layers(layers: &[LayerConfig], device: &Device) -> Result<Network> {
        let mut blocks = Vec::new();
        for c in layers {
            let unsupported = |reason: &str| SlayerError::Unsupported {
                layer: c.index,
                kind: c.type_name.clone(),
                reason: reason.into(),
            };
            let LayerKind::Dense { weight, weight_rec: None, weight_imag: None, bias: None, delay: None } = &c.kind
            else {
                return Err(unsupported("only dense layers without bias, delay or recurrence are built so far"));
            };
            let neuron = match c.neuron.as_ref().map(|n| &n.kind) {
                Some(NeuronKind::Cuba { i_decay, v_decay, vth_mant }) => {
                    Neuron::Cuba(CubaNeuron::from_device_params(*i_decay, *v_decay, *vth_mant)?)
                }
                Some(NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step }) => Neuron::Alif(
                    AlifNeuron::from_device_params([*i_decay, *v_decay, *th_decay, *ref_decay], *vth_mant, *vth_step)?,
                ),
                _ => return Err(unsupported("only CUBA and ALIF neurons are built so far")),
            };
            blocks.push(DenseBlock { synapse: Dense::from_netx_weights(weight, device)?, neuron, delay_shift: true });
        }
        Ok(Network { blocks })
    }

    /// Every block's output for input spikes `x` (batch, in, time), input to output.
    pub fn forward(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, DenseBlock::forward)
    }

    /// The netx layer descriptions slayer's `export_hdf5` writes for these blocks.
    pub fn netx_layers(&self) -> Result<Vec<LayerConfig>> {
        self.blocks
            .iter()
            .enumerate()
            .map(|(index, b)| {
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
                };
                let weight = b.synapse.netx_weights()?;
                Ok(LayerConfig {
                    index,
                    type_name: "dense".into(),
                    shape: vec![weight.nrows()],
                    kind: LayerKind::Dense { weight, weight_rec: None, weight_imag: None, bias: None, delay: None },
                    neuron: Some(NeuronConfig { kind, message_bits: None }),
                })
            })
            .collect()
    }

    /// Writes the network as a netx `.net` file (atomically) that lava-dl's netx and
    /// `basalt_netx::load` read.
    pub fn export_netx(&self, path: impl AsRef<Path>) -> Result<()> {
        basalt_netx::write(path, &self.netx_layers()?)?;
        Ok(())
    }
}
