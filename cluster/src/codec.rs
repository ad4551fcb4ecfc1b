//! Candela's parts of a plan on the wire, by reference.
//!
//! A plan names its bars, never holds them: the `bars()` and `bars` tables,
//! the scans and the resample operator travel as the series, window and
//! columns they read, the in-memory tables and the indicators by name. Each
//! process resolves them against its own [`SqlCatalog`] over the same data
//! root, so a plan's size does not grow with the data, and an executor
//! reads only what its tasks need. Everything else is Ballista's: its
//! codecs are asked for what is not Candela's.
//!
//! Candela's payloads start with `CNDL`; no protobuf message Ballista
//! writes can (its first byte would be a group start, which proto3 never
//! emits).

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use candela_core::load::TimeWindow;
use candela_core::query::{BarsTable, Reader, ResampleExec, ResampleInput, SeriesScanExec};
use candela_core::store::SeriesPlan;
use candela_core::timeframe::Timeframe;
use candela_sql::SqlCatalog;
use candela_sql::generated::GeneratedTable;
use candela_sql::indicator_window::IndicatorWindow;
use candela_sql::stored_bars::{StoredBars, StoredBarsExec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use prost::Message;

use crate::whole_scans::WholeScanExec;

/// The first bytes of every payload these codecs write.
const MAGIC: &[u8] = b"CNDL";

/// One of Candela's parts of a plan.
#[derive(Clone, PartialEq, Message)]
struct Part {
    #[prost(oneof = "Kind", tags = "1, 2, 3, 4, 5, 6, 7, 8, 9")]
    kind: Option<Kind>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
enum Kind {
    /// `bars('SYMBOL', 'TIMEFRAME')`.
    #[prost(message, tag = "1")]
    BarsFunction(Series),
    /// The `bars` table (it holds nothing but the store).
    #[prost(bool, tag = "2")]
    BarsTable(bool),
    /// An in-memory table, by the name it is registered under.
    #[prost(string, tag = "3")]
    Snapshot(String),
    #[prost(message, tag = "4")]
    SeriesScan(SeriesScan),
    /// The resample operator of a SQL scan (times labelled in the zone).
    #[prost(message, tag = "5")]
    Resample(Series),
    #[prost(message, tag = "6")]
    StoredBarsScan(StoredBarsScan),
    /// An indicator window function, by its id.
    #[prost(string, tag = "7")]
    Indicator(String),
    /// A scan kept whole for one task ([`WholeScanExec`]); its input follows.
    #[prost(bool, tag = "8")]
    WholeScan(bool),
    /// `generate_series(…)` or `range(…)`, capped, with constant arguments.
    #[prost(message, tag = "9")]
    Generated(Generated),
}

#[derive(Clone, PartialEq, Message)]
struct Generated {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(message, repeated, tag = "2")]
    args: Vec<datafusion_proto::protobuf::ScalarValue>,
    #[prost(uint64, tag = "3")]
    max_rows: u64,
}

impl Generated {
    fn of(table: &GeneratedTable) -> Result<Generated> {
        let (name, args) = table.called();
        let args = args
            .iter()
            .map(|arg| match arg {
                Expr::Literal(value, _) => datafusion_proto::protobuf::ScalarValue::try_from(value)
                    .map_err(|e| DataFusionError::Plan(format!("{name}'s argument {value}: {e}"))),
                other => Err(DataFusionError::Plan(format!(
                    "on the cluster, {name} takes constants, not {other}"
                ))),
            })
            .collect::<Result<_>>()?;
        Ok(Generated {
            name: name.to_owned(),
            args,
            max_rows: table.max_rows(),
        })
    }

    fn table(&self) -> Result<GeneratedTable> {
        let args = self
            .args
            .iter()
            .map(|arg| {
                ScalarValue::try_from(arg)
                    .map(|value| Expr::Literal(value, None))
                    .map_err(|e| DataFusionError::Plan(format!("{}'s argument: {e}", self.name)))
            })
            .collect::<Result<Vec<_>>>()?;
        let session = SessionStateBuilder::new().build();
        GeneratedTable::call(&self.name, &args, self.max_rows, &session)
    }
}

/// A series at a timeframe, as a request names it.
#[derive(Clone, PartialEq, Message)]
struct Series {
    #[prost(string, tag = "1")]
    symbol: String,
    #[prost(string, tag = "2")]
    timeframe: String,
}

#[derive(Clone, PartialEq, Message)]
struct SeriesScan {
    #[prost(message, optional, tag = "1")]
    series: Option<Series>,
    #[prost(message, optional, tag = "2")]
    window: Option<Window>,
    #[prost(message, optional, tag = "3")]
    projection: Option<Projection>,
}

#[derive(Clone, PartialEq, Message)]
struct StoredBarsScan {
    #[prost(message, repeated, tag = "1")]
    series: Vec<Series>,
    #[prost(message, optional, tag = "2")]
    window: Option<Window>,
    #[prost(message, optional, tag = "3")]
    projection: Option<Projection>,
}

#[derive(Clone, PartialEq, Message)]
struct Window {
    #[prost(int64, tag = "1")]
    from: i64,
    #[prost(int64, tag = "2")]
    to: i64,
}

#[derive(Clone, PartialEq, Message)]
struct Projection {
    #[prost(uint32, repeated, tag = "1")]
    columns: Vec<u32>,
}

impl Series {
    fn of(plan: &SeriesPlan) -> Series {
        Series {
            symbol: plan.symbol.to_string(),
            timeframe: plan.timeframe.to_string(),
        }
    }

    /// The series planned by this process's store.
    fn plan(&self, catalog: &SqlCatalog) -> Result<SeriesPlan> {
        let timeframe: Timeframe = self
            .timeframe
            .parse()
            .map_err(|e| DataFusionError::Plan(format!("{e}")))?;
        catalog.store.plan(&self.symbol, timeframe).map_err(|e| {
            DataFusionError::Plan(format!(
                "{} {}: {e} (does this process read the same data root as the server?)",
                self.symbol, self.timeframe
            ))
        })
    }
}

impl From<TimeWindow> for Window {
    fn from(window: TimeWindow) -> Window {
        Window {
            from: window.from,
            to: window.to,
        }
    }
}

fn window_of(window: Option<Window>) -> TimeWindow {
    window.map_or(TimeWindow::ALL, |w| TimeWindow {
        from: w.from,
        to: w.to,
    })
}

fn projection_of(columns: Option<&[usize]>) -> Option<Projection> {
    columns.map(|columns| Projection {
        columns: columns.iter().map(|&c| c as u32).collect(),
    })
}

fn columns_of(projection: Option<Projection>) -> Option<Vec<usize>> {
    projection.map(|p| p.columns.into_iter().map(|c| c as usize).collect())
}

fn write(kind: Kind, buf: &mut Vec<u8>) {
    buf.extend_from_slice(MAGIC);
    buf.extend(Part { kind: Some(kind) }.encode_to_vec());
}

/// Candela's part in `buf`, or `None` if `buf` is another codec's.
fn read(buf: &[u8]) -> Result<Option<Kind>> {
    let Some(payload) = buf.strip_prefix(MAGIC) else {
        return Ok(None);
    };
    let part = Part::decode(payload)
        .map_err(|e| DataFusionError::Internal(format!("a Candela plan part is corrupt: {e}")))?;
    part.kind
        .map(Some)
        .ok_or_else(|| DataFusionError::Internal("a Candela plan part is empty".into()))
}

fn unexpected(kind: &Kind, codec: &str) -> DataFusionError {
    DataFusionError::Internal(format!("the {codec} codec cannot decode {kind:?}"))
}

/// The indicator part of a window function, if it is one.
fn encode_indicator(node: &WindowUDF, buf: &mut Vec<u8>) {
    if node.inner().downcast_ref::<IndicatorWindow>().is_some() {
        write(Kind::Indicator(node.name().to_owned()), buf);
    }
}

fn decode_indicator(catalog: &SqlCatalog, buf: &[u8]) -> Result<Option<Arc<WindowUDF>>> {
    match read(buf)? {
        Some(Kind::Indicator(id)) => catalog
            .indicator_window(&id)
            .map(|window| Some(Arc::new(window)))
            .ok_or_else(|| {
                DataFusionError::Plan(format!(
                    "the indicator {id} is not registered in this process \
                     (is its plugin in every process's plugin folder?)"
                ))
            }),
        Some(other) => Err(unexpected(&other, "window function")),
        None => Ok(None),
    }
}

/// Candela's logical codec: its tables and indicators, then Ballista's.
#[derive(Debug)]
pub struct LogicalCodec {
    catalog: SqlCatalog,
    ballista: BallistaLogicalExtensionCodec,
}

impl LogicalCodec {
    pub fn new(catalog: SqlCatalog) -> Self {
        LogicalCodec {
            catalog,
            ballista: BallistaLogicalExtensionCodec::default(),
        }
    }
}

impl LogicalExtensionCodec for LogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.ballista.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.ballista.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        let store = || Arc::clone(&self.catalog.store);
        match read(buf)? {
            Some(Kind::BarsFunction(series)) => Ok(Arc::new(BarsTable::stored(
                store(),
                series.plan(&self.catalog)?,
            ))),
            Some(Kind::BarsTable(_)) => Ok(Arc::new(StoredBars::new(store()))),
            Some(Kind::Generated(generated)) => Ok(Arc::new(generated.table()?)),
            Some(Kind::Snapshot(name)) => self
                .catalog
                .table(&name)
                .map(|table| Arc::new(table.clone()) as Arc<dyn TableProvider>)
                .ok_or_else(|| DataFusionError::Plan(format!("this process has no table {name}"))),
            Some(other) => Err(unexpected(&other, "table")),
            None => self
                .ballista
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        if let Some(bars) = node.downcast_ref::<BarsTable>() {
            let plan = bars.sql_series().ok_or_else(|| {
                DataFusionError::Internal("only SQL's bars() tables can be sent".into())
            })?;
            write(Kind::BarsFunction(Series::of(plan)), buf);
        } else if node.is::<StoredBars>() {
            write(Kind::BarsTable(true), buf);
        } else if let Some(generated) = node.downcast_ref::<GeneratedTable>() {
            write(Kind::Generated(Generated::of(generated)?), buf);
        } else if node.is::<candela_sql::snapshot_table::SnapshotTable>() {
            let name = table_ref.table();
            if self.catalog.table(name).is_none() {
                return Err(DataFusionError::Plan(format!(
                    "the table {name} is not in the catalog: it cannot be sent"
                )));
            }
            write(Kind::Snapshot(name.to_owned()), buf);
        } else {
            return self
                .ballista
                .try_encode_table_provider(table_ref, node, buf);
        }
        Ok(())
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.ballista.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.ballista.try_encode_file_format(buf, node)
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        match decode_indicator(&self.catalog, buf)? {
            Some(window) => Ok(window),
            None => self.ballista.try_decode_udwf(name, buf),
        }
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_indicator(node, buf);
        Ok(())
    }
}

/// Candela's physical codec: its scans, the resample operator and the
/// indicators, then Ballista's (the shuffles).
#[derive(Debug)]
pub struct PhysicalCodec {
    catalog: SqlCatalog,
    ballista: BallistaPhysicalExtensionCodec,
}

impl PhysicalCodec {
    pub fn new(catalog: SqlCatalog) -> Self {
        PhysicalCodec {
            catalog,
            ballista: BallistaPhysicalExtensionCodec::default(),
        }
    }
}

impl PhysicalExtensionCodec for PhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let store = || Arc::clone(&self.catalog.store);
        match read(buf)? {
            Some(Kind::SeriesScan(scan)) => {
                let series = scan.series.ok_or_else(|| {
                    DataFusionError::Internal("a SeriesScanExec names no series".into())
                })?;
                Ok(Arc::new(SeriesScanExec::try_new(
                    store(),
                    series.plan(&self.catalog)?,
                    window_of(scan.window),
                    columns_of(scan.projection),
                )?))
            }
            Some(Kind::Resample(series)) => {
                let plan = series.plan(&self.catalog)?;
                let (timeframe, zone) = (plan.timeframe, plan.zone);
                let input = ResampleInput::Stored {
                    store: store(),
                    plan,
                    reader: Reader::Sql,
                };
                Ok(Arc::new(ResampleExec::labelled(input, timeframe, zone)?))
            }
            Some(Kind::StoredBarsScan(scan)) => {
                let series = scan
                    .series
                    .iter()
                    .map(|s| s.plan(&self.catalog))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Arc::new(StoredBarsExec::try_new(
                    store(),
                    series,
                    window_of(scan.window),
                    columns_of(scan.projection),
                )?))
            }
            Some(Kind::WholeScan(_)) => match inputs {
                [input] => Ok(WholeScanExec::over(Arc::clone(input))),
                _ => Err(DataFusionError::Internal(format!(
                    "a WholeScanExec has one input, given {}",
                    inputs.len()
                ))),
            },
            Some(other) => Err(unexpected(&other, "operator")),
            None => self.ballista.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        if let Some(scan) = node.downcast_ref::<SeriesScanExec>() {
            let part = SeriesScan {
                series: Some(Series::of(scan.plan())),
                window: Some(scan.window().into()),
                projection: projection_of(scan.projection()),
            };
            write(Kind::SeriesScan(part), buf);
        } else if let Some(resample) = node.downcast_ref::<ResampleExec>() {
            match resample.input() {
                ResampleInput::Stored {
                    plan,
                    reader: Reader::Sql,
                    ..
                } if resample.is_labelled() => write(Kind::Resample(Series::of(plan)), buf),
                _ => {
                    return Err(DataFusionError::Internal(
                        "only SQL's resample operators, which read their bars, can be sent".into(),
                    ));
                }
            }
        } else if let Some(scan) = node.downcast_ref::<StoredBarsExec>() {
            let part = StoredBarsScan {
                series: scan.series().iter().map(Series::of).collect(),
                window: Some(scan.window().into()),
                projection: projection_of(scan.projection()),
            };
            write(Kind::StoredBarsScan(part), buf);
        } else if node.is::<WholeScanExec>() {
            write(Kind::WholeScan(true), buf);
        } else {
            return self.ballista.try_encode(node, buf, proto_converter);
        }
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, buf: &[u8]) -> Result<Arc<WindowUDF>> {
        match decode_indicator(&self.catalog, buf)? {
            Some(window) => Ok(window),
            None => self.ballista.try_decode_udwf(name, buf),
        }
    }

    fn try_encode_udwf(&self, node: &WindowUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_indicator(node, buf);
        Ok(())
    }
}
