//! Neuromorphic dataset formats (slayer's `slayer.io`): NMNIST / NCALTECH101 binary event
//! files, and binning events into dense spike tensors.

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
    let [c, h, w, steps] = dims;
    let mut out = vec![0f32; c * h * w * steps];
    let value = (1.0 / sampling_time) as f32;
    for e in events {
        let t = (e.t_ms / sampling_time).round_ties_even();
        let (ch, y, x) = (usize::from(e.polarity), usize::from(e.y), usize::from(e.x));
        if t < 0.0 || t >= steps as f64 || ch >= c || y >= h || x >= w {
            continue;
        }
        out[((ch * h + y) * w + x) * steps + t as usize] = value;
    }
    out
}
