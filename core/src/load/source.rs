//! A parquet file as the parquet crate's readers see it (their
//! [`ChunkReader`]), with the two guards that hostile files call for.
//!
//! - A read that would run past the end of the file is an error, not an
//!   empty read. The crate skips unknown fields of a page header by reading
//!   and discarding their bytes, and takes an empty read as success: a
//!   header declaring a list of 2^31 doubles then spins for minutes at the
//!   end of the file. Failing the read ends it at once.
//! - A page is read only if the file holds it: its buffer is sized by the
//!   page header's claim, which is checked against the file's length first.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use bytes::Bytes;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::reader::{ChunkReader, Length};

pub(super) struct Source {
    file: File,
    length: u64,
}

impl Source {
    pub(super) fn open(path: &Path) -> std::io::Result<Source> {
        let file = File::open(path)?;
        let length = file.metadata()?.len();
        Ok(Source { file, length })
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

    fn get_read(&self, start: u64) -> Result<Self::T, ParquetError> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(start))?;
        Ok(EndIsAnError(BufReader::new(file)))
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
