//! The runs as Arrow tables, for SQL: `trades` and `equity`, one row per
//! trade and per equity point of every run that can be shown, each with its
//! run's id, so that a query can join a run with bars and indicators.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    ArrayRef, Float64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::error::ArrowError;

use crate::folder::RunSet;
use crate::trades::Side;

fn time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

static TRADES: LazyLock<SchemaRef> = LazyLock::new(|| {
    let number = |name: &str, nullable| Field::new(name, DataType::Float64, nullable);
    Arc::new(Schema::new(vec![
        Field::new("run", DataType::Utf8, false),
        Field::new("symbol", DataType::Utf8, false),
        Field::new("side", DataType::Utf8, false),
        number("size", false),
        Field::new("entry_time", time_type(), false),
        number("entry_price", false),
        Field::new("exit_time", time_type(), true),
        number("exit_price", true),
        number("pnl", true),
        number("return_pct", true),
        number("commission", true),
        number("stop_loss", true),
        number("take_profit", true),
        Field::new("tag", DataType::Utf8, true),
    ]))
});

static EQUITY: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("run", DataType::Utf8, false),
        Field::new("time", time_type(), false),
        Field::new("equity", DataType::Float64, false),
        Field::new("drawdown_pct", DataType::Float64, false),
        Field::new("cash", DataType::Float64, true),
    ]))
});

/// `trades`: run, symbol, side, size, entry/exit time and price, pnl,
/// return_pct (percent), commission, stop_loss, take_profit, tag.
pub fn trades_schema() -> SchemaRef {
    Arc::clone(&TRADES)
}

/// `equity`: run, time, equity, drawdown_pct (zero or negative), cash.
pub fn equity_schema() -> SchemaRef {
    Arc::clone(&EQUITY)
}

pub fn trades_batch(set: &RunSet) -> Result<RecordBatch, ArrowError> {
    let runs: Vec<_> = set.runs.values().filter_map(|r| r.as_ref().ok()).collect();
    let rows = runs.iter().map(|r| r.trades.len()).sum();
    let texts = || StringBuilder::with_capacity(rows, rows * 8);
    let (mut run, mut symbol, mut side, mut tag) = (texts(), texts(), texts(), texts());
    let times = || TimestampNanosecondBuilder::with_capacity(rows).with_timezone("UTC");
    let (mut entry_time, mut exit_time) = (times(), times());
    let numbers = || Float64Builder::with_capacity(rows);
    let mut size = numbers();
    let mut entry_price = numbers();
    let mut exit_price = numbers();
    let mut pnl = numbers();
    let mut return_pct = numbers();
    let mut commission = numbers();
    let mut stop_loss = numbers();
    let mut take_profit = numbers();
    for r in &runs {
        for trade in &r.trades {
            run.append_value(&r.id);
            symbol.append_value(trade.symbol.to_string());
            side.append_value(match trade.side {
                Side::Long => "long",
                Side::Short => "short",
            });
            size.append_value(trade.size);
            entry_time.append_value(trade.entry.time);
            entry_price.append_value(trade.entry.price);
            exit_time.append_option(trade.exit().map(|e| e.time));
            exit_price.append_option(trade.exit().map(|e| e.price));
            pnl.append_option(trade.pnl());
            return_pct.append_option(trade.return_fraction().map(|f| f * 100.0));
            commission.append_option(trade.commission);
            stop_loss.append_option(trade.stop_loss);
            take_profit.append_option(trade.take_profit);
            tag.append_option(trade.tag.as_deref());
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(run.finish()),
        Arc::new(symbol.finish()),
        Arc::new(side.finish()),
        Arc::new(size.finish()),
        Arc::new(entry_time.finish()),
        Arc::new(entry_price.finish()),
        Arc::new(exit_time.finish()),
        Arc::new(exit_price.finish()),
        Arc::new(pnl.finish()),
        Arc::new(return_pct.finish()),
        Arc::new(commission.finish()),
        Arc::new(stop_loss.finish()),
        Arc::new(take_profit.finish()),
        Arc::new(tag.finish()),
    ];
    RecordBatch::try_new(trades_schema(), columns)
}

pub fn equity_batch(set: &RunSet) -> Result<RecordBatch, ArrowError> {
    let runs: Vec<_> = set.runs.values().filter_map(|r| r.as_ref().ok()).collect();
    let rows = runs.iter().map(|r| r.equity.time.len()).sum();
    let mut run = StringBuilder::with_capacity(rows, rows * 8);
    let mut time = TimestampNanosecondBuilder::with_capacity(rows).with_timezone("UTC");
    let mut equity = Float64Builder::with_capacity(rows);
    let mut drawdown_pct = Float64Builder::with_capacity(rows);
    let mut cash = Float64Builder::with_capacity(rows);
    for r in &runs {
        let curve = &r.equity;
        for (i, drawdown) in curve.drawdown_pct().into_iter().enumerate() {
            run.append_value(&r.id);
            time.append_value(curve.time[i]);
            equity.append_value(curve.equity[i]);
            drawdown_pct.append_value(drawdown);
            cash.append_option(curve.cash.as_ref().map(|c| c[i]));
        }
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(run.finish()),
        Arc::new(time.finish()),
        Arc::new(equity.finish()),
        Arc::new(drawdown_pct.finish()),
        Arc::new(cash.finish()),
    ];
    RecordBatch::try_new(equity_schema(), columns)
}
