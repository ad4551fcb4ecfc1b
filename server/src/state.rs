//! What every handler shares: the engine, the indicators, SQL, the runs,
//! and the bounds requests are held to. Route families depend on this
//! module, never on each other.

use std::sync::Arc;

use candela_backtest::{RunSet, RunsFolder, tables};
use candela_core::indicator::Registry;
use candela_core::{Engine, Store, Timeframe};
use candela_sql::snapshot_table::SnapshotTable;
use candela_sql::{Remote, SqlCatalog, SqlError, SqlLimits, SqlService};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::error::ArrowError;

use crate::auth::gate::Gate;
use crate::budget::ResponseBudget;
use crate::error::ApiError;
use crate::http_policy::HttpPolicy;
use crate::live::{Live, LiveConfig};

/// What SQL reads: the bars of `store`, `indicators`, and the runs
/// of `runs` as the tables `trades` and `equity` (empty without a runs
/// folder).
pub fn sql_catalog(
    store: &Arc<Store>,
    indicators: &Arc<Registry>,
    runs: Option<&Arc<RunsFolder>>,
) -> SqlCatalog {
    let snapshot = {
        let runs = runs.cloned();
        move || snapshot_of(runs.as_ref())
    };
    let table = |schema, rows: fn(&RunSet) -> Result<RecordBatch, ArrowError>| {
        let snapshot = snapshot.clone();
        SnapshotTable::new(
            schema,
            Arc::new(move || rows(&snapshot()).map_err(|e| e.to_string())),
        )
    };
    SqlCatalog {
        store: Arc::clone(store),
        indicators: Arc::clone(indicators),
        tables: vec![
            (
                "trades".into(),
                table(tables::trades_schema(), tables::trades_batch),
            ),
            (
                "equity".into(),
                table(tables::equity_schema(), tables::equity_batch),
            ),
        ],
    }
}

/// The memory all answers in flight may hold together, unless configured.
pub const DEFAULT_RESPONSE_BUDGET_MB: u64 = 512;

#[derive(Debug, Clone)]
pub struct AppState {
    pub engine: Arc<Engine>,
    pub indicators: Arc<Registry>,
    pub sql: Arc<SqlService>,
    /// The watched runs folder, when the server has one.
    pub runs: Option<Arc<RunsFolder>>,
    pub data_limits: DataLimits,
    pub http: HttpPolicy,
    /// The data root's changes, for streams.
    pub live: Live,
    /// With sign-in on, who may come in.
    pub gate: Option<Arc<Gate>>,
}

/// The bounds of `/api/data`.
#[derive(Debug, Clone)]
pub struct DataLimits {
    /// Indicator calls one request may make.
    pub max_indicator_calls: usize,
    /// Bars answered when a request names no `limit`: the last ones of the
    /// range.
    pub default_limit: usize,
    /// The memory all answers in flight may hold together.
    pub budget: ResponseBudget,
}

impl Default for DataLimits {
    fn default() -> Self {
        DataLimits {
            max_indicator_calls: 32,
            default_limit: 100_000,
            budget: ResponseBudget::new(DEFAULT_RESPONSE_BUDGET_MB << 20),
        }
    }
}

impl AppState {
    /// The state over `engine` and `indicators`, with SQL in `limits`, and
    /// the runs of `runs` (in the API and as the SQL tables `trades` and
    /// `equity`, empty without a runs folder).
    pub fn new(
        engine: Arc<Engine>,
        indicators: Arc<Registry>,
        limits: SqlLimits,
        runs: Option<Arc<RunsFolder>>,
    ) -> Result<AppState, SqlError> {
        let catalog = sql_catalog(engine.store(), &indicators, runs.as_ref());
        let sql = SqlService::new(catalog, limits)?;
        Ok(AppState {
            engine,
            indicators,
            sql: Arc::new(sql),
            runs,
            data_limits: DataLimits::default(),
            http: HttpPolicy::default(),
            live: Live::still(LiveConfig::default()),
            gate: None,
        })
    }

    /// The same state with SQL planned here and run on `remote`.
    pub fn with_sql_on(self, remote: Arc<dyn Remote>) -> Result<AppState, SqlError> {
        let sql = SqlService::on(
            remote,
            self.sql.catalog().clone(),
            self.sql.limits().clone(),
        )?;
        Ok(AppState {
            sql: Arc::new(sql),
            ..self
        })
    }

    /// The same state with streams following `live`, and `live` the runs.
    pub fn with_live(self, live: Live) -> AppState {
        if let Some(runs) = &self.runs {
            live.follow_runs(runs);
        }
        AppState { live, ..self }
    }

    /// The same state with sign-in on, through `gate`.
    pub fn with_gate(self, gate: Gate) -> AppState {
        AppState {
            gate: Some(Arc::new(gate)),
            ..self
        }
    }

    /// The same state with other bounds for `/api/data` and HTTP.
    pub fn with_limits(self, data_limits: DataLimits, http: HttpPolicy) -> AppState {
        AppState {
            data_limits,
            http,
            ..self
        }
    }

    /// The runs as they are now (none without a runs folder).
    pub fn runs(&self) -> Arc<RunSet> {
        snapshot_of(self.runs.as_ref())
    }

    /// The finest stored timeframe of `symbol`: what a request that names
    /// none is served.
    pub(crate) fn finest_stored(&self, symbol: &str) -> Result<Timeframe, ApiError> {
        let catalog = self.engine.store().catalog();
        let entry = catalog.resolve(symbol).map_err(candela_core::Error::from)?;
        entry.timeframes.keys().next().copied().ok_or_else(|| {
            ApiError::not_found(format!("{} has no stored timeframes", entry.id)).param("symbol")
        })
    }
}

/// The runs of `folder` now; none without a runs folder.
fn snapshot_of(folder: Option<&Arc<RunsFolder>>) -> Arc<RunSet> {
    folder.map_or_else(Arc::default, |folder| folder.snapshot())
}
