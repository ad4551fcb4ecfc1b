//! A run's file as named columns, from parquet or CSV alike. The rest of
//! the crate asks for a column by its names and reads it as times, numbers
//! or text; a bad cell is reported at its file, row and column.

use std::collections::HashMap;
use std::path::Path;

use bytes::Buf;
use candela_core::zone::wall_clock_to_utc;
use candela_import::{TimeFormat, TimeKind};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{cast, concat};
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampNanosecondType};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use datafusion::parquet::file::reader::ChunkReader;

use crate::error::{Place, Problem, Row};
use crate::files::{FileRef, Opened};

/// What a run's file may hold before it is refused unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileLimits {
    pub max_bytes: u64,
    pub max_rows: u64,
}

impl Default for FileLimits {
    /// 256 MiB and 10 million rows: an equity curve of 20 years of
    /// minutes around the clock is about 10 million points.
    fn default() -> Self {
        FileLimits {
            max_bytes: 256 << 20,
            max_rows: 10_000_000,
        }
    }
}

/// A problem and where it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fault {
    pub(crate) place: Place,
    pub(crate) problem: Problem,
}

impl Fault {
    pub(crate) fn in_file(file: &str, problem: Problem) -> Fault {
        Fault {
            place: Place {
                file: Some(file.to_owned()),
                ..Place::default()
            },
            problem,
        }
    }

    /// The fault as the error of the run `run`.
    pub(crate) fn of_run(self, run: &str) -> crate::RunError {
        crate::RunError {
            run: run.to_owned(),
            place: Box::new(self.place),
            problem: Box::new(self.problem),
        }
    }
}

/// Rows per batch from the parquet reader.
const BATCH_ROWS: usize = 8192;
/// Values read to tell a text column's time format.
const SAMPLE_TIMES: usize = 100;

#[derive(Debug)]
pub(crate) struct Table {
    /// The file's name in the run's folder, for messages.
    file: String,
    rows: usize,
    columns: Vec<Column>,
    /// The CSV line of each row (parquet rows are counted instead).
    lines: Option<Vec<u64>>,
    /// The pandas index column of a parquet file written by pandas.
    pandas_index: Option<String>,
    /// The zones pandas recorded for its zoned datetime columns.
    zones: HashMap<String, Tz>,
}

#[derive(Debug)]
struct Column {
    name: String,
    cells: Cells,
}

#[derive(Debug)]
enum Cells {
    Arrow(ArrayRef),
    /// A CSV column: the fields one after another, `ends[i]` where field `i`
    /// ends; an empty field is a missing value.
    Text {
        text: String,
        ends: Vec<usize>,
    },
}

/// A time column, read.
#[derive(Debug)]
pub(crate) struct Times {
    /// UTC nanoseconds; `None` where the cell is empty.
    pub(crate) values: Vec<Option<i64>>,
    /// The zone the file itself gives its times, if any.
    pub(crate) zone: Option<Tz>,
}

/// Column names compare without case, underscores or spaces: `entry_time`,
/// `EntryTime` and `Entry Time` are one name.
pub(crate) fn normalise(name: &str) -> String {
    // A byte-order mark (spreadsheets' UTF-8 CSV) is no part of a name.
    name.chars()
        .filter(|c| *c != '_' && *c != '\u{feff}' && !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Table {
    /// Reads the columns of the run's file `name` whose normalised names
    /// are in `wanted` (any others, such as backtesting.py's indicator
    /// columns, are skipped unread).
    pub(crate) fn read(
        name: &str,
        found: FileRef<'_>,
        wanted: &[&str],
        limits: FileLimits,
    ) -> Result<Table, Fault> {
        let fault = |problem| Fault::in_file(name, problem);
        let size = found.size();
        if size > limits.max_bytes {
            return Err(fault(Problem::TooLarge {
                size_mib: size.div_ceil(1 << 20),
                limit_mib: limits.max_bytes >> 20,
            }));
        }
        let is_csv = Path::new(name)
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let file = name.to_owned();
        match (found.open().map_err(fault)?, is_csv) {
            (Opened::File(opened), true) => read_csv(file, opened, wanted, limits),
            (Opened::File(opened), false) => read_parquet(file, opened, wanted, limits),
            (Opened::Bytes(bytes), true) => read_csv(file, bytes.reader(), wanted, limits),
            (Opened::Bytes(bytes), false) => read_parquet(file, bytes, wanted, limits),
        }
    }

    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The first column whose name is one of `names` (normalised), as its
    /// index and name in the file.
    pub(crate) fn find(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|wanted| {
            self.columns
                .iter()
                .position(|c| normalise(&c.name) == *wanted)
        })
    }

    /// The pandas index if it is one of the file's columns.
    pub(crate) fn pandas_index(&self) -> Option<usize> {
        let name = self.pandas_index.as_deref()?;
        self.columns.iter().position(|c| c.name == name)
    }

    /// A column that must be there.
    pub(crate) fn require(&self, names: &[&str], what: &'static str) -> Result<usize, Fault> {
        self.find(names).ok_or_else(|| {
            let found: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            Fault::in_file(
                &self.file,
                Problem::MissingColumn {
                    wanted: what,
                    found: if found.is_empty() {
                        "none".into()
                    } else {
                        found.join(", ")
                    },
                },
            )
        })
    }

    /// Where a cell is, for messages.
    pub(crate) fn place(&self, column: usize, row: Option<usize>) -> Place {
        Place {
            file: Some(self.file.clone()),
            row: row.map(|r| match &self.lines {
                Some(lines) => Row::Line(lines.get(r).copied().unwrap_or_default()),
                None => Row::Row(r as u64 + 1),
            }),
            column: self.columns.get(column).map(|c| c.name.clone()),
        }
    }

    fn fault(&self, column: usize, row: Option<usize>, problem: Problem) -> Fault {
        Fault {
            place: self.place(column, row),
            problem,
        }
    }

    /// A column as numbers; an empty cell is `None`, NaN stays NaN.
    pub(crate) fn numbers(&self, column: usize) -> Result<Vec<Option<f64>>, Fault> {
        match &self.columns[column].cells {
            Cells::Text { .. } => self.parse_text(column, "a number", |s| s.parse::<f64>().ok()),
            Cells::Arrow(array) => {
                if matches!(array.data_type(), DataType::Null) {
                    return Ok(vec![None; array.len()]);
                }
                if array.data_type().is_numeric() {
                    let floats = cast(array, &DataType::Float64)
                        .map_err(|_| self.wrong_type(column, array.data_type(), "a number"))?;
                    return Ok(floats.as_primitive::<Float64Type>().iter().collect());
                }
                self.as_text(column, "a number")?
                    .parse_text(0, "a number", |s| s.parse::<f64>().ok())
                    .map_err(|f| self.relocate(column, f))
            }
        }
    }

    /// A column as text; an empty cell is `None`.
    pub(crate) fn texts(&self, column: usize) -> Result<Vec<Option<String>>, Fault> {
        match &self.columns[column].cells {
            Cells::Text { .. } => self.parse_text(column, "text", |s| Some(s.to_owned())),
            Cells::Arrow(array) if matches!(array.data_type(), DataType::Null) => {
                Ok(vec![None; array.len()])
            }
            Cells::Arrow(array) => {
                let strings = cast(array, &DataType::Utf8)
                    .map_err(|_| self.wrong_type(column, array.data_type(), "text"))?;
                Ok(strings
                    .as_string::<i32>()
                    .iter()
                    .map(|s| s.filter(|s| !s.is_empty()).map(str::to_owned))
                    .collect())
            }
        }
    }

    /// A column as instants. Timestamps with a zone are instants already;
    /// naive ones, dates and text without an offset are wall-clock times in
    /// `zone`. Text and numbers are read as `candela import` reads a CSV's
    /// times (formats and Unix units told from the values).
    pub(crate) fn times(&self, column: usize, zone: Tz) -> Result<Times, Fault> {
        let Cells::Arrow(array) = &self.columns[column].cells else {
            return self.text_times(column, zone);
        };
        let own_zone = match array.data_type() {
            DataType::Timestamp(_, Some(tz)) => Some(Some(tz.clone())),
            DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64 => Some(None),
            _ => None,
        };
        let Some(own_zone) = own_zone else {
            return self
                .as_text(column, "a time")?
                .text_times(0, zone)
                .map_err(|f| self.relocate(column, f));
        };
        let nanos = cast(
            array,
            &DataType::Timestamp(TimeUnit::Nanosecond, own_zone.clone()),
        )
        .map_err(|_| self.wrong_type(column, array.data_type(), "a time"))?;
        let nanos = nanos.as_primitive::<TimestampNanosecondType>();
        if let Some(row) = (0..array.len()).find(|&i| nanos.is_null(i) && array.is_valid(i)) {
            return Err(self.fault(column, Some(row), Problem::TimeOutOfRange));
        }
        let mut values: Vec<Option<i64>> = nanos.iter().collect();
        if own_zone.is_none() {
            to_utc(&mut values, zone);
        }
        let name = &self.columns[column].name;
        let zone = self
            .zones
            .get(name)
            .copied()
            .or_else(|| own_zone.and_then(|tz| tz.parse().ok()));
        Ok(Times { values, zone })
    }

    fn text_times(&self, column: usize, zone: Tz) -> Result<Times, Fault> {
        let cells = self.text_cells(column);
        let samples: Vec<&str> = cells.iter().flatten().take(SAMPLE_TIMES).copied().collect();
        // The format of the first values; if one of them is bad, of the
        // very first, so that the bad one is reported at its row.
        let format = TimeFormat::detect(&samples)
            .or_else(|| TimeFormat::detect(&samples[..samples.len().min(1)]));
        let mut values = Vec::with_capacity(cells.len());
        for (row, cell) in cells.iter().enumerate() {
            let Some(text) = cell else {
                values.push(None);
                continue;
            };
            let parsed = format.as_ref().map(|f| f.parse(text));
            match parsed {
                Some(Ok(nanos)) => values.push(Some(nanos)),
                Some(Err(candela_import::TimeError::OutOfRange)) => {
                    return Err(self.fault(column, Some(row), Problem::TimeOutOfRange));
                }
                _ => {
                    return Err(self.fault(
                        column,
                        Some(row),
                        Problem::BadValue {
                            value: (*text).to_owned(),
                            expected: "a time (e.g. 2024-03-01 14:30:00, 2024-03-01T14:30:00Z or Unix seconds)",
                        },
                    ));
                }
            }
        }
        if format.is_some_and(|f| f.kind() == TimeKind::WallClock) {
            to_utc(&mut values, zone);
        }
        Ok(Times { values, zone: None })
    }

    /// The cells of a text column, `None` where empty.
    fn text_cells(&self, column: usize) -> Vec<Option<&str>> {
        match &self.columns[column].cells {
            Cells::Text { text, ends } => {
                let mut start = 0;
                ends.iter()
                    .map(|&end| {
                        let cell = &text[start..end];
                        start = end;
                        (!cell.is_empty()).then_some(cell)
                    })
                    .collect()
            }
            Cells::Arrow(_) => Vec::new(),
        }
    }

    fn parse_text<T>(
        &self,
        column: usize,
        expected: &'static str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<Option<T>>, Fault> {
        self.text_cells(column)
            .into_iter()
            .enumerate()
            .map(|(row, cell)| match cell {
                None => Ok(None),
                Some(text) => parse(text).map(Some).ok_or_else(|| {
                    self.fault(
                        column,
                        Some(row),
                        Problem::BadValue {
                            value: text.to_owned(),
                            expected,
                        },
                    )
                }),
            })
            .collect()
    }

    /// An arrow column of strings (or anything that casts to them) as a
    /// one-column text table, to be read as CSV text is.
    fn as_text(&self, column: usize, expected: &'static str) -> Result<Table, Fault> {
        let Cells::Arrow(array) = &self.columns[column].cells else {
            return Err(self.fault(column, None, Problem::Empty("no text")));
        };
        let strings = cast(array, &DataType::Utf8)
            .map_err(|_| self.wrong_type(column, array.data_type(), expected))?;
        let mut text = String::new();
        let mut ends = Vec::with_capacity(strings.len());
        for value in strings.as_string::<i32>() {
            text.push_str(value.unwrap_or(""));
            ends.push(text.len());
        }
        Ok(Table {
            file: self.file.clone(),
            rows: self.rows,
            columns: vec![Column {
                name: self.columns[column].name.clone(),
                cells: Cells::Text { text, ends },
            }],
            lines: None,
            pandas_index: None,
            zones: HashMap::new(),
        })
    }

    /// A fault found in a one-column copy, placed in this table.
    fn relocate(&self, column: usize, fault: Fault) -> Fault {
        Fault {
            place: Place {
                column: self.columns.get(column).map(|c| c.name.clone()),
                ..fault.place
            },
            problem: fault.problem,
        }
    }

    fn wrong_type(&self, column: usize, found: &DataType, expected: &'static str) -> Fault {
        self.fault(
            column,
            None,
            Problem::WrongType {
                found: found.to_string(),
                expected,
            },
        )
    }
}

/// Wall-clock times of `zone` as instants, in place.
fn to_utc(values: &mut [Option<i64>], zone: Tz) {
    let mut present: Vec<i64> = values.iter().flatten().copied().collect();
    wall_clock_to_utc(zone, &mut present);
    let mut converted = present.into_iter();
    for value in values.iter_mut().flatten() {
        if let Some(utc) = converted.next() {
            *value = utc;
        }
    }
}

fn read_parquet(
    file: String,
    opened: impl ChunkReader + 'static,
    wanted: &[&str],
    limits: FileLimits,
) -> Result<Table, Fault> {
    let unreadable = |e: &dyn std::fmt::Display| {
        Fault::in_file(
            &file,
            Problem::Unreadable {
                format: "parquet",
                detail: e.to_string(),
            },
        )
    };
    // The Arrow schema some writers embed is not read: decoding a damaged
    // one panics inside arrow-ipc. The parquet schema says enough; the
    // zone of pandas' zoned times is in its own metadata.
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let builder = ParquetRecordBatchReaderBuilder::try_new_with_options(opened, options)
        .map_err(|e| unreadable(&e))?;
    let metadata = builder.metadata();
    let claimed = metadata.file_metadata().num_rows();
    let in_groups: i64 = metadata.row_groups().iter().map(|g| g.num_rows()).sum();
    if claimed < 0 || claimed != in_groups {
        return Err(unreadable(&format!(
            "the footer claims {claimed} rows but its row groups hold {in_groups}"
        )));
    }
    let rows = claimed as u64;
    if rows > limits.max_rows {
        return Err(Fault::in_file(
            &file,
            Problem::TooManyRows {
                rows,
                limit: limits.max_rows,
            },
        ));
    }
    let pandas = metadata
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|e| e.key == "pandas"))
        .and_then(|e| e.value.as_deref())
        .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok());
    let pandas_index = pandas.as_ref().and_then(pandas_time_index);
    let zones = pandas.as_ref().map(pandas_zones).unwrap_or_default();
    let schema = builder.schema().clone();
    let chosen: Vec<usize> = schema
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            wanted.contains(&normalise(f.name()).as_str())
                || pandas_index.as_deref() == Some(f.name().as_str())
        })
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), chosen.iter().copied());
    let reader = builder
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| unreadable(&e))?;
    let mut batches = Vec::new();
    for batch in reader {
        batches.push(batch.map_err(|e| unreadable(&e))?);
    }
    let mut columns = Vec::with_capacity(chosen.len());
    for (position, &field) in chosen.iter().enumerate() {
        let parts: Vec<&dyn Array> = batches
            .iter()
            .map(|b| b.column(position).as_ref())
            .collect();
        let array = if parts.is_empty() {
            datafusion::arrow::array::new_empty_array(schema.field(field).data_type())
        } else {
            concat(&parts).map_err(|e| unreadable(&e))?
        };
        columns.push(Column {
            name: schema.field(field).name().clone(),
            cells: Cells::Arrow(array),
        });
    }
    Ok(Table {
        file,
        rows: rows as usize,
        columns,
        lines: None,
        pandas_index,
        zones,
    })
}

/// The first index column that `DataFrame.to_parquet` recorded by name (a
/// `RangeIndex` is recorded as a range, not a column, and is skipped).
fn pandas_time_index(meta: &serde_json::Value) -> Option<String> {
    meta.get("index_columns")?
        .as_array()?
        .iter()
        .find_map(|c| c.as_str().map(str::to_owned))
}

/// The zone pandas recorded for each zoned datetime column.
fn pandas_zones(meta: &serde_json::Value) -> HashMap<String, Tz> {
    let columns = meta.get("columns").and_then(|c| c.as_array());
    columns
        .into_iter()
        .flatten()
        .filter_map(|column| {
            let name = column.get("field_name")?.as_str()?;
            let zone = column.get("metadata")?.get("timezone")?.as_str()?;
            Some((name.to_owned(), zone.parse().ok()?))
        })
        .collect()
}

fn read_csv(
    file: String,
    opened: impl std::io::Read,
    wanted: &[&str],
    limits: FileLimits,
) -> Result<Table, Fault> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(opened));
    let unreadable = |e: &csv::Error| {
        let mut fault = Fault::in_file(
            &file,
            Problem::Unreadable {
                format: "CSV",
                detail: e.to_string(),
            },
        );
        fault.place.row = e.position().map(|p| Row::Line(p.line()));
        fault
    };
    let headers = reader.headers().map_err(|e| unreadable(&e))?.clone();
    let chosen: Vec<usize> = headers
        .iter()
        .enumerate()
        .filter(|(_, name)| wanted.contains(&normalise(name).as_str()))
        .map(|(i, _)| i)
        .collect();
    let mut texts: Vec<(String, Vec<usize>)> = vec![(String::new(), Vec::new()); chosen.len()];
    let mut lines = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader
        .read_record(&mut record)
        .map_err(|e| unreadable(&e))?
    {
        if lines.len() as u64 >= limits.max_rows {
            return Err(Fault::in_file(
                &file,
                Problem::TooManyRows {
                    rows: lines.len() as u64 + 1,
                    limit: limits.max_rows,
                },
            ));
        }
        lines.push(record.position().map_or(0, csv::Position::line));
        for (slot, &field) in texts.iter_mut().zip(&chosen) {
            slot.0.push_str(record.get(field).unwrap_or(""));
            slot.1.push(slot.0.len());
        }
    }
    let columns = chosen
        .iter()
        .zip(texts)
        .map(|(&field, (text, ends))| Column {
            name: headers.get(field).unwrap_or_default().to_owned(),
            cells: Cells::Text { text, ends },
        })
        .collect();
    Ok(Table {
        file,
        rows: lines.len(),
        columns,
        lines: Some(lines),
        pandas_index: None,
        zones: HashMap::new(),
    })
}
