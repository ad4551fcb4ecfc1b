//! Reading one CSV file into columns of bars.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use csv::StringRecord;

use crate::columns::{Layout, TimeFields, VALUES};
use crate::error::{ImportError, Place, Problem};
use crate::time::{TimeError, TimeFormat};

/// Records read to tell the time's format.
const SAMPLE_ROWS: usize = 100;
/// The first line is read to find the delimiter; a longer one is no CSV of bars.
const MAX_FIRST_LINE: u64 = 64 * 1024;

/// The bars of one file, in file order.
#[derive(Debug)]
pub struct Table {
    pub file: PathBuf,
    /// How the time is written, as found (or as given).
    pub format: TimeFormat,
    /// The column(s) the time was read from, for the summary.
    pub time_column: String,
    /// Nanoseconds since 1970 (UTC, or wall clock as if UTC; see `format`).
    pub times: Vec<i64>,
    /// open, high, low, close, volume; a missing value is NaN.
    pub values: [Vec<f64>; 5],
    pub has_volume: bool,
}

/// Reads the bars of `input`, the contents of `file` (named in errors).
/// `time_format` is a `strftime` pattern the user named; without one the
/// format is told from the first rows.
pub fn read_csv(
    file: &Path,
    input: impl Read,
    time_format: Option<&str>,
) -> Result<Table, ImportError> {
    let fail = |line: Option<u64>, column: Option<&str>, problem: Problem| ImportError {
        file: file.to_owned(),
        place: line.map(|line| Place {
            line,
            column: column.map(str::to_owned),
        }),
        problem,
    };
    let mut input = BufReader::new(input);
    let mut first_line = Vec::new();
    (&mut input)
        .take(MAX_FIRST_LINE)
        .read_until(b'\n', &mut first_line)
        .map_err(|e| fail(None, None, Problem::Io(e)))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(&first_line))
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(Cursor::new(first_line).chain(input));
    let mut records = reader.records().map(|record| {
        record.map_err(|e| {
            let line = e.position().map(csv::Position::line);
            fail(line, None, Problem::Csv(e.to_string()))
        })
    });

    let mut head: Vec<StringRecord> = Vec::with_capacity(SAMPLE_ROWS + 1);
    for record in records.by_ref().take(SAMPLE_ROWS + 1) {
        head.push(record?);
    }
    let Some(first) = head.first() else {
        return Err(fail(None, None, Problem::Empty));
    };
    fn fields(r: &StringRecord) -> Vec<&str> {
        r.iter().collect()
    }
    let layout = Layout::of(&fields(first), head.get(1).map(fields).as_deref())
        .map_err(|p| fail(line_of(first), None, p))?;
    if layout.header {
        head.remove(0);
    }
    if head.is_empty() {
        return Err(fail(None, None, Problem::Empty));
    }
    let time_column = match layout.time {
        TimeFields::One(i) => layout.names[i].clone(),
        TimeFields::DateAndTime { date, time } => {
            format!("{} + {}", layout.names[date], layout.names[time])
        }
    };
    let mut text = String::new();
    let format = match time_format {
        Some(pattern) => TimeFormat::custom(pattern),
        None => {
            let samples: Vec<String> = head
                .iter()
                .map(|r| time_text(r, layout.time, &mut text).to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            let samples: Vec<&str> = samples.iter().map(String::as_str).collect();
            // The format of all the first rows, else of the first: a later
            // row that differs is then reported at its own line.
            TimeFormat::detect(&samples)
                .or_else(|| TimeFormat::detect(&samples[..samples.len().min(1)]))
                .ok_or_else(|| {
                    let first = head.first();
                    fail(
                        first.and_then(line_of),
                        Some(&time_column),
                        Problem::UnknownTimeFormat {
                            value: samples.first().copied().unwrap_or_default().to_owned(),
                        },
                    )
                })?
        }
    };

    let mut table = Table {
        file: file.to_owned(),
        format,
        time_column,
        times: Vec::new(),
        values: Default::default(),
        has_volume: layout.values[4].is_some(),
    };
    for record in head.into_iter().map(Ok).chain(records) {
        let record = record?;
        let line = line_of(&record);
        if record.len() != layout.fields() && !only_empty_after(&record, layout.fields()) {
            return Err(fail(
                line,
                None,
                Problem::FieldCount {
                    found: record.len(),
                    expected: layout.fields(),
                },
            ));
        }
        let value = time_text(&record, layout.time, &mut text);
        let time = table.format.parse(value).map_err(|e| {
            let value = value.chars().take(64).collect();
            let problem = match e {
                TimeError::Invalid => Problem::BadTime {
                    value,
                    format: table.format.to_string(),
                },
                TimeError::OutOfRange => Problem::TimeOutOfRange { value },
            };
            fail(line, Some(&table.time_column), problem)
        })?;
        table.times.push(time);
        for ((column, index), name) in table.values.iter_mut().zip(layout.values).zip(VALUES) {
            let number = match index {
                Some(i) => number(record.get(i).unwrap_or_default()).ok_or_else(|| {
                    let value = record.get(i).unwrap_or_default();
                    fail(
                        line,
                        Some(layout.names.get(i).map_or(name, String::as_str)),
                        Problem::NotANumber {
                            value: value.chars().take(64).collect(),
                        },
                    )
                })?,
                None => f64::NAN,
            };
            column.push(number);
        }
    }
    if table.times.is_empty() {
        return Err(fail(None, None, Problem::Empty));
    }
    Ok(table)
}

/// The most frequent of `,`, `;`, tab and `|` in the first line; `,` if none.
fn delimiter(first_line: &[u8]) -> u8 {
    [b',', b';', b'\t', b'|']
        .into_iter()
        .rev()
        .max_by_key(|d| first_line.iter().filter(|b| *b == d).count())
        .filter(|d| first_line.contains(d))
        .unwrap_or(b',')
}

fn line_of(record: &StringRecord) -> Option<u64> {
    record.position().map(csv::Position::line)
}

/// A trailing delimiter makes empty fields past the last column; they are no error.
fn only_empty_after(record: &StringRecord, fields: usize) -> bool {
    record.len() > fields && record.iter().skip(fields).all(str::is_empty)
}

/// The record's time as one text, `date time` when it is in two fields.
fn time_text<'a>(record: &'a StringRecord, fields: TimeFields, buffer: &'a mut String) -> &'a str {
    match fields {
        TimeFields::One(i) => record.get(i).unwrap_or_default(),
        TimeFields::DateAndTime { date, time } => {
            buffer.clear();
            buffer.push_str(record.get(date).unwrap_or_default());
            buffer.push(' ');
            buffer.push_str(record.get(time).unwrap_or_default());
            buffer
        }
    }
}

/// A value: a finite number, or missing (empty, `NaN`, `null`, `N/A`, `-`).
fn number(text: &str) -> Option<f64> {
    if text.is_empty()
        || ["nan", "null", "n/a", "na", "-"]
            .iter()
            .any(|m| text.eq_ignore_ascii_case(m))
    {
        return Some(f64::NAN);
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Table, ImportError> {
        read_csv(Path::new("bars.csv"), text.as_bytes(), None)
    }

    #[test]
    fn delimiters_are_told_from_the_first_line() {
        assert_eq!(delimiter(b"a,b,c\n"), b',');
        assert_eq!(delimiter(b"a;b;c\n"), b';');
        assert_eq!(delimiter(b"a\tb\tc\n"), b'\t');
        assert_eq!(delimiter(b"a|b|c\n"), b'|');
        assert_eq!(delimiter(b"abc\n"), b',');
        let table = read("Date;Open;High;Low;Close\n2024-01-02;1,5;2;1;1\n");
        assert!(table.is_err(), "a decimal comma is not a number");
        let table = read("Date;Open;High;Low;Close\n2024-01-02;1.5;2;1;1\n").expect("bars");
        assert_eq!(table.values[0], [1.5]);
        assert!(!table.has_volume && table.values[4][0].is_nan());
    }

    #[test]
    fn missing_values_are_nan_and_bad_ones_name_line_and_column() {
        let table = read("time,open,high,low,close,volume\n1,1,2,0.5,,null\n2,1,2,0.5,1,N/A\n")
            .expect("bars");
        assert!(table.values[3][0].is_nan() && table.values[4][1].is_nan());
        assert_eq!(table.times, [1_000_000_000, 2_000_000_000]);

        let error =
            read("time,open,high,low,close\n1,1,2,0.5,1\n2,1,2,oops,1\n").expect_err("a bad low");
        assert_eq!(
            error.to_string(),
            "bars.csv:3: column 'low': 'oops' is not a number"
        );
        let error = read("time,open,high,low,close\n1,1,2,0.5,inf\n").expect_err("infinite");
        assert!(error.to_string().contains(":2: column 'close'"), "{error}");
    }

    #[test]
    fn a_row_of_another_length_is_an_error_but_a_trailing_comma_is_not() {
        let ok = read("time,open,high,low,close\n1,1,2,0.5,1,\n").expect("trailing comma");
        assert_eq!(ok.times.len(), 1);
        let error = read("time,open,high,low,close\n1,1,2,0.5,1\n2,1,2\n").expect_err("short");
        assert_eq!(
            error.to_string(),
            "bars.csv:3: 3 fields where the header names 5"
        );
    }

    #[test]
    fn a_time_unlike_the_rows_before_names_its_line() {
        let error = read("date,open,high,low,close\n2024-01-02,1,2,0.5,1\n02/01/2024,1,2,0.5,1\n")
            .expect_err("another format");
        let text = error.to_string();
        assert!(
            text.starts_with("bars.csv:3: column 'date': '02/01/2024' is not a time"),
            "{text}"
        );
        assert!(text.contains("--time-format"), "{text}");
        let error = read("date,open,high,low,close\nsoon,1,2,0.5,1\n").expect_err("no time");
        assert!(
            error
                .to_string()
                .contains("cannot tell what time 'soon' is"),
            "{error}"
        );
    }

    #[test]
    fn an_empty_file_or_header_alone_holds_no_bars() {
        for text in ["", "\n\n", "date,open,high,low,close\n"] {
            let error = read(text).expect_err(text);
            assert!(matches!(error.problem, Problem::Empty), "{text:?}: {error}");
        }
    }

    #[test]
    fn a_named_format_is_used_as_given() {
        let table = read_csv(
            Path::new("bars.csv"),
            "date,open,high,low,close\n02-Jan-2024,1,2,0.5,1\n".as_bytes(),
            Some("%d-%b-%Y"),
        )
        .expect("bars");
        assert_eq!(table.times, [1_704_153_600 * 1_000_000_000]);
    }
}
