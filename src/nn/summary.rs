//! `model.summary()`: Keras 3's table (Layer (type), Output Shape, Param #, and
//! Connected to for non-sequential graphs) and its totals footer. The rows are also
//! available as data so the notebook can render an HTML table.

use crate::nn::layers::fmt_dims;
use crate::nn::model::Model;

/// One row of the table: one call of one layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SummaryRow {
    /// The layer's name.
    pub name: String,
    /// Its Keras class.
    pub class_name: String,
    /// As Keras prints it: "(None, 26, 26, 32)".
    pub output_shape: String,
    /// Scalars in its weights (0 on a shared layer's later calls).
    pub params: usize,
    /// Inbound tensors as Keras names them: `conv2d[0][0]`.
    pub connected_to: Vec<String>,
}

/// `model.summary()` as data.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// The model's name.
    pub name: String,
    /// The rows, in Keras's order.
    pub rows: Vec<SummaryRow>,
    /// Whether the "Connected to" column is shown (branching graphs).
    pub connected: bool,
    /// "Total params".
    pub total_params: usize,
    /// "Trainable params".
    pub trainable_params: usize,
    /// "Non-trainable params".
    pub non_trainable_params: usize,
}

/// Keras `readable_memory_size` for float32 weights.
pub(crate) fn readable_size(params: usize) -> String {
    let mut size = (params * 4) as f64;
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < units.len() {
        size /= 1024.0;
        unit += 1;
    }
    format!("{size:.2} {}", units[unit])
}

/// 1234567 → "1,234,567".
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Model {
    /// A chain where every layer is called once on the previous layer's output.
    fn is_sequential_like(&self) -> bool {
        self.class_name() == "Sequential"
            || self.layers().iter().all(|l| {
                let nodes = l.0.nodes.borrow();
                nodes.len() <= 1 && nodes.iter().all(|n| n.inputs.len() <= 1)
            })
    }

    /// The summary's rows and totals, for the notebook's HTML table.
    pub fn summary_data(&self) -> Summary {
        let connected = !self.is_sequential_like();
        let mut rows = Vec::new();
        // Keras's row order is `model.layers`' (by depth); a shared layer's calls stay together.
        let calls = self.layers().iter().flat_map(|l| self.steps().iter().filter(move |(s, _)| s.same(l)));
        for (layer, node_index) in calls {
            let is_input = layer.kind().is_input();
            if is_input && self.class_name() == "Sequential" {
                continue;
            }
            let nodes = layer.0.nodes.borrow();
            let node = &nodes[*node_index];
            let connected_to = node
                .inputs
                .iter()
                .map(|kt| format!("{}[{}][0]", kt.layer().name(), kt.node_index()))
                .collect();
            rows.push(SummaryRow {
                name: layer.name().to_string(),
                class_name: layer.class_name().to_string(),
                output_shape: fmt_dims(&node.output_shape),
                params: if node_index == &0 { layer.param_count() } else { 0 },
                connected_to,
            });
        }
        let total = self.count_params();
        let trainable = self.count_trainable_params();
        Summary {
            name: self.name().to_string(),
            rows,
            connected,
            total_params: total,
            trainable_params: trainable,
            non_trainable_params: total - trainable,
        }
    }

    /// The summary as Keras 3 prints it.
    pub fn summary(&self) -> String {
        self.summary_data().to_string()
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut headers = vec!["Layer (type)", "Output Shape", "Param #"];
        if self.connected {
            headers.push("Connected to");
        }
        let cells: Vec<Vec<Vec<String>>> = self
            .rows
            .iter()
            .map(|r| {
                let mut c = vec![
                    vec![format!("{} ({})", r.name, r.class_name)],
                    vec![r.output_shape.clone()],
                    vec![thousands(r.params)],
                ];
                if self.connected {
                    c.push(if r.connected_to.is_empty() { vec!["-".to_string()] } else { r.connected_to.clone() });
                }
                c
            })
            .collect();
        let mins = [31, 22, 13, 21];
        let widths: Vec<usize> = (0..headers.len())
            .map(|col| {
                cells
                    .iter()
                    .flat_map(|row| row[col].iter().map(|s| s.chars().count()))
                    .chain([headers[col].chars().count(), mins[col]])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let rule = |l: &str, m: &str, r: &str, fill: &str| -> String {
            let parts: Vec<String> = widths.iter().map(|w| fill.repeat(w + 2)).collect();
            format!("{l}{}{r}", parts.join(m))
        };
        let line = |texts: &[String], sep: &str| -> String {
            let parts: Vec<String> = texts
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let pad = widths[i] - t.chars().count();
                    // Param # is right-aligned, as Keras prints it.
                    if i == 2 {
                        format!(" {}{t} ", " ".repeat(pad))
                    } else {
                        format!(" {t}{} ", " ".repeat(pad))
                    }
                })
                .collect();
            format!("{sep}{}{sep}", parts.join(sep))
        };
        writeln!(f, "Model: \"{}\"", self.name)?;
        writeln!(f, "{}", rule("┏", "┳", "┓", "━"))?;
        writeln!(f, "{}", line(&headers.iter().map(|h| h.to_string()).collect::<Vec<_>>(), "┃"))?;
        writeln!(f, "{}", rule("┡", "╇", "┩", "━"))?;
        for (i, row) in cells.iter().enumerate() {
            let height = row.iter().map(|c| c.len()).max().unwrap_or(1);
            for k in 0..height {
                let texts: Vec<String> = row.iter().map(|c| c.get(k).cloned().unwrap_or_default()).collect();
                writeln!(f, "{}", line(&texts, "│"))?;
            }
            if i + 1 < cells.len() {
                writeln!(f, "{}", rule("├", "┼", "┤", "─"))?;
            }
        }
        writeln!(f, "{}", rule("└", "┴", "┘", "─"))?;
        writeln!(f, " Total params: {} ({})", thousands(self.total_params), readable_size(self.total_params))?;
        writeln!(f, " Trainable params: {} ({})", thousands(self.trainable_params), readable_size(self.trainable_params))?;
        write!(
            f,
            " Non-trainable params: {} ({})",
            thousands(self.non_trainable_params),
            readable_size(self.non_trainable_params)
        )
    }
}
