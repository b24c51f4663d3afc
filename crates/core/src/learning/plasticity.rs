//! The learning engine of a plastic connection (Lava `PyLearningConnection` and its float
//! and bit-approximate subclasses in `magma/core/model/py/connection.py`): spike times and
//! traces during an epoch, and at its end the trace histories, the rule evaluation and the
//! update of weights, delays and tags.
//!
//! Per spike phase: pre spikes (multi-spike impulses, graded-spike trace modes, spike time
//! `tx`), the trace generators advance, post spikes (`y0`, multi-spike impulses, `ty`; a
//! three-factor rule then takes y1..y3 from the post neuron), the generators advance again.
//! Per epoch (`time_step % t_epoch == 0`): the synaptic-variable generator advances, the
//! traces are replayed step by step over the epoch (decay by `exp(-1/tau)`, impulse at the
//! recorded spike step), every product is evaluated on the trace values at its dependency's
//! spike step, and the spike records are cleared.
//!
//! Float values follow Lava's float model (f64). Fixed point follows Lava's bit-approximate
//! model: 7-bit traces with stochastic rounding from NumPy-compatible generators
//! ([`super::rng`]), products in a 16-bit accumulator, weights/delays/tags stochastically
//! rounded back to 8 bits. One departure: a trace with `tau = 0` is 0 between impulses in
//! both models (Lava's float model leaves it NaN after the first epoch).

use serde::{Deserialize, Serialize};

use super::rng::NumpyRng;
use super::rule::{CompiledRule, Dependency, Factor, FactorVar, LearningRule, RuleKind, Target};
use crate::process::dense::SignMode;

/// How graded pre-synaptic spikes update the pre traces (Lava `GradedSpikeCfg`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GradedSpikeCfg {
    /// Spikes are binary events; traces get their regular impulses.
    #[default]
    UseRegularImpulse = 0,
    /// x1 is overwritten by payload / 2 on a spike.
    Overwrite = 1,
    /// payload / 2 is added to x1, saturating at 127 (fixed point).
    AddWithSaturation = 2,
    /// payload / 2 is added to x1; on overflow past 127 only the excess stays, x2 gets its
    /// impulse and only such spikes count for x0 (fixed point).
    AddWithoutSaturation = 3,
}

/// Largest 7-bit trace value.
const TRACE_MAX: f64 = 127.0;
/// The accumulator is 16 bits signed; Lava clips to [-(2^15) - 1, 2^15 - 1].
const ACC_MIN: i32 = -(1 << 15) - 1;
const ACC_MAX: i32 = (1 << 15) - 1;
/// Synaptic variables sit in the accumulator shifted by 16 - 9 bits.
const ACC_SHIFT: u32 = 7;
/// Bits of a scaling mantissa, counted with the factor widths.
const MANTISSA_BITS: u32 = 4;
const ACC_BITS: u32 = 15;

/// NumPy-seeded generators of one side's traces (Lava `TraceRandom`): one number for the
/// stochastic rounding after decay, one for the rounding after an impulse.
#[derive(Clone, Debug)]
struct TraceRandom {
    decay_rng: NumpyRng,
    impulse_rng: NumpyRng,
    decay: f64,
    impulse: f64,
}

impl TraceRandom {
    fn new(seed_decay: u64, seed_impulse: u64) -> Self {
        let mut r = TraceRandom {
            decay_rng: NumpyRng::new(seed_decay),
            impulse_rng: NumpyRng::new(seed_impulse),
            decay: 0.0,
            impulse: 0.0,
        };
        r.advance();
        r
    }
    fn advance(&mut self) {
        self.decay = self.decay_rng.random();
        self.impulse = self.impulse_rng.integers(1 << 7) as f64;
    }
}

/// The stochastic-rounding numbers of a fixed-point learning connection, drawn as Lava
/// draws them: the pre (x) and post (y) trace generators (seeds `rng_seed` .. `rng_seed + 3`)
/// advance twice per step (after the pre and after the post spikes), the synaptic generator
/// (seed 2) once per epoch end. Public so that other backends draw the same numbers.
#[derive(Clone, Debug)]
pub struct LearningRandoms {
    x: TraceRandom,
    y: TraceRandom,
    syn_rng: NumpyRng,
    syn: f64,
}

impl LearningRandoms {
    /// The generators of a rule seeded with `rng_seed`, before the first step.
    pub fn new(rng_seed: u64) -> Self {
        let mut syn_rng = NumpyRng::new(2);
        let syn = syn_rng.random();
        LearningRandoms {
            x: TraceRandom::new(rng_seed, rng_seed + 1),
            y: TraceRandom::new(rng_seed + 2, rng_seed + 3),
            syn_rng,
            syn,
        }
    }
    /// Advances both sides' trace generators.
    pub fn advance_traces(&mut self) {
        self.x.advance();
        self.y.advance();
    }
    /// Draws the synaptic variables' number (at an epoch end, before learning).
    pub fn advance_synapses(&mut self) {
        self.syn = self.syn_rng.random();
    }
    /// The decay rounding number of the pre (`post = false`) or post side, in [0, 1).
    pub fn trace_decay(&self, post: bool) -> f64 {
        if post {
            self.y.decay
        } else {
            self.x.decay
        }
    }
    /// The impulse rounding number of the pre or post side, an integer in 0..128.
    pub fn trace_impulse(&self, post: bool) -> f64 {
        if post {
            self.y.impulse
        } else {
            self.x.impulse
        }
    }
    /// The synaptic variables' rounding number, in [0, 1).
    pub fn synapse(&self) -> f64 {
        self.syn
    }
}

/// An impulse split as the fixed-point model uses it: integer part and 8 fractional bits.
#[derive(Clone, Copy, Debug)]
struct Impulse {
    value: f64,
    int: f64,
    frac: f64,
}

impl Impulse {
    fn new(value: f64) -> Self {
        let (int, frac) = fixed_impulse(value);
        Impulse { value, int, frac }
    }
}

/// A fixed-point impulse as (integer part, fraction in 1/256): a trace gets `int`, plus 1
/// when the impulse rounding number is below `frac`.
pub fn fixed_impulse(value: f64) -> (f64, f64) {
    let int = value.floor();
    (int, ((value - int) * 256.0).round_ties_even())
}

/// The per-step decay factor `exp(-1/tau)` of a trace; None for `tau = 0` (no memory).
pub fn trace_decay_factor(tau: f64) -> Option<f64> {
    (tau != 0.0).then(|| (-1.0 / tau).exp())
}

/// Trace state and learning of one plastic (num_post, num_pre) connection.
#[derive(Clone, Debug)]
pub struct Plasticity {
    rule: CompiledRule,
    kind: RuleKind,
    t_epoch: u64,
    fixed: bool,
    graded: GradedSpikeCfg,
    sign_mode: SignMode,
    n_pre: usize,
    n_post: usize,
    impulses: [Impulse; 5],
    /// `exp(-1/tau)` per trace, None for tau = 0.
    decay: [Option<f64>; 5],
    randoms: Option<LearningRandoms>,
    /// x1, x2 (n_pre each), y1, y2, y3 (n_post each).
    pub(crate) traces: [Vec<f64>; 5],
    /// Within-epoch spike step of each pre / post neuron (0 = none).
    pub(crate) tx: Vec<u32>,
    pub(crate) ty: Vec<u32>,
    pub(crate) x0: Vec<bool>,
    pub(crate) y0: Vec<bool>,
    /// Trace histories over the epoch, [(t_epoch + 1) * n] per trace.
    history: [Vec<f64>; 5],
    /// Float scaling `m * 2^(e - 7)` of every product, per rule of `rule.series`.
    scales: Vec<Vec<f64>>,
    /// New values of the synaptic variables per rule of `rule.series`, column-major.
    new_values: Vec<Vec<f64>>,
}

/// The synaptic variables a rule reads and writes, column-major (`j * n_post + i`).
pub struct Synapses<'a> {
    /// Weights.
    pub weights: &'a mut [f64],
    /// Delays (Lava `tag_2`).
    pub delays: &'a mut [f64],
    /// Tags (Lava `tag_1`).
    pub tags: &'a mut [f64],
}

impl Plasticity {
    /// The engine for a (num_post, num_pre) connection.
    pub fn new(
        rule: &LearningRule,
        fixed: bool,
        graded: GradedSpikeCfg,
        sign_mode: SignMode,
        n_post: usize,
        n_pre: usize,
    ) -> Result<Self, String> {
        let compiled = rule.compile().map_err(|e| e.to_string())?;
        let compiled_scales = compiled
            .series
            .iter()
            .map(|(_, ps)| ps.iter().map(|p| f64::from(p.s_mantissa) * 2f64.powi(p.s_exp - 7)).collect())
            .collect();
        let params: Vec<_> = rule.x.iter().chain(&rule.y).collect();
        let impulses = std::array::from_fn(|k| Impulse::new(params[k].impulse));
        let decay = std::array::from_fn(|k| trace_decay_factor(params[k].tau));
        let n = |k: usize| if k < 2 { n_pre } else { n_post };
        let t_epoch = u64::from(rule.t_epoch);
        let randoms = fixed.then(|| LearningRandoms::new(rule.rng_seed));
        Ok(Plasticity {
            rule: compiled,
            kind: rule.kind,
            t_epoch,
            fixed,
            graded,
            sign_mode,
            n_pre,
            n_post,
            impulses,
            decay,
            randoms,
            traces: std::array::from_fn(|k| vec![0.0; n(k)]),
            tx: vec![0; n_pre],
            ty: vec![0; n_post],
            x0: vec![false; n_pre],
            y0: vec![false; n_post],
            history: std::array::from_fn(|k| vec![0.0; (t_epoch as usize + 1) * n(k)]),
            new_values: vec![vec![0.0; n_pre * n_post]; 3],
            scales: compiled_scales,
        })
    }

    /// The rule kind (two or three factors).
    pub fn kind(&self) -> RuleKind {
        self.kind
    }

    /// Within-epoch step of `time_step`, 1..=t_epoch.
    fn epoch_step(&self, time_step: u64) -> u32 {
        match time_step % self.t_epoch {
            0 => self.t_epoch as u32,
            r => r as u32,
        }
    }

    /// A trace after an impulse: float adds it; fixed point adds the integer part plus 1
    /// where `random < frac` and clips to 7 bits.
    fn add_impulse(fixed: bool, v: f64, imp: Impulse, random: f64) -> f64 {
        if fixed {
            (v + imp.int + f64::from(u8::from(random < imp.frac))).clamp(0.0, TRACE_MAX)
        } else {
            v + imp.value
        }
    }

    /// Advances both sides' trace generators (fixed point only).
    fn advance_trace_randoms(&mut self) {
        if let Some(r) = &mut self.randoms {
            r.advance_traces();
        }
    }

    /// Fixed point: `exp(-1/tau) * v`, floored, plus 1 where `random < fraction`.
    fn decay_fixed(v: f64, factor: f64, random: f64) -> f64 {
        let x = factor * v;
        let fl = x.floor();
        fl + f64::from(u8::from(random < x - fl))
    }

    /// The spike phase after the connection has received `s_in` (pre spikes, graded
    /// payloads for graded connections) and the post side's `bap` spikes, plus y1..y3 for a
    /// three-factor rule.
    pub fn spike(&mut self, time_step: u64, s_in: &[f64], graded_in: bool, bap: &[f64], y_in: Option<[&[f64]; 3]>) {
        let ts = self.epoch_step(time_step);
        self.pre_spikes(ts, s_in, graded_in);
        self.advance_trace_randoms();
        self.post_spikes(ts, bap);
        if let (RuleKind::ThreeFactor, Some(ys)) = (self.kind, y_in) {
            for (k, y) in ys.iter().enumerate() {
                self.traces[2 + k].copy_from_slice(y);
            }
        }
        self.advance_trace_randoms();
    }

    fn pre_spikes(&mut self, ts: u32, s_in: &[f64], graded_in: bool) {
        let [imp1, imp2] = [self.impulses[0], self.impulses[1]];
        let fixed = self.fixed;
        let (x1s, rest) = self.traces.split_at_mut(1);
        let (x1, x2) = (&mut x1s[0], &mut rest[0]);
        for j in 0..self.n_pre {
            let s = s_in[j];
            let spiked = s != 0.0;
            let multi = self.tx[j] > 0 && spiked;
            // Binary connections see a spike as `true`, whose half is 0.5.
            let payload = if graded_in { s } else { f64::from(u8::from(spiked)) };
            let mut count_spike = spiked;
            let mut x2_update = multi;
            // A repeated spike in the epoch adds its impulses at once (fixed point rounds
            // them with a random number of 0).
            if multi && self.graded == GradedSpikeCfg::UseRegularImpulse {
                x1[j] = Self::add_impulse(fixed, x1[j], imp1, 0.0);
            }
            if fixed {
                let scaled = ((payload / 2.0).round_ties_even() as i64).rem_euclid(256) as f64;
                match self.graded {
                    GradedSpikeCfg::UseRegularImpulse => {}
                    GradedSpikeCfg::Overwrite => {
                        if spiked {
                            x1[j] = scaled;
                        }
                    }
                    GradedSpikeCfg::AddWithSaturation => x1[j] = ((x1[j] + scaled) % 256.0).min(TRACE_MAX),
                    GradedSpikeCfg::AddWithoutSaturation => {
                        let sum = (x1[j] + scaled) % 256.0;
                        let overflow = sum > TRACE_MAX;
                        count_spike &= overflow;
                        x2_update &= overflow;
                        x1[j] = if overflow { sum - TRACE_MAX } else { sum };
                    }
                }
            } else {
                // Float has no saturation or overflow: both add modes add half the payload.
                match self.graded {
                    GradedSpikeCfg::UseRegularImpulse => {}
                    GradedSpikeCfg::Overwrite => {
                        if spiked {
                            x1[j] = payload / 2.0;
                        }
                    }
                    GradedSpikeCfg::AddWithSaturation | GradedSpikeCfg::AddWithoutSaturation => x1[j] += payload / 2.0,
                }
            }
            if x2_update {
                x2[j] = Self::add_impulse(fixed, x2[j], imp2, 0.0);
            }
            if count_spike {
                self.tx[j] = ts;
            }
        }
    }

    fn post_spikes(&mut self, ts: u32, bap: &[f64]) {
        let random = self.randoms.as_ref().map_or(0.0, |r| r.y.impulse);
        for (i, _) in bap.iter().enumerate().take(self.n_post).filter(|(_, &b)| b != 0.0) {
            self.y0[i] = true;
            if self.ty[i] > 0 {
                for k in 2..5 {
                    let imp = self.impulses[k];
                    let y = &mut self.traces[k][i];
                    *y = Self::add_impulse(self.fixed, *y, imp, random);
                }
            }
            self.ty[i] = ts;
        }
    }

    /// Whether `time_step` ends an epoch (Lava's `lrn_guard`).
    pub fn epoch_ends(&self, time_step: u64) -> bool {
        time_step.is_multiple_of(self.t_epoch)
    }

    /// Replays every trace over the epoch into `history`: row 0 is the value at the epoch
    /// start, row t after decay and the impulse of a spike recorded at step t.
    fn replay_traces(&mut self) {
        let t_epoch = self.t_epoch as usize;
        let (rd, ri) = match &self.randoms {
            Some(r) => ([r.x.decay, r.y.decay], [r.x.impulse, r.y.impulse]),
            None => ([0.0; 2], [0.0; 2]),
        };
        for k in 0..5 {
            let side = usize::from(k >= 2);
            let n = if k < 2 { self.n_pre } else { self.n_post };
            let times = if k < 2 { &self.tx } else { &self.ty };
            let h = &mut self.history[k];
            h[..n].copy_from_slice(&self.traces[k]);
            for t in 1..=t_epoch {
                let (prev, cur) = h[(t - 1) * n..(t + 1) * n].split_at_mut(n);
                for (idx, c) in cur.iter_mut().enumerate() {
                    let mut v = match self.decay[k] {
                        None => 0.0,
                        Some(f) if self.fixed => Self::decay_fixed(prev[idx], f, rd[side]),
                        Some(f) => f * prev[idx],
                    };
                    if times[idx] as usize == t {
                        v = Self::add_impulse(self.fixed, v, self.impulses[k], ri[side]);
                    }
                    *c = v;
                }
            }
        }
    }

    /// The learning phase at the end of an epoch: updates `syn` in place.
    pub fn learn(&mut self, time_step: u64, syn: Synapses<'_>) {
        if let Some(r) = &mut self.randoms {
            r.advance_synapses();
        }
        for (x0, &t) in self.x0.iter_mut().zip(&self.tx) {
            *x0 = t > 0;
        }
        for (y0, &t) in self.y0.iter_mut().zip(&self.ty) {
            *y0 = t > 0;
        }
        self.replay_traces();
        let last = self.t_epoch as usize;
        let traces_updated = if self.kind == RuleKind::TwoFactor { 5 } else { 2 };
        for k in 0..traces_updated {
            let n = self.traces[k].len();
            self.traces[k].copy_from_slice(&self.history[k][last * n..(last + 1) * n]);
        }
        let u = match self.rule.decimate_exponent {
            Some(k) if (time_step / self.t_epoch).is_multiple_of(1u64 << k) => 1.0,
            _ => 0.0,
        };
        // Every rule reads the synaptic variables as they were at the epoch's end.
        for series in 0..self.rule.series.len() {
            self.apply(series, u, &syn);
        }
        for (series, (target, _)) in self.rule.series.iter().enumerate() {
            let dst: &mut [f64] = match target {
                Target::Weights => &mut *syn.weights,
                Target::Delays => &mut *syn.delays,
                Target::Tags => &mut *syn.tags,
            };
            dst.copy_from_slice(&self.new_values[series]);
        }
        self.tx.fill(0);
        self.ty.fill(0);
        self.x0.fill(false);
        self.y0.fill(false);
    }

    /// The value of factor `f` (its variable plus its constant, or the sign of that; a
    /// constant alone) for synapse k = (post i, pre j) under dependency `dep`.
    #[inline(always)]
    fn factor(&self, f: &Factor, dep: Dependency, i: usize, j: usize, k: usize, syn: &Synapses<'_>) -> f64 {
        if f.var == FactorVar::C {
            return f.constant as f64;
        }
        let v = self.variable(f.var, dep, i, j, k, syn) + f.constant as f64;
        if f.sgn {
            v.signum() * f64::from(u8::from(v != 0.0))
        } else {
            v
        }
    }

    /// The value of `var` for synapse k = (post i, pre j) under dependency `dep`: traces are
    /// taken at the dependency's spike step (the epoch end for `u`).
    #[inline(always)]
    fn variable(&self, var: FactorVar, dep: Dependency, i: usize, j: usize, k: usize, syn: &Synapses<'_>) -> f64 {
        let last = self.t_epoch as usize;
        let step = match dep {
            Dependency::X0 => self.tx[j] as usize,
            Dependency::Y0 => self.ty[i] as usize,
            Dependency::U(_) => last,
        };
        match var {
            FactorVar::X0 => f64::from(u8::from(self.x0[j])),
            FactorVar::Y0 => f64::from(u8::from(self.y0[i])),
            FactorVar::X1 | FactorVar::X2 => {
                let tr = var.trace().unwrap_or(0);
                self.history[tr][step * self.n_pre + j]
            }
            FactorVar::Y1 | FactorVar::Y2 | FactorVar::Y3 => {
                let tr = var.trace().unwrap_or(2);
                self.history[tr][step * self.n_post + i]
            }
            FactorVar::W => syn.weights[k],
            FactorVar::D => syn.delays[k],
            FactorVar::T => syn.tags[k],
            FactorVar::C => 0.0,
        }
    }

    /// Evaluates the products of rule `series` for every synapse into `new_values`.
    fn apply(&mut self, series: usize, u: f64, syn: &Synapses<'_>) {
        let (target, products) = (self.rule.series[series].0, &self.rule.series[series].1);
        let current: &[f64] = match target {
            Target::Weights => syn.weights,
            Target::Delays => syn.delays,
            Target::Tags => syn.tags,
        };
        let mut out = std::mem::take(&mut self.new_values[series]);
        let scales = &self.scales[series];
        // Which dependencies can make a synapse active.
        let has = |d: fn(&Dependency) -> bool| products.iter().any(|p| d(&p.dependency));
        let (has_x0, has_y0) = (has(|d| *d == Dependency::X0), has(|d| *d == Dependency::Y0));
        let all_active = u != 0.0 && has(|d| matches!(d, Dependency::U(_)));
        for j in 0..self.n_pre {
            let column_active = all_active || (has_x0 && self.x0[j]);
            for i in 0..self.n_post {
                let k = j * self.n_post + i;
                let dep_value = |d: Dependency| match d {
                    Dependency::X0 => f64::from(u8::from(self.x0[j])),
                    Dependency::Y0 => f64::from(u8::from(self.y0[i])),
                    Dependency::U(_) => u,
                };
                // Without an active dependency every product is zero: only the
                // accumulator's clipping and the saturation apply.
                if !(column_active || (has_y0 && self.y0[i])) {
                    out[k] = if self.fixed {
                        self.finish_fixed(target, ((current[k] as i32) << ACC_SHIFT).clamp(ACC_MIN, ACC_MAX))
                    } else {
                        self.saturate_float(target, current[k])
                    };
                    continue;
                }
                out[k] = if self.fixed {
                    let mut acc = (current[k] as i32) << ACC_SHIFT;
                    for p in products {
                        let mut cur = dep_value(p.dependency) as i32;
                        let mut width = MANTISSA_BITS;
                        for f in &p.factors {
                            let w = f.var.width();
                            width += w;
                            let v = self.factor(f, p.dependency, i, j, k, syn);
                            let lim = f64::from(1u32 << w);
                            cur = cur.wrapping_mul(v.clamp(-lim, lim - 1.0) as i32);
                        }
                        cur = cur.wrapping_mul(p.s_mantissa);
                        cur >>= width.saturating_sub(ACC_BITS);
                        cur = ((i64::from(cur) << p.s_exp) as i32).clamp(ACC_MIN, ACC_MAX);
                        acc = (acc + cur).clamp(ACC_MIN, ACC_MAX);
                    }
                    self.finish_fixed(target, acc)
                } else {
                    let mut sum = 0.0;
                    for (n, p) in products.iter().enumerate() {
                        let mut term = scales[n] * dep_value(p.dependency);
                        for f in &p.factors {
                            term *= self.factor(f, p.dependency, i, j, k, syn);
                        }
                        sum = if n == 0 { term } else { sum + term };
                    }
                    self.saturate_float(target, current[k] + sum)
                };
            }
        }
        self.new_values[series] = out;
    }

    /// Fixed point after the products: sign saturation, stochastic rounding to the
    /// variable's 8 bits, range saturation.
    fn finish_fixed(&self, target: Target, acc: i32) -> f64 {
        let acc = match (target, self.sign_mode) {
            (Target::Weights, SignMode::Excitatory) => acc.max(0),
            (Target::Weights, SignMode::Inhibitory) => acc.min(0),
            (Target::Delays, _) => acc.max(0),
            _ => acc,
        };
        let random = self.randoms.as_ref().map_or(0.0, |r| r.syn);
        let q = acc.div_euclid(1 << ACC_SHIFT);
        let frac = f64::from(acc.rem_euclid(1 << ACC_SHIFT)) / f64::from(1 << ACC_SHIFT);
        let v = q + i32::from(random < frac);
        f64::from(match target {
            Target::Weights => match self.sign_mode {
                SignMode::Mixed => v.clamp(-256, 255),
                SignMode::Excitatory => v.clamp(0, 255),
                SignMode::Inhibitory => v.clamp(-255, 0),
            },
            Target::Delays => v.clamp(0, 255),
            Target::Tags => v.clamp(-257, 255),
        })
    }

    /// Float: weights keep their sign mode's sign, delays stay >= 0.
    fn saturate_float(&self, target: Target, v: f64) -> f64 {
        match (target, self.sign_mode) {
            (Target::Weights, SignMode::Excitatory) | (Target::Delays, _) => v.max(0.0),
            (Target::Weights, SignMode::Inhibitory) => v.min(0.0),
            _ => v,
        }
    }
}
