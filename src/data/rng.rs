//! Seeded shuffles that reproduce Python's, so a notebook splits a dataset exactly as the
//! book's Python code does: `np.random.RandomState(seed).shuffle` (what Keras's
//! `image_dataset_from_directory` uses to order files before `validation_split`) and
//! `random.Random(seed).shuffle` (the book's Oxford-pets split). Both run on MT19937.

/// The Mersenne Twister MT19937 (32-bit), as in CPython and NumPy's legacy `RandomState`.
pub struct Mt19937 {
    state: [u32; 624],
    index: usize,
}

impl Mt19937 {
    /// `init_genrand(seed)`: NumPy's `RandomState(seed)` for an integer seed.
    pub fn new(seed: u32) -> Mt19937 {
        let mut state = [0u32; 624];
        state[0] = seed;
        for i in 1..624 {
            state[i] = 1812433253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt19937 { state, index: 624 }
    }

    /// `init_by_array(key)`: CPython's `random.seed(n)` with `key` = the 32-bit words of |n|.
    pub(crate) fn from_key(key: &[u32]) -> Mt19937 {
        let mut mt = Mt19937::new(19650218);
        let s = &mut mt.state;
        let n = 624usize;
        let key_len = key.len().max(1);
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..n.max(key_len) {
            let prev = s[i - 1] ^ (s[i - 1] >> 30);
            let k = key.get(j).copied().unwrap_or(0);
            s[i] = (s[i] ^ prev.wrapping_mul(1664525))
                .wrapping_add(k)
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= n {
                s[0] = s[n - 1];
                i = 1;
            }
            if j >= key_len {
                j = 0;
            }
        }
        for _ in 0..n - 1 {
            let prev = s[i - 1] ^ (s[i - 1] >> 30);
            s[i] = (s[i] ^ prev.wrapping_mul(1566083941)).wrapping_sub(i as u32);
            i += 1;
            if i >= n {
                s[0] = s[n - 1];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    /// CPython's `random.Random(seed)` for a non-negative integer seed.
    pub(crate) fn python(seed: u64) -> Mt19937 {
        let (lo, hi) = (seed as u32, (seed >> 32) as u32);
        if hi == 0 {
            Mt19937::from_key(&[lo])
        } else {
            Mt19937::from_key(&[lo, hi])
        }
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        if self.index >= 624 {
            self.twist();
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    fn twist(&mut self) {
        const UPPER: u32 = 0x8000_0000;
        const LOWER: u32 = 0x7fff_ffff;
        for i in 0..624 {
            let y = (self.state[i] & UPPER) | (self.state[(i + 1) % 624] & LOWER);
            let mut next = self.state[(i + 397) % 624] ^ (y >> 1);
            if y & 1 != 0 {
                next ^= 0x9908_b0df;
            }
            self.state[i] = next;
        }
        self.index = 0;
    }

    /// NumPy's `random_interval(max)`: uniform in `0..=max` by masked rejection.
    fn numpy_interval(&mut self, max: u32) -> u32 {
        if max == 0 {
            return 0;
        }
        let mut mask = max;
        mask |= mask >> 1;
        mask |= mask >> 2;
        mask |= mask >> 4;
        mask |= mask >> 8;
        mask |= mask >> 16;
        loop {
            let v = self.next_u32() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// CPython's `_randbelow(n)` (n >= 1): `getrandbits(n.bit_length())` until below n.
    fn python_below(&mut self, n: u32) -> u32 {
        let k = 32 - n.leading_zeros();
        loop {
            let r = self.next_u32() >> (32 - k);
            if r < n {
                return r;
            }
        }
    }
}

/// `np.random.RandomState(seed).shuffle(items)`, in place. Seeds must fit 32 bits, as in NumPy.
pub(crate) fn numpy_shuffle<T>(items: &mut [T], seed: u32) {
    let mut mt = Mt19937::new(seed);
    for i in (1..items.len()).rev() {
        let j = mt.numpy_interval(i as u32) as usize;
        items.swap(i, j);
    }
}

/// `np.random.RandomState(seed).permutation(n)`.
pub fn numpy_permutation(n: usize, seed: u32) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    numpy_shuffle(&mut order, seed);
    order
}

/// `random.Random(seed).shuffle(items)`, in place.
pub fn python_shuffle<T>(items: &mut [T], seed: u64) {
    let mut mt = Mt19937::python(seed);
    for i in (1..items.len()).rev() {
        let j = mt.python_below(i as u32 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_streams() {
        // init_genrand(5489) is MT19937's reference stream.
        let mut mt = Mt19937::new(5489);
        assert_eq!(mt.next_u32(), 3499211612);
        // np.random.RandomState(42).permutation(10)
        assert_eq!(numpy_permutation(10, 42), vec![8, 1, 5, 0, 7, 2, 9, 4, 3, 6]);
        // random.Random(1337).shuffle(list(range(10)))
        let mut v: Vec<usize> = (0..10).collect();
        python_shuffle(&mut v, 1337);
        assert_eq!(v, vec![0, 3, 7, 2, 1, 6, 4, 5, 8, 9]);
    }
}
