//! [`FlightSql`]: arrow-flight's Flight SQL service over a [`SqlService`].
//!
//! A query is planned when its `FlightInfo` is asked for (its schema, and
//! any error, come back then) and run when its ticket is fetched; nothing
//! is kept in between, the ticket holds the query ([`Handle`]). A result
//! over the row or byte cap fails rather than arrive cut: Flight SQL has no
//! way to say a result is incomplete that drivers pass on.

use std::pin::Pin;
use std::sync::Arc;

use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::metadata::{SqlInfoData, SqlInfoDataBuilder};
use arrow_flight::sql::server::{FlightSqlService, PeekableFlightDataStream};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandGetCatalogs, CommandGetDbSchemas,
    CommandGetSqlInfo, CommandGetTableTypes, CommandGetTables, CommandPreparedStatementQuery,
    CommandStatementQuery, DoPutPreparedStatementResult, ProstMessageExt, SqlInfo,
    SqlSupportedTransaction, TicketStatementQuery,
};
use arrow_flight::{
    Action, FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket,
};
use candela_sql::{ListedTable, SqlError, SqlService};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::arrow::ipc::writer::IpcWriteOptions;
use futures::{Stream, TryStreamExt};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::handle::Handle;
use crate::status;

/// The one kind of table the catalog has.
const TABLE: &str = "TABLE";

type DoGetStream = <FlightSql as FlightService>::DoGetStream;

/// Flight SQL over `sql`: statements, prepared statements with parameters,
/// and the catalog calls a database tool lists tables with.
#[derive(Clone)]
pub struct FlightSql {
    sql: Arc<SqlService>,
    info: Arc<SqlInfoData>,
}

impl std::fmt::Debug for FlightSql {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlightSql")
            .field("sql", &self.sql)
            .finish_non_exhaustive()
    }
}

impl FlightSql {
    pub fn new(sql: Arc<SqlService>) -> Result<FlightSql, FlightError> {
        let mut info = SqlInfoDataBuilder::new();
        info.append(SqlInfo::FlightSqlServerName, "Candela");
        info.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
        info.append(SqlInfo::FlightSqlServerArrowVersion, "59");
        info.append(SqlInfo::FlightSqlServerReadOnly, true);
        info.append(SqlInfo::FlightSqlServerSql, true);
        info.append(SqlInfo::FlightSqlServerSubstrait, false);
        info.append(
            SqlInfo::FlightSqlServerTransaction,
            SqlSupportedTransaction::None as i32,
        );
        info.append(SqlInfo::FlightSqlServerCancel, false);
        let timeout_ms = i32::try_from(sql.limits().time_limit.as_millis()).unwrap_or(i32::MAX);
        info.append(SqlInfo::FlightSqlServerStatementTimeout, timeout_ms);
        Ok(FlightSql {
            sql,
            info: Arc::new(info.build()?),
        })
    }

    /// The `FlightInfo` of the query `handle` holds: planned now, so that a
    /// bad query fails here, its one endpoint fetched with `ticket`.
    async fn query_info(
        &self,
        handle: &Handle,
        ticket: Ticket,
        descriptor: FlightDescriptor,
    ) -> Result<Response<FlightInfo>, Status> {
        let prepared = self
            .sql
            .prepare(&handle.sql, handle.parameters()?)
            .await
            .map_err(|e| status::of_sql(&e))?;
        info(&prepared.schema, ticket, descriptor)
    }

    /// Runs the query `handle` holds and streams its rows.
    async fn rows(&self, handle: &Handle) -> Result<Response<DoGetStream>, Status> {
        let result = self
            .sql
            .query_with(&handle.sql, handle.parameters()?)
            .await
            .map_err(|e| status::of_sql(&e))?;
        if result.truncated {
            let limits = self.sql.limits();
            let cut = SqlError::OutputLimit(format!(
                "the result holds more than the {} rows or {} MiB that sql.max_rows and \
                 sql.max_result_mb allow; Flight SQL sends whole results only: narrow the \
                 query (a WHERE on time, a LIMIT) or raise those limits",
                limits.max_rows,
                limits.max_result_bytes >> 20
            ));
            return Err(status::of_sql(&cut));
        }
        let schema = result.schema;
        let batches: Vec<_> = result
            .batches
            .into_iter()
            .map(|batch| {
                batch
                    .with_schema(Arc::clone(&schema))
                    .map_err(FlightError::from)
            })
            .collect();
        Ok(stream(schema, futures::stream::iter(batches)))
    }

    async fn tables(&self) -> Result<Vec<ListedTable>, Status> {
        self.sql.tables().await.map_err(|e| status::of_sql(&e))
    }
}

/// A `FlightInfo` of `schema` whose one endpoint is fetched with `ticket`.
fn info(
    schema: &Schema,
    ticket: Ticket,
    descriptor: FlightDescriptor,
) -> Result<Response<FlightInfo>, Status> {
    let info = FlightInfo::new()
        .try_with_schema(&as_sent(schema))
        .map_err(|e| Status::internal(format!("the result's schema: {e}")))?
        .with_endpoint(FlightEndpoint::new().with_ticket(ticket))
        .with_descriptor(descriptor);
    Ok(Response::new(info))
}

/// `schema` as the rows are sent, which a `FlightInfo` must announce: the
/// encoder's own preparation of it, which sends dictionary-encoded columns
/// (`bars`' symbol, say) as their values, as every client reads them.
fn as_sent(schema: &Schema) -> SchemaRef {
    let schema = Arc::new(schema.clone());
    FlightDataEncoderBuilder::new()
        .with_schema(Arc::clone(&schema))
        .build(futures::stream::empty())
        .known_schema()
        .unwrap_or(schema)
}

/// A ticket that hands `command` back to the matching `do_get_…`.
fn ticket(command: &impl ProstMessageExt) -> Ticket {
    Ticket::new(command.as_any().encode_to_vec())
}

fn stream(
    schema: SchemaRef,
    batches: impl Stream<Item = Result<RecordBatch, FlightError>> + Send + 'static,
) -> Response<DoGetStream> {
    let data = FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(batches)
        .map_err(Status::from);
    Response::new(Box::pin(data) as Pin<Box<_>>)
}

/// A catalog answer, built in one batch.
fn one_batch(
    schema: SchemaRef,
    batch: Result<RecordBatch, impl std::fmt::Display>,
) -> Result<Response<DoGetStream>, Status> {
    let batch = batch.map_err(|e| Status::internal(format!("listing the catalog: {e}")))?;
    Ok(stream(schema, futures::stream::iter([Ok(batch)])))
}

fn schema_bytes(schema: &Schema) -> Result<bytes::Bytes, Status> {
    let IpcMessage(bytes) = SchemaAsIpc::new(schema, &IpcWriteOptions::default())
        .try_into()
        .map_err(|e: datafusion::arrow::error::ArrowError| Status::internal(e.to_string()))?;
    Ok(bytes)
}

#[tonic::async_trait]
impl FlightSqlService for FlightSql {
    type FlightService = FlightSql;

    async fn get_flight_info_statement(
        &self,
        query: CommandStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let handle = Handle::new(query.query);
        let ticket = ticket(&TicketStatementQuery {
            statement_handle: handle.to_bytes(),
        });
        self.query_info(&handle, ticket, request.into_inner()).await
    }

    async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.rows(&Handle::decode_from(&ticket.statement_handle)?)
            .await
    }

    async fn do_action_create_prepared_statement(
        &self,
        query: ActionCreatePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<ActionCreatePreparedStatementResult, Status> {
        let prepared = self
            .sql
            .prepare(&query.query, Vec::new())
            .await
            .map_err(|e| status::of_sql(&e))?;
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: Handle::new(query.query).to_bytes(),
            dataset_schema: schema_bytes(&as_sent(&prepared.schema))?,
            parameter_schema: schema_bytes(&prepared.parameters)?,
        })
    }

    /// Binds the parameters sent: the handle returned carries them, so the
    /// statement is the client's to keep, on whichever replica it lands.
    async fn do_put_prepared_statement_query(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<PeekableFlightDataStream>,
    ) -> Result<DoPutPreparedStatementResult, Status> {
        let handle = Handle::decode_from(&query.prepared_statement_handle)?;
        let batches: Vec<RecordBatch> =
            arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(
                request.into_inner().map_err(FlightError::from),
            )
            .try_collect()
            .await
            .map_err(|e| Status::invalid_argument(format!("the parameters: {e}")))?;
        // Planned with them when the client next asks for its FlightInfo.
        let bound = handle.bind(&batches)?;
        Ok(DoPutPreparedStatementResult {
            prepared_statement_handle: Some(bound.to_bytes()),
        })
    }

    async fn get_flight_info_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let handle = Handle::decode_from(&query.prepared_statement_handle)?;
        self.query_info(&handle, ticket(&query), request.into_inner())
            .await
    }

    async fn do_get_prepared_statement(
        &self,
        query: CommandPreparedStatementQuery,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        self.rows(&Handle::decode_from(&query.prepared_statement_handle)?)
            .await
    }

    /// Nothing to free: the client held the statement.
    async fn do_action_close_prepared_statement(
        &self,
        _query: ActionClosePreparedStatementRequest,
        _request: Request<Action>,
    ) -> Result<(), Status> {
        Ok(())
    }

    async fn get_flight_info_catalogs(
        &self,
        query: CommandGetCatalogs,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        info(&schema, ticket(&query), request.into_inner())
    }

    async fn do_get_catalogs(
        &self,
        query: CommandGetCatalogs,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        let mut catalogs: Vec<String> = self
            .tables()
            .await?
            .into_iter()
            .map(|t| t.catalog)
            .collect();
        catalogs.dedup();
        for catalog in catalogs {
            builder.append(catalog);
        }
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_schemas(
        &self,
        query: CommandGetDbSchemas,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        info(&schema, ticket(&query), request.into_inner())
    }

    async fn do_get_schemas(
        &self,
        query: CommandGetDbSchemas,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        let mut schemas: Vec<(String, String)> = self
            .tables()
            .await?
            .into_iter()
            .map(|t| (t.catalog, t.schema))
            .collect();
        schemas.dedup();
        for (catalog, schema) in schemas {
            builder.append(catalog, schema);
        }
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_tables(
        &self,
        query: CommandGetTables,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder().schema();
        info(&schema, ticket(&query), request.into_inner())
    }

    async fn do_get_tables(
        &self,
        query: CommandGetTables,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        for table in self.tables().await? {
            builder
                .append(
                    &table.catalog,
                    &table.schema,
                    &table.name,
                    TABLE,
                    &table.columns,
                )
                .map_err(|e| Status::internal(format!("listing {}: {e}", table.name)))?;
        }
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_table_types(
        &self,
        query: CommandGetTableTypes,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.into_builder().schema();
        info(&schema, ticket(&query), request.into_inner())
    }

    async fn do_get_table_types(
        &self,
        query: CommandGetTableTypes,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let mut builder = query.into_builder();
        builder.append(TABLE);
        one_batch(builder.schema(), builder.build())
    }

    async fn get_flight_info_sql_info(
        &self,
        query: CommandGetSqlInfo,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let schema = query.clone().into_builder(&self.info).schema();
        info(&schema, ticket(&query), request.into_inner())
    }

    async fn do_get_sql_info(
        &self,
        query: CommandGetSqlInfo,
        _request: Request<Ticket>,
    ) -> Result<Response<DoGetStream>, Status> {
        let builder = query.into_builder(&self.info);
        one_batch(builder.schema(), builder.build())
    }

    /// The server's facts are fixed when it starts ([`FlightSql::new`]).
    async fn register_sql_info(&self, _id: i32, _result: &SqlInfo) {}
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field};

    use super::*;

    #[test]
    fn dictionaries_are_announced_as_their_values_at_any_depth() {
        let symbol = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
        let schema = Schema::new(vec![
            Field::new("symbol", symbol.clone(), false),
            Field::new("close", DataType::Float64, true),
            Field::new_list("symbols", Field::new_list_field(symbol, true), true),
        ]);
        let sent = as_sent(&schema);
        assert_eq!(sent.field(0).data_type(), &DataType::Utf8);
        assert!(!sent.field(0).is_nullable());
        assert_eq!(sent.field(1), schema.field(1));
        assert_eq!(
            sent.field(2).data_type(),
            &DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
        );
    }
}
