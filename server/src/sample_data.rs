//! `candela sample-data`: writes the bundled sample data set and a sample
//! backtest run on it, deterministically, and on request a long synthetic
//! history to try the chart's paging on.

use std::path::{Path, PathBuf};

use std::fmt::Write as _;

use candela_core::BarFrame;
use candela_core::synthetic::{continuous_minutes, sample_set, write_parquet};
use chrono::DateTime;
use indicatif::{ProgressBar, ProgressStyle};

/// Where the long history goes: symbol `SYNTH:LONG`, stored as one minute.
pub const LONG_HISTORY: &str = "SYNTH/LONG/1m/long_1m.parquet";

/// Writes every series of the sample set under `root`, and `long_minutes`
/// one-minute bars as [`LONG_HISTORY`] if asked; returns the files.
pub fn write(
    root: &Path,
    long_minutes: Option<usize>,
) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let set = sample_set();
    let count = set.len() + usize::from(long_minutes.is_some());
    let progress = ProgressBar::new(count as u64)
        .with_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")?);
    let mut written = Vec::new();
    for (relative, spec) in set {
        written.push(write_series(root, relative, &spec.generate(), &progress)?);
    }
    if let Some(n) = long_minutes {
        written.push(write_series(
            root,
            LONG_HISTORY,
            &continuous_minutes(n, 7),
            &progress,
        )?);
    }
    progress.finish_and_clear();
    Ok(written)
}

fn write_series(
    root: &Path,
    relative: &str,
    frame: &BarFrame,
    progress: &ProgressBar,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    progress.set_message(relative.to_owned());
    let path = root.join(relative);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_parquet(frame, &path)?;
    // Printed whether or not the bar is drawn (it is not without a terminal).
    progress.suspend(|| println!("wrote {} ({} bars)", path.display(), frame.len()));
    progress.inc(1);
    Ok(path)
}

/// The sample run's folder name, under the runs folder.
pub const SAMPLE_RUN: &str = "nflx-sma-cross";

/// The series the sample run trades, in the sample set.
const SAMPLE_RUN_BARS: &str = "ALPACA/NFLX/1h/nflx_1h.parquet";

/// Writes [`SAMPLE_RUN`] into `runs`: a moving-average cross traded on the
/// sample NFLX hours (trades.csv and run.toml; Candela derives its equity
/// curve from the trades and the bars).
pub fn write_run(runs: &Path) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let spec = sample_set()
        .into_iter()
        .find(|(relative, _)| *relative == SAMPLE_RUN_BARS)
        .map(|(_, spec)| spec)
        .ok_or("the sample set has no NFLX hours")?;
    let dir = runs.join(SAMPLE_RUN);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("trades.csv"), sample_trades(&spec.generate()))?;
    std::fs::write(
        dir.join("run.toml"),
        format!(
            "name = \"SMA cross, NFLX hourly (sample)\"\n\
             strategy = \"SmaCross\"\n\
             params = {{ fast = {FAST}, slow = {SLOW}, stop_pct = {STOP_PCT}, target_pct = {TARGET_PCT}, size = {SIZE} }}\n\
             starting_cash = {CASH}\n\
             symbols = [\"ALPACA:NFLX\"]\n\
             timeframe = \"1h\"\n\
             notes = \"Written by candela sample-data: long above the slow average, short below, \
             filled at the next bar's open, with a stop-loss and a take-profit; {COMMISSION_PCT}% commission a side.\"\n"
        ),
    )?;
    println!("wrote {} (a sample backtest run)", dir.display());
    Ok(dir)
}

const FAST: usize = 20;
const SLOW: usize = 50;
const STOP_PCT: f64 = 3.0;
const TARGET_PCT: f64 = 6.0;
const SIZE: f64 = 100.0;
const CASH: f64 = 100_000.0;
const COMMISSION_PCT: f64 = 0.05;

/// An open position of the sample strategy.
struct Position {
    sign: f64,
    entry_time: i64,
    entry_price: f64,
    stop: f64,
    target: f64,
}

/// The sample strategy's trades as CSV: when the fast average of closes
/// crosses the slow one, the position turns at the next bar's open; a stop
/// or target inside a bar closes it at that price (at the open, if the bar
/// opens beyond it). The last trade may still be open.
fn sample_trades(frame: &BarFrame) -> String {
    let (time, open, high, low, close) = (
        frame.time(),
        frame.open(),
        frame.high(),
        frame.low(),
        frame.close(),
    );
    let average = |end: usize, n: usize| close[end + 1 - n..=end].iter().sum::<f64>() / n as f64;
    let mut csv = String::from(
        "side,size,entry_time,entry_price,exit_time,exit_price,pnl,commission,stop_loss,take_profit,tag\n",
    );
    let commission = |price: f64| price * SIZE * COMMISSION_PCT / 100.0;
    let mut write = |p: &Position, exit: Option<(i64, f64)>| {
        let side = if p.sign > 0.0 { "long" } else { "short" };
        let (exit_time, exit_price, pnl, paid) = match exit {
            Some((t, price)) => {
                let paid = commission(p.entry_price) + commission(price);
                let pnl = p.sign * SIZE * (price - p.entry_price) - paid;
                (iso(t), price.to_string(), pnl.to_string(), paid)
            }
            None => (
                String::new(),
                String::new(),
                String::new(),
                commission(p.entry_price),
            ),
        };
        let tag = if p.sign > 0.0 {
            "cross up"
        } else {
            "cross down"
        };
        let _ = writeln!(
            csv,
            "{side},{SIZE},{},{},{exit_time},{exit_price},{pnl},{paid},{},{},{tag}",
            iso(p.entry_time),
            p.entry_price,
            p.stop,
            p.target,
        );
    };
    let mut position: Option<Position> = None;
    let mut wanted = 0.0;
    for i in SLOW..time.len() {
        // Orders decided at the previous close fill at this bar's open.
        if wanted != 0.0 && position.as_ref().is_none_or(|p| p.sign != wanted) {
            if let Some(p) = position.take() {
                write(&p, Some((time[i], open[i])));
            }
            let entry_price = open[i];
            position = Some(Position {
                sign: wanted,
                entry_time: time[i],
                entry_price,
                stop: entry_price * (1.0 - wanted * STOP_PCT / 100.0),
                target: entry_price * (1.0 + wanted * TARGET_PCT / 100.0),
            });
        }
        if let Some(p) = &position {
            let (adverse, favourable) = if p.sign > 0.0 {
                (low[i] <= p.stop, high[i] >= p.target)
            } else {
                (high[i] >= p.stop, low[i] <= p.target)
            };
            let beyond = |level: f64| (open[i] - level) * p.sign;
            let exit = if adverse {
                Some(if beyond(p.stop) < 0.0 {
                    open[i]
                } else {
                    p.stop
                })
            } else if favourable {
                Some(if beyond(p.target) > 0.0 {
                    open[i]
                } else {
                    p.target
                })
            } else {
                None
            };
            if let Some(price) = exit {
                write(p, Some((time[i], price)));
                position = None;
                wanted = 0.0;
            }
        }
        let signal = (average(i, FAST) - average(i, SLOW)).signum();
        let previous = (average(i - 1, FAST) - average(i - 1, SLOW)).signum();
        if signal != previous {
            wanted = signal;
        }
    }
    if let Some(p) = &position {
        write(p, None);
    }
    csv
}

fn iso(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
