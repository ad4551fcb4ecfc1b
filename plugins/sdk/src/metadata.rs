//! Builders for the metadata a plugin describes itself with.

use crate::{Input, Metadata, Output, Param, ParamKind, Placement, Style};

impl Metadata {
    /// A plugin with no parameters, outputs or inputs yet; add them with the
    /// methods below.
    pub fn new(id: &str, name: &str, category: &str) -> Metadata {
        Metadata {
            id: id.to_owned(),
            name: name.to_owned(),
            category: category.to_owned(),
            description: String::new(),
            params: Vec::new(),
            outputs: Vec::new(),
            inputs: Vec::new(),
        }
    }

    pub fn description(mut self, text: &str) -> Metadata {
        self.description = text.to_owned();
        self
    }

    /// Adds a parameter; positional arguments of a call follow this order.
    pub fn param(mut self, param: Param) -> Metadata {
        self.params.push(param);
        self
    }

    /// Adds an output; `compute` returns one series per output, in this order.
    pub fn output(mut self, output: Output) -> Metadata {
        self.outputs.push(output);
        self
    }

    /// Adds a column that `compute` reads.
    pub fn input(mut self, input: Input) -> Metadata {
        self.inputs.push(input);
        self
    }
}

impl Param {
    /// A whole-number parameter accepting `min..=max`.
    pub fn integer(name: &str, default: u32, min: u32, max: u32, description: &str) -> Param {
        Param {
            name: name.to_owned(),
            kind: ParamKind::Integer,
            default: f64::from(default),
            min: f64::from(min),
            max: f64::from(max),
            description: description.to_owned(),
        }
    }

    /// A real-number parameter accepting `min..=max`.
    pub fn number(name: &str, default: f64, min: f64, max: f64, description: &str) -> Param {
        Param {
            name: name.to_owned(),
            kind: ParamKind::Number,
            default,
            min,
            max,
            description: description.to_owned(),
        }
    }
}

impl Output {
    pub fn line(name: &str, placement: Placement) -> Output {
        Output::new(name, placement, Style::Line)
    }

    pub fn histogram(name: &str, placement: Placement) -> Output {
        Output::new(name, placement, Style::Histogram)
    }

    /// One edge of a band; the UI shades between an indicator's band edges.
    pub fn band(name: &str, placement: Placement) -> Output {
        Output::new(name, placement, Style::Band)
    }

    fn new(name: &str, placement: Placement, style: Style) -> Output {
        Output {
            name: name.to_owned(),
            placement,
            style,
        }
    }
}
