// Strided copies: transpose, slice, pad, broadcast (gather), writing a block into a
// larger tensor for concat (scatter), and picking rows by index (gather_rows, for
// shuffled batches of data that already lives on the GPU). Words are copied as u32, so
// f32 and i32 both work.

override WG: u32 = 256u;

struct Params {
    n: u32,
    rank: u32,
    base: u32,
    pad_value: u32,
    out_dims: array<vec4<u32>, 2>,
    src_dims: array<vec4<u32>, 2>,
    src_strides: array<vec4<u32>, 2>,
    pad_lo: array<vec4<i32>, 2>,
    dst_strides: array<vec4<u32>, 2>,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<u32>;
@group(0) @binding(2) var<storage, read_write> dst: array<u32>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;

// dst (contiguous, out_dims) [i] = src[base + sum((c_d - pad_lo_d) * src_strides_d)],
// or pad_value where a coordinate falls outside src_dims.
@compute @workgroup_size(WG)
fn gather(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.n) { return; }
    var rest = i;
    var offset = params.base;
    var inside = true;
    for (var d = i32(params.rank) - 1; d >= 0; d = d - 1) {
        let du = u32(d);
        let dim = params.out_dims[du / 4u][du % 4u];
        let c = i32(rest % dim) - params.pad_lo[du / 4u][du % 4u];
        rest = rest / dim;
        if (c < 0 || u32(c) >= params.src_dims[du / 4u][du % 4u]) {
            inside = false;
        } else {
            offset = offset + u32(c) * params.src_strides[du / 4u][du % 4u];
        }
    }
    if (inside) {
        dst[i] = src[offset];
    } else {
        dst[i] = params.pad_value;
    }
}

// dst[base + sum(c_d * dst_strides_d)] = src[i] for contiguous src of shape src_dims.
@compute @workgroup_size(WG)
fn scatter(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.n) { return; }
    var rest = i;
    var offset = params.base;
    for (var d = i32(params.rank) - 1; d >= 0; d = d - 1) {
        let du = u32(d);
        let dim = params.src_dims[du / 4u][du % 4u];
        offset = offset + (rest % dim) * params.dst_strides[du / 4u][du % 4u];
        rest = rest / dim;
    }
    dst[offset] = src[i];
}

// dst[r, j] = src[rows[r], j] for rows of params.base words each (params.n words in all;
// uint8 data packed four to a word moves as words when its rows are whole words).
@compute @workgroup_size(WG)
fn gather_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
    let i = (wid.y * nwg.x + wid.x) * WG + lid;
    if (i >= params.n) { return; }
    let row_len = params.base;
    dst[i] = src[rows[i / row_len] * row_len + i % row_len];
}
