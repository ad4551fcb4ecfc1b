//! What a client holds between the calls of one query: the SQL text and the
//! parameters bound to it, so that no call depends on an earlier one having
//! reached the same process (replicas behind a load balancer).

use std::io::Cursor;

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::common::ScalarValue;
use prost::Message;
use tonic::Status;

/// A statement or prepared statement, with the parameters bound to it.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct Handle {
    #[prost(string, tag = "1")]
    pub sql: String,
    /// One row of parameters, an Arrow IPC stream; empty when none is bound.
    #[prost(bytes = "vec", tag = "2")]
    parameters: Vec<u8>,
}

impl Handle {
    pub fn new(sql: String) -> Handle {
        Handle {
            sql,
            parameters: Vec::new(),
        }
    }

    pub fn decode_from(bytes: &[u8]) -> Result<Handle, Status> {
        Handle::decode(bytes).map_err(|_| {
            Status::invalid_argument(
                "not a statement handle of this server; prepare the query again",
            )
        })
    }

    pub fn to_bytes(&self) -> Bytes {
        self.encode_to_vec().into()
    }

    /// This handle with the parameters of `batches` bound: one row, its
    /// columns the placeholders `$1`, `$2`, … in order.
    pub fn bind(self, batches: &[RecordBatch]) -> Result<Handle, Status> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(Handle::new(self.sql));
        };
        if rows > 1 {
            return Err(Status::invalid_argument(format!(
                "{rows} rows of parameters were bound; a query takes one row at a time"
            )));
        }
        let mut parameters = Vec::new();
        let mut writer = StreamWriter::try_new(&mut parameters, &batch.schema())
            .and_then(|mut writer| writer.write(batch).map(|()| writer))
            .map_err(|e| Status::invalid_argument(format!("the parameters: {e}")))?;
        writer
            .finish()
            .map_err(|e| Status::internal(format!("the parameters: {e}")))?;
        drop(writer);
        Ok(Handle {
            sql: self.sql,
            parameters,
        })
    }

    /// The bound parameters, by position.
    pub fn parameters(&self) -> Result<Vec<ScalarValue>, Status> {
        if self.parameters.is_empty() {
            return Ok(Vec::new());
        }
        let unreadable = |e: &dyn std::fmt::Display| {
            Status::invalid_argument(format!("the handle's parameters are unreadable: {e}"))
        };
        let reader = StreamReader::try_new(Cursor::new(&self.parameters), None)
            .map_err(|e| unreadable(&e))?;
        for batch in reader {
            let batch = batch.map_err(|e| unreadable(&e))?;
            if batch.num_rows() > 0 {
                return batch
                    .columns()
                    .iter()
                    .map(|column| ScalarValue::try_from_array(column, 0))
                    .collect::<Result<_, _>>()
                    .map_err(|e| unreadable(&e));
            }
        }
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Float64Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn row(rows: usize) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("0", DataType::Int64, true),
            Field::new("1", DataType::Utf8, true),
            Field::new("2", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![14; rows])),
                Arc::new(StringArray::from(vec!["ALPACA:NVDA"; rows])),
                Arc::new(Float64Array::from(vec![30.5; rows])),
            ],
        )
        .expect("batch")
    }

    #[test]
    fn a_handle_carries_its_query_and_one_row_of_parameters() {
        let sql = "SELECT * FROM bars WHERE symbol = $2".to_owned();
        let bound = Handle::new(sql.clone()).bind(&[row(1)]).expect("bound");
        let back = Handle::decode_from(&bound.to_bytes()).expect("decoded");
        assert_eq!(back.sql, sql);
        assert_eq!(
            back.parameters().expect("parameters"),
            vec![
                ScalarValue::Int64(Some(14)),
                ScalarValue::Utf8(Some("ALPACA:NVDA".into())),
                ScalarValue::Float64(Some(30.5)),
            ]
        );
        assert!(
            Handle::new(sql.clone())
                .parameters()
                .expect("none")
                .is_empty()
        );
        let many = Handle::new(sql).bind(&[row(2)]).expect_err("two rows");
        assert!(many.message().contains("one row"), "{}", many.message());
    }

    #[test]
    fn a_forged_handle_is_refused_not_trusted() {
        for forged in [&b"\xff\xff\xff"[..], b"\x12\x05junk!"] {
            let refused = Handle::decode_from(forged).and_then(|h| h.parameters());
            assert_eq!(
                refused.expect_err("forged").code(),
                tonic::Code::InvalidArgument
            );
        }
    }
}
