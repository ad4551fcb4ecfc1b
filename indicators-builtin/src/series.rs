//! Numeric building blocks shared by the indicators: TA-Lib's formulas,
//! arranged for short dependency chains (so they agree with TA-Lib to
//! rounding). Outputs are as long as the inputs, NaN before the first value.

use multiversion::{multiversion, target::target_cfg_f};

/// A vector of `len` NaNs, filled in from the first defined value on.
pub(crate) fn undefined(len: usize) -> Vec<f64> {
    vec![f64::NAN; len]
}

/// The sum of `f(x)` over each window of `period` values ending at each
/// index, from `period - 1` on. The window slides by adding the difference
/// of the entering and leaving terms: one addition per value in the
/// dependency chain where TA-Lib's add-then-subtract has two.
pub(crate) fn window_sums(values: &[f64], period: usize, f: impl Fn(f64) -> f64) -> Vec<f64> {
    if period == 0 || values.len() < period {
        return undefined(values.len());
    }
    let mut total: f64 = values[..period].iter().map(|&x| f(x)).sum();
    let mut out = Vec::with_capacity(values.len());
    out.resize(period - 1, f64::NAN);
    out.push(total);
    let changes = values[period..]
        .iter()
        .zip(values)
        .map(|(&entering, &leaving)| f(entering) - f(leaving));
    out.extend(changes.map(|change| {
        total += change;
        total
    }));
    out
}

/// TA-Lib SMA: the mean of each window, first value at `period - 1`.
pub(crate) fn sma(values: &[f64], period: usize) -> Vec<f64> {
    let mut out = window_sums(values, period, |x| x);
    scale(&mut out, 1.0 / period as f64);
    out
}

/// Multiplies in place: a reciprocal costs a fraction of a division per value.
pub(crate) fn scale(values: &mut [f64], factor: f64) {
    values.iter_mut().for_each(|v| *v *= factor);
}

/// TA-Lib's EMA with smoothing `k`, seeded at index `start` by the mean of the
/// `period` values ending there (TA-Lib lets MACD seed its fast EMA late).
pub(crate) fn ema_from(values: &[f64], period: usize, k: f64, start: usize) -> Vec<f64> {
    if period == 0 || start + 1 < period || start >= values.len() {
        return undefined(values.len());
    }
    let seed = values[start + 1 - period..=start].iter().sum::<f64>() / period as f64;
    let mut out = Vec::with_capacity(values.len());
    out.resize(start, f64::NAN);
    out.push(seed);
    smooth(&mut out, values[start + 1..].iter().copied(), seed, k);
    out
}

/// TA-Lib's smoothing factor for an EMA of `period` bars.
pub(crate) fn ema_k(period: usize) -> f64 {
    2.0 / (period as f64 + 1.0)
}

/// Wilder's smoothing of `inputs`, the values at indices `first..len`: the
/// mean of the first `period` inputs, then `s = (s * (period - 1) + x) /
/// period`. The first output is at `first + period - 1`.
pub(crate) fn wilder(
    len: usize,
    period: usize,
    first: usize,
    inputs: impl ExactSizeIterator<Item = f64>,
) -> Vec<f64> {
    debug_assert_eq!(first + inputs.len(), len);
    let seed_end = first + period;
    if period == 0 || seed_end > len {
        return undefined(len);
    }
    let divisor = period as f64;
    let mut inputs = inputs;
    let seed = inputs.by_ref().take(period).sum::<f64>() / divisor;
    let mut out = Vec::with_capacity(len);
    out.resize(seed_end - 1, f64::NAN);
    out.push(seed);
    smooth(&mut out, inputs, seed, 1.0 / divisor);
    out
}

/// Values per block of `smooth`: the chain costs one multiply-add per block.
const BLOCK: usize = 4;

/// Appends `y += (x - y) * share` to `out` for each of `inputs`, continuing
/// from `y`: the recurrence of the EMA and of Wilder's smoothing. The inputs
/// are an iterator so that callers can compute them on the fly (a true range,
/// a gain) rather than store them first.
///
/// Step by step, each value waits for the one before it (TA-Lib's form
/// chains a subtraction, a multiplication and an addition). Here the values
/// are taken `BLOCK` at a time, as offsets `e` from the first `y`:
/// `eⱼ = e₀·keepʲ + sⱼ`, where `sⱼ`, the block's own contribution, does not
/// wait for `e₀`. One multiply-add per block is left in the chain, and
/// where the CPU has fused multiply-adds (chosen at run time) each of them
/// is one instruction. The results agree with the step-by-step form to
/// rounding, and a constant series equal to `y` stays exactly constant.
#[multiversion(targets("x86_64+avx2+fma"))]
pub(crate) fn smooth(
    out: &mut Vec<f64>,
    inputs: impl ExactSizeIterator<Item = f64>,
    y: f64,
    share: f64,
) {
    if share == 1.0 {
        // Each value is its input, not rounded through `y`.
        out.extend(inputs);
        return;
    }
    let fused = |a: f64, b: f64, c: f64| {
        if target_cfg_f!(target_feature = "fma") {
            a.mul_add(b, c)
        } else {
            a * b + c
        }
    };
    let keep = 1.0 - share;
    let mut decay = [keep; BLOCK];
    for i in 1..BLOCK {
        decay[i] = decay[i - 1] * keep;
    }
    out.reserve(inputs.len());
    let mut steps = inputs.map(|x| (x - y) * share);
    let mut offset = 0.0;
    while steps.len() >= BLOCK {
        let mut own = [0.0; BLOCK];
        for slot in &mut own {
            *slot = steps.next().unwrap_or(f64::NAN);
        }
        for i in 1..BLOCK {
            own[i] = fused(own[i - 1], keep, own[i]);
        }
        let mut block = [0.0; BLOCK];
        for ((value, own), decay) in block.iter_mut().zip(own).zip(decay) {
            *value = y + fused(offset, decay, own);
        }
        out.extend_from_slice(&block);
        offset = fused(offset, decay[BLOCK - 1], own[BLOCK - 1]);
    }
    for step in steps {
        offset = fused(offset, keep, step);
        out.push(y + offset);
    }
}

/// `a` if it is larger, else `b`: a comparison the compiler turns into
/// `maxpd`, where `f64::max`, which must skip NaNs, is several instructions.
pub(crate) fn larger(a: f64, b: f64) -> f64 {
    if a > b { a } else { b }
}

/// `a` if it is smaller, else `b`.
pub(crate) fn smaller(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The largest of each window of `period` values ending at each index, from
/// `period - 1` on.
pub(crate) fn rolling_max(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, larger)
}

pub(crate) fn rolling_min(values: &[f64], period: usize) -> Vec<f64> {
    rolling_extreme(values, period, smaller)
}

/// van Herk and Gil-Werman: cut the series into blocks of `period`; each
/// window is the tail of one block and the head of the next, so its extreme
/// is `pick(extreme of the tail, extreme of the head)`. Three comparisons
/// per value, none of them a branch.
fn rolling_extreme(values: &[f64], period: usize, pick: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    if period == 0 || values.len() < period {
        return undefined(values.len());
    }
    let mut tails = values.to_vec();
    for block in tails.chunks_mut(period) {
        for j in (1..block.len()).rev() {
            block[j - 1] = pick(block[j - 1], block[j]);
        }
    }
    let mut out = values.to_vec();
    for block in out.chunks_mut(period) {
        for j in 1..block.len() {
            block[j] = pick(block[j - 1], block[j]);
        }
    }
    for (head, &tail) in out[period - 1..].iter_mut().zip(&tails) {
        *head = pick(tail, *head);
    }
    blank_before(&mut out, period - 1);
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

    fn wave(len: usize) -> Vec<f64> {
        (0..len).map(|i| ((i * 7919) % 101) as f64 - 50.0).collect()
    }

    #[test]
    fn smooth_matches_the_step_by_step_recurrence() {
        for len in [0, 1, 3, 4, 5, 8, 103] {
            let values = wave(len);
            let share = 0.2;
            let mut fast = Vec::new();
            smooth(&mut fast, values.iter().copied(), 7.0, share);
            assert_eq!(fast.len(), len);
            let mut y = 7.0;
            for (fast, &x) in fast.iter().zip(&values) {
                y += (x - y) * share;
                assert!((fast - y).abs() < 1e-12, "{len}: {fast} vs {y}");
            }
        }
    }

    #[test]
    fn smooth_keeps_a_constant_exactly() {
        let mut values = Vec::new();
        smooth(&mut values, std::iter::repeat_n(0.1, 103), 0.1, 2.0 / 27.0);
        assert!(values.iter().all(|&v| v == 0.1));
    }

    #[test]
    fn window_sums_match_a_naive_sum() {
        let values = wave(300);
        for period in [1, 2, 20, 300, 301] {
            let sums = window_sums(&values, period, |x| x * x);
            for (i, sum) in sums.iter().enumerate() {
                if i + 1 < period {
                    assert!(sum.is_nan());
                } else {
                    let naive: f64 = values[i + 1 - period..=i].iter().map(|x| x * x).sum();
                    assert!((sum - naive).abs() < 1e-9, "{period}@{i}: {sum} vs {naive}");
                }
            }
        }
    }

    #[test]
    fn rolling_extremes_match_a_naive_scan() {
        let values = wave(200);
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
