//! Initial values of Vars: a scalar or an array, broadcast to the Var's shape as NumPy does.

use ndarray::{ArrayD, IxDyn};

/// A shape in C (row-major) order, as in Lava/NumPy.
pub type Shape = Vec<usize>;

/// Number of elements of a shape (1 for the scalar shape `[]`).
pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// The initial value of a Var or a value given to `set`: a scalar broadcast to every
/// element, or an array broadcast to the Var's shape (NumPy rules).
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// One value for every element.
    Scalar(f64),
    /// An array, broadcast to the target shape.
    Array(ArrayD<f64>),
}

impl Init {
    /// Broadcasts this value to `shape`, or explains why it cannot.
    pub fn broadcast(&self, shape: &[usize]) -> Result<ArrayD<f64>, String> {
        match self {
            Init::Scalar(x) => Ok(ArrayD::from_elem(IxDyn(shape), *x)),
            Init::Array(a) => match a.broadcast(IxDyn(shape)) {
                Some(view) => Ok(view.to_owned()),
                None => Err(format!("an array of shape {:?} cannot be broadcast to shape {:?}", a.shape(), shape)),
            },
        }
    }
}

impl From<f64> for Init {
    fn from(x: f64) -> Self {
        Init::Scalar(x)
    }
}

impl From<i32> for Init {
    fn from(x: i32) -> Self {
        Init::Scalar(f64::from(x))
    }
}

impl From<Vec<f64>> for Init {
    fn from(v: Vec<f64>) -> Self {
        let n = v.len();
        Init::Array(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-D shape matches length"))
    }
}

impl From<&[f64]> for Init {
    fn from(v: &[f64]) -> Self {
        Init::from(v.to_vec())
    }
}

impl<const N: usize> From<[f64; N]> for Init {
    fn from(v: [f64; N]) -> Self {
        Init::from(v.to_vec())
    }
}

impl From<ArrayD<f64>> for Init {
    fn from(a: ArrayD<f64>) -> Self {
        Init::Array(a)
    }
}

impl From<ndarray::Array1<f64>> for Init {
    fn from(a: ndarray::Array1<f64>) -> Self {
        Init::Array(a.into_dyn())
    }
}

impl From<ndarray::Array2<f64>> for Init {
    fn from(a: ndarray::Array2<f64>) -> Self {
        Init::Array(a.into_dyn())
    }
}

impl From<ndarray::Array3<f64>> for Init {
    fn from(a: ndarray::Array3<f64>) -> Self {
        Init::Array(a.into_dyn())
    }
}

/// Builds a 2-D array from nested rows, e.g. `matrix(&[[0.4, 0.1], [0.5, 0.9]])`; the
/// usual way to write small weight matrices as in Lava's tutorials.
pub fn matrix<const C: usize>(rows: &[[f64; C]]) -> ndarray::Array2<f64> {
    let data: Vec<f64> = rows.iter().flat_map(|r| r.iter().copied()).collect();
    ndarray::Array2::from_shape_vec((rows.len(), C), data).expect("rows all have C columns")
}
