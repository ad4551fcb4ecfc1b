//! Whether every count that a footer or a page header declares in its
//! Thrift encoding fits in the bytes there are.
//!
//! The parquet crate (59.x, which DataFusion 55 brings) trusts two such
//! counts:
//! - It reserves room for the footer's list of row groups by the count the
//!   list declares, before reading a single entry: a footer of a few hundred
//!   bytes declaring 2^31 row groups asks for 200 GB, and the failed
//!   allocation aborts the process. (parquet 60 bounds that count.)
//! - It skips the fields of a page header it does not know, and skips a
//!   boolean in a list as if it took no byte: a header declaring a list of
//!   2^31 booleans spins for 10 seconds or more without reading anything.
//!
//! This walk checks the bound from outside: it only skips over the encoding
//! (Thrift's compact protocol), checking that no list, set, map or string
//! claims more entries or bytes than remain, and never allocates; the crate
//! still decodes the footer and the headers.

use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::reader::{ChunkReader, Length};

use super::Problem;
use super::source::Source;

/// Nesting deeper than any parquet footer's (its deepest is about 6).
const MAX_DEPTH: usize = 32;

/// Longest page header checked: a page of numbers has one of well under a
/// KiB (its statistics are a few numbers).
pub(super) const PAGE_HEADER_WINDOW: usize = 64 * 1024;

/// Checks the footer of `source`. A file without a plain parquet footer is
/// left to the parquet crate to refuse.
pub(super) fn check_footer(source: &Source) -> Result<(), Problem> {
    let unreadable = |e: ParquetError| Problem::Unreadable(e.to_string());
    let Some(tail_at) = source.len().checked_sub(8) else {
        return Ok(());
    };
    let tail = source.get_bytes(tail_at, 8).map_err(unreadable)?;
    let Ok([a, b, c, d, magic @ ..]) = <[u8; 8]>::try_from(&tail[..]) else {
        return Ok(());
    };
    let footer_length = u64::from(u32::from_le_bytes([a, b, c, d]));
    let Some(footer_at) = tail_at.checked_sub(footer_length) else {
        return Ok(());
    };
    if magic != *b"PAR1" {
        return Ok(());
    }
    // At most the file's own bytes: the length was checked against it.
    let footer = source
        .get_bytes(footer_at, footer_length as usize)
        .map_err(unreadable)?;
    check(&footer)
}

/// Where the footer of a file of `length` bytes starts, from its last 8
/// bytes (`tail`); None if they are not a parquet file's.
pub(super) fn footer_start(tail: &[u8], length: u64) -> Option<u64> {
    let [a, b, c, d, magic @ ..] = *tail.last_chunk::<8>()?;
    let footer_length = u64::from(u32::from_le_bytes([a, b, c, d]));
    (magic == *b"PAR1").then(|| length.checked_sub(8)?.checked_sub(footer_length))?
}

/// Checks `footer` (the Thrift-encoded file metadata); a footer that is not
/// valid Thrift at all is left to the parquet crate to refuse.
fn check(footer: &[u8]) -> Result<(), Problem> {
    let mut walk = Walk { bytes: footer };
    match walk.skip(STRUCT, 0) {
        Err(Stop::TooMany(what)) => Err(Problem::FalseClaim(format!(
            "its metadata declares {what}, more than its {} bytes can hold",
            footer.len()
        ))),
        Ok(()) | Err(Stop::Malformed | Stop::Short) => Ok(()),
    }
}

/// Checks the page header at the start of `window`, the next bytes of the
/// file (at most [`PAGE_HEADER_WINDOW`]; `to_the_end` when they are all the
/// file has left). The error says what is wrong; a header that is not valid
/// Thrift is left to the parquet crate to refuse.
///
/// Returns the header's length if the crate reads a page's data after it
/// (a data or a dictionary page): the crate skips the data of other pages,
/// such as index pages, and reads a header there instead.
pub(super) fn check_page_header(window: &[u8], to_the_end: bool) -> Result<Option<usize>, String> {
    let mut walk = Walk { bytes: window };
    match walk.skip(STRUCT, 0) {
        Ok(()) => Ok(has_data(window).then(|| window.len() - walk.bytes.len())),
        Err(Stop::TooMany(what)) => Err(format!(
            "a page header declares {what}, more than the file holds there"
        )),
        Err(Stop::Short) if !to_the_end => Err(format!(
            "a page header is longer than {} KiB",
            PAGE_HEADER_WINDOW / 1024
        )),
        Err(Stop::Malformed | Stop::Short) => Ok(None),
    }
}

/// Whether the header at the start of `header` is of a data page (v1 or v2)
/// or a dictionary page: its first field, `1: i32 type`, is 0, 2 or 3.
fn has_data(header: &[u8]) -> bool {
    let mut walk = Walk { bytes: header };
    let first = walk.byte();
    let zigzag = walk.varint();
    matches!((first, zigzag), (Ok(0x15), Ok(0 | 4 | 6)))
}

enum Stop {
    /// A count beyond the bytes left, described.
    TooMany(String),
    /// The bytes ended inside a value.
    Short,
    /// Not valid compact Thrift: for the parquet crate to report.
    Malformed,
}

// Compact protocol type codes.
const TRUE: u8 = 1;
const FALSE: u8 = 2;
const BYTE: u8 = 3;
const I16: u8 = 4;
const I32: u8 = 5;
const I64: u8 = 6;
const DOUBLE: u8 = 7;
const BINARY: u8 = 8;
const LIST: u8 = 9;
const SET: u8 = 10;
const MAP: u8 = 11;
const STRUCT: u8 = 12;

struct Walk<'a> {
    bytes: &'a [u8],
}

impl Walk<'_> {
    fn byte(&mut self) -> Result<u8, Stop> {
        let (&first, rest) = self.bytes.split_first().ok_or(Stop::Short)?;
        self.bytes = rest;
        Ok(first)
    }

    fn varint(&mut self) -> Result<u64, Stop> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Stop::Malformed)
    }

    fn advance(&mut self, n: u64) -> Result<(), Stop> {
        let n = usize::try_from(n).map_err(|_| Stop::Short)?;
        self.bytes = self.bytes.get(n..).ok_or(Stop::Short)?;
        Ok(())
    }

    /// Fails if `count` entries of at least `each` bytes cannot fit in what is left.
    fn fits(&self, count: u64, each: u64, what: &str) -> Result<(), Stop> {
        if count.saturating_mul(each) > self.bytes.len() as u64 {
            return Err(Stop::TooMany(format!("{count} {what}")));
        }
        Ok(())
    }

    /// Skips one value of compact type `kind`, nested `depth` deep.
    fn skip(&mut self, kind: u8, depth: usize) -> Result<(), Stop> {
        if depth > MAX_DEPTH {
            return Err(Stop::Malformed);
        }
        match kind {
            // As a field, a boolean is all in its header; in a list, a byte.
            TRUE | FALSE | BYTE => self.advance(u64::from(kind == BYTE)),
            I16 | I32 | I64 => self.varint().map(drop),
            DOUBLE => self.advance(8),
            BINARY => {
                let length = self.varint()?;
                self.fits(length, 1, "bytes in a string")?;
                self.advance(length)
            }
            LIST | SET => {
                let header = self.byte()?;
                let (short, element) = (header >> 4, header & 0x0f);
                let count = match short {
                    15 => self.varint()?,
                    short => u64::from(short),
                };
                self.fits(count, 1, "entries in a list")?;
                let element = if matches!(element, TRUE | FALSE) {
                    BYTE
                } else {
                    element
                };
                (0..count).try_for_each(|_| self.skip(element, depth + 1))
            }
            MAP => {
                let count = self.varint()?;
                if count == 0 {
                    return Ok(());
                }
                self.fits(count, 2, "entries in a map")?;
                let kinds = self.byte()?;
                let (key, value) = (kinds >> 4, kinds & 0x0f);
                (0..count).try_for_each(|_| {
                    self.skip(key, depth + 1)?;
                    self.skip(value, depth + 1)
                })
            }
            STRUCT => loop {
                let header = self.byte()?;
                if header == 0 {
                    return Ok(());
                }
                if header >> 4 == 0 {
                    self.varint()?; // a field id too far from the last to be a delta
                }
                self.skip(header & 0x0f, depth + 1)?;
            },
            _ => Err(Stop::Malformed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_claiming_more_entries_than_bytes_is_refused() {
        // struct { 4: list<struct> of 2^31 - 1 } then stop.
        let hostile = [0x49, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00, 0x00];
        let error = check(&hostile).expect_err("refused");
        assert!(error.to_string().contains("2147483647 entries"), "{error}");
        // The same list of two empty structs fits.
        assert!(check(&[0x49, 0x2c, 0x00, 0x00, 0x00]).is_ok());
    }

    #[test]
    fn a_page_header_listing_more_booleans_than_bytes_is_refused() {
        // struct { 1: i32 0, 9: list<bool> of 2^31 - 1 } then stop.
        let hostile = [0x15, 0x00, 0x89, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x00];
        let error = check_page_header(&hostile, true).expect_err("refused");
        assert!(error.contains("2147483647 entries"), "{error}");
        // A data page's header with two booleans, a byte each, then the stop.
        let fits = [0x15, 0x00, 0x89, 0x21, 0x01, 0x02, 0x00];
        assert_eq!(check_page_header(&fits, true), Ok(Some(fits.len())));
        let mut followed = fits.to_vec();
        followed.extend_from_slice(b"the page's data");
        assert_eq!(check_page_header(&followed, false), Ok(Some(fits.len())));
        // An index page's (type 1): what follows it is read as a header.
        let index = [0x15, 0x02, 0x00];
        assert_eq!(check_page_header(&index, true), Ok(None));
        // Cut short: the end of the file is the crate's to report, but a
        // header running past the window is refused.
        assert_eq!(check_page_header(&fits[..3], true), Ok(None));
        assert!(check_page_header(&fits[..3], false).is_err());
    }

    #[test]
    fn strings_maps_and_deep_nesting_are_bounded_and_malformed_input_is_left_alone() {
        assert!(
            check(&[0x18, 0x7f, b'a', 0x00]).is_err(),
            "string of 127 bytes"
        );
        assert!(check(&[0x18, 0x01, b'a', 0x00]).is_ok());
        assert!(
            check(&[0x1b, 0x80, 0x80, 0x04, 0x88, 0x00]).is_err(),
            "map of 65536"
        );
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 10_000).collect();
        assert!(
            check(&deep).is_ok(),
            "too deep: left to the crate, no overflow"
        );
        assert!(check(&[]).is_ok());
        assert!(check(&[0xff; 64]).is_ok());
    }
}
