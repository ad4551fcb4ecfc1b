//! A copy of a data root cut at an instant: only the stored bars that had
//! closed by then, found from the bars' own times apart from the engine's
//! code. What `asof=` answers must equal what this copy answers.

use std::path::Path;

use candela_core::synthetic::write_parquet;
use candela_core::{Engine, Timeframe};
use chrono::{Days, TimeZone};
use chrono_tz::Tz;

/// When a stored bar closes: a minute or an hour bar its width after its
/// start, a daily bar at the next local midnight.
pub fn close_of(start: i64, timeframe: Timeframe, zone: Tz) -> i64 {
    if let Some(width) = timeframe.fixed_nanos() {
        return start + width;
    }
    assert_eq!(
        timeframe.to_string(),
        "1d",
        "stored calendar bars here are daily"
    );
    let local = zone.timestamp_nanos(start).date_naive();
    let next = local.checked_add_days(Days::new(1)).expect("next day");
    let midnight = zone
        .from_local_datetime(&next.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("a local midnight");
    midnight.timestamp_nanos_opt().expect("in range")
}

/// The stored timeframes of the series in `root/folder` (`PROVIDER/SYMBOL`).
pub fn stored(root: &Path, folder: &str) -> Vec<Timeframe> {
    std::fs::read_dir(root.join(folder))
        .expect("series folder")
        .map(|e| {
            e.expect("entry")
                .file_name()
                .to_string_lossy()
                .parse()
                .expect("timeframe")
        })
        .collect()
}

/// Writes under `into` the stored bars of `symbol` (in `root/folder`, read
/// through `full`) that had closed by `instant`.
pub async fn write_cut(
    full: &Engine,
    root: &Path,
    folder: &str,
    symbol: &str,
    zone: Tz,
    instant: i64,
    into: &Path,
) {
    for timeframe in stored(root, folder) {
        let bars = full.bars(symbol, timeframe).await.expect("stored bars");
        let kept = bars
            .frame
            .time()
            .iter()
            .take_while(|&&t| close_of(t, timeframe, zone) <= instant)
            .count();
        let dir = into.join(folder).join(timeframe.to_string());
        std::fs::create_dir_all(&dir).expect("folder");
        write_parquet(&bars.frame.slice(0..kept), &dir.join("bars.parquet")).expect("write");
    }
}
