//! ATRLIF neurons on the GPU (`shaders/atrlif.wgsl`): the plan's uniform from Lava's uint16
//! parameter arithmetic, and the state buffers.

use basalt_core::executable::LeafProcess;

use crate::{host_var, i32s, ints, shaders, shape_of, var, words_i32, Builder, GpuError, Launch, VarHome, VarMap};

/// The per-neuron state Vars, in binding order (3..=7).
const STATE: [&str; 5] = ["i", "v", "theta", "r", "s"];
/// The scalar parameters: δi, δv, δθ, δr, θ0, θ_step.
const SCALARS: [&str; 6] = ["delta_i", "delta_v", "delta_theta", "delta_r", "theta_0", "theta_step"];

/// Plans an ATRLIF population: one launch reading `a_in` and writing `s_out`.
pub(crate) fn plan_atrlif(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    a_in: &wgpu::Buffer,
    s_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<Launch, GpuError> {
    let fixed = b.fixed;
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let mut state: Vec<Vec<f64>> = Vec::new();
    for name in STATE {
        state.push(if fixed { i32s(p, name)? } else { var(p, name)?.to_vec() });
    }
    let params = if fixed {
        // Lava types the parameters uint16 and computes the factors in uint16.
        let mut s = [0u16; 6];
        for (k, name) in SCALARS.into_iter().enumerate() {
            s[k] = ints(p, name, 0.0, f64::from(u16::MAX))?[0] as u16;
        }
        let [di, dv, dth, dr, th0, step] = s;
        let unity: u16 = 4096;
        let factor = |d: u16| u32::from(unity.wrapping_sub(d.wrapping_mul(4096)));
        let fi = u32::from(unity.wrapping_sub(di.wrapping_mul(4096).wrapping_add(1)));
        let (th0, step) = (th0.wrapping_mul(64), step.wrapping_mul(64));
        // θ restarts from θ0 (the CPU model does so in its first step).
        state[2] = vec![f64::from(th0); n];
        [b.all(n), fi, factor(dv), factor(dth), factor(dr), u32::from(th0), u32::from(step), 0]
    } else {
        let d: Vec<f64> = SCALARS.iter().map(|name| var(p, name).map(|v| v[0])).collect::<Result<_, _>>()?;
        let f = |x: f64| (x as f32).to_bits();
        [b.all(n), f(1.0 - d[0]), f(1.0 - d[1]), f(1.0 - d[2]), f(1.0 - d[3]), f(d[4]), f(d[5]), 0]
    };
    let params = b.uniform8(params);
    let mut bufs = Vec::new();
    for (name, data) in STATE.iter().zip(&state) {
        bufs.push(b.per_copy(name, &b.words(data))?);
    }
    let mant = if fixed { i32s(p, "bias_mant")? } else { var(p, "bias_mant")?.to_vec() };
    let mant = b.per_copy("bias_mant", &b.words(&mant))?;
    let exp = b.per_copy("bias_exp", &words_i32(&ints(p, "bias_exp", -64.0, 64.0)?))?;
    let mut bind = vec![(0, &params), (1, a_in), (2, s_out), (8, &mant), (9, &exp)];
    for (k, buf) in bufs.iter().enumerate() {
        bind.push((3 + k as u32, buf));
    }
    let code = shaders::with_wide_int(shaders::ATRLIF, fixed);
    let launch = b.launch(&code, "atrlif", &bind, b.all(n));
    for (name, buf) in STATE.into_iter().zip(bufs) {
        vars.insert((p.id, name.into()), (VarHome::buffer(buf, n), shape_of(p, name)));
    }
    for name in ["bias_mant", "bias_exp"].into_iter().chain(SCALARS) {
        host_var(vars, p, name)?;
    }
    b.keep.extend([mant, exp]);
    Ok(launch)
}
