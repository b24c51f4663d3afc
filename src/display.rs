//! Prints arrays the way NumPy prints float arrays, so that examples show what the
//! corresponding Lava tutorial prints.

use ndarray::{ArrayD, Axis};

/// Formats one float as NumPy does inside an array (`100.`, `0.5`, `-1.25`), with at most
/// 8 digits after the point.
fn fmt_elem(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e16 {
        format!("{}.", x as i64)
    } else {
        let s = format!("{x:.8}");
        s.trim_end_matches('0').to_string()
    }
}

/// A float array as NumPy's `print` shows it: `[100. 100.]`, `[[0.4 0.1]\n [0.5 0.9]]`.
pub fn numpy_str(a: &ArrayD<f64>) -> String {
    let elems: Vec<String> = a.iter().map(|&x| fmt_elem(x)).collect();
    let split: Vec<(&str, &str)> = elems.iter().map(|s| s.split_once('.').unwrap_or((s.as_str(), ""))).collect();
    let int_w = split.iter().map(|(i, _)| i.len()).max().unwrap_or(0);
    let frac_w = split.iter().map(|(_, f)| f.len()).max().unwrap_or(0);
    let cells: Vec<String> = split.iter().map(|(i, f)| format!("{i:>int_w$}.{f:<frac_w$}")).collect();
    fn nest(a: &ArrayD<f64>, cells: &[String], depth: usize) -> String {
        if a.ndim() <= 1 {
            return format!("[{}]", cells.join(" "));
        }
        let n = a.len_of(Axis(0)).max(1);
        let per = cells.len() / n;
        let rows: Vec<String> = (0..a.len_of(Axis(0)))
            .map(|k| nest(&a.index_axis(Axis(0), k).to_owned(), &cells[k * per..(k + 1) * per], depth + 1))
            .collect();
        let sep = format!("\n{}", " ".repeat(depth + 1));
        format!("[{}]", rows.join(&sep))
    }
    nest(a, &cells, 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn formats_like_numpy() {
        let a = ArrayD::from_shape_vec(IxDyn(&[2]), vec![100.0, 0.0]).unwrap();
        assert_eq!(numpy_str(&a), "[100.   0.]");
        let b = ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![0.4, 0.1, 0.5, 0.05]).unwrap();
        assert_eq!(numpy_str(&b), "[[0.4  0.1 ]\n [0.5  0.05]]");
        let c = ArrayD::from_shape_vec(IxDyn(&[3]), vec![1.0, 0.5, -2.0]).unwrap();
        assert_eq!(numpy_str(&c), "[ 1.   0.5 -2. ]");
    }
}
