//! On-chip learning on the GPU: plans for `LearningDense` and `LearningLif`
//! (`shaders/learning.wgsl`, `shaders/learning_lif.wgsl`) and the host side of fixed-point
//! stochastic rounding.
//!
//! Fixed point stays bit-exact without f64 on the GPU: every random number Lava's model draws
//! is the same for all neurons and synapses of a step, so the host draws them with the CPU
//! model's generators ([`LearningRandoms`]) before each submission and uploads them as
//! integers ([`RandomFeed`]); the decay's f64 product is rebuilt exactly in integer
//! arithmetic from the factor's mantissa (`decay_fixed` in learning.wgsl), and the
//! LearningLif's floored trace is tabulated on the host for every value it can reach.

use basalt_core::executable::LeafProcess;
use basalt_core::learning::rule::{Dependency, FactorVar, Target};
use basalt_core::learning::{fixed_impulse, trace_decay_factor, LearningRandoms, RuleKind, TraceParams};
use basalt_core::process::dense::{truncate_weight, SignMode};
use basalt_core::process::learning_dense::LearningDenseParams;
use basalt_core::process::lif::LifKind;

use crate::{host_var, i32s, params, shaders, shape_of, var, Builder, GpuError, Launch, Slot, VarHome, VarMap};

/// Steps of random numbers one upload holds (the most steps per submission).
pub(crate) const RANDOM_SLOTS: usize = 256;
/// Words per step in the random buffer (see `learning.wgsl`).
const RANDOM_WORDS: usize = 8;
/// The smallest trace tau the fixed-point GPU decay handles (factor >= 2^-32).
const MIN_TAU: f64 = 0.046;
/// The largest LearningLif trace table (entries per spike value).
const MAX_LIF_TABLE: usize = 1 << 20;

/// The launches of one learning process: forward emits, spike-phase runs, and the
/// learning phase (run after every process's spike phase, as Lava's `lrn` phase).
pub(crate) struct LearningPlan {
    pub emits: Vec<Launch>,
    pub spike: Vec<Launch>,
    pub learn: Vec<Launch>,
    pub feed: Option<RandomFeed>,
}

/// Draws a fixed-point LearningDense's random numbers step by step, as the CPU model does,
/// and uploads them as the integers `learning.wgsl` compares against.
pub(crate) struct RandomFeed {
    randoms: LearningRandoms,
    t_epoch: u64,
    buf: wgpu::Buffer,
}

/// `r * 2^53` for a NumPy double in [0, 1) (exact: it has 53 random bits), as (hi, lo).
fn bits53(r: f64) -> (u32, u32) {
    let x = (r * 9_007_199_254_740_992.0) as u64;
    ((x >> 32) as u32, x as u32)
}

impl RandomFeed {
    /// Draws the numbers of steps `first..first + count` (count <= [`RANDOM_SLOTS`]) and
    /// queues their upload before the next submission.
    pub fn upload(&mut self, queue: &wgpu::Queue, first: u64, count: u64) {
        let mut words = vec![0u32; RANDOM_SLOTS * RANDOM_WORDS];
        for t in first..first + count {
            let r = &mut self.randoms;
            r.advance_traces();
            let post_impulse = r.trace_impulse(true) as u32;
            r.advance_traces();
            if t.is_multiple_of(self.t_epoch) {
                r.advance_synapses();
            }
            let (xh, xl) = bits53(r.trace_decay(false));
            let (yh, yl) = bits53(r.trace_decay(true));
            let syn = (r.synapse() * 128.0).floor() as u32;
            let slot = ((t - 1) as usize % RANDOM_SLOTS) * RANDOM_WORDS;
            words[slot..slot + RANDOM_WORDS].copy_from_slice(&[
                post_impulse,
                r.trace_impulse(false) as u32,
                r.trace_impulse(true) as u32,
                xh,
                xl,
                yh,
                yl,
                syn,
            ]);
        }
        queue.write_buffer(&self.buf, 0, bytemuck::cast_slice(&words));
    }
}

/// A decay factor in (0, 1) as `mantissa * 2^-shift` with a 53-bit mantissa, if
/// `53 <= shift <= 85` (the range learning.wgsl's 96-bit arithmetic covers).
fn mantissa_shift(f: f64) -> Option<(u64, u32)> {
    let bits = f.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as u32;
    if !(0.0..1.0).contains(&f) || exponent == 0 {
        return None;
    }
    let shift = 1075 - exponent;
    (shift <= 85).then_some(((bits & ((1 << 52) - 1)) | (1 << 52), shift))
}

fn bad(p: &LeafProcess, reason: String) -> GpuError {
    GpuError::Parameter { process: p.name.clone(), reason }
}

/// The id `learning.wgsl` gives a factor variable.
fn variable_id(v: FactorVar) -> i32 {
    match v {
        FactorVar::X0 => 0,
        FactorVar::Y0 => 1,
        FactorVar::X1 => 2,
        FactorVar::X2 => 3,
        FactorVar::Y1 => 4,
        FactorVar::Y2 => 5,
        FactorVar::Y3 => 6,
        FactorVar::W => 7,
        FactorVar::D => 8,
        FactorVar::T => 9,
        FactorVar::C => 10,
    }
}

/// Word `target` of the synaptic buffer [weights | delays | tags].
fn target_id(t: Target) -> i32 {
    match t {
        Target::Weights => 0,
        Target::Delays => 1,
        Target::Tags => 2,
    }
}

/// Plans a LearningDense: dense.wgsl's forward pass on the weights, then the learning kernels.
pub(crate) fn plan_learning_dense(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    ins: &[wgpu::Buffer],
    outs: &[wgpu::Buffer],
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<LearningPlan, GpuError> {
    let fixed = b.fixed;
    let lp: LearningDenseParams = params(p)?;
    let rule = lp.rule.compile().map_err(|e| bad(p, e.to_string()))?;
    let wv = p.var("weights").map_err(GpuError::UnknownVar)?;
    let [n_post, n_pre] = wv.shape[..] else {
        return Err(bad(p, "LearningDense weights must be 2-D".into()));
    };
    let n = n_post * n_pre;
    // Synaptic variables [weights | tag_2 | tag_1], row-major; fixed point truncates them to
    // integers and the weights to their bits (the CPU model does so in its first step).
    let mut syn = Vec::with_capacity(3 * n);
    for name in ["weights", "tag_2", "tag_1"] {
        let d = if fixed { i32s(p, name)? } else { var(p, name)?.to_vec() };
        if d.len() != n {
            return Err(bad(p, format!("Var `{name}` must have {n} elements")));
        }
        if fixed && name == "weights" {
            syn.extend(d.iter().map(|&t| truncate_weight(t as i64, lp.sign_mode, lp.num_weight_bits) as f64));
        } else {
            syn.extend(d);
        }
    }
    let three_factor = lp.rule.kind == RuleKind::ThreeFactor;
    let traces_params: Vec<TraceParams> = lp.rule.x.iter().chain(&lp.rule.y).cloned().collect();
    let graded = var(p, "num_message_bits")?[0] > 0.0;
    let row_len = 2 * n_pre + 3 * n_post;
    let t_epoch = lp.rule.t_epoch as usize;

    // Uniform: 12 words of sizes and modes, then 8 per trace (see `Trace` in learning.wgsl).
    let mut uni = [0u32; 12 + 5 * 8];
    uni[..8].copy_from_slice(&[
        n_pre as u32,
        n_post as u32,
        lp.rule.t_epoch,
        u32::from(graded),
        lp.graded_spike_cfg as u32,
        u32::from(three_factor),
        match lp.sign_mode {
            SignMode::Mixed => 0,
            SignMode::Excitatory => 1,
            SignMode::Inhibitory => 2,
        },
        rule.decimate_exponent.map_or(-1, |k| k as i32) as u32,
    ]);
    for (k, t) in traces_params.iter().enumerate() {
        let factor = trace_decay_factor(t.tau);
        let impulse = if fixed {
            let (int, frac) = fixed_impulse(t.impulse);
            if int > f64::from(i32::MAX / 2) {
                return Err(bad(p, format!("trace impulse {} is too large", t.impulse)));
            }
            [(int as i32) as u32, frac as u32]
        } else {
            [(t.impulse as f32).to_bits(), 0]
        };
        let (mantissa, shift) = match factor {
            Some(f) if fixed => mantissa_shift(f).ok_or_else(|| {
                GpuError::Unsupported(format!(
                    "a fixed-point trace decay with tau = {} below {MIN_TAU} steps (process {})",
                    t.tau, p.name
                ))
            })?,
            _ => (0, 0),
        };
        let w = 12 + 8 * k;
        uni[w..w + 8].copy_from_slice(&[
            impulse[0],
            impulse[1],
            u32::from(factor.is_some()),
            (factor.unwrap_or(0.0) as f32).to_bits(),
            (mantissa >> 32) as u32,
            mantissa as u32,
            shift,
            0,
        ]);
    }

    let mut program = vec![rule.series.len() as i32];
    for (target, products) in &rule.series {
        program.extend([target_id(*target), products.len() as i32]);
        for pr in products {
            let dep = match pr.dependency {
                Dependency::X0 => 0,
                Dependency::Y0 => 1,
                Dependency::U(_) => 2,
            };
            program.extend([dep, pr.s_mantissa, pr.s_exp, pr.factors.len() as i32]);
            for f in &pr.factors {
                let c = i32::try_from(f.constant)
                    .map_err(|_| bad(p, format!("rule constant {} does not fit int32", f.constant)))?;
                program.extend([variable_id(f.var), c, i32::from(f.sgn)]);
            }
        }
    }
    let program: Vec<u32> = program.into_iter().map(|x| x as u32).collect();

    let uniform = b.uniform_words(&uni);
    let syn_buf = b.storage(&format!("{}.synapses", p.name), &b.words(&syn))?;
    let traces = b.storage("traces", &vec![0; row_len])?;
    let times = b.storage("spike times", &vec![0; 2 * (n_pre + n_post)])?;
    let history = b.storage("trace history", &vec![0; (t_epoch + 1) * row_len])?;
    let rule_buf = b.storage("rule", &program)?;
    let rand = b.storage("randoms", &vec![0; RANDOM_SLOTS * RANDOM_WORDS])?;
    let a_buff = b.storage("a_buff", &b.words(var(p, "a_buff")?))?;

    let [s_in, bap] = [&ins[p.in_port_offset], &ins[p.in_port_offset + 1]];
    let a_out = &outs[p.out_port_offset];
    let dense = shaders::for_precision(shaders::DENSE, fixed);
    // One copy: learning networks are never batched.
    let dense_params = b.uniform8([n_post as u32, n_pre as u32, u32::from(graded), lp.weight_exp as u32, 1, 0, 0, 0]);
    let emits = vec![b.launch(&dense, "dense_emit", &[(0, &dense_params), (2, a_out), (3, &a_buff)], n_post as u32)];
    let code = shaders::with_wide_int(shaders::LEARNING, fixed);
    let neurons = (n_pre + n_post) as u32;
    let mut spike = vec![
        b.launch(&dense, "dense", &[(0, &dense_params), (1, s_in), (3, &a_buff), (4, &syn_buf)], n_post as u32),
        b.launch(&code, "learn_pre", &[(0, &uniform), (1, s_in), (3, &traces), (4, &times), (10, clock)], n_pre as u32),
        b.launch(
            &code,
            "learn_post",
            &[(0, &uniform), (2, bap), (3, &traces), (4, &times), (8, &rand), (10, clock)],
            n_post as u32,
        ),
    ];
    if three_factor {
        let ys: Vec<&wgpu::Buffer> = (2..5).map(|k| &ins[p.in_port_offset + k]).collect();
        let binds = [(0, &uniform), (3, &traces), (11, ys[0]), (12, ys[1]), (13, ys[2])];
        spike.push(b.launch(&code, "learn_third", &binds, n_post as u32));
    }
    let epoch_binds = [(0, &uniform), (3, &traces), (4, &times), (5, &history), (8, &rand), (10, clock)];
    let synapse_binds =
        [(0, &uniform), (4, &times), (5, &history), (6, &syn_buf), (7, &rule_buf), (8, &rand), (10, clock)];
    let learn = vec![
        b.launch(&code, "learn_epoch", &epoch_binds, neurons),
        b.launch(&code, "learn_synapses", &synapse_binds, n as u32),
        b.launch(&code, "learn_clear", &[(0, &uniform), (4, &times), (10, clock)], neurons),
    ];

    let slot = |buf: &wgpu::Buffer, offset: usize, len: usize, int: bool| {
        VarHome::Buffer(Slot { buf: buf.clone(), offset, len, int })
    };
    let mut put = |name: &str, home: VarHome| {
        vars.insert((p.id, name.to_string()), (home, shape_of(p, name)));
    };
    for (k, name) in ["weights", "tag_2", "tag_1"].into_iter().enumerate() {
        put(name, slot(&syn_buf, k * n, n, false));
    }
    let trace_offsets = [0, n_pre, 2 * n_pre, 2 * n_pre + n_post, 2 * n_pre + 2 * n_post];
    for (k, name) in ["x1", "x2", "y1", "y2", "y3"].into_iter().enumerate() {
        put(name, slot(&traces, trace_offsets[k], if k < 2 { n_pre } else { n_post }, false));
    }
    let time_slots =
        [("tx", 0, n_pre), ("ty", n_pre, n_post), ("x0", n_pre + n_post, n_pre), ("y0", 2 * n_pre + n_post, n_post)];
    for (name, offset, len) in time_slots {
        put(name, slot(&times, offset, len, true));
    }
    put("a_buff", VarHome::buffer(a_buff, n_post));
    host_var(vars, p, "num_message_bits")?;
    b.keep.extend([history, rule_buf]);
    let feed = fixed.then(|| RandomFeed {
        randoms: LearningRandoms::new(lp.rule.rng_seed),
        t_epoch: u64::from(lp.rule.t_epoch),
        buf: rand.clone(),
    });
    b.keep.push(rand);
    Ok(LearningPlan { emits, spike, learn, feed })
}

/// Plans a LearningLif: the LIF kernel between the trace update and the sends.
pub(crate) fn plan_learning_lif(
    b: &mut Builder<'_>,
    p: &LeafProcess,
    ins: &[wgpu::Buffer],
    outs: &[wgpu::Buffer],
    clock: &wgpu::Buffer,
    vars: &mut VarMap,
) -> Result<Vec<Launch>, GpuError> {
    let fixed = b.fixed;
    let trace: TraceParams = params(p)?;
    let n = p.in_ports[0].shape.iter().product::<usize>();
    let factor = trace_decay_factor(trace.tau).unwrap_or(0.0);
    let y1_init = var(p, "y1")?;
    // Fixed point: y1' = floor(y1 * factor + impulse * s) for every y1 the run can reach
    // (from its initial values, y1 stays below impulse / (1 - factor) + 1), s in {0, 1}.
    let table: Vec<u32> = if fixed {
        if let Some(bad_y) = y1_init.iter().find(|y| !(y.fract() == 0.0 && **y >= 0.0)) {
            return Err(bad(p, format!("y1 must hold integers >= 0 in fixed point on the GPU, got {bad_y}")));
        }
        let start = y1_init.iter().copied().fold(0.0, f64::max);
        let bound = start.max((trace.impulse / (1.0 - factor)).ceil() + 1.0);
        if bound.is_nan() || bound >= MAX_LIF_TABLE as f64 {
            return Err(bad(
                p,
                format!("the post trace can reach {bound}, more than the GPU table of {MAX_LIF_TABLE}"),
            ));
        }
        let len = bound as usize + 1;
        let mut t = Vec::with_capacity(2 * len);
        for s in [0.0, 1.0] {
            for y in 0..len {
                t.push((y as f64 * factor + trace.impulse * s).floor() as i32 as u32);
            }
        }
        t
    } else {
        vec![0]
    };
    let table_len = if fixed { table.len() / 2 } else { 0 };
    let uniform = b.uniform([n as u32, table_len as u32, (trace.impulse as f32).to_bits(), (factor as f32).to_bits()]);
    let table = b.storage("post trace table", &table)?;
    let ys: Vec<wgpu::Buffer> =
        ["y1", "y2", "y3"].iter().map(|y| b.storage(y, &b.words(var(p, y)?))).collect::<Result<_, _>>()?;
    let s_out = &outs[p.out_port_offset];
    let code = shaders::for_precision(shaders::LEARNING_LIF, fixed);
    let trace_step = b.launch(&code, "lif_trace", &[(0, &uniform), (1, s_out), (2, &ys[0]), (3, &table)], n as u32);
    let lif = crate::neurons::plan_lif(b, p, LifKind::Plain, s_out, clock, vars)?.launch(b, &ins[p.in_port_offset]);
    let o = p.out_port_offset;
    let send_binds = [
        (0, &uniform),
        (1, s_out),
        (2, &ys[0]),
        (4, &ins[p.in_port_offset + 1]),
        (5, &ys[1]),
        (6, &ys[2]),
        (7, &outs[o + 1]),
        (8, &outs[o + 2]),
        (9, &outs[o + 3]),
        (10, &outs[o + 4]),
    ];
    let send = b.launch(&code, "lif_send", &send_binds, n as u32);
    for (name, buf) in ["y1", "y2", "y3"].into_iter().zip(ys) {
        vars.insert((p.id, name.to_string()), (VarHome::buffer(buf, n), shape_of(p, name)));
    }
    b.keep.push(table);
    Ok(vec![trace_step, lif, send])
}
