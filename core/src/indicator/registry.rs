//! The one registry of indicators. Built-ins arrive through `inventory` (each
//! submits a [`Builtin`]); plugins are inserted and removed at run time.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, RwLock};

use chrono_tz::Tz;

use super::call::{CallSyntaxError, parse_calls};
use super::params::{ParamError, Params};
use super::spec::Origin;
use super::{ComputeError, ComputeErrorKind, History, Indicator, Series};
use crate::frame::BarColumns;
use crate::zone;

/// A built-in indicator's constructor, submitted with `inventory::submit!`.
#[derive(Debug)]
pub struct Builtin(pub fn() -> Arc<dyn Indicator>);

inventory::collect!(Builtin);

#[derive(Debug, Default)]
pub struct Registry {
    indicators: RwLock<BTreeMap<String, Arc<dyn Indicator>>>,
}

/// A request's `indicators` cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error(transparent)]
    Syntax(#[from] CallSyntaxError),
    #[error("unknown indicator '{0}'")]
    Unknown(String),
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("{count} calls, more than the {max} one request may make; ask for fewer")]
    TooMany { count: usize, max: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("indicator id '{0}' is a built-in; a plugin cannot replace it")]
    Builtin(String),
    #[error("'{0}' is not an indicator id: use lower-case letters, digits and '_'")]
    BadId(String),
}

impl Registry {
    /// A registry holding every built-in linked into the binary.
    pub fn with_builtins() -> Registry {
        let registry = Registry::default();
        {
            let mut map = registry.write();
            for builtin in inventory::iter::<Builtin> {
                let indicator = (builtin.0)();
                map.insert(indicator.spec().id.clone(), indicator);
            }
        }
        registry
    }

    /// Every indicator, by id.
    pub fn list(&self) -> Vec<Arc<dyn Indicator>> {
        self.read().values().cloned().collect()
    }

    pub fn get(&self, id: &str) -> Option<Arc<dyn Indicator>> {
        self.read().get(id).cloned()
    }

    /// Adds or replaces a plugin indicator. Built-ins cannot be shadowed.
    pub fn insert(&self, indicator: Arc<dyn Indicator>) -> Result<(), RegistryError> {
        let id = indicator.spec().id.clone();
        let valid = id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && id.starts_with(|c: char| c.is_ascii_lowercase());
        if !valid {
            return Err(RegistryError::BadId(id));
        }
        let mut map = self.write();
        if map
            .get(&id)
            .is_some_and(|old| old.spec().origin == Origin::Builtin)
        {
            return Err(RegistryError::Builtin(id));
        }
        map.insert(id, indicator);
        Ok(())
    }

    /// Removes a plugin indicator; built-ins stay.
    pub fn remove(&self, id: &str) -> Option<Arc<dyn Indicator>> {
        let mut map = self.write();
        if map.get(id)?.spec().origin == Origin::Builtin {
            return None;
        }
        map.remove(id)
    }

    /// Parses and validates a whole `indicators` parameter.
    pub fn resolve(&self, text: &str) -> Result<Vec<ResolvedCall>, CallError> {
        self.resolve_at_most(text, usize::MAX)
    }

    /// Parses and validates an `indicators` parameter of at most `max_calls`
    /// calls, counted before any indicator checks its parameters.
    pub fn resolve_at_most(
        &self,
        text: &str,
        max_calls: usize,
    ) -> Result<Vec<ResolvedCall>, CallError> {
        let calls = parse_calls(text)?;
        if calls.len() > max_calls {
            return Err(CallError::TooMany {
                count: calls.len(),
                max: max_calls,
            });
        }
        calls
            .iter()
            .map(|call| {
                let indicator = self
                    .get(&call.id)
                    .ok_or_else(|| CallError::Unknown(call.id.clone()))?;
                let params = Params::from_call(indicator.spec(), call)?;
                indicator.check(&params).map_err(|problem| ParamError {
                    call: call.to_string(),
                    problem,
                })?;
                let key = params.key(&indicator.spec().id);
                Ok(ResolvedCall {
                    indicator,
                    params,
                    key,
                })
            })
            .collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<dyn Indicator>>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every write is a single insert or remove), so a poisoned lock is safe.
        self.indicators.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn Indicator>>> {
        self.indicators.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// A validated call, ready to compute.
#[derive(Debug, Clone)]
pub struct ResolvedCall {
    pub indicator: Arc<dyn Indicator>,
    pub params: Params,
    /// Canonical text, e.g. `sma(period=20)`.
    pub key: String,
}

impl ResolvedCall {
    /// The outputs over `rows` of `bars`, computed with the history the
    /// indicator asks for, so that they equal the values over all the bars.
    pub fn compute_window<'a>(
        &self,
        bars: impl Into<BarColumns<'a>>,
        zone: Tz,
        rows: Range<usize>,
    ) -> Result<Vec<Vec<f64>>, ComputeError> {
        let bars: BarColumns<'a> = bars.into();
        let rows = rows.start.min(rows.end)..rows.end.min(bars.len());
        let from = match self.indicator.history(&self.params) {
            History::Bars(n) => rows.start.saturating_sub(n),
            History::Whole => 0,
            History::LocalDay => match bars.time.get(rows.start) {
                Some(&first) => {
                    let midnight = zone::midnight(&zone, zone::local_date(&zone, first));
                    bars.time[..rows.start].partition_point(|&t| t < midnight)
                }
                None => rows.start,
            },
        };
        let series = Series {
            bars: bars.slice(from..rows.end),
            zone,
        };
        let outputs = self.indicator.compute(&series, &self.params)?;
        let spec = self.indicator.spec();
        if outputs.len() != spec.outputs.len()
            || outputs.iter().any(|o| o.len() != series.bars.len())
        {
            return Err(ComputeError {
                indicator: self.key.clone(),
                message: format!(
                    "returned {} series of lengths {:?}, expected {} of length {}",
                    outputs.len(),
                    outputs.iter().map(Vec::len).collect::<Vec<_>>(),
                    spec.outputs.len(),
                    series.bars.len()
                ),
                kind: ComputeErrorKind::Failed,
            });
        }
        let skip = rows.start - from;
        if skip == 0 {
            return Ok(outputs);
        }
        Ok(outputs
            .into_iter()
            .map(|mut values| values.split_off(skip))
            .collect())
    }
}
