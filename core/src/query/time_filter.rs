//! A scan's filters on the `time` column as a [`TimeWindow`], so that the
//! row groups outside it are not read. Only a bare `time` compared with a
//! literal of the column's own type counts (`time >= TIMESTAMP '…'`,
//! `time BETWEEN … AND …`); the filter stays in the plan (DataFusion's
//! `Inexact`), so the window only decides what is read, never what is kept.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};

use crate::frame::TIME;
use crate::load::TimeWindow;

/// Whether `filter` bounds the time of a table whose time column is of
/// type `time`.
pub fn bounds_time(filter: &Expr, time: &DataType) -> bool {
    bound(filter, time).is_some()
}

/// The window that all of `filters` allow (their intersection); those that
/// do not bound the time allow all of it.
pub fn time_window(filters: &[Expr], time: &DataType) -> TimeWindow {
    filters
        .iter()
        .filter_map(|f| bound(f, time))
        .fold(TimeWindow::ALL, |window, b| TimeWindow {
            from: window.from.max(b.from),
            to: window.to.min(b.to),
        })
}

/// The window one filter allows, if it bounds the time.
fn bound(filter: &Expr, time: &DataType) -> Option<TimeWindow> {
    match filter {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if *op == Operator::And {
                let (a, b) = (bound(left, time), bound(right, time));
                return match (a, b) {
                    (Some(a), Some(b)) => Some(TimeWindow {
                        from: a.from.max(b.from),
                        to: a.to.min(b.to),
                    }),
                    (one, other) => one.or(other),
                };
            }
            let (op, instant) = match (is_time(left), is_time(right)) {
                (true, false) => (*op, literal(right, time)?),
                (false, true) => (op.swap()?, literal(left, time)?),
                _ => return None,
            };
            let mut window = TimeWindow::ALL;
            match op {
                Operator::Gt => window.from = instant.checked_add(1)?,
                Operator::GtEq => window.from = instant,
                Operator::Lt => window.to = instant.checked_sub(1)?,
                Operator::LtEq => window.to = instant,
                Operator::Eq => (window.from, window.to) = (instant, instant),
                _ => return None,
            }
            Some(window)
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) if is_time(expr) => Some(TimeWindow {
            from: literal(low, time)?,
            to: literal(high, time)?,
        }),
        _ => None,
    }
}

fn is_time(expr: &Expr) -> bool {
    matches!(expr, Expr::Column(column) if column.name == TIME)
}

/// A literal instant of the column's own type, in nanoseconds.
fn literal(expr: &Expr, time: &DataType) -> Option<i64> {
    let Expr::Literal(value, _) = expr else {
        return None;
    };
    if value.data_type() != *time {
        return None;
    }
    let (count, per) = match value {
        ScalarValue::TimestampNanosecond(v, _) => (*v, 1),
        ScalarValue::TimestampMicrosecond(v, _) => (*v, 1_000),
        ScalarValue::TimestampMillisecond(v, _) => (*v, 1_000_000),
        ScalarValue::TimestampSecond(v, _) => (*v, 1_000_000_000),
        _ => return None,
    };
    count?.checked_mul(per)
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::TimeUnit;
    use datafusion::prelude::{col, lit};

    use super::*;

    fn nanos(v: i64) -> Expr {
        lit(ScalarValue::TimestampNanosecond(
            Some(v),
            Some("UTC".into()),
        ))
    }

    fn utc() -> DataType {
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
    }

    #[test]
    fn comparisons_either_way_round_and_between_make_one_window() {
        let filters = [
            col(TIME).gt_eq(nanos(100)),
            nanos(500).gt(col(TIME)),
            col(TIME).between(nanos(50), nanos(600)),
        ];
        assert_eq!(
            time_window(&filters, &utc()),
            TimeWindow { from: 100, to: 499 }
        );
        let both = col(TIME).gt(nanos(10)).and(col(TIME).lt_eq(nanos(20)));
        assert_eq!(
            time_window(&[both], &utc()),
            TimeWindow { from: 11, to: 20 }
        );
    }

    #[test]
    fn what_does_not_bound_the_bare_time_reads_everything() {
        let other_type = lit(ScalarValue::TimestampNanosecond(Some(5), None));
        for filter in [
            col("close").gt(lit(1.0)),
            col(TIME).gt(other_type),
            col(TIME).not_between(nanos(1), nanos(2)),
            col(TIME).gt(nanos(1)).or(col(TIME).lt(nanos(0))),
            col(TIME).not_eq(nanos(3)),
        ] {
            assert!(!bounds_time(&filter, &utc()), "{filter}");
            assert_eq!(time_window(&[filter], &utc()), TimeWindow::ALL);
        }
    }
}
