//! What the numbers were measured on: the GPU adapter and the CPU.

use convbook::gpu::AdapterSummary;
use convbook::Device;
use serde_json::{json, Value};

use crate::util::Result;

pub struct Machine {
    pub adapter: AdapterSummary,
    pub device: String,
    pub cpu_model: String,
    pub cpu_threads: usize,
}

impl Machine {
    pub fn of(gpu: &Device) -> Result<Machine> {
        let adapter = match gpu {
            Device::Gpu(ctx) => ctx.summary().clone(),
            Device::Cpu => return Err("Device::gpu returned the CPU".into()),
        };
        Ok(Machine {
            adapter,
            device: gpu.describe(),
            cpu_model: cpu_model(),
            cpu_threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        })
    }

    /// On stdout with the tables, so a saved table names its machine.
    pub fn print(&self) {
        let a = &self.adapter;
        println!("  GPU: {} ({}, {}, driver {})", a.name, a.backend, a.device_type, a.driver);
        println!("  CPU: {} ({} hardware threads; the reference kernels use one)", self.cpu_model, self.cpu_threads);
        if a.device_type == "Cpu" {
            println!("  this adapter is a software rasterizer on the CPU: its numbers say nothing about a real GPU");
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "adapter": self.adapter,
            "device": self.device,
            "cpu_model": self.cpu_model,
            "cpu_threads": self.cpu_threads,
        })
    }
}

fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |key: &str| {
        info.lines().filter_map(|l| l.split_once(':')).find(|(k, _)| k.trim() == key).map(|(_, v)| v.trim().to_string())
    };
    // x86 names the CPU "model name"; some ARM kernels only give "Hardware" or "Model".
    field("model name")
        .or_else(|| field("Hardware"))
        .or_else(|| field("Model"))
        .or_else(|| crate::util::output("sysctl", &["-n", "machdep.cpu.brand_string"]))
        .unwrap_or_else(|| format!("unknown {} CPU", std::env::consts::ARCH))
}
