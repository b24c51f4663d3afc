//! Neuron populations whose step is a function of one input per neuron (the LIF family,
//! ALIF, the sigma-delta family): each is planned as a [`NeuronPlan`], the bindings of its
//! neuron step (`shaders/*_neuron.wgsl`, bindings 8 and up), which runs in its own launch
//! (`neuron.wgsl`, one thread per neuron) or fused with the synapse that alone feeds it
//! (`crate::fusion`).

use basalt_core::executable::LeafProcess;
use basalt_core::process::lif::LifKind;

use crate::{host_var, int_in, shaders, shape_of, var, words_i32, Builder, GpuError, Launch, VarHome, VarMap};

/// A neuron population's step: its source (`shaders/*_neuron.wgsl` of the plan's precision)
/// and bindings, for its own launch or one fused with its synapse.
pub(crate) struct NeuronPlan {
    /// The neuron step's WGSL (without the precision prelude).
    pub(crate) step: &'static str,
    pub(crate) bindings: Vec<(u32, wgpu::Buffer)>,
    /// Neurons over the batch: the per-neuron launch's threads.
    pub(crate) threads: u32,
}

impl NeuronPlan {
    /// The population's own launch, one thread per neuron, reading `a_in`.
    pub(crate) fn launch(&self, b: &mut Builder<'_>, a_in: &wgpu::Buffer) -> Launch {
        let mut binds: Vec<(u32, &wgpu::Buffer)> = self.bindings.iter().map(|(k, buf)| (*k, buf)).collect();
        binds.push((1, a_in));
        b.launch(&shaders::neuron(self.step, b.fixed), "neuron", &binds, self.threads)
    }
}

/// Storage buffers a neuron step of process type `type_name` binds (at most: the fixed-point
/// ALIF's count), or None for a type that has no neuron step.
pub(crate) fn storage_buffers(type_name: &str) -> Option<u32> {
    match type_name {
        "Lif" | "LifReset" | "TernaryLif" | "LifRefractory" => Some(6),
        "Alif" => Some(8),
        "Sigma" | "Delta" | "SigmaDelta" => Some(6),
        _ => None,
    }
}

/// The neuron step of a population of a type [`storage_buffers`] knows: its buffers,
/// parameters and registered Vars.
pub(crate) fn plan_neuron(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_out: &wgpu::Buffer,
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<NeuronPlan, GpuError> {
    match p.type_name.as_str() {
        "Alif" => plan_alif(b, p, s_out, vars),
        "Sigma" | "Delta" | "SigmaDelta" => plan_sdn(b, p, s_out, vars),
        _ => {
            let kind: LifKind = crate::params(p)?;
            plan_lif(b, p, kind, s_out, clock, vars)
        }
    }
}

/// The buffers and parameters of a LIF-family population `p` of `kind` writing `s_out`;
/// registers its Vars.
pub(crate) fn plan_lif(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    kind: LifKind,
    s_out: &wgpu::Buffer,
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<NeuronPlan, GpuError> {
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let all = b.all(n);
    let u = b.per_copy("u", &b.words(var(p, "u")?))?;
    let v = b.per_copy("v", &b.words(var(p, "v")?))?;
    let bias = b.per_copy("bias_mant", &b.words(var(p, "bias_mant")?))?;
    let (du, dv) = (var(p, "du")?[0], var(p, "dv")?[0]);
    // Thresholds: vth, or (vth_hi, vth_lo) for the ternary LIF.
    let (th_hi, th_lo) = match kind {
        LifKind::Ternary => (var(p, "vth_hi")?[0], var(p, "vth_lo")?[0]),
        _ => (var(p, "vth")?[0], 0.0),
    };
    // Family word: kind (0 plain, 1 reset, 2 ternary, 3 refractory) and its
    // step numbers (reset interval and offset mod interval, refractory period).
    let (code, x, y) = match kind {
        LifKind::Plain => (0u32, 0u32, 0u32),
        LifKind::Reset { interval, offset } => (1, interval as u32, (offset % interval) as u32),
        LifKind::Ternary => (2, 0, 0),
        LifKind::Refractory { period } => (3, period as u32, 0),
    };
    let mut refractory_end = None;
    let mut bindings = vec![(9, s_out.clone()), (10, u.clone()), (11, v.clone()), (12, bias.clone())];
    let params = if b.fixed {
        let check = |x: f64, lo: f64, hi: f64, what: &str| int_in(p, what, x, lo, hi).map(|t| t as i64);
        let fu = (4096 - (check(du, -1.0, 4095.0, "du")? + 1)) as u32;
        let fv = (4096 - check(dv, 0.0, 4095.0, "dv")?) as u32;
        let scaled = |t: f64, what: &str| -> Result<u32, GpuError> {
            Ok(((check(t, i32::MIN as f64, i32::MAX as f64, what)? as i32).wrapping_shl(6)) as u32)
        };
        let exp = b.per_copy("bias_exp", &words_i32(var(p, "bias_exp")?))?;
        bindings.extend([(13, exp), (14, clock.clone())]);
        b.uniform8([all, fu, fv, scaled(th_hi, "vth")?, code, x, y, scaled(th_lo, "vth_lo")?])
    } else {
        let f = |x: f64| (x as f32).to_bits();
        let ends = match p.var("refractory_period_end") {
            Ok(e) if code == 3 => {
                let ends = b.per_copy("refractory_period_end", &b.words(&e.data))?;
                refractory_end = Some(ends.clone());
                ends
            }
            // The kernel binds it whatever the kind; only LIFRefractory touches it.
            _ => b.storage("unused", &[0])?,
        };
        bindings.extend([(13, clock.clone()), (14, ends)]);
        b.uniform8([all, f(1.0 - du), f(1.0 - dv), f(th_hi), code, x, y, f(th_lo)])
    };
    bindings.push((8, params));

    vars.insert((p.id, "u".into()), (VarHome::buffer(u, n), shape_of(p, "u")));
    vars.insert((p.id, "v".into()), (VarHome::buffer(v, n), shape_of(p, "v")));
    vars.insert((p.id, "bias_mant".into()), (VarHome::buffer(bias, n), shape_of(p, "bias_mant")));
    if let Some(ends) = refractory_end {
        let shape = shape_of(p, "refractory_period_end");
        vars.insert((p.id, "refractory_period_end".into()), (VarHome::buffer(ends, n), shape));
    }
    let thresholds: &[&str] = if code == 2 { &["vth_hi", "vth_lo"] } else { &["vth"] };
    for name in ["du", "dv", "bias_exp"].iter().chain(thresholds) {
        host_var(vars, p, name)?;
    }
    let step = if b.fixed { shaders::LIF_NEURON } else { shaders::LIF_NEURON_FLOAT };
    Ok(NeuronPlan { step, bindings, threads: all })
}

/// An adaptive LIF population: 12-bit decays of u, v, θ and r, θ0 and the step scaled to
/// state units in fixed point; registers its Vars.
fn plan_alif(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<NeuronPlan, GpuError> {
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let scalar = |name: &str| var(p, name).map(|d| d[0]);
    let [du, dv, dth, dr, vth, step] =
        ["du", "dv", "dtheta", "dr", "vth", "vth_step"].map(|k| scalar(k).unwrap_or(f64::NAN));
    let bad = |what: &str, x: f64| GpuError::Parameter {
        process: p.name.clone(),
        reason: format!("{what} {x} is out of range"),
    };
    let mut theta = var(p, "theta")?.to_vec();
    let params = if b.fixed {
        let mut f = [0u32; 4];
        for (k, (name, d)) in [("du", du), ("dv", dv), ("dtheta", dth), ("dr", dr)].into_iter().enumerate() {
            if !(0.0..=4096.0).contains(&d.trunc()) {
                return Err(bad(name, d));
            }
            f[k] = 4096 - d.trunc() as u32;
        }
        let shifted = |name: &str, x: f64| {
            if x.is_finite() && x.trunc() >= f64::from(i32::MIN) && x.trunc() <= f64::from(i32::MAX) {
                Ok((x.trunc() as i32).wrapping_shl(6) as u32)
            } else {
                Err(bad(name, x))
            }
        };
        // The initial threshold is a mantissa like vth (state units from here).
        for t in &mut theta {
            *t = f64::from(shifted("theta", *t)? as i32);
        }
        [b.all(n), f[0], f[1], f[2], f[3], shifted("vth", vth)?, shifted("vth_step", step)?, 0]
    } else {
        let f = |x: f64| (x as f32).to_bits();
        [b.all(n), f(1.0 - du), f(1.0 - dv), f(1.0 - dth), f(1.0 - dr), f(vth), f(step), 0]
    };
    let params = b.uniform8(params);
    let mut bindings = vec![(8, params), (9, s_out.clone())];
    let mut state = Vec::new();
    for (k, name) in ["u", "v", "theta", "r", "s"].into_iter().enumerate() {
        let data = if name == "theta" { theta.clone() } else { var(p, name)?.to_vec() };
        let buf = b.per_copy(name, &b.words(&data))?;
        bindings.push((10 + k as u32, buf.clone()));
        state.push((name, buf));
    }
    let mant = b.per_copy("bias_mant", &b.words(var(p, "bias_mant")?))?;
    bindings.push((15, mant.clone()));
    if b.fixed {
        // The float model has no bias exponent.
        bindings.push((16, b.per_copy("bias_exp", &words_i32(var(p, "bias_exp")?))?));
    }
    for (name, buf) in state {
        vars.insert((p.id, name.into()), (VarHome::buffer(buf, n), shape_of(p, name)));
    }
    vars.insert((p.id, "bias_mant".into()), (VarHome::buffer(mant, n), shape_of(p, "bias_mant")));
    for name in ["bias_exp", "du", "dv", "dtheta", "dr", "vth", "vth_step"] {
        host_var(vars, p, name)?;
    }
    let step = if b.fixed { shaders::ALIF_NEURON } else { shaders::ALIF_NEURON_FLOAT };
    Ok(NeuronPlan { step, bindings, threads: b.all(n) })
}

/// A Sigma, Delta or SigmaDelta population (kind 0 to 3 of sdn_neuron.wgsl); registers its
/// Vars.
fn plan_sdn(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<NeuronPlan, GpuError> {
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let zeros = vec![0.0; n];
    let get = |name: &str| p.var(name).map(|v| v.data.to_vec()).unwrap_or_else(|_| zeros.clone());
    let scalar = |name: &str| p.var(name).map(|v| v.data[0]).unwrap_or(0.0);
    let kind = match (p.type_name.as_str(), p.model.as_str()) {
        ("Sigma", _) => 0u32,
        ("Delta", _) => 1,
        (_, "PySigmaDeltaModelFixedCorrected") => 3,
        _ => 2,
    };
    // SdnKind is stored as JSON: "Sigma", "Delta" or {"SigmaDelta": "Unit"|"Relu"}.
    let act_mode = u32::from(!p.params.to_string().contains("Unit"));
    let (spike_exp, state_exp) = (scalar("spike_exp") as u32, scalar("state_exp") as u32);
    let vth = scalar("vth");
    // Fixed point: vth in state units, Delta's shift and the state exponent; float: vth as
    // f32 bits, no shifts.
    let (vth_word, shift, state_shift) = if b.fixed {
        (vth as i32 as u32, if kind == 1 { spike_exp + state_exp } else { 0 }, state_exp)
    } else {
        ((vth as f32).to_bits(), 0, 0)
    };
    let cum_error = u32::from(scalar("cum_error") != 0.0);
    let params = b.uniform8([b.all(n), kind, act_mode, cum_error, vth_word, shift, state_shift, 0]);
    // Every binding is statically used by the step (the kinds share it).
    let mut bindings = vec![(8, params), (9, s_out.clone())];
    for (k, name) in ["sigma", "act", "residue", "error", "bias"].into_iter().enumerate() {
        let buf = b.per_copy(name, &b.words(&get(name)))?;
        bindings.push((10 + k as u32, buf.clone()));
        if p.var(name).is_ok() {
            vars.insert((p.id, name.to_string()), (VarHome::buffer(buf, n), shape_of(p, name)));
        }
    }
    for v in &p.vars {
        if !vars.contains_key(&(p.id, v.name.clone())) {
            host_var(vars, p, &v.name)?;
        }
    }
    Ok(NeuronPlan { step: shaders::SDN_NEURON, bindings, threads: b.all(n) })
}
