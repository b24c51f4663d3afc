//! On-chip learning as Loihi does it (Lava's learning engine, `magma/core/learning/` and
//! `magma/core/model/py/connection.py`): learning rules written as sums of products over
//! pre/post spikes, traces and synaptic variables ([`rule`]), the per-connection trace and
//! update engine in float and in Lava's bit-approximate fixed point ([`plasticity`]), and
//! NumPy's random generator for the fixed point's stochastic rounding ([`rng`]).
//! The processes that use them are `process::learning_dense::LearningDense` and
//! `process::learning_lif::LearningLif`.

pub mod plasticity;
pub mod rng;
pub mod rule;

pub use plasticity::{fixed_impulse, trace_decay_factor, GradedSpikeCfg, LearningRandoms, Plasticity, Synapses};
pub use rule::{float_to_literal, LearningRule, RewardStdp, RuleError, RuleKind, Target, TraceParams};
