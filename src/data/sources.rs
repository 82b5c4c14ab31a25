//! Where the datasets' official files live: file paths relative to a base URL, with the
//! default base URLs as constants that the caller may replace (a mirror, a local copy).
//! The engine downloads nothing: the JavaScript side fetches these URLs and hands the
//! bytes (or a `Blob`) to the loaders.

use crate::error::Result;
use crate::{bail, ensure};

/// One file of a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RemoteFile {
    /// What the loader calls it ("trainImages").
    pub key: &'static str,
    /// Path relative to the base URL.
    pub path: &'static str,
    /// Size in bytes of the official file, where known: for progress bars and checks.
    pub bytes: Option<u64>,
}

/// A dataset's files under one base URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DatasetSource {
    /// The dataset's name ("mnist").
    pub name: &'static str,
    /// None where the files cannot be fetched without an account (Kaggle).
    pub default_base_url: Option<&'static str>,
    /// Its files, relative to the base URL.
    pub files: &'static [RemoteFile],
    /// Licence or terms, and where the files come from.
    pub note: &'static str,
}

/// MNIST's IDX files, as mirrored for TensorFlow's tutorials.
pub const MNIST_BASE_URL: &str = "https://storage.googleapis.com/cvdf-datasets/mnist/";
/// Fashion-MNIST's IDX files, where `keras.datasets.fashion_mnist` gets them.
pub(crate) const FASHION_MNIST_BASE_URL: &str = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/";
/// The Oxford-IIIT Pet dataset (Visual Geometry Group, University of Oxford).
pub(crate) const OXFORD_PETS_BASE_URL: &str = "https://www.robots.ox.ac.uk/~vgg/data/pets/data/";

const fn file(key: &'static str, path: &'static str, bytes: Option<u64>) -> RemoteFile {
    RemoteFile { key, path, bytes }
}

/// MNIST handwritten digits.
pub const MNIST: DatasetSource = DatasetSource {
    name: "mnist",
    default_base_url: Some(MNIST_BASE_URL),
    files: &[
        file("trainImages", "train-images-idx3-ubyte.gz", Some(9_912_422)),
        file("trainLabels", "train-labels-idx1-ubyte.gz", Some(28_881)),
        file("testImages", "t10k-images-idx3-ubyte.gz", Some(1_648_877)),
        file("testLabels", "t10k-labels-idx1-ubyte.gz", Some(4_542)),
    ],
    note: "MNIST (Y. LeCun, C. Cortes, C. J. C. Burges); gzip IDX files",
};

/// Fashion-MNIST clothing images.
pub const FASHION_MNIST: DatasetSource = DatasetSource {
    name: "fashion_mnist",
    default_base_url: Some(FASHION_MNIST_BASE_URL),
    files: &[
        file("trainImages", "train-images-idx3-ubyte.gz", Some(26_421_880)),
        file("trainLabels", "train-labels-idx1-ubyte.gz", Some(29_515)),
        file("testImages", "t10k-images-idx3-ubyte.gz", Some(4_422_102)),
        file("testLabels", "t10k-labels-idx1-ubyte.gz", Some(5_148)),
    ],
    note: "Fashion-MNIST (Zalando Research, MIT licence); gzip IDX files",
};

/// Oxford-IIIT pets: photos and segmentation trimaps.
pub const OXFORD_PETS: DatasetSource = DatasetSource {
    name: "oxford_pets",
    default_base_url: Some(OXFORD_PETS_BASE_URL),
    files: &[
        file("images", "images.tar.gz", None),
        file("annotations", "annotations.tar.gz", None),
    ],
    note: "The Oxford-IIIT Pet Dataset (O. M. Parkhi et al.), CC BY-SA 4.0; about 750 MB + 19 MB",
};

/// Kaggle's dogs vs cats photos.
pub const DOGS_VS_CATS: DatasetSource = DatasetSource {
    name: "dogs_vs_cats",
    default_base_url: None,
    files: &[file("train", "train.zip", None)],
    note: "Kaggle competition \"dogs-vs-cats\": download train.zip (about 550 MB) with a Kaggle account, then pick it",
};

/// Every dataset described here.
pub const ALL: [&DatasetSource; 4] = [&MNIST, &FASHION_MNIST, &OXFORD_PETS, &DOGS_VS_CATS];

/// A dataset by name ("mnist", "fashion_mnist", "oxford_pets", "dogs_vs_cats").
pub fn source(name: &str) -> Result<&'static DatasetSource> {
    match ALL.iter().find(|s| s.name == name) {
        Some(s) => Ok(s),
        None => bail!(
            "unknown dataset \"{name}\": known are {}",
            ALL.map(|s| s.name).join(", ")
        ),
    }
}

/// `base` and `path` joined with exactly one '/'.
pub fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

/// A file with its full URL.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ResolvedFile {
    /// The file's role ("trainImages").
    pub key: &'static str,
    /// Path relative to the base URL.
    pub path: &'static str,
    /// The full URL.
    pub url: String,
    /// Expected size in bytes, where known.
    pub bytes: Option<u64>,
}

impl DatasetSource {
    /// The files' URLs under `base` (or the default base URL).
    pub fn urls(&self, base: Option<&str>) -> Result<Vec<ResolvedFile>> {
        let Some(base) = base.or(self.default_base_url) else {
            bail!("{}: no public URL ({}); give a base URL", self.name, self.note);
        };
        ensure!(!base.trim().is_empty(), "{}: the base URL is empty", self.name);
        Ok(self
            .files
            .iter()
            .map(|f| ResolvedFile {
                key: f.key,
                path: f.path,
                url: join_url(base, f.path),
                bytes: f.bytes,
            })
            .collect())
    }
}
