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

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

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
    file: File,
    length: u64,
    /// Where the last headers checked end, the newest last.
    header_ends: Mutex<VecDeque<u64>>,
}

impl Source {
    pub(super) fn open(path: &Path) -> std::io::Result<Source> {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        Ok(Source {
            file,
            length,
            header_ends: Mutex::new(VecDeque::with_capacity(REMEMBERED_HEADER_ENDS)),
        })
    }

    pub(super) fn file(&self) -> &File {
        &self.file
    }
}

impl Length for Source {
    fn len(&self) -> u64 {
        self.length
    }
}

impl ChunkReader for Source {
    type T = EndIsAnError<BufReader<File>>;

    /// The crate reads each page header through one of these, which holds
    /// the header whole in its buffer to be checked first. It also reads the
    /// data of a page whose header it peeked at this way, and the file's last
    /// 8 bytes (the footer's length and magic): neither is a header.
    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        let mut reader = BufReader::with_capacity(PAGE_HEADER_WINDOW, file);
        let left = self.length.saturating_sub(start);
        let mut header_ends = self
            .header_ends
            .lock()
            .map_err(|_| ParquetError::General("a reader of this file panicked".into()))?;
        if left > FOOTER_TAIL && !header_ends.contains(&start) {
            let window = reader.fill_buf()?;
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
        self.file.get_bytes(start, length)
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
