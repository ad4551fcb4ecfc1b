//! Moving average convergence/divergence (TA-Lib MACD): the fast EMA starts
//! where the slow one does, and the three outputs start together once the
//! signal EMA has its first value.

use std::sync::Arc;

use candela_core::indicator::{
    Builtin, History, Input, OutputSpec, ParamSpec, Params, Placement, Series, Style,
};

use crate::{Definition, MAX_PERIOD, builtin_spec, series};

inventory::submit!(Builtin(|| Arc::new(definition())));

fn definition() -> Definition {
    Definition::new(
        builtin_spec(
            "macd",
            "MACD",
            "Momentum",
            "Fast EMA minus slow EMA of the close, its EMA as the signal line, and their difference.",
            vec![
                ParamSpec::integer("fast", 12, 2, MAX_PERIOD, "bars of the fast EMA"),
                ParamSpec::integer("slow", 26, 2, MAX_PERIOD, "bars of the slow EMA"),
                ParamSpec::integer("signal", 9, 1, MAX_PERIOD, "bars of the signal EMA"),
            ],
            vec![
                OutputSpec::new("macd", Placement::Pane, Style::Line),
                OutputSpec::new("signal", Placement::Pane, Style::Line),
                OutputSpec::new("histogram", Placement::Pane, Style::Histogram),
            ],
            &[Input::Close],
        ),
        history,
        compute,
    )
    .with_check(check)
}

fn check(params: &Params) -> Result<(), String> {
    let (fast, slow) = (params.count("fast"), params.count("slow"));
    if fast < slow {
        Ok(())
    } else {
        Err(format!(
            "fast ({fast}) must be less than slow ({slow}), e.g. macd(fast=12,slow=26,signal=9)"
        ))
    }
}

fn history(params: &Params) -> History {
    let (slow, signal) = (params.count("slow"), params.count("signal"));
    History::Bars(slow + signal + History::decay(series::ema_k(slow)))
}

fn compute(series: &Series<'_>, params: &Params) -> Vec<Vec<f64>> {
    let closes = series.bars.close;
    let (fast, slow, signal) = (
        params.count("fast"),
        params.count("slow"),
        params.count("signal"),
    );
    let start = slow.saturating_sub(1);
    let mut line = series::ema_from(closes, fast, series::ema_k(fast), start);
    let slow_ema = series::ema_from(closes, slow, series::ema_k(slow), start);
    line.iter_mut().zip(&slow_ema).for_each(|(l, s)| *l -= s);
    let first = start + signal.saturating_sub(1);
    let mut signal_line = series::ema_from(&line, signal, series::ema_k(signal), first);
    let mut histogram = slow_ema;
    for ((h, l), s) in histogram.iter_mut().zip(&line).zip(&signal_line) {
        *h = l - s;
    }
    for output in [&mut line, &mut signal_line, &mut histogram] {
        series::blank_before(output, first);
    }
    vec![line, signal_line, histogram]
}
