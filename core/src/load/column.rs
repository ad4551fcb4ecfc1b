//! Decoding one flat numeric column of a parquet file page by page, handing
//! its values over in small blocks, so that a consumer can fold them while
//! they are still in cache instead of first writing the whole column out.
//!
//! It covers what pandas, pyarrow and the parquet crate write by default:
//! plain and dictionary pages, v1 and v2, snappy or uncompressed, a column
//! that is required or optional. Anything else is [`Failure::Unsupported`],
//! and the caller reads that column through the arrow reader instead.
//! parquet's own reader parses the page headers; the pages themselves are
//! decompressed and decoded here.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use datafusion::parquet::basic::{Compression, Encoding, Type as PhysicalType};
use datafusion::parquet::column::page::{Page, PageReader};
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::{ColumnChunkMetaData, ParquetMetaData};
use datafusion::parquet::file::reader::{ChunkReader, Length};
use datafusion::parquet::file::serialized_reader::SerializedPageReader;

use super::hybrid::Hybrid;

/// Values handed over at a time: small enough to stay in the first-level cache.
pub(super) const BLOCK: usize = 2048;

/// Why the column was not decoded here.
#[derive(Debug)]
pub(super) enum Failure {
    /// A layout or encoding this decoder leaves to the arrow reader.
    Unsupported,
    Corrupt(Corrupt),
}

/// Damage found in a page, described for the error message.
#[derive(Debug)]
pub(super) struct Corrupt(pub String);

impl Corrupt {
    pub(super) fn new(what: impl std::fmt::Display) -> Corrupt {
        Corrupt(format!("damaged page data: {what}"))
    }
}

impl From<Corrupt> for Failure {
    fn from(corrupt: Corrupt) -> Failure {
        Failure::Corrupt(corrupt)
    }
}

impl From<ParquetError> for Failure {
    fn from(e: ParquetError) -> Failure {
        Failure::Corrupt(Corrupt(e.to_string()))
    }
}

/// A number type that column values are decoded into.
pub(super) trait Number: Copy + Default + 'static {
    /// What a missing value becomes; `None` when none may be missing.
    const MISSING: Option<Self>;

    /// Whether values of this physical type decode into `Self` exactly.
    fn accepts(physical: PhysicalType) -> bool;

    /// Plain-encoded values (little-endian, `physical`'s width each) into `out`.
    fn plain(physical: PhysicalType, bytes: &[u8], out: &mut [Self]);
}

impl Number for f64 {
    const MISSING: Option<f64> = Some(f64::NAN);

    fn accepts(physical: PhysicalType) -> bool {
        matches!(
            physical,
            PhysicalType::INT32 | PhysicalType::INT64 | PhysicalType::FLOAT | PhysicalType::DOUBLE
        )
    }

    fn plain(physical: PhysicalType, bytes: &[u8], out: &mut [f64]) {
        match physical {
            PhysicalType::INT32 => each::<4, _>(bytes, out, |b| f64::from(i32::from_le_bytes(b))),
            PhysicalType::INT64 => each::<8, _>(bytes, out, |b| i64::from_le_bytes(b) as f64),
            PhysicalType::FLOAT => each::<4, _>(bytes, out, |b| f64::from(f32::from_le_bytes(b))),
            _ => each::<8, _>(bytes, out, f64::from_le_bytes),
        }
    }
}

impl Number for i64 {
    const MISSING: Option<i64> = None;

    fn accepts(physical: PhysicalType) -> bool {
        matches!(physical, PhysicalType::INT32 | PhysicalType::INT64)
    }

    fn plain(physical: PhysicalType, bytes: &[u8], out: &mut [i64]) {
        match physical {
            PhysicalType::INT32 => each::<4, _>(bytes, out, |b| i64::from(i32::from_le_bytes(b))),
            _ => each::<8, _>(bytes, out, i64::from_le_bytes),
        }
    }
}

fn each<const N: usize, T>(bytes: &[u8], out: &mut [T], convert: impl Fn([u8; N]) -> T) {
    for (value, chunk) in out.iter_mut().zip(bytes.chunks_exact(N)) {
        *value = convert(chunk.try_into().unwrap_or([0; N]));
    }
}

fn width(physical: PhysicalType) -> usize {
    match physical {
        PhysicalType::INT32 | PhysicalType::FLOAT => 4,
        _ => 8,
    }
}

/// Decodes rows `rows` of leaf column `leaf` of `file`, in row order,
/// handing their values to `sink` a block at a time. Row groups and pages
/// outside the range are skipped unread or undecompressed. On failure the
/// sink may have seen part of the range.
pub(super) fn decode<T: Number>(
    file: File,
    metadata: &ParquetMetaData,
    leaf: usize,
    rows: Range<usize>,
    sink: &mut impl FnMut(&[T]),
) -> Result<(), Failure> {
    let descr = metadata.file_metadata().schema_descr().column(leaf);
    let physical = descr.physical_type();
    if descr.max_rep_level() != 0 || descr.max_def_level() > 1 || !T::accepts(physical) {
        return Err(Failure::Unsupported);
    }
    let mut decoder = ColumnDecoder {
        physical,
        optional: descr.max_def_level() == 1,
        snappy: false,
        dictionary: Dictionary::None,
        scratch: Vec::new(),
        block: vec![T::default(); BLOCK],
        indices: vec![0; BLOCK],
    };
    let file = Arc::new(file);
    let mut first_row = 0;
    for row_group in metadata.row_groups() {
        let count = usize::try_from(row_group.num_rows()).map_err(|_| Corrupt::new("row count"))?;
        let group = first_row..first_row + count;
        first_row = group.end;
        if group.end <= rows.start || group.start >= rows.end {
            continue;
        }
        let column = row_group.column(leaf);
        decoder.snappy = match column.compression() {
            Compression::SNAPPY => true,
            Compression::UNCOMPRESSED => false,
            _ => return Err(Failure::Unsupported),
        };
        decoder.dictionary = Dictionary::None;
        let mut pages = chunk_pages(&file, column, count)?;
        let mut at = group.start;
        while let Some(next) = pages.peek_next_page()? {
            if next.is_dict {
                if let Some(page) = pages.get_next_page()? {
                    decoder.page(page, Window::ALL, sink)?;
                }
                continue;
            }
            let page_rows = next
                .num_rows
                .or(next.num_levels)
                .ok_or_else(|| Corrupt::new("a page of unknown length"))?;
            let page = at..at + page_rows;
            at = page.end;
            if page.start >= rows.end {
                break;
            }
            if page.end <= rows.start {
                pages.skip_next_page()?;
                continue;
            }
            let window = Window {
                skip: rows.start.saturating_sub(page.start),
                take: page.end.min(rows.end) - page.start.max(rows.start),
            };
            let page = pages
                .get_next_page()?
                .ok_or_else(|| Corrupt::new("a page that vanished"))?;
            if decoder.page(page, window, sink)? != page_rows {
                return Err(Corrupt::new("a page whose length changed").into());
            }
        }
        if at < group.end.min(rows.end) {
            return Err(Corrupt::new(format!(
                "{} values in a row group of {count} rows",
                at - group.start
            ))
            .into());
        }
    }
    Ok(())
}

/// The rows of a page that the caller wants: after the first `skip`, `take` of them.
#[derive(Debug, Clone, Copy)]
struct Window {
    skip: usize,
    take: usize,
}

impl Window {
    const ALL: Window = Window {
        skip: 0,
        take: usize::MAX,
    };

    /// The wanted part of the next block of the page.
    fn pass<'b, T>(&mut self, block: &'b [T]) -> &'b [T] {
        let skipped = self.skip.min(block.len());
        self.skip -= skipped;
        let rest = &block[skipped..];
        let taken = self.take.min(rest.len());
        self.take -= taken;
        &rest[..taken]
    }
}

/// A column chunk's dictionary: decoded the first time a page needs it.
enum Dictionary<T> {
    None,
    Stored { page: Bytes, count: usize },
    Decoded(Vec<T>),
}

/// The pages of one column chunk. parquet's reader parses the headers but
/// is told the pages are uncompressed, so that they are decompressed here,
/// into a buffer used again for each page.
fn chunk_pages(
    file: &Arc<File>,
    column: &ColumnChunkMetaData,
    rows: usize,
) -> Result<SerializedPageReader<PageFile>, Failure> {
    let raw = column
        .clone()
        .into_builder()
        .set_compression(Compression::UNCOMPRESSED)
        .build()?;
    let file = PageFile(Arc::clone(file));
    Ok(SerializedPageReader::new(Arc::new(file), &raw, rows, None)?)
}

/// A file read a page at a time, so that pages skipped are never read:
/// one small read per header, one read per page, into a buffer that is not
/// zeroed first. Used by one thread, so that its seeks cannot interleave.
struct PageFile(Arc<File>);

/// Enough for the header of a page of numbers; a longer one is read on.
const HEADER_READ: usize = 256;

impl Length for PageFile {
    fn len(&self) -> u64 {
        self.0.metadata().map_or(0, |m| m.len())
    }
}

impl ChunkReader for PageFile {
    type T = BufReader<ReadFrom>;

    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        let from = ReadFrom {
            file: Arc::clone(&self.0),
            at: start,
        };
        Ok(BufReader::with_capacity(HEADER_READ, from))
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes, ParquetError> {
        let mut file = &*self.0;
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::with_capacity(length);
        file.take(length as u64).read_to_end(&mut bytes)?;
        if bytes.len() != length {
            return Err(ParquetError::EOF("a page past the end of the file".into()));
        }
        Ok(bytes.into())
    }
}

/// Reads a file from an offset on.
struct ReadFrom {
    file: Arc<File>,
    at: u64,
}

impl Read for ReadFrom {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut file = &*self.file;
        file.seek(SeekFrom::Start(self.at))?;
        let read = file.read(buf)?;
        self.at += read as u64;
        Ok(read)
    }
}

struct ColumnDecoder<T> {
    physical: PhysicalType,
    /// Whether definition levels say which values are missing.
    optional: bool,
    snappy: bool,
    dictionary: Dictionary<T>,
    /// Decompressed page data.
    scratch: Vec<u8>,
    block: Vec<T>,
    indices: Vec<u32>,
}

impl<T: Number> ColumnDecoder<T> {
    /// Decodes one page, handing `window`'s rows of it to the sink; returns
    /// how many rows it held.
    fn page(
        &mut self,
        page: Page,
        window: Window,
        sink: &mut impl FnMut(&[T]),
    ) -> Result<usize, Failure> {
        match page {
            Page::DictionaryPage {
                buf,
                num_values,
                encoding,
                ..
            } => {
                if !matches!(encoding, Encoding::PLAIN | Encoding::PLAIN_DICTIONARY) {
                    return Err(Failure::Unsupported);
                }
                self.dictionary = Dictionary::Stored {
                    page: buf,
                    count: num_values as usize,
                };
                Ok(0)
            }
            Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                ..
            } => {
                let rows = num_values as usize;
                let result = self.page_v1(&buf, rows, encoding, def_level_encoding, window, sink);
                result.map(|()| rows)
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding,
                def_levels_byte_len,
                rep_levels_byte_len,
                is_compressed,
                ..
            } => {
                let rows = num_values as usize;
                if rep_levels_byte_len != 0 {
                    return Err(Failure::Unsupported);
                }
                let (levels, values) = buf
                    .split_at_checked(def_levels_byte_len as usize)
                    .ok_or_else(|| Corrupt::new("levels longer than their page"))?;
                let values = if is_compressed {
                    self.decompress(values)?
                } else {
                    values.to_vec()
                };
                let levels = self.optional.then_some(levels);
                let result = self.values(levels, &values, rows, encoding, window, sink);
                self.scratch = values;
                result.map(|()| rows)
            }
        }
    }

    /// A v1 page: [definition levels, prefixed by their length] values, all compressed.
    fn page_v1(
        &mut self,
        buf: &[u8],
        rows: usize,
        encoding: Encoding,
        level_encoding: Encoding,
        window: Window,
        sink: &mut impl FnMut(&[T]),
    ) -> Result<(), Failure> {
        let data = self.decompress(buf)?;
        let result = (|| {
            let (levels, values) = if self.optional {
                if level_encoding != Encoding::RLE {
                    return Err(Failure::Unsupported);
                }
                let (length, rest) = data
                    .split_first_chunk::<4>()
                    .ok_or_else(|| Corrupt::new("a page too short for its levels"))?;
                let length = u32::from_le_bytes(*length) as usize;
                let (levels, values) = rest
                    .split_at_checked(length)
                    .ok_or_else(|| Corrupt::new("levels longer than their page"))?;
                (Some(levels), values)
            } else {
                (None, &data[..])
            };
            self.values(levels, values, rows, encoding, window, sink)
        })();
        self.scratch = data;
        result
    }

    fn decompress(&mut self, input: &[u8]) -> Result<Vec<u8>, Failure> {
        let mut out = std::mem::take(&mut self.scratch);
        self.decompress_into(input, &mut out)?;
        Ok(out)
    }

    /// Snappy stores its output length up front; snappy expands no more than
    /// 22 times, so a larger claim is damage, not a reason to allocate.
    fn decompress_into(&self, input: &[u8], out: &mut Vec<u8>) -> Result<(), Failure> {
        if !self.snappy {
            out.clear();
            out.extend_from_slice(input);
            return Ok(());
        }
        let length = snap::raw::decompress_len(input).map_err(Corrupt::new)?;
        if length > input.len().saturating_mul(22).saturating_add(64) {
            return Err(Corrupt::new("an impossible decompressed size").into());
        }
        if out.len() < length {
            out.resize(length, 0);
        }
        let written = snap::raw::Decoder::new()
            .decompress(input, &mut out[..length])
            .map_err(Corrupt::new)?;
        out.truncate(written);
        Ok(())
    }

    /// The dictionary, decoded now if it was not yet.
    fn dictionary(&mut self) -> Result<(), Failure> {
        if let Dictionary::Stored { page, count } = &self.dictionary {
            let count = *count;
            let data = self.decompress(&page.clone())?;
            let bytes = data
                .get(..count.saturating_mul(width(self.physical)))
                .ok_or_else(|| Corrupt::new("a short dictionary"));
            let decoded = bytes.map(|bytes| {
                let mut values = vec![T::default(); count];
                T::plain(self.physical, bytes, &mut values);
                values
            });
            self.scratch = data;
            self.dictionary = Dictionary::Decoded(decoded?);
        }
        Ok(())
    }

    /// The values section of a page, spread over its rows by its levels.
    fn values(
        &mut self,
        levels: Option<&[u8]>,
        values: &[u8],
        rows: usize,
        encoding: Encoding,
        mut window: Window,
        sink: &mut impl FnMut(&[T]),
    ) -> Result<(), Failure> {
        let present = match levels {
            Some(levels) => count_present(levels, rows)?,
            None => rows,
        };
        let mut source = ValueSource::new(values, encoding, present, self.physical)?;
        if matches!(source, ValueSource::Dictionary(_)) {
            self.dictionary()?;
        }
        let dictionary = match &self.dictionary {
            Dictionary::Decoded(values) => &values[..],
            _ => &[],
        };
        if present == rows {
            let mut left = rows.min(window.skip.saturating_add(window.take));
            while left > 0 {
                let n = left.min(BLOCK);
                let block = &mut self.block[..n];
                source.fill(block, &mut self.indices, dictionary)?;
                sink(window.pass(block));
                left -= n;
            }
            return Ok(());
        }
        let missing = T::MISSING.ok_or(Failure::Unsupported)?;
        let mut dense = vec![T::default(); present];
        for part in dense.chunks_mut(BLOCK) {
            source.fill(part, &mut self.indices, dictionary)?;
        }
        let mut dense = dense.into_iter();
        let mut defined = Hybrid::new(levels.unwrap_or(&[]), 1)?;
        let mut left = rows;
        while left > 0 {
            let n = left.min(BLOCK);
            let flags = &mut self.indices[..n];
            if defined.fill(flags)? < n {
                return Err(Corrupt::new("fewer levels than values").into());
            }
            for (value, &flag) in self.block.iter_mut().zip(flags.iter()) {
                *value = if flag == 1 {
                    dense.next().unwrap_or(missing)
                } else {
                    missing
                };
            }
            sink(window.pass(&self.block[..n]));
            left -= n;
        }
        Ok(())
    }
}

/// How many of `rows` definition levels (one bit each) say "present".
fn count_present(levels: &[u8], rows: usize) -> Result<usize, Failure> {
    let mut decoder = Hybrid::new(levels, 1)?;
    let mut flags = [0_u32; BLOCK];
    let mut left = rows;
    let mut present = 0;
    while left > 0 {
        let n = left.min(BLOCK);
        if decoder.fill(&mut flags[..n])? < n {
            return Err(Corrupt::new("fewer levels than values").into());
        }
        present += flags[..n].iter().map(|&f| f as usize).sum::<usize>();
        left -= n;
    }
    Ok(present)
}

/// Where a page's present values come from.
enum ValueSource<'a> {
    Plain {
        bytes: &'a [u8],
        physical: PhysicalType,
    },
    Dictionary(Hybrid<'a>),
}

impl<'a> ValueSource<'a> {
    fn new(
        values: &'a [u8],
        encoding: Encoding,
        present: usize,
        physical: PhysicalType,
    ) -> Result<ValueSource<'a>, Failure> {
        match encoding {
            Encoding::PLAIN => {
                let bytes = values
                    .get(..present.saturating_mul(width(physical)))
                    .ok_or_else(|| Corrupt::new("fewer values than rows"))?;
                Ok(ValueSource::Plain { bytes, physical })
            }
            Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY => {
                let (&bits, indices) = values
                    .split_first()
                    .ok_or_else(|| Corrupt::new("an empty dictionary page"))?;
                Ok(ValueSource::Dictionary(Hybrid::new(indices, bits.into())?))
            }
            _ => Err(Failure::Unsupported),
        }
    }

    /// The next `out.len()` values.
    fn fill<T: Number>(
        &mut self,
        out: &mut [T],
        indices: &mut [u32],
        dictionary: &[T],
    ) -> Result<(), Failure> {
        match self {
            ValueSource::Plain { bytes, physical } => {
                let (now, rest) = bytes
                    .split_at_checked(out.len() * width(*physical))
                    .ok_or_else(|| Corrupt::new("fewer values than rows"))?;
                T::plain(*physical, now, out);
                *bytes = rest;
            }
            ValueSource::Dictionary(decoder) => {
                let indices = &mut indices[..out.len()];
                if decoder.fill(indices)? < out.len() {
                    return Err(Corrupt::new("fewer indices than values").into());
                }
                let largest = indices.iter().copied().max().unwrap_or(0) as usize;
                if largest >= dictionary.len() {
                    return Err(Corrupt::new(format!(
                        "index {largest} into a dictionary of {}",
                        dictionary.len()
                    ))
                    .into());
                }
                for (value, &index) in out.iter_mut().zip(indices.iter()) {
                    *value = dictionary[index as usize];
                }
            }
        }
        Ok(())
    }
}
