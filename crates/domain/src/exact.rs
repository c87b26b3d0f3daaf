//! Crate-private helpers for exact arithmetic in the scoring modules: checked `Decimal`
//! operations that turn overflow (and division by zero) into an error instead of a panic, a
//! deterministic Newton square root, integer square roots for fixed-point distances, and the
//! clipping of echoed input in error messages.

use rust_decimal::Decimal;

/// A `Decimal` operation overflowed or divided by zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Overflow;

pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_add(b).ok_or(Overflow)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_sub(b).ok_or(Overflow)
}

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_mul(b).ok_or(Overflow)
}

pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, Overflow> {
    a.checked_div(b).ok_or(Overflow)
}

/// The sum of `values`, failing on overflow.
pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, Overflow> {
    values.into_iter().try_fold(Decimal::ZERO, add)
}

/// The square root of `x ≥ 0` to `Decimal` precision, by Newton's iteration
/// `y ← y/2 + (x/y)/2` started above the root (at `max(x, 1)`): the iterates then decrease
/// monotonically, and the loop stops at the first one that does not decrease. At most 200
/// steps (the start is at most ~2^96 times the root, so ~100 halvings plus the quadratic
/// phase). Negative input gives `None`.
pub(crate) fn sqrt(x: Decimal) -> Option<Decimal> {
    if x.is_sign_negative() && !x.is_zero() {
        return None;
    }
    if x.is_zero() {
        return Some(Decimal::ZERO);
    }
    let two = Decimal::TWO;
    let mut y = x.max(Decimal::ONE);
    for _ in 0..200 {
        let next = y
            .checked_div(two)?
            .checked_add(x.checked_div(y)?.checked_div(two)?)?;
        if next >= y {
            return Some(y);
        }
        y = next;
    }
    Some(y)
}

/// `floor(sqrt(x))` for a `u128`, by Newton's iteration on integers (exact, deterministic).
pub(crate) fn isqrt(x: u128) -> u128 {
    if x < 2 {
        return x;
    }
    // Start above the root: 2^ceil(bits/2).
    let bits = 128 - x.leading_zeros();
    let mut y = 1u128 << bits.div_ceil(2);
    loop {
        let next = (y + x / y) / 2;
        if next >= y {
            return y;
        }
        y = next;
    }
}

/// `sqrt(x)` rounded to the nearest integer (half away from zero; an exact half cannot occur
/// for integer `x`).
pub(crate) fn isqrt_rounded(x: u128) -> u128 {
    let r = isqrt(x);
    // (r + 1/2)² = r² + r + 1/4, so round up when x - r² > r.
    if x - r * r > r { r + 1 } else { r }
}

/// At most 64 characters of some echoed input, for error messages.
pub(crate) fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn square_roots() {
        assert_eq!(sqrt(dec!(0)), Some(dec!(0)));
        assert_eq!(sqrt(dec!(4)), Some(dec!(2)));
        assert_eq!(sqrt(dec!(0.25)), Some(dec!(0.5)));
        assert_eq!(sqrt(dec!(-1)), None);
        let two = sqrt(dec!(2)).unwrap();
        assert_eq!(two.round_dp(20), dec!(1.41421356237309504880));
        let big = sqrt(dec!(1e24)).unwrap();
        assert_eq!(big, dec!(1e12));
        let max = sqrt(Decimal::MAX).unwrap();
        assert!(max > dec!(2.8e14) && max < dec!(2.82e14));
        assert_eq!(isqrt(0), 0);
        assert_eq!(isqrt(1), 1);
        assert_eq!(isqrt(15), 3);
        assert_eq!(isqrt(16), 4);
        assert_eq!(isqrt(u128::MAX), u128::from(u64::MAX));
        assert_eq!(isqrt_rounded(6), 2); // 2.449
        assert_eq!(isqrt_rounded(7), 3); // 2.645
        assert_eq!(isqrt_rounded(12), 3); // 3.464
        assert_eq!(isqrt_rounded(13), 4); // 3.606
    }
}
