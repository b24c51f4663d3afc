//! Data loaders (Lava `lava.proc.io.dataloader`, SPEC §2.6): feed a data set of
//! (input, ground truth) samples into a network, one sample every `interval` steps,
//! cycling. `StateDataloader` writes each sample into a Var of another process;
//! `SpikeDataloader` plays each sample (last axis = time) on its `s_out` port. Both send
//! the current sample's ground truth every step. All samples must have equal shapes.

use ndarray::{ArrayD, Axis};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::graph::{Handle, Network, OutPort, Process, ProcessBuilder, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, MgmtIo, SpikeIo};
use crate::process::io::mgmt::Schedule;
use crate::registry::{ModelEntry, OutputTiming, Registry};

/// A data set: samples of equal shape and their ground truths of equal shape.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Inputs.
    pub data: Vec<ArrayD<f64>>,
    /// Ground truths (a scalar label is an array of shape `[1]`).
    pub ground_truth: Vec<ArrayD<f64>>,
}

impl Dataset {
    /// Stacks samples into (n, *shape) arrays, checking that shapes agree.
    fn stacked(&self) -> std::result::Result<(ArrayD<f64>, ArrayD<f64>), String> {
        if self.data.is_empty() || self.data.len() != self.ground_truth.len() {
            return Err(format!(
                "{} inputs and {} ground truths: need the same non-zero number",
                self.data.len(),
                self.ground_truth.len()
            ));
        }
        let stack = |v: &[ArrayD<f64>], what: &str| {
            let views: Vec<_> = v.iter().map(|a| a.view()).collect();
            ndarray::stack(Axis(0), &views).map_err(|_| format!("all {what} must have the same shape"))
        };
        Ok((stack(&self.data, "inputs")?, stack(&self.ground_truth, "ground truths")?))
    }
}

fn invalid(process: &str, reason: String) -> Error {
    Error::InvalidParameter { process: process.into(), param: "dataset".into(), reason }
}

/// Writes sample k into a Var at the k-th scheduled step (Lava `StateDataloader`).
#[derive(Clone, Debug)]
pub struct StateDataloader {
    data: ArrayD<f64>,
    gt: ArrayD<f64>,
    schedule: Schedule,
}

impl StateDataloader {
    /// Adds a loader writing `dataset`'s inputs into `var` (Lava: then `connect_var(var)`).
    pub fn attach(
        net: &mut Network,
        var: &VarRef,
        dataset: &Dataset,
        interval: u64,
        offset: u64,
    ) -> Result<Handle<StateDataloader>> {
        let (data, gt) = dataset.stacked().map_err(|r| invalid("StateDataloader", r))?;
        let shape = net.var_shape(var)?;
        if data.shape()[1..] != shape[..] {
            return Err(invalid(
                "StateDataloader",
                format!("samples have shape {:?}, the Var {:?}", &data.shape()[1..], shape),
            ));
        }
        if interval == 0 {
            return Err(invalid("StateDataloader", "interval must be at least 1".into()));
        }
        let h = net.add(StateDataloader { data, gt, schedule: Schedule { interval, offset: offset % interval } })?;
        net.connect_var(&h.ref_port("state"), var)?;
        Ok(h)
    }
}

/// Plays sample k on `s_out` during the k-th interval (Lava `SpikeDataloader`); samples
/// are cut or zero-padded to `interval` steps.
#[derive(Clone, Debug)]
pub struct SpikeDataloader {
    data: ArrayD<f64>,
    gt: ArrayD<f64>,
    schedule: Schedule,
}

impl SpikeDataloader {
    /// A loader for `dataset` (inputs of shape `(..., T)`).
    pub fn new(dataset: &Dataset, interval: u64, offset: u64) -> Result<Self> {
        let (data, gt) = dataset.stacked().map_err(|r| invalid("SpikeDataloader", r))?;
        if data.ndim() < 3 || interval == 0 {
            return Err(invalid("SpikeDataloader", "inputs need a time axis and interval must be at least 1".into()));
        }
        Ok(SpikeDataloader { data, gt, schedule: Schedule { interval, offset: offset % interval } })
    }
}

impl Process for StateDataloader {
    const TYPE_NAME: &'static str = "io.StateDataloader";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.ref_port("state", &self.data.shape()[1..])?;
        b.out_port("ground_truth", &self.gt.shape()[1..])?;
        b.var("dataset_data", self.data.shape(), self.data.clone())?;
        b.var("dataset_gt", self.gt.shape(), self.gt.clone())?;
        b.params(&self.schedule)
    }
}

impl Process for SpikeDataloader {
    const TYPE_NAME: &'static str = "io.SpikeDataloader";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        let sample = &self.data.shape()[1..];
        let port_shape = &sample[..sample.len() - 1];
        b.out_port("s_out", port_shape)?;
        b.out_port("ground_truth", &self.gt.shape()[1..])?;
        let mut buf = port_shape.to_vec();
        buf.push(self.schedule.interval as usize);
        b.var("data", &buf, 0.0)?;
        b.var("dataset_data", self.data.shape(), self.data.clone())?;
        b.var("dataset_gt", self.gt.shape(), self.gt.clone())?;
        b.params(&self.schedule)
    }
}

impl Handle<SpikeDataloader> {
    /// The current sample's spikes.
    pub fn s_out(&self) -> OutPort {
        self.out_port("s_out")
    }
    /// The current sample's ground truth.
    pub fn ground_truth(&self) -> OutPort {
        self.out_port("ground_truth")
    }
}

impl Handle<StateDataloader> {
    /// The current sample's ground truth.
    pub fn ground_truth(&self) -> OutPort {
        self.out_port("ground_truth")
    }
}

pub(crate) fn register(r: &mut Registry) {
    let t = OutputTiming::SameStep;
    let make = |spike: bool, fixed: bool| {
        move |p: &LeafProcess| Ok(Box::new(Loader::new(p, spike, fixed)?) as Box<dyn CpuModel>)
    };
    let models = [
        ModelEntry::cpu("io.StateDataloader", "PyStateModelFixed", &["fixed_pt"], t, make(false, true)),
        ModelEntry::cpu("io.StateDataloader", "PyStateModelFloat", &["floating_pt"], t, make(false, false)),
        ModelEntry::cpu("io.SpikeDataloader", "PySpikeModelFixed", &["fixed_pt"], t, make(true, true)),
        ModelEntry::cpu("io.SpikeDataloader", "PySpikeModelFloat", &["floating_pt"], t, make(true, false)),
    ];
    r.register_library(models);
}

/// Both loaders' models.
struct Loader {
    spike: bool,
    fixed: bool,
    schedule: Schedule,
    /// Samples, flattened: sample k is `data[k*size..(k+1)*size]`.
    samples: Vec<f64>,
    sample_size: usize,
    gts: Vec<f64>,
    gt_size: usize,
    n_samples: usize,
    sample_id: usize,
    ground_truth: Vec<f64>,
    /// SpikeDataloader: the playing sample, (port size, interval) row-major.
    buffer: Vec<f64>,
    sample_len: usize,
    sample_time: u64,
}

impl Loader {
    fn new(p: &LeafProcess, spike: bool, fixed: bool) -> std::result::Result<Self, String> {
        let schedule: Schedule = p.params()?;
        let data = p.var("dataset_data")?;
        let gt = p.var("dataset_gt")?;
        let n = *data.shape.first().ok_or("empty data set")?;
        if n == 0 || gt.shape.first() != Some(&n) {
            return Err("the data set's inputs and ground truths differ in number".into());
        }
        let sample_size = data.data.len() / n;
        let buffer = if spike { p.var("data")?.data.to_vec() } else { Vec::new() };
        let sample_len = if spike { *data.shape.last().ok_or("no time axis")? } else { 0 };
        Ok(Loader {
            spike,
            fixed,
            schedule,
            samples: data.data.to_vec(),
            sample_size,
            gts: gt.data.to_vec(),
            gt_size: gt.data.len() / n,
            n_samples: n,
            sample_id: 0,
            ground_truth: vec![0.0; gt.data.len() / n],
            buffer,
            sample_len,
            sample_time: 0,
        })
    }

    fn cast(&self, x: f64) -> f64 {
        if self.fixed {
            (x.trunc() as i32) as f64
        } else {
            x
        }
    }
}

impl CpuModel for Loader {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        if self.spike {
            let interval = self.schedule.interval as usize;
            let col = (self.sample_time % self.schedule.interval) as usize;
            for (i, o) in io.send(0).iter_mut().enumerate() {
                *o = self.buffer[i * interval + col];
            }
            io.send(1).copy_from_slice(&self.ground_truth);
            self.sample_time += 1;
        } else {
            io.send(0).copy_from_slice(&self.ground_truth);
        }
        Ok(())
    }

    fn post_guard(&self, t: u64) -> bool {
        self.schedule.due(t)
    }

    fn run_post_mgmt(&mut self, io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        let k = self.sample_id;
        let sample = &self.samples[k * self.sample_size..(k + 1) * self.sample_size];
        self.ground_truth.copy_from_slice(&self.gts[k * self.gt_size..(k + 1) * self.gt_size]);
        if self.spike {
            // Cut or zero-pad the sample's time axis to the interval.
            let interval = self.schedule.interval as usize;
            let rows = self.buffer.len() / interval;
            for r in 0..rows {
                for c in 0..interval {
                    let x = if c < self.sample_len { sample[r * self.sample_len + c] } else { 0.0 };
                    self.buffer[r * interval + c] = self.cast(x);
                }
            }
            self.sample_time = 0;
        } else {
            let values: Vec<f64> = sample.iter().map(|&x| self.cast(x)).collect();
            io.write_ref(0, &values)?;
        }
        self.sample_id = (self.sample_id + 1) % self.n_samples;
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let src: &[f64] = match (self.spike, var) {
            (true, 0) => &self.buffer,
            (true, 1) | (false, 0) => &self.samples,
            (true, 2) | (false, 1) => &self.gts,
            _ => return Err(unknown_var(var)),
        };
        check_len("dataloader Var", src.len(), out.len())?;
        out.copy_from_slice(src);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let dst: &mut Vec<f64> = match (self.spike, var) {
            (true, 0) => &mut self.buffer,
            (true, 1) | (false, 0) => &mut self.samples,
            (true, 2) | (false, 1) => &mut self.gts,
            _ => return Err(unknown_var(var)),
        };
        check_len("dataloader Var", dst.len(), data.len())?;
        dst.copy_from_slice(data);
        Ok(())
    }
}
