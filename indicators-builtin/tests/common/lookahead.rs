//! The lookahead check shared by the built-ins' test and the plugins':
//! for random instants X (a bar stored after each), every bar after X is
//! given other values and bars are added after X (after the last bar, and
//! late in the days that begin after X); every value on a chart bar that
//! closes by X, and the higher bar it came from, must stay identical, for
//! each call on a higher timeframe under every `align`, over several seeds.
use candela_core::BarFrame;
use candela_core::align::{Align, Closes};
use candela_core::indicator::{Evaluation, Frames, HigherStarts, Registry};
use candela_core::resample::resample;
use candela_core::synthetic::SeriesSpec;
use candela_core::timeframe::Timeframe;
use chrono::{NaiveDate, TimeDelta};
use chrono_tz::Tz;

const ZONE: Tz = chrono_tz::America::New_York;

/// A small deterministic generator (SplitMix64): no dependency for a test.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn half_hours(seed: u64) -> BarFrame {
    SeriesSpec {
        zone: ZONE,
        ..SeriesSpec::us_stock(
            seed,
            NaiveDate::from_ymd_opt(2024, 2, 26).expect("date"),
            NaiveDate::from_ymd_opt(2024, 5, 10).expect("date"),
            TimeDelta::minutes(30),
        )
    }
    .generate()
}

/// `source` with every bar starting at or after `x` given new values, a
/// late bar added to each day that begins after `x`, and bars appended.
fn changed_after(source: &BarFrame, x: i64, random: &mut Random) -> BarFrame {
    const HALF_HOUR: i64 = 1_800_000_000_000;
    let day = tf("1d");
    let days = Closes::new(day, ZONE, source.time()[0]);
    let mut rows: Vec<(i64, [f64; 5])> = Vec::new();
    let bar = |random: &mut Random| {
        let open = 50.0 + 100.0 * random.unit();
        let close = 50.0 + 100.0 * random.unit();
        let high = open.max(close) + random.unit();
        let low = open.min(close) - random.unit();
        [open, high, low, close, 1_000.0 * random.unit()]
    };
    for (i, &t) in source.time().iter().enumerate() {
        let values = if t >= x {
            bar(random)
        } else {
            [
                source.open()[i],
                source.high()[i],
                source.low()[i],
                source.close()[i],
                source.volume()[i],
            ]
        };
        rows.push((t, values));
        let last_of_day = source
            .time()
            .get(i + 1)
            .is_none_or(|&next| days.bin_of(next) != days.bin_of(t));
        if last_of_day && days.bin_of(t).0 > x {
            rows.push((t + 2 * HALF_HOUR, bar(random)));
        }
    }
    let last = rows.last().map_or(0, |r| r.0);
    for k in 1..=40 {
        rows.push((last + k * 7 * HALF_HOUR, bar(random)));
    }
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    let time = rows.iter().map(|r| r.0).collect();
    let column = |c: usize| rows.iter().map(|r| r.1[c]).collect();
    BarFrame::from_columns(
        time,
        [column(0), column(1), column(2), column(3), column(4)],
    )
    .expect("frame")
}

fn tf(text: &str) -> Timeframe {
    text.parse().expect("timeframe")
}

/// The chart and higher frames of `source` for one timeframe pair.
fn frames_of(source: &BarFrame, chart: Timeframe, higher: Timeframe) -> (BarFrame, BarFrame) {
    let chart_frame = if chart == tf("30m") {
        source.clone()
    } else {
        resample(source, chart, ZONE)
    };
    (chart_frame, resample(source, higher, ZONE))
}

type Answer = Vec<(Vec<Vec<f64>>, Option<HigherStarts>)>;

fn answer(
    registry: &Registry,
    chart: &BarFrame,
    higher: &BarFrame,
    pair: (Timeframe, Timeframe),
    calls: &str,
) -> Answer {
    let calls = registry.resolve(calls).expect("calls");
    let frames = Frames::new(chart.into(), Some(pair.0), ZONE).with(pair.1, higher.into());
    let mut evaluation = Evaluation::new(&frames);
    calls
        .iter()
        .map(|call| {
            let values = evaluation.values(call, 0..chart.len()).expect("values");
            (values.outputs, values.from)
        })
        .collect()
}

/// Checks `calls` (comma-separated, without `timeframe`) of `registry` on
/// every timeframe pair and align, three instants per seed; panics at the
/// first value a changed future changed. Returns how many chart bars were
/// checked.
pub fn check(registry: &Registry, calls: &str, seeds: &[u64]) -> usize {
    let pairs = [("30m", "1h"), ("30m", "1d"), ("1d", "1w")];
    let mut checked_bars = 0;
    for &seed in seeds {
        let source = half_hours(seed);
        let mut random = Random(seed);
        for _ in 0..3 {
            // An instant with stored bars after it.
            let first = source.time()[0];
            let last = source.time()[source.len() - 1];
            let x = first + ((last - first) as f64 * random.unit()) as i64;
            let changed = changed_after(&source, x, &mut random);
            for (chart_tf, higher_tf) in pairs {
                let pair = (tf(chart_tf), tf(higher_tf));
                let (chart, higher) = frames_of(&source, pair.0, pair.1);
                let (chart2, higher2) = frames_of(&changed, pair.0, pair.1);
                let closes = Closes::new(pair.0, ZONE, chart.time()[0]);
                let closed = chart.time().partition_point(|&t| closes.close_of(t) <= x);
                assert_eq!(chart.time()[..closed], chart2.time()[..closed]);
                for align in Align::ALL {
                    let with_tf = with_timeframe(calls, higher_tf, align);
                    let before = answer(registry, &chart, &higher, pair, &with_tf.join(","));
                    let after = answer(registry, &chart2, &higher2, pair, &with_tf.join(","));
                    for ((call, a), b) in with_tf.iter().zip(&before).zip(&after) {
                        for (o, (a, b)) in a.0.iter().zip(&b.0).enumerate() {
                            for j in 0..closed {
                                assert!(
                                    a[j].to_bits() == b[j].to_bits(),
                                    "seed {seed} {chart_tf}->{higher_tf} {call} output {o} at chart bar {j} (closes by X): {} became {}",
                                    a[j],
                                    b[j]
                                );
                            }
                        }
                        assert_eq!(
                            a.1.as_ref()
                                .map(|f| f.iter().take(closed).collect::<Vec<_>>()),
                            b.1.as_ref()
                                .map(|f| f.iter().take(closed).collect::<Vec<_>>()),
                            "seed {seed} {chart_tf}->{higher_tf} {call}: from"
                        );
                    }
                }
                checked_bars += closed;
            }
        }
    }
    checked_bars
}

/// Each of `calls` (comma-separated) with `timeframe` and `align` added.
fn with_timeframe(calls: &str, timeframe: &str, align: Align) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in calls.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&calls[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&calls[start..]);
    out.iter()
        .map(|call| {
            let extra = format!("timeframe={timeframe},align={}", align.name());
            match call.strip_suffix(')') {
                Some(open) if !open.ends_with('(') => format!("{open},{extra})"),
                Some(open) => format!("{open}{extra})"),
                None => format!("{call}({extra})"),
            }
        })
        .collect()
}
