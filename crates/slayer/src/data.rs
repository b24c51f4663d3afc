//! Neuromorphic dataset formats: NMNIST / NCALTECH101 binary event files (slayer's
//! `slayer.io`), the Spiking Heidelberg Digits HDF5 files, and binning events into dense
//! spike tensors as slayer's `Event.fill_tensor` does.

use std::path::Path;

use crate::error::{Result, SlayerError};

/// One address event of a 2-D sensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event2d {
    /// Column.
    pub x: u8,
    /// Row.
    pub y: u8,
    /// Polarity: 0 = OFF, 1 = ON (the channel).
    pub polarity: u8,
    /// Time in milliseconds (microsecond resolution).
    pub t_ms: f64,
}

/// Reads an NMNIST-format event file (slayer's `read_2d_spikes`): 40 bits per event, x
/// (bits 39-32), y (31-24), polarity (23), timestamp in microseconds (22-0).
pub fn read_nmnist(path: impl AsRef<Path>) -> Result<Vec<Event2d>> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| SlayerError::Parameter {
        what: path.display().to_string(),
        reason: format!("cannot read the event file: {e}"),
    })?;
    if bytes.len() % 5 != 0 {
        return Err(SlayerError::Parameter {
            what: path.display().to_string(),
            reason: format!("{} bytes is not a whole number of 5-byte events (truncated file?)", bytes.len()),
        });
    }
    Ok(bytes
        .chunks_exact(5)
        .map(|e| {
            let t = ((u32::from(e[2]) << 16) | (u32::from(e[3]) << 8) | u32::from(e[4])) & 0x7F_FFFF;
            Event2d { x: e[0], y: e[1], polarity: e[2] >> 7, t_ms: f64::from(t) / 1000.0 }
        })
        .collect())
}

/// Bins events into a (channels, height, width, steps) tensor in C order (slayer's
/// `Event.to_tensor` with OR binning): an event lands in step `round(t / sampling_time)`
/// (half to even, as NumPy) with the value `1 / sampling_time`; events outside the tensor
/// are dropped.
pub fn bin_events(events: &[Event2d], dims: [usize; 4], sampling_time: f64) -> Vec<f32> {
    let at = events.iter().map(|e| ([usize::from(e.polarity), usize::from(e.y), usize::from(e.x)], e.t_ms));
    bin(at, dims, sampling_time)
}

/// OR-binning of events at (channel, row, column) and time (ms) into a (C, H, W, steps)
/// tensor in C order, as [`bin_events`] describes.
fn bin(events: impl Iterator<Item = ([usize; 3], f64)>, dims: [usize; 4], sampling_time: f64) -> Vec<f32> {
    let [c, h, w, steps] = dims;
    let mut out = vec![0f32; c * h * w * steps];
    let value = (1.0 / sampling_time) as f32;
    for ([ch, y, x], t_ms) in events {
        let t = (t_ms / sampling_time).round_ties_even();
        if !(t >= 0.0 && t < steps as f64) || ch >= c || y >= h || x >= w {
            continue;
        }
        out[((ch * h + y) * w + x) * steps + t as usize] = value;
    }
    out
}

/// One sample of the Spiking Heidelberg Digits (or Speech Commands) set: spikes of the
/// artificial cochlea's channels and the class.
#[derive(Clone, Debug, PartialEq)]
pub struct ShdSample {
    /// Spike times in seconds.
    pub times_s: Vec<f64>,
    /// The channel (0..700) of each spike.
    pub units: Vec<usize>,
    /// The class label.
    pub label: usize,
}

/// SHD's number of input channels.
pub const SHD_CHANNELS: usize = 700;

impl ShdSample {
    /// The sample binned into (channels, steps) in C order with `sampling_time` ms per step
    /// (slayer's `Event(units, None, 0, times·1000).fill_tensor`, OR binning, value
    /// `1/sampling_time`); spikes past the last step or channel are dropped.
    pub fn bin(&self, channels: usize, steps: usize, sampling_time: f64) -> Vec<f32> {
        let events = self.units.iter().zip(&self.times_s).map(|(&u, &t)| ([0, 0, u], t * 1000.0));
        bin(events, [1, 1, channels, steps], sampling_time)
    }
}

/// Reads an SHD-format HDF5 file: `/spikes/times` and `/spikes/units` (one variable-length
/// sequence per sample) and `/labels`. Every sample's times must be finite and its units
/// whole numbers >= 0, as many as its times; otherwise a clear error names the sample.
pub fn read_shd(path: impl AsRef<Path>) -> Result<Vec<ShdSample>> {
    use basalt_core::persist::hdf5::{read_datasets, Value};
    let path = path.as_ref();
    let bad = |reason: String| SlayerError::Parameter { what: path.display().to_string(), reason };
    let [times, units, labels]: [Value; 3] = read_datasets(path, &["spikes/times", "spikes/units", "labels"])?
        .try_into()
        .map_err(|_| bad("expected three datasets".into()))?;
    let sequences = |v: Value, at: &str| match v {
        Value::Sequences(s) => Ok(s),
        _ => Err(bad(format!("/{at} is not a variable-length sequence dataset (SHD's layout)"))),
    };
    let (times, units) = (sequences(times, "spikes/times")?, sequences(units, "spikes/units")?);
    let labels = match labels {
        Value::Numbers(a) => a.data,
        _ => return Err(bad("/labels is not numeric".into())),
    };
    if times.len() != units.len() || times.len() != labels.len() {
        return Err(bad(format!(
            "{} spike-time sequences, {} unit sequences and {} labels: one of each per sample",
            times.len(),
            units.len(),
            labels.len()
        )));
    }
    let whole = |x: f64| x >= 0.0 && x.fract() == 0.0 && x < 1e9;
    times
        .into_iter()
        .zip(units)
        .zip(labels)
        .enumerate()
        .map(|(i, ((t, u), label))| {
            if t.len() != u.len() {
                return Err(bad(format!("sample {i}: {} spike times but {} units", t.len(), u.len())));
            }
            if let Some(x) = t.iter().find(|x| !x.is_finite()) {
                return Err(bad(format!("sample {i}: spike time {x} is not finite")));
            }
            if let Some(x) = u.iter().chain([&label]).find(|&&x| !whole(x)) {
                return Err(bad(format!("sample {i}: unit or label {x} is not a whole number >= 0")));
            }
            Ok(ShdSample { times_s: t, units: u.into_iter().map(|x| x as usize).collect(), label: label as usize })
        })
        .collect()
}
