//! `candela import`: CSV files (or folders of them) into the data root, with
//! a progress bar per file and a summary of what each held.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use candela_core::{SymbolId, Timeframe};
use candela_import::{
    Appended, ImportError, Series, TimeKind, Written, append_series, read_csv, write_series,
};
use chrono::DateTime;
use chrono_tz::Tz;
use indicatif::{ProgressBar, ProgressStyle};

/// File endings read from a folder.
const CSV_ENDINGS: [&str; 3] = ["csv", "txt", "tsv"];

/// Whose bars the inputs are.
#[derive(Debug, Clone)]
pub enum Owner {
    /// Every input holds this symbol's bars.
    Symbol(SymbolId),
    /// One file per symbol of this provider, named after it (`NFLX.csv`).
    Provider(String),
}

/// What `candela import` was asked to do.
#[derive(Debug, Clone)]
pub struct Request {
    pub inputs: Vec<PathBuf>,
    pub owner: Owner,
    pub timeframe: Option<Timeframe>,
    pub time_format: Option<String>,
    pub end_times: bool,
    pub replace: bool,
    /// Add the bars after the series' last bar, as a part file of their own.
    pub append: bool,
    /// The data root.
    pub root: PathBuf,
}

/// Parses `PROVIDER:SYMBOL`.
pub fn parse_symbol(text: &str) -> Result<SymbolId, String> {
    match text.split_once(':') {
        Some((provider, symbol)) if !provider.is_empty() && !symbol.is_empty() => Ok(SymbolId {
            provider: provider.to_owned(),
            symbol: symbol.to_owned(),
        }),
        _ => Err(format!(
            "expected PROVIDER:SYMBOL, e.g. ALPACA:NFLX, got '{text}'; \
             the data root keeps every symbol under a provider"
        )),
    }
}

/// Imports every file; returns how many failed, each reported as it failed.
/// `zones` tells the zone a provider's wall-clock times are read in.
pub fn run(request: &Request, zones: &dyn Fn(&str) -> Tz) -> Result<usize, String> {
    let files = expand(&request.inputs)?;
    let mut failed = 0;
    for file in &files {
        let done = read_file(request, file).and_then(|(series, symbol)| {
            let zone = zones(&symbol.provider);
            if request.append {
                let appended =
                    append_series(&series, &request.root, &symbol, zone, request.replace)?;
                Ok(appended_summary(&series, &symbol, &appended))
            } else {
                let name = file
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let written =
                    write_series(&series, &request.root, &symbol, &name, request.replace)?;
                Ok(summary(&series, &symbol, &written, zone))
            }
        });
        match done {
            Ok(text) => print!("{text}"),
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
            }
        }
    }
    if files.len() > 1 {
        println!(
            "imported {} of {} files into {}",
            files.len() - failed,
            files.len(),
            request.root.display()
        );
    }
    Ok(failed)
}

/// The files named, folders replaced by the CSV files in them, by name.
fn expand(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|e| format!("{}: {e}", input.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|e| CSV_ENDINGS.iter().any(|c| e.eq_ignore_ascii_case(c)))
                })
                .collect();
            if inside.is_empty() {
                return Err(format!(
                    "{} holds no CSV files (*.csv, *.txt, *.tsv)",
                    input.display()
                ));
            }
            inside.sort();
            files.extend(inside);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            return Err(format!("{}: no such file or folder", input.display()));
        }
    }
    Ok(files)
}

/// The bars of one input file, and whose they are.
fn read_file(request: &Request, file: &Path) -> Result<(Series, SymbolId), ImportError> {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let symbol = match &request.owner {
        Owner::Symbol(symbol) => symbol.clone(),
        Owner::Provider(provider) => SymbolId {
            provider: provider.clone(),
            symbol: stem.clone(),
        },
    };
    let io = |e| ImportError {
        file: file.to_owned(),
        place: None,
        problem: candela_import::Problem::Io(e),
    };
    let input = File::open(file).map_err(io)?;
    let size = input.metadata().map_err(io)?.len();
    let progress = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    progress.set_message(format!("reading {}", file.display()));
    let table = read_csv(
        file,
        progress.wrap_read(input),
        request.time_format.as_deref(),
    );
    progress.finish_and_clear();
    let series = Series::new(table?, request.timeframe, request.end_times)?;
    Ok((series, symbol))
}

/// What an append says: the part file, the bars it added, and what it replaced.
fn appended_summary(series: &Series, symbol: &SymbolId, appended: &Appended) -> String {
    let (first, last) = (
        series.times.first().copied().unwrap_or_default(),
        series.times.last().copied().unwrap_or_default(),
    );
    let show = |t: i64| instant(t, series.kind());
    let replaced = match appended.replaced {
        0 => String::new(),
        n => format!(
            "; {} bars from {} on replaced, the series written again whole",
            thousands(n),
            show(first)
        ),
    };
    format!(
        "{symbol}: appended {} bars of {}, {} to {}, as {}{replaced}\n",
        thousands(appended.bars),
        series.timeframe,
        show(first),
        show(last),
        appended.path.display()
    )
}

/// What a user wants to know of an import: where it went, how many bars of
/// what, from when to when, read how, and what was odd.
fn summary(series: &Series, symbol: &SymbolId, written: &Written, zone: Tz) -> String {
    let mut out = String::new();
    let how = if series.timeframe_inferred {
        "told from the spacing"
    } else {
        "as given"
    };
    let (first, last) = (
        series.times.first().copied().unwrap_or_default(),
        series.times.last().copied().unwrap_or_default(),
    );
    let show = |t: i64| instant(t, series.kind());
    let _ = writeln!(out, "{symbol}: wrote {}", written.path.display());
    let _ = writeln!(
        out,
        "  {} bars of {} ({how}), {} to {}",
        thousands(series.times.len()),
        series.timeframe,
        show(first),
        show(last)
    );
    let meaning = match series.kind() {
        TimeKind::Instant => "instants".to_owned(),
        TimeKind::WallClock => format!("wall-clock times of {} ({zone})", symbol.provider),
    };
    let _ = writeln!(
        out,
        "  time: {}, {}, read as {meaning}",
        series.time_column, series.format
    );
    let mut notes = vec![format!(
        "{} rows read, {} repeated times dropped",
        thousands(series.rows_read),
        thousands(series.duplicates)
    )];
    if series.was_unsorted {
        notes.push("rows were out of order and are sorted".into());
    }
    match series.longest_gap {
        Some(gap) => notes.push(format!(
            "{} gaps longer than one bar (sessions' ends included), the longest {} from {} to {}",
            thousands(series.gaps),
            candela_import::duration(gap.before - gap.after),
            show(gap.after),
            show(gap.before)
        )),
        None => notes.push("no gaps".into()),
    }
    let _ = writeln!(out, "  {}", notes.join("; "));
    let mut warnings = Vec::new();
    if let Some(suggested) = series.spacing_suggests {
        warnings.push(format!(
            "the bars are most often {suggested} apart, not {}: check --timeframe",
            series.timeframe
        ));
    }
    if !series.has_volume {
        warnings.push("no volume column: volume is left empty".into());
    }
    if series.inconsistent > 0 {
        warnings.push(format!(
            "{} bars have a high below their open, low or close, or a low above their open or close",
            thousands(series.inconsistent)
        ));
    }
    if !written.beside.is_empty() {
        warnings.push(format!(
            "the folder also holds {} other file(s), served with this one as one series",
            written.beside.len()
        ));
    }
    for warning in warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
    out
}

/// A time as its file means it: UTC for instants, the wall clock otherwise;
/// the date alone at midnight.
fn instant(nanos: i64, kind: TimeKind) -> String {
    let time = DateTime::from_timestamp_nanos(nanos);
    let midnight = nanos.rem_euclid(86_400 * 1_000_000_000) == 0;
    match (kind, midnight) {
        (_, true) => time.format("%Y-%m-%d").to_string(),
        (TimeKind::Instant, false) => time.format("%Y-%m-%d %H:%M UTC").to_string(),
        (TimeKind::WallClock, false) => time.format("%Y-%m-%d %H:%M").to_string(),
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(30_889), "30,889");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn a_folder_of_files_is_one_symbol_per_file_and_a_bad_file_fails_alone() {
        let inputs = tempfile::tempdir().expect("inputs");
        let rows = "Date,Open,High,Low,Close,Volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-03,1,2,0.5,1.5,10\n";
        std::fs::write(inputs.path().join("NFLX.csv"), rows).expect("csv");
        std::fs::write(inputs.path().join("AAPL.txt"), rows).expect("csv");
        std::fs::write(inputs.path().join("BAD.csv"), "Date,Open\n2024-01-02,1\n").expect("csv");
        std::fs::write(inputs.path().join("notes.md"), "not bars").expect("other");
        let root = tempfile::tempdir().expect("root");
        let request = Request {
            inputs: vec![inputs.path().to_owned()],
            owner: Owner::Provider("ALPACA".into()),
            timeframe: None,
            time_format: None,
            end_times: false,
            replace: false,
            append: false,
            root: root.path().to_owned(),
        };
        let failed = run(&request, &|_| Tz::UTC).expect("run");
        assert_eq!(failed, 1, "BAD.csv has no high, low or close");
        for symbol in ["NFLX", "AAPL"] {
            let file = root
                .path()
                .join(format!("ALPACA/{symbol}/1d/{symbol}.parquet"));
            assert!(file.is_file(), "{}", file.display());
        }
        assert!(
            !root.path().join("ALPACA/BAD").exists(),
            "nothing written for a bad file"
        );

        let empty = tempfile::tempdir().expect("empty");
        let request = Request {
            inputs: vec![empty.path().to_owned()],
            ..request
        };
        let error = run(&request, &|_| Tz::UTC).expect_err("no CSV files");
        assert!(error.contains("holds no CSV files"), "{error}");
    }

    #[test]
    fn symbols_need_a_provider() {
        let id = parse_symbol("ALPACA:NFLX").expect("symbol");
        assert_eq!(
            (id.provider.as_str(), id.symbol.as_str()),
            ("ALPACA", "NFLX")
        );
        for bad in ["NFLX", ":NFLX", "ALPACA:", ""] {
            assert!(parse_symbol(bad).is_err(), "{bad}");
        }
    }
}
