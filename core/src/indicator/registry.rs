//! The one registry of indicators. Built-ins arrive through `inventory` (each
//! submits a [`Builtin`]); plugins are inserted and removed at run time.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::Indicator;
use super::call::CallSyntaxError;
use super::params::ParamError;
use super::resolve::RESERVED;
use super::spec::Origin;

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
    #[error(
        "{count} calls (those in source= included), more than the {max} one request may make; ask for fewer"
    )]
    TooMany { count: usize, max: usize },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("indicator id '{0}' is a built-in; a plugin cannot replace it")]
    Builtin(String),
    #[error("'{0}' is not an indicator id: use lower-case letters, digits and '_'")]
    BadId(String),
    #[error(
        "{id} declares a parameter '{param}', a name every call reserves (source, timeframe, align); rename it"
    )]
    ReservedParam { id: String, param: String },
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
        if let Some(param) = indicator
            .spec()
            .params
            .iter()
            .find(|p| RESERVED.contains(&p.name.as_str()))
        {
            return Err(RegistryError::ReservedParam {
                id,
                param: param.name.clone(),
            });
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

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<dyn Indicator>>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every write is a single insert or remove), so a poisoned lock is safe.
        self.indicators.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn Indicator>>> {
        self.indicators.write().unwrap_or_else(|e| e.into_inner())
    }
}
