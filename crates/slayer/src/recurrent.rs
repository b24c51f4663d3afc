//! Recurrent spiking dynamics (slayer's `utils.recurrent.custom_recurrent`, the core of its
//! `Recurrent` blocks, SPEC §3.7): `s[t] = f(z[t] + R·s[t-1])` with the neurons' integer
//! dynamics carried from step to step. slayer differentiates each step's neuron on its own
//! (the state between steps carries no gradient), so a step's spike has the surrogate slope
//! as its derivative with respect to that step's summed input, and the gradient reaches
//! earlier steps only through `R`.

use burn::tensor::{Tensor, TensorData};

use crate::error::Result;
use crate::neuron::ops::{host, surrogate, CubaConstants, NeuronState};

/// The spikes of neurons with constants `c` for input currents `z` (batch, n, time) and
/// recurrent weights `r` (n, n, already quantized), from rest; with `train`, differentiable
/// with respect to `z` and `r` as slayer's `CustomRecurrent`.
pub(crate) fn spikes(c: &CubaConstants, z: Tensor<3>, r: Tensor<2>, train: bool) -> Result<Tensor<3>> {
    let [batch, n, time] = z.dims();
    let z_host = host(z.clone().detach())?;
    let r_host = host(r.clone().detach().unsqueeze::<3>())?;
    let (spikes, slope) = run(c, &z_host, &r_host, [batch, n, time]);
    let device = z.device();
    let spikes = Tensor::<3>::from_data(TensorData::new(spikes, [batch, n, time]), &device);
    if !train {
        return Ok(spikes);
    }
    // Unrolled in time so that autodiff carries the gradient through R: each step's value
    // is the host spike (d - d = 0 adds nothing), its derivative the surrogate slope.
    let slope = Tensor::<3>::from_data(TensorData::new(slope, [batch, n, time]), &device);
    let r_t = r.transpose();
    let mut previous: Option<Tensor<2>> = None;
    let mut steps = Vec::with_capacity(time);
    for t in 0..time {
        let at = |x: &Tensor<3>| x.clone().slice([0..batch, 0..n, t..t + 1]).reshape([batch, n]);
        let input = at(&z);
        let summed = match previous {
            Some(s) => input + s.matmul(r_t.clone()),
            None => input,
        };
        let s = at(&spikes) + at(&slope) * (summed.clone() - summed.detach());
        steps.push(s.clone().reshape([batch, n, 1]));
        previous = Some(s);
    }
    Ok(Tensor::cat(steps, 2))
}

/// The forward on the host: spikes and surrogate slopes (batch, n, time) in row order.
fn run(c: &CubaConstants, z: &[f32], r: &[f32], [batch, n, time]: [usize; 3]) -> (Vec<f32>, Vec<f32>) {
    let mut spikes = vec![0f32; z.len()];
    let mut slope = vec![0f32; z.len()];
    for b in 0..batch {
        let mut states = vec![NeuronState::at_rest(c); n];
        let mut previous = vec![0f32; n];
        let mut current = vec![0f32; n];
        for t in 0..time {
            let silent = previous.iter().all(|&s| s == 0.0);
            for (i, state) in states.iter_mut().enumerate() {
                // Summed in float32 as torch does (exact for binary spikes on the 8-bit grid).
                let feedback: f32 =
                    if silent { 0.0 } else { r[i * n..(i + 1) * n].iter().zip(&previous).map(|(w, s)| w * s).sum() };
                let k = (b * n + i) * time + t;
                let (s, above, _) = state.step(c, z[k] + feedback);
                current[i] = s;
                spikes[k] = s;
                slope[k] = surrogate(c, above);
            }
            std::mem::swap(&mut previous, &mut current);
        }
    }
    (spikes, slope)
}
