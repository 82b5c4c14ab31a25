//! Loading a weights file costs about the model's own size, not two or three times it:
//! the heap's high-water mark while the MobileNetV2 (alpha 0.35) weights load, counted
//! by a global allocator. Read by ranges (`load_weights_reader`, the browser's path for a
//! cached or picked file) the file is never in memory; from bytes it is, once. Either
//! way each dataset is read straight into its weight's buffer, one weight at a time.
//! A read that fails halfway leaves every weight as it was.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use convbook::nn::applications::{self, AppArgs};
use convbook::nn::Model;
use convbook::CpuData;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keras_files/mobilenetv2_legacy.weights.h5");

/// Bytes the loader may hold besides the weights: the bytes of the dataset being read as
/// stored (this file's largest, Conv_1's 1x1 kernel, is one row of 573 KB), the HDF5
/// reader's metadata cache (256 KiB) and parsed headers, the plan of which dataset goes
/// to which weight (260 of them). Reading the file whole (2 MB), or all weights before
/// assigning any (1.6 MB), passes it.
const SLACK: usize = 3 << 19;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let q = unsafe { System.realloc(p, layout, new_size) };
        if !q.is_null() {
            // Both blocks exist during a moving realloc: count the new one first.
            grow(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        q
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests of this file measure one heap: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Heap bytes `f` held at its peak beyond what was live when it started.
fn peak_of(f: impl FnOnce()) -> usize {
    let start = LIVE.load(Ordering::SeqCst);
    PEAK.store(start, Ordering::SeqCst);
    f();
    PEAK.load(Ordering::SeqCst) - start
}

fn architecture() -> Model {
    let args = AppArgs { include_top: false, alpha: 0.35, input_shape: Some(vec![32, 32, 3]), ..AppArgs::default() };
    applications::build("MobileNetV2", &args).unwrap()
}

fn values(model: &Model) -> Vec<Vec<f32>> {
    model
        .weights()
        .iter()
        .map(|w| match w.value().cpu_data().unwrap() {
            CpuData::F32(v) => v.clone(),
            other => panic!("{}: {:?}", w.path, other.dtype()),
        })
        .collect()
}

#[test]
fn loading_holds_the_weights_once() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let bytes = std::fs::read(FILE).unwrap();
    let model_bytes = architecture().count_params() * 4;

    let by_range = architecture();
    let file = std::fs::File::open(FILE).unwrap();
    let peak = peak_of(|| by_range.load_weights_reader(file, "mobilenetv2_legacy.weights.h5").unwrap());
    let bound = model_bytes * 13 / 10 + SLACK;
    assert!(peak <= bound, "read by ranges: peak {peak} bytes, bound {bound} (weights {model_bytes} bytes)");

    // From bytes the loader owns one copy of the file, and nothing more.
    let from_bytes = architecture();
    let peak = peak_of(|| from_bytes.load_weights_bytes(&bytes, "mobilenetv2_legacy.weights.h5").unwrap());
    let bound = bytes.len() + model_bytes * 13 / 10 + SLACK;
    assert!(peak <= bound, "from bytes: peak {peak} bytes, bound {bound} (file {}, weights {model_bytes} bytes)", bytes.len());

    assert!(values(&by_range) == values(&from_bytes), "the two paths load different values");
}

/// A file whose reads fail once `budget` bytes have been read (a Blob evicted from the
/// cache mid-load). The metadata is read before any weight, and is far smaller than half
/// the file: a budget of half the file fails halfway through the weights.
struct FailingReader {
    file: std::fs::File,
    budget: usize,
}

impl Read for FailingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.len() > self.budget {
            return Err(std::io::Error::other("the disk went away"));
        }
        let n = self.file.read(buf)?;
        self.budget -= n;
        Ok(n)
    }
}

impl Seek for FailingReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.file.seek(to)
    }
}

#[test]
fn a_read_that_fails_halfway_changes_no_weight() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let model = architecture();
    model.load_weights_bytes(&std::fs::read(FILE).unwrap(), "mobilenetv2_legacy.weights.h5").unwrap();
    let before = values(&model);
    let budget = std::fs::metadata(FILE).unwrap().len() as usize / 2;
    let reader = FailingReader { file: std::fs::File::open(FILE).unwrap(), budget };
    let e = model.load_weights_reader(reader, "cut.h5").unwrap_err().to_string();
    assert!(e.contains("cut.h5") && e.contains("the disk went away"), "{e}");
    assert!(values(&model) == before, "a failed load changed weights");
}

