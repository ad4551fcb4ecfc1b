//! What a parquet footer claims, checked before anything is sized by it.
//!
//! The footer is the file's own account of itself, and nothing but the
//! pages can contradict it: a hostile or damaged one can claim a negative
//! row count, row groups that do not add up to it, or column chunks that
//! lie outside the file. The parquet crate trusts some of these (it asserts
//! that chunk offsets are not negative, and readers size buffers by row
//! counts), so they are checked here first, each into an error that says
//! which claim is false.

use datafusion::parquet::file::metadata::ParquetMetaData;

use super::Problem;

/// The rows of a file whose footer has been checked against itself and
/// against `file_len`, the bytes actually present.
pub(super) fn checked_rows(metadata: &ParquetMetaData, file_len: u64) -> Result<usize, Problem> {
    let claimed = metadata.file_metadata().num_rows();
    let mut total: i64 = 0;
    for (index, group) in metadata.row_groups().iter().enumerate() {
        let rows = group.num_rows();
        if rows < 0 {
            return Err(false_claim(format!("row group {index} claims {rows} rows")));
        }
        total = total.checked_add(rows).ok_or_else(|| {
            false_claim(format!("its row groups claim more than {} rows", i64::MAX))
        })?;
        for column in group.columns() {
            let data = column.data_page_offset();
            let start = column.dictionary_page_offset().unwrap_or(data);
            let length = column.compressed_size();
            let end = start.checked_add(length);
            let at = |offset: i64| u64::try_from(offset).is_ok_and(|offset| offset <= file_len);
            let inside = at(data) && at(start) && length >= 0 && end.is_some_and(at);
            if !inside {
                return Err(false_claim(format!(
                    "column '{}' of row group {index} claims bytes {start} to {} of a file of {file_len} bytes",
                    column.column_path(),
                    end.map_or_else(|| "beyond".to_owned(), |end| end.to_string()),
                )));
            }
        }
    }
    if claimed != total {
        return Err(false_claim(format!(
            "it claims {claimed} rows but its row groups hold {total}"
        )));
    }
    usize::try_from(claimed).map_err(|_| {
        false_claim(format!(
            "{claimed} rows do not fit in this machine's memory"
        ))
    })
}

fn false_claim(what: String) -> Problem {
    Problem::FalseClaim(what)
}
