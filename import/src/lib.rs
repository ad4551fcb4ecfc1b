//! Bars from CSV, as brokers and data vendors hand them out, written into the
//! parquet layout Candela serves (`<root>/<PROVIDER>/<SYMBOL>/<TIMEFRAME>/`).
//!
//! Reading ([`read_csv`]) finds the columns by name — or by position when the
//! file has no header — and the time's format or unit from its values:
//! Unix times in any unit, dates, date-times with or without an offset, a
//! date and a time in two columns. [`Series::new`] sorts the rows, drops
//! repeated times (the first stays, as when serving), tells the timeframe
//! from the spacing when none is given, and counts what a user should know
//! (duplicates, gaps); [`write_series`] writes the file, [`append_series`]
//! adds the newest bars of a series as a part file of their own.

mod append;
mod columns;
mod error;
mod read;
mod series;
mod time;
mod write;

pub use append::{Appended, append_series};
pub use error::{ImportError, Place, Problem};
pub use read::{Table, read_csv};
pub use series::{Gap, Series, duration};
pub use time::{TimeError, TimeFormat, TimeKind};
pub use write::{Written, write_series};
