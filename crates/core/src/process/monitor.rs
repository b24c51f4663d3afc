//! Monitor: records Vars and OutPort messages every step into preallocated buffers
//! (Lava `lava.proc.monitor`, SPEC §1.9). Unlike Lava's, one Monitor may hold several
//! probes; data are keyed by process name and Var/port name as Lava's `get_data` keys them.

use std::collections::BTreeMap;
use std::path::Path;

use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ModelError, Result};
use crate::executable::LeafProcess;
use crate::graph::{Handle, Network, OutPort, Process, ProcessBuilder, RefPort, VarDecl, VarRef};
use crate::model::{check_len, unknown_var, CpuModel, MgmtIo, SpikeIo};
use crate::registry::{ModelEntry, OutputTiming, Registry};
use crate::simulator::Simulator;
use crate::value::numel;

/// A Monitor process; add probes with [`Handle::<Monitor>::probe`].
#[derive(Clone, Debug, Default)]
pub struct Monitor;

impl Monitor {
    /// A monitor with no probes yet.
    pub fn new() -> Self {
        Monitor
    }
}

/// What a probe records: a Var (read in post-management) or an OutPort (in the spike phase).
#[derive(Clone, Debug, PartialEq)]
pub enum ProbeTarget {
    /// A Var.
    Var(VarRef),
    /// An OutPort's messages.
    OutPort(OutPort),
}

impl From<VarRef> for ProbeTarget {
    fn from(v: VarRef) -> Self {
        ProbeTarget::Var(v)
    }
}
impl From<&VarRef> for ProbeTarget {
    fn from(v: &VarRef) -> Self {
        ProbeTarget::Var(v.clone())
    }
}
impl From<OutPort> for ProbeTarget {
    fn from(p: OutPort) -> Self {
        ProbeTarget::OutPort(p)
    }
}
impl From<&OutPort> for ProbeTarget {
    fn from(p: &OutPort) -> Self {
        ProbeTarget::OutPort(p.clone())
    }
}

/// One probe as stored in the Monitor's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeInfo {
    /// Name of the probed process.
    pub process: String,
    /// Name of the probed Var or OutPort.
    pub target: String,
    /// True for a Var, false for an OutPort.
    pub is_var: bool,
    /// Steps the buffer holds.
    pub num_steps: usize,
    /// Shape of the probed value.
    pub shape: Vec<usize>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct MonitorParams {
    probes: Vec<ProbeInfo>,
}

/// The probes of a compiled Monitor, in the order of its `data_k` Vars (for backends that
/// build their own Monitor model), or a message naming the process.
pub fn probes_of(p: &LeafProcess) -> std::result::Result<Vec<ProbeInfo>, String> {
    p.params::<MonitorParams>().map(|params| params.probes)
}

/// Recorded data: process name -> Var or port name -> array of shape `(num_steps, *shape)`.
pub type MonitorData = BTreeMap<String, BTreeMap<String, ArrayD<f64>>>;

impl Process for Monitor {
    const TYPE_NAME: &'static str = "Monitor";
    fn build(self, b: &mut ProcessBuilder<'_>) -> Result<()> {
        b.params(&MonitorParams::default())
    }
}

impl Handle<Monitor> {
    /// Records `target` (a Var or an OutPort) for `num_steps` steps; running longer than
    /// that makes the run fail with a clear error (Lava raises IndexError).
    pub fn probe(&self, net: &mut Network, target: impl Into<ProbeTarget>, num_steps: usize) -> Result<()> {
        let target = target.into();
        if num_steps == 0 {
            return Err(Error::InvalidParameter {
                process: net.process_name(self.id())?.to_string(),
                param: "num_steps".into(),
                reason: "must be at least 1".into(),
            });
        }
        if net.process_type(self.id())? != Monitor::TYPE_NAME {
            return Err(Error::InvalidGraph("probe() called on a handle that is not a Monitor".into()));
        }
        let (proc, name, is_var, shape) = match &target {
            ProbeTarget::Var(v) => (v.proc, v.name.clone(), true, net.var_shape(v)?),
            ProbeTarget::OutPort(p) => (p.proc, p.name.clone(), false, net.out_port_shape(p)?),
        };
        let process = net.process_name(proc)?.to_string();
        let node = net.node(self.id())?;
        let mut params: MonitorParams = serde_json::from_value(node.params.clone())
            .map_err(|e| Error::InvalidGraph(format!("corrupt Monitor parameters: {e}")))?;
        if params.probes.iter().any(|p| p.process == process && p.target == name) {
            return Err(Error::InvalidGraph(format!("{process}.{name} is already probed by this Monitor")));
        }
        let k = params.probes.len();
        let mut data_shape = vec![num_steps];
        data_shape.extend(&shape);
        let port_name = format!("probe_{k}");
        // Declare the port first, connect, and only then commit the data Var and parameters,
        // so that a failed connection leaves the monitor unchanged.
        let mon = net.node_mut(self.id())?;
        if is_var {
            mon.ref_ports.push(crate::graph::RefPortDecl {
                name: port_name.clone(),
                shape: shape.clone(),
                target: None,
            });
            if let Err(e) =
                net.connect_var(&RefPort { proc: self.id(), name: port_name }, &VarRef { proc, name: name.clone() })
            {
                net.node_mut(self.id())?.ref_ports.pop();
                return Err(e);
            }
        } else {
            mon.in_ports.push(crate::graph::PortDecl { name: port_name.clone(), shape: shape.clone() });
            if let Err(e) = net.connect(OutPort { proc, name: name.clone() }, &self.in_port(&port_name)) {
                net.node_mut(self.id())?.in_ports.pop();
                return Err(e);
            }
        }
        params.probes.push(ProbeInfo { process, target: name, is_var, num_steps, shape });
        let mon = net.node_mut(self.id())?;
        mon.vars.push(VarDecl { name: format!("data_{k}"), value: ArrayD::zeros(data_shape) });
        mon.params = serde_json::to_value(&params).map_err(|e| Error::InvalidGraph(e.to_string()))?;
        Ok(())
    }

    fn probes<S: Simulator + ?Sized>(&self, rt: &S) -> Result<Vec<ProbeInfo>> {
        let exe = rt.executable();
        let p = exe.leaf_index(self.id()).ok_or_else(|| Error::NotFound {
            kind: "process",
            name: format!("Monitor #{}", self.id().0),
            context: " in this runtime".into(),
        })?;
        probes_of(&exe.processes[p]).map_err(Error::InvalidGraph)
    }

    /// All recorded data (Lava's `get_data()`), read between runs of the CPU [`crate::Runtime`]
    /// or any other [`Simulator`] (the GPU runtime).
    pub fn get_data<S: Simulator + ?Sized>(&self, rt: &S) -> Result<MonitorData> {
        let mut out = MonitorData::new();
        for (k, p) in self.probes(rt)?.into_iter().enumerate() {
            let data = rt.read(&self.var(&format!("data_{k}")))?;
            out.entry(p.process).or_default().insert(p.target, data);
        }
        Ok(out)
    }

    /// The data of one probe, by process name and Var/port name.
    pub fn data<S: Simulator + ?Sized>(&self, rt: &S, process: &str, target: &str) -> Result<ArrayD<f64>> {
        Ok(self.probe_data(rt, process, target)?.1)
    }

    /// One probe's description and data.
    fn probe_data<S: Simulator + ?Sized>(
        &self,
        rt: &S,
        process: &str,
        target: &str,
    ) -> Result<(ProbeInfo, ArrayD<f64>)> {
        let mut probes = self.probes(rt)?;
        let k = probes.iter().position(|p| p.process == process && p.target == target).ok_or_else(|| {
            Error::NotFound { kind: "probe", name: format!("{process}.{target}"), context: " on this Monitor".into() }
        })?;
        let data = rt.read(&self.var(&format!("data_{k}")))?;
        Ok((probes.swap_remove(k), data))
    }

    /// Plots one probe to a PNG file (one line per element; title = process name,
    /// x = "Time step", y = the Var/port name), as Lava's `Monitor.plot` does with
    /// matplotlib. A batched run's data (copies, steps, ...) plots its first copy, titled
    /// so; [`Monitor::plot_copy`] plots another.
    pub fn plot<S: Simulator + ?Sized>(
        &self,
        rt: &S,
        process: &str,
        target: &str,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        self.plot_copy(rt, process, target, 0, path)
    }

    /// [`Monitor::plot`] of copy `copy` of a batched run (copy 0 is the only one of an
    /// unbatched run).
    pub fn plot_copy<S: Simulator + ?Sized>(
        &self,
        rt: &S,
        process: &str,
        target: &str,
        copy: usize,
        path: impl AsRef<Path>,
    ) -> Result<()> {
        let (info, data) = self.probe_data(rt, process, target)?;
        let (data, title) = copy_of(data, info.shape.len() + 1, copy, process)?;
        crate::plot::line_plot_png(path.as_ref(), &title, "Time step", target, &data)
    }
}

/// Copy `copy` of probe data and its plot title: data of `steps_first` axes (steps, ...)
/// is one run (copy 0 only); one more leading axis is a batch of copies.
fn copy_of(data: ArrayD<f64>, steps_first: usize, copy: usize, process: &str) -> Result<(ArrayD<f64>, String)> {
    if data.ndim() == steps_first + 1 {
        let copies = data.shape()[0];
        if copy >= copies {
            return Err(Error::NotFound {
                kind: "copy",
                name: copy.to_string(),
                context: format!(" in a batch of {copies} (copies 0 to {})", copies.saturating_sub(1)),
            });
        }
        let one = data.index_axis(ndarray::Axis(0), copy).to_owned();
        Ok((one, format!("{process} (copy {copy} of {copies})")))
    } else if copy == 0 {
        Ok((data, process.to_string()))
    } else {
        Err(Error::NotFound {
            kind: "copy",
            name: copy.to_string(),
            context: " in an unbatched run (it has copy 0 only)".into(),
        })
    }
}

pub(crate) fn register(r: &mut Registry) {
    r.register_library([ModelEntry::cpu("Monitor", "PyMonitorModel", &[], OutputTiming::SameStep, |p| {
        Ok(Box::new(MonitorModel::new(p)?) as Box<dyn CpuModel>)
    })]);
}

/// Recording buffers of every probe.
struct MonitorModel {
    probes: Vec<(ProbeInfo, usize)>,
    data: Vec<Vec<f64>>,
    has_var_probes: bool,
}

impl MonitorModel {
    fn new(p: &LeafProcess) -> Result<Self, String> {
        let (mut in_k, mut ref_k) = (0, 0);
        let mut probes = Vec::new();
        let mut data = Vec::new();
        for (k, info) in probes_of(p)?.into_iter().enumerate() {
            let var = p.var(&format!("data_{k}"))?;
            if var.data.len() != info.num_steps * numel(&info.shape) {
                return Err(format!("Monitor buffer data_{k} does not match its probe"));
            }
            data.push(var.data.to_vec());
            let port = if info.is_var { &mut ref_k } else { &mut in_k };
            probes.push((info, *port));
            *port += 1;
        }
        if in_k != p.in_ports.len() || ref_k != p.ref_ports.len() {
            return Err("Monitor ports do not match its probes".into());
        }
        Ok(MonitorModel { has_var_probes: ref_k > 0, probes, data })
    }

    fn row(&mut self, k: usize, t: u64) -> Result<&mut [f64], ModelError> {
        let (info, _) = &self.probes[k];
        let size = numel(&info.shape);
        let row = (t - 1) as usize;
        if row >= info.num_steps {
            return Err(ModelError::new(format!(
                "Monitor buffer for {}.{} holds {} steps; time step {t} is past its end",
                info.process, info.target, info.num_steps
            )));
        }
        Ok(&mut self.data[k][row * size..(row + 1) * size])
    }
}

impl CpuModel for MonitorModel {
    fn run_spk(&mut self, io: &mut SpikeIo<'_>) -> Result<(), ModelError> {
        let t = io.time_step();
        for k in 0..self.probes.len() {
            let (is_var, port) = (self.probes[k].0.is_var, self.probes[k].1);
            if !is_var {
                let row = self.row(k, t)?;
                row.copy_from_slice(io.recv(port));
            }
        }
        Ok(())
    }

    fn post_guard(&self, _t: u64) -> bool {
        self.has_var_probes
    }

    fn run_post_mgmt(&mut self, io: &mut MgmtIo<'_>) -> Result<(), ModelError> {
        let t = io.time_step();
        for k in 0..self.probes.len() {
            let (is_var, port) = (self.probes[k].0.is_var, self.probes[k].1);
            if is_var {
                let row = self.row(k, t)?;
                io.read_ref(port, row)?;
            }
        }
        Ok(())
    }

    fn read_var(&self, var: usize, out: &mut [f64]) -> Result<(), ModelError> {
        let d = self.data.get(var).ok_or_else(|| unknown_var(var))?;
        check_len("data", d.len(), out.len())?;
        out.copy_from_slice(d);
        Ok(())
    }

    fn write_var(&mut self, var: usize, data: &[f64]) -> Result<(), ModelError> {
        let d = self.data.get_mut(var).ok_or_else(|| unknown_var(var))?;
        check_len("data", d.len(), data.len())?;
        d.copy_from_slice(data);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::copy_of;
    use ndarray::{ArrayD, IxDyn};

    /// A batched probe (copies, steps, n) plots one copy's (steps, n) data; unbatched data
    /// is copy 0; a copy past the batch is a clear error.
    #[test]
    fn plots_take_one_copy_of_batched_data() {
        let batched = ArrayD::from_shape_vec(IxDyn(&[3, 2, 2]), (0..12).map(f64::from).collect()).unwrap();
        let (one, title) = copy_of(batched.clone(), 2, 1, "lif").unwrap();
        assert_eq!(one.shape(), &[2, 2]);
        assert_eq!(one.iter().copied().collect::<Vec<_>>(), vec![4.0, 5.0, 6.0, 7.0]);
        assert_eq!(title, "lif (copy 1 of 3)");
        let e = copy_of(batched, 2, 3, "lif").unwrap_err();
        assert!(e.to_string().contains("copy `3` not found in a batch of 3 (copies 0 to 2)"), "{e}");
        let single = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0; 4]).unwrap();
        let (same, title) = copy_of(single.clone(), 2, 0, "lif").unwrap();
        assert_eq!((same, title.as_str()), (single.clone(), "lif"));
        assert!(copy_of(single, 2, 1, "lif").unwrap_err().to_string().contains("unbatched run"));
    }
}
