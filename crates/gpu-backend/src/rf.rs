//! Resonate-and-fire neurons (`Rf`, `RfIz`) on the GPU (`shaders/rf.wgsl`).

use basalt_core::executable::LeafProcess;

use crate::{host_var, i32s, ints, shaders, shape_of, var, Builder, GpuError, Launch, VarHome, VarMap};

/// Plans an RF or RF-IZ population reading the real and imaginary inputs, writing `s_out`.
pub(crate) fn plan_rf(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    ins: &[wgpu::Buffer],
    s_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<Launch, GpuError> {
    let fixed = b.fixed;
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let kind = u32::from(p.type_name == "RfIz");
    let scalar = |name: &str| var(p, name).map(|v| v[0]);
    let (real, imag, params) = if fixed {
        // Lava's decays are uint16 (negative values wrap as NumPy's cast does).
        let decay = |name: &str| -> Result<u32, GpuError> { Ok(u32::from(i32s(p, name)?[0] as i32 as u16)) };
        let params = [
            b.all(n),
            kind,
            decay("sin_decay")?,
            decay("cos_decay")?,
            ints(p, "state_exp", 0.0, 24.0)?[0] as u32,
            ints(p, "decay_bits", 0.0, 24.0)?[0] as u32,
            (i32s(p, "vth")?[0] as i32) as u32,
            0,
        ];
        (i32s(p, "real")?, i32s(p, "imag")?, params)
    } else {
        let f = |x: f64| (x as f32).to_bits();
        let params = [b.all(n), kind, f(scalar("sin_decay")?), f(scalar("cos_decay")?), 0, 0, f(scalar("vth")?), 0];
        (var(p, "real")?.to_vec(), var(p, "imag")?.to_vec(), params)
    };
    let params = b.uniform8(params);
    let real = b.per_copy("real", &b.words(&real))?;
    let imag = b.per_copy("imag", &b.words(&imag))?;
    let (re_in, im_in) = (&ins[p.in_port_offset], &ins[p.in_port_offset + 1]);
    let bind = [(0, &params), (1, re_in), (2, im_in), (3, s_out), (4, &real), (5, &imag)];
    let launch = b.launch(&shaders::with_wide_int(shaders::RF, fixed), "rf", &bind, b.all(n));
    for (name, buf) in [("real", real), ("imag", imag)] {
        vars.insert((p.id, name.into()), (VarHome::buffer(buf, n), shape_of(p, name)));
    }
    for name in ["sin_decay", "cos_decay", "state_exp", "decay_bits", "vth"] {
        host_var(vars, p, name)?;
    }
    Ok(launch)
}
