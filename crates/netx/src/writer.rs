//! Writing netx HDF5 files (the layout lava-dl's `export_hdf5` writes, SPEC §4.1): one
//! `/layer/<i>` group per layer with `type` (fixed-length ASCII), `shape` and the layer's
//! datasets, and a `neuron` sub-group.

use std::collections::BTreeMap;
use std::path::Path;

use basalt_core::persist::hdf5::{write_tree, Array, Tree, Value};

use crate::config::{LayerConfig, LayerKind, NeuronConfig, NeuronKind};
use crate::error::NetxError;

fn num(shape: Vec<usize>, data: Vec<f64>) -> Value {
    Value::Numbers(Array { shape, data })
}

fn scalar(x: f64) -> Value {
    num(Vec::new(), vec![x])
}

fn vector(v: &[usize]) -> Value {
    num(vec![v.len()], v.iter().map(|&x| x as f64).collect())
}

fn neuron_tree(n: &NeuronConfig) -> Result<Tree, String> {
    let mut d = BTreeMap::new();
    match &n.kind {
        NeuronKind::Cuba { i_decay, v_decay, vth_mant } => {
            d.insert("type".into(), Value::Text(vec!["CUBA".into()]));
            d.insert("iDecay".into(), scalar(*i_decay));
            d.insert("vDecay".into(), scalar(*v_decay));
            d.insert("vThMant".into(), scalar(*vth_mant));
            d.insert("refDelay".into(), scalar(1.0));
        }
        NeuronKind::Alif { i_decay, v_decay, th_decay, ref_decay, vth_mant, vth_step } => {
            d.insert("type".into(), Value::Text(vec!["ALIF".into()]));
            for (key, x) in [
                ("iDecay", i_decay),
                ("vDecay", v_decay),
                ("thDecay", th_decay),
                ("refDecay", ref_decay),
                ("vThMant", vth_mant),
                ("vThStep", vth_step),
            ] {
                d.insert(key.into(), scalar(*x));
            }
            d.insert("refDelay".into(), scalar(1.0));
        }
        NeuronKind::Sdnn { vth_mant, sigma_output } => {
            d.insert("type".into(), Value::Text(vec!["SDNN".into()]));
            d.insert("activation".into(), Value::Text(vec!["relu".into()]));
            d.insert("vThMant".into(), scalar(*vth_mant));
            if *sigma_output {
                d.insert("sigma_output".into(), scalar(1.0));
            }
        }
        NeuronKind::Rf { type_name, sin_decay, cos_decay, vth_mant } => {
            d.insert("type".into(), Value::Text(vec![type_name.clone()]));
            d.insert("sinDecay".into(), scalar(*sin_decay));
            d.insert("cosDecay".into(), scalar(*cos_decay));
            d.insert("vThMant".into(), scalar(*vth_mant));
        }
        NeuronKind::Other(t) => return Err(format!("neuron type `{t}` cannot be written")),
    }
    if let Some(bits) = n.message_bits {
        d.insert("messageBits".into(), scalar(f64::from(bits)));
    }
    Ok(Tree { datasets: d, groups: BTreeMap::new() })
}

fn layer_tree(c: &LayerConfig) -> Result<Tree, String> {
    let mut d = BTreeMap::new();
    let mut groups = BTreeMap::new();
    d.insert("type".to_string(), Value::FixedText(vec![c.type_name.clone()]));
    if !c.shape.is_empty() {
        d.insert("shape".into(), vector(&c.shape));
    }
    match &c.kind {
        LayerKind::Input | LayerKind::Flatten | LayerKind::Average { .. } => {}
        LayerKind::Concat { layers } => {
            d.insert("layers".into(), vector(layers));
        }
        LayerKind::Dense { weight, weight_rec, weight_imag, bias, delay } => {
            let (rows, cols) = weight.dim();
            let matrix = |w: &ndarray::Array2<f64>| num(vec![rows, cols], w.iter().copied().collect());
            match weight_imag {
                // A complex layer: `weight/real` and `weight/imag`, as slayer's rf blocks write.
                Some(im) => {
                    let parts =
                        BTreeMap::from([("real".to_string(), matrix(weight)), ("imag".to_string(), matrix(im))]);
                    groups.insert("weight".to_string(), Tree { datasets: parts, groups: BTreeMap::new() });
                }
                None => {
                    d.insert("weight".into(), matrix(weight));
                }
            }
            if let Some(r) = weight_rec {
                d.insert("weight_rec".into(), num(vec![rows, rows], r.iter().copied().collect()));
            }
            d.insert("inFeatures".into(), scalar(cols as f64));
            d.insert("outFeatures".into(), scalar(rows as f64));
            if let Some(b) = bias {
                d.insert("bias".into(), num(vec![b.len()], b.clone()));
            }
            if let Some(dl) = delay {
                d.insert("delay".into(), num(vec![dl.len()], dl.clone()));
            }
        }
        LayerKind::Conv { weight, weight_shape, transposed, bias, stride, padding, dilation, groups } => {
            let [co, ci, kh, kw] = *weight_shape;
            d.insert("weight".into(), num(vec![co, ci, kh, kw, 1], weight.clone()));
            // convT weights are (Cin, Cout/groups, ..): the channel counts swap.
            let (n_in, n_out) = if *transposed { (co, ci * groups) } else { (ci * groups, co) };
            d.insert("inChannels".into(), scalar(n_in as f64));
            d.insert("outChannels".into(), scalar(n_out as f64));
            d.insert("kernelSize".into(), vector(&[kh, kw]));
            d.insert("stride".into(), vector(stride));
            d.insert("padding".into(), vector(padding));
            d.insert("dilation".into(), vector(dilation));
            d.insert("groups".into(), scalar(*groups as f64));
            if let Some(b) = bias {
                d.insert("bias".into(), num(vec![b.len()], b.clone()));
            }
        }
        LayerKind::Pool { weight, kernel, stride, padding, dilation, .. } => {
            d.insert("weight".into(), num(vec![1, 1, kernel[0], kernel[1]], weight.clone()));
            d.insert("kernelSize".into(), vector(kernel));
            d.insert("stride".into(), vector(stride));
            d.insert("padding".into(), vector(padding));
            d.insert("dilation".into(), vector(dilation));
        }
        LayerKind::Unsupported(t) => return Err(format!("layer type `{t}` cannot be written")),
    }
    if let Some(n) = &c.neuron {
        groups.insert("neuron".to_string(), neuron_tree(n)?);
    }
    Ok(Tree { datasets: d, groups })
}

/// Writes layers as a netx `.net` file (atomically).
pub fn write(path: impl AsRef<Path>, layers: &[LayerConfig]) -> Result<(), NetxError> {
    let path = path.as_ref();
    let mut layer_groups = BTreeMap::new();
    for (i, c) in layers.iter().enumerate() {
        let t = layer_tree(c).map_err(|reason| NetxError::Layer {
            path: path.display().to_string(),
            layer: c.index,
            kind: c.type_name.clone(),
            reason,
        })?;
        layer_groups.insert(i.to_string(), t);
    }
    let mut root = Tree::default();
    root.groups.insert("layer".into(), Tree { datasets: BTreeMap::new(), groups: layer_groups });
    write_tree(path, &root)?;
    Ok(())
}

/// Reads the layer descriptions of a netx file without building processes.
pub fn read_layers(path: impl AsRef<Path>) -> Result<Vec<LayerConfig>, NetxError> {
    let path = path.as_ref();
    let tree = basalt_core::persist::hdf5::read_tree(path)?;
    crate::config::parse(&path.display().to_string(), &tree)
}
