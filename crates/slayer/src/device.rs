//! Training devices by name: burn's CPU backend (`flex`) or, with the crate's `wgpu` feature,
//! a GPU through wgpu (Vulkan, Metal, DX12; Mesa's lavapipe in CI).
//!
//! On a wgpu device the synapses, losses, backward pass and optimizer run on the GPU; the
//! neuron dynamics (slayer's sequential integer loop) run on the host, one read-back of each
//! layer's currents per forward, with gradients from device operations ([`crate::neuron`]).

use crate::error::{Result, SlayerError};
use burn::tensor::Device;

/// The names [`training_device`] accepts.
pub const DEVICE_NAMES: [&str; 2] = ["cpu", "wgpu"];

/// An autodiff device to train on: `cpu` (burn's flex backend) or `wgpu` (the best GPU
/// adapter wgpu finds; `WGPU_BACKEND` and `CUBECL_WGPU_DEFAULT_DEVICE` select). A clear
/// error for an unknown name, a build without the `wgpu` feature or a machine without an
/// adapter.
pub fn training_device(name: &str) -> Result<Device> {
    let refuse = |reason: String| SlayerError::Device { name: name.into(), reason };
    match name {
        "cpu" => Ok(Device::flex().autodiff()),
        "wgpu" => wgpu_device().map(Device::autodiff).map_err(refuse),
        _ => Err(refuse(format!("unknown; expected one of {}", DEVICE_NAMES.join(", ")))),
    }
}

/// burn's wgpu device, brought up with a clear error when there is no adapter. burn
/// registers its wgpu runtime once per process; when that already happened (an earlier call,
/// or tensors made on the default device), the registered runtime's device is the answer.
#[cfg(feature = "wgpu")]
fn wgpu_device() -> std::result::Result<Device, String> {
    use burn::tensor::wgpu::WgpuInitError;
    match Device::wgpu_options().init() {
        Ok(device) => Ok(device),
        Err(WgpuInitError::Registration { .. }) => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
        Err(e) => Err(format!("no usable GPU adapter: {e}")),
    }
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> std::result::Result<Device, String> {
    Err("this build has no GPU training: build basalt-slayer with `--features wgpu`".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_cpu_devices() {
        let err = training_device("tpu").unwrap_err().to_string();
        assert_eq!(err, "training device `tpu`: unknown; expected one of cpu, wgpu");
        let cpu = training_device("cpu").expect("cpu");
        assert_eq!(cpu.clone().without_autodiff(), Device::flex());
        #[cfg(not(feature = "wgpu"))]
        assert!(training_device("wgpu").unwrap_err().to_string().contains("--features wgpu"));
    }

    /// With the `wgpu` feature, burn's default device (which the integration tests use) is
    /// the GPU, so `cargo test --features wgpu` runs every slayer check there.
    #[cfg(feature = "wgpu")]
    #[test]
    fn wgpu_device_is_the_default_with_the_feature() {
        match training_device("wgpu") {
            Ok(gpu) => {
                assert_ne!(gpu.clone().without_autodiff(), Device::flex());
                assert_eq!(Device::default(), gpu.clone().without_autodiff());
                // burn registers its runtime once per process: asking again gives the same device.
                assert_eq!(training_device("wgpu").expect("a second time"), gpu);
            }
            Err(e) if std::env::var_os("CI").is_some() => panic!("CI must provide a GPU adapter: {e}"),
            Err(e) => eprintln!("skipped: {e}"),
        }
    }
}
