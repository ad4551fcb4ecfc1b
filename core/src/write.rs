//! Writing bars as the parquet files Candela serves: snappy-compressed, one
//! row group per million rows, and never seen half-written.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::properties::WriterProperties;

/// Writes `batch` to `path`, by way of a file beside it that the catalog
/// does not read (it ends in `.partial`), renamed into place once complete:
/// a server watching the folder never reads a file being written.
pub fn write_parquet(
    batch: &RecordBatch,
    path: &Path,
    created_by: &str,
) -> Result<(), ParquetError> {
    let partial = partial_path(path);
    let written = write_to(batch, &partial, created_by)
        .and_then(|()| std::fs::rename(&partial, path).map_err(ParquetError::from));
    if written.is_err() {
        // Nothing half-written stays behind; the first error is the one to report.
        let _ = std::fs::remove_file(&partial);
    }
    written
}

fn write_to(batch: &RecordBatch, path: &Path, created_by: &str) -> Result<(), ParquetError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_created_by(created_by.into())
        .set_max_row_group_row_count(Some(1 << 20))
        .build();
    let mut writer = ArrowWriter::try_new(File::create(path)?, batch.schema(), Some(properties))?;
    writer.write(batch)?;
    writer.close()?;
    Ok(())
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}
