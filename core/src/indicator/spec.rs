//! What an indicator says about itself: the metadata that the API lists, the
//! UI builds forms from, and calls are validated against.

use serde::{Deserialize, Serialize};

/// Where an indicator's code comes from. Only the listing shows it: the
/// registry, the API, the UI and SQL treat every origin alike.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Builtin,
    Wasm,
    Native,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamKind {
    Integer,
    Number,
}

impl ParamKind {
    /// A value of this kind in JSON: integers as JSON integers.
    pub fn json(self, value: f64) -> serde_json::Value {
        match self {
            ParamKind::Integer => serde_json::Value::from(value as i64),
            ParamKind::Number => serde_json::Value::from(value),
        }
    }
}

/// One parameter: its type and the inclusive range of accepted values.
/// Native plugins describe theirs in this shape, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamKind,
    pub default: f64,
    pub min: f64,
    pub max: f64,
    #[serde(default)]
    pub description: String,
}

impl ParamSpec {
    pub fn integer(name: &str, default: u32, min: u32, max: u32, description: &str) -> Self {
        ParamSpec {
            name: name.to_owned(),
            kind: ParamKind::Integer,
            default: f64::from(default),
            min: f64::from(min),
            max: f64::from(max),
            description: description.to_owned(),
        }
    }

    pub fn number(name: &str, default: f64, min: f64, max: f64, description: &str) -> Self {
        ParamSpec {
            name: name.to_owned(),
            kind: ParamKind::Number,
            default,
            min,
            max,
            description: description.to_owned(),
        }
    }

    /// The range as a user reads it, e.g. `an integer from 2 to 100000`.
    pub fn range_text(&self) -> String {
        match self.kind {
            ParamKind::Integer => format!("an integer from {} to {}", self.min, self.max),
            ParamKind::Number => format!("a number from {} to {}", self.min, self.max),
        }
    }
}

/// On the price chart, or in a pane of its own below it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    Overlay,
    Pane,
}

/// How the UI draws an output.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    #[default]
    Line,
    Histogram,
    /// One edge of a band; the UI shades between the edges of one indicator.
    Band,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    pub name: String,
    pub placement: Placement,
    #[serde(default)]
    pub style: Style,
}

impl OutputSpec {
    pub fn new(name: &str, placement: Placement, style: Style) -> Self {
        OutputSpec {
            name: name.to_owned(),
            placement,
            style,
        }
    }
}

/// A bar column an indicator reads.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Input {
    Time,
    Open,
    High,
    Low,
    Close,
    Volume,
}

/// Everything an indicator declares about itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorSpec {
    /// Lower-case identifier used in calls, e.g. `macd`.
    pub id: String,
    pub name: String,
    /// Groups indicators in the UI, e.g. `Trend`, `Momentum`.
    pub category: String,
    pub description: String,
    pub origin: Origin,
    /// In the order positional arguments take.
    pub params: Vec<ParamSpec>,
    pub outputs: Vec<OutputSpec>,
    pub inputs: Vec<Input>,
}

impl IndicatorSpec {
    /// Overlay if every output overlays the price chart, else a pane.
    pub fn placement(&self) -> Placement {
        if self
            .outputs
            .iter()
            .all(|o| o.placement == Placement::Overlay)
        {
            Placement::Overlay
        } else {
            Placement::Pane
        }
    }
}
