//! A run's statistics, defined as backtesting.py defines them (its
//! `_stats.compute_stats`), so that a run made there shows the numbers its
//! author already knows. A statistic that is undefined (no trades, no
//! losing day) is `None`, as backtesting.py's NaN is.

use chrono::{Datelike, Months, NaiveDate, TimeDelta};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

use candela_core::frame::bar_holding;

use crate::equity::EquityCurve;
use crate::trades::Trade;

/// The statistics of one run; percentages are in percent. NaN, an undefined
/// statistic, is `null` in JSON.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    /// Return [%]: from the first point of the equity curve to the last.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub return_pct: f64,
    /// Max. Drawdown [%]: zero or negative.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub max_drawdown_pct: f64,
    /// Max. Drawdown Duration, in seconds: the longest stretch from a peak
    /// to the next (or to the end).
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub max_drawdown_duration_s: f64,
    /// # Trades: closed trades (open ones are drawn, not counted).
    pub trades: usize,
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub win_rate_pct: f64,
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub best_trade_pct: f64,
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub worst_trade_pct: f64,
    /// Avg. Trade [%]: the geometric mean of the trades' returns.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub avg_trade_pct: f64,
    /// Sum of the returns of winning trades over that of losing ones.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub profit_factor: f64,
    /// Expectancy [%]: the arithmetic mean of the trades' returns.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub expectancy_pct: f64,
    /// Exposure Time [%]: the share of the curve's bars with a position.
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub exposure_time_pct: f64,
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub sharpe_ratio: f64,
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub sortino_ratio: f64,
    /// Equity Final [$].
    #[serde(serialize_with = "finite")]
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub final_equity: f64,
    /// The sum of the closed trades' PnL.
    #[cfg_attr(feature = "openapi", schema(nullable))]
    pub net_pnl: f64,
}

/// NaN and infinities have no JSON form: they are `null`, "undefined".
fn finite<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(*value)
    } else {
        serializer.serialize_none()
    }
}

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SECOND;

impl Stats {
    /// The statistics of `trades` on `curve`, with calendar days (for the
    /// Sharpe and Sortino ratios) in `zone`.
    pub fn compute(trades: &[Trade], curve: &EquityCurve, zone: Tz) -> Stats {
        let equity = &curve.equity;
        let (first, last) = match (equity.first(), equity.last()) {
            (Some(&f), Some(&l)) => (f, l),
            _ => (f64::NAN, f64::NAN),
        };
        let drawdown = curve.drawdown();
        let max_drawdown = drawdown
            .iter()
            .copied()
            .filter(|d| !d.is_nan())
            .fold(0.0, f64::max);

        let returns: Vec<f64> = trades.iter().filter_map(Trade::return_fraction).collect();
        let pnls: Vec<f64> = trades.iter().filter_map(Trade::pnl).collect();
        let n = returns.len();
        let mean = |values: &[f64]| {
            if values.is_empty() {
                f64::NAN
            } else {
                values.iter().sum::<f64>() / values.len() as f64
            }
        };
        let wins = pnls.iter().filter(|p| **p > 0.0).count();
        let gains: f64 = returns.iter().filter(|r| **r > 0.0).sum();
        let losses: f64 = returns.iter().filter(|r| **r < 0.0).sum::<f64>().abs();
        let (annual_return, volatility, sortino) = risk(curve, zone);

        Stats {
            return_pct: (last - first) / first * 100.0,
            max_drawdown_pct: 0.0 - max_drawdown * 100.0,
            max_drawdown_duration_s: max_drawdown_duration(curve, &drawdown),
            trades: n,
            win_rate_pct: if n == 0 {
                f64::NAN
            } else {
                wins as f64 / n as f64 * 100.0
            },
            best_trade_pct: returns.iter().copied().reduce(f64::max).unwrap_or(f64::NAN) * 100.0,
            worst_trade_pct: returns.iter().copied().reduce(f64::min).unwrap_or(f64::NAN) * 100.0,
            avg_trade_pct: geometric_mean(&returns) * 100.0,
            profit_factor: gains / if losses == 0.0 { f64::NAN } else { losses },
            expectancy_pct: mean(&returns) * 100.0,
            exposure_time_pct: exposure(trades, curve) * 100.0,
            sharpe_ratio: annual_return * 100.0
                / if volatility == 0.0 {
                    f64::NAN
                } else {
                    volatility * 100.0
                },
            sortino_ratio: sortino,
            final_equity: last,
            net_pnl: pnls.iter().sum(),
        }
    }
}

/// `exp(mean(log(1 + r))) − 1`, or 0 when a return loses everything.
fn geometric_mean(returns: &[f64]) -> f64 {
    if returns.iter().any(|r| r + 1.0 <= 0.0) {
        return 0.0;
    }
    let logs: f64 = returns.iter().map(|r| (r + 1.0).ln()).sum();
    (logs
        / if returns.is_empty() {
            f64::NAN
        } else {
            returns.len() as f64
        })
    .exp()
        - 1.0
}

/// The share of the curve's points from a trade's entry bar to its exit
/// bar, both included (through the end for a trade still open).
fn exposure(trades: &[Trade], curve: &EquityCurve) -> f64 {
    let bars = curve.time.len();
    if bars == 0 {
        return f64::NAN;
    }
    let mut held = vec![false; bars];
    for trade in trades {
        let entry = bar_holding(&curve.time, trade.entry.time).unwrap_or(0);
        let exit = trade
            .exit()
            .map_or(bars - 1, |e| bar_holding(&curve.time, e.time).unwrap_or(0));
        if let Some(stretch) = held.get_mut(entry..=exit.min(bars - 1)) {
            stretch.fill(true);
        }
    }
    held.iter().filter(|h| **h).count() as f64 / bars as f64
}

/// The longest time from a point at its peak to the next one (the last
/// point counts as one), rounded up to the resolution of the bars' period,
/// in seconds. NaN when the curve never leaves its peak for two points.
fn max_drawdown_duration(curve: &EquityCurve, drawdown: &[f64]) -> f64 {
    let time = &curve.time;
    let Some(last) = time.len().checked_sub(1) else {
        return f64::NAN;
    };
    let mut peaks: Vec<usize> = (0..time.len()).filter(|&i| drawdown[i] == 0.0).collect();
    if peaks.last() != Some(&last) {
        peaks.push(last);
    }
    let longest = peaks
        .windows(2)
        .filter(|w| w[1] > w[0] + 1)
        .map(|w| time[w[1]] - time[w[0]])
        .max();
    let Some(longest) = longest else {
        return f64::NAN;
    };
    let resolution = resolution(period(time));
    let rounded = if resolution > 0 {
        longest.div_euclid(resolution) * resolution
            + if longest.rem_euclid(resolution) > 0 {
                resolution
            } else {
                0
            }
    } else {
        longest
    };
    rounded as f64 / NANOS_PER_SECOND as f64
}

/// The bars' period as backtesting.py takes it: the median spacing of the
/// last 100 points.
fn period(time: &[i64]) -> Option<i64> {
    let tail = &time[time.len().saturating_sub(100)..];
    let mut gaps: Vec<i64> = tail.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let middle = gaps.len() / 2;
    Some(if gaps.len() % 2 == 1 {
        gaps[middle]
    } else {
        let (a, b) = (i128::from(gaps[middle - 1]), i128::from(gaps[middle]));
        ((a + b) / 2) as i64
    })
}

/// pandas' `Timedelta.resolution_string` of a period, as nanoseconds: the
/// smallest unit (day, hour, minute, second, …) with a non-zero component.
fn resolution(period: Option<i64>) -> i64 {
    let Some(period) = period.filter(|p| *p > 0) else {
        return 0;
    };
    [
        NANOS_PER_DAY,
        3_600 * NANOS_PER_SECOND,
        60 * NANOS_PER_SECOND,
        NANOS_PER_SECOND,
        1_000_000,
        1_000,
    ]
    .into_iter()
    .find(|unit| period % unit == 0)
    .unwrap_or(1)
}

/// How the equity is sampled for the risk ratios, from the bars' period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sampling {
    Day,
    Week,
    Month,
    Year,
}

/// The annualised return, the annualised volatility (fractions) and the
/// Sortino ratio, from the equity's returns per day (or per week, month or
/// year for bars of that period), as backtesting.py computes them.
fn risk(curve: &EquityCurve, zone: Tz) -> (f64, f64, f64) {
    let time = &curve.time;
    let period_days = period(time).map(|p| p.div_euclid(NANOS_PER_DAY));
    let weekend_share = if time.is_empty() {
        f64::NAN
    } else {
        let weekend = time
            .iter()
            .filter(|&&t| {
                candela_core::zone::local_date(&zone, t)
                    .weekday()
                    .number_from_monday()
                    >= 6
            })
            .count();
        weekend as f64 / time.len() as f64
    };
    let (sampling, periods_per_year) = match period_days {
        Some(7) => (Sampling::Week, 52.0),
        Some(31) => (Sampling::Month, 12.0),
        Some(365) => (Sampling::Year, 1.0),
        _ if weekend_share > 2.0 / 7.0 * 0.6 => (Sampling::Day, 365.0),
        _ => (Sampling::Day, 252.0),
    };
    let returns = sampled_returns(curve, zone, sampling);
    let growth = geometric_mean(&returns);
    let annual_return = (1.0 + growth).powf(periods_per_year) - 1.0;
    let variance = variance(&returns);
    let volatility = ((variance + (1.0 + growth).powi(2)).powf(periods_per_year)
        - (1.0 + growth).powf(2.0 * periods_per_year))
    .sqrt();
    let downside = if returns.is_empty() {
        f64::NAN
    } else {
        returns.iter().map(|r| r.min(0.0).powi(2)).sum::<f64>() / returns.len() as f64
    };
    let sortino = annual_return / (downside.sqrt() * periods_per_year.sqrt());
    (annual_return, volatility, sortino)
}

/// The sample variance (`ddof=1`); NaN for fewer than two values.
fn variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

/// The returns from one period's last equity to the next's, as pandas'
/// `resample(rule).last().dropna().pct_change().dropna()` gives them:
/// days are left-closed; weeks (ending Sunday), months and years are
/// right-closed, at local midnight.
fn sampled_returns(curve: &EquityCurve, zone: Tz, sampling: Sampling) -> Vec<f64> {
    let mut last_per_period: Vec<(NaiveDate, f64)> = Vec::new();
    for (&t, &value) in curve.time.iter().zip(&curve.equity) {
        let key = period_key(t, zone, sampling);
        match last_per_period.last_mut() {
            Some((k, v)) if *k == key => *v = value,
            _ => last_per_period.push((key, value)),
        }
    }
    last_per_period
        .windows(2)
        .map(|w| w[1].1 / w[0].1 - 1.0)
        .collect()
}

/// The label of the period holding `t`: its day, or the day ending it.
fn period_key(t: i64, zone: Tz, sampling: Sampling) -> NaiveDate {
    let local = chrono::DateTime::from_timestamp_nanos(t)
        .with_timezone(&zone)
        .naive_local();
    let day = local.date();
    // A right-closed period ending at midnight holds that midnight itself.
    let at_midnight = local.time() == chrono::NaiveTime::MIN;
    let closing_day = if at_midnight {
        day
    } else {
        day + TimeDelta::days(1)
    };
    match sampling {
        Sampling::Day => day,
        Sampling::Week => {
            let to_sunday = (7 - closing_day.weekday().number_from_monday()) % 7;
            closing_day + TimeDelta::days(i64::from(to_sunday))
        }
        Sampling::Month => month_end(closing_day),
        Sampling::Year => {
            NaiveDate::from_ymd_opt(closing_day.year(), 12, 31).unwrap_or(closing_day)
        }
    }
}

/// The last day of the month of `day` (or `day` itself at the calendar's end).
fn month_end(day: NaiveDate) -> NaiveDate {
    day.with_day(1)
        .and_then(|first| first.checked_add_months(Months::new(1)))
        .and_then(|next| next.pred_opt())
        .unwrap_or(day)
}
