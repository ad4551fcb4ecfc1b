//! Deterministic synthetic bars: a geometric random walk with a U-shaped
//! intraday volume profile, written to parquet. The same spec gives the same
//! bytes on every machine (ChaCha8 RNG, fixed writer settings).

use std::path::Path;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::parquet::errors::ParquetError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, StandardNormal};

use crate::frame::{BarFrame, VALUE_COLUMNS};
use crate::zone;

/// A series to generate.
#[derive(Debug, Clone)]
pub struct SeriesSpec {
    pub seed: u64,
    /// First and last calendar day (inclusive), in `zone`.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    pub zone: Tz,
    /// Bar length; a bar of a day or more is one bar per trading day at local midnight.
    pub bar: TimeDelta,
    /// Local trading hours `[open, close)`; `None` trades around the clock, every day.
    pub session: Option<(NaiveTime, NaiveTime)>,
    pub start_price: f64,
    /// Standard deviation of daily log returns.
    pub daily_volatility: f64,
    /// Mean shares traded per day.
    pub daily_volume: f64,
}

impl SeriesSpec {
    /// A US stock from `first_day` to `last_day`: New York's regular hours
    /// (09:30–16:00), starting at 100 with 2% daily volatility and a million
    /// shares a day; change fields with struct update syntax.
    pub fn us_stock(seed: u64, first_day: NaiveDate, last_day: NaiveDate, bar: TimeDelta) -> Self {
        let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
        SeriesSpec {
            seed,
            first_day,
            last_day,
            zone: chrono_tz::America::New_York,
            bar,
            session: Some((time(9, 30), time(16, 0))),
            start_price: 100.0,
            daily_volatility: 0.02,
            daily_volume: 1_000_000.0,
        }
    }

    /// Generates the bars.
    pub fn generate(&self) -> BarFrame {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut walk = Walk {
            price: self.start_price,
            volatility: self.daily_volatility,
        };
        let mut out = Columns::default();
        let mut day = self.first_day;
        while day <= self.last_day {
            if self.session.is_none() || is_trading_day(day) {
                let slots = self.bar_starts(day);
                walk.overnight_gap(&mut rng);
                let day_volume = self.daily_volume
                    * LogNormal::new(0.0, 0.35).map_or(1.0, |d| d.sample(&mut rng));
                let share = 1.0 / slots.len().max(1) as f64;
                for (i, start) in slots.iter().enumerate() {
                    let position = (i as f64 + 0.5) / slots.len() as f64;
                    let volume = day_volume
                        * share
                        * u_shape(position)
                        * LogNormal::new(0.0, 0.5).map_or(1.0, |d| d.sample(&mut rng));
                    out.push(*start, walk.bar(&mut rng, share), volume.round().max(1.0));
                }
            }
            day += TimeDelta::days(1);
        }
        out.finish()
    }

    fn bar_starts(&self, day: NaiveDate) -> Vec<i64> {
        let midnight = day.and_time(NaiveTime::MIN);
        if self.bar >= TimeDelta::days(1) {
            return vec![zone::utc_nanos_of_local(&self.zone, midnight)];
        }
        let (open, close) = self.session.unwrap_or((NaiveTime::MIN, NaiveTime::MIN));
        let mut starts = Vec::new();
        let mut local = day.and_time(open);
        let end = if close == NaiveTime::MIN {
            midnight + TimeDelta::days(1)
        } else {
            day.and_time(close)
        };
        while local < end {
            starts.push(zone::utc_nanos_of_local(&self.zone, local));
            local += self.bar;
        }
        starts.dedup();
        starts
    }
}

fn is_trading_day(day: NaiveDate) -> bool {
    let holiday = matches!((day.month(), day.day()), (1, 1) | (7, 4) | (12, 25));
    !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !holiday
}

/// Volume is heavier at the open and close of a session.
fn u_shape(position: f64) -> f64 {
    0.6 + 6.4 * (position - 0.5).powi(2)
}

struct Walk {
    price: f64,
    volatility: f64,
}

impl Walk {
    fn overnight_gap(&mut self, rng: &mut ChaCha8Rng) {
        let z: f64 = StandardNormal.sample(rng);
        self.price *= (0.3 * self.volatility * z).exp();
    }

    /// One bar covering `share` of a day's variance: [open, high, low, close].
    fn bar(&mut self, rng: &mut ChaCha8Rng, share: f64) -> [f64; 4] {
        let sigma = self.volatility * share.sqrt();
        let open = cents(self.price);
        let z: f64 = StandardNormal.sample(rng);
        let close = cents(self.price * (sigma * z).exp());
        let wick = |rng: &mut ChaCha8Rng| sigma * rng.random::<f64>() * 0.8;
        let high = cents(open.max(close) * (1.0 + wick(rng)));
        let low = cents(open.min(close) * (1.0 - wick(rng)));
        self.price = close.max(0.01);
        [open, high, low.max(0.01), close]
    }
}

fn cents(price: f64) -> f64 {
    (price * 100.0).round() / 100.0
}

#[derive(Default)]
struct Columns {
    time: Vec<i64>,
    values: [Vec<f64>; 5],
}

impl Columns {
    fn push(&mut self, time: i64, [open, high, low, close]: [f64; 4], volume: f64) {
        self.time.push(time);
        for (column, value) in self.values.iter_mut().zip([open, high, low, close, volume]) {
            column.push(value);
        }
    }

    fn finish(self) -> BarFrame {
        BarFrame::from_columns(self.time, self.values)
            .unwrap_or_else(|_| unreachable!("columns of equal length"))
    }
}

/// The bundled sample data set: (path under the data root, series).
///
/// EXPE: 1-minute bars in regular US hours for seven months (across the March
/// DST change); NFLX: 1-hour bars 04:00–20:00 New York time for three years;
/// AAPL: daily bars for fifteen years.
pub fn sample_set() -> Vec<(&'static str, SeriesSpec)> {
    let new_york = chrono_tz::America::New_York;
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
    let time = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default();
    vec![
        (
            "ALPACA/EXPE/1m/expe_1m.parquet",
            SeriesSpec {
                seed: 1,
                first_day: day(2024, 1, 2),
                last_day: day(2024, 7, 31),
                zone: new_york,
                bar: TimeDelta::minutes(1),
                session: Some((time(9, 30), time(16, 0))),
                start_price: 126.0,
                daily_volatility: 0.022,
                daily_volume: 1_800_000.0,
            },
        ),
        (
            "ALPACA/NFLX/1h/nflx_1h.parquet",
            SeriesSpec {
                seed: 2,
                first_day: day(2022, 1, 3),
                last_day: day(2024, 12, 31),
                zone: new_york,
                bar: TimeDelta::hours(1),
                session: Some((time(4, 0), time(20, 0))),
                start_price: 597.0,
                daily_volatility: 0.028,
                daily_volume: 5_500_000.0,
            },
        ),
        (
            "ALPACA/AAPL/1d/aapl_1d.parquet",
            SeriesSpec {
                seed: 3,
                first_day: day(2010, 1, 4),
                last_day: day(2024, 12, 31),
                zone: new_york,
                bar: TimeDelta::days(1),
                session: Some((time(9, 30), time(16, 0))),
                start_price: 30.0,
                daily_volatility: 0.017,
                daily_volume: 90_000_000.0,
            },
        ),
    ]
}

/// `n` one-minute bars around the clock from 2020-01-01 UTC (for benchmarks).
pub fn continuous_minutes(n: usize, seed: u64) -> BarFrame {
    let days = (n as i64 + 1_439) / 1_440;
    let first_day = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let frame = SeriesSpec {
        seed,
        first_day,
        last_day: first_day + TimeDelta::days(days - 1),
        zone: Tz::UTC,
        bar: TimeDelta::minutes(1),
        session: None,
        start_price: 100.0,
        daily_volatility: 0.02,
        daily_volume: 2_000_000.0,
    }
    .generate();
    frame.slice(0..n.min(frame.len()))
}

/// Writes bars to parquet with a `timestamp` column (UTC) and the value
/// columns, as [`crate::write::write_parquet`] does.
pub fn write_parquet(frame: &BarFrame, path: &Path) -> Result<(), ParquetError> {
    let batch = frame.record_batch();
    let mut fields = vec![Field::new("timestamp", crate::frame::time_type(), false)];
    fields.extend(
        batch
            .schema()
            .fields()
            .iter()
            .skip(1)
            .map(|f| f.as_ref().clone()),
    );
    debug_assert_eq!(fields.len(), 1 + VALUE_COLUMNS.len());
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = batch.columns().to_vec();
    let batch = RecordBatch::try_new(schema, columns)?;
    crate::write::write_parquet(&batch, path, "candela sample-data")
}
