// SpikeDataloader and StateDataloader (SPEC §2.6, Lava's io.dataloader): a data set of samples
// loaded one every `interval` steps, cycling, at post-management of steps with
// (t - 1) mod interval == offset. Words are moved as they are (i32 or f32 bits, converted on
// the host). In a batch of B copies, copy c loads sample (k B + c) mod n_samples at its k-th
// load, so the batch walks the data set B samples at a time. Everything that depends on the
// loads (the sample a copy plays, its column, the ground truth) follows from the clock.

struct Params {
    // Port (spike) or Var (state) words per copy and sample.
    n: u32,
    interval: u32,
    offset: u32,
    // The samples' time axis (spike loader), cut or zero-padded to `interval`.
    sample_len: u32,
    n_samples: u32,
    batch: u32,
    gt_size: u32,
    // The first word of the state loader's target Var in its buffer.
    first: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> clock: array<u32>;
@group(0) @binding(2) var<storage, read> dataset: array<u32>;
// Spike loader: the playing sample of every copy, (n, interval) per copy.
@group(0) @binding(3) var<storage, read_write> playing: array<u32>;
@group(0) @binding(4) var<storage, read_write> s_out: array<u32>;
@group(0) @binding(5) var<storage, read> gts: array<u32>;
@group(0) @binding(6) var<storage, read_write> gt_out: array<u32>;
// State loader: the Var it writes.
@group(0) @binding(7) var<storage, read_write> target_var: array<u32>;

// The sample copy c loads at load number k.
fn sample_of(k: u32, c: u32) -> u32 {
    return (k * p.batch + c) % p.n_samples;
}

// Whether this step's post-management loads, and which load it is.
fn loads(t: u32) -> bool {
    return (t - 1u) % p.interval == p.offset;
}

// Post-management: the spike loader copies each copy's next sample into `playing`.
@compute @workgroup_size(64)
fn spike_load(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let e = gid.x + gid.y * wg.x * 64u;
    let t = clock[0];
    if (e >= p.n * p.interval * p.batch || !loads(t)) { return; }
    let col = e % p.interval;
    let row = (e / p.interval) % p.n;
    let sample = sample_of((t - 1u - p.offset) / p.interval, e / (p.n * p.interval));
    var word = 0u;
    if (col < p.sample_len) {
        word = dataset[(sample * p.n + row) * p.sample_len + col];
    }
    playing[e] = word;
}

// Spike phase: column `steps since the last load` of the playing sample (before the first
// load, the step number mod interval, as the model's counter runs from 0).
@compute @workgroup_size(64)
fn spike_send(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let e = gid.x + gid.y * wg.x * 64u;
    let t = clock[0];
    if (e >= p.n * p.batch) { return; }
    var col = (t - 1u) % p.interval;
    if (t >= 2u && t - 2u >= p.offset) {
        let last = p.offset + ((t - 2u - p.offset) / p.interval) * p.interval;
        col = t - 2u - last;
    }
    s_out[e] = playing[e * p.interval + col];
}

// Spike phase: the ground truth of the last loaded sample (zero before the first load).
@compute @workgroup_size(64)
fn gt_send(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let e = gid.x + gid.y * wg.x * 64u;
    let t = clock[0];
    if (e >= p.gt_size * p.batch) { return; }
    var word = 0u;
    if (t >= 2u && t - 2u >= p.offset) {
        let sample = sample_of((t - 2u - p.offset) / p.interval, e / p.gt_size);
        word = gts[sample * p.gt_size + e % p.gt_size];
    }
    gt_out[e] = word;
}

// Post-management: the state loader writes each copy's next sample into its Var.
@compute @workgroup_size(64)
fn state_load(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) wg: vec3<u32>) {
    let e = gid.x + gid.y * wg.x * 64u;
    let t = clock[0];
    if (e >= p.n * p.batch || !loads(t)) { return; }
    let sample = sample_of((t - 1u - p.offset) / p.interval, e / p.n);
    target_var[p.first + e] = dataset[sample * p.n + e % p.n];
}
