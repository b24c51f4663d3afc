//! Networks of slayer blocks, read from and written to netx HDF5 files (SPEC §3.7, §4).

use std::path::Path;

use basalt_netx::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

use crate::axon::AxonDelay;
use crate::error::{Result, SlayerError};
use crate::kwta::Kwta;
use crate::neuron::alif::AlifNeuron;
use crate::neuron::cuba::{step_delay, step_delay_after, CubaNeuron};
use crate::neuron::learned::{LearnableDecays, LearnableRfDecays, LearnableThreshold};
use crate::neuron::norm::MeanOnlyBatchNorm;
use crate::neuron::rf::RfNeuron;
use crate::neuron::sigma_delta::SigmaDeltaNeuron;
use crate::neuron::staged::{forward_staged, Stages};
use crate::neuron::Neuron;
use crate::quantize::quantize_8bit;
use crate::synapse::{Average, Conv, ConvGeometry, Dense, Pool, Synapse, TimeDecimation};

/// slayer's Input block: inputs quantized to 8 bits (`quantize_8bit`), then either
/// delta-encoded into graded messages (`sigma_delta.Input`) or fed as currents to spiking
/// neurons whose spikes are shifted one step later (`cuba.Input` / `alif.Input`). No
/// learnable input weight or bias.
#[derive(Clone, Debug, PartialEq)]
pub struct InputBlock {
    /// The neurons: sigma-delta (only the delta unit runs), CUBA or ALIF.
    pub neuron: Neuron,
    /// Input shape (C, H, W); a flat input of n values is (n, 1, 1).
    pub shape: [usize; 3],
}

impl InputBlock {
    /// An input block of `shape` (C, H, W); refuses a sigma (Output) neuron.
    pub fn new(neuron: Neuron, shape: [usize; 3]) -> Result<Self> {
        if matches!(neuron, Neuron::Sigma(_) | Neuron::Rf(_)) || !neuron.emits_events() {
            return Err(SlayerError::Parameter {
                what: "Input block neuron".into(),
                reason: "a sigma (Output), RF (complex input), voltage or identity neuron cannot encode inputs".into(),
            });
        }
        Ok(InputBlock { neuron, shape })
    }

    /// The block's output for inputs `x` (batch, C·H·W, time); with `train`, differentiable
    /// (surrogate gradients for spiking neurons).
    pub fn forward(&self, x: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        let [batch, n, steps] = x.dims();
        let size: usize = self.shape.iter().product();
        if n != size {
            return Err(SlayerError::Shape {
                what: "Input block input".into(),
                expected: format!("(batch, {size}, time)"),
                got: vec![batch, n, steps],
            });
        }
        let z = quantize_8bit(x);
        match &self.neuron {
            Neuron::SigmaDelta(n) => n.encode(z),
            spiking if train => Ok(step_delay(spiking.forward_train(z)?)),
            spiking => Ok(step_delay(spiking.forward(z)?)),
        }
    }
}

/// A slayer block with a synapse: `cuba.Dense` / `Conv` / `Pool`, their `alif` and
/// `sigma_delta` versions, `sigma_delta.Output` (Dense + sigma) and the spiking `Recurrent`
/// blocks. Spiking blocks shift their spikes one step later (`delay_shift`, on by default)
/// to mirror the hop between Lava layers; sigma-delta blocks do not (slayer's default for
/// them). An optional learnable axonal delay (slayer's `delay=True`) comes last.
#[derive(Module, Debug)]
pub struct Block {
    /// The synapse (its weights are the trainable parameters).
    pub synapse: Synapse,
    /// Recurrent weights (n, n) of a `Recurrent` block: `s[t] = f(W x[t] + R s[t-1])`.
    pub recurrent: Option<Dense>,
    /// Axonal delays of the output, one per channel (slayer's `delay=True`).
    pub delay: Option<AxonDelay>,
    /// Mean-only batch norm (slayer's `norm`) of the CUBA neurons' current, exported as the
    /// layer's bias, or of the ALIF neurons' input current (not exportable).
    pub norm: Option<MeanOnlyBatchNorm>,
    /// Learnable CUBA or ALIF decays (slayer's `requires_grad=True`); they replace the
    /// neuron's.
    pub decays: Option<LearnableDecays>,
    /// Learnable RF sin and cos decays (slayer's `requires_grad=True`); they replace the
    /// neuron's.
    pub rf_decays: Option<LearnableRfDecays>,
    /// A learnable sigma-delta threshold (slayer's `requires_grad=True`); it replaces the
    /// neuron's.
    pub threshold: Option<LearnableThreshold>,
    /// The winner-take-all recurrence of a KWTA block.
    pub kwta: Option<Kwta>,
    /// The neurons.
    #[module(skip)]
    pub neuron: Neuron,
    /// Shift the output one step later (slayer's `delay_shift`).
    #[module(skip)]
    pub delay_shift: bool,
    /// A Flatten block comes before this block (a netx `flatten` layer). The tensors are
    /// always flat here, so it only matters to the exported file.
    #[module(skip)]
    pub flatten: bool,
    /// What a Recurrent or KWTA block carries from one forward call to the next.
    #[module(skip)]
    pub carried: CarriedState,
}

/// The neuron states a Recurrent or KWTA block carries from one forward call to the next
/// (slayer always keeps them for these blocks: `persistent_state`), and a KWTA block's last
/// output step, which its `delay_shift` sends first in the next call (slayer's
/// `step_delay` buffer). A call with another batch size starts from rest, as slayer's;
/// [`Block::reset_state`] forgets them.
#[derive(Debug, Default)]
pub struct CarriedState(std::sync::Mutex<Option<Carried>>);

/// The contents of a [`CarriedState`].
#[derive(Debug, Clone)]
struct Carried {
    /// The neurons' final states (batch, n, 4), see `recurrent::rest_state`.
    neurons: Tensor<3>,
    /// The last output step (batch, n, 1) before the `delay_shift`.
    last_output: Tensor<3>,
}

impl CarriedState {
    /// The carried states and last output when they are for `batch` copies of `n` neurons.
    fn for_shape(&self, batch: usize, n: usize) -> Option<Carried> {
        let carried = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        carried.as_ref().filter(|c| c.neurons.dims()[..2] == [batch, n]).cloned()
    }

    /// Keeps `carried` for the next call (None forgets).
    fn keep(&self, carried: Option<Carried>) {
        *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = carried;
    }
}

impl Clone for CarriedState {
    fn clone(&self) -> Self {
        CarriedState(std::sync::Mutex::new(self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()))
    }
}

/// The former name of [`Block`] (dense synapses only then).
pub type DenseBlock = Block;

impl Block {
    /// A block of `synapse` into `neuron` with slayer's default `delay_shift` (on for
    /// spiking neurons, off for sigma-delta, voltage and identity ones).
    pub fn new(synapse: Synapse, neuron: Neuron) -> Self {
        let delay_shift = neuron.spikes();
        Block {
            synapse,
            recurrent: None,
            delay: None,
            norm: None,
            decays: None,
            rf_decays: None,
            threshold: None,
            kwta: None,
            neuron,
            delay_shift,
            flatten: false,
            carried: CarriedState::default(),
        }
    }

    /// slayer's `cuba.Recurrent` / `alif.Recurrent`: input weights `synapse` (n, in),
    /// recurrent weights `recurrent` (n, n) from the block's own spikes one step earlier,
    /// into spiking `neuron`s (CUBA or ALIF).
    pub fn recurrent(synapse: Dense, recurrent: Dense, neuron: Neuron) -> Result<Self> {
        let n = synapse.dims()[0];
        if recurrent.dims() != [n, n] {
            return Err(SlayerError::Shape {
                what: "recurrent weights".into(),
                expected: format!("({n}, {n})"),
                got: recurrent.dims().to_vec(),
            });
        }
        if neuron.spiking_constants().is_none() {
            return Err(SlayerError::Parameter {
                what: "Recurrent block neuron".into(),
                reason: "must be CUBA or ALIF (slayer has no sigma-delta Recurrent block)".into(),
            });
        }
        let mut block = Block::new(Synapse::Dense(synapse), neuron);
        block.recurrent = Some(recurrent);
        Ok(block)
    }

    /// slayer's Affine block (`cuba.Affine`): dense synapses into CUBA neurons without
    /// threshold whose output is their voltage (`dynamics=True`, `Some(neuron)`), or the
    /// synaptic current itself (`dynamics=False`, `None`); no `delay_shift`. Exported (with
    /// dynamics, as the last block) as slayer does: a dense layer whose threshold
    /// (vThMant = 2^18 - 1) is never reached, whose voltage `v` is the output.
    pub fn affine(synapse: Dense, neuron: Option<CubaNeuron>) -> Self {
        Block::new(Synapse::Dense(synapse), neuron.map_or(Neuron::Identity, Neuron::Voltage))
    }

    /// slayer's Average block: the mean of `outputs` groups of the `in_size` inputs.
    pub fn average(in_size: usize, outputs: usize) -> Result<Self> {
        Ok(Block::new(Synapse::Average(Average::new(in_size, outputs)?), Neuron::Identity))
    }

    /// slayer's TimeDecimation block: inputs of `shape` (C, H, W) averaged over bins of
    /// `factor` steps (a power of two), the time axis zero-padded to whole bins.
    pub fn time_decimation(shape: [usize; 3], factor: usize) -> Result<Self> {
        Ok(Block::new(Synapse::TimeDecimation(TimeDecimation::new(shape, factor)?), Neuron::Identity))
    }

    /// slayer's `cuba.KWTA` / `alif.KWTA`: dense synapses `synapse` (n, in) into CUBA or
    /// ALIF neurons with the winner-take-all recurrence of `winners` winners and
    /// self-excitation `a` ([`Kwta`]); its constant input follows the (base) threshold.
    pub fn kwta(synapse: Dense, neuron: Neuron, winners: usize, self_excitation: f64) -> Result<Self> {
        if !matches!(neuron, Neuron::Cuba(_) | Neuron::Alif(_)) {
            return Err(SlayerError::Parameter {
                what: "KWTA block neuron".into(),
                reason: "must be CUBA or ALIF (slayer has no other KWTA block)".into(),
            });
        }
        let n = synapse.dims()[0];
        let device = synapse.weight.val().device();
        let kwta = Kwta::new(n, winners, self_excitation, &device)?;
        let mut block = Block::new(Synapse::Dense(synapse), neuron);
        block.kwta = Some(kwta);
        Ok(block)
    }

    /// Delays the block's output by `delay` (one per output channel), after the neurons
    /// and the `delay_shift` (slayer's `delay=True`; [`AxonDelay::init`] starts at 0).
    pub fn with_delay(mut self, delay: AxonDelay) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Adds slayer's mean-only batch norm (`neuron_params['norm'] = MeanOnlyBatchNorm`) to
    /// the block's CUBA neurons (on their current) or ALIF neurons (on their input current,
    /// as slayer's; not exportable), one mean per output channel, starting at 0.
    pub fn with_norm(mut self, device: &Device) -> Result<Self> {
        self.staged_neuron("batch norm")?;
        self.norm = Some(MeanOnlyBatchNorm::new(self.synapse.out_shape()?[0], device));
        Ok(self)
    }

    /// Makes the block's CUBA or ALIF current and voltage decays, or RF sin and cos decays,
    /// learnable (slayer's `requires_grad=True`), starting from the neuron's.
    pub fn with_learnable_decays(mut self, device: &Device) -> Result<Self> {
        if let Neuron::Rf(n) = &self.neuron {
            self.rf_decays = Some(LearnableRfDecays::new(n.decays(), device));
            return Ok(self);
        }
        let decays = self.staged_neuron("learnable decays")?.learnable_decays();
        self.decays = decays.map(|d| LearnableDecays::new(d, device));
        Ok(self)
    }

    /// Forgets the neuron states and last output a Recurrent or KWTA block carries from one
    /// forward call to the next (see [`CarriedState`]): the next call starts from rest, as
    /// a new block does. Call it between independent sequences of the same batch size.
    pub fn reset_state(&self) {
        self.carried.keep(None);
    }

    /// The spikes of a Recurrent or KWTA block for synaptic input `z`: the recurrence
    /// `R·s[t-1]` (and KWTA's constant input) stepped with the neurons, from the states the
    /// last call with this batch size left (or from rest), and what the block's
    /// `delay_shift` sends first: a KWTA block's last call's final output (slayer's
    /// `step_delay` with a persistent state; a Recurrent block's shift sends zeros). Keeps
    /// the final states and output.
    fn recurrent_spikes(&self, z: Tensor<3>, train: bool) -> Result<(Tensor<3>, Option<Tensor<3>>)> {
        let wrong = || SlayerError::Parameter {
            what: "Recurrent / KWTA block neuron".into(),
            reason: "must be CUBA or ALIF".into(),
        };
        let c = self.neuron.spiking_constants().ok_or_else(wrong)?;
        if c.graded && train {
            return Err(SlayerError::Parameter {
                what: "graded_spike".into(),
                reason: "training graded-spike Recurrent or KWTA blocks is not supported yet".into(),
            });
        }
        let n = z.dims()[1];
        let (z, r) = match (&self.recurrent, &self.kwta, &self.neuron) {
            (Some(r), _, _) => (z, r.quantized_weight()),
            (None, Some(k), Neuron::Cuba(neuron)) => (z + k.bias(n, neuron.threshold()), k.recurrent_weights(n)),
            (None, Some(k), Neuron::Alif(neuron)) => (z + k.bias(n, neuron.threshold()), k.recurrent_weights(n)),
            _ => return Err(wrong()),
        };
        let [batch, _, time] = z.dims();
        let device = z.device();
        let carried = self.carried.for_shape(batch, n);
        let state = match &carried {
            Some(c) => c.neurons.clone(),
            None => crate::recurrent::rest_state(&c, batch, n, &device),
        };
        let (s, neurons) = crate::recurrent::spikes(&c, z, r, state, train)?;
        if time == 0 {
            return Ok((s, None));
        }
        let last_output = s.clone().narrow(2, time - 1, 1).detach();
        self.carried.keep(Some(Carried { neurons, last_output }));
        let first = carried.filter(|_| self.kwta.is_some()).map(|before| before.last_output);
        Ok((s, first))
    }

    /// Makes the block's sigma-delta threshold learnable (slayer's `requires_grad=True`),
    /// starting from the neuron's.
    pub fn with_learnable_threshold(mut self, device: &Device) -> Result<Self> {
        match (&self.neuron, &self.recurrent) {
            (Neuron::SigmaDelta(n), None) => {
                self.threshold = Some(LearnableThreshold::new(n.threshold(), device));
                Ok(self)
            }
            _ => Err(SlayerError::Parameter {
                what: "learnable threshold".into(),
                reason: "only sigma-delta Dense, Conv and ConvT blocks have one".into(),
            }),
        }
    }

    /// The neurons of a block that may have `what` (a batch norm or learnable decays): CUBA
    /// or ALIF without recurrence.
    fn staged_neuron(&self, what: &str) -> Result<&Neuron> {
        match (&self.neuron, &self.recurrent, &self.kwta) {
            (Neuron::Cuba(_) | Neuron::Alif(_), None, None) => Ok(&self.neuron),
            _ => Err(SlayerError::Parameter {
                what: what.into(),
                reason: "only CUBA and ALIF blocks without recurrence have them".into(),
            }),
        }
    }

    /// The block's neurons as they are now: learnt decays or threshold in place of the
    /// initial ones.
    pub fn current_neuron(&self) -> Result<Neuron> {
        match (&self.decays, &self.rf_decays, &self.threshold) {
            (Some(d), _, _) => d.applied_to(&self.neuron),
            (None, Some(d), _) => d.applied_to(&self.neuron),
            (None, None, Some(t)) => t.applied_to(&self.neuron),
            (None, None, None) => Ok(self.neuron.clone()),
        }
    }

    /// Marks a Flatten block before this one (as slayer networks have between a
    /// convolution or pool and a dense block).
    pub fn after_flatten(mut self) -> Self {
        self.flatten = true;
        self
    }

    /// The block's output spikes for input spikes `x` (batch, in, time).
    pub fn forward(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        Ok(self.run(x, false)?.detach())
    }

    /// The same spikes with slayer's surrogate gradients (for training).
    pub fn forward_train(&self, x: Tensor<3>) -> Result<Tensor<3>> {
        self.run(x, true)
    }

    /// The block's clamped copy: delays in [0, 62], decays in [0, 4096] (RF: gain below
    /// 4096), a sigma-delta
    /// threshold of at least 1/4096 and a KWTA self-excitation in [0, 1], as slayer clamps
    /// them before every forward (call after an optimiser step).
    pub fn clamped(mut self) -> Self {
        self.delay = self.delay.map(AxonDelay::clamped);
        self.decays = self.decays.map(LearnableDecays::clamped);
        self.rf_decays = self.rf_decays.map(LearnableRfDecays::clamped);
        self.threshold = self.threshold.map(LearnableThreshold::clamped);
        self.kwta = self.kwta.map(Kwta::clamped);
        self
    }

    fn run(&self, x: Tensor<3>, train: bool) -> Result<Tensor<3>> {
        check_rf_pairing(&self.neuron, &self.synapse)?;
        let z = self.synapse.forward(x)?;
        // slayer normalizes an ALIF neuron's input current, a CUBA neuron's current.
        let (z, current_norm) = match (&self.norm, &self.neuron) {
            (Some(norm), Neuron::Alif(_)) => (norm.forward(z, train)?, None),
            (norm, _) => (z, norm.as_ref()),
        };
        // What the delay_shift sends first where not zeros (a KWTA block's carried output).
        let mut shifted_in = None;
        let s = if self.recurrent.is_some() || self.kwta.is_some() {
            let (s, first) = self.recurrent_spikes(z, train)?;
            shifted_in = first;
            s
        } else if current_norm.is_some() || self.decays.is_some() {
            let stages = Stages { norm: current_norm, decays: self.decays.as_ref() };
            forward_staged(&self.current_neuron()?, z, &stages, train)?
        } else if let Some(d) = &self.rf_decays {
            match self.current_neuron()? {
                Neuron::Rf(n) if train => n.forward_learning(z, d)?,
                neuron => neuron.forward(z)?,
            }
        } else if let (Some(t), Neuron::SigmaDelta(_)) = (&self.threshold, &self.neuron) {
            match self.current_neuron()? {
                Neuron::SigmaDelta(n) if train => n.forward_with_threshold(z, t.value.val())?,
                neuron => neuron.forward(z)?,
            }
        } else if train {
            self.neuron.forward_train(z)?
        } else {
            self.neuron.forward(z)?
        };
        let s = if self.delay_shift { step_delay_after(s, shifted_in) } else { s };
        match &self.delay {
            Some(d) => d.forward(s),
            None => Ok(s),
        }
    }
}

/// Resonate-and-fire neurons take a complex synapse, and only they do.
fn check_rf_pairing(neuron: &Neuron, synapse: &Synapse) -> Result<()> {
    if matches!(neuron, Neuron::Rf(_)) != matches!(synapse, Synapse::Complex(_)) {
        return Err(SlayerError::Parameter {
            what: "RF block".into(),
            reason: "resonate-and-fire neurons take a complex synapse (Synapse::complex), and only they do".into(),
        });
    }
    Ok(())
}

/// A feed-forward chain of blocks, optionally behind an Input block.
#[derive(Module, Debug)]
pub struct Network {
    /// The Input block (netx layer 0 when present).
    #[module(skip)]
    pub input: Option<InputBlock>,
    /// Blocks, input to output.
    pub blocks: Vec<Block>,
}

impl Network {
    /// Forgets the states its Recurrent and KWTA blocks carry from one forward call to the
    /// next ([`Block::reset_state`]): the next call starts from rest. Call it between
    /// independent sequences of the same batch size.
    pub fn reset_state(&self) {
        self.blocks.iter().for_each(Block::reset_state);
    }

    /// A new network of dense CUBA blocks with `sizes` = [inputs, hidden..., outputs],
    /// every layer's neurons as `neuron`, weights initialised as slayer's (`weight_scale`).
    pub fn dense(sizes: &[usize], neuron: &CubaNeuron, weight_scale: f64, device: &Device) -> Network {
        let blocks = sizes
            .windows(2)
            .map(|w| {
                Block::new(Synapse::Dense(Dense::init(w[0], w[1], weight_scale, device)), Neuron::Cuba(neuron.clone()))
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
            .map(|(i, w)| {
                let n = if i == last { Neuron::Sigma(neuron.clone()) } else { Neuron::SigmaDelta(neuron.clone()) };
                Block::new(Synapse::Dense(Dense::init(w[0], w[1], weight_scale, device)), n)
            })
            .collect();
        let input = InputBlock::new(Neuron::SigmaDelta(neuron), [sizes[0], 1, 1])?;
        Ok(Network { input: Some(input), blocks })
    }

    /// The network with every block's delays clamped to [0, 62] ([`Block::clamped`]), as
    /// slayer keeps them; apply after each optimiser step.
    pub fn clamped(self) -> Self {
        Network { input: self.input, blocks: self.blocks.into_iter().map(Block::clamped).collect() }
    }

    /// Every block's output for input spikes `x`, with surrogate gradients (training).
    pub fn forward_train(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, true)
    }

    /// Feeds `x` through the Input block (if any) and the blocks, differentiably with
    /// `train`; returns every block's output.
    fn chain(&self, x: Tensor<3>, train: bool) -> Result<Vec<Tensor<3>>> {
        let mut outs = Vec::with_capacity(self.blocks.len() + 1);
        let mut h = x;
        if let Some(input) = &self.input {
            h = input.forward(h, train)?;
            outs.push(h.clone());
        }
        for b in &self.blocks {
            h = if train { b.forward_train(h)? } else { b.forward(h)? };
            outs.push(h.clone());
        }
        Ok(outs)
    }

    /// Reads a netx file's layers as slayer blocks on `device` (what lava-dl's
    /// `netx.hdf5` descriptions mean to slayer); see [`Network::from_layers`] for the layers
    /// built. Any other layer is a clear error naming it.
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
    /// `input` (first), `dense` (with one delay per output neuron: the block's axonal delay),
    /// `dense_rec` (a Recurrent block), `conv`, `convT`, `pool`, `unpool` and `flatten` layers with CUBA, ALIF
    /// or SDNN neurons (SDNN with `sigma_output` as a sigma-delta Output block); a CUBA dense
    /// or conv layer's per-channel `bias` as slayer's batch norm with that running mean.
    /// Anything else (other biases, other delay layouts, other layer types) is a clear error
    /// naming the layer.
    pub fn from_layers(layers: &[LayerConfig], device: &Device) -> Result<Network> {
        let mut input = None;
        let mut blocks: Vec<Block> = Vec::new();
        // The previous layer's output (C, H, W), and whether a flatten layer came since.
        let mut shape: Option<[usize; 3]> = None;
        let mut flatten = false;
        for (position, c) in layers.iter().enumerate() {
            let unsupported = |reason: &str| SlayerError::Unsupported {
                layer: c.index,
                kind: c.type_name.clone(),
                reason: reason.into(),
            };
            let file_shape = as_chw(&c.shape).ok_or_else(|| unsupported("`shape` must be (N) or (C, H, W)"))?;
            let needs_shape = || shape.ok_or_else(|| unsupported("needs an input layer before it (its input shape)"));
            // A dense layer's inputs against what the layer before gives (when known).
            let check_inputs = |inputs: usize| match shape {
                Some(prev) if prev.iter().product::<usize>() != inputs => {
                    Err(unsupported(&format!("has {inputs} inputs, the layer before gives {prev:?}")))
                }
                _ => Ok(()),
            };
            // The synapse, a dense layer's recurrent weights and axonal delays, the bias.
            let (synapse, recurrent, delay, bias) = match &c.kind {
                LayerKind::Input => {
                    if position != 0 {
                        return Err(unsupported("an input layer must come first"));
                    }
                    let neuron = block_neuron(c.neuron.as_ref(), &unsupported)?;
                    input = Some(InputBlock::new(neuron, file_shape)?);
                    shape = Some(file_shape);
                    continue;
                }
                LayerKind::Flatten => {
                    let [ch, h, w] = needs_shape()?;
                    shape = Some([ch * h * w, 1, 1]);
                    flatten = true;
                    continue;
                }
                LayerKind::Dense { weight, weight_rec: None, weight_imag: Some(imag), bias: None, delay: None } => {
                    check_inputs(weight.ncols())?;
                    if imag.dim() != weight.dim() {
                        return Err(unsupported(&format!(
                            "imaginary weights of {:?} for real weights of {:?}",
                            imag.dim(),
                            weight.dim()
                        )));
                    }
                    let stacked = ndarray::concatenate(ndarray::Axis(0), &[weight.view(), imag.view()])
                        .map_err(|e| unsupported(&e.to_string()))?;
                    (Synapse::Complex(Dense::from_netx_weights(&stacked, device)?), None, None, None)
                }
                LayerKind::Dense { weight_imag: Some(_), .. } => {
                    return Err(unsupported(
                        "a complex dense layer with recurrence, delays or a bias has no slayer block",
                    ))
                }
                LayerKind::Dense { weight, weight_rec, weight_imag: None, bias, delay: file_delay } => {
                    check_inputs(weight.ncols())?;
                    let recurrent = weight_rec.as_ref().map(|r| Dense::from_netx_weights(r, device)).transpose()?;
                    let delay = match file_delay {
                        None => None,
                        Some(_) if recurrent.is_some() => {
                            return Err(unsupported(
                                "a recurrent layer with delays is not supported (nor by basalt-netx)",
                            ))
                        }
                        Some(d) if d.len() == weight.nrows() => Some(AxonDelay::from_steps(d, device)?),
                        Some(d) => {
                            return Err(unsupported(&format!(
                                "{} delays: only one per output neuron (slayer's axonal delay, as lava-dl exports it) \
                                 is a slayer block; per-synapse or per-input delays are not",
                                d.len()
                            )))
                        }
                    };
                    (Synapse::Dense(Dense::from_netx_weights(weight, device)?), recurrent, delay, bias.as_ref())
                }
                LayerKind::Conv { weight, weight_shape, transposed, bias, stride, padding, dilation, groups } => {
                    let geometry = ConvGeometry {
                        in_shape: needs_shape()?,
                        stride: *stride,
                        padding: *padding,
                        dilation: *dilation,
                        groups: *groups,
                    };
                    let conv = if *transposed {
                        Conv::from_netx_weights_transposed(weight, *weight_shape, geometry, device)?
                    } else {
                        Conv::from_netx_weights(weight, *weight_shape, geometry, device)?
                    };
                    (Synapse::Conv(conv), None, None, bias.as_ref())
                }
                LayerKind::Pool { transposed, weight, kernel, stride, padding, dilation } => {
                    let pool =
                        Pool::from_netx(needs_shape()?, *kernel, weight, [*stride, *padding, *dilation], *transposed)?;
                    (Synapse::Pool(pool), None, None, None)
                }
                _ => {
                    return Err(unsupported(
                        "only input, dense (with delays, recurrence or bias), conv, convT, pool, unpool and flatten \
                         layers are built so far",
                    ))
                }
            };
            let out = synapse.out_shape()?;
            if out.iter().product::<usize>() != file_shape.iter().product::<usize>() {
                return Err(unsupported(&format!("computes an output of {out:?}, the file says {:?}", c.shape)));
            }
            let mut neuron = block_neuron(c.neuron.as_ref(), &unsupported)?;
            // slayer's Affine export: the last layer's CUBA neurons with the unreachable
            // threshold, whose voltage is the output.
            if let Neuron::Cuba(n) = &neuron {
                let affine = n.device_params().2 == AFFINE_VTH_MANT && position + 1 == layers.len();
                if affine && recurrent.is_none() && bias.is_none() && delay.is_none() {
                    neuron = Neuron::Voltage(n.clone());
                }
            }
            check_rf_pairing(&neuron, &synapse).map_err(|e| unsupported(&e.to_string()))?;
            let mut block = match (recurrent, synapse) {
                (Some(r), Synapse::Dense(w)) => Block::recurrent(w, r, neuron)?,
                (_, synapse) => Block::new(synapse, neuron),
            };
            if let Some(bias) = bias {
                // slayer's bias is its batch norm's: CUBA, no recurrence and no delay (a
                // netx delay holds back the synapses, not the bias; slayer's the spikes).
                if delay.is_some() {
                    return Err(unsupported("a bias with delays has no slayer block"));
                }
                if !matches!((&block.neuron, &block.recurrent), (Neuron::Cuba(_), None)) {
                    return Err(unsupported(
                        "a bias is slayer's batch norm of CUBA blocks without recurrence only (an ALIF block's norm \
                         shifts its input current, not the voltage a netx bias is added to)",
                    ));
                }
                let norm =
                    MeanOnlyBatchNorm::from_netx_bias(bias, out[0], device).map_err(|e| unsupported(&e.to_string()))?;
                block.norm = Some(norm);
            }
            block.delay = delay;
            if let Neuron::Sigma(_) = block.neuron {
                if !matches!(block.synapse, Synapse::Dense(_)) {
                    return Err(unsupported("a sigma (Output) neuron needs a dense synapse"));
                }
            }
            blocks.push(if std::mem::take(&mut flatten) { block.after_flatten() } else { block });
            shape = Some(out);
        }
        Ok(Network { input, blocks })
    }

    /// Every block's output for input spikes `x` (batch, in, time), input to output.
    pub fn forward(&self, x: Tensor<3>) -> Result<Vec<Tensor<3>>> {
        self.chain(x, false)
    }

    /// The netx layer descriptions slayer's `export_hdf5` writes for these blocks.
    pub fn netx_layers(&self) -> Result<Vec<LayerConfig>> {
        let mut layers = Vec::with_capacity(self.blocks.len() + 2);
        if let Some(input) = &self.input {
            layers.push(LayerConfig {
                index: 0,
                type_name: "input".into(),
                shape: chw_vec(input.shape),
                kind: LayerKind::Input,
                neuron: Some(NeuronConfig { kind: neuron_kind(&input.neuron, 0, "input")?, message_bits: None }),
            });
        }
        for (position, b) in self.blocks.iter().enumerate() {
            if b.flatten {
                layers.push(LayerConfig {
                    index: layers.len(),
                    type_name: "flatten".into(),
                    shape: vec![b.synapse.in_size(), 1, 1],
                    kind: LayerKind::Flatten,
                    neuron: None,
                });
            }
            let index = layers.len();
            let out = b.synapse.out_shape()?;
            if b.kwta.is_some() {
                return Err(unsupported_export(
                    index,
                    "kwta",
                    "a KWTA block: netx has no such layer (lava-dl exports nothing)",
                ));
            }
            if matches!(b.neuron, Neuron::Voltage(_)) && position + 1 != self.blocks.len() {
                return Err(unsupported_export(
                    index,
                    "dense",
                    "an Affine block before the last: its voltage output has no netx message",
                ));
            }
            if b.delay.is_some() && !matches!(b.synapse, Synapse::Dense(_)) {
                return Err(unsupported_export(index, "conv/pool", "a delay: netx has delays on dense layers only"));
            }
            let bias =
                match &b.norm {
                    Some(_) if matches!(b.neuron, Neuron::Alif(_)) => return Err(unsupported_export(
                        index,
                        "dense",
                        "an ALIF block with a batch norm: slayer's ALIF norm shifts the input current, which a netx \
                         bias (added to the voltage) cannot hold",
                    )),
                    Some(_) if b.delay.is_some() => {
                        return Err(unsupported_export(
                            index,
                            "dense",
                            "a batch norm (bias) with delays: netx delays the synapses, not the bias",
                        ))
                    }
                    Some(norm) => Some(norm.netx_bias()?),
                    None => None,
                };
            if bias.is_some() && matches!(b.synapse, Synapse::Pool(_)) {
                return Err(unsupported_export(index, "pool", "a batch norm (bias): netx pool layers have none"));
            }
            let (type_name, kind, layer_shape) = match &b.synapse {
                Synapse::Dense(d) => {
                    let weight = d.netx_weights()?;
                    let weight_rec = b.recurrent.as_ref().map(Dense::netx_weights).transpose()?;
                    // lava-dl's layout: the block's floor(delay) per neuron on its own layer,
                    // which netx applies to the synapses into it. The neurons start at rest
                    // without bias, so delaying all of a neuron's input by d delays its
                    // spikes by d: the same network.
                    let delay = match &b.delay {
                        Some(_) if weight_rec.is_some() => {
                            return Err(unsupported_export(index, "dense_rec", "a delay on a recurrent block"))
                        }
                        Some(d) => Some(d.steps()?.into_iter().map(|d| d as f64).collect()),
                        None => None,
                    };
                    let type_name = if weight_rec.is_some() { "dense_rec" } else { "dense" };
                    let kind = LayerKind::Dense { weight, weight_rec, weight_imag: None, bias, delay };
                    (type_name, kind, vec![out[0]])
                }
                Synapse::Complex(d) => {
                    if b.delay.is_some() {
                        return Err(unsupported_export(index, "dense", "a delay on a complex (RF) block"));
                    }
                    let stacked = d.netx_weights()?;
                    let n = out[0];
                    let kind = LayerKind::Dense {
                        weight: stacked.slice(ndarray::s![..n, ..]).to_owned(),
                        weight_rec: None,
                        weight_imag: Some(stacked.slice(ndarray::s![n.., ..]).to_owned()),
                        bias,
                        delay: None,
                    };
                    ("dense", kind, vec![n])
                }
                Synapse::Conv(cv) => {
                    let g = cv.geometry;
                    let kind = LayerKind::Conv {
                        weight: cv.netx_weights()?,
                        weight_shape: cv.dims(),
                        transposed: cv.transposed,
                        bias,
                        stride: g.stride,
                        padding: g.padding,
                        dilation: g.dilation,
                        groups: g.groups,
                    };
                    (if cv.transposed { "convT" } else { "conv" }, kind, out.to_vec())
                }
                Synapse::Average(_) => {
                    return Err(unsupported_export(index, "average", "an Average block: netx has no average layer"))
                }
                Synapse::TimeDecimation(_) => {
                    return Err(unsupported_export(
                        index,
                        "time decimation",
                        "a TimeDecimation block: netx has no such layer (lava-dl exports nothing)",
                    ))
                }
                Synapse::Pool(p) => {
                    // netx builds an unpool per channel; slayer unpools the channels as one
                    // tall image, the same only when windows do not overlap.
                    let overlapping = p.stride != p.kernel || p.padding != [0, 0] || p.dilation != [1, 1];
                    if p.transposed && overlapping && p.in_shape[0] > 1 {
                        return Err(unsupported_export(
                            index,
                            "unpool",
                            "an unpool whose windows overlap (stride != kernel, padding or dilation): netx unpools \
                             each channel on its own",
                        ));
                    }
                    let kind = LayerKind::Pool {
                        transposed: p.transposed,
                        weight: p.netx_weights(),
                        kernel: p.kernel,
                        stride: p.stride,
                        padding: p.padding,
                        dilation: p.dilation,
                    };
                    (if p.transposed { "unpool" } else { "pool" }, kind, out.to_vec())
                }
            };
            layers.push(LayerConfig {
                index,
                type_name: type_name.into(),
                shape: layer_shape,
                kind,
                neuron: Some(NeuronConfig {
                    kind: neuron_kind(&b.current_neuron()?, index, type_name)?,
                    message_bits: None,
                }),
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

/// The threshold mantissa slayer's Affine block exports (`(1 << 18) - 1`): never reached,
/// so the layer's voltage is its output.
pub const AFFINE_VTH_MANT: f64 = 262_143.0;

/// A block that netx cannot hold.
fn unsupported_export(layer: usize, kind: &str, reason: &str) -> SlayerError {
    SlayerError::Unsupported { layer, kind: kind.into(), reason: format!("cannot export {reason}") }
}

/// A netx `shape` as (C, H, W): (N) is (N, 1, 1).
fn as_chw(shape: &[usize]) -> Option<[usize; 3]> {
    match *shape {
        [n] => Some([n, 1, 1]),
        [c, h, w] => Some([c, h, w]),
        _ => None,
    }
}

/// (C, H, W) as a netx `shape`: (C) when H = W = 1, as slayer writes dense shapes.
fn chw_vec(shape: [usize; 3]) -> Vec<usize> {
    if shape[1..] == [1, 1] {
        vec![shape[0]]
    } else {
        shape.to_vec()
    }
}

/// A netx layer's neuron group as a block's neurons.
fn block_neuron(n: Option<&NeuronConfig>, unsupported: &dyn Fn(&str) -> SlayerError) -> Result<Neuron> {
    Ok(match n.map(|n| &n.kind) {
        Some(NeuronKind::Cuba { i_decay, v_decay, vth_mant }) => {
            Neuron::Cuba(CubaNeuron::from_device_params(*i_decay, *v_decay, *vth_mant)?)
        }
        Some(NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step }) => Neuron::Alif(
            AlifNeuron::from_device_params([*i_decay, *v_decay, *th_decay, *ref_decay], *vth_mant, *vth_step)?,
        ),
        Some(NeuronKind::Sdnn { vth_mant, sigma_output }) => {
            let n = SigmaDeltaNeuron::from_device_params(*vth_mant)?;
            if *sigma_output {
                Neuron::Sigma(n)
            } else {
                Neuron::SigmaDelta(n)
            }
        }
        Some(NeuronKind::Rf { type_name, sin_decay, cos_decay, vth_mant }) => {
            Neuron::Rf(RfNeuron::from_device_params(*sin_decay, *cos_decay, *vth_mant, !type_name.contains("PHASE"))?)
        }
        _ => return Err(unsupported("only CUBA, ALIF, RF and SDNN neurons are built so far")),
    })
}

/// The neuron group slayer's `device_params` write for the neurons of layer `index` (of
/// type `kind`).
fn neuron_kind(n: &Neuron, index: usize, kind: &str) -> Result<NeuronKind> {
    Ok(match n {
        Neuron::Cuba(n) if n.is_graded() => {
            return Err(SlayerError::Unsupported {
                layer: index,
                kind: kind.into(),
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
        Neuron::Rf(n) => {
            let (sin_decay, cos_decay, vth_mant) = n.device_params();
            let type_name = if n.is_izhikevich() { "RF_IZHIKEVICH" } else { "RF_PHASE" }.into();
            NeuronKind::Rf { type_name, sin_decay, cos_decay, vth_mant }
        }
        Neuron::SigmaDelta(n) => NeuronKind::Sdnn { vth_mant: n.vth_mant(), sigma_output: false },
        Neuron::Sigma(n) => NeuronKind::Sdnn { vth_mant: n.vth_mant(), sigma_output: true },
        // slayer's Affine export: the largest threshold, never reached.
        Neuron::Voltage(n) => {
            let (i_decay, v_decay, _) = n.device_params();
            NeuronKind::Cuba { i_decay, v_decay, vth_mant: AFFINE_VTH_MANT }
        }
        Neuron::Identity => {
            return Err(SlayerError::Unsupported {
                layer: index,
                kind: kind.into(),
                reason: "cannot export a block without neurons (Affine without dynamics): netx layers have neurons"
                    .into(),
            })
        }
    })
}
