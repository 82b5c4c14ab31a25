// A model summary as an HTML table, the way Keras prints it: Layer (type), Output Shape,
// Param #, Connected to (for branching graphs), and the totals underneath. Reads the
// engine's `model.summaryData()`.

const count = (n) => Number(n).toLocaleString('en-US');

function size(params) {
  let bytes = params * 4;
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let unit = 0;
  while (bytes >= 1024 && unit < units.length - 1) {
    bytes /= 1024;
    unit += 1;
  }
  return `${bytes.toFixed(2)} ${units[unit]}`;
}

export function summaryOutput(data) {
  const columns = ['Layer (type)', 'Output Shape', 'Param #', ...(data.connected ? ['Connected to'] : [])];
  const rows = data.rows.map((r) => [
    `${r.name} (${r.class_name})`,
    r.output_shape,
    r.params,
    ...(data.connected ? [(r.connected_to ?? []).join(', ')] : []),
  ]);
  return {
    kind: 'table',
    caption: `Model: "${data.name}"`,
    columns,
    rows,
    footer: [
      `Total params: ${count(data.total_params)} (${size(data.total_params)})`,
      `Trainable params: ${count(data.trainable_params)} (${size(data.trainable_params)})`,
      `Non-trainable params: ${count(data.non_trainable_params)} (${size(data.non_trainable_params)})`,
    ],
  };
}
