//! Learning statistics (slayer's `utils.stats`): loss and accuracy per epoch for the
//! training, validation and testing sets, printed as slayer prints them, saved as slayer's
//! `loss.txt` / `accuracy.txt` and plotted to `loss.png` / `accuracy.png`; and an indicatif
//! progress bar for an epoch.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use crate::error::{Result, SlayerError};

/// Loss and accuracy of one data set: the running sums of the current epoch, and the log,
/// minimum loss and maximum accuracy of the epochs before (slayer's `LearningStat`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LearningStat {
    /// Samples seen this epoch.
    pub num_samples: usize,
    /// Sum of the per-batch losses weighted by batch size.
    pub loss_sum: f64,
    /// Correctly classified samples this epoch.
    pub correct_samples: usize,
    /// Smallest epoch loss so far.
    pub min_loss: Option<f64>,
    /// Largest epoch accuracy so far.
    pub max_accuracy: Option<f64>,
    /// Loss of every finished epoch (`None` where the set saw no sample).
    pub loss_log: Vec<Option<f64>>,
    /// Accuracy of every finished epoch.
    pub accuracy_log: Vec<Option<f64>>,
    /// The last finished epoch had the smallest loss so far (time to save a checkpoint).
    pub best_loss: bool,
    /// The last finished epoch had the largest accuracy so far.
    pub best_accuracy: bool,
}

impl LearningStat {
    /// Adds one batch of `batch` samples with mean loss `loss`, `correct` of them right.
    pub fn add(&mut self, batch: usize, loss: f64, correct: usize) {
        self.num_samples += batch;
        self.loss_sum += loss * batch as f64;
        self.correct_samples += correct;
    }

    /// Mean loss per sample this epoch (`None` before any sample).
    pub fn loss(&self) -> Option<f64> {
        (self.num_samples > 0).then(|| self.loss_sum / self.num_samples as f64)
    }

    /// Fraction classified correctly this epoch (`None` before any sample).
    pub fn accuracy(&self) -> Option<f64> {
        (self.num_samples > 0).then(|| self.correct_samples as f64 / self.num_samples as f64)
    }

    /// Ends the epoch: logs its loss and accuracy and updates the best values (slayer's
    /// `update`; a set that saw no sample logs `None`).
    pub fn update(&mut self) {
        let (loss, accuracy) = (self.loss(), self.accuracy());
        self.loss_log.push(loss);
        self.accuracy_log.push(accuracy);
        self.best_loss = match (loss, self.min_loss) {
            (Some(l), Some(m)) => l < m,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if self.best_loss {
            self.min_loss = loss;
        }
        self.best_accuracy = match (accuracy, self.max_accuracy) {
            (Some(a), Some(m)) => a > m,
            (_, None) => true,
            (None, Some(_)) => false,
        };
        if self.best_accuracy {
            self.max_accuracy = accuracy;
        }
    }

    /// Clears the running sums for the next epoch (the logs stay).
    pub fn reset(&mut self) {
        self.num_samples = 0;
        self.loss_sum = 0.0;
        self.correct_samples = 0;
    }

    /// Whether any epoch logged a loss (slayer's `valid_loss_log`).
    pub fn has_loss_log(&self) -> bool {
        self.loss_log.iter().any(Option::is_some)
    }

    /// Whether any epoch logged an accuracy.
    pub fn has_accuracy_log(&self) -> bool {
        self.accuracy_log.iter().any(Option::is_some)
    }
}

/// slayer's line: `loss =     0.12345 (min =     0.10000)     accuracy = 0.91000 (max =
/// 0.93000) `, without the bests before the first finished epoch; empty before any sample.
impl fmt::Display for LearningStat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(loss), Some(accuracy)) = (self.loss(), self.accuracy()) else { return Ok(()) };
        match (self.min_loss, self.max_accuracy) {
            (Some(min), Some(max)) => {
                write!(f, "loss = {loss:11.5} (min = {min:11.5})     accuracy = {accuracy:7.5} (max = {max:7.5}) ")
            }
            _ => write!(f, "loss = {loss:11.5}  {}accuracy = {accuracy:7.5} ", " ".repeat(24)),
        }
    }
}

/// The statistics of a training run (slayer's `LearningStats`): one [`LearningStat`] per
/// data set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LearningStats {
    /// Training set.
    pub training: LearningStat,
    /// Validation set.
    pub validation: LearningStat,
    /// Testing set.
    pub testing: LearningStat,
    /// Lines the last [`LearningStats::print`] wrote (it overwrites them next time).
    lines_printed: usize,
}

impl LearningStats {
    /// Empty statistics.
    pub fn new() -> Self {
        LearningStats::default()
    }

    /// Ends the epoch of every set (log, bests) and clears their running sums.
    pub fn update(&mut self) {
        for s in [&mut self.training, &mut self.validation, &mut self.testing] {
            s.update();
            s.reset();
        }
    }

    /// Starts printing on a fresh line instead of overwriting the last print.
    pub fn new_line(&mut self) {
        self.lines_printed = 0;
    }

    /// The lines slayer prints for `epoch` (and, within it, batch `iter` and the time
    /// elapsed): `Epoch    3: i =    12 , ... ms elapsed`, then one line per set with samples.
    pub fn lines(&self, epoch: usize, iter: Option<usize>, elapsed: Option<Duration>) -> Vec<String> {
        let iter = iter.map_or(String::new(), |i| format!(": i = {i:5} "));
        let profile = elapsed.map_or(String::new(), |t| format!(", {:12.4} ms elapsed", t.as_secs_f64() * 1000.0));
        let mut lines = vec![format!("Epoch {epoch:4}{iter}{profile}        ")];
        lines.extend(self.to_string().split("| ").map(str::to_string));
        lines
    }

    /// Prints [`LearningStats::lines`] over the previous print (ANSI cursor-up), as
    /// slayer's `print` does, so that a run shows one live block of statistics per epoch.
    pub fn print(&mut self, epoch: usize, iter: Option<usize>, elapsed: Option<Duration>) {
        let lines = self.lines(epoch, iter, elapsed);
        println!("\x1b[{}A", self.lines_printed);
        for line in &lines {
            println!("{line}");
        }
        self.lines_printed = lines.len() + 1;
    }

    /// Writes slayer's `loss.txt` and (when any accuracy was logged) `accuracy.txt` into
    /// `dir`: a `#` header naming the logged sets, then one row per epoch of `%12.6f `
    /// columns, CRLF line ends.
    pub fn save(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let sets = [&self.training, &self.validation, &self.testing];
        let mut header = String::from("#");
        for (s, name) in sets.iter().zip([" Train       ", " Valid       ", " Test        "]) {
            if s.has_loss_log() {
                header.push_str(name);
            }
        }
        let table = |log: fn(&LearningStat) -> &Vec<Option<f64>>| -> String {
            let mut text = format!("{header}\r\n");
            let rows = sets.iter().map(|s| log(s).len()).min().unwrap_or(0);
            for row in 0..rows {
                for s in sets {
                    if let Some(v) = log(s)[row] {
                        text.push_str(&format!("{v:12.6} "));
                    }
                }
                text.push_str("\r\n");
            }
            text
        };
        write_file(&dir.join("loss.txt"), &table(|s| &s.loss_log))?;
        if sets.iter().any(|s| s.has_accuracy_log()) {
            write_file(&dir.join("accuracy.txt"), &table(|s| &s.accuracy_log))?;
        }
        Ok(())
    }

    /// Plots the logged losses (log10 scale, as slayer's `semilogy`) to `dir/loss.png` and
    /// the accuracies to `dir/accuracy.png`, one line per set against the epoch.
    pub fn plot(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = dir.as_ref();
        let named = [("Training", &self.training), ("Validation", &self.validation), ("Testing", &self.testing)];
        let series =
            |log: fn(&LearningStat) -> &Vec<Option<f64>>, scale: fn(f64) -> f64| -> Vec<(String, Vec<(f64, f64)>)> {
                named
                    .iter()
                    .filter(|(_, s)| log(s).iter().any(Option::is_some))
                    .map(|(name, s)| {
                        let points =
                            log(s).iter().enumerate().filter_map(|(e, v)| v.map(|v| (e as f64, scale(v)))).collect();
                        (name.to_string(), points)
                    })
                    .collect()
            };
        let losses = series(|s| &s.loss_log, f64::log10);
        if losses.is_empty() {
            return Err(SlayerError::Parameter {
                what: "learning stats".into(),
                reason: "no epoch logged a loss".into(),
            });
        }
        let plot = |file: &str, title: &str, ylabel: &str, s: &[(String, Vec<(f64, f64)>)]| {
            basalt_core::plot::series_plot_png(&dir.join(file), title, "Epoch", ylabel, s)
                .map_err(|e| SlayerError::Parameter { what: file.into(), reason: e.to_string() })
        };
        plot("loss.png", "Loss", "Loss (log10)", &losses)?;
        let accuracies = series(|s| &s.accuracy_log, |v| v);
        if !accuracies.is_empty() {
            plot("accuracy.png", "Accuracy", "Accuracy", &accuracies)?;
        }
        Ok(())
    }
}

/// slayer's block: `Train loss = ...`, then ` | Valid ...` and ` | Test  ...` for the sets
/// that saw samples this epoch.
impl fmt::Display for LearningStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Train {}", self.training)?;
        let valid = self.validation.to_string();
        if !valid.is_empty() {
            write!(f, " | Valid {valid}")?;
        }
        let test = self.testing.to_string();
        if !test.is_empty() {
            write!(f, " | Test  {test}")?;
        }
        Ok(())
    }
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| SlayerError::Parameter { what: path.display().to_string(), reason: format!("cannot write: {e}") })
}

/// A progress bar for one epoch of `batches` batches (indicatif; drawn on stderr, hidden
/// when it is not a terminal): `Epoch 3 [#####-----] 12/50 ...` with a message to update,
/// e.g. with the training statistics so far.
pub fn epoch_progress(epoch: usize, batches: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(batches as u64);
    // The template is fixed and valid.
    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed} {msg}") {
        bar.set_style(style.progress_chars("#>-"));
    }
    bar.set_prefix(format!("Epoch {epoch:4}"));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(file: &str) -> String {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/stats").join(file);
        std::fs::read_to_string(path).unwrap()
    }

    /// `tools/oracle/slayer_stats.py`'s epochs through our stats: the printed block before
    /// and after each update, and the saved files, equal slayer's byte for byte; the plots
    /// are PNG files.
    #[test]
    fn stats_print_and_save_as_slayers() {
        type Batches = &'static [(usize, f64, usize)];
        let epochs: [[Batches; 3]; 3] = [
            [&[(32, 2.5, 10), (32, 2.0, 14), (16, 1.75, 9)], &[(20, 2.0, 8)], &[(40, 2.25, 15)]],
            [&[(32, 1.5, 20), (32, 1.25, 22), (16, 1.0, 12)], &[(20, 1.5, 11)], &[(40, 1.375, 25)]],
            [&[(32, 1.125, 25), (32, 1.0, 26), (16, 1.5, 10)], &[(20, 1.625, 10)], &[(40, 1.0625, 30)]],
        ];
        let mut stats = LearningStats::new();
        let mut shown = Vec::new();
        for sets in epochs {
            let [train, valid, test] = sets;
            for (stat, batches) in
                [(&mut stats.training, train), (&mut stats.validation, valid), (&mut stats.testing, test)]
            {
                for &(n, loss, correct) in batches {
                    stat.add(n, loss, correct);
                }
            }
            shown.push(stats.to_string());
            stats.update();
            shown.push(stats.to_string());
        }
        assert_eq!(shown.join("\n") + "\n", data("display.txt"));
        assert!(stats.training.best_loss && !stats.validation.best_loss && !stats.validation.best_accuracy);
        let lines = stats.lines(3, Some(12), Some(Duration::from_millis(1500)));
        assert_eq!(lines, ["Epoch    3: i =    12 ,    1500.0000 ms elapsed        ", "Train "]);

        let dir = std::env::temp_dir().join(format!("basalt-stats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        stats.save(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("loss.txt")).unwrap(), data("loss.txt"));
        assert_eq!(std::fs::read_to_string(dir.join("accuracy.txt")).unwrap(), data("accuracy.txt"));
        stats.plot(&dir).unwrap();
        for png in ["loss.png", "accuracy.png"] {
            let bytes = std::fs::read(dir.join(png)).unwrap();
            assert_eq!(bytes[..8], *b"\x89PNG\r\n\x1a\n", "{png}");
        }
        let _ = std::fs::remove_dir_all(&dir);
        // Nothing logged: a clear error instead of an empty plot.
        let e = LearningStats::new().plot(std::env::temp_dir()).unwrap_err();
        assert!(e.to_string().contains("no epoch logged a loss"), "{e}");
    }
}
