//! `/api/data?asof=X` against a server on a copy of the data cut at X: for
//! random instants (several seeds) on the bundled sample data, the answer
//! as of X (bars, the indicators, higher timeframes in every `align`, an
//! indicator of an indicator, a compared symbol) is the cut copy's answer,
//! value for value, but for `forming`, which only `asof=` answers. Any use
//! of a bar that closed after X shows as a difference.

mod support;

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use candela_core::{Engine, Store, StoreConfig};
use candela_server::state::AppState;
use candela_sql::SqlLimits;
use rand::{Rng, SeedableRng};
use serde_json::Value;

#[path = "../../core/tests/support/cut.rs"]
mod cut;

const ZONE: chrono_tz::Tz = chrono_tz::America::New_York;
const SERIES: [(&str, &str); 3] = [
    ("ALPACA:EXPE", "ALPACA/EXPE"),
    ("ALPACA:NFLX", "ALPACA/NFLX"),
    ("ALPACA:AAPL", "ALPACA/AAPL"),
];
const QUERIES: [&str; 6] = [
    // Aggregated charts: their last bar, and the compared symbols' there, may be forming.
    "symbol=NFLX&timeframe=4h&compare=EXPE&indicators=sma(5),wma(3,source=sma(2,timeframe=1d))",
    "symbol=NFLX&timeframe=1d&compare=EXPE,AAPL&indicators=sma(5,timeframe=1w,align=forming)",
    "symbol=NFLX&timeframe=1h&limit=600&compare=EXPE&indicators=sma(20),rsi(14),sma(5,timeframe=1d),\
     sma(5,timeframe=1d,align=open),sma(5,timeframe=1d,align=forming),ema(9,source=rsi(14)),macd(12,26,9)",
    "symbol=EXPE&timeframe=1h&limit=600&indicators=bbands(20,2),atr(14),vwap,sma(3,timeframe=1d,align=open),\
     stoch(14,3,3,timeframe=4h,align=forming)",
    "symbol=EXPE&timeframe=1m&limit=2000&indicators=ema(20),rsi(14,timeframe=1h),obv",
    "symbol=AAPL&timeframe=1d&indicators=sma(10),sma(10,timeframe=1w),rsi(14,timeframe=1M,align=forming)",
];

fn engine(root: &Path) -> Arc<Engine> {
    let mut config = StoreConfig::new(root);
    config.zones.insert("ALPACA".into(), ZONE);
    Arc::new(Engine::new(Arc::new(Store::open(config).expect("store")), 2).expect("engine"))
}

fn state(engine: Arc<Engine>) -> AppState {
    AppState::new(
        engine,
        Arc::new(candela_indicators::registry()),
        SqlLimits::default(),
        None,
    )
    .expect("state")
}

async fn get(state: &AppState, uri: &str) -> Value {
    let request = Request::get(uri).body(Body::empty()).expect("request");
    let (status, bytes) = support::send_raw(state, request).await;
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{uri}: {body}");
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn an_answer_as_of_an_instant_is_the_answer_of_the_data_cut_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data");
    let full_engine = engine(&root);
    let full = state(Arc::clone(&full_engine));
    // Instants where every sample symbol has bars: EXPE's months.
    let expe = full_engine
        .bars("ALPACA:EXPE", "1m".parse().expect("tf"))
        .await
        .expect("bars");
    let times = expe.frame.time();
    let mut forming = 0;
    for seed in [1_u64, 2, 3, 4, 5] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let at = rng.random_range(times.len() / 10..times.len());
        let instant = if rng.random_bool(0.5) {
            times[at] + 60_000_000_000
        } else {
            rng.random_range(times[at - 1]..times[at])
        };
        let dir = tempfile::tempdir().expect("tempdir");
        for (symbol, folder) in SERIES {
            cut::write_cut(
                &full_engine,
                &root,
                folder,
                symbol,
                ZONE,
                instant,
                dir.path(),
            )
            .await;
        }
        let cut_state = state(engine(dir.path()));
        let asof = format!(
            "{}.{:09}",
            instant.div_euclid(1_000_000_000),
            instant.rem_euclid(1_000_000_000)
        );
        for query in QUERIES {
            let mut as_of = get(&full, &format!("/api/data?{query}&asof={asof}")).await;
            let expected = get(&cut_state, &format!("/api/data?{query}")).await;
            let flag = as_of.as_object_mut().expect("an object").remove("forming");
            let Some(Value::Bool(flag)) = flag else {
                panic!(
                    "seed {seed}, {query}: an answer as of an instant says whether its last bar is forming: {flag:?}"
                );
            };
            forming += usize::from(flag);
            if as_of != expected {
                let differs = ["bars", "indicators", "compare"]
                    .into_iter()
                    .filter(|k| as_of[*k] != expected[*k])
                    .collect::<Vec<_>>();
                panic!(
                    "seed {seed}, asof={asof}, {query}: differs from the cut copy in {differs:?}"
                );
            }
        }
    }
    assert!(
        forming >= 3,
        "some instants fall inside an aggregated bar: {forming}"
    );
}
