//! What `compute` receives: the declared columns and the parameter values,
//! addressed by name.

use crate::{Input, Metadata};

/// The bar columns a plugin declared in its `inputs`, all of one length.
#[derive(Debug)]
pub struct Bars {
    len: usize,
    declared: Vec<Input>,
    time: Vec<i64>,
    /// Open, high, low, close, volume.
    values: [Vec<f64>; 5],
}

impl Bars {
    pub(crate) fn new(declared: Vec<Input>, time: Vec<i64>, values: [Vec<f64>; 5]) -> Bars {
        let len = declared
            .iter()
            .map(|&input| match slot(input) {
                Some(i) => values[i].len(),
                None => time.len(),
            })
            .max()
            .unwrap_or(0);
        Bars {
            len,
            declared,
            time,
            values,
        }
    }

    /// The number of bars.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bar open times, UTC nanoseconds since the Unix epoch.
    ///
    /// # Panics
    /// If the plugin did not declare `Input::Time` (the message says so).
    pub fn time(&self) -> &[i64] {
        self.check_declared(Input::Time);
        &self.time
    }

    pub fn open(&self) -> &[f64] {
        self.values(Input::Open)
    }

    pub fn high(&self) -> &[f64] {
        self.values(Input::High)
    }

    pub fn low(&self) -> &[f64] {
        self.values(Input::Low)
    }

    pub fn close(&self) -> &[f64] {
        self.values(Input::Close)
    }

    pub fn volume(&self) -> &[f64] {
        self.values(Input::Volume)
    }

    /// A price or volume column.
    ///
    /// # Panics
    /// If the plugin did not declare `input`, or asks for time, which holds
    /// integers (the message says so).
    pub fn values(&self, input: Input) -> &[f64] {
        self.check_declared(input);
        match slot(input) {
            Some(i) => &self.values[i],
            None => panic!("time holds integers: read it with bars.time()"),
        }
    }

    fn check_declared(&self, input: Input) {
        if !self.declared.contains(&input) {
            panic!(
                "the plugin reads {input:?} but does not declare it: add .input(Input::{input:?}) to describe()"
            );
        }
    }
}

/// Where a price or volume column is kept; time has its own field.
fn slot(input: Input) -> Option<usize> {
    match input {
        Input::Open => Some(0),
        Input::High => Some(1),
        Input::Low => Some(2),
        Input::Close => Some(3),
        Input::Volume => Some(4),
        Input::Time => None,
    }
}

/// Parameter values of one call, in range (the host checked them), addressed
/// by the names declared in `describe`.
#[derive(Debug)]
pub struct Params {
    names: Vec<String>,
    values: Vec<f64>,
}

impl Params {
    pub(crate) fn new(metadata: &Metadata, values: Vec<f64>) -> Params {
        Params {
            names: metadata.params.iter().map(|p| p.name.clone()).collect(),
            values,
        }
    }

    /// The value of parameter `name`.
    ///
    /// # Panics
    /// If no parameter of that name is declared (the message says so).
    pub fn get(&self, name: &str) -> f64 {
        self.names
            .iter()
            .position(|n| n == name)
            .and_then(|i| self.values.get(i))
            .copied()
            .unwrap_or_else(|| {
                panic!(
                    "the plugin reads parameter '{name}' but does not declare it: add .param(Param::integer(\"{name}\", …)) to describe()"
                )
            })
    }

    /// An integer parameter as a count, e.g. a period.
    pub fn count(&self, name: &str) -> usize {
        self.get(name) as usize
    }
}
