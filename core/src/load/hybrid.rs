//! parquet's RLE / bit-packing hybrid encoding, in which data pages store
//! dictionary indices and definition levels: runs of one repeated value,
//! and runs of values packed `width` bits each, eight at a time.

use super::column::Corrupt;

/// Values are unpacked a group of eight at a time, the unit of packed runs.
const GROUP: usize = 8;

pub(super) struct Hybrid<'a> {
    /// What follows the current run.
    data: &'a [u8],
    width: usize,
    run: Run<'a>,
}

enum Run<'a> {
    Repeat {
        value: u32,
        left: usize,
    },
    /// `left` values of a packed run, the next being value `next` of `bytes`.
    Packed {
        bytes: &'a [u8],
        next: usize,
        left: usize,
    },
}

impl<'a> Hybrid<'a> {
    pub(super) fn new(data: &'a [u8], width: usize) -> Result<Hybrid<'a>, Corrupt> {
        if width > 32 {
            return Err(Corrupt::new(format!("a bit width of {width}")));
        }
        Ok(Hybrid {
            data,
            width,
            run: Run::Repeat { value: 0, left: 0 },
        })
    }

    /// Fills `out` from the front; fewer values than its length only at the
    /// end of the data.
    pub(super) fn fill(&mut self, out: &mut [u32]) -> Result<usize, Corrupt> {
        let mut filled = 0;
        while filled < out.len() {
            let wanted = out.len() - filled;
            match &mut self.run {
                Run::Repeat { left: 0, .. } | Run::Packed { left: 0, .. } => {
                    if self.data.is_empty() {
                        break;
                    }
                    self.run = self.next_run()?;
                }
                Run::Repeat { value, left } => {
                    let n = wanted.min(*left);
                    out[filled..filled + n].fill(*value);
                    *left -= n;
                    filled += n;
                }
                Run::Packed { bytes, next, left } => {
                    let n = wanted.min(*left);
                    unpack(bytes, self.width, *next, &mut out[filled..filled + n]);
                    *next += n;
                    *left -= n;
                    filled += n;
                }
            }
        }
        Ok(filled)
    }

    fn next_run(&mut self) -> Result<Run<'a>, Corrupt> {
        let header = self.varint()?;
        if header & 1 == 1 {
            let groups = usize::try_from(header >> 1).map_err(|_| Corrupt::new("a packed run"))?;
            let length = groups.saturating_mul(self.width).min(self.data.len());
            let (bytes, rest) = self.data.split_at(length);
            self.data = rest;
            // A writer may end the last run early: only whole values count.
            let mut left = groups.saturating_mul(GROUP);
            if let Some(whole) = (bytes.len() * 8).checked_div(self.width) {
                left = left.min(whole);
            }
            Ok(Run::Packed {
                bytes,
                next: 0,
                left,
            })
        } else {
            let left = usize::try_from(header >> 1).map_err(|_| Corrupt::new("a repeated run"))?;
            let size = self.width.div_ceil(8);
            let (bytes, rest) = self
                .data
                .split_at_checked(size)
                .ok_or_else(|| Corrupt::new("a repeated run past the end of its page"))?;
            self.data = rest;
            let mut value = [0_u8; 4];
            value[..size].copy_from_slice(bytes);
            Ok(Run::Repeat {
                value: u32::from_le_bytes(value),
                left,
            })
        }
    }

    /// A ULEB128 run header.
    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut value = 0_u64;
        for (i, &byte) in self.data.iter().enumerate().take(10) {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.data = &self.data[i + 1..];
                return Ok(value);
            }
        }
        Err(Corrupt::new("a run header"))
    }
}

/// Values `first..first + out.len()` of the `width`-bit values packed in `bytes`.
fn unpack(bytes: &[u8], width: usize, first: usize, out: &mut [u32]) {
    // Whole aligned groups go straight into `out`; a partial group at either
    // end goes through a group-sized buffer.
    let mut done = 0;
    while done < out.len() {
        let at = first + done;
        let group = at / GROUP;
        let skip = at % GROUP;
        let whole = if skip == 0 {
            (out.len() - done) / GROUP
        } else {
            0
        };
        if whole > 0 {
            let end = done + whole * GROUP;
            unpack_groups(bytes, width, group, &mut out[done..end]);
            done = end;
        } else {
            let mut values = [0_u32; GROUP];
            unpack_groups(bytes, width, group, &mut values);
            let n = (GROUP - skip).min(out.len() - done);
            out[done..done + n].copy_from_slice(&values[skip..skip + n]);
            done += n;
        }
    }
}

/// Unpacks whole groups, from group `group` on, into `out` (a multiple of
/// eight long), with the width known at compile time so that every shift
/// and mask is a constant.
fn unpack_groups(bytes: &[u8], width: usize, group: usize, out: &mut [u32]) {
    macro_rules! widths {
        ($($w:literal)*) => {
            match width {
                $($w => groups::<$w>(bytes, group, out),)*
                _ => out.fill(0),
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32);
}

fn groups<const W: usize>(bytes: &[u8], group: usize, out: &mut [u32]) {
    let mask = u64::MAX >> (64 - W);
    for (g, values) in out.chunks_exact_mut(GROUP).enumerate() {
        let window = window(bytes, (group + g) * W);
        for (k, value) in values.iter_mut().enumerate() {
            let bit = k * W;
            let at = bit / 8;
            let word = u64::from_le_bytes(window[at..at + 8].try_into().unwrap_or([0; 8]));
            *value = ((word >> (bit % 8)) & mask) as u32;
        }
    }
}

/// A group's bytes and what follows, enough to read eight bytes at the
/// byte of any of its values (zeros past the end), as a fixed-size array so
/// that reads at constant offsets need no bounds checks.
#[inline(always)]
fn window(bytes: &[u8], at: usize) -> [u8; WINDOW] {
    if let Some(window) = bytes.get(at..at + WINDOW) {
        return window.try_into().unwrap_or([0; WINDOW]);
    }
    let mut padded = [0_u8; WINDOW];
    let tail = bytes.get(at..).unwrap_or(&[]);
    let n = tail.len().min(WINDOW);
    padded[..n].copy_from_slice(&tail[..n]);
    padded
}

/// The largest group (32 bytes at 32 bits) and an eight-byte read past it.
const WINDOW: usize = 40;

#[cfg(test)]
mod tests {
    use super::*;

    /// Packs `values` LSB first, `width` bits each, as parquet does.
    fn pack(values: &[u32], width: usize) -> Vec<u8> {
        let mut bytes = vec![0_u8; (values.len() * width).div_ceil(8)];
        for (i, &v) in values.iter().enumerate() {
            for b in 0..width {
                if v >> b & 1 == 1 {
                    let bit = i * width + b;
                    bytes[bit / 8] |= 1 << (bit % 8);
                }
            }
        }
        bytes
    }

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    /// A repeated run, a packed run of `packed` and another repeated run.
    fn encoded(width: usize, packed: &[u32]) -> (Vec<u8>, Vec<u32>) {
        let size = width.div_ceil(8);
        let repeated = (1_u32 << width.min(31)) - 1;
        let mut data = Vec::new();
        varint(5 << 1, &mut data);
        data.extend_from_slice(&repeated.to_le_bytes()[..size]);
        varint(((packed.len() / 8) << 1 | 1) as u64, &mut data);
        data.extend(pack(packed, width));
        varint(300 << 1, &mut data);
        data.extend_from_slice(&1_u32.to_le_bytes()[..size]);
        let mut expected = vec![repeated; 5];
        expected.extend_from_slice(packed);
        expected.extend(std::iter::repeat_n(1, 300));
        (data, expected)
    }

    #[test]
    fn every_width_decodes_in_any_block_size() {
        for width in 1..=32 {
            let mask = if width == 32 {
                u32::MAX
            } else {
                (1 << width) - 1
            };
            let packed: Vec<u32> = (0..1000_u32)
                .map(|i| i.wrapping_mul(2_654_435_761) & mask)
                .collect();
            let (data, expected) = encoded(width, &packed);
            for block in [1, 7, 8, 13, 1024] {
                let mut decoder = Hybrid::new(&data, width).expect("width");
                let mut got = Vec::new();
                let mut out = vec![0; block];
                loop {
                    let n = decoder.fill(&mut out).expect("decode");
                    got.extend_from_slice(&out[..n]);
                    if n < block {
                        break;
                    }
                }
                assert_eq!(got, expected, "width {width}, block {block}");
            }
        }
    }

    #[test]
    fn width_zero_is_a_single_value_and_damage_is_an_error() {
        let mut data = Vec::new();
        varint(2 << 1 | 1, &mut data);
        let mut out = [9; 20];
        let n = Hybrid::new(&data, 0).expect("width").fill(&mut out);
        assert_eq!(n.expect("decode"), 16);
        assert_eq!(out[..16], [0; 16]);
        assert!(Hybrid::new(&data, 33).is_err());
        // A repeated run whose value is cut off.
        let cut = [4_u8 << 1, 0x01];
        assert!(
            Hybrid::new(&cut, 16)
                .expect("width")
                .fill(&mut out)
                .is_err()
        );
        // A header that never ends.
        let endless = [0xff_u8; 12];
        assert!(
            Hybrid::new(&endless, 8)
                .expect("width")
                .fill(&mut out)
                .is_err()
        );
    }
}
