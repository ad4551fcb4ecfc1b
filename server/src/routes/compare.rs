//! Compared symbols of `/api/data` (`compare=`): other symbols' closes on
//! the chart's own bar times, each aggregated to the chart's timeframe from
//! its own stored ones.

use candela_core::{BarFrame, Bars, Timeframe};
use serde::Serialize;
use utoipa::ToSchema;

use crate::as_of::AsOf;
use crate::error::ApiError;
use crate::state::AppState;

/// Most symbols one chart compares: more lines than this are unreadable.
pub const MAX_COMPARED: usize = 8;

/// One compared symbol's closes, one per chart bar.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComparedCloses {
    /// The compared symbol as `PROVIDER:SYMBOL`.
    symbol: String,
    /// Its close at each chart bar's time; `null` where it has no bar at
    /// that time (never the neighbouring bar's close).
    close: Vec<Option<f64>>,
}

/// The symbols a `compare` parameter names, in order; none when it is empty.
/// The syntax [`parse`] takes, for the OpenAPI document: blank, or 1 to 8
/// comma-separated symbols, none of them blank.
pub static PATTERN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let symbol = r"[^,]*[^,\s][^,]*";
    format!(r"^\s*$|^{symbol}(?:,{symbol}){{0,{}}}$", MAX_COMPARED - 1)
});

pub fn parse(text: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Vec::new());
    };
    let symbols: Vec<String> = text.split(',').map(|s| s.trim().to_owned()).collect();
    if symbols.iter().any(String::is_empty) {
        return Err(ApiError::bad_parameter(
            "compare",
            format!(
                "compare: an empty symbol in '{text}'; separate symbols by single commas, e.g. compare=AAPL,ALPACA:EXPE"
            ),
        ));
    }
    if symbols.len() > MAX_COMPARED {
        return Err(ApiError::bad_parameter(
            "compare",
            format!(
                "compare names {} symbols; at most {MAX_COMPARED} are compared on one chart",
                symbols.len()
            ),
        ));
    }
    Ok(symbols)
}

/// Each compared symbol's bars at `timeframe`, as of the chart's instant;
/// a failure names the symbol.
pub async fn load(
    state: &AppState,
    symbols: &[String],
    timeframe: Timeframe,
    as_of: AsOf,
) -> Result<Vec<Bars>, ApiError> {
    let mut loaded = Vec::with_capacity(symbols.len());
    for symbol in symbols {
        let bars = (as_of.bars(&state.engine, symbol, timeframe).await)
            .map_err(|e| ApiError::from(e).caused_by_compared(symbol))?;
        loaded.push(bars.bars);
    }
    Ok(loaded)
}

/// `compared`'s closes at the chart's bar `times`.
pub fn closes_at(times: &[i64], compared: &Bars) -> ComparedCloses {
    ComparedCloses {
        symbol: compared.symbol.to_string(),
        close: aligned_closes(times, &compared.frame),
    }
}

/// The close of `other`'s bar at each of `times` (sorted, as `other`'s are),
/// by one merge walk; `None` where `other` has no bar at that time.
fn aligned_closes(times: &[i64], other: &BarFrame) -> Vec<Option<f64>> {
    let (their_times, closes) = (other.time(), other.close());
    let mut k = times
        .first()
        .map_or(0, |&first| their_times.partition_point(|&t| t < first));
    times
        .iter()
        .map(|&time| {
            while their_times.get(k).is_some_and(|&t| t < time) {
                k += 1;
            }
            (their_times.get(k) == Some(&time))
                .then(|| closes[k])
                .filter(|close| !close.is_nan())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(times: &[i64], closes: &[f64]) -> BarFrame {
        let column = closes.to_vec();
        BarFrame::from_columns(
            times.to_vec(),
            [
                column.clone(),
                column.clone(),
                column.clone(),
                column,
                vec![1.0; times.len()],
            ],
        )
        .expect("frame")
    }

    #[test]
    fn a_missing_bar_is_null_never_its_neighbour() {
        let other = frame(&[10, 20, 40, 50], &[1.0, 2.0, 4.0, f64::NAN]);
        assert_eq!(
            aligned_closes(&[0, 10, 30, 40, 50, 60], &other),
            [None, Some(1.0), None, Some(4.0), None, None]
        );
    }

    #[test]
    fn times_outside_the_other_series_are_null() {
        let other = frame(&[100, 200], &[1.0, 2.0]);
        assert_eq!(aligned_closes(&[10, 20], &other), [None, None]);
        assert_eq!(aligned_closes(&[300], &other), [None]);
        assert_eq!(aligned_closes(&[], &other), Vec::<Option<f64>>::new());
    }

    #[test]
    fn parse_refuses_empty_entries_and_too_many() {
        assert!(parse(None).expect("none").is_empty());
        assert!(parse(Some(" ")).expect("blank").is_empty());
        assert_eq!(
            parse(Some("AAPL, ALPACA:EXPE")).expect("two"),
            ["AAPL", "ALPACA:EXPE"]
        );
        assert!(parse(Some("AAPL,,EXPE")).is_err());
        let nine = ["A"; MAX_COMPARED + 1].join(",");
        let error = parse(Some(&nine)).expect_err("nine");
        assert_eq!(error.status(), axum::http::StatusCode::BAD_REQUEST);
    }

    /// The document's pattern says what `parse` takes, exactly.
    #[test]
    fn the_pattern_matches_what_parse_takes() {
        let pattern = regex::Regex::new(&PATTERN).expect("the pattern compiles");
        let eight = ["ALPACA:AAPL"; MAX_COMPARED].join(",");
        let nine = ["A"; MAX_COMPARED + 1].join(",");
        for text in [
            "",
            " ",
            "AAPL",
            " AAPL , ALPACA:EXPE ",
            &eight,
            &nine,
            "AAPL,,EXPE",
            ",AAPL",
            "AAPL,",
            "A, ,B",
            "ODD:A&B #1",
        ] {
            assert_eq!(
                pattern.is_match(text),
                parse(Some(text)).is_ok(),
                "{text:?}"
            );
        }
    }
}
