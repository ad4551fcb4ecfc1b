//! A run's equity curve: read from its file, or derived from its trades
//! and the bars they were made on.

use std::collections::BTreeMap;

use candela_core::frame::bar_holding;
use candela_core::{BarFrame, SymbolId};
use chrono_tz::Tz;

use crate::error::Problem;
use crate::table::{Fault, Table};
use crate::trades::{Outcome, Trade, iso};

/// The account's value over time, one point per bar of the backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct EquityCurve {
    /// UTC nanoseconds, strictly increasing; never empty.
    pub time: Vec<i64>,
    pub equity: Vec<f64>,
    pub cash: Option<Vec<f64>>,
    /// Derived from the trades rather than read.
    pub derived: bool,
}

impl EquityCurve {
    /// The points at or before `instant`.
    pub fn until(&self, instant: i64) -> EquityCurve {
        let kept = self.time.partition_point(|&t| t <= instant);
        EquityCurve {
            time: self.time[..kept].to_vec(),
            equity: self.equity[..kept].to_vec(),
            cash: self.cash.as_ref().map(|cash| cash[..kept].to_vec()),
            derived: self.derived,
        }
    }
}

pub(crate) mod names {
    pub const TIME: &[&str] = &["time", "datetime", "timestamp", "date"];
    pub const EQUITY: &[&str] = &["equity", "value"];
    pub const CASH: &[&str] = &["cash"];

    pub fn all() -> Vec<&'static str> {
        [TIME, EQUITY, CASH].concat()
    }
}

/// An equity file's curve and the zone its times carry, if any.
pub(crate) fn read(table: &Table, zone: Tz) -> Result<(EquityCurve, Option<Tz>), Fault> {
    let time_column = match table.pandas_index() {
        Some(index) => index,
        None => table.require(names::TIME, "time")?,
    };
    let times = table.times(time_column, zone)?;
    let equity_column = table.require(names::EQUITY, "equity")?;
    let values = table.numbers(equity_column)?;
    let cash = match table.find(names::CASH) {
        Some(c) => Some((c, table.numbers(c)?)),
        None => None,
    };
    if table.rows() == 0 {
        return Err(Fault::in_file(table.file(), Problem::NoRows));
    }
    let fault = |column: usize, row: usize, problem| Fault {
        place: table.place(column, Some(row)),
        problem,
    };
    let finite = |column: usize, row: usize, value: Option<f64>| match value {
        Some(v) if v.is_finite() => Ok(v),
        Some(v) => Err(fault(column, row, Problem::NotFinite(v))),
        None => Err(fault(
            column,
            row,
            Problem::Empty("every point of the equity curve has a value"),
        )),
    };
    let mut curve = EquityCurve {
        time: Vec::with_capacity(table.rows()),
        equity: Vec::with_capacity(table.rows()),
        cash: cash.as_ref().map(|_| Vec::with_capacity(table.rows())),
        derived: false,
    };
    for row in 0..table.rows() {
        let time = times.values[row].ok_or_else(|| {
            fault(
                time_column,
                row,
                Problem::Empty("every point of the equity curve has a time"),
            )
        })?;
        if let Some(&previous) = curve.time.last()
            && time <= previous
        {
            return Err(fault(
                time_column,
                row,
                Problem::NotIncreasing {
                    earlier: iso(time),
                    later: iso(previous),
                },
            ));
        }
        curve.time.push(time);
        curve.equity.push(finite(equity_column, row, values[row])?);
        if let (Some((column, cells)), Some(out)) = (&cash, curve.cash.as_mut()) {
            out.push(finite(*column, row, cells[row])?);
        }
    }
    Ok((curve, times.zone))
}

/// The equity curve implied by `trades` on the bars of their symbols: the
/// starting cash, plus the PnL of each trade from the bar it exits in on,
/// plus each open position marked to the close of every bar it is held
/// through. Runs from the bar of the first entry to the bar of the last
/// exit (or the last bar, while a trade is open).
pub(crate) fn derive(
    trades: &[Trade],
    starting_cash: f64,
    bars: &BTreeMap<SymbolId, std::sync::Arc<BarFrame>>,
) -> Result<EquityCurve, Problem> {
    let first_entry = trades.iter().map(|t| t.entry.time).min();
    let last_exit = trades
        .iter()
        .map(|t| t.exit().map_or(i64::MAX, |e| e.time))
        .max();
    let (Some(first_entry), Some(last_exit)) = (first_entry, last_exit) else {
        return Ok(EquityCurve {
            time: Vec::new(),
            equity: Vec::new(),
            cash: None,
            derived: true,
        });
    };
    // The axis: every bar of every symbol, from the one holding the first
    // entry to the one holding the last exit.
    let mut time: Vec<i64> = Vec::new();
    for (symbol, frame) in bars {
        let times = frame.time();
        let start = bar_holding(times, first_entry).unwrap_or(0);
        let end = bar_holding(times, last_exit).map_or(0, |i| i + 1);
        if start >= end {
            return Err(Problem::NoBars(symbol.to_string()));
        }
        time.extend_from_slice(&times[start..end]);
    }
    time.sort_unstable();
    time.dedup();

    // Position changes, as (axis index, symbol, signed units, cost), and
    // realised PnL, as (axis index, pnl).
    let symbols: Vec<&SymbolId> = bars.keys().collect();
    let mut moves: Vec<(usize, usize, f64, f64)> = Vec::new();
    let mut realised: Vec<(usize, f64)> = Vec::new();
    for trade in trades {
        let Some(s) = symbols.iter().position(|s| **s == trade.symbol) else {
            return Err(Problem::NoBars(trade.symbol.to_string()));
        };
        let units = trade.side.sign() * trade.size;
        let entered = bar_holding(&time, trade.entry.time).unwrap_or(0);
        moves.push((entered, s, units, units * trade.entry.price));
        if let Outcome::Closed { exit, pnl } = trade.outcome {
            let exited = bar_holding(&time, exit.time).unwrap_or(0);
            moves.push((exited, s, -units, -units * trade.entry.price));
            realised.push((exited, pnl));
        }
    }
    moves.sort_by_key(|m| m.0);
    realised.sort_by_key(|r| r.0);

    let mut held = vec![0.0; symbols.len()];
    let mut cost = vec![0.0; symbols.len()];
    let mut cursor = vec![0usize; symbols.len()];
    let mut last_close = vec![f64::NAN; symbols.len()];
    let (mut next_move, mut next_pnl, mut booked) = (0, 0, 0.0);
    let mut equity = Vec::with_capacity(time.len());
    for (i, &t) in time.iter().enumerate() {
        while next_pnl < realised.len() && realised[next_pnl].0 <= i {
            booked += realised[next_pnl].1;
            next_pnl += 1;
        }
        while next_move < moves.len() && moves[next_move].0 <= i {
            let (_, s, units, paid) = moves[next_move];
            held[s] += units;
            cost[s] += paid;
            next_move += 1;
        }
        let mut open = 0.0;
        for (s, frame) in bars.values().enumerate() {
            let times = frame.time();
            while cursor[s] < times.len() && times[cursor[s]] <= t {
                last_close[s] = frame.close()[cursor[s]];
                cursor[s] += 1;
            }
            if held[s] != 0.0 && last_close[s].is_finite() {
                open += held[s] * last_close[s] - cost[s];
            }
        }
        equity.push(starting_cash + booked + open);
    }
    Ok(EquityCurve {
        time,
        equity,
        cash: None,
        derived: true,
    })
}

impl EquityCurve {
    /// How far below its running peak the curve is at each point, as a
    /// fraction (zero or positive), as backtesting.py's `DrawdownPct` is.
    pub fn drawdown(&self) -> Vec<f64> {
        let mut peak = f64::NEG_INFINITY;
        self.equity
            .iter()
            .map(|&e| {
                peak = peak.max(e);
                1.0 - e / peak
            })
            .collect()
    }

    /// The drawdown as the API and SQL show it: percent below the running
    /// peak, zero (never −0) or negative, as `max_drawdown_pct` is.
    pub fn drawdown_pct(&self) -> Vec<f64> {
        self.drawdown()
            .into_iter()
            .map(|d| 0.0 - d * 100.0)
            .collect()
    }
}
