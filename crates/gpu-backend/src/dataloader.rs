//! `io.SpikeDataloader` and `io.StateDataloader` on the GPU (`shaders/dataloader.wgsl`): the
//! data set is uploaded once and every load, column and ground truth follows from the clock.
//! In a batch, copy c loads sample (k B + c) mod n at its k-th load.

use basalt_core::executable::LeafProcess;
use basalt_core::process::io::mgmt::Schedule;

use crate::{host_var, params, shaders, Builder, GpuError, Launch, Slot, VarHome, VarMap};

/// The data set of a loader: its samples' words, their count and shape (without the sample
/// axis), and the ground truths' words.
struct DataSet {
    samples: wgpu::Buffer,
    count: usize,
    sample_shape: Vec<usize>,
    gts: wgpu::Buffer,
    gt_size: usize,
}

fn data_set(b: &mut Builder<'_>, p: &LeafProcess) -> Result<DataSet, GpuError> {
    let data = p.var("dataset_data").map_err(GpuError::UnknownVar)?;
    let gt = p.var("dataset_gt").map_err(GpuError::UnknownVar)?;
    let count = data.shape.first().copied().unwrap_or(0);
    if count == 0 || gt.shape.first() != Some(&count) {
        return Err(GpuError::Parameter {
            process: p.name.clone(),
            reason: "the data set is empty or its inputs and ground truths differ in number".into(),
        });
    }
    let samples = b.storage("dataset", &b.words(&data.data))?;
    let gts = b.storage("ground truths", &b.words(&gt.data))?;
    let sample_shape = data.shape[1..].to_vec();
    Ok(DataSet { samples, count, sample_shape, gts, gt_size: gt.data.len() / count })
}

/// The uniform of `dataloader.wgsl`.
fn uniform(b: &mut Builder<'_>, n: usize, s: &Schedule, sample_len: usize, d: &DataSet, first: usize) -> wgpu::Buffer {
    let words = [n, s.interval as usize, s.offset as usize, sample_len, d.count, b.batch, d.gt_size, first];
    b.uniform8(words.map(|x| x as u32))
}

/// A SpikeDataloader: returns its spike-phase launches (the sample's column, the ground
/// truth) and its post-management load.
pub(crate) fn plan_spike_loader(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    outs: &[wgpu::Buffer],
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<(Vec<Launch>, Launch), GpuError> {
    let schedule: Schedule = params(p)?;
    let d = data_set(b, p)?;
    let playing = p.var("data").map_err(GpuError::UnknownVar)?;
    let n = p.out_ports[0].shape.iter().product::<usize>();
    let sample_len = d.sample_shape.last().copied().unwrap_or(0);
    let u = uniform(b, n, &schedule, sample_len, &d, 0);
    let buf = b.per_copy("playing sample", &b.words(&playing.data))?;
    let (s_out, gt_out) = (&outs[p.out_port_offset], &outs[p.out_port_offset + 1]);
    let code = shaders::DATALOADER;
    let interval = schedule.interval as usize;
    let load = b.launch(code, "spike_load", &[(0, &u), (1, clock), (2, &d.samples), (3, &buf)], b.all(n * interval));
    let spike = vec![
        b.launch(code, "spike_send", &[(0, &u), (1, clock), (3, &buf), (4, s_out)], b.all(n)),
        b.launch(code, "gt_send", &[(0, &u), (1, clock), (5, &d.gts), (6, gt_out)], b.all(d.gt_size)),
    ];
    vars.insert((p.id, "data".into()), (VarHome::buffer(buf, n * interval), playing.shape.clone()));
    for name in ["dataset_data", "dataset_gt"] {
        host_var(vars, p, name)?;
    }
    Ok((spike, load))
}

/// A StateDataloader writing `target` (a Var's slot): returns its spike-phase launch (the
/// ground truth) and its post-management write.
pub(crate) fn plan_state_loader(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    outs: &[wgpu::Buffer],
    clock: &wgpu::Buffer,
    target: &Slot,
    vars: &mut VarMap,
) -> Result<(Launch, Launch), GpuError> {
    let schedule: Schedule = params(p)?;
    let d = data_set(b, p)?;
    let n = target.len;
    if d.sample_shape.iter().product::<usize>() != n {
        return Err(GpuError::Parameter { process: p.name.clone(), reason: "samples do not match the Var".into() });
    }
    let u = uniform(b, n, &schedule, 0, &d, target.offset);
    let code = shaders::DATALOADER;
    let gt_out = &outs[p.out_port_offset];
    let spike = b.launch(code, "gt_send", &[(0, &u), (1, clock), (5, &d.gts), (6, gt_out)], b.all(d.gt_size));
    let write = b.launch(code, "state_load", &[(0, &u), (1, clock), (2, &d.samples), (7, &target.buf)], b.all(n));
    for name in ["dataset_data", "dataset_gt"] {
        host_var(vars, p, name)?;
    }
    Ok((spike, write))
}
