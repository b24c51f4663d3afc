//! `Spiker` and `Receiver` on the GPU (`shaders/spiker.wgsl`): integer Vars in either
//! precision, so they run in float and fixed-point networks alike.

use basalt_core::executable::LeafProcess;

use crate::{i32s, ints, shaders, shape_of, words_i32, Builder, GpuError, Launch, Slot, VarHome, VarMap};

/// Plans a Spiker (sending on `outs`) or a Receiver (reading `ins`).
pub(crate) fn plan_spiker_or_receiver(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    ins: &[wgpu::Buffer],
    outs: &[wgpu::Buffer],
    vars: &mut VarMap,
) -> Result<Launch, GpuError> {
    let code = shaders::for_precision(shaders::SPIKER, b.fixed);
    let int_slot =
        |buf: &wgpu::Buffer, len: usize| VarHome::Buffer(Slot { buf: buf.clone(), offset: 0, len, int: true });
    if p.type_name == "Spiker" {
        let n = p.out_ports[0].shape.iter().product::<usize>();
        let params = b.uniform([b.all(n), 0, 0, 0]);
        let rate = b.per_copy("rate", &words_i32(&ints(p, "rate", 1.0, f64::from(i32::MAX))?))?;
        let counter = b.per_copy("counter", &words_i32(&i32s(p, "counter")?))?;
        let payload = b.per_copy("payload", &b.words(&i32s(p, "payload")?))?;
        let s_out = &outs[p.out_port_offset];
        let binds = [(0, &params), (1, &rate), (2, &counter), (3, &payload), (4, s_out)];
        let launch = b.launch(&code, "spiker", &binds, b.all(n));
        vars.insert((p.id, "rate".into()), (int_slot(&rate, n), shape_of(p, "rate")));
        vars.insert((p.id, "counter".into()), (int_slot(&counter, n), shape_of(p, "counter")));
        vars.insert((p.id, "payload".into()), (VarHome::buffer(payload, n), shape_of(p, "payload")));
        b.keep.push(rate);
        Ok(launch)
    } else {
        let n = p.in_ports[0].shape.iter().product::<usize>();
        let params = b.uniform([b.all(n), 0, 0, 0]);
        let received = b.per_copy("payload", &words_i32(&i32s(p, "payload")?))?;
        let launch =
            b.launch(&code, "receiver", &[(0, &params), (5, &ins[p.in_port_offset]), (6, &received)], b.all(n));
        vars.insert((p.id, "payload".into()), (int_slot(&received, n), shape_of(p, "payload")));
        Ok(launch)
    }
}
