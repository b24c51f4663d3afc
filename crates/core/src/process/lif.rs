//! Leaky integrate-and-fire neurons (Lava `lava.proc.lif`, SPEC §2.1): the `Lif` process,
//! its float model and its Loihi bit-accurate fixed-point model.

use crate::error::{ModelError, Result};
use crate::executable::LeafProcess;
use crate::fixed::{decay12, shift_by_exp, to_int, to_ints, I16, I32};
use crate::graph::{Handle, InPort, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, DType, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::value::{numel, Init, Shape};

/// Var indices in declaration order (Lava's order: u, v, du, dv, bias_exp, bias_mant, vth).
const U: usize = 0;
const V: usize = 1;
const DU: usize = 2;
const DV: usize = 3;
const BIAS_EXP: usize = 4;
const BIAS_MANT: usize = 5;
const VTH: usize = 6;
const VAR_NAMES: [&str; 7] = ["u", "v", "du", "dv", "bias_exp", "bias_mant", "vth"];

/// A population of LIF neurons:
/// `u = u(1-du) + a_in; v = v(1-dv) + u + bias; s = v > vth; v[s] = 0`.
/// In fixed point the same with Loihi's integer arithmetic (see the module docs of
/// [`LifFixed`]).
#[derive(Clone, Debug)]
pub struct Lif {
    shape: Shape,
    u: Init,
    v: Init,
    du: f64,
    dv: f64,
    bias_mant: Init,
    bias_exp: Init,
    vth: f64,
}

impl Lif {
    /// LIF neurons of `shape` with Lava's defaults (u=v=0, du=dv=0, bias 0, vth=10).
    pub fn new(shape: &[usize]) -> Self {
        Lif {
            shape: shape.to_vec(),
            u: Init::Scalar(0.0),
            v: Init::Scalar(0.0),
            du: 0.0,
            dv: 0.0,
            bias_mant: Init::Scalar(0.0),
            bias_exp: Init::Scalar(0.0),
            vth: 10.0,
        }
    }
    /// Initial current.
    pub fn u(mut self, u: impl Into<Init>) -> Self {
        self.u = u.into();
        self
    }
    /// Initial voltage.
    pub fn v(mut self, v: impl Into<Init>) -> Self {
        self.v = v.into();
        self
    }
    /// Current decay (float: fraction per step; fixed: 0..4095 in units of 1/4096).
    pub fn du(mut self, du: f64) -> Self {
        self.du = du;
        self
    }
    /// Voltage decay (float: fraction per step; fixed: 0..4095 in units of 1/4096).
    pub fn dv(mut self, dv: f64) -> Self {
        self.dv = dv;
        self
    }
    /// Bias mantissa (per neuron or scalar).
    pub fn bias_mant(mut self, b: impl Into<Init>) -> Self {
        self.bias_mant = b.into();
        self
    }
    /// Bias exponent (fixed point only; ignored by the float model).
    pub fn bias_exp(mut self, e: impl Into<Init>) -> Self {
        self.bias_exp = e.into();
        self
    }
    /// Threshold.
    pub fn vth(mut self, vth: f64) -> Self {
        self.vth = vth;
        self
    }
}

impl Process for Lif {
    const TYPE_NAME: &'static str = "Lif";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let s = &self.shape;
        b.in_port("a_in", s)?;
        b.out_port("s_out", s)?;
        b.var("u", s, self.u)?;
        b.var("v", s, self.v)?;
        b.var("du", &[1], self.du)?;
        b.var("dv", &[1], self.dv)?;
        b.var("bias_exp", s, self.bias_exp)?;
        b.var("bias_mant", s, self.bias_mant)?;
        b.var("vth", &[1], self.vth)?;
        Ok(())
    }
}

impl Handle<Lif> {
    /// Input current port.
    pub fn a_in(&self) -> InPort {
        self.in_port("a_in")
    }
    /// Spike output port.
    pub fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
    /// Current.
    pub fn u(&self) -> VarRef {
        self.var("u")
    }
    /// Voltage.
    pub fn v(&self) -> VarRef {
        self.var("v")
    }
    /// Current decay.
    pub fn du(&self) -> VarRef {
        self.var("du")
    }
    /// Voltage decay.
    pub fn dv(&self) -> VarRef {
        self.var("dv")
    }
    /// Bias exponent.
    pub fn bias_exp(&self) -> VarRef {
        self.var("bias_exp")
    }
    /// Bias mantissa.
    pub fn bias_mant(&self) -> VarRef {
        self.var("bias_mant")
    }
    /// Threshold.
    pub fn vth(&self) -> VarRef {
        self.var("vth")
    }
}

/// Registers the LIF models (float first, then fixed, as in Lava's module).
pub(crate) fn register(r: &mut Registry) {
    let models = [
        ModelEntry::cpu("Lif", "PyLifModelFloat", &["floating_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(LifFloat::new(p)?) as Box<dyn CpuModel>)
        }),
        ModelEntry::cpu("Lif", "PyLifModelBitAcc", &["bit_accurate_loihi", "fixed_pt"], OutputTiming::SameStep, |p| {
            Ok(Box::new(LifFixed::new(p)?) as Box<dyn CpuModel>)
        }),
    ];
    for m in models {
        r.register(m).expect("library models have unique names");
    }
}

/// Checks that a compiled process has the LIF Vars in order and returns their data.
fn lif_vars(p: &LeafProcess) -> Result<[&[f64]; 7], String> {
    if p.vars.len() != VAR_NAMES.len() || p.vars.iter().zip(VAR_NAMES).any(|(v, n)| v.name != n) {
        return Err(format!("process {} does not have the LIF Vars {VAR_NAMES:?}", p.name));
    }
    let n = numel(p.in_port_shape("a_in")?);
    for i in [U, V, BIAS_EXP, BIAS_MANT] {
        if p.vars[i].data.len() != n {
            return Err(format!("LIF Var `{}` has {} elements, expected {n}", VAR_NAMES[i], p.vars[i].data.len()));
        }
    }
    for i in [DU, DV, VTH] {
        if p.vars[i].data.len() != 1 {
            return Err(format!("LIF Var `{}` must have one element", VAR_NAMES[i]));
        }
    }
    Ok(std::array::from_fn(|i| p.vars[i].data.as_slice()))
}

/// Float LIF model (Lava `PyLifModelFloat`); `bias_exp` is ignored.
pub struct LifFloat {
    u: Vec<f64>,
    v: Vec<f64>,
    du: f64,
    dv: f64,
    bias_exp: Vec<f64>,
    bias_mant: Vec<f64>,
    vth: f64,
}

impl LifFloat {
    fn new(p: &LeafProcess) -> Result<Self, String> {
        let d = lif_vars(p)?;
        Ok(LifFloat {
            u: d[U].to_vec(),
            v: d[V].to_vec(),
            du: d[DU][0],
            dv: d[DV][0],
            bias_exp: d[BIAS_EXP].to_vec(),
            bias_mant: d[BIAS_MANT].to_vec(),
            vth: d[VTH][0],
        })
    }
}

impl CpuModel for LifFloat {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let (a_in, s_out) = io.recv_send(0, 0);
        let (fu, fv, vth) = (1.0 - self.du, 1.0 - self.dv, self.vth);
        let n = self.u.len();
        let (us, vs, bs) = (&mut self.u[..n], &mut self.v[..n], &self.bias_mant[..n]);
        let (a_in, s_out) = (&a_in[..n], &mut s_out[..n]);
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for ((((u, v), &bias), &a), s) in
                    us.iter_mut().zip(vs.iter_mut()).zip(bs).zip(a_in).zip(s_out.iter_mut())
                {
                    let cur = *u * fu + a;
                    let volt = *v * fv + cur + bias;
                    let spike = volt > vth;
                    *u = cur;
                    *v = if spike { 0.0 } else { volt };
                    *s = f64::from(u8::from(spike));
                }
            },
        );
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match var {
            U => &self.u,
            V => &self.v,
            DU => std::slice::from_ref(&self.du),
            DV => std::slice::from_ref(&self.dv),
            BIAS_EXP => &self.bias_exp,
            BIAS_MANT => &self.bias_mant,
            VTH => std::slice::from_ref(&self.vth),
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let dst: &mut [f64] = match var {
            U => &mut self.u,
            V => &mut self.v,
            DU => std::slice::from_mut(&mut self.du),
            DV => std::slice::from_mut(&mut self.dv),
            BIAS_EXP => &mut self.bias_exp,
            BIAS_MANT => &mut self.bias_mant,
            VTH => std::slice::from_mut(&mut self.vth),
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], dst.len(), data.len())?;
        dst.copy_from_slice(data);
        Ok(())
    }
}

/// Largest magnitude of u and v: 24-bit state (`max_uv = 2^23`).
const MAX_UV: i32 = 1 << 23;
/// Decay constants are in units of 1/4096.
const DECAY_SHIFT: u32 = 12;
const DECAY_UNITY: i64 = 1 << DECAY_SHIFT;
/// Threshold and input are MSB-aligned by 6 bits.
const VTH_SHIFT: u32 = 6;
const ACT_SHIFT: u32 = 6;

/// Loihi bit-accurate LIF (Lava `PyLifModelBitAcc`, tags `bit_accurate_loihi`, `fixed_pt`).
///
/// Per step: `u = rtz(u·(4096-(du+1)), 12) + (a_in << 6)` wrapped once into 24 bits;
/// `v = rtz(v·(4096-dv), 12) + u + (bias_mant << bias_exp)` saturated to ±(2^23-1);
/// `s = v > vth << 6`; `v[s] = 0`. As in Lava, `vth << 6` is computed in the first step
/// only (a later `set` of `vth` has no effect), while the bias is rescaled every step.
/// Vars are checked against Lava's integer types (u, v, vth: i32; bias_mant, bias_exp: i16,
/// |bias_exp| <= 31; du, dv: 0..=4095) instead of being silently wrapped.
pub struct LifFixed {
    u: Vec<i32>,
    v: Vec<i32>,
    du: i64,
    dv: i64,
    bias_exp: Vec<i32>,
    bias_mant: Vec<i32>,
    vth: i32,
    effective_vth: Option<i32>,
    effective_bias: Vec<i32>,
    /// Per-step scratch: scaled input, then spikes.
    scratch: Vec<i32>,
}

fn i32s(name: &str, d: &[f64], (lo, hi): (i64, i64)) -> Result<Vec<i32>, String> {
    Ok(to_ints(name, d, lo, hi)?.into_iter().map(|x| x as i32).collect())
}

impl LifFixed {
    fn new(p: &LeafProcess) -> Result<Self, String> {
        let d = lif_vars(p)?;
        let n = d[U].len();
        let mut m = LifFixed {
            u: Vec::new(),
            v: Vec::new(),
            du: 0,
            dv: 0,
            bias_exp: Vec::new(),
            bias_mant: Vec::new(),
            vth: 0,
            effective_vth: None,
            effective_bias: vec![0; n],
            scratch: vec![0; n],
        };
        for (i, data) in d.iter().enumerate() {
            m.convert_and_store(i, data)?;
        }
        Ok(m)
    }

    fn convert_and_store(&mut self, var: usize, data: &[f64]) -> Result<(), String> {
        let name = VAR_NAMES[var];
        match var {
            U => self.u = i32s(name, data, I32)?,
            V => self.v = i32s(name, data, I32)?,
            DU => self.du = to_int(name, data[0], 0, 4095)?,
            DV => self.dv = to_int(name, data[0], 0, 4095)?,
            BIAS_EXP => self.bias_exp = i32s(name, data, (-31, 31))?,
            BIAS_MANT => self.bias_mant = i32s(name, data, I16)?,
            VTH => self.vth = to_int(name, data[0], I32.0, I32.1)? as i32,
            _ => return Err(format!("unknown Var index {var}")),
        }
        Ok(())
    }
}

impl CpuModel for LifFixed {
    fn var_dtype(&self, var: usize) -> DType {
        match var {
            DU | DV => DType::U16,
            BIAS_EXP | BIAS_MANT => DType::I16,
            _ => DType::I32,
        }
    }

    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        for ((b, &m), &e) in self.effective_bias.iter_mut().zip(&self.bias_mant).zip(&self.bias_exp) {
            *b = shift_by_exp(i64::from(m), e) as i32;
        }
        let vth = *self.effective_vth.get_or_insert(self.vth.wrapping_shl(VTH_SHIFT));
        let (a_in, s_out) = io.recv_send(0, 0);
        // du, dv are in 0..=4095, so both factors are in 0..=4096.
        let fu = (DECAY_UNITY - (self.du + 1)) as u32;
        let fv = (DECAY_UNITY - self.dv) as u32;
        let n = self.u.len();
        // Three passes over equal-length slices: messages to integers, the integer dynamics
        // (branch-free, so the compiler vectorises it), spikes back to messages.
        for (x, &a) in self.scratch[..n].iter_mut().zip(&a_in[..n]) {
            *x = (a as i32).wrapping_shl(ACT_SHIFT);
        }
        let (us, vs, bs, xs) = (&mut self.u[..n], &mut self.v[..n], &self.effective_bias[..n], &mut self.scratch[..n]);
        crate::simd::dispatch(
            #[inline(always)]
            || {
                for (((u, v), &bias), x) in us.iter_mut().zip(vs.iter_mut()).zip(bs).zip(xs.iter_mut()) {
                    let mut cur = decay12(*u, fu).wrapping_add(*x);
                    cur = if cur > MAX_UV {
                        cur.wrapping_sub(2 * MAX_UV)
                    } else if cur <= -MAX_UV {
                        cur.wrapping_add(2 * MAX_UV)
                    } else {
                        cur
                    };
                    let volt = decay12(*v, fv).wrapping_add(cur).wrapping_add(bias).clamp(-MAX_UV + 1, MAX_UV - 1);
                    let spike = volt > vth;
                    *u = cur;
                    *v = if spike { 0 } else { volt };
                    *x = i32::from(spike);
                }
            },
        );
        for (s, &x) in s_out[..n].iter_mut().zip(&self.scratch[..n]) {
            *s = f64::from(x);
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let ints: &[i32] = match var {
            U => &self.u,
            V => &self.v,
            BIAS_EXP => &self.bias_exp,
            BIAS_MANT => &self.bias_mant,
            VTH => std::slice::from_ref(&self.vth),
            DU | DV => {
                check_len(VAR_NAMES[var], 1, out.len())?;
                out[0] = if var == DU { self.du } else { self.dv } as f64;
                return Ok(());
            }
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], ints.len(), out.len())?;
        for (o, &x) in out.iter_mut().zip(ints) {
            *o = f64::from(x);
        }
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let expected = match var {
            DU | DV | VTH => 1,
            U | V | BIAS_EXP | BIAS_MANT => self.u.len(),
            _ => return Err(unknown_var(var)),
        };
        check_len(VAR_NAMES[var], expected, data.len())?;
        self.convert_and_store(var, data).map_err(ModelError)
    }
}
