//! What a plugin says about itself, checked before Candela believes it. Both
//! hosts turn their plugin's description into a [`Description`] (WASM from the
//! WIT record, native from JSON) and [`Description::validate`] makes it an
//! [`IndicatorSpec`] or says what is wrong. Parameters and outputs are the
//! core's own `ParamSpec` and `OutputSpec`; only the checks are added here.

use std::collections::HashSet;

use candela_core::indicator::{IndicatorSpec, Input, Origin, OutputSpec, ParamKind, ParamSpec};
use serde::Deserialize;

/// Bounds that keep a hostile or careless description from flooding the UI.
const MAX_PARAMS: usize = 32;
const MAX_OUTPUTS: usize = 16;
const MAX_TEXT: usize = 1024;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    pub id: String,
    pub name: String,
    pub category: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    pub outputs: Vec<OutputSpec>,
    pub inputs: Vec<Input>,
}

impl Description {
    /// The spec of an indicator of `origin`, or the first problem found.
    pub fn validate(self, origin: Origin) -> Result<IndicatorSpec, String> {
        if !is_name(&self.id) {
            return Err(format!(
                "id '{}' is not valid: use lower-case letters, digits and '_', starting with a letter",
                clip(&self.id)
            ));
        }
        for (what, text) in [
            ("name", &self.name),
            ("category", &self.category),
            ("description", &self.description),
        ] {
            if text.len() > MAX_TEXT {
                return Err(format!("{what} is longer than {MAX_TEXT} bytes"));
            }
        }
        if self.name.trim().is_empty() || self.category.trim().is_empty() {
            return Err("name and category must not be empty".into());
        }
        self.validate_params()?;
        self.validate_outputs()?;
        if self.inputs.is_empty() {
            return Err("declares no inputs: list the bar columns compute reads".into());
        }
        if let Some(input) = first_repeat(self.inputs.iter()) {
            return Err(format!("input {input:?} is listed twice"));
        }
        Ok(IndicatorSpec {
            id: self.id,
            name: self.name,
            category: self.category,
            description: self.description,
            origin,
            params: self.params,
            outputs: self.outputs,
            inputs: self.inputs,
        })
    }

    fn validate_params(&self) -> Result<(), String> {
        if self.params.len() > MAX_PARAMS {
            return Err(format!(
                "declares {} parameters, at most {MAX_PARAMS} are allowed",
                self.params.len()
            ));
        }
        if let Some(name) = first_repeat(self.params.iter().map(|p| &p.name)) {
            return Err(format!("parameter '{}' is declared twice", clip(name)));
        }
        for p in &self.params {
            let problem = if !is_name(&p.name) {
                Some("is not a valid name: use lower-case letters, digits and '_'".to_owned())
            } else if ![p.default, p.min, p.max].iter().all(|v| v.is_finite()) {
                Some("has a default, min or max that is not a finite number".to_owned())
            } else if !(p.min <= p.default && p.default <= p.max) {
                Some(format!(
                    "has default {} outside its range {}..={}",
                    p.default, p.min, p.max
                ))
            } else if p.kind == ParamKind::Integer
                && [p.default, p.min, p.max].iter().any(|v| v.fract() != 0.0)
            {
                Some("is an integer but has a fractional default, min or max".to_owned())
            } else if p.description.len() > MAX_TEXT {
                Some(format!("has a description longer than {MAX_TEXT} bytes"))
            } else {
                None
            };
            if let Some(problem) = problem {
                return Err(format!("parameter '{}' {problem}", clip(&p.name)));
            }
        }
        Ok(())
    }

    fn validate_outputs(&self) -> Result<(), String> {
        if self.outputs.is_empty() || self.outputs.len() > MAX_OUTPUTS {
            return Err(format!(
                "declares {} outputs; declare from 1 to {MAX_OUTPUTS}",
                self.outputs.len()
            ));
        }
        if let Some(name) = first_repeat(self.outputs.iter().map(|o| &o.name)) {
            return Err(format!("output '{}' is declared twice", clip(name)));
        }
        match self.outputs.iter().find(|o| !is_name(&o.name)) {
            Some(o) => Err(format!(
                "output '{}' is not a valid name: use lower-case letters, digits and '_'",
                clip(&o.name)
            )),
            None => Ok(()),
        }
    }
}

/// Lower-case letters, digits and `_`, starting with a letter, at most 64 bytes.
fn is_name(text: &str) -> bool {
    text.len() <= 64
        && text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn first_repeat<T: Eq + std::hash::Hash + Copy>(items: impl Iterator<Item = T>) -> Option<T> {
    let mut seen = HashSet::new();
    items.into_iter().find(|&item| !seen.insert(item))
}

/// A name from a plugin, cut short enough for a log line.
fn clip(text: &str) -> String {
    text.chars().take(64).collect()
}
