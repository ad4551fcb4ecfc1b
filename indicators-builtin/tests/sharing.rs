//! A request computes each distinct series once: a call on a higher
//! timeframe and the same call inside another on that timeframe share one
//! computation there, as calls sharing a `source=` do on the chart.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use candela_core::indicator::{
    ComputeError, Evaluation, Frames, History, Indicator, IndicatorSpec, Params, Series,
};
use candela_core::resample::resample;
use candela_core::synthetic::continuous_minutes;
use candela_core::timeframe::Timeframe;
use chrono_tz::Tz;

/// A built-in under another id that counts its computations.
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn Indicator>,
    spec: IndicatorSpec,
    computations: AtomicUsize,
}

impl Indicator for Counted {
    fn spec(&self) -> &IndicatorSpec {
        &self.spec
    }

    fn check(&self, params: &Params) -> Result<(), String> {
        self.inner.check(params)
    }

    fn history(&self, params: &Params) -> History {
        self.inner.history(params)
    }

    fn compute(&self, series: &Series<'_>, params: &Params) -> Result<Vec<Vec<f64>>, ComputeError> {
        self.computations.fetch_add(1, Ordering::Relaxed);
        self.inner.compute(series, params)
    }
}

#[test]
fn a_series_shared_across_calls_and_timeframes_is_computed_once() {
    let registry = candela_indicators::registry();
    let rsi = registry.get("rsi").expect("rsi");
    let mut spec = rsi.spec().clone();
    spec.id = "counted".into();
    let counted = Arc::new(Counted {
        inner: rsi,
        spec,
        computations: AtomicUsize::new(0),
    });
    registry
        .insert(Arc::clone(&counted) as Arc<dyn Indicator>)
        .expect("insert");

    let (minute, day): (Timeframe, Timeframe) =
        ("30m".parse().expect("tf"), "1d".parse().expect("tf"));
    let chart = resample(&continuous_minutes(20_000, 3), minute, Tz::UTC);
    let daily = resample(&chart, day, Tz::UTC);
    let frames = Frames::new((&chart).into(), Some(minute), Tz::UTC).with(day, (&daily).into());
    let calls = registry
        .resolve(
            "counted(3,timeframe=1d),ema(3,source=counted(3),timeframe=1d),\
             counted(3,timeframe=1d,align=open),sma(2,source=counted(3)),wma(2,source=counted(3))",
        )
        .expect("calls");
    let mut evaluation = Evaluation::new(&frames);
    let rows = 0..chart.len();
    for call in &calls {
        evaluation.plan(call, rows.clone()).expect("plan");
    }
    for call in &calls {
        evaluation.values(call, rows.clone()).expect("values");
    }
    // Once on the daily bars (placed twice), once on the chart's.
    assert_eq!(counted.computations.load(Ordering::Relaxed), 2);
}
