//! Seeded byte mutation, for fuzz tests on the stable toolchain (where
//! cargo-fuzz cannot run): valid files are damaged the ways disks, copies
//! and hostile writers damage them, and every case can be replayed from
//! the seed it started from.

use std::fmt;

/// A splitmix64 stream: the same seed makes the same cases on every machine.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

/// What one mutation did, to name a failing case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutation {
    /// Single bits flipped at scattered places.
    Flip { bits: usize },
    /// The file cut short at `at` bytes.
    Truncate { at: usize },
    /// Bytes of another file pasted over a stretch at `at`.
    Splice { at: usize, len: usize },
    /// A stretch at `at` overwritten with one byte value.
    Fill { at: usize, len: usize, value: u8 },
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Flip { bits } => write!(f, "{bits} bits flipped"),
            Mutation::Truncate { at } => write!(f, "cut at byte {at}"),
            Mutation::Splice { at, len } => write!(f, "{len} bytes spliced in at {at}"),
            Mutation::Fill { at, len, value } => {
                write!(f, "{len} bytes at {at} set to {value:#04x}")
            }
        }
    }
}

/// Values that parsers treat specially: zero, all ones, a digit, a separator.
const FILLS: [u8; 4] = [0x00, 0xff, b'9', b','];

impl Mutator {
    pub fn new(seed: u64) -> Mutator {
        Mutator { state: seed }
    }

    /// Where the stream is now: a mutator made from it replays what follows.
    pub fn seed(&self) -> u64 {
        self.state
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// `bytes` damaged one way, with pieces of `other` for a splice.
    pub fn mutate(&mut self, bytes: &[u8], other: &[u8]) -> (Vec<u8>, Mutation) {
        let mut out = bytes.to_vec();
        let mutation = match self.below(4) {
            0 => {
                let bits = 1 + self.below(8);
                for _ in 0..bits {
                    let at = self.below(out.len());
                    if let Some(byte) = out.get_mut(at) {
                        *byte ^= 1 << self.below(8);
                    }
                }
                Mutation::Flip { bits }
            }
            1 => {
                let at = self.below(out.len());
                out.truncate(at);
                Mutation::Truncate { at }
            }
            2 => {
                let at = self.below(out.len());
                let from = self.below(other.len());
                let len = self.below(4096).min(other.len() - from.min(other.len()));
                let end = (at + len).min(out.len());
                out.splice(at..end, other[from..from + len].iter().copied());
                Mutation::Splice { at, len }
            }
            _ => {
                let at = self.below(out.len());
                let len = self.below(64).min(out.len() - at.min(out.len()));
                let value = FILLS[self.below(FILLS.len())];
                out[at..at + len].fill(value);
                Mutation::Fill { at, len, value }
            }
        };
        (out, mutation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_replays_its_cases_and_every_kind_of_damage_happens() {
        let bytes: Vec<u8> = (0..=255).collect();
        let mut first = Mutator::new(7);
        let mut kinds = [false; 4];
        for _ in 0..200 {
            let mut replay = Mutator::new(first.seed());
            let (damaged, mutation) = first.mutate(&bytes, b"other file");
            assert_eq!(
                replay.mutate(&bytes, b"other file"),
                (damaged.clone(), mutation)
            );
            let kind = match mutation {
                Mutation::Flip { .. } => 0,
                Mutation::Truncate { at } => {
                    assert_eq!(damaged.len(), at);
                    1
                }
                Mutation::Splice { .. } => 2,
                Mutation::Fill { .. } => 3,
            };
            kinds[kind] = true;
        }
        assert_eq!(kinds, [true; 4]);
        // Empty inputs are damaged without a panic.
        let _ = Mutator::new(1).mutate(&[], &[]);
    }
}
