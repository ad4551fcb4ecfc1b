//! Query parameters, bound by position: `$1`, `$2`, … as DataFusion writes
//! them, or `?` as ADBC, JDBC and ODBC clients do, numbered here in the
//! order they appear.

use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{self, Expr, Value};

use crate::error::SqlError;

/// Rewrites each `?` of `statement` into `$1`, `$2`, … in the order of the
/// text. A query that mixes both styles is refused: which `$n` a `?` would
/// be is anyone's guess.
pub(crate) fn number_placeholders(statement: &mut Statement) -> Result<(), SqlError> {
    let Statement::Statement(statement) = statement else {
        return Ok(());
    };
    let (mut questions, mut numbered) = (0usize, false);
    let _ = ast::visit_expressions_mut(statement.as_mut(), |expr| {
        if let Expr::Value(value) = expr
            && let Value::Placeholder(name) = &mut value.value
        {
            if name == "?" {
                questions += 1;
                *name = format!("${questions}");
            } else {
                numbered = true;
            }
        }
        ControlFlow::<()>::Continue(())
    });
    if questions > 0 && numbered {
        return Err(SqlError::invalid(
            "the query mixes ? and $1-style parameters; use one style",
            None,
        ));
    }
    Ok(())
}

/// The parameters `plan` takes, as fields named `$1`, `$2`, … in order; a
/// parameter whose type the plan does not fix is `Null` (any value).
pub(crate) fn parameter_schema(plan: &LogicalPlan) -> Result<SchemaRef, DataFusionError> {
    let mut parameters: Vec<(usize, String, DataType)> = plan
        .get_parameter_types()?
        .into_iter()
        .map(|(name, kind)| {
            let index = name
                .strip_prefix('$')
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            (index, name, kind.unwrap_or(DataType::Null))
        })
        .collect();
    parameters.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let fields: Vec<Field> = parameters
        .into_iter()
        .map(|(_, name, kind)| Field::new(name, kind, true))
        .collect();
    Ok(Arc::new(Schema::new(fields)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard;

    fn numbered(sql: &str) -> Result<String, SqlError> {
        let mut statement = guard::parse(sql)?;
        number_placeholders(&mut statement)?;
        Ok(statement.to_string())
    }

    #[test]
    fn question_marks_are_numbered_in_order_and_styles_do_not_mix() {
        assert_eq!(
            numbered("SELECT ? AS a, close FROM bars WHERE close > ? AND symbol = ?")
                .expect("numbered"),
            "SELECT $1 AS a, close FROM bars WHERE close > $2 AND symbol = $3"
        );
        assert_eq!(
            numbered("SELECT $2, $1").expect("kept"),
            "SELECT $2, $1",
            "numbered parameters are kept as written"
        );
        let mixed = numbered("SELECT ?, $1").expect_err("mixed");
        assert!(mixed.to_string().contains("one style"), "{mixed}");
    }
}
