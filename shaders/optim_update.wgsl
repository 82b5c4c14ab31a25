// Fused optimizer updates, Keras 3's update_step of SGD, RMSprop and Adam in the same
// operation order (src/reference/optim_update.rs is the CPU twin and lists the
// formulas). Tensors are immutable: each entry reads the parameter, gradient and slot
// variables and writes the new parameter and new slots to fresh buffers.
// Slots a, b, c are bound at 3/4/5 (read) and 7/8/9 (write):
//   sgd_momentum: a = momentum
//   rmsprop*:     a = velocity, b = momentum, c = average_gradient
//   adam*:        a = momentum (m), b = velocity (v), c = velocity_hat (amsgrad)
// A slot whose bit is set in `missing` starts at zero (its binding holds the gradient
// as a stand-in and is not read).

override WG: u32 = 256u;

struct Params {
    n: u32,
    // bit 0: slot a, bit 1: slot b, bit 2: slot c start at zero.
    missing: u32,
    nesterov: u32,
    _pad: u32,
    lr: f32,
    momentum: f32,
    rho: f32,
    one_minus_rho: f32,
    epsilon: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    // Adam's bias-corrected step size lr sqrt(1 - beta_2^t) / (1 - beta_1^t).
    alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read> a_in: array<f32>;
@group(0) @binding(4) var<storage, read> b_in: array<f32>;
@group(0) @binding(5) var<storage, read> c_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> param_out: array<f32>;
@group(0) @binding(7) var<storage, read_write> a_out: array<f32>;
@group(0) @binding(8) var<storage, read_write> b_out: array<f32>;
@group(0) @binding(9) var<storage, read_write> c_out: array<f32>;

fn index_1d(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
    return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn slot_a(i: u32) -> f32 {
    if ((params.missing & 1u) != 0u) { return 0.0; }
    return a_in[i];
}

fn slot_b(i: u32) -> f32 {
    if ((params.missing & 2u) != 0u) { return 0.0; }
    return b_in[i];
}

fn slot_c(i: u32) -> f32 {
    if ((params.missing & 4u) != 0u) { return 0.0; }
    return c_in[i];
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    param_out[i] = param[i] - grad[i] * params.lr;
}

@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let g = grad[i];
    let m = slot_a(i) * params.momentum - g * params.lr;
    a_out[i] = m;
    if (params.nesterov != 0u) {
        param_out[i] = param[i] + (m * params.momentum - g * params.lr);
    } else {
        param_out[i] = param[i] + m;
    }
}

fn rms_velocity(i: u32, g: f32) -> f32 {
    let v = params.rho * slot_a(i) + params.one_minus_rho * (g * g);
    a_out[i] = v;
    return v;
}

@compute @workgroup_size(WG)
fn rmsprop(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let g = grad[i];
    let v = rms_velocity(i, g);
    param_out[i] = param[i] - params.lr * g / sqrt(v + params.epsilon);
}

@compute @workgroup_size(WG)
fn rmsprop_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let g = grad[i];
    let v = rms_velocity(i, g);
    let s = params.momentum * slot_b(i) + params.lr * g / sqrt(v + params.epsilon);
    b_out[i] = s;
    param_out[i] = param[i] - s;
}

fn rms_centered_denominator(i: u32, g: f32, v: f32) -> f32 {
    let a = params.rho * slot_c(i) + params.one_minus_rho * g;
    c_out[i] = a;
    return v - a * a + params.epsilon;
}

@compute @workgroup_size(WG)
fn rmsprop_centered(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let g = grad[i];
    let v = rms_velocity(i, g);
    let d = rms_centered_denominator(i, g, v);
    param_out[i] = param[i] - params.lr * g / sqrt(d);
}

@compute @workgroup_size(WG)
fn rmsprop_centered_momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                             @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let g = grad[i];
    let v = rms_velocity(i, g);
    let d = rms_centered_denominator(i, g, v);
    let s = params.momentum * slot_b(i) + params.lr * g / sqrt(d);
    b_out[i] = s;
    param_out[i] = param[i] - s;
}

// New (m, v) of Adam, written to slots a and b.
fn adam_moments(i: u32, g: f32) -> vec2<f32> {
    let m0 = slot_a(i);
    let v0 = slot_b(i);
    let m = m0 + (g - m0) * params.one_minus_beta_1;
    let v = v0 + (g * g - v0) * params.one_minus_beta_2;
    a_out[i] = m;
    b_out[i] = v;
    return vec2<f32>(m, v);
}

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let mv = adam_moments(i, grad[i]);
    param_out[i] = param[i] - mv.x * params.alpha / (sqrt(mv.y) + params.epsilon);
}

@compute @workgroup_size(WG)
fn adam_amsgrad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
    let i = index_1d(wid, nwg, lid);
    if (i >= params.n) { return; }
    let mv = adam_moments(i, grad[i]);
    let vh = max(slot_c(i), mv.y);
    c_out[i] = vh;
    param_out[i] = param[i] - mv.x * params.alpha / (sqrt(vh) + params.epsilon);
}
