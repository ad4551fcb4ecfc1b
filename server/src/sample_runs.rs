//! The sample backtest runs `candela sample-data` writes: two moving-average
//! crosses on the sample NFLX hours, to look at and to lay over each other,
//! and with `--long`, 10,000 trades over the long history, to try (and
//! benchmark) the chart with many trades. Deterministic, like the bars.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use candela_core::BarFrame;
use candela_core::synthetic::{continuous_minutes, sample_set};
use chrono::DateTime;

/// The series the NFLX runs trade, in the sample set.
const NFLX_BARS: &str = "ALPACA/NFLX/1h/nflx_1h.parquet";

/// The NFLX runs: folder name and strategy.
pub const NFLX_RUNS: [(&str, SmaCross); 2] = [
    (
        "nflx-sma-cross",
        SmaCross {
            fast: 20,
            slow: 50,
            stop_pct: 3.0,
            target_pct: 6.0,
        },
    ),
    (
        "nflx-sma-cross-fast",
        SmaCross {
            fast: 10,
            slow: 30,
            stop_pct: 2.0,
            target_pct: 4.0,
        },
    ),
];

/// The run of many trades over `SYNTH:LONG`.
pub const LONG_RUN: &str = "synth-10k";
const LONG_TRADES: usize = 10_000;

/// Units per trade: of NFLX, and of the synthetic series.
const SIZE: f64 = 100.0;
const LONG_SIZE: f64 = 10.0;
const CASH: f64 = 100_000.0;
const COMMISSION_PCT: f64 = 0.05;

/// Writes the NFLX runs into `runs`; their folders.
pub fn write(runs: &Path) -> Result<Vec<PathBuf>, Box<dyn std::error::Error>> {
    let spec = sample_set()
        .into_iter()
        .find(|(relative, _)| *relative == NFLX_BARS)
        .map(|(_, spec)| spec)
        .ok_or("the sample set has no NFLX hours")?;
    let bars = spec.generate();
    let mut written = Vec::new();
    for (name, strategy) in NFLX_RUNS {
        let manifest = format!(
            "name = \"SMA {}/{} cross, NFLX hourly (sample)\"\n\
             strategy = \"SmaCross\"\n\
             params = {{ fast = {}, slow = {}, stop_pct = {}, target_pct = {}, size = {SIZE} }}\n\
             starting_cash = {CASH}\n\
             symbols = [\"ALPACA:NFLX\"]\n\
             timeframe = \"1h\"\n\
             notes = \"Written by candela sample-data: long above the slow average, short below, \
             filled at the next bar's open, with a stop-loss and a take-profit; \
             {COMMISSION_PCT}% commission a side.\"\n",
            strategy.fast,
            strategy.slow,
            strategy.fast,
            strategy.slow,
            strategy.stop_pct,
            strategy.target_pct,
        );
        written.push(write_run(runs, name, &strategy.trades(&bars), &manifest)?);
    }
    Ok(written)
}

/// Writes [`LONG_RUN`] into `runs`: 10,000 trades spread over the
/// first `minutes` of the long history, each held 5 to 64 minutes.
pub fn write_long(runs: &Path, minutes: usize) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let bars = continuous_minutes(minutes, crate::sample_data::LONG_SEED);
    let (time, open) = (bars.time(), bars.open());
    let mut csv = String::from(HEADER);
    let stride = bars.len().saturating_sub(100) / LONG_TRADES;
    if stride == 0 {
        return Err(format!("{LONG_TRADES} trades need more than {minutes} minutes").into());
    }
    let mut seed = 0x5eed_u64;
    for i in 0..LONG_TRADES {
        let draw = next(&mut seed);
        let entry = 50 + i * stride + (draw % 20) as usize;
        let exit = (entry + 5 + (draw >> 8) as usize % 60).min(bars.len() - 1);
        let sign = if draw >> 32 & 1 == 1 { 1.0 } else { -1.0 };
        let fill = |bar: usize| (time[bar], open[bar]);
        let trade = Trade {
            sign,
            size: LONG_SIZE,
            entry: fill(entry),
            levels: None,
        };
        trade.write(&mut csv, Some(fill(exit)), "synthetic");
    }
    let manifest = format!(
        "name = \"{LONG_TRADES} synthetic trades over SYNTH:LONG (sample)\"\n\
         strategy = \"random entries\"\n\
         starting_cash = {CASH}\n\
         symbols = [\"SYNTH:LONG\"]\n\
         timeframe = \"1m\"\n\
         notes = \"Written by candela sample-data --long, to try the chart with many trades.\"\n"
    );
    write_run(runs, LONG_RUN, &csv, &manifest)
}

fn write_run(
    runs: &Path,
    name: &str,
    trades: &str,
    manifest: &str,
) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let dir = runs.join(name);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("trades.csv"), trades)?;
    std::fs::write(dir.join("run.toml"), manifest)?;
    println!("wrote {} (a sample backtest run)", dir.display());
    Ok(dir)
}

const HEADER: &str = "side,size,entry_time,entry_price,exit_time,exit_price,pnl,commission,stop_loss,take_profit,tag\n";

/// A trade as trades.csv writes it.
struct Trade {
    /// +1 long, −1 short.
    sign: f64,
    size: f64,
    /// Time (UTC nanoseconds) and price.
    entry: (i64, f64),
    /// The stop-loss and take-profit prices.
    levels: Option<(f64, f64)>,
}

impl Trade {
    /// One row of trades.csv: closed at `exit` (if any), with the
    /// commission of each fill.
    fn write(&self, csv: &mut String, exit: Option<(i64, f64)>, tag: &str) {
        let commission = |price: f64| price * self.size * COMMISSION_PCT / 100.0;
        let (entry_time, entry_price) = self.entry;
        let side = if self.sign > 0.0 { "long" } else { "short" };
        let (exit_time, exit_price, pnl, paid) = match exit {
            Some((t, price)) => {
                let paid = commission(entry_price) + commission(price);
                let pnl = self.sign * self.size * (price - entry_price) - paid;
                (iso(t), price.to_string(), pnl.to_string(), paid)
            }
            None => (
                String::new(),
                String::new(),
                String::new(),
                commission(entry_price),
            ),
        };
        let (stop, target) = self
            .levels
            .map_or((String::new(), String::new()), |(s, t)| {
                (s.to_string(), t.to_string())
            });
        let _ = writeln!(
            csv,
            "{side},{},{},{entry_price},{exit_time},{exit_price},{pnl},{paid},{stop},{target},{tag}",
            self.size,
            iso(entry_time),
        );
    }
}

/// Long when the fast average of closes is above the slow one, short when
/// below; the position turns at the next bar's open after a cross, and a
/// stop or target inside a bar closes it at that price (at the open, when
/// the bar opens beyond it). The last trade may still be open at the end.
#[derive(Debug, Clone, Copy)]
pub struct SmaCross {
    pub fast: usize,
    pub slow: usize,
    pub stop_pct: f64,
    pub target_pct: f64,
}

impl SmaCross {
    /// The strategy's trades on `bars`, as trades.csv.
    fn trades(&self, bars: &BarFrame) -> String {
        let (time, open, high, low, close) = (
            bars.time(),
            bars.open(),
            bars.high(),
            bars.low(),
            bars.close(),
        );
        let average =
            |end: usize, n: usize| close[end + 1 - n..=end].iter().sum::<f64>() / n as f64;
        let trend = |i: usize| (average(i, self.fast) - average(i, self.slow)).signum();
        let mut csv = String::from(HEADER);
        let mut write = |p: &Trade, exit: Option<(i64, f64)>| {
            let tag = if p.sign > 0.0 {
                "cross up"
            } else {
                "cross down"
            };
            p.write(&mut csv, exit, tag);
        };
        let mut position: Option<Trade> = None;
        let mut wanted = 0.0;
        for i in self.slow..time.len() {
            // Orders decided at the previous close fill at this bar's open.
            if wanted != 0.0 && position.as_ref().is_none_or(|p| p.sign != wanted) {
                if let Some(p) = position.take() {
                    write(&p, Some((time[i], open[i])));
                }
                position = Some(Trade {
                    sign: wanted,
                    size: SIZE,
                    entry: (time[i], open[i]),
                    levels: Some((
                        open[i] * (1.0 - wanted * self.stop_pct / 100.0),
                        open[i] * (1.0 + wanted * self.target_pct / 100.0),
                    )),
                });
            }
            if let Some(p) = &position
                && let Some(price) = p.exit_in(open[i], high[i], low[i])
            {
                write(p, Some((time[i], price)));
                position = None;
                wanted = 0.0;
            }
            if trend(i) != trend(i - 1) {
                wanted = trend(i);
            }
        }
        if let Some(p) = &position {
            write(p, None);
        }
        csv
    }
}

impl Trade {
    /// The price a bar closes the trade at, if its stop or target is hit.
    fn exit_in(&self, open: f64, high: f64, low: f64) -> Option<f64> {
        let (stop, target) = self.levels?;
        let (stopped, reached) = if self.sign > 0.0 {
            (low <= stop, high >= target)
        } else {
            (high >= stop, low <= target)
        };
        let beyond = |level: f64| (open - level) * self.sign;
        if stopped {
            Some(if beyond(stop) < 0.0 { open } else { stop })
        } else if reached {
            Some(if beyond(target) > 0.0 { open } else { target })
        } else {
            None
        }
    }
}

/// splitmix64: deterministic draws without a dependency.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn iso(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
