//! Resonate-and-fire neurons (Lava `lava.proc.rf`, `lava.proc.rf_iz`, SPEC §2.8): a
//! complex state rotated by `2π/period` and damped by `1 - α` every step, driven by real and
//! imaginary inputs. `Rf` spikes when the real part is at least `vth` as the imaginary part
//! crosses zero upwards; `RfIz` spikes when the imaginary part reaches `vth` and then resets.
//! Float and fixed point (decays scaled by `2^decay_bits`, inputs by `2^state_exp`, state
//! clipped to ±(2^23 - 1); as in Lava, the decays are stored as uint16).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{rtz, to_int, to_ints, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{numel, Shape};

const VAR_NAMES: [&str; 7] = ["real", "imag", "sin_decay", "cos_decay", "state_exp", "decay_bits", "vth"];

/// Which resonator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum RfKind {
    Rf,
    RfIz,
}

/// Resonate-and-fire neurons (Lava `RF`).
#[derive(Clone, Debug)]
pub struct Rf {
    shape: Shape,
    period: f64,
    alpha: f64,
    state_exp: u32,
    decay_bits: u32,
    vth: f64,
}

impl Rf {
    /// Resonators of `shape` with oscillation `period` (steps) and damping `alpha`;
    /// `vth` 1, no state or decay scaling.
    pub fn new(shape: &[usize], period: f64, alpha: f64) -> Self {
        Rf { shape: shape.to_vec(), period, alpha, state_exp: 0, decay_bits: 0, vth: 1.0 }
    }
    /// Threshold (scaled by `2^state_exp`).
    pub fn vth(mut self, vth: f64) -> Self {
        self.vth = vth;
        self
    }
    /// Fixed point: inputs and threshold are scaled by `2^state_exp`.
    pub fn state_exp(mut self, e: u32) -> Self {
        self.state_exp = e;
        self
    }
    /// Fixed point: the decays are integers scaled by `2^decay_bits`.
    pub fn decay_bits(mut self, b: u32) -> Self {
        self.decay_bits = b;
        self
    }
    /// Turns these into Izhikevich-style resonators (Lava `RF_IZ`).
    pub fn izhikevich(self) -> RfIz {
        RfIz(self)
    }

    fn declare(&self, b: &mut ProcessBuilder<'_>, kind: RfKind) -> Result<()> {
        let period_ok = self.period.is_finite() && self.period > 0.0;
        if !period_ok || !(0.0..=1.0).contains(&self.alpha) || self.state_exp > 24 || self.decay_bits > 16 {
            return Err(Error::InvalidParameter {
                process: b.name().into(),
                param: "period/alpha/state_exp/decay_bits".into(),
                reason: format!(
                    "need period > 0, 0 <= alpha <= 1, state_exp <= 24, decay_bits <= 16; got {}, {}, {}, {}",
                    self.period, self.alpha, self.state_exp, self.decay_bits
                ),
            });
        }
        let phase = std::f64::consts::PI * 2.0 / self.period;
        let (mut sin_d, mut cos_d) = ((1.0 - self.alpha) * phase.sin(), (1.0 - self.alpha) * phase.cos());
        let mut vth = self.vth;
        if self.state_exp > 0 {
            vth = (vth * f64::from(1u32 << self.state_exp)).trunc();
        }
        if self.decay_bits > 0 {
            sin_d = (sin_d * f64::from(1u32 << self.decay_bits)).trunc();
            cos_d = (cos_d * f64::from(1u32 << self.decay_bits)).trunc();
        }
        let s = &self.shape;
        b.in_port("a_real_in", s)?;
        b.in_port("a_imag_in", s)?;
        b.out_port("s_out", s)?;
        b.var("real", s, 0.0)?;
        b.var("imag", s, 0.0)?;
        b.var("sin_decay", &[1], sin_d)?;
        b.var("cos_decay", &[1], cos_d)?;
        b.var("state_exp", &[1], f64::from(self.state_exp))?;
        b.var("decay_bits", &[1], f64::from(self.decay_bits))?;
        b.var("vth", &[1], vth)?;
        b.params(&kind)
    }
}

/// Izhikevich resonate-and-fire neurons (Lava `RF_IZ`); build with [`Rf::izhikevich`].
#[derive(Clone, Debug)]
pub struct RfIz(Rf);

impl Process for Rf {
    const TYPE_NAME: &'static str = "Rf";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.declare(b, RfKind::Rf)
    }
}

impl Process for RfIz {
    const TYPE_NAME: &'static str = "RfIz";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        self.0.declare(b, RfKind::RfIz)
    }
}

macro_rules! rf_accessors {
    ($($t:ty),*) => {$(
        impl Handle<$t> {
            /// Real input.
            pub fn a_real_in(&self) -> InPort {
                self.in_port("a_real_in")
            }
            /// Imaginary input.
            pub fn a_imag_in(&self) -> InPort {
                self.in_port("a_imag_in")
            }
            /// Spikes.
            pub fn s_out(&self) -> OutPort {
                self.out_port("s_out")
            }
            /// Real part of the state.
            pub fn real(&self) -> VarRef {
                self.var("real")
            }
            /// Imaginary part of the state.
            pub fn imag(&self) -> VarRef {
                self.var("imag")
            }
        }
    )*};
}
rf_accessors!(Rf, RfIz);

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    let make = |fixed: bool| move |p: &LeafProcess| Ok(Box::new(RfModel::new(p, fixed)?) as Box<dyn CpuModel>);
    let models = [
        ModelEntry::cpu("Rf", "PyRFModelFloat", &["floating_pt"], t, make(false)),
        ModelEntry::cpu("Rf", "PyRFModelFixed", &["fixed_pt"], t, make(true)),
        ModelEntry::cpu("RfIz", "PyRF_IZModelFloat", &["floating_pt"], t, make(false)),
        ModelEntry::cpu("RfIz", "PyRF_IZModelFixed", &["fixed_pt"], t, make(true)),
    ];
    r.register_library(models);
}

/// Float and fixed resonator models. Fixed-point values are held as f64 (exact).
struct RfModel {
    kind: RfKind,
    fixed: bool,
    real: Vec<f64>,
    imag: Vec<f64>,
    /// sin_decay, cos_decay, state_exp, decay_bits, vth.
    scalars: [f64; 5],
}

/// Saturation of the fixed state: ±(2^23 - 1).
const LIMIT: i64 = (1 << 23) - 1;

impl RfModel {
    fn new(p: &LeafProcess, fixed: bool) -> std::result::Result<Self, String> {
        if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
            return Err(format!("process {} does not have the RF Vars", p.name));
        }
        let kind: RfKind = p.params()?;
        let n = numel(p.in_port_shape("a_real_in")?);
        let mut m = RfModel { kind, fixed, real: Vec::new(), imag: Vec::new(), scalars: [0.0; 5] };
        for (k, v) in p.vars.iter().enumerate() {
            let expected = if k < 2 { n } else { 1 };
            if v.data.len() != expected {
                return Err(format!("RF Var `{}` has {} elements, expected {expected}", v.name, v.data.len()));
            }
            m.store(k, &v.data)?;
        }
        Ok(m)
    }

    fn store(&mut self, k: usize, data: &[f64]) -> std::result::Result<(), String> {
        let name = VAR_NAMES[k];
        let values: Vec<f64> = if self.fixed {
            match k {
                0 | 1 | 6 => to_ints(name, data, I32.0, I32.1)?.into_iter().map(|x| x as f64).collect(),
                // uint16 in Lava: negative decays wrap (as numpy's cast does).
                2 | 3 => to_ints(name, data, I32.0, I32.1)?.into_iter().map(|x| f64::from(x as u16)).collect(),
                _ => vec![to_int(name, data[0], 0, 24)? as f64],
            }
        } else {
            data.to_vec()
        };
        match k {
            0 => self.real = values,
            1 => self.imag = values,
            _ => self.scalars[k - 2] = values[0],
        }
        Ok(())
    }
}

impl CpuModel for RfModel {
    fn var_dtype(&self, var: usize) -> DType {
        match (self.fixed, var) {
            (true, 2 | 3) => DType::U16,
            (true, _) | (false, 4 | 5) => DType::I32,
            (false, _) => DType::F64,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let [sin_d, cos_d, state_exp, decay_bits, vth] = self.scalars;
        let (inputs, out) = io.inputs_send(0);
        let (re_in, im_in) = (&inputs[0], &inputs[1]);
        for k in 0..self.real.len() {
            let (re, im) = (self.real[k], self.imag[k]);
            let (new_re, new_im) = if self.fixed {
                let sh = state_exp as u32;
                let (ar, ai) =
                    (((re_in[k] as i32).wrapping_shl(sh)) as i64, ((im_in[k] as i32).wrapping_shl(sh)) as i64);
                let scale = |x: i64| rtz(x, decay_bits as u32);
                let (s, c, r, i) = (sin_d as i64, cos_d as i64, re as i64, im as i64);
                let nr = scale(c * r) - scale(s * i) + ar;
                let ni = scale(s * r) + scale(c * i) + ai;
                (nr.clamp(-LIMIT, LIMIT) as f64, ni.clamp(-LIMIT, LIMIT) as f64)
            } else {
                (cos_d * re - sin_d * im + re_in[k], sin_d * re + cos_d * im + im_in[k])
            };
            match self.kind {
                RfKind::Rf => {
                    let spike = new_re >= vth && new_im >= 0.0 && im < 0.0;
                    self.real[k] = new_re;
                    self.imag[k] = new_im;
                    out[k] = f64::from(u8::from(spike));
                }
                RfKind::RfIz => {
                    let spike = new_im >= vth;
                    let s = f64::from(u8::from(spike));
                    self.real[k] = new_re * (1.0 - s);
                    let reset = if self.fixed { vth - 1.0 } else { vth - 1e-5 };
                    self.imag[k] = s * reset + (1.0 - s) * new_im;
                    out[k] = s;
                }
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match var {
            0 => &self.real,
            1 => &self.imag,
            2..=6 => &self.scalars[var - 2..var - 1],
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        if var >= VAR_NAMES.len() {
            return Err(unknown_var(var));
        }
        let expected = if var < 2 { self.real.len() } else { 1 };
        check_len(VAR_NAMES[var], expected, data.len())?;
        self.store(var, data).map_err(ModelError)
    }
}
