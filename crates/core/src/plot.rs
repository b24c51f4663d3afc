//! PNG line plots (Monitor::plot) with plotters and an embedded font, so that plotting
//! needs no system font libraries.

use std::path::Path;
use std::sync::Once;

use ndarray::ArrayD;
use plotters::prelude::*;

use crate::error::{Error, Result};

/// DejaVu Sans Mono (Bitstream Vera license, see `assets/DejaVu-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../assets/DejaVuSansMono.ttf");
static REGISTER_FONT: Once = Once::new();

fn io_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Io { path: path.display().to_string(), message: e.to_string() }
}

/// Plots `data` of shape `(steps, ...)` as one line per element against time steps
/// 1..=steps, with a title and axis labels, into a 800x480 PNG written atomically.
pub fn line_plot_png(path: &Path, title: &str, xlabel: &str, ylabel: &str, data: &ArrayD<f64>) -> Result<()> {
    REGISTER_FONT.call_once(|| {
        // The embedded font is valid; registration fails only for a corrupt font.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
    let steps = data.shape().first().copied().unwrap_or(0);
    if steps == 0 {
        return Err(io_err(path, "nothing to plot: the data has no time steps"));
    }
    let width = data.len() / steps;
    let flat: Vec<f64> = data.iter().copied().collect();
    let (mut lo, mut hi) = flat.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| (a.min(x), b.max(x)));
    if !lo.is_finite() || !hi.is_finite() {
        return Err(io_err(path, "data contain non-finite values"));
    }
    if hi - lo < 1e-12 {
        lo -= 1.0;
        hi += 1.0;
    }
    let pad = 0.05 * (hi - lo);
    // Written next to the target and renamed, so a failure never leaves a half-written plot
    // (the temporary name keeps the .png extension the encoder needs).
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "plot".into());
    let tmp = path.with_file_name(format!(".{file_name}.partial.png"));
    {
        let root = BitMapBackend::new(&tmp, (800, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| io_err(path, e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(1f64..steps as f64, (lo - pad)..(hi + pad))
            .map_err(|e| io_err(path, e))?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(ylabel)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| io_err(path, e))?;
        for k in 0..width {
            let color = Palette99::pick(k).to_rgba();
            let series = (0..steps).map(|t| ((t + 1) as f64, flat[t * width + k]));
            chart.draw_series(LineSeries::new(series, color.stroke_width(2))).map_err(|e| io_err(path, e))?;
        }
        root.present().map_err(|e| io_err(path, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}
