//! `Engine::bars_as_of` against a copy of the data cut at the instant: for
//! random instants (several seeds), on the bundled sample data (New York
//! days) and the real market data in `tests/data/market` (UTC), at stored
//! and aggregated timeframes, the bars as of X equal, bit for bit, the bars
//! of a store that holds only the stored bars that had closed by X. The cut
//! copy is made here from the bars' own times, apart from the engine's code.
//! An aggregated last bar that is not flagged forming is the complete one.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use candela_core::{BarFrame, Engine, Store, StoreConfig, Timeframe};
use chrono_tz::Tz;
use rand::{Rng, SeedableRng};

mod support {
    pub mod cut;
}
use support::cut::{close_of, stored, write_cut};

struct Case {
    root: &'static str,
    zone: Tz,
    symbol: &'static str,
    /// `PROVIDER/SYMBOL` folder under the root.
    folder: &'static str,
    timeframes: &'static [&'static str],
}

const CASES: [Case; 4] = [
    Case {
        root: "data",
        zone: chrono_tz::America::New_York,
        symbol: "ALPACA:EXPE",
        folder: "ALPACA/EXPE",
        timeframes: &["1m", "5m", "1h", "4h", "1d", "1w"],
    },
    Case {
        root: "data",
        zone: chrono_tz::America::New_York,
        symbol: "ALPACA:NFLX",
        folder: "ALPACA/NFLX",
        timeframes: &["1h", "4h", "1d", "1w", "1M"],
    },
    Case {
        root: "data",
        zone: chrono_tz::America::New_York,
        symbol: "ALPACA:AAPL",
        folder: "ALPACA/AAPL",
        timeframes: &["1d", "1w", "1M"],
    },
    Case {
        root: "tests/data/market/parquet",
        zone: chrono_tz::UTC,
        symbol: "ALPACA:BTFUT",
        folder: "ALPACA/BTFUT",
        timeframes: &["1m", "15m", "1h", "1d", "1w"],
    },
];

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn engine(root: &Path, zone: Tz) -> Engine {
    let mut config = StoreConfig::new(root);
    config.default_zone = zone;
    Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine")
}

fn bit_equal(a: &BarFrame, b: &BarFrame) -> bool {
    let same = |x: &[f64], y: &[f64]| {
        x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
    };
    a.time() == b.time()
        && same(a.open(), b.open())
        && same(a.high(), b.high())
        && same(a.low(), b.low())
        && same(a.close(), b.close())
        && same(a.volume(), b.volume())
}

#[tokio::test(flavor = "multi_thread")]
async fn bars_as_of_an_instant_equal_those_of_the_data_cut_there() {
    let mut checked = 0;
    let mut forming = 0;
    for case in &CASES {
        let root = repo().join(case.root);
        let full = engine(&root, case.zone);
        let stored = stored(&root, case.folder);
        let finest = *stored.iter().min().expect("a stored timeframe");
        let span = full.bars(case.symbol, finest).await.expect("bars");
        let times = span.frame.time();
        for seed in SEEDS {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            // Half the time an instant between bars, half exactly a bar's close.
            let at = rng.random_range(0..times.len());
            let instant = if rng.random_bool(0.5) {
                close_of(times[at], finest, case.zone)
            } else {
                rng.random_range(times[0]..=*times.last().expect("last"))
            };
            let cut = tempfile::tempdir().expect("tempdir");
            write_cut(
                &full,
                &root,
                case.folder,
                case.symbol,
                case.zone,
                instant,
                cut.path(),
            )
            .await;
            let cut_engine = engine(cut.path(), case.zone);
            for tf in case.timeframes {
                let timeframe: Timeframe = tf.parse().expect("timeframe");
                let what = format!("{} {tf} as of {instant} (seed {seed})", case.symbol);
                let as_of = full
                    .bars_as_of(case.symbol, timeframe, instant)
                    .await
                    .expect(&what);
                let expected = cut_engine.bars(case.symbol, timeframe).await.expect(&what);
                assert_eq!(as_of.bars.source, expected.source, "{what}: source");
                assert!(
                    bit_equal(&as_of.bars.frame, &expected.frame),
                    "{what}: {} bars vs {} in the cut copy",
                    as_of.bars.frame.len(),
                    expected.frame.len()
                );
                let Some(&last) = as_of.bars.frame.time().last() else {
                    continue;
                };
                let whole = full.bars(case.symbol, timeframe).await.expect(&what);
                let row = whole
                    .frame
                    .time()
                    .binary_search(&last)
                    .expect("the last bar's start is a bar of the whole series");
                let complete = bit_equal(
                    &whole.frame.slice(row..row + 1),
                    &as_of
                        .bars
                        .frame
                        .slice(as_of.bars.frame.len() - 1..as_of.bars.frame.len()),
                );
                if as_of.forming {
                    forming += 1;
                    assert!(
                        as_of.bars.aggregated(),
                        "{what}: a stored bar is never forming"
                    );
                    // No bin here is longer than a month: one that began earlier has ended.
                    assert!(
                        last > instant - 32 * 86_400_000_000_000,
                        "{what}: forming, yet it began over a month before"
                    );
                } else {
                    assert!(
                        complete,
                        "{what}: not flagged forming, yet it lacks source bars the whole series has"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 90,
        "every case, timeframe and seed was checked: {checked}"
    );
    assert!(
        forming >= 10,
        "the instants fall inside aggregated bars often enough: {forming}"
    );
}
