//! Native command line over the same engine as the notebook:
//!   convbook summary MODEL
//!   convbook summary --application NAME [--no-top] [--input-shape H,W,C] [--pooling avg|max]
//!                    [--classes N] [--alpha A]   (keras.applications, random weights)
//!   convbook predict MODEL IN.npy OUT.npy [--batch-size N] [--cpu]
//!   convbook train-step MODEL X.npy Y.npy --loss LOSS [--optimizer sgd|adam|rmsprop]
//!                       [--lr RATE] --out OUT [--cpu]
//! MODEL is a TensorFlow.js layers-format model.json (weights in shards beside it), a
//! Keras 3 `.keras` archive or a legacy Keras `.h5`, told apart by their bytes.
//! train-step writes OUT as a `.keras` archive when its name ends in `.keras`, else as
//! a TF.js model.json (shards beside it).

use std::process::ExitCode;

use convbook::io::keras_file::ModelFormat;
use convbook::io::npy::{load_npy, save_npy};
use convbook::io::tfjs::TfjsModel;
use convbook::nn::Model;
use convbook::{bail, Device, Error, Result, Tensor};

const USAGE: &str = "usage:
  convbook summary MODEL
  convbook summary --application Xception|VGG16|VGG19|ResNet50|InceptionV3|MobileNetV2 [--no-top] [--input-shape H,W,C] [--pooling avg|max] [--classes N] [--alpha A]
  convbook predict MODEL IN.npy OUT.npy [--batch-size N] [--cpu]
  convbook train-step MODEL X.npy Y.npy --loss LOSS [--optimizer sgd|adam|rmsprop] [--lr RATE] --out OUT.json|OUT.keras [--cpu]
MODEL: a TF.js model.json, a .keras archive or a Keras .h5";

struct Args {
    positional: Vec<String>,
    options: Vec<(String, String)>,
    cpu: bool,
    no_top: bool,
}

fn parse(args: &[String]) -> Result<Args> {
    let mut out = Args { positional: vec![], options: vec![], cpu: false, no_top: false };
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--cpu" {
            out.cpu = true;
        } else if a == "--no-top" {
            out.no_top = true;
        } else if let Some(key) = a.strip_prefix("--") {
            let value = args.get(i + 1).ok_or_else(|| Error::new(format!("--{key} needs a value")))?;
            out.options.push((key.to_string(), value.clone()));
            i += 1;
        } else {
            out.positional.push(a.clone());
        }
        i += 1;
    }
    Ok(out)
}

impl Args {
    fn opt(&self, key: &str) -> Option<&str> {
        self.options.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn check_known(&self, known: &[&str]) -> Result<()> {
        for (k, _) in &self.options {
            if !known.contains(&k.as_str()) {
                bail!("unknown option --{k}");
            }
        }
        Ok(())
    }
}

fn device(cpu: bool) -> Result<Device> {
    if cpu {
        return Ok(Device::Cpu);
    }
    pollster::block_on(Device::gpu())
}

/// The model in `path`, and the TF.js file it came from when it was one (train-step
/// writes that file back with the same weight names).
fn load_model(path: &str) -> Result<(Option<TfjsModel>, Model)> {
    let bytes = convbook::io::keras_file::read_file(path)?;
    match ModelFormat::detect(&bytes) {
        Some(ModelFormat::TfjsJson) => {
            let file = TfjsModel::load(path)?;
            let model = Model::from_tfjs(&file).map_err(|e| e.context(path))?;
            Ok((Some(file), model))
        }
        Some(_) => Ok((None, Model::from_keras_bytes(&bytes, path)?)),
        None => Err(ModelFormat::unknown(path, &bytes)),
    }
}

fn load_array(path: &str) -> Result<Tensor> {
    let a = load_npy(path)?;
    Tensor::from_data(&Device::Cpu, a.data, &a.shape).map_err(|e| e.context(path))
}

fn run(argv: &[String]) -> Result<()> {
    let Some(command) = argv.first() else { bail!("{USAGE}") };
    let args = parse(&argv[1..])?;
    let p = &args.positional;
    match (command.as_str(), p.len()) {
        ("summary", 0) if args.opt("application").is_some() => {
            args.check_known(&["application", "input-shape", "pooling", "classes", "alpha"])?;
            println!("{}", application(&args)?.summary());
        }
        ("summary", 1) => {
            args.check_known(&[])?;
            let (_, model) = load_model(&p[0])?;
            println!("{}", model.summary());
        }
        ("predict", 3) => {
            args.check_known(&["batch-size"])?;
            let (_, model) = load_model(&p[0])?;
            // Keras converts float64 (NumPy's default) and integer inputs to the model's float32.
            let x = load_array(&p[1])?.cast(convbook::DType::F32).map_err(|e| e.context(&p[1]))?;
            let batch: usize = args.opt("batch-size").unwrap_or("32").parse().map_err(|_| Error::new("--batch-size must be a number"))?;
            let device = device(args.cpu)?;
            model.to_device(&device)?;
            let y = pollster::block_on(model.predict(&device, &x, batch))?;
            save_npy(&p[2], y.cpu_data()?, y.shape())?;
            eprintln!("wrote {} of shape {:?}", p[2], y.shape());
        }
        ("train-step", 3) => {
            args.check_known(&["loss", "optimizer", "lr", "out"])?;
            train_step(&args)?;
        }
        ("help" | "--help" | "-h", _) => println!("{USAGE}"),
        _ => bail!("{USAGE}"),
    }
    Ok(())
}

/// A keras.applications model from the command line's options, as Keras builds it with
/// `weights=None`.
fn application(args: &Args) -> Result<Model> {
    use convbook::nn::applications::{self, AppArgs, Pooling};
    let name = args.opt("application").unwrap_or_default();
    let mut a = AppArgs { include_top: !args.no_top, ..AppArgs::default() };
    if let Some(shape) = args.opt("input-shape") {
        let dims: std::result::Result<Vec<usize>, _> = shape.split(',').map(|d| d.trim().parse::<usize>()).collect();
        a.input_shape = Some(dims.map_err(|_| Error::new(format!("--input-shape: expected H,W,C such as 224,224,3; got '{shape}'")))?);
    }
    a.pooling = match args.opt("pooling") {
        None => None,
        Some("avg") => Some(Pooling::Avg),
        Some("max") => Some(Pooling::Max),
        Some(other) => bail!("--pooling must be avg or max, got '{other}'"),
    };
    if let Some(classes) = args.opt("classes") {
        a.classes = classes.parse().map_err(|_| Error::new(format!("--classes: '{classes}' is not a count")))?;
    }
    if let Some(alpha) = args.opt("alpha") {
        a.alpha = alpha.parse().map_err(|_| Error::new(format!("--alpha: '{alpha}' is not a number")))?;
    }
    applications::build(name, &a)
}

/// One optimizer step on (X, Y), then the same file written with the updated weights.
fn train_step(args: &Args) -> Result<()> {
    use convbook::nn::losses::Loss;
    use convbook::nn::optimizers::Optimizer;
    let p = &args.positional;
    let (file, model) = load_model(&p[0])?;
    let (x, y) = (load_array(&p[1])?, load_array(&p[2])?);
    let loss = Loss::parse(args.opt("loss").ok_or_else(|| Error::new("train-step needs --loss"))?, false)?;
    let mut optimizer = Optimizer::from_name(args.opt("optimizer").unwrap_or("sgd"))?;
    if let Some(lr) = args.opt("lr") {
        let lr: f64 = lr.parse().map_err(|_| Error::new(format!("--lr: '{lr}' is not a number")))?;
        optimizer.config.set_learning_rate(lr);
    }
    let out = args.opt("out").ok_or_else(|| Error::new("train-step needs --out OUT.json or --out OUT.keras"))?;
    model.compile(optimizer, loss, &[])?;
    let device = device(args.cpu)?;
    model.to_device(&device)?;
    let xb = Tensor::from_data(&device, x.cpu_data()?.clone(), x.shape())?.cast(convbook::DType::F32)?;
    let yb = Tensor::from_data(&device, y.cpu_data()?.clone(), y.shape())?;
    let logs = pollster::block_on(model.train_step(&[xb], &[yb]))?;
    let loss_value = logs[0].1;
    if out.ends_with(".keras") {
        let bytes = pollster::block_on(model.to_keras())?;
        std::fs::write(out, bytes).map_err(|e| Error::new(format!("{out}: {e}")))?;
        eprintln!("loss before the step: {loss_value:.6}; wrote {out}");
        return Ok(());
    }
    // A TF.js file keeps its own weight names and metadata; another becomes a new one.
    let file = match file {
        Some(mut file) => {
            let names: Vec<String> = file.weights.iter().map(|w| w.name.clone()).collect();
            let trained = model.weights_for_names(&names.iter().map(String::as_str).collect::<Vec<_>>())?;
            for (w, named) in trained.iter().zip(file.weights.iter_mut()) {
                named.data = pollster::block_on(w.value().to_data())?;
            }
            file
        }
        None => pollster::block_on(model.to_tfjs())?,
    };
    let out_dir = std::path::Path::new(out).parent().unwrap_or(std::path::Path::new("."));
    file.save(out_dir)?;
    eprintln!("loss before the step: {loss_value:.6}; wrote {}", out_dir.join("model.json").display());
    Ok(())
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("convbook: {e}");
            ExitCode::FAILURE
        }
    }
}
