//! `asof=`: the world as a strategy saw it at an instant. A route that takes
//! it loads every series it answers through [`AsOf::bars`], so the chart's
//! bars, its calls' higher timeframes and its compared symbols are all cut
//! at the same instant, and nothing after it is read into the answer.

use candela_core::{BarsAsOf, Engine, Timeframe};

use crate::error::ApiError;
use crate::time_param::{TimeBound, parse_time};

/// The instant asked for (UTC nanoseconds), or none: the data as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AsOf(Option<i64>);

impl AsOf {
    /// `asof=` in the time forms of `start` and `end`; absent or empty: none.
    pub fn parse(text: Option<&str>) -> Result<AsOf, ApiError> {
        match text.filter(|t| !t.is_empty()) {
            None => Ok(AsOf(None)),
            Some(text) => parse_time("asof", Some(text), TimeBound::Start).map(|t| AsOf(Some(t))),
        }
    }

    pub fn instant(self) -> Option<i64> {
        self.0
    }

    /// `symbol`'s bars at `timeframe`: those closed by the instant (the last
    /// perhaps forming), or all of them.
    pub async fn bars(
        self,
        engine: &Engine,
        symbol: &str,
        timeframe: Timeframe,
    ) -> Result<BarsAsOf, candela_core::Error> {
        match self.0 {
            Some(instant) => engine.bars_as_of(symbol, timeframe, instant).await,
            None => Ok(BarsAsOf {
                bars: engine.bars(symbol, timeframe).await?,
                forming: false,
            }),
        }
    }
}
