//! Importing the real CSV files in `tests/data/market/raw` (see its
//! `SOURCES.md`), in the formats they were published in, and reading the
//! result back as the server does: the bars must equal the same data that
//! pandas wrote to parquet (`tests/data/market/parquet`).

use std::fs::File;
use std::path::{Path, PathBuf};

use candela_core::load::StoredSeries;
use candela_core::storage::StoredFile;
use candela_core::{BarFrame, SymbolId, Timeframe};
use candela_import::{Problem, Series, TimeKind, read_csv, write_series};
use chrono_tz::Tz;

fn market(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/market")
        .join(relative)
}

fn symbol(name: &str) -> SymbolId {
    SymbolId {
        provider: "ALPACA".into(),
        symbol: name.into(),
    }
}

/// Imports `raw` as `ALPACA:<name>` into `root`; the series and its file.
fn import(
    raw: &str,
    name: &str,
    timeframe: Option<&str>,
    end_times: bool,
    root: &Path,
) -> (Series, PathBuf) {
    let path = market(raw);
    let file = File::open(&path).expect("raw file");
    let table = read_csv(&path, file, None).expect("read");
    let timeframe = timeframe.map(|t| t.parse::<Timeframe>().expect("timeframe"));
    let series = Series::new(table, timeframe, end_times).expect("series");
    let written = write_series(&series, root, &symbol(name), "imported", false).expect("write");
    (series, written.path)
}

fn load(path: &Path) -> BarFrame {
    let root = path.ancestors().nth(4).expect("root");
    StoredSeries::new(&[StoredFile::Path(path.to_owned())], Tz::UTC, root)
        .load()
        .expect("load")
}

/// Bar for bar: the same times and the same values, bit for bit.
fn assert_same(ours: &BarFrame, reference: &BarFrame, what: &str) {
    assert_eq!(ours.len(), reference.len(), "{what}: bar count");
    assert_eq!(ours.time(), reference.time(), "{what}: times");
    for (name, a, b) in [
        ("open", ours.open(), reference.open()),
        ("high", ours.high(), reference.high()),
        ("low", ours.low(), reference.low()),
        ("close", ours.close(), reference.close()),
        ("volume", ours.volume(), reference.volume()),
    ] {
        let differ = a
            .iter()
            .zip(b)
            .position(|(x, y)| x.to_bits() != y.to_bits());
        assert_eq!(differ, None, "{what}: {name} differs at bar {differ:?}");
    }
}

#[test]
fn yahoo_daily_csv_equals_the_parquet_pandas_wrote() {
    let root = tempfile::tempdir().expect("root");
    let (series, path) = import("raw/yhoo-1996-2014.txt", "YHOO", None, false, root.path());
    assert_eq!(series.timeframe.to_string(), "1d");
    assert!(series.timeframe_inferred);
    assert_eq!(series.format.to_string(), "%Y-%m-%d");
    assert_eq!(series.kind(), TimeKind::WallClock);
    assert_eq!((series.rows_read, series.duplicates), (4713, 0));
    assert!(series.gaps > 900, "weekends and holidays: {}", series.gaps);
    let gap = series.longest_gap.expect("a longest gap");
    // The markets closed for four trading days after 11 September 2001.
    assert_eq!(
        (gap.after, gap.before),
        (1_000_080_000 * 1_000_000_000, 1_000_684_800 * 1_000_000_000)
    );
    assert_eq!(
        path,
        root.path().join("ALPACA/YHOO/1d/imported.parquet"),
        "the layout Candela serves"
    );
    let reference = load(&market("parquet/ALPACA/YHOO/1d/yhoo_1d.parquet"));
    assert_same(&load(&path), &reference, "YHOO 1d");
}

#[test]
fn five_minute_bars_with_a_date_and_a_time_column_and_end_times() {
    let root = tempfile::tempdir().expect("root");
    let (series, path) = import("raw/2006-min-005.txt", "BTIDX", None, true, root.path());
    assert_eq!(series.timeframe.to_string(), "5m");
    assert_eq!(series.time_column, "Date + Time");
    assert_eq!(series.rows_read, 2142);
    let reference = load(&market("parquet/ALPACA/BTIDX/5m/btidx_5m.parquet"));
    assert_same(&load(&path), &reference, "BTIDX 5m");
}

#[test]
fn minute_bars_whose_header_lacks_the_time_column() {
    let root = tempfile::tempdir().expect("root");
    let (series, path) = import(
        "raw/2006-01-02-volume-min-001.txt",
        "BTFUT",
        Some("1m"),
        true,
        root.path(),
    );
    assert_eq!(series.rows_read, 30_889);
    assert_eq!(series.spacing_suggests, None);
    assert_eq!(series.time_column, "Date + (time, unnamed)");
    let reference = load(&market("parquet/ALPACA/BTFUT/1m/btfut_1m.parquet"));
    assert_same(&load(&path), &reference, "BTFUT 1m");
}

#[test]
fn weekly_bars_labelled_by_their_last_trading_day() {
    let root = tempfile::tempdir().expect("root");
    let (series, _) = import("raw/2006-week-001.txt", "BTIDX", None, false, root.path());
    assert_eq!(series.timeframe.to_string(), "1w");
    assert_eq!(series.times.len(), 52);
}

#[test]
fn a_malformed_row_names_file_line_and_column_and_writes_nothing() {
    let text = std::fs::read_to_string(market("raw/yhoo-1996-2014.txt")).expect("raw");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2001] = "2004-03-01,40.1,41.0,39.9,forty,40.5,1000";
    let dir = tempfile::tempdir().expect("dir");
    let broken = dir.path().join("yhoo.csv");
    std::fs::write(&broken, lines.join("\n")).expect("write");
    let error = read_csv(&broken, File::open(&broken).expect("open"), None).expect_err("bad row");
    assert_eq!(
        error.to_string(),
        format!(
            "{}:2002: column 'Close': 'forty' is not a number",
            broken.display()
        )
    );

    lines[2001] = "2004-03-01,40.1,41.0";
    std::fs::write(&broken, lines.join("\n")).expect("write");
    let error = read_csv(&broken, File::open(&broken).expect("open"), None).expect_err("short");
    assert!(matches!(
        error.problem,
        Problem::FieldCount {
            found: 3,
            expected: 7
        }
    ));
    assert_eq!(error.place.map(|p| p.line), Some(2002));
}

#[test]
fn an_imported_file_is_not_overwritten_unless_asked() {
    let root = tempfile::tempdir().expect("root");
    let (series, path) = import("raw/2006-week-001.txt", "BTIDX", None, false, root.path());
    let again = write_series(&series, root.path(), &symbol("BTIDX"), "imported", false)
        .expect_err("exists");
    assert!(matches!(again.problem, Problem::Exists), "{again}");
    assert_eq!(again.file, path);
    write_series(&series, root.path(), &symbol("BTIDX"), "imported", true).expect("replaced");
    let partial = std::fs::read_dir(path.parent().expect("folder"))
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|e| e.path() != path)
        .count();
    assert_eq!(partial, 0, "nothing but the file is left in its folder");
}
