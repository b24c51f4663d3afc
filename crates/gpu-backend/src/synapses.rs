//! Synapses whose output row is computed from their input alone (Dense, Sparse, DelaySparse,
//! DelayDense, Conv, ConvTranspose): each is planned as a [`SynapsePlan`], the bindings of
//! its sums (`synapse_sum` of dense.wgsl, sparse.wgsl, conv.wgsl, bindings 0 to 7), launched
//! on their own after an emit kernel sends the previous step's sums, or fused with the neuron
//! population the synapse alone feeds (`crate::fusion`), which then reads them directly.

use basalt_core::executable::LeafProcess;
use basalt_core::process::dense::{quantize_weights, DenseParams, SignMode};
use basalt_core::process::sparse::SynapseParams;

use crate::{host_var, params, shaders, var, Builder, GpuError, Launch, VarHome, VarMap};

/// A synapse's sums: their source and bindings, for their own launch or one fused with the
/// neuron population the synapse feeds.
pub(crate) struct SynapsePlan {
    /// The synapse's WGSL (without the precision prelude).
    pub(crate) source: String,
    /// The entry of the unfused sums.
    pub(crate) entry: &'static str,
    pub(crate) bindings: Vec<(u32, wgpu::Buffer)>,
    /// One thread per output row and group of copies (`SYN_GROUP` in the source).
    pub(crate) threads: u32,
    /// Launches before the sums, fused or not (the event-driven Dense's list of inputs).
    pub(crate) before: Vec<Launch>,
    /// The entry of the emit kernel (unfused only): the previous step's sums to the output
    /// port, one thread per output of every copy.
    pub(crate) emit_entry: &'static str,
    /// The output port's buffer.
    pub(crate) a_out: wgpu::Buffer,
    /// Outputs over the batch: the emit kernel's threads.
    pub(crate) outputs: u32,
}

impl SynapsePlan {
    /// The unfused sums' launch.
    pub(crate) fn launch(&self, b: &mut Builder<'_>) -> Launch {
        let binds: Vec<(u32, &wgpu::Buffer)> = self.bindings.iter().map(|(k, buf)| (*k, buf)).collect();
        b.launch(&shaders::for_precision(&self.source, b.fixed), self.entry, &binds, self.threads)
    }

    /// The emit kernel's launch (unfused only; a fused plan never builds it): it reads the
    /// parameters (binding 0) and the sums (binding 3) and writes the output port (binding 2).
    pub(crate) fn emit(&self, b: &mut Builder<'_>) -> Launch {
        let binds: Vec<(u32, &wgpu::Buffer)> = self
            .bindings
            .iter()
            .filter(|(k, _)| *k == 0 || *k == 3)
            .map(|(k, buf)| (*k, buf))
            .chain([(2, &self.a_out)])
            .collect();
        b.launch(&shaders::for_precision(&self.source, b.fixed), self.emit_entry, &binds, self.outputs)
    }
}

/// Storage buffers the sums of a synapse of process type `type_name` bind, or None for a type
/// that has no synapse interface.
pub(crate) fn storage_buffers(type_name: &str) -> Option<u32> {
    match type_name {
        "Dense" => Some(5),
        "Sparse" | "DelaySparse" | "DelayDense" => Some(6),
        "Conv" | "ConvTranspose" => Some(3),
        _ => None,
    }
}

/// Copies whose Dense sums one thread computes together (`GROUP` in dense.wgsl, at most 8):
/// each weight it reads serves them all.
pub(crate) fn dense_group(batch: usize) -> usize {
    batch.clamp(1, 8)
}

/// A Dense-like process's weights as the GPU holds them, with the weight exponent: fixed
/// point quantises them as the CPU model does (sign mode, weight bits). (A sparse matrix's
/// implicit zeros, which Lava counts when it decides the sign mode, never change it.)
pub(crate) fn dense_weights(w: &[f64], params: &DenseParams, fixed: bool) -> (Vec<f64>, i32) {
    if fixed {
        let mode = params.sign_mode.unwrap_or_else(|| SignMode::of(w));
        let q = quantize_weights(w, mode, params.num_weight_bits).into_iter().map(f64::from).collect();
        (q, params.weight_exp)
    } else {
        (w.to_vec(), 0)
    }
}

/// The sums of a synapse of a type [`storage_buffers`] knows, reading `s_in` and emitting to
/// `a_out`; registers its Vars.
pub(crate) fn plan_synapse(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_in: &wgpu::Buffer,
    a_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<SynapsePlan, GpuError> {
    match p.type_name.as_str() {
        "Dense" => plan_dense(b, p, s_in, a_out, vars),
        "Conv" | "ConvTranspose" => plan_conv(b, p, s_in, a_out, vars),
        _ => plan_sparse(b, p, s_in, a_out, vars),
    }
}

/// A plain Dense, event-driven: column-major weights, a list of the input columns with a
/// non-zero spike per group of copies, then one thread per row and group.
fn plan_dense(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_in: &wgpu::Buffer,
    a_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<SynapsePlan, GpuError> {
    let wv = p.var("weights").map_err(GpuError::UnknownVar)?;
    let (rows, cols) = (wv.shape[0], wv.shape[1]);
    let graded = var(p, "num_message_bits")?[0] > 0.0;
    let params_d: DenseParams = params(p)?;
    let (weights, wexp) = dense_weights(&wv.data, &params_d, b.fixed);
    // Column-major for the event-driven path: column j is words j*rows...
    let by_column: Vec<f64> = (0..rows * cols).map(|k| weights[(k % rows) * cols + k / rows]).collect();
    let w = b.storage(&format!("{}.weights", p.name), &b.words(&by_column))?;
    let a_buff = b.per_copy("a_buff", &b.words(var(p, "a_buff")?))?;
    // The event-driven path serves groups of copies.
    let group = dense_group(b.batch);
    let groups = b.batch.div_ceil(group);
    let events = b.storage("events", &vec![0; cols * groups])?;
    let event_count = b.storage("event count", &vec![0; groups])?;
    let batch = b.batch as u32;
    let params = b.uniform8([rows as u32, cols as u32, u32::from(graded), wexp as u32, batch, 0, 0, 0]);
    let source = shaders::dense_grouped(group);
    let code = shaders::for_precision(&source, b.fixed);
    let list = [(0, &params), (1, s_in), (5, &events), (6, &event_count)];
    // One workgroup (64 threads) per group.
    let list = b.launch(&code, "dense_events_list", &list, (64 * groups) as u32);
    let bindings = vec![(0, params), (1, s_in.clone()), (3, a_buff.clone()), (4, w), (5, events), (6, event_count)];
    vars.insert((p.id, "a_buff".into()), (VarHome::buffer(a_buff, rows), vec![rows]));
    vars.insert((p.id, "weights".into()), (VarHome::Host(weights), vec![rows, cols]));
    host_var(vars, p, "num_message_bits")?;
    Ok(SynapsePlan {
        source,
        entry: "dense_events",
        bindings,
        threads: (rows * groups) as u32,
        before: vec![list],
        emit_entry: "dense_emit",
        a_out: a_out.clone(),
        outputs: b.all(rows),
    })
}

/// Sparse, DelaySparse and DelayDense: CSR weights (and delays) by output row, a delay line
/// of `max_delay + 1` slots per row.
fn plan_sparse(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_in: &wgpu::Buffer,
    a_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<SynapsePlan, GpuError> {
    // CSR weights (and delays) in Var order, rows as the pattern stores them (a DelayDense
    // stores every entry: its row-major Vars are in CSR order).
    let sp: SynapseParams = params(p)?;
    let pat = &sp.pattern;
    pat.validate().map_err(|reason| GpuError::Parameter { process: p.name.clone(), reason })?;
    let rows = pat.shape[0];
    let nnz = pat.indices.len();
    let wv = var(p, "weights")?;
    let (weights, wexp) = dense_weights(wv, &sp.dense, b.fixed);
    let depth = sp.max_delay.map_or(1, |m| m + 1);
    let delays: Vec<u32> = match p.var("delays") {
        Ok(d) => d.data.iter().map(|&x| x as u32).collect(),
        Err(_) => vec![0; nnz],
    };
    if weights.len() != nnz || delays.len() != nnz || delays.iter().any(|&d| d as usize >= depth) {
        return Err(GpuError::Parameter {
            process: p.name.clone(),
            reason: "weights or delays do not match the sparsity pattern".into(),
        });
    }
    let graded = var(p, "num_message_bits")?[0] > 0.0;
    let w = b.storage(&format!("{}.weights", p.name), &b.words(&weights))?;
    let row_ptr: Vec<u32> = pat.indptr.iter().map(|&x| x as u32).collect();
    let col_idx: Vec<u32> = pat.indices.iter().map(|&x| x as u32).collect();
    let row_ptr = b.storage("row_ptr", &row_ptr)?;
    // Storage bindings need at least one element.
    let col_idx = b.storage("cols", if col_idx.is_empty() { &[0] } else { &col_idx })?;
    let dl = b.storage("delays", if delays.is_empty() { &[0] } else { &delays })?;
    let a_buff = b.per_copy("a_buff", &b.words(var(p, "a_buff")?))?;
    let cols = pat.shape[1] as u32;
    let batch = b.batch as u32;
    let params = b.uniform8([rows as u32, u32::from(graded), wexp as u32, depth as u32, cols, batch, 0, 0]);
    let source = shaders::SPARSE.to_string();
    let all = b.all(rows);
    let bindings =
        vec![(0, params), (1, s_in.clone()), (3, a_buff.clone()), (4, w), (5, row_ptr), (6, col_idx), (7, dl)];
    let buff_shape = p.var("a_buff").map_err(GpuError::UnknownVar)?.shape.clone();
    vars.insert((p.id, "a_buff".into()), (VarHome::buffer(a_buff, rows * depth), buff_shape));
    let w_shape = p.var("weights").map_err(GpuError::UnknownVar)?.shape.clone();
    vars.insert((p.id, "weights".into()), (VarHome::Host(weights), w_shape));
    for v in p.vars.iter().filter(|v| v.name == "delays" || v.name == "num_message_bits") {
        host_var(vars, p, &v.name)?;
    }
    Ok(SynapsePlan {
        source,
        entry: "sparse",
        bindings,
        threads: all,
        before: Vec::new(),
        emit_entry: "sparse_emit",
        a_out: a_out.clone(),
        outputs: all,
    })
}

/// Conv and ConvTranspose: one thread per output element gathering over the kernel.
fn plan_conv(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    s_in: &wgpu::Buffer,
    a_out: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<SynapsePlan, GpuError> {
    let geo: basalt_core::process::conv::ConvGeometry = params(p)?;
    let wv = p.var("weight").map_err(GpuError::UnknownVar)?;
    let graded = var(p, "num_message_bits")?[0] > 0.0;
    // A ConvTranspose stores its forward convolution's geometry: its output is that
    // convolution's input.
    let transposed = p.type_name == "ConvTranspose";
    let out_shape = if transposed { geo.input_shape } else { geo.output_shape };
    let n_out: usize = out_shape.iter().product();
    let w = b.storage("conv weight", &b.words(&wv.data))?;
    let a_buf = b.per_copy("a_buf", &b.words(var(p, "a_buf")?))?;
    let [ix, iy, ic] = geo.input_shape;
    let [ox, oy, oc] = geo.output_shape;
    let params = b.uniform_words(&[
        ix as u32,
        iy as u32,
        ic as u32,
        geo.groups as u32,
        ox as u32,
        oy as u32,
        oc as u32,
        u32::from(graded),
        geo.kernel[0] as u32,
        geo.kernel[1] as u32,
        geo.stride[0] as u32,
        geo.stride[1] as u32,
        geo.padding[0] as u32,
        geo.padding[1] as u32,
        geo.dilation[0] as u32,
        geo.dilation[1] as u32,
        b.batch as u32,
        u32::from(transposed),
        0,
        0,
    ]);
    let source = shaders::CONV.to_string();
    let (emit_entry, entry) =
        if transposed { ("conv_transpose_emit", "conv_transpose") } else { ("conv_emit", "conv") };
    let all = b.all(n_out);
    vars.insert((p.id, "a_buf".into()), (VarHome::buffer(a_buf.clone(), n_out), out_shape.to_vec()));
    for v in &p.vars {
        if v.name != "a_buf" {
            host_var(vars, p, &v.name)?;
        }
    }
    let bindings = vec![(0, params), (1, s_in.clone()), (3, a_buf), (4, w)];
    Ok(SynapsePlan {
        source,
        entry,
        bindings,
        threads: all,
        before: Vec::new(),
        emit_entry,
        a_out: a_out.clone(),
        outputs: all,
    })
}
