//! Building blocks with TA-Lib's warm-up conventions: each returns a series
//! as long as its input, NaN until the first full window.
//!
//! Inner loops take four values per iteration. Candela interrupts a plugin
//! that runs past its time limit with a check on every loop back-edge, so
//! fewer back-edges per value make a plugin measurably faster.

/// A series of `len` NaNs, to fill from the end of the warm-up.
pub fn nan(len: usize) -> Vec<f64> {
    vec![f64::NAN; len]
}

/// Simple moving average: the mean of the last `period` values, from index
/// `period - 1`.
pub fn sma(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let scale = 1.0 / period as f64;
    let mut sum: f64 = values[..period].iter().sum();
    out[period - 1] = sum * scale;
    let entering = &values[period..];
    let leaving = &values[..values.len() - period];
    let outs = &mut out[period..];
    let mut chunks = outs
        .chunks_exact_mut(4)
        .zip(entering.chunks_exact(4).zip(leaving.chunks_exact(4)));
    for (o, (e, l)) in &mut chunks {
        for k in 0..4 {
            sum += e[k] - l[k];
            o[k] = sum * scale;
        }
    }
    let done = outs.len() / 4 * 4;
    for ((o, e), l) in outs[done..]
        .iter_mut()
        .zip(&entering[done..])
        .zip(&leaving[done..])
    {
        sum += e - l;
        *o = sum * scale;
    }
    out
}

/// Exponential moving average with `alpha = 2 / (period + 1)`, seeded with
/// the mean of the first `period` values, as TA-Lib does.
pub fn ema(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let alpha = 2.0 / (period as f64 + 1.0);
    let mut y = values[..period].iter().sum::<f64>() / period as f64;
    out[period - 1] = y;
    let inputs = &values[period..];
    let outs = &mut out[period..];
    for (o, x) in outs.chunks_mut(4).zip(inputs.chunks(4)) {
        for (o, x) in o.iter_mut().zip(x) {
            y += alpha * (x - y);
            *o = y;
        }
    }
    out
}

/// Linearly weighted moving average: weights `1..=period`, the newest value
/// weighted most, as TA-Lib's WMA. NaN inputs are not expected.
pub fn wma(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = nan(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let divisor = period as f64 * (period as f64 + 1.0) / 2.0;
    // `weighted` is the sum of i * x over the window, `plain` the sum of x;
    // sliding by one adds `period * x_new` and subtracts the old `plain`.
    let mut weighted = 0.0;
    let mut plain = 0.0;
    for (i, x) in values[..period].iter().enumerate() {
        weighted += (i + 1) as f64 * x;
        plain += x;
    }
    out[period - 1] = weighted / divisor;
    let p = period as f64;
    for i in period..values.len() {
        weighted += p * values[i] - plain;
        plain += values[i] - values[i - period];
        out[i] = weighted / divisor;
    }
    out
}

/// True range: the largest of high − low, |high − previous close| and
/// |low − previous close|; NaN for the first bar, as TA-Lib.
pub fn true_range(high: &[f64], low: &[f64], close: &[f64]) -> Vec<f64> {
    let mut out = nan(high.len());
    for i in 1..high.len().min(low.len()).min(close.len()) {
        let previous = close[i - 1];
        out[i] = high[i].max(previous) - low[i].min(previous);
    }
    out
}

/// Wilder's average true range over `period`, seeded with the mean of the
/// first `period` true ranges, as TA-Lib's ATR.
pub fn atr(high: &[f64], low: &[f64], close: &[f64], period: usize) -> Vec<f64> {
    let range = true_range(high, low, close);
    let mut out = nan(range.len());
    if period == 0 || range.len() <= period {
        return out;
    }
    let mut y = range[1..=period].iter().sum::<f64>() / period as f64;
    out[period] = y;
    let keep = (period - 1) as f64 / period as f64;
    for i in period + 1..range.len() {
        y = y * keep + range[i] / period as f64;
        out[i] = y;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_sma(values: &[f64], period: usize) -> Vec<f64> {
        (0..values.len())
            .map(|i| {
                if i + 1 < period {
                    f64::NAN
                } else {
                    values[i + 1 - period..=i].iter().sum::<f64>() / period as f64
                }
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() < 1e-9)
    }

    #[test]
    fn sma_equals_the_mean_of_each_window_for_every_remainder() {
        let values: Vec<f64> = (0..23).map(|i| f64::from(i * i % 17)).collect();
        for period in 1..=9 {
            assert!(
                close(&sma(&values, period), &naive_sma(&values, period)),
                "period {period}"
            );
        }
        assert!(sma(&values, 24).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn wma_weights_the_newest_value_most() {
        let out = wma(&[1.0, 2.0, 3.0, 4.0], 3);
        assert!(out[1].is_nan());
        assert!((out[2] - (1.0 + 4.0 + 9.0) / 6.0).abs() < 1e-12);
        assert!((out[3] - (2.0 + 6.0 + 12.0) / 6.0).abs() < 1e-12);
    }

    #[test]
    fn ema_and_atr_start_where_talib_does() {
        let values = [2.0, 4.0, 6.0, 8.0];
        let out = ema(&values, 3);
        assert!(out[1].is_nan());
        assert_eq!(out[2], 4.0);
        assert_eq!(out[3], 4.0 + 0.5 * 4.0);
        let atr = atr(&values, &values, &values, 2);
        assert!(atr[1].is_nan());
        assert_eq!(atr[2], 2.0);
    }
}
