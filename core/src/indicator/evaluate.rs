//! Computing calls. Each distinct call is computed once per request, over
//! the rows asked of it plus the history it needs; a `source=` call first,
//! its leading no-values being its warm-up; a call on a higher timeframe on
//! that timeframe's own bars, then placed on the chart's by
//! [`crate::align`], or, `align=forming`, recomputed for each chart bar on
//! the higher bars so far and the developing one.

use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use chrono_tz::Tz;

use super::params::ParamError;
use super::params::Params;
use super::registry::CallError;
use super::source::{PriceColumn, Source};
use super::spec::Placement;
use super::{ComputeError, ComputeErrorKind, History, Indicator, Series};
use crate::align::{Align, Closes, Seen};
use crate::frame::BarColumns;
use crate::timeframe::Timeframe;
use crate::zone;

/// `timeframe=` and `align=` of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HigherTimeframe {
    pub timeframe: Timeframe,
    pub align: Align,
}

/// A validated call, ready to compute.
#[derive(Debug, Clone)]
pub struct ResolvedCall {
    pub indicator: Arc<dyn Indicator>,
    pub params: Params,
    pub source: Source,
    pub higher: Option<HigherTimeframe>,
    /// Canonical text, e.g. `ema(period=9,source=rsi(period=14))`.
    pub key: String,
    /// `key` without `timeframe` and `align`: the series on its own
    /// timeframe, shared by every call that computes the same there.
    pub series_key: String,
    /// The outermost call as the request wrote it: what errors name.
    pub written: String,
}

impl ResolvedCall {
    /// `indicator` with `params`, on the close of the chart's bars.
    pub fn new(indicator: Arc<dyn Indicator>, params: Params) -> ResolvedCall {
        let key = params.key(&indicator.spec().id);
        ResolvedCall {
            indicator,
            params,
            source: Source::default(),
            higher: None,
            written: key.clone(),
            series_key: key.clone(),
            key,
        }
    }

    /// Where its values are drawn: over the price when its indicator
    /// overlays and it reads a price, else in a pane of its own (an EMA of
    /// an RSI is on the RSI's scale, an SMA of the volume on the volume's).
    pub fn placement(&self) -> Placement {
        let reads_price = match &self.source {
            Source::Column(column) => *column != PriceColumn::Volume,
            Source::Call { call, .. } => call.placement() == Placement::Overlay,
        };
        if reads_price {
            self.indicator.spec().placement()
        } else {
            Placement::Pane
        }
    }

    /// The outputs over `rows` of `bars`, computed with the history the
    /// call asks for, so that they equal the values over all the bars. A
    /// call naming a higher timeframe needs [`Evaluation`] with its bars.
    pub fn compute_window<'a>(
        &self,
        bars: impl Into<BarColumns<'a>>,
        zone: Tz,
        rows: Range<usize>,
    ) -> Result<Vec<Vec<f64>>, ComputeError> {
        let frames = Frames::new(bars.into(), None, zone);
        Ok(Evaluation::new(&frames).values(self, rows)?.outputs)
    }

    /// Checks this call's timeframes against the chart's and lists them:
    /// none finer than the bars it is placed on, each a multiple of them.
    pub fn higher_timeframes(&self, chart: Timeframe) -> Result<Vec<Timeframe>, CallError> {
        let mut found = Vec::new();
        self.collect_timeframes(chart, true, &mut found)?;
        Ok(found)
    }

    fn collect_timeframes(
        &self,
        context: Timeframe,
        outermost: bool,
        found: &mut Vec<Timeframe>,
    ) -> Result<(), CallError> {
        let mut on = context;
        if let Some(higher) = self.higher {
            let whose = if outermost {
                "the chart's".to_owned()
            } else {
                "the outer call's".to_owned()
            };
            let fail = |problem: String| {
                CallError::Param(ParamError {
                    call: self.written.clone(),
                    problem,
                })
            };
            let wanted = higher.timeframe;
            if wanted < context {
                return Err(fail(format!(
                    "timeframe {wanted} is finer than {whose} {context}; a call can only look at a higher timeframe"
                )));
            }
            if wanted != context && !context.divides(wanted) {
                return Err(fail(format!(
                    "{whose} {context} does not divide timeframe {wanted}, so its bars do not nest in {wanted} bars; pick a multiple of {context}"
                )));
            }
            if wanted != context && !found.contains(&wanted) {
                found.push(wanted);
            }
            on = wanted;
        }
        if let Source::Call { call, .. } = &self.source {
            call.collect_timeframes(on, false, found)?;
        }
        Ok(())
    }
}

/// One call's outputs over the rows asked, and, when it is placed from a
/// higher timeframe, the start of the higher bar each value came from.
#[derive(Debug, Clone)]
pub struct CallValues {
    pub outputs: Vec<Vec<f64>>,
    pub from: Option<HigherStarts>,
}

/// Per chart bar, the start of the higher bar its value came from (`None`
/// before the first complete one), kept as runs of equal starts: a
/// million minutes come from a few hundred days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HigherStarts {
    /// (bars in the run, the start they share); adjacent runs differ.
    runs: Vec<(usize, Option<i64>)>,
}

impl HigherStarts {
    /// Appends `count` bars that come from the higher bar starting at `start`.
    pub fn push(&mut self, start: Option<i64>, count: usize) {
        match self.runs.last_mut() {
            _ if count == 0 => {}
            Some((len, last)) if *last == start => *len += count,
            _ => self.runs.push((count, start)),
        }
    }

    /// The number of bars.
    pub fn len(&self) -> usize {
        self.runs.iter().map(|&(count, _)| count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Each bar's higher-bar start, in order.
    pub fn iter(&self) -> impl Iterator<Item = Option<i64>> + '_ {
        self.runs
            .iter()
            .flat_map(|&(count, start)| std::iter::repeat_n(start, count))
    }

    /// Bars `rows` only.
    fn slice(&self, rows: Range<usize>) -> HigherStarts {
        let mut part = HigherStarts::default();
        let mut at = 0;
        for &(count, start) in &self.runs {
            let (from, to) = (at.max(rows.start), (at + count).min(rows.end));
            if from < to {
                part.push(start, to - from);
            }
            at += count;
        }
        part
    }
}

/// The bars of one symbol a request's calls read: the chart's, and those
/// of every higher timeframe they name.
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    zone: Tz,
    chart: BarColumns<'a>,
    chart_timeframe: Option<Timeframe>,
    higher: Vec<(Timeframe, BarColumns<'a>)>,
}

/// Which bars: the chart's (`None`) or a higher timeframe's.
type FrameId = Option<Timeframe>;

/// Which higher bar each chart bar sees.
type SharedSeen = Rc<Seen>;

impl<'a> Frames<'a> {
    /// The chart's bars, of `timeframe` when known (a call naming a higher
    /// timeframe needs it).
    pub fn new(chart: BarColumns<'a>, timeframe: Option<Timeframe>, zone: Tz) -> Frames<'a> {
        Frames {
            zone,
            chart,
            chart_timeframe: timeframe,
            higher: Vec::new(),
        }
    }

    /// Adds the bars of a higher timeframe.
    pub fn with(mut self, timeframe: Timeframe, bars: BarColumns<'a>) -> Frames<'a> {
        self.higher.push((timeframe, bars));
        self
    }

    fn id_of(&self, timeframe: Timeframe) -> FrameId {
        (self.chart_timeframe != Some(timeframe)).then_some(timeframe)
    }

    fn bars(&self, frame: FrameId, call: &ResolvedCall) -> Result<BarColumns<'a>, ComputeError> {
        match frame {
            None => Ok(self.chart),
            Some(timeframe) => self
                .higher
                .iter()
                .find(|(t, _)| *t == timeframe)
                .map(|(_, bars)| *bars)
                .ok_or_else(|| failed(call, format!("the {timeframe} bars were not loaded"))),
        }
    }

    fn closes(&self, frame: FrameId, call: &ResolvedCall) -> Result<Closes, ComputeError> {
        let timeframe = frame.or(self.chart_timeframe).ok_or_else(|| {
            failed(
                call,
                "a higher timeframe needs the chart's timeframe".into(),
            )
        })?;
        let first = self.bars(frame, call)?.time.first().copied().unwrap_or(0);
        Ok(Closes::new(timeframe, self.zone, first))
    }
}

fn failed(call: &ResolvedCall, message: String) -> ComputeError {
    ComputeError {
        indicator: call.key.clone(),
        message,
        kind: ComputeErrorKind::Failed,
    }
}

/// A call computed on one frame, or placed on it from a higher one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Node {
    key: String,
    frame: FrameId,
    placed: bool,
}

/// A node's outputs over rows `start..start + len` of its frame.
#[derive(Debug)]
struct Computed {
    start: usize,
    outputs: Vec<Vec<f64>>,
    from: Option<HigherStarts>,
}

/// The calls of one request over one set of frames: what each node is
/// asked for (planned first, so a shared call is computed once over all
/// of it), and what has been computed.
#[derive(Debug)]
pub struct Evaluation<'f, 'a> {
    frames: &'f Frames<'a>,
    needs: HashMap<Node, Range<usize>>,
    done: HashMap<Node, Rc<Computed>>,
    placements: HashMap<(FrameId, Timeframe, Align), SharedSeen>,
}

impl<'f, 'a> Evaluation<'f, 'a> {
    pub fn new(frames: &'f Frames<'a>) -> Evaluation<'f, 'a> {
        Evaluation {
            frames,
            needs: HashMap::new(),
            done: HashMap::new(),
            placements: HashMap::new(),
        }
    }

    /// Notes that `call` will be asked for `rows` of the chart, so that the
    /// calls it shares with others are computed once over what all need.
    pub fn plan(&mut self, call: &ResolvedCall, rows: Range<usize>) -> Result<(), ComputeError> {
        let rows = self.clamp(None, call, rows)?;
        self.plan_on(call, None, rows)
    }

    /// `call`'s outputs over `rows` of the chart.
    pub fn values(
        &mut self,
        call: &ResolvedCall,
        rows: Range<usize>,
    ) -> Result<CallValues, ComputeError> {
        let rows = self.clamp(None, call, rows)?;
        let node = self.node(call, None);
        if !self.needs.get(&node).is_some_and(|n| covers(n, &rows)) {
            self.plan_on(call, None, rows.clone())?;
        }
        let computed = self.node_values(call, None)?;
        let part = rows.start - computed.start..rows.end - computed.start;
        Ok(CallValues {
            outputs: computed
                .outputs
                .iter()
                .map(|values| values[part.clone()].to_vec())
                .collect(),
            from: computed.from.as_ref().map(|from| from.slice(part)),
        })
    }

    fn clamp(
        &self,
        frame: FrameId,
        call: &ResolvedCall,
        rows: Range<usize>,
    ) -> Result<Range<usize>, ComputeError> {
        let len = self.frames.bars(frame, call)?.len();
        let end = rows.end.min(len);
        Ok(rows.start.min(end)..end)
    }

    /// Where `call` lives on `frame`: placed there from its own timeframe,
    /// or computed there.
    fn node(&self, call: &ResolvedCall, frame: FrameId) -> Node {
        let placed = call
            .higher
            .is_some_and(|h| self.frames.id_of(h.timeframe) != frame);
        let key = if placed { &call.key } else { &call.series_key };
        Node {
            key: key.clone(),
            frame,
            placed,
        }
    }

    fn need(&mut self, node: Node, rows: Range<usize>) {
        self.needs
            .entry(node)
            .and_modify(|n| *n = n.start.min(rows.start)..n.end.max(rows.end))
            .or_insert(rows);
    }

    fn plan_on(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        rows: Range<usize>,
    ) -> Result<(), ComputeError> {
        let node = self.node(call, frame);
        let Some(higher) = call.higher.filter(|_| node.placed) else {
            return self.plan_computed(call, frame, rows);
        };
        self.need(node, rows.clone());
        if higher.align == Align::Forming {
            return Ok(());
        }
        let seen = self.placement(call, frame, higher)?;
        let first = seen.spans(rows.clone()).find_map(|(_, k)| k);
        if let (Some(first), Some(last)) = (first, seen.at(rows.end.saturating_sub(1))) {
            let on = self.frames.id_of(higher.timeframe);
            self.plan_computed(call, on, first as usize..last as usize + 1)?;
        }
        Ok(())
    }

    fn plan_computed(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        rows: Range<usize>,
    ) -> Result<(), ComputeError> {
        let node = Node {
            key: call.series_key.clone(),
            frame,
            placed: false,
        };
        self.need(node, rows.clone());
        if let Source::Call { call: inner, .. } = &call.source {
            let bars = self.frames.bars(frame, call)?;
            let from = history_start(call, bars.time, rows.start, self.frames.zone);
            self.plan_on(inner, frame, from..rows.end)?;
        }
        Ok(())
    }

    fn placement(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        higher: HigherTimeframe,
    ) -> Result<SharedSeen, ComputeError> {
        let key = (frame, higher.timeframe, higher.align);
        if let Some(placed) = self.placements.get(&key) {
            return Ok(Rc::clone(placed));
        }
        let on = self.frames.id_of(higher.timeframe);
        let placed = Rc::new(Seen::new(
            self.frames.bars(frame, call)?.time,
            &self.frames.closes(frame, call)?,
            self.frames.bars(on, call)?.time,
            &self.frames.closes(on, call)?,
            higher.align,
        ));
        self.placements.insert(key, Rc::clone(&placed));
        Ok(placed)
    }

    fn node_values(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
    ) -> Result<Rc<Computed>, ComputeError> {
        let node = self.node(call, frame);
        if let Some(done) = self.done.get(&node) {
            return Ok(Rc::clone(done));
        }
        let rows = self.needs.get(&node).cloned().unwrap_or(0..0);
        let computed = match call.higher.filter(|_| node.placed) {
            None => self.compute(call, frame, rows)?,
            Some(higher) if higher.align == Align::Forming => {
                self.forming(call, frame, higher.timeframe, rows)?
            }
            Some(higher) => self.place(call, frame, higher, rows)?,
        };
        let computed = Rc::new(computed);
        self.done.insert(node, Rc::clone(&computed));
        Ok(computed)
    }

    /// `call` computed on `frame` over `rows`, from the history it needs.
    fn compute(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        rows: Range<usize>,
    ) -> Result<Computed, ComputeError> {
        let bars = self.frames.bars(frame, call)?;
        let zone = self.frames.zone;
        let from = history_start(call, bars.time, rows.start, zone);
        let window = bars.slice(from..rows.end);
        let (series, skip): (Vec<f64>, usize) = match &call.source {
            Source::Column(PriceColumn::Close) => (Vec::new(), 0),
            Source::Column(column) => (column.values(&window).into_owned(), 0),
            Source::Call {
                call: inner,
                output,
            } => {
                let input = self.node_values(inner, frame)?;
                let values = &input.outputs[*output];
                let at = |i: usize| values[i - input.start];
                let lead = (from..rows.end).take_while(|&i| at(i).is_nan()).count();
                let skip = if lead == 0 || from == 0 {
                    lead
                } else if (input.start..from).any(|i| !at(i).is_nan()) {
                    0
                } else if input.start == 0 {
                    lead
                } else {
                    self.leading_gap(inner, *output, frame, from, rows.end)?
                        .min(lead)
                };
                let taken = values[from + skip - input.start..rows.end - input.start].to_vec();
                (taken, skip)
            }
        };
        let mut window = bars.slice(from + skip..rows.end);
        if !matches!(call.source, Source::Column(PriceColumn::Close)) {
            window.close = &series;
        }
        let len = rows.end - from;
        let outputs = if window.is_empty() {
            vec![vec![f64::NAN; len]; call.indicator.spec().outputs.len()]
        } else {
            let computed = checked(call, &Series { bars: window, zone })?;
            if skip == 0 {
                computed
            } else {
                computed
                    .into_iter()
                    .map(|values| {
                        let mut padded = vec![f64::NAN; skip];
                        padded.extend(values);
                        padded
                    })
                    .collect()
            }
        };
        let keep = rows.start - from;
        Ok(Computed {
            start: rows.start,
            outputs: outputs
                .into_iter()
                .map(|mut values| values.split_off(keep))
                .collect(),
            from: None,
        })
    }

    /// How many of `inner`'s values from `from` on are its warm-up over the
    /// whole series (its leading no-values): computed from the first bar,
    /// when the window alone cannot tell a warm-up from a gap.
    fn leading_gap(
        &self,
        inner: &ResolvedCall,
        output: usize,
        frame: FrameId,
        from: usize,
        end: usize,
    ) -> Result<usize, ComputeError> {
        let mut whole = Evaluation::new(self.frames);
        whole.plan_on(inner, frame, 0..end)?;
        let values = whole.node_values(inner, frame)?;
        let series = &values.outputs[output];
        let first = series
            .iter()
            .position(|v| !v.is_nan())
            .unwrap_or(series.len());
        Ok((values.start + first).saturating_sub(from))
    }

    /// `call` computed on `higher` bars and placed on `frame`'s `rows`.
    fn place(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        higher: HigherTimeframe,
        rows: Range<usize>,
    ) -> Result<Computed, ComputeError> {
        let seen = self.placement(call, frame, higher)?;
        let on = self.frames.id_of(higher.timeframe);
        let times = self.frames.bars(on, call)?.time;
        let outputs = call.indicator.spec().outputs.len();
        let computed = if seen.spans(rows.clone()).any(|(_, k)| k.is_some()) {
            Some(self.node_values(call, on)?)
        } else {
            None
        };
        let mut values = vec![Vec::with_capacity(rows.len()); outputs];
        let mut from = HigherStarts::default();
        // Each span repeats one higher bar's values: filled, not looked up.
        for (span, k) in seen.spans(rows.clone()) {
            for (o, column) in values.iter_mut().enumerate() {
                let value = match (&computed, k) {
                    (Some(c), Some(k)) => c.outputs[o][k as usize - c.start],
                    _ => f64::NAN,
                };
                column.extend(std::iter::repeat_n(value, span.len()));
            }
            from.push(k.map(|k| times[k as usize]), span.len());
        }
        Ok(Computed {
            start: rows.start,
            outputs: values,
            from: Some(from),
        })
    }

    /// `call` on the developing `timeframe` bar of each of `rows`: the
    /// higher bars before it and the one folded from the chart bars so far.
    fn forming(
        &mut self,
        call: &ResolvedCall,
        frame: FrameId,
        timeframe: Timeframe,
        rows: Range<usize>,
    ) -> Result<Computed, ComputeError> {
        let chart = self.frames.bars(frame, call)?;
        let on = self.frames.id_of(timeframe);
        let higher = self.frames.bars(on, call)?;
        let closes = self.frames.closes(on, call)?;
        let zone = self.frames.zone;
        let outputs = call.indicator.spec().outputs.len();
        let mut values = vec![Vec::with_capacity(rows.len()); outputs];
        let mut from = HigherStarts::default();
        let mut developing: Option<Developing> = None;
        for j in rows.clone() {
            let (start, _) = closes.bin_of(chart.time[j]);
            // Rows are consecutive: the bar folded for row j - 1 grows by
            // row j while both are in one higher bar.
            let mut bar = match developing {
                Some(bar) if bar.start == start => bar,
                _ => {
                    let first = chart.time.partition_point(|&t| t < start);
                    let mut bar = Developing::new(start);
                    (first..j).for_each(|i| bar.add(&chart, i));
                    bar
                }
            };
            bar.add(&chart, j);
            developing = Some(bar);
            let before = higher.time.partition_point(|&t| t < start);
            let lo = forming_start(call, &higher.time[..before], before, start, zone);
            let mut bars = OwnedBars::from_slice(&higher.slice(lo..before));
            bars.push(&bar);
            let small = Frames::new(bars.columns(), Some(timeframe), zone);
            let last = bars.time.len() - 1;
            let computed = Evaluation::new(&small).values(call, last..last + 1)?;
            for (column, value) in values.iter_mut().zip(computed.outputs) {
                column.push(value.first().copied().unwrap_or(f64::NAN));
            }
            from.push(Some(start), 1);
        }
        Ok(Computed {
            start: rows.start,
            outputs: values,
            from: Some(from),
        })
    }
}

fn covers(have: &Range<usize>, want: &Range<usize>) -> bool {
    have.start <= want.start && have.end >= want.end
}

/// The first row `call` reads to compute `row` of bars with these `times`
/// (only `times[..row]` and the row's own time are looked at).
fn history_start(call: &ResolvedCall, times: &[i64], row: usize, zone: Tz) -> usize {
    match times.get(row) {
        Some(&time) => history_start_at(call, &times[..row], time, zone),
        None => row,
    }
}

fn history_start_at(call: &ResolvedCall, before: &[i64], time: i64, zone: Tz) -> usize {
    let row = before.len();
    match call.indicator.history(&call.params) {
        History::Bars(n) => row.saturating_sub(n),
        History::Whole => 0,
        History::LocalDay => {
            let midnight = zone::midnight(&zone, zone::local_date(&zone, time));
            before.partition_point(|&t| t < midnight)
        }
    }
}

/// The first higher bar a forming `call` (and its sources) reads for `row`
/// of the bars `before` followed by the developing one, which starts at
/// `start`.
fn forming_start(call: &ResolvedCall, before: &[i64], row: usize, start: i64, zone: Tz) -> usize {
    let time = before.get(row).copied().unwrap_or(start);
    let from = history_start_at(call, &before[..row.min(before.len())], time, zone);
    match &call.source {
        Source::Call { call: inner, .. } => {
            from.min(forming_start(inner, before, from, start, zone))
        }
        Source::Column(_) => from,
    }
}

/// An indicator's outputs over `series`, checked to be one per declared
/// output, each as long as the series.
fn checked(call: &ResolvedCall, series: &Series<'_>) -> Result<Vec<Vec<f64>>, ComputeError> {
    let outputs = call.indicator.compute(series, &call.params)?;
    let spec = call.indicator.spec();
    if outputs.len() != spec.outputs.len() || outputs.iter().any(|o| o.len() != series.bars.len()) {
        return Err(failed(
            call,
            format!(
                "returned {} series of lengths {:?}, expected {} of length {}",
                outputs.len(),
                outputs.iter().map(Vec::len).collect::<Vec<_>>(),
                spec.outputs.len(),
                series.bars.len()
            ),
        ));
    }
    Ok(outputs)
}

/// A developing higher bar: chart bars folded in order as aggregation
/// folds them (first, max, min, last, sum), skipping no-values, so that it
/// equals the aggregated bar once all of them are in.
#[derive(Debug, Clone, Copy)]
struct Developing {
    start: i64,
    open: f64,
    high: f64,
    low: f64,
    close: f64,
    volume: f64,
}

impl Developing {
    fn new(start: i64) -> Developing {
        let none = f64::NAN;
        Developing {
            start,
            open: none,
            high: none,
            low: none,
            close: none,
            volume: none,
        }
    }

    /// Folds in bar `i` of `bars`.
    fn add(&mut self, bars: &BarColumns<'_>, i: usize) {
        let fold = |so_far: f64, value: f64, f: fn(f64, f64) -> f64| {
            if value.is_nan() {
                so_far
            } else if so_far.is_nan() {
                value
            } else {
                f(so_far, value)
            }
        };
        if self.open.is_nan() {
            self.open = bars.open[i];
        }
        self.high = fold(self.high, bars.high[i], f64::max);
        self.low = fold(self.low, bars.low[i], f64::min);
        if !bars.close[i].is_nan() {
            self.close = bars.close[i];
        }
        self.volume = fold(self.volume, bars.volume[i], |a, b| a + b);
    }
}

/// Bars owned: a few higher bars and a developing one.
#[derive(Debug, Default)]
struct OwnedBars {
    time: Vec<i64>,
    open: Vec<f64>,
    high: Vec<f64>,
    low: Vec<f64>,
    close: Vec<f64>,
    volume: Vec<f64>,
}

impl OwnedBars {
    fn from_slice(bars: &BarColumns<'_>) -> OwnedBars {
        OwnedBars {
            time: bars.time.to_vec(),
            open: bars.open.to_vec(),
            high: bars.high.to_vec(),
            low: bars.low.to_vec(),
            close: bars.close.to_vec(),
            volume: bars.volume.to_vec(),
        }
    }

    fn push(&mut self, bar: &Developing) {
        self.time.push(bar.start);
        self.open.push(bar.open);
        self.high.push(bar.high);
        self.low.push(bar.low);
        self.close.push(bar.close);
        self.volume.push(bar.volume);
    }

    fn columns(&self) -> BarColumns<'_> {
        BarColumns {
            time: &self.time,
            open: &self.open,
            high: &self.high,
            low: &self.low,
            close: &self.close,
            volume: &self.volume,
        }
    }
}
