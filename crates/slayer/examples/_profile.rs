use basalt_slayer::{CubaNeuron, Device, Network, SpikeRate, Tensor, TensorData};
use burn::tensor::Int;
use std::time::Instant;
fn main() {
    let device = Device::default().autodiff();
    let x: Vec<f32> = (0..32 * 200 * 100).map(|i| f32::from(u8::from(i % 10 == 0))).collect();
    let x = Tensor::<3>::from_data(TensorData::new(x, [32, 200, 100]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(vec![1i64; 32], [32]), &device);
    let neuron = CubaNeuron::new(1.25, 0.25, 0.03).unwrap().surrogate(0.03, 3.0);
    let net = Network::dense(&[200, 256, 10], &neuron, 1.0, &device);
    let loss = SpikeRate::new(0.2, 0.03).unwrap();
    for _ in 0..3 {
        let t0 = Instant::now();
        let z = net.blocks[0].synapse.forward(x.clone()).unwrap();
        let _ = z.clone().try_into_vec_as::<f32>();
        let t1 = Instant::now();
        let s = net.blocks[0].neuron.forward_train(z).unwrap();
        let _ = s.clone().try_into_vec_as::<f32>();
        let t2 = Instant::now();
        let z2 = net.blocks[1].synapse.forward(s).unwrap();
        let o = net.blocks[1].neuron.forward_train(z2).unwrap();
        let l = loss.forward(o, y.clone()).unwrap();
        let _ = l.clone().try_into_vec_as::<f32>();
        let t3 = Instant::now();
        let g = l.backward();
        let t4 = Instant::now();
        drop(g);
        println!("syn1 {:?} neuron1 {:?} rest {:?} backward {:?}", t1 - t0, t2 - t1, t3 - t2, t4 - t3);
    }
    let data: Vec<f32> = vec![0.5; 32 * 256 * 100];
    let z = Tensor::<3>::from_data(TensorData::new(data, [32, 256, 100]), &Device::default());
    let t0 = Instant::now();
    let _ = net.blocks[0].neuron.forward(z).unwrap().try_into_vec_as::<f32>();
    println!("plain forward neuron1 {:?}", t0.elapsed());
}
