//! One run folder, read whole: its manifest, trades, equity curve and
//! statistics. A run is read once (when it appears or changes) and then
//! served from memory.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use candela_core::resample::resample;
use candela_core::store::Caching;
use candela_core::{BarFrame, Store, SymbolId};
use chrono_tz::Tz;

use crate::equity::{self, EquityCurve};
use crate::error::{Place, Problem, RunError};
use crate::files::RunFiles;
use crate::manifest::Manifest;
use crate::stats::Stats;
use crate::table::{Fault, FileLimits, Table};
use crate::trades::{self, Context, Trade};

/// A run, ready to serve.
#[derive(Debug, Clone)]
pub struct Run {
    /// The folder's name: the run's id in the API.
    pub id: String,
    pub manifest: Manifest,
    /// Every symbol traded, in the data root's spelling, in order of first
    /// appearance.
    pub symbols: Vec<SymbolId>,
    /// By entry time.
    pub trades: Vec<Trade>,
    pub equity: EquityCurve,
    pub stats: Stats,
    /// The zone the run's naive times were read in and its days counted in.
    pub zone: Tz,
}

/// The files a run folder may hold, in order of preference.
pub const TRADES_FILES: [&str; 2] = ["trades.parquet", "trades.csv"];
pub const EQUITY_FILES: [&str; 2] = ["equity.parquet", "equity.csv"];
pub const MANIFEST_FILE: &str = "run.toml";

impl Run {
    /// Reads the run in the folder `dir`, resolving its symbols in
    /// `store`'s data root (and reading their bars there if the equity
    /// curve is to be derived).
    pub fn load(dir: &Path, store: &Store, limits: FileLimits) -> Result<Run, RunError> {
        let id = dir
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        Run::read(id, &RunFiles::in_folder(dir), store, limits)
    }

    /// Reads the run `id` from `files`, as [`Run::load`] does.
    pub fn read(
        id: String,
        files: &RunFiles,
        store: &Store,
        limits: FileLimits,
    ) -> Result<Run, RunError> {
        let failed = |fault: Fault| fault.of_run(&id);
        let manifest = read_manifest(files).map_err(failed)?;
        let (trades_file, trades_ref) = files
            .first(&TRADES_FILES)
            .ok_or_else(|| failed(Fault::in_file(TRADES_FILES[1], Problem::NoTrades)))?;
        let table =
            Table::read(trades_file, trades_ref, &trades::names::all(), limits).map_err(failed)?;
        let catalog = store.catalog();
        let zone_of = |symbol: &SymbolId| store.zone(&symbol.provider);
        let context = Context {
            catalog: &catalog,
            default_symbol: manifest.only_symbol(),
            timezone: manifest.timezone,
            zone_of: &zone_of,
        };
        let (trades, zone) = trades::read(&table, &context).map_err(failed)?;
        let mut symbols: Vec<SymbolId> = Vec::new();
        for trade in &trades {
            if !symbols.contains(&trade.symbol) {
                symbols.push(trade.symbol.clone());
            }
        }
        for listed in &manifest.symbols {
            let resolved = catalog
                .resolve(listed)
                .map_err(|e| failed(Fault::in_file(MANIFEST_FILE, Problem::Symbol(e))))?;
            if !symbols.contains(&resolved.id) {
                symbols.push(resolved.id.clone());
            }
        }

        let (equity, day_zone) = match files.first(&EQUITY_FILES) {
            Some((name, file)) => {
                let table =
                    Table::read(name, file, &equity::names::all(), limits).map_err(failed)?;
                let (curve, own_zone) = equity::read(&table, zone).map_err(failed)?;
                (curve, manifest.timezone.or(own_zone).unwrap_or(zone))
            }
            None => {
                let curve =
                    derived_equity(&manifest, &trades, &symbols, store, None).map_err(failed)?;
                (curve, zone)
            }
        };
        let stats = Stats::compute(&trades, &equity, day_zone);
        Ok(Run {
            id,
            manifest,
            symbols,
            trades,
            equity,
            stats,
            zone: day_zone,
        })
    }

    /// The run as it stood at `instant` (UTC nanoseconds): the trades
    /// entered by then, those that exited later still open (and without their
    /// costs, which were not known yet); the equity curve
    /// up to then (a derived one derived again from those trades and the
    /// bars closed by then); the statistics of those alone. It equals the
    /// run of a copy of its folder and of the data cut at `instant`; before
    /// the run's first entry it has no trades and no curve.
    pub fn as_of(&self, instant: i64, store: &Store) -> Result<Run, RunError> {
        let trades: Vec<Trade> = self
            .trades
            .iter()
            .take_while(|t| t.entry.time <= instant)
            .map(|t| match t.exit() {
                // Open then, and its costs (the exit's among them) unknown.
                Some(exit) if exit.time > instant => Trade {
                    outcome: trades::Outcome::Open,
                    commission: None,
                    ..t.clone()
                },
                _ => t.clone(),
            })
            .collect();
        let equity = if self.equity.derived {
            derived_equity(&self.manifest, &trades, &self.symbols, store, Some(instant))
                .map_err(|fault| fault.of_run(&self.id))?
        } else {
            self.equity.until(instant)
        };
        Ok(Run {
            id: self.id.clone(),
            manifest: self.manifest.clone(),
            symbols: self.symbols.clone(),
            stats: Stats::compute(&trades, &equity, self.zone),
            trades,
            equity,
            zone: self.zone,
        })
    }

    /// The run's display name: run.toml's, else the folder's.
    pub fn name(&self) -> &str {
        self.manifest.name.as_deref().unwrap_or(&self.id)
    }
}

fn read_manifest(files: &RunFiles) -> Result<Manifest, Fault> {
    let in_manifest = |problem| Fault::in_file(MANIFEST_FILE, problem);
    match files.get(MANIFEST_FILE) {
        Some(file) => Manifest::parse(&file.text().map_err(in_manifest)?).map_err(in_manifest),
        None => Ok(Manifest::default()),
    }
}

/// The curve of a run without an equity file, on the bars of its symbols
/// (run.toml's `timeframe`, else each symbol's finest stored one); with an
/// instant, on those that had closed by then.
fn derived_equity(
    manifest: &Manifest,
    trades: &[Trade],
    symbols: &[SymbolId],
    store: &Store,
    instant: Option<i64>,
) -> Result<EquityCurve, Fault> {
    let in_manifest = |problem| Fault::in_file(MANIFEST_FILE, problem);
    let cash = manifest.starting_cash.ok_or_else(|| {
        in_manifest(Problem::Manifest(
            "without an equity file, the equity curve is derived from the trades and needs starting_cash".into(),
        ))
    })?;
    let catalog = store.catalog();
    let mut bars: BTreeMap<SymbolId, Arc<BarFrame>> = BTreeMap::new();
    for symbol in symbols {
        let name = symbol.to_string();
        let timeframe = match manifest.timeframe {
            Some(tf) => tf,
            None => catalog
                .resolve(&name)
                .ok()
                .and_then(|e| e.timeframes.keys().next().copied())
                .ok_or_else(|| in_manifest(Problem::NoBars(name.clone())))?,
        };
        let frame = store
            .plan(&name, timeframe)
            .and_then(|plan| match instant {
                Some(instant) => {
                    let source = store.source_frame(&plan, &Caching::Keep)?;
                    let closed = source.slice(0..source.closed_by(plan.source, plan.zone, instant));
                    Ok(Arc::new(if plan.aggregated() {
                        resample(&closed, timeframe, plan.zone)
                    } else {
                        closed
                    }))
                }
                None if plan.aggregated() => {
                    store.resampled_frame(&plan, &Caching::Keep).map(Arc::new)
                }
                None => store.source_frame(&plan, &Caching::Keep),
            })
            .map_err(|e| in_manifest(Problem::Bars(e.to_string())))?;
        bars.insert(symbol.clone(), frame);
    }
    equity::derive(trades, cash, &bars).map_err(|problem| Fault {
        place: Place::default(),
        problem,
    })
}
