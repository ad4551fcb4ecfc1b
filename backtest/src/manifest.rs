//! `run.toml`: what a run is (its name, strategy and parameters) and what
//! its files leave unsaid (the starting cash, the symbol, the zone of naive
//! times).

use candela_core::Timeframe;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::Problem;

/// A run's `run.toml`; every key is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub name: Option<String>,
    pub strategy: Option<String>,
    /// The strategy's parameters, as JSON.
    pub params: serde_json::Map<String, serde_json::Value>,
    pub starting_cash: Option<f64>,
    /// `PROVIDER:SYMBOL`s, as written; resolved when the trades are read.
    pub symbols: Vec<String>,
    /// The zone of the run's naive times.
    pub timezone: Option<Tz>,
    /// The bars an equity curve is derived on, when the run has none.
    pub timeframe: Option<Timeframe>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<String>,
    strategy: Option<String>,
    #[serde(default)]
    params: toml::Table,
    starting_cash: Option<Number>,
    #[serde(default)]
    symbols: Vec<String>,
    timezone: Option<String>,
    timeframe: Option<String>,
    notes: Option<String>,
}

/// TOML tells integers from floats; cash may be either.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Number {
    Integer(i64),
    Float(f64),
}

impl Manifest {
    pub(crate) fn parse(text: &str) -> Result<Manifest, Problem> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            Problem::Manifest(format!(
                "{} (keys: name, strategy, params, starting_cash, symbols, timezone, timeframe, notes)",
                e.message()
            ))
        })?;
        let starting_cash = raw.starting_cash.map(|n| match n {
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        });
        if let Some(cash) = starting_cash
            && !(cash.is_finite() && cash > 0.0)
        {
            return Err(Problem::Manifest(format!(
                "starting_cash is {cash}; it must be a positive number"
            )));
        }
        let timezone = raw
            .timezone
            .map(|name| {
                name.parse::<Tz>().map_err(|_| {
                    Problem::Manifest(format!(
                        "timezone '{name}' is not an IANA zone name (e.g. America/New_York, UTC)"
                    ))
                })
            })
            .transpose()?;
        let timeframe = raw
            .timeframe
            .map(|text| {
                text.parse::<Timeframe>()
                    .map_err(|e| Problem::Manifest(format!("timeframe: {e}")))
            })
            .transpose()?;
        let params = serde_json::to_value(raw.params)
            .ok()
            .and_then(|v| match v {
                serde_json::Value::Object(map) => Some(map),
                _ => None,
            })
            .unwrap_or_default();
        Ok(Manifest {
            name: raw.name,
            strategy: raw.strategy,
            params,
            starting_cash,
            symbols: raw.symbols,
            timezone,
            timeframe,
            notes: raw.notes,
        })
    }

    /// The symbol of trades whose rows name none: the only one listed.
    pub(crate) fn only_symbol(&self) -> Option<&str> {
        match self.symbols.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_and_refuses_unknown_ones() {
        let manifest = Manifest::parse(
            r#"
            name = "SMA cross"
            strategy = "SmaCross"
            params = { fast = 10, slow = 30.5, kind = "ema" }
            starting_cash = 10000
            symbols = ["ALPACA:YHOO"]
            timezone = "America/New_York"
            timeframe = "1d"
            notes = "first try"
            "#,
        )
        .expect("valid");
        assert_eq!(manifest.starting_cash, Some(10_000.0));
        assert_eq!(manifest.params["slow"], serde_json::json!(30.5));
        assert_eq!(manifest.only_symbol(), Some("ALPACA:YHOO"));
        assert_eq!(manifest.timezone, Some(chrono_tz::America::New_York));

        let typo = Manifest::parse("starting_csh = 5").expect_err("unknown key");
        assert!(typo.to_string().contains("starting_csh"), "{typo}");
        let zone = Manifest::parse("timezone = \"Mars/Olympus\"").expect_err("bad zone");
        assert!(zone.to_string().contains("Mars/Olympus"), "{zone}");
        let cash = Manifest::parse("starting_cash = -1").expect_err("negative cash");
        assert!(cash.to_string().contains("positive"), "{cash}");
    }
}
