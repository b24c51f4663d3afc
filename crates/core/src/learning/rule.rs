//! Loihi learning rules (Lava `LoihiLearningRule`, `Loihi2FLearningRule`,
//! `Loihi3FLearningRule`, `STDPLoihi`, `RewardModulatedSTDP`): the trace parameters and the
//! sum-of-products strings for `dw`, `dd` and `dt`, parsed into [`Product`]s.
//!
//! A rule string is a sum of products, each `[+|-] dependency * factor * ... * scaling`:
//! * the dependency (the first of `x0`, `y0`, `u<k>` in the product) gates the product: `x0`
//!   a pre-synaptic spike in the epoch, `y0` a post-synaptic one, `u<k>` every `2^k`-th epoch;
//! * factors: traces `x1 x2 y1 y2 y3`, synaptic variables `w` (weight), `d` (delay, Lava's
//!   `tag_2`), `t` (tag, `tag_1`), a later `x0`/`y0`, `(v + C)` / `(v - C)` with an integer
//!   constant, `sgn(w + C)` (also `d`, `t`) and bracketed literals;
//! * literals (`3`, `2^-4`, `3 * 2^-4`, `(-2)`) multiply into the product's scaling
//!   `mantissa * 2^exp`, which must fit Loihi's 4-bit signed mantissa (-8..=7) and
//!   exponent (-7..=8) after normalisation.

use serde::{Deserialize, Serialize};

/// Whether post-synaptic traces come from the connection's own impulses (two factors) or
/// from the post-synaptic neuron's `s_out_y1..y3` ports (three factors, e.g. a reward).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleKind {
    /// Lava `Loihi2FLearningRule`: y traces follow the post spikes received on `s_in_bap`.
    TwoFactor,
    /// Lava `Loihi3FLearningRule`: y1..y3 are received every step from the post neuron.
    ThreeFactor,
}

/// Impulse and decay time constant of one trace.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceParams {
    /// Added to the trace at a spike (fixed point: integer part plus 8 fractional bits,
    /// stochastically rounded).
    pub impulse: f64,
    /// Decay time constant in steps: the trace is multiplied by `exp(-1/tau)` per step; 0
    /// means the trace is zero except in the step of a spike.
    pub tau: f64,
}

impl TraceParams {
    const OFF: TraceParams = TraceParams { impulse: 0.0, tau: 0.0 };
}

/// A learning rule: the `dw`/`dd`/`dt` strings, five trace configurations, the epoch
/// length and the seed of the fixed-point stochastic rounding.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearningRule {
    /// Two- or three-factor.
    pub kind: RuleKind,
    /// Weight update.
    pub dw: Option<String>,
    /// Delay (`tag_2`) update.
    pub dd: Option<String>,
    /// Tag (`tag_1`) update.
    pub dt: Option<String>,
    /// Pre-synaptic traces x1, x2.
    pub x: [TraceParams; 2],
    /// Post-synaptic traces y1, y2, y3 (unused by three-factor rules, whose y traces come
    /// from the post neuron).
    pub y: [TraceParams; 3],
    /// Learning epoch in steps: updates are applied every `t_epoch` steps.
    pub t_epoch: u32,
    /// Seed of the fixed-point model's random generators (Lava `rng_seed`; Lava draws a
    /// random seed when none is given, Basalt defaults to 0 so runs are reproducible).
    pub rng_seed: u64,
}

/// Loihi's largest learning epoch (the spike-time counters are 6 bits).
pub const MAX_T_EPOCH: u32 = 63;

impl LearningRule {
    /// An empty two-factor rule (add at least one of `dw`, `dd`, `dt`).
    pub fn two_factor() -> Self {
        LearningRule {
            kind: RuleKind::TwoFactor,
            dw: None,
            dd: None,
            dt: None,
            x: [TraceParams::OFF; 2],
            y: [TraceParams::OFF; 3],
            t_epoch: 1,
            rng_seed: 0,
        }
    }

    /// An empty three-factor rule: y1..y3 come from the post-synaptic neuron (Lava sets
    /// their decay to 65535 steps, so they hold within an epoch).
    pub fn three_factor() -> Self {
        let held = TraceParams { impulse: 0.0, tau: f64::from(u16::MAX) };
        LearningRule { kind: RuleKind::ThreeFactor, y: [held; 3], ..Self::two_factor() }
    }

    /// Sets the weight update rule.
    pub fn dw(mut self, rule: &str) -> Self {
        self.dw = Some(rule.to_string());
        self
    }
    /// Sets the delay (`tag_2`) update rule.
    pub fn dd(mut self, rule: &str) -> Self {
        self.dd = Some(rule.to_string());
        self
    }
    /// Sets the tag (`tag_1`) update rule.
    pub fn dt(mut self, rule: &str) -> Self {
        self.dt = Some(rule.to_string());
        self
    }
    /// Sets pre-synaptic trace `i` (1 or 2).
    pub fn x_trace(mut self, i: usize, impulse: f64, tau: f64) -> Self {
        if let Some(t) = self.x.get_mut(i.wrapping_sub(1)) {
            *t = TraceParams { impulse, tau };
        }
        self
    }
    /// Sets post-synaptic trace `i` (1, 2 or 3).
    pub fn y_trace(mut self, i: usize, impulse: f64, tau: f64) -> Self {
        if let Some(t) = self.y.get_mut(i.wrapping_sub(1)) {
            *t = TraceParams { impulse, tau };
        }
        self
    }
    /// Sets the learning epoch (1..=63 steps).
    pub fn t_epoch(mut self, t: u32) -> Self {
        self.t_epoch = t;
        self
    }
    /// Sets the seed of the fixed-point stochastic rounding.
    pub fn rng_seed(mut self, seed: u64) -> Self {
        self.rng_seed = seed;
        self
    }

    /// Lava's `STDPLoihi`: pair-based STDP,
    /// `dw = lr * A_minus * x0 * y1 + lr * A_plus * y0 * x1` with x1 (tau_plus) and y1
    /// (tau_minus) impulses of 16. Rates are written as `mantissa * 2^exp` literals as Lava
    /// does (`float_to_literal`), so e.g. 0.3 becomes 2^-2.
    pub fn stdp(
        learning_rate: f64,
        a_plus: f64,
        a_minus: f64,
        tau_plus: f64,
        tau_minus: f64,
    ) -> Result<Self, RuleError> {
        let (lr, ap, am) = (float_to_literal(learning_rate)?, float_to_literal(a_plus)?, float_to_literal(a_minus)?);
        Ok(Self::two_factor()
            .dw(&format!("{lr} * {am} * x0 * y1 + {lr} * {ap} * y0 * x1"))
            .x_trace(1, 16.0, tau_plus)
            .y_trace(1, 16.0, tau_minus))
    }

    /// Lava's `RewardModulatedSTDP` (three factors): the tag `t` accumulates STDP
    /// (`dt = lr * A_minus * x0 * y1 + lr * A_plus * y0 * x1 - u0 * t * tau_e`) and the
    /// weight follows tag times reward (`dw = u0 * t * y2`), where y1 is the post neuron's
    /// trace and y2 its reward input (see `LearningLif`).
    pub fn reward_modulated_stdp(p: &RewardStdp) -> Result<Self, RuleError> {
        let lr = float_to_literal(p.learning_rate)?;
        let (ap, am) = (float_to_literal(p.a_plus)?, float_to_literal(p.a_minus)?);
        let tau_e = float_to_literal(p.eligibility_trace_decay_tau)?;
        Ok(Self::three_factor()
            .dt(&format!("{lr} * {am} * x0 * y1 + {lr} * {ap} * y0 * x1 - u0 * t * {tau_e}"))
            .dw("u0 * t * y2")
            .x_trace(1, p.pre_trace_kernel_magnitude, p.pre_trace_decay_tau))
    }

    /// The rule strings that are set, as (target, string).
    pub fn targets(&self) -> impl Iterator<Item = (Target, &str)> {
        [(Target::Weights, &self.dw), (Target::Delays, &self.dd), (Target::Tags, &self.dt)]
            .into_iter()
            .filter_map(|(t, s)| s.as_deref().map(|s| (t, s)))
    }

    /// Checks the parameters and parses every rule string.
    pub fn compile(&self) -> Result<CompiledRule, RuleError> {
        let param = |name: &str, msg: String| RuleError::parameter(name, msg);
        for (i, t) in self.x.iter().chain(&self.y).enumerate() {
            let name = if i < 2 { format!("x{}", i + 1) } else { format!("y{}", i - 1) };
            if !(t.impulse.is_finite() && t.impulse >= 0.0) {
                return Err(param(&format!("{name}_impulse"), format!("must be finite and >= 0, got {}", t.impulse)));
            }
            if !(t.tau.is_finite() && t.tau >= 0.0) {
                return Err(param(&format!("{name}_tau"), format!("must be finite and >= 0, got {}", t.tau)));
            }
        }
        if !(1..=MAX_T_EPOCH).contains(&self.t_epoch) {
            return Err(param("t_epoch", format!("must be 1..={MAX_T_EPOCH}, got {}", self.t_epoch)));
        }
        let mut series = Vec::new();
        let mut decimate: Option<(u32, Target)> = None;
        for (target, text) in self.targets() {
            let products = parse(target, text)?;
            for p in &products {
                if let Dependency::U(k) = p.dependency {
                    match decimate {
                        Some((k0, t0)) if k0 != k => {
                            return Err(RuleError::parameter(
                                target.rule_name(),
                                format!("uses u{k} but {} uses u{k0}; all u terms must share one k", t0.rule_name()),
                            ))
                        }
                        _ => decimate = Some((k, target)),
                    }
                }
            }
            series.push((target, products));
        }
        if series.is_empty() {
            return Err(param("dw/dd/dt", "no learning rule given; set at least one of dw, dd, dt".into()));
        }
        Ok(CompiledRule { series, decimate_exponent: decimate.map(|d| d.0) })
    }
}

/// Parameters of [`LearningRule::reward_modulated_stdp`] (Lava's argument names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RewardStdp {
    /// Learning rate.
    pub learning_rate: f64,
    /// Potentiation factor.
    pub a_plus: f64,
    /// Depression factor (negative for depression).
    pub a_minus: f64,
    /// x1 decay.
    pub pre_trace_decay_tau: f64,
    /// y1 decay (used by the post neuron).
    pub post_trace_decay_tau: f64,
    /// x1 impulse.
    pub pre_trace_kernel_magnitude: f64,
    /// y1 impulse (used by the post neuron).
    pub post_trace_kernel_magnitude: f64,
    /// Decay of the tag per epoch, as a scaling literal.
    pub eligibility_trace_decay_tau: f64,
}

/// Lava's `float_to_literal`: `x` as `(m) * 2 ^ e` with `m = max(trunc|x|, 1)` and
/// `e = round(log2(|x| / m))`, so only the integer part and a power of two survive.
pub fn float_to_literal(x: f64) -> Result<String, RuleError> {
    if !x.is_finite() {
        return Err(RuleError::parameter("rate", format!("must be finite, got {x}")));
    }
    if x == 0.0 {
        return Ok("0".into());
    }
    let sign = x.signum() as i64;
    let a = x.abs();
    let m = (a.trunc() as i64).max(1);
    let rem = a / m as f64;
    if rem == 1.0 {
        return Ok(format!("({})", sign * m));
    }
    // NumPy rounds half to even.
    let e = rem.log2().round_ties_even() as i64;
    Ok(format!("({}) * 2 ^ {e}", sign * m))
}

/// The synaptic variable a rule updates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    /// `dw` -> weights.
    Weights,
    /// `dd` -> delays (Lava `tag_2`).
    Delays,
    /// `dt` -> tags (Lava `tag_1`).
    Tags,
}

impl Target {
    /// `dw`, `dd` or `dt`.
    pub fn rule_name(self) -> &'static str {
        match self {
            Target::Weights => "dw",
            Target::Delays => "dd",
            Target::Tags => "dt",
        }
    }
}

/// What gates a product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    /// A pre-synaptic spike during the epoch.
    X0,
    /// A post-synaptic spike during the epoch.
    Y0,
    /// Every `2^k`-th epoch (`u<k>`).
    U(u32),
}

/// A state variable a factor reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorVar {
    /// Pre-synaptic spike (as a factor).
    X0,
    /// Post-synaptic spike (as a factor).
    Y0,
    /// Pre-synaptic trace 1.
    X1,
    /// Pre-synaptic trace 2.
    X2,
    /// Post-synaptic trace 1.
    Y1,
    /// Post-synaptic trace 2.
    Y2,
    /// Post-synaptic trace 3.
    Y3,
    /// Weight.
    W,
    /// Delay (`tag_2`).
    D,
    /// Tag (`tag_1`).
    T,
    /// A constant.
    C,
}

impl FactorVar {
    /// Bits the fixed-point model clips this factor to (Lava `FACTOR_TO_WIDTH_DICT`).
    pub fn width(self) -> u32 {
        match self {
            FactorVar::X0 | FactorVar::Y0 => 1,
            FactorVar::X1 | FactorVar::X2 | FactorVar::Y1 | FactorVar::Y2 | FactorVar::Y3 => 7,
            FactorVar::W | FactorVar::D | FactorVar::T => 9,
            FactorVar::C => 8,
        }
    }
    /// The trace index (x1, x2 -> 0, 1; y1, y2, y3 -> 2, 3, 4), if a trace.
    pub fn trace(self) -> Option<usize> {
        match self {
            FactorVar::X1 => Some(0),
            FactorVar::X2 => Some(1),
            FactorVar::Y1 => Some(2),
            FactorVar::Y2 => Some(3),
            FactorVar::Y3 => Some(4),
            _ => None,
        }
    }
}

/// One factor of a product: `var + constant`, or its sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factor {
    /// What it reads.
    pub var: FactorVar,
    /// Added to the variable (the value itself for [`FactorVar::C`]).
    pub constant: i64,
    /// `sgn(var + constant)`.
    pub sgn: bool,
}

/// `scaling * dependency * factors...`, scaling = `s_mantissa * 2^(s_exp - 7)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Product {
    /// The gate.
    pub dependency: Dependency,
    /// Scaling mantissa, -8..=7.
    pub s_mantissa: i32,
    /// Scaling exponent plus 7 (Lava stores it so), 0..=15.
    pub s_exp: i32,
    /// The factors.
    pub factors: Vec<Factor>,
}

/// A parsed, checked rule.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledRule {
    /// Products per updated variable.
    pub series: Vec<(Target, Vec<Product>)>,
    /// `k` of the `u<k>` dependency, if any.
    pub decimate_exponent: Option<u32>,
}

impl CompiledRule {
    /// Whether any product of any rule reads trace `trace` (x1, x2, y1, y2, y3 = 0..5).
    pub fn uses_trace(&self, trace: usize) -> bool {
        self.series.iter().flat_map(|(_, ps)| ps).flat_map(|p| &p.factors).any(|f| f.var.trace() == Some(trace))
    }
}

/// A rule that cannot be used: where in which string (or which parameter) and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.render())]
pub struct RuleError {
    /// `dw`, `dd`, `dt`, or the parameter name.
    pub rule: String,
    /// The rule string (empty for a parameter error).
    pub text: String,
    /// Byte span of the offending token in `text`.
    pub span: (usize, usize),
    /// What is wrong.
    pub message: String,
}

impl RuleError {
    fn parameter(name: &str, message: String) -> Self {
        RuleError { rule: name.to_string(), text: String::new(), span: (0, 0), message }
    }

    fn render(&self) -> String {
        if self.text.is_empty() {
            return format!("learning rule parameter `{}` {}", self.rule, self.message);
        }
        let (a, b) = self.span;
        let col = self.text[..a.min(self.text.len())].chars().count();
        let width = self.text.get(a..b).map_or(1, |s| s.chars().count().max(1));
        format!(
            "learning rule {}: {} at column {}\n  {}\n  {}{}",
            self.rule,
            self.message,
            col + 1,
            self.text,
            " ".repeat(col),
            "^".repeat(width)
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Tok {
    Num(i64),
    Ident,
    Plus,
    Minus,
    Star,
    Caret,
    Open,
    Close,
    End,
}

struct Parser<'a> {
    target: Target,
    text: &'a str,
    toks: Vec<(Tok, usize, usize)>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn new(target: Target, text: &'a str) -> Result<Self, RuleError> {
        let mut p = Parser { target, text, toks: Vec::new(), pos: 0 };
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            let start = i;
            let tok = match c {
                b' ' | b'\t' | b'\n' => {
                    i += 1;
                    continue;
                }
                b'+' => Tok::Plus,
                b'-' => Tok::Minus,
                b'*' => Tok::Star,
                b'^' => Tok::Caret,
                b'(' => Tok::Open,
                b')' => Tok::Close,
                b'0'..=b'9' => {
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                    let n = text[start..i].parse::<i64>().map_err(|_| p.err_at(start, i, "number too large"))?;
                    p.toks.push((Tok::Num(n), start, i));
                    continue;
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                        i += 1;
                    }
                    p.toks.push((Tok::Ident, start, i));
                    continue;
                }
                _ => {
                    let end = start + text[start..].chars().next().map_or(1, char::len_utf8);
                    return Err(p.err_at(start, end, "unexpected character"));
                }
            };
            i += 1;
            p.toks.push((tok, start, i));
        }
        p.toks.push((Tok::End, text.len(), text.len()));
        Ok(p)
    }

    fn err_at(&self, a: usize, b: usize, msg: &str) -> RuleError {
        RuleError {
            rule: self.target.rule_name().to_string(),
            text: self.text.to_string(),
            span: (a, b),
            message: msg.to_string(),
        }
    }
    fn err(&self, msg: &str) -> RuleError {
        let (_, a, b) = self.toks[self.pos];
        self.err_at(a, b.max(a + 1).min(self.text.len().max(a)), msg)
    }
    fn peek(&self) -> Tok {
        self.toks[self.pos].0
    }
    fn peek2(&self) -> Tok {
        self.toks.get(self.pos + 1).map_or(Tok::End, |t| t.0)
    }
    fn word(&self) -> &'a str {
        let (_, a, b) = self.toks[self.pos];
        &self.text[a..b]
    }
    fn bump(&mut self) {
        self.pos += 1;
    }

    /// `2 ^ [+|-] n` after the `2` was seen; returns the exponent.
    fn power_of_two(&mut self) -> Result<i64, RuleError> {
        self.bump(); // ^
        let neg = match self.peek() {
            Tok::Minus => {
                self.bump();
                true
            }
            Tok::Plus => {
                self.bump();
                false
            }
            _ => false,
        };
        let Tok::Num(e) = self.peek() else { return Err(self.err("expected an exponent after `^`")) };
        if e > 64 {
            return Err(self.err("exponent out of range"));
        }
        self.bump();
        Ok(if neg { -e } else { e })
    }

    /// A literal `n`, `2^e` or `n * 2^e` as (mantissa, exponent).
    fn literal(&mut self) -> Result<(i64, i64), RuleError> {
        let Tok::Num(n) = self.peek() else { return Err(self.err("expected a number")) };
        if self.peek2() == Tok::Caret {
            if n != 2 {
                return Err(self.err("only powers of 2 are allowed (`2^e`)"));
            }
            self.bump();
            return Ok((1, self.power_of_two()?));
        }
        self.bump();
        Ok((n, 0))
    }

    /// A variable name at the cursor, if it is one.
    fn variable(&self) -> Option<FactorVar> {
        Some(match self.word() {
            "x0" => FactorVar::X0,
            "y0" => FactorVar::Y0,
            "x1" => FactorVar::X1,
            "x2" => FactorVar::X2,
            "y1" => FactorVar::Y1,
            "y2" => FactorVar::Y2,
            "y3" => FactorVar::Y3,
            "w" => FactorVar::W,
            "d" => FactorVar::D,
            "t" => FactorVar::T,
            _ => return None,
        })
    }

    fn unknown_symbol(&self) -> RuleError {
        let w = self.word();
        let hint = if w.starts_with('u') {
            "; the decimated dependency is `u` and one digit, u0..u9"
        } else {
            "; known: x0 y0 u0..u9 x1 x2 y1 y2 y3 w d t sgn(..)"
        };
        self.err(&format!("unknown symbol `{w}`{hint}"))
    }

    /// `[+|-] atom` inside brackets: a variable or a literal.
    fn bracket_term(&mut self) -> Result<BracketTerm, RuleError> {
        let sign = match self.peek() {
            Tok::Minus => {
                self.bump();
                -1
            }
            Tok::Plus => {
                self.bump();
                1
            }
            _ => 1,
        };
        let (_, a, b) = self.toks[self.pos];
        match self.peek() {
            Tok::Ident => {
                let v = self.variable().ok_or_else(|| self.unknown_symbol())?;
                self.bump();
                Ok((sign, Ok(v), (a, b)))
            }
            Tok::Num(_) => {
                let (m, e) = self.literal()?;
                let (m, e) = if self.peek() == Tok::Star && self.peek2() == Tok::Num(2) {
                    // `n * 2^e` inside brackets is one literal, as in Lava.
                    let save = self.pos;
                    self.bump();
                    if self.peek2() == Tok::Caret {
                        let (_, e2) = self.literal()?;
                        (m, e + e2)
                    } else {
                        self.pos = save;
                        (m, e)
                    }
                } else {
                    (m, e)
                };
                Ok((sign, Err((m, e)), (a, self.toks[self.pos - 1].2)))
            }
            _ => Err(self.err("expected a variable or a number")),
        }
    }

    /// The contents of `( .. )` or `sgn( .. )` up to and including `)`:
    /// returns a factor to add and a scaling (sign, mantissa, exponent) to multiply in.
    fn bracket(&mut self, sgn: bool, open: usize) -> Result<BracketResult, RuleError> {
        let first = self.bracket_term()?;
        let second = match self.peek() {
            Tok::Close => None,
            Tok::Plus | Tok::Minus => Some(self.bracket_term()?),
            Tok::End => return Err(self.err_at(open, open + 1, "bracket is never closed")),
            _ => return Err(self.err("expected `+`, `-` or `)`; brackets hold `v`, `v + C` or `C + v`")),
        };
        if self.peek() != Tok::Close {
            if self.peek() == Tok::End {
                return Err(self.err_at(open, open + 1, "bracket is never closed"));
            }
            return Err(self.err("expected `)`; brackets hold `v`, `v + C` or `C + v`"));
        }
        let close = self.toks[self.pos].2;
        self.bump();
        let whole = (open, close);
        let int_const = |p: &Self, (m, e): (i64, i64), span: (usize, usize)| -> Result<i64, RuleError> {
            let v = m as f64 * 2f64.powi(e as i32);
            if v.fract() != 0.0 || v.abs() > f64::from(1u32 << 30) {
                return Err(p.err_at(span.0, span.1, "a constant added to a variable must be an integer"));
            }
            Ok(v as i64)
        };
        match (first, second) {
            ((sign, Ok(var), span), None) => {
                if matches!(var, FactorVar::X0 | FactorVar::Y0) {
                    return Err(self.err_at(span.0, span.1, "write a dependency without brackets, or add a constant"));
                }
                if sgn && !matches!(var, FactorVar::W | FactorVar::D | FactorVar::T) {
                    return Err(self.err_at(span.0, span.1, "sgn(..) applies only to w, d or t"));
                }
                if sgn && sign < 0 {
                    return Err(self.err_at(whole.0, whole.1, "the variable in sgn(..) cannot be negated"));
                }
                Ok(BracketResult { factor: Some(Factor { var, constant: 0, sgn }), scale: (sign, 1, 0) })
            }
            ((sign, Err(lit), _), None) => {
                if sgn {
                    return Err(self.err_at(whole.0, whole.1, "sgn(..) applies only to w, d or t"));
                }
                Ok(BracketResult { factor: None, scale: (sign, lit.0, lit.1) })
            }
            ((vs, Ok(var), vspan), Some((cs, Err(lit), cspan)))
            | ((cs, Err(lit), cspan), Some((vs, Ok(var), vspan))) => {
                if sgn && !matches!(var, FactorVar::W | FactorVar::D | FactorVar::T) {
                    return Err(self.err_at(vspan.0, vspan.1, "sgn(..) applies only to w, d or t"));
                }
                if sgn && vs < 0 {
                    return Err(self.err_at(whole.0, whole.1, "the variable in sgn(..) cannot be negated"));
                }
                let c = cs * int_const(self, lit, cspan)?;
                // `(-v + C)` = -(v - C): the sign moves into the scaling.
                Ok(BracketResult { factor: Some(Factor { var, constant: c * vs, sgn }), scale: (vs, 1, 0) })
            }
            _ => Err(self.err_at(whole.0, whole.1, "a bracket holds one variable and at most one constant")),
        }
    }
}

/// A signed term inside brackets: (sign, a variable or a literal (mantissa, exponent),
/// byte span).
type BracketTerm = (i64, Result<FactorVar, (i64, i64)>, (usize, usize));

struct BracketResult {
    factor: Option<Factor>,
    /// (sign, mantissa, exponent) multiplied into the product's scaling.
    scale: (i64, i64, i64),
}

/// Parses one rule string into products (Lava's `SymbolicEquation` + `ProductSeries`).
pub fn parse(target: Target, text: &str) -> Result<Vec<Product>, RuleError> {
    let mut p = Parser::new(target, text)?;
    if p.peek() == Tok::End {
        return Err(p.err_at(0, text.len().max(1).min(text.len()), "the rule is empty"));
    }
    let mut products = Vec::new();
    loop {
        let start = p.toks[p.pos].1;
        let mut sign: i64 = match p.peek() {
            Tok::Plus => {
                p.bump();
                1
            }
            Tok::Minus => {
                p.bump();
                -1
            }
            _ => 1,
        };
        let (mut mant, mut exp) = (1i64, 0i64);
        let mut dependency: Option<Dependency> = None;
        let mut factors = Vec::new();
        loop {
            let (_, a, b) = p.toks[p.pos];
            match p.peek() {
                Tok::Num(_) => {
                    let (m, e) = p.literal()?;
                    mant = mant.saturating_mul(m);
                    exp += e;
                }
                Tok::Open => {
                    p.bump();
                    let r = p.bracket(false, a)?;
                    sign *= r.scale.0;
                    mant = mant.saturating_mul(r.scale.1);
                    exp += r.scale.2;
                    factors.extend(r.factor);
                }
                Tok::Ident if p.word() == "sgn" && p.peek2() == Tok::Open => {
                    p.bump();
                    p.bump();
                    let r = p.bracket(true, a)?;
                    sign *= r.scale.0;
                    factors.extend(r.factor);
                }
                Tok::Ident => {
                    let w = p.word();
                    if let Some(k) = w.strip_prefix('u').filter(|k| k.len() == 1 && k.as_bytes()[0].is_ascii_digit()) {
                        let k = u32::from(k.as_bytes()[0] - b'0');
                        match dependency {
                            None => dependency = Some(Dependency::U(k)),
                            Some(_) => {
                                return Err(p.err_at(
                                    a,
                                    b,
                                    "u<k> must be the product's first dependency (before x0/y0)",
                                ))
                            }
                        }
                    } else {
                        let v = p.variable().ok_or_else(|| p.unknown_symbol())?;
                        match (v, dependency) {
                            (FactorVar::X0, None) => dependency = Some(Dependency::X0),
                            (FactorVar::Y0, None) => dependency = Some(Dependency::Y0),
                            _ => factors.push(Factor { var: v, constant: 0, sgn: false }),
                        }
                    }
                    p.bump();
                }
                _ => return Err(p.err("expected a factor (a variable, a number or a bracket)")),
            }
            match p.peek() {
                Tok::Star => p.bump(),
                Tok::Plus | Tok::Minus | Tok::End => break,
                Tok::Caret => return Err(p.err("`^` follows only the number 2")),
                _ => return Err(p.err("expected `*`, `+` or `-`")),
            }
        }
        let end = p.toks[p.pos - 1].2;
        let product_err = |msg: String| p.err_at(start, end, &msg);
        let Some(dependency) = dependency else {
            return Err(product_err("this product has no dependency (x0, y0 or u<k>)".into()));
        };
        let mut m = sign * mant;
        while m.abs() > 7 && m % 2 == 0 && exp < 8 {
            m /= 2;
            exp += 1;
        }
        if !(-8..8).contains(&m) {
            return Err(product_err(format!(
                "scaling mantissa {m} does not fit Loihi's 4 bits (-8..=7 times a power of two)"
            )));
        }
        if !(-7..9).contains(&exp) {
            return Err(product_err(format!("scaling exponent {exp} is outside -7..=8")));
        }
        products.push(Product { dependency, s_mantissa: m as i32, s_exp: exp as i32 + 7, factors });
        if p.peek() == Tok::End {
            break;
        }
    }
    Ok(products)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(var: FactorVar, constant: i64, sgn: bool) -> Factor {
        Factor { var, constant, sgn }
    }

    #[test]
    fn stdp_products_match_lava() {
        // Lava: STDPLoihi(1, 1, -2, ..) -> "(1) * (-2) * x0 * y1 +(1) * (1) * y0 * x1":
        // products (x0, -2*2^0, [y1]) and (y0, 1*2^0, [x1]).
        let r = LearningRule::stdp(1.0, 1.0, -2.0, 10.0, 10.0).unwrap().compile().unwrap();
        let (t, ps) = &r.series[0];
        assert_eq!(*t, Target::Weights);
        assert_eq!(
            ps,
            &vec![
                Product {
                    dependency: Dependency::X0,
                    s_mantissa: -2,
                    s_exp: 7,
                    factors: vec![f(FactorVar::Y1, 0, false)]
                },
                Product {
                    dependency: Dependency::Y0,
                    s_mantissa: 1,
                    s_exp: 7,
                    factors: vec![f(FactorVar::X1, 0, false)]
                },
            ]
        );
    }

    #[test]
    fn brackets_literals_and_normalisation() {
        // 16 = 4 * 2^2 after normalisation; (-w + 3) = -(w - 3); sgn(t - 2); 3*2^-3.
        let ps = parse(Target::Weights, "16 * x0 * (-w + 3) - y0 * sgn(t - 2) * 3*2^-3 + u2 * (2) * d").unwrap();
        assert_eq!(
            ps[0],
            Product { dependency: Dependency::X0, s_mantissa: -4, s_exp: 9, factors: vec![f(FactorVar::W, -3, false)] }
        );
        assert_eq!(
            ps[1],
            Product { dependency: Dependency::Y0, s_mantissa: -3, s_exp: 4, factors: vec![f(FactorVar::T, -2, true)] }
        );
        assert_eq!(
            ps[2],
            Product { dependency: Dependency::U(2), s_mantissa: 2, s_exp: 7, factors: vec![f(FactorVar::D, 0, false)] }
        );
    }

    #[test]
    fn float_to_literal_matches_lava() {
        // Lava's float_to_literal outputs.
        assert_eq!(float_to_literal(1.0).unwrap(), "(1)");
        assert_eq!(float_to_literal(-2.0).unwrap(), "(-2)");
        assert_eq!(float_to_literal(0.3).unwrap(), "(1) * 2 ^ -2");
        assert_eq!(float_to_literal(2.4).unwrap(), "(2) * 2 ^ 0");
        assert_eq!(float_to_literal(0.0).unwrap(), "0");
    }

    #[test]
    fn errors_point_at_the_token() {
        let e = parse(Target::Weights, "x0 * y1 * z1").unwrap_err();
        assert_eq!(e.span, (10, 12));
        assert!(e.to_string().contains("unknown symbol `z1`"), "{e}");
        assert!(e.to_string().contains("\n            ^^"), "{e}");
        let e = parse(Target::Tags, "x0 * (y1 + 2").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        assert_eq!(e.span, (5, 6));
        let e = parse(Target::Weights, "y1 * x1").unwrap_err();
        assert!(e.message.contains("no dependency"), "{e}");
        let e = parse(Target::Weights, "x0 * sgn(x1)").unwrap_err();
        assert!(e.message.contains("only to w, d or t"), "{e}");
        let e = parse(Target::Weights, "9 * x0").unwrap_err();
        assert!(e.message.contains("mantissa 9"), "{e}");
        let e = parse(Target::Weights, "2^-9 * x0").unwrap_err();
        assert!(e.message.contains("exponent -9"), "{e}");
        let e = parse(Target::Weights, "x0 * 3^2").unwrap_err();
        assert!(e.message.contains("powers of 2"), "{e}");
        let e = parse(Target::Weights, "x0 * u12").unwrap_err();
        assert!(e.message.contains("u0..u9"), "{e}");
        let e = parse(Target::Weights, "x0 ** y1").unwrap_err();
        assert_eq!(e.span, (4, 5));
        let e = parse(Target::Weights, "x0 * (w + 2^-1)").unwrap_err();
        assert!(e.message.contains("integer"), "{e}");
        let e = parse(Target::Weights, "  ").unwrap_err();
        assert!(e.message.contains("empty"), "{e}");
        let e = parse(Target::Weights, "x0 * y1 $").unwrap_err();
        assert!(e.message.contains("unexpected character"), "{e}");
    }

    #[test]
    fn parameter_errors() {
        let r = LearningRule::two_factor();
        assert!(r.compile().unwrap_err().to_string().contains("no learning rule"));
        let r = LearningRule::two_factor().dw("x0 * y1").x_trace(1, -1.0, 5.0);
        assert!(r.compile().unwrap_err().to_string().contains("x1_impulse"));
        let r = LearningRule::two_factor().dw("x0 * y1").y_trace(3, 1.0, f64::NAN);
        assert!(r.compile().unwrap_err().to_string().contains("y3_tau"));
        let r = LearningRule::two_factor().dw("x0 * y1").t_epoch(64);
        assert!(r.compile().unwrap_err().to_string().contains("t_epoch"));
        let r = LearningRule::two_factor().dw("u1 * w").dt("u2 * t");
        assert!(r.compile().unwrap_err().to_string().contains("share one k"));
    }
}
