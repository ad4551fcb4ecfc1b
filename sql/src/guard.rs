//! What a query may be: one read-only statement over Candela's catalog, of
//! bounded length and nesting. Checked on the text, the syntax tree and the
//! logical plan, each catching what the one before cannot see.

use std::ops::ControlFlow;

use candela_core::query::BarsTable;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::cte_worktable::CteWorkTable;
use datafusion::datasource::source_as_provider;
use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::{DFParserBuilder, Statement};
use datafusion::sql::sqlparser::ast::{self, Visit, Visitor};
use datafusion::sql::sqlparser::dialect::GenericDialect;

use crate::error::{Position, SqlError};
use crate::generated::GeneratedTable;
use crate::snapshot_table::SnapshotTable;
use crate::stored_bars::StoredBars;

/// Deepest nesting of expressions and subqueries accepted. Real queries stay
/// far below; a chain like `1+1+…+1` nests one level per term, and the
/// planner's recursion over ten thousand levels exhausts any stack.
pub const MAX_NESTING: usize = 256;

/// Parser recursion allowed for parentheses, function calls and the like.
const PARSER_RECURSION: usize = 64;

/// Refuses a text longer than `max_bytes` before any work is spent on it.
pub fn check_length(sql: &str, max_bytes: usize) -> Result<(), SqlError> {
    if sql.len() > max_bytes {
        return Err(SqlError::Refused(format!(
            "the query is {} bytes long; the limit is {max_bytes} (sql.max_query_bytes)",
            sql.len()
        )));
    }
    Ok(())
}

/// Parses `sql` into its one statement and checks that it is a query.
/// Its length is checked before, by [`check_length`].
pub fn parse(sql: &str) -> Result<Statement, SqlError> {
    if sql.trim().is_empty() {
        return Err(SqlError::invalid(
            "the query is empty; try SELECT * FROM bars('NFLX', '1d') LIMIT 10",
            None,
        ));
    }
    let mut statements = DFParserBuilder::new(sql)
        .with_dialect(&GenericDialect {})
        .with_recursion_limit(PARSER_RECURSION)
        .build()
        .and_then(|mut parser| parser.parse_statements())
        .map_err(|e| {
            let text = e.to_string();
            SqlError::invalid(syntax_message(&text), Position::in_parser_message(&text))
        })?;
    if statements.len() != 1 {
        return Err(SqlError::Refused(format!(
            "one statement per request, found {}",
            statements.len()
        )));
    }
    let statement = statements.pop_front().ok_or_else(|| {
        SqlError::invalid("the query is empty; try SELECT * FROM bars LIMIT 10", None)
    })?;
    check_kind(&statement)?;
    check_nesting(&statement)?;
    Ok(statement)
}

fn syntax_message(text: &str) -> String {
    if text.contains("RecursionLimitExceeded") {
        return format!(
            "the query nests parentheses, function calls or subqueries more than \
             {PARSER_RECURSION} levels deep"
        );
    }
    let text = text
        .trim_start_matches("SQL error: ")
        .trim_start_matches("ParserError(\"")
        .trim_end_matches("\")");
    format!("syntax error: {text}")
}

/// Only queries, and `EXPLAIN` of a query, are read-only.
fn check_kind(statement: &Statement) -> Result<(), SqlError> {
    match statement {
        Statement::Statement(inner) => check_sql_kind(inner),
        Statement::Explain(explain) => check_kind(&explain.statement),
        Statement::CreateExternalTable(_) => Err(refused("CREATE EXTERNAL TABLE")),
        Statement::CopyTo(_) => Err(refused("COPY … TO")),
        Statement::Reset(_) => Err(refused("RESET")),
    }
}

fn check_sql_kind(statement: &ast::Statement) -> Result<(), SqlError> {
    match statement {
        ast::Statement::Query(_) => Ok(()),
        ast::Statement::Explain { statement, .. } => check_sql_kind(statement),
        other => Err(refused(&statement_name(other))),
    }
}

fn refused(what: &str) -> SqlError {
    SqlError::Refused(format!(
        "only queries (SELECT, WITH, VALUES, EXPLAIN) may run here; {what} is refused \
         because this API is read-only"
    ))
}

/// The statement's leading keywords, e.g. `DROP TABLE` or `SET`.
fn statement_name(statement: &ast::Statement) -> String {
    let text = statement.to_string();
    let words: Vec<&str> = text
        .split_whitespace()
        .take_while(|w| w.chars().all(|c| c.is_ascii_alphabetic()))
        .take(2)
        .collect();
    if words.is_empty() {
        "this statement".into()
    } else {
        words.join(" ")
    }
}

fn check_nesting(statement: &Statement) -> Result<(), SqlError> {
    #[derive(Default)]
    struct Depth {
        now: usize,
    }
    impl Visitor for Depth {
        type Break = ();
        fn pre_visit_expr(&mut self, _: &ast::Expr) -> ControlFlow<()> {
            self.enter()
        }
        fn post_visit_expr(&mut self, _: &ast::Expr) -> ControlFlow<()> {
            self.now -= 1;
            ControlFlow::Continue(())
        }
        fn pre_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
            self.enter()
        }
        fn post_visit_query(&mut self, _: &ast::Query) -> ControlFlow<()> {
            self.now -= 1;
            ControlFlow::Continue(())
        }
    }
    impl Depth {
        fn enter(&mut self) -> ControlFlow<()> {
            self.now += 1;
            if self.now > MAX_NESTING {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
    let root = match statement {
        Statement::Statement(inner) => inner.as_ref(),
        Statement::Explain(explain) => match explain.statement.as_ref() {
            Statement::Statement(inner) => inner.as_ref(),
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    match root.visit(&mut Depth::default()) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(SqlError::Refused(format!(
            "the query nests expressions or subqueries more than {MAX_NESTING} levels deep; \
             a long chain such as a+b+c+… nests one level per term — use sum() or a subquery"
        ))),
    }
}

/// Checks the plan as DataFusion understood it: nothing that defines,
/// changes or configures anything, and every table one of Candela's.
pub fn check_plan(plan: &LogicalPlan) -> Result<(), SqlError> {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
        .map_err(|e| {
            SqlError::Refused(format!(
                "{}; this API is read-only",
                e.find_root()
                    .to_string()
                    .trim_start_matches("Error during planning: ")
            ))
        })?;
    let mut outside = None;
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let ours = source_as_provider(&scan.source).is_ok_and(|provider| {
                provider.is::<BarsTable>()
                    || provider.is::<StoredBars>()
                    || provider.is::<GeneratedTable>()
                    // What a recursive query has found so far.
                    || provider.is::<CteWorkTable>()
                    || provider.is::<SnapshotTable>()
            });
            if !ours {
                outside = Some(scan.table_name.to_string());
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|e| SqlError::Internal(e.to_string()))?;
    match outside {
        Some(table) => Err(SqlError::Refused(format!(
            "table '{table}' is not in Candela's catalog; query the bars table or bars('SYMBOL', 'TIMEFRAME')"
        ))),
        None => Ok(()),
    }
}
