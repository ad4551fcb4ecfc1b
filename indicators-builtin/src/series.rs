//! Numeric building blocks shared by the indicators, each in TA-Lib's order
//! of operations. Outputs are as long as the inputs, NaN before the first value.

/// A vector of `len` NaNs, filled in from the first defined value on.
pub(crate) fn undefined(len: usize) -> Vec<f64> {
    vec![f64::NAN; len]
}

/// TA-Lib SMA: a running sum, first value at `period - 1`.
pub(crate) fn sma(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = undefined(values.len());
    if period == 0 || values.len() < period {
        return out;
    }
    let divisor = period as f64;
    let mut total: f64 = values[..period - 1].iter().sum();
    for i in period - 1..values.len() {
        total += values[i];
        out[i] = total / divisor;
        total -= values[i + 1 - period];
    }
    out
}

/// TA-Lib's EMA with smoothing `k`, seeded at index `start` by the mean of the
/// `period` values ending there (TA-Lib lets MACD seed its fast EMA late).
pub(crate) fn ema_from(values: &[f64], period: usize, k: f64, start: usize) -> Vec<f64> {
    let mut out = undefined(values.len());
    if period == 0 || start + 1 < period || start >= values.len() {
        return out;
    }
    let seed: f64 = values[start + 1 - period..=start].iter().sum();
    let mut average = seed / period as f64;
    out[start] = average;
    for (o, &x) in out[start + 1..].iter_mut().zip(&values[start + 1..]) {
        average = (x - average) * k + average;
        *o = average;
    }
    out
}

/// TA-Lib's smoothing factor for an EMA of `period` bars.
pub(crate) fn ema_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// Wilder's smoothing of `values` from index `first`: the mean of the first
/// `period` values, then `s = (s * (period - 1) + x) / period`. The first
/// output is at `first + period - 1`.
pub(crate) fn wilder(values: &[f64], period: usize, first: usize) -> Vec<f64> {
    let mut out = undefined(values.len());
    let seed_end = first + period;
    if period == 0 || seed_end > values.len() {
        return out;
    }
    let divisor = period as f64;
    // `s * (p-1)/p + x/p`: TA-Lib divides, but a division in the dependency
    // chain costs several times a multiplication; the results agree to rounding.
    let (keep, share) = ((divisor - 1.0) / divisor, 1.0 / divisor);
    let mut average = values[first..seed_end].iter().sum::<f64>() / divisor;
    out[seed_end - 1] = average;
    for (o, &x) in out[seed_end..].iter_mut().zip(&values[seed_end..]) {
        average = average * keep + x * share;
        *o = average;
    }
    out
}

/// The largest of each window of `period` values ending at each index, from
/// `period - 1` on, in linear time (a monotonic queue of candidates).
pub(crate) fn rolling_max(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, |candidate, newer| candidate <= newer)
}

pub(crate) fn rolling_min(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, |candidate, newer| candidate >= newer)
}

/// `beaten(old, new)`: `old` can never again be the extreme once `new` is in.
fn rolling_extreme(values: &[f64], period: usize, beaten: impl Fn(f64, f64) -> bool) -> Vec<f64> {
    let mut out = undefined(values.len());
    if period == 0 {
        return out;
    }
    let mut queue = std::collections::VecDeque::with_capacity(period);
    for (i, &x) in values.iter().enumerate() {
        while queue.back().is_some_and(|&j: &usize| beaten(values[j], x)) {
            queue.pop_back();
        }
        queue.push_back(i);
        if queue.front().is_some_and(|&j| j + period <= i) {
            queue.pop_front();
        }
        if i + 1 >= period
            && let Some(&j) = queue.front()
        {
            out[i] = values[j];
        }
    }
    out
}

/// NaN before `first`: aligns outputs that TA-Lib starts together.
pub(crate) fn blank_before(values: &mut [f64], first: usize) {
    let end = first.min(values.len());
    values[..end].fill(f64::NAN);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rolling_extremes_match_a_naive_scan() {
        let values: Vec<f64> = (0..200).map(|i| ((i * 7919) % 101) as f64).collect();
        for period in [1, 2, 5, 17, 200, 250] {
            let (max, min) = (rolling_max(&values, period), rolling_min(&values, period));
            for i in 0..values.len() {
                if i + 1 < period {
                    assert!(max[i].is_nan() && min[i].is_nan());
                    continue;
                }
                let window = &values[i + 1 - period..=i];
                assert_eq!(max[i], window.iter().copied().fold(f64::MIN, f64::max));
                assert_eq!(min[i], window.iter().copied().fold(f64::MAX, f64::min));
            }
        }
    }
}
