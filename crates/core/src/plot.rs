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
    let steps = data.shape().first().copied().unwrap_or(0);
    if steps == 0 {
        return Err(io_err(path, "nothing to plot: the data has no time steps"));
    }
    let width = data.len() / steps;
    let flat: Vec<f64> = data.iter().copied().collect();
    let series: Vec<(String, Vec<(f64, f64)>)> = (0..width)
        .map(|k| (String::new(), (0..steps).map(|t| ((t + 1) as f64, flat[t * width + k])).collect()))
        .collect();
    series_plot_png(path, title, xlabel, ylabel, &series)
}

/// Plots named series of (x, y) points as lines, with a legend of the non-empty names, a
/// title and axis labels, into a 800x480 PNG written atomically (learning curves).
pub fn series_plot_png(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    REGISTER_FONT.call_once(|| {
        // The embedded font is valid; registration fails only for a corrupt font.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
    let points = || series.iter().flat_map(|(_, p)| p.iter());
    if points().next().is_none() {
        return Err(io_err(path, "nothing to plot: no points"));
    }
    let range = |f: fn(&(f64, f64)) -> f64| {
        points().map(f).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)))
    };
    let ((mut x_lo, mut x_hi), (mut lo, mut hi)) = (range(|p| p.0), range(|p| p.1));
    if !(lo.is_finite() && hi.is_finite() && x_lo.is_finite() && x_hi.is_finite()) {
        return Err(io_err(path, "data contain non-finite values"));
    }
    for (a, b) in [(&mut lo, &mut hi), (&mut x_lo, &mut x_hi)] {
        if *b - *a < 1e-12 {
            *a -= 1.0;
            *b += 1.0;
        }
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
            .build_cartesian_2d(x_lo..x_hi, (lo - pad)..(hi + pad))
            .map_err(|e| io_err(path, e))?;
        chart
            .configure_mesh()
            .x_desc(xlabel)
            .y_desc(ylabel)
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(|e| io_err(path, e))?;
        for (k, (name, points)) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let drawn = chart
                .draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2)))
                .map_err(|e| io_err(path, e))?;
            if !name.is_empty() {
                drawn.label(name.as_str()).legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
            }
        }
        if series.iter().any(|(name, _)| !name.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .label_font(("sans-serif", 14))
                .draw()
                .map_err(|e| io_err(path, e))?;
        }
        root.present().map_err(|e| io_err(path, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| io_err(path, e))
}
