//! A run's trades: one row per trade, in Candela's column names or
//! backtesting.py's (`stats._trades` as `to_parquet` writes it), checked row
//! by row.

use std::collections::HashMap;

use candela_core::{Catalog, SymbolId};
use chrono::DateTime;
use chrono_tz::Tz;

use crate::error::Problem;
use crate::table::{Fault, Table};

/// Which way a trade bets.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Long,
    Short,
}

impl Side {
    /// +1 for long, −1 for short.
    pub fn sign(self) -> f64 {
        match self {
            Side::Long => 1.0,
            Side::Short => -1.0,
        }
    }
}

/// An entry or an exit: when, and at what price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fill {
    /// UTC nanoseconds.
    pub time: i64,
    pub price: f64,
}

/// How a trade ended, if it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Still open when the run ended.
    Open,
    Closed {
        exit: Fill,
        /// Net of costs.
        pnl: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Trade {
    pub symbol: SymbolId,
    pub side: Side,
    /// Units, always positive (the side says which way).
    pub size: f64,
    pub entry: Fill,
    pub outcome: Outcome,
    pub commission: Option<f64>,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    pub tag: Option<String>,
}

impl Trade {
    pub fn exit(&self) -> Option<Fill> {
        match self.outcome {
            Outcome::Closed { exit, .. } => Some(exit),
            Outcome::Open => None,
        }
    }

    pub fn pnl(&self) -> Option<f64> {
        match self.outcome {
            Outcome::Closed { pnl, .. } => Some(pnl),
            Outcome::Open => None,
        }
    }

    /// The net return on the money the entry committed, as a fraction:
    /// `pnl / (size × entry price)`, which is backtesting.py's `ReturnPct`
    /// (its gross return less the commission per unit of entry value).
    pub fn return_fraction(&self) -> Option<f64> {
        self.pnl().map(|pnl| self.fraction_of_entry(pnl))
    }

    /// An open trade's PnL were it closed at `price`, before costs (an
    /// open trade's costs are not known yet); none for a closed one.
    pub fn unrealized_pnl(&self, price: f64) -> Option<f64> {
        match self.outcome {
            Outcome::Open => Some(self.side.sign() * self.size * (price - self.entry.price)),
            Outcome::Closed { .. } => None,
        }
    }

    /// `pnl` as a fraction of the money the entry committed.
    pub fn fraction_of_entry(&self, pnl: f64) -> f64 {
        pnl / (self.size * self.entry.price.abs())
    }
}

/// The normalised names each field is read from (see [`crate::table::normalise`]).
pub(crate) mod names {
    pub const SYMBOL: &[&str] = &["symbol"];
    pub const SIDE: &[&str] = &["side"];
    pub const SIZE: &[&str] = &["size"];
    pub const ENTRY_TIME: &[&str] = &["entrytime"];
    pub const ENTRY_PRICE: &[&str] = &["entryprice"];
    pub const EXIT_TIME: &[&str] = &["exittime"];
    pub const EXIT_PRICE: &[&str] = &["exitprice"];
    pub const PNL: &[&str] = &["pnl"];
    pub const COMMISSION: &[&str] = &["commission"];
    pub const STOP_LOSS: &[&str] = &["stoploss", "sl"];
    pub const TAKE_PROFIT: &[&str] = &["takeprofit", "tp"];
    pub const TAG: &[&str] = &["tag"];

    /// Every column a trades file is read for.
    pub fn all() -> Vec<&'static str> {
        [
            SYMBOL,
            SIDE,
            SIZE,
            ENTRY_TIME,
            ENTRY_PRICE,
            EXIT_TIME,
            EXIT_PRICE,
            PNL,
            COMMISSION,
            STOP_LOSS,
            TAKE_PROFIT,
            TAG,
        ]
        .concat()
    }
}

/// What the trades are read with besides their own file.
pub(crate) struct Context<'a> {
    pub(crate) catalog: &'a Catalog,
    /// The symbol of trades whose row names none (run.toml's only symbol).
    pub(crate) default_symbol: Option<&'a str>,
    /// The zone of naive times, when run.toml names one; else the zone of
    /// the first symbol's provider.
    pub(crate) timezone: Option<Tz>,
    pub(crate) zone_of: &'a dyn Fn(&SymbolId) -> Tz,
}

/// The trades of `table`, by entry time (ties in file order), and the zone
/// their naive times were read in.
pub(crate) fn read(table: &Table, context: &Context<'_>) -> Result<(Vec<Trade>, Tz), Fault> {
    let rows = table.rows();
    let symbols = read_symbols(table, context)?;
    let zone = context
        .timezone
        .or_else(|| symbols.first().map(context.zone_of))
        .unwrap_or(Tz::UTC);

    let size_column = table.require(names::SIZE, "size")?;
    let sizes = table.numbers(size_column)?;
    let sides = match table.find(names::SIDE) {
        Some(c) => Some((c, table.texts(c)?)),
        None => None,
    };
    let entry_time_column = table.require(names::ENTRY_TIME, "entry_time")?;
    let entry_times = table.times(entry_time_column, zone)?.values;
    let entry_price_column = table.require(names::ENTRY_PRICE, "entry_price")?;
    let entry_prices = table.numbers(entry_price_column)?;
    let exit_time_column = table.require(names::EXIT_TIME, "exit_time")?;
    let exit_times = table.times(exit_time_column, zone)?.values;
    let exit_price_column = table.require(names::EXIT_PRICE, "exit_price")?;
    let exit_prices = table.numbers(exit_price_column)?;
    let pnl_column = table.require(names::PNL, "pnl")?;
    let pnls = table.numbers(pnl_column)?;
    // An optional column: where it is (an absent one is all empty), and its cells.
    let optional = |names: &[&str]| -> Result<(usize, Vec<Option<f64>>), Fault> {
        match table.find(names) {
            Some(c) => Ok((c, table.numbers(c)?)),
            None => Ok((usize::MAX, vec![None; rows])),
        }
    };
    let commissions = optional(names::COMMISSION)?;
    let stop_losses = optional(names::STOP_LOSS)?;
    let take_profits = optional(names::TAKE_PROFIT)?;
    let tags = match table.find(names::TAG) {
        Some(c) => table.texts(c)?,
        None => vec![None; rows],
    };

    let fault = |column: usize, row: usize, problem: Problem| Fault {
        place: table.place(column, Some(row)),
        problem,
    };
    let required = |column: usize, row: usize, value: Option<f64>, what: &'static str| {
        let value = value.ok_or_else(|| fault(column, row, Problem::Empty(what)))?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(fault(column, row, Problem::NotFinite(value)))
        }
    };
    let mut trades = Vec::with_capacity(rows);
    for row in 0..rows {
        let size = required(size_column, row, sizes[row], "every trade has a size")?;
        if size == 0.0 {
            return Err(fault(
                size_column,
                row,
                Problem::Zero("a trade's size cannot be zero"),
            ));
        }
        let side = match &sides {
            Some((column, texts)) => {
                let side = side_of(texts[row].as_deref())
                    .map_err(|problem| fault(*column, row, problem))?;
                if size < 0.0 && side == Side::Long {
                    return Err(fault(
                        *column,
                        row,
                        Problem::SideDisagrees {
                            side: texts[row].clone().unwrap_or_default(),
                            size,
                        },
                    ));
                }
                side
            }
            None if size < 0.0 => Side::Short,
            None => Side::Long,
        };
        let entry_time = entry_times[row].ok_or_else(|| {
            fault(
                entry_time_column,
                row,
                Problem::Empty("every trade has an entry time"),
            )
        })?;
        let entry_price = required(
            entry_price_column,
            row,
            entry_prices[row],
            "every trade has an entry price",
        )?;
        if entry_price == 0.0 {
            return Err(fault(
                entry_price_column,
                row,
                Problem::Zero("a return is relative to the entry price"),
            ));
        }
        let outcome = match (exit_times[row], exit_prices[row]) {
            (None, None) => Outcome::Open,
            (Some(time), Some(price)) => {
                let price = required(exit_price_column, row, Some(price), "")?;
                if time < entry_time {
                    return Err(fault(
                        exit_time_column,
                        row,
                        Problem::ExitBeforeEntry {
                            entry: iso(entry_time),
                            exit: iso(time),
                        },
                    ));
                }
                let pnl = required(pnl_column, row, pnls[row], "a closed trade has a PnL")?;
                Outcome::Closed {
                    exit: Fill { time, price },
                    pnl,
                }
            }
            (Some(_), None) => return Err(fault(exit_price_column, row, Problem::HalfExit)),
            (None, Some(_)) => return Err(fault(exit_time_column, row, Problem::HalfExit)),
        };
        // An empty or NaN level means none; an infinite one is an error.
        let finite = |(column, cells): &(usize, Vec<Option<f64>>)| match cells[row] {
            Some(v) if v.is_nan() => Ok(None),
            Some(v) if !v.is_finite() => Err(fault(*column, row, Problem::NotFinite(v))),
            other => Ok(other),
        };
        trades.push(Trade {
            symbol: symbols[row].clone(),
            side,
            size: size.abs(),
            entry: Fill {
                time: entry_time,
                price: entry_price,
            },
            outcome,
            commission: finite(&commissions)?,
            stop_loss: finite(&stop_losses)?,
            take_profit: finite(&take_profits)?,
            tag: tags[row].clone(),
        });
    }
    trades.sort_by_key(|t| t.entry.time);
    Ok((trades, zone))
}

/// Each row's symbol, resolved in the data root (each name once).
fn read_symbols(table: &Table, context: &Context<'_>) -> Result<Vec<SymbolId>, Fault> {
    let rows = table.rows();
    let column = table.find(names::SYMBOL);
    let cells = match column {
        Some(c) => table.texts(c)?,
        None => vec![None; rows],
    };
    let mut resolved: HashMap<String, SymbolId> = HashMap::new();
    let mut symbols = Vec::with_capacity(rows);
    for (row, cell) in cells.iter().enumerate() {
        let fault = |problem| match column {
            Some(c) => Fault {
                place: table.place(c, Some(row)),
                problem,
            },
            None => Fault::in_file(table.file(), problem),
        };
        let name = cell
            .as_deref()
            .or(context.default_symbol)
            .ok_or_else(|| fault(Problem::NoSymbol))?;
        if let Some(id) = resolved.get(name) {
            symbols.push(id.clone());
            continue;
        }
        let id = context
            .catalog
            .resolve(name)
            .map(|entry| entry.id.clone())
            .map_err(|e| fault(Problem::Symbol(e)))?;
        resolved.insert(name.to_owned(), id.clone());
        symbols.push(id);
    }
    Ok(symbols)
}

fn side_of(text: Option<&str>) -> Result<Side, Problem> {
    let text = text.ok_or(Problem::Empty("the side is long or short"))?;
    match text.to_ascii_lowercase().as_str() {
        "long" | "buy" => Ok(Side::Long),
        "short" | "sell" => Ok(Side::Short),
        _ => Err(Problem::BadValue {
            value: text.to_owned(),
            expected: "a side (long or short)",
        }),
    }
}

/// An instant for messages, as RFC 3339.
pub(crate) fn iso(nanos: i64) -> String {
    DateTime::from_timestamp_nanos(nanos)
        .format("%Y-%m-%d %H:%M:%SZ")
        .to_string()
}
