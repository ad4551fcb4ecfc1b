//! A parquet file as the parquet crate's readers see it (their
//! [`ChunkReader`]), with the guards that hostile files call for.
//!
//! - A read that would run past the end of the file is an error, not an
//!   empty read. The crate skips unknown fields of a page header by reading
//!   and discarding their bytes, and takes an empty read as success: a
//!   header declaring a list of 2^31 doubles then spins for minutes at the
//!   end of the file. Failing the read ends it at once.
//! - A page header's counts are checked against its bytes before the crate
//!   reads it ([`thrift_bounds`]): the crate skips a list of booleans
//!   without reading a byte, so 2^31 of them spin wherever the header is.
//!   The crate reads a page's data through a new reader too, once it has
//!   peeked at the page's header: a read where a checked header of a data
//!   or dictionary page ends is taken as that data, unchecked.
//! - A page is read only if the file holds it: its buffer is sized by the
//!   page header's claim, which is checked against the file's length first.
//!
//! A file of a bucket is read the same way, from the parts of it fetched:
//! its tail, then the column chunks a read needs ([`Fetched`]). A read
//! outside them is an error as a read past the end is.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::reader::{ChunkReader, Length};

use super::thrift_bounds::{self, PAGE_HEADER_WINDOW};

/// The footer's length and the magic `PAR1` that end every parquet file.
const FOOTER_TAIL: u64 = 8;

/// Header ends remembered: a source serves one column, whose reader peeks
/// at one page's header at a time.
const REMEMBERED_HEADER_ENDS: usize = 8;

pub(super) struct Source {
    bytes: Backing,
    length: u64,
    /// Where the last headers checked end, the newest last.
    header_ends: Mutex<VecDeque<u64>>,
}

/// Where a source's bytes are.
enum Backing {
    File(File),
    Fetched(Arc<Fetched>),
}

/// The parts of a bucket's file fetched so far, by where they start.
#[derive(Debug, Default)]
pub(super) struct Fetched {
    length: u64,
    parts: Vec<(u64, Bytes)>,
}

impl Fetched {
    /// A file of `length` bytes of which `parts` (start, bytes) are here.
    pub(super) fn new(length: u64, mut parts: Vec<(u64, Bytes)>) -> Fetched {
        parts.sort_by_key(|(start, _)| *start);
        Fetched { length, parts }
    }

    pub(super) fn parts(&self) -> &[(u64, Bytes)] {
        &self.parts
    }

    /// The fetched bytes from `start` to the end of the part holding it.
    fn from(&self, start: u64) -> Option<Bytes> {
        let before = self.parts.partition_point(|(at, _)| *at <= start);
        self.parts[..before].iter().rev().find_map(|(at, part)| {
            let offset = usize::try_from(start - at).ok()?;
            (offset < part.len()).then(|| part.slice(offset..))
        })
    }

    /// `length` bytes from `start`, if one part holds them all.
    fn bytes(&self, start: u64, length: usize) -> Option<Bytes> {
        self.from(start)
            .filter(|rest| rest.len() >= length)
            .map(|rest| rest.slice(..length))
    }
}

impl Source {
    pub(super) fn open(path: &Path) -> std::io::Result<Source> {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        Ok(Source::with(Backing::File(file), length))
    }

    /// The parts of a bucket's file fetched so far.
    pub(super) fn fetched(fetched: Arc<Fetched>) -> Source {
        let length = fetched.length;
        Source::with(Backing::Fetched(fetched), length)
    }

    fn with(bytes: Backing, length: u64) -> Source {
        Source {
            bytes,
            length,
            header_ends: Mutex::new(VecDeque::with_capacity(REMEMBERED_HEADER_ENDS)),
        }
    }

    /// A reader from `start` and how many bytes it can give.
    fn reader_at(&self, start: u64) -> Result<(PartReader, u64), ParquetError> {
        match &self.bytes {
            Backing::File(file) => {
                let mut file = file.try_clone()?;
                file.seek(SeekFrom::Start(start))?;
                let reader = BufReader::with_capacity(PAGE_HEADER_WINDOW, file);
                Ok((PartReader::File(reader), self.length.saturating_sub(start)))
            }
            Backing::Fetched(fetched) => {
                let rest = fetched.from(start).ok_or_else(|| not_fetched(start))?;
                let left = rest.len() as u64;
                Ok((PartReader::Fetched(Cursor::new(rest)), left))
            }
        }
    }
}

impl Length for Source {
    fn len(&self) -> u64 {
        self.length
    }
}

impl ChunkReader for Source {
    type T = EndIsAnError<PartReader>;

    /// The crate reads each page header through one of these, which holds
    /// the header whole in its buffer to be checked first. It also reads the
    /// data of a page whose header it peeked at this way, and the file's last
    /// 8 bytes (the footer's length and magic): neither is a header.
    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        let (mut reader, left) = self.reader_at(start)?;
        let mut header_ends = self
            .header_ends
            .lock()
            .map_err(|_| ParquetError::General("a reader of this file panicked".into()))?;
        let footer_tail = self.length.saturating_sub(start) <= FOOTER_TAIL;
        if !footer_tail && !header_ends.contains(&start) {
            let buffered = reader.fill_buf()?;
            let window = &buffered[..buffered.len().min(PAGE_HEADER_WINDOW)];
            let to_the_end = window.len() as u64 >= left;
            let length = thrift_bounds::check_page_header(window, to_the_end)
                .map_err(|e| ParquetError::General(format!("{e} (at byte {start})")))?;
            if let Some(length) = length {
                if header_ends.len() == REMEMBERED_HEADER_ENDS {
                    header_ends.pop_front();
                }
                header_ends.push_back(start + length as u64);
            }
        }
        Ok(EndIsAnError(reader))
    }

    fn get_bytes(&self, start: u64, length: usize) -> Result<Bytes, ParquetError> {
        let end = start.checked_add(length as u64);
        if end.is_none_or(|end| end > self.length) {
            return Err(ParquetError::EOF(format!(
                "a page claims bytes {start} to {} of a file of {}",
                end.map_or_else(|| "beyond".to_owned(), |end| end.to_string()),
                self.length
            )));
        }
        match &self.bytes {
            Backing::File(file) => file.get_bytes(start, length),
            Backing::Fetched(fetched) => fetched
                .bytes(start, length)
                .ok_or_else(|| not_fetched(start)),
        }
    }
}

/// A read of bytes not fetched: the footer claims a chunk elsewhere than
/// its pages are, or a page runs past its chunk.
fn not_fetched(start: u64) -> ParquetError {
    ParquetError::EOF(format!(
        "byte {start} lies outside the column chunks the footer places"
    ))
}

/// Reads a part of a source, buffered.
pub(super) enum PartReader {
    File(BufReader<File>),
    Fetched(Cursor<Bytes>),
}

impl Read for PartReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self {
            PartReader::File(reader) => reader.read(buffer),
            PartReader::Fetched(reader) => reader.read(buffer),
        }
    }
}

impl BufRead for PartReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            PartReader::File(reader) => reader.fill_buf(),
            PartReader::Fetched(reader) => reader.fill_buf(),
        }
    }

    fn consume(&mut self, amount: usize) {
        match self {
            PartReader::File(reader) => reader.consume(amount),
            PartReader::Fetched(reader) => reader.consume(amount),
        }
    }
}

/// A reader for which the end of the file is an error.
pub(super) struct EndIsAnError<R>(R);

impl<R: Read> Read for EndIsAnError<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        match self.0.read(buffer)? {
            0 if !buffer.is_empty() => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "read past the end of the file",
            )),
            read => Ok(read),
        }
    }
}
