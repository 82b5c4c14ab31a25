// Colormaps as a few control points, expanded to 256-entry RGB tables on first use.
// Shared by the kernel (which turns tensors into RGBA) and the page (legends).

const STOPS = {
  gray: [
    [0, 0, 0],
    [255, 255, 255],
  ],
  viridis: [
    [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
    [31, 158, 137], [53, 183, 121], [109, 205, 89], [180, 222, 44], [253, 231, 37],
  ],
  magma: [
    [0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122],
    [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191],
  ],
  jet: [
    [0, 0, 131], [0, 60, 170], [5, 255, 255], [255, 255, 0], [250, 0, 0], [128, 0, 0],
  ],
  // Diverging: negative blue, zero white, positive red (weights, gradients).
  coolwarm: [
    [59, 76, 192], [141, 176, 254], [221, 221, 221], [244, 154, 123], [180, 4, 38],
  ],
};

export const COLORMAPS = Object.keys(STOPS);

const tables = new Map();

/** A 768-byte RGB lookup table for `name`; throws on an unknown name. */
export function colormapTable(name = 'gray') {
  let table = tables.get(name);
  if (table) return table;
  const stops = STOPS[name];
  if (!stops) throw new Error(`unknown colormap '${name}': use one of ${COLORMAPS.join(', ')}`);
  table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const pos = (i / 255) * (stops.length - 1);
    const k = Math.min(Math.floor(pos), stops.length - 2);
    const f = pos - k;
    for (let c = 0; c < 3; c++) table[i * 3 + c] = Math.round(stops[k][c] * (1 - f) + stops[k + 1][c] * f);
  }
  tables.set(name, table);
  return table;
}
