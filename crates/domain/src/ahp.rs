//! The analytic hierarchy process (AHP, DOMAIN.md §3) and the weighted-factor lists built from
//! it. This module owns the validated pairwise-comparison matrix ([`PairwiseMatrix`]: n × n
//! with 1 ≤ n ≤ 15, positive, diagonal 1, reciprocal), its principal-eigenvector weights, λmax,
//! CI = (λmax − n)/(n − 1), Saaty's random index [`RANDOM_INDEX`] and CR = CI/RI, the refusal
//! of matrices with CR ≥ [`MAX_CONSISTENCY_RATIO`] (n ≤ 2 is always consistent), and
//! [`WeightedFactor`] lists whose weights sum to exactly 1, shared by the five-dimension value
//! model and the GE matrix. Everything is computed in `Decimal`: the eigenvector comes from
//! repeated squaring of the normalised matrix (power iteration at steps 1, 2, 4, 8, …), which
//! converges deterministically for any positive matrix (Perron–Frobenius).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::exact::{self, Overflow, clip};
use crate::money::ROUNDING;

/// The largest matrix: 15 criteria.
pub const MAX_CRITERIA: usize = 15;

/// Saaty's random consistency index RI for n = 1 … 15 (`RANDOM_INDEX[n - 1]`): the mean
/// consistency index of random reciprocal matrices on the 1/9 … 9 scale.
///
/// Source: T. L. Saaty, *The Analytic Hierarchy Process*, McGraw-Hill, 1980 (the table for
/// n ≤ 10: 0, 0, 0.58, 0.90, 1.12, 1.24, 1.32, 1.41, 1.45, 1.49), extended to n = 15 with
/// 1.51, 1.48, 1.56, 1.57, 1.59 as pinned for this project in issue #3. The n = 8 value is the
/// one behind the published CR = 0.169 of the house example of Saaty (1990), reproduced in
/// this module's tests.
pub const RANDOM_INDEX: [Decimal; MAX_CRITERIA] = [
    Decimal::from_parts(0, 0, 0, false, 2),
    Decimal::from_parts(0, 0, 0, false, 2),
    Decimal::from_parts(58, 0, 0, false, 2),
    Decimal::from_parts(90, 0, 0, false, 2),
    Decimal::from_parts(112, 0, 0, false, 2),
    Decimal::from_parts(124, 0, 0, false, 2),
    Decimal::from_parts(132, 0, 0, false, 2),
    Decimal::from_parts(141, 0, 0, false, 2),
    Decimal::from_parts(145, 0, 0, false, 2),
    Decimal::from_parts(149, 0, 0, false, 2),
    Decimal::from_parts(151, 0, 0, false, 2),
    Decimal::from_parts(148, 0, 0, false, 2),
    Decimal::from_parts(156, 0, 0, false, 2),
    Decimal::from_parts(157, 0, 0, false, 2),
    Decimal::from_parts(159, 0, 0, false, 2),
];

/// A matrix whose consistency ratio is at or above this (0.10) is refused.
pub const MAX_CONSISTENCY_RATIO: Decimal = Decimal::from_parts(10, 0, 0, false, 2);

/// How far `a_ij × a_ji` may be from 1 in a matrix given in full (0.01, so that 0.33 passes
/// for 1/3). Matrices built from [`Judgement`]s are exactly reciprocal.
pub const RECIPROCAL_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 2);

/// The largest entry of a matrix given in full (its reciprocal is the smallest). Saaty's scale
/// stops at 9; the bound keeps every weight far above `Decimal`'s resolution.
pub const MAX_ENTRY: Decimal = Decimal::from_parts(1000, 0, 0, false, 0);

/// Decimal places of the published weights, λmax, CI and CR (rounded with [`ROUNDING`]).
pub const RESULT_DP: u32 = 12;

/// The eigenvector has converged when no weight moves by more than this (10⁻²⁰) between two
/// squarings.
const CONVERGENCE_TOLERANCE: Decimal = Decimal::from_parts(1, 0, 0, false, 20);

/// At most this many squarings (power iteration up to step 2⁶⁴).
const MAX_SQUARINGS: u32 = 64;

/// Errors of AHP matrices and weighted-factor lists. Positions are zero-based.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AhpError {
    /// The matrix has no rows, or more than 15.
    #[error("AHP matrix size {0} is outside 1..=15")]
    Size(usize),
    /// A row whose length is not n.
    #[error("AHP matrix row {row} has {len} entries, expected {expected}")]
    NotSquare {
        /// The row.
        row: usize,
        /// Its length.
        len: usize,
        /// n.
        expected: usize,
    },
    /// An entry that is zero, negative or above [`MAX_ENTRY`] (or below its reciprocal).
    #[error("AHP matrix entry ({row}, {column}) = {value} is outside 1/1000..=1000")]
    EntryOutOfRange {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
        /// The value given.
        value: Decimal,
    },
    /// A diagonal entry other than 1.
    #[error("AHP matrix diagonal entry ({index}, {index}) = {value}, expected 1")]
    Diagonal {
        /// The row and column.
        index: usize,
        /// The value given.
        value: Decimal,
    },
    /// `a_ij × a_ji` is not 1 within [`RECIPROCAL_TOLERANCE`].
    #[error(
        "AHP matrix entries ({row}, {column}) = {value} and ({column}, {row}) = {mirror} are not reciprocal"
    )]
    NotReciprocal {
        /// The row (upper triangle).
        row: usize,
        /// The column.
        column: usize,
        /// `a_ij`.
        value: Decimal,
        /// `a_ji`.
        mirror: Decimal,
    },
    /// A judgement outside the upper triangle (it needs `row < column < n`).
    #[error("AHP judgement ({row}, {column}) is not in the upper triangle of a {n}×{n} matrix")]
    JudgementPosition {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
        /// n.
        n: usize,
    },
    /// A judgement that is not on Saaty's scale (numerator and denominator 1–9, one of them 1).
    #[error(
        "AHP judgement ({row}, {column}) = {numerator}/{denominator} is not on Saaty's 1/9..9 scale"
    )]
    JudgementScale {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
        /// The numerator given.
        numerator: u32,
        /// The denominator given.
        denominator: u32,
    },
    /// Two judgements for one pair.
    #[error("AHP judgement ({row}, {column}) is given twice")]
    DuplicateJudgement {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
    },
    /// A pair of the upper triangle without a judgement.
    #[error("AHP judgement ({row}, {column}) is missing")]
    MissingJudgement {
        /// The row.
        row: usize,
        /// The column.
        column: usize,
    },
    /// The consistency ratio is at or above 0.10: the judgements must be revised.
    #[error(
        "AHP matrix is inconsistent: consistency ratio {consistency_ratio} is not below {limit}"
    )]
    Inconsistent {
        /// The matrix's CR.
        consistency_ratio: Decimal,
        /// The limit, 0.10.
        limit: Decimal,
    },
    /// The eigenvector did not converge (cannot happen for a valid matrix; kept for safety).
    #[error("AHP eigenvector did not converge after {0} squarings")]
    NotConverged(u32),
    /// A `Decimal` overflow (cannot happen within the entry bounds; kept for safety).
    #[error("AHP arithmetic overflow")]
    Overflow,
    /// Number of names and weights differ when building a weighted-factor list.
    #[error("{names} factor codes for {weights} AHP weights")]
    NamesAndWeights {
        /// Factor codes given.
        names: usize,
        /// Weights given.
        weights: usize,
    },
    /// An empty weighted-factor list.
    #[error("a weighted-factor list needs at least one factor")]
    NoFactors,
    /// A factor code that is empty, over 64 characters, or not `[a-z0-9_]`.
    #[error("invalid factor code {0:?}: 1 to 64 characters of a-z, 0-9 and _")]
    FactorCode(String),
    /// A factor listed twice.
    #[error("factor {0:?} is listed twice")]
    DuplicateFactor(String),
    /// A weight below 0 or above 1.
    #[error("weight {weight} of factor {code:?} is outside 0..=1")]
    WeightRange {
        /// The factor.
        code: String,
        /// The weight.
        weight: Decimal,
    },
    /// Weights that do not sum to exactly 1.
    #[error("factor weights sum to {0}, not exactly 1")]
    WeightSum(Decimal),
}

impl From<Overflow> for AhpError {
    fn from(_: Overflow) -> Self {
        AhpError::Overflow
    }
}

/// One upper-triangle judgement on Saaty's scale: criterion `row` is `numerator/denominator`
/// times as important as criterion `column` (`row < column`, both 1–9, one of them 1). The
/// mirror entry is the exact reciprocal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    /// Zero-based row.
    pub row: usize,
    /// Zero-based column, above `row`.
    pub column: usize,
    /// Numerator, 1–9.
    pub numerator: u32,
    /// Denominator, 1–9.
    pub denominator: u32,
}

/// A validated pairwise-comparison matrix: n × n (1 ≤ n ≤ 15), entries in 1/1000 … 1000,
/// diagonal exactly 1, and `a_ji = 1/a_ij` (within [`RECIPROCAL_TOLERANCE`] when given in full).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PairwiseMatrix {
    n: usize,
    /// Row-major entries.
    entries: Vec<Decimal>,
}

impl PairwiseMatrix {
    /// A matrix given in full, row by row. The entries are used as given (a typed 0.33 stays
    /// 0.33).
    pub fn from_rows(rows: &[Vec<Decimal>]) -> Result<Self, AhpError> {
        let n = rows.len();
        if n == 0 || n > MAX_CRITERIA {
            return Err(AhpError::Size(n));
        }
        let min_entry = exact::div(Decimal::ONE, MAX_ENTRY)?;
        let mut entries = Vec::with_capacity(n * n);
        for (row, values) in rows.iter().enumerate() {
            if values.len() != n {
                return Err(AhpError::NotSquare {
                    row,
                    len: values.len(),
                    expected: n,
                });
            }
            for (column, &value) in values.iter().enumerate() {
                if value < min_entry || value > MAX_ENTRY {
                    return Err(AhpError::EntryOutOfRange { row, column, value });
                }
                if row == column && value != Decimal::ONE {
                    return Err(AhpError::Diagonal { index: row, value });
                }
                entries.push(value);
            }
        }
        for row in 0..n {
            for column in row + 1..n {
                let value = entries[row * n + column];
                let mirror = entries[column * n + row];
                let product = exact::mul(value, mirror)?;
                if (product - Decimal::ONE).abs() > RECIPROCAL_TOLERANCE {
                    return Err(AhpError::NotReciprocal {
                        row,
                        column,
                        value,
                        mirror,
                    });
                }
            }
        }
        Ok(Self { n, entries })
    }

    /// A matrix of `n` criteria from its n(n−1)/2 upper-triangle judgements (in any order);
    /// the diagonal is 1 and the lower triangle the exact reciprocals.
    pub fn from_judgements(n: usize, judgements: &[Judgement]) -> Result<Self, AhpError> {
        if n == 0 || n > MAX_CRITERIA {
            return Err(AhpError::Size(n));
        }
        let mut entries = vec![Decimal::ONE; n * n];
        let mut seen = vec![false; n * n];
        for j in judgements {
            let &Judgement {
                row,
                column,
                numerator,
                denominator,
            } = j;
            if row >= column || column >= n {
                return Err(AhpError::JudgementPosition { row, column, n });
            }
            let on_scale = (1..=9).contains(&numerator)
                && (1..=9).contains(&denominator)
                && (numerator == 1 || denominator == 1);
            if !on_scale {
                return Err(AhpError::JudgementScale {
                    row,
                    column,
                    numerator,
                    denominator,
                });
            }
            if seen[row * n + column] {
                return Err(AhpError::DuplicateJudgement { row, column });
            }
            seen[row * n + column] = true;
            let (num, den) = (Decimal::from(numerator), Decimal::from(denominator));
            entries[row * n + column] = exact::div(num, den)?;
            entries[column * n + row] = exact::div(den, num)?;
        }
        for row in 0..n {
            for column in row + 1..n {
                if !seen[row * n + column] {
                    return Err(AhpError::MissingJudgement { row, column });
                }
            }
        }
        Ok(Self { n, entries })
    }

    /// The number of criteria n.
    pub fn size(&self) -> usize {
        self.n
    }

    /// The entry `a_row,column`, or `None` outside the matrix.
    pub fn entry(&self, row: usize, column: usize) -> Option<Decimal> {
        if row < self.n && column < self.n {
            self.entries.get(row * self.n + column).copied()
        } else {
            None
        }
    }

    /// The weights and consistency of the matrix, **without** refusing an inconsistent one
    /// (use [`PairwiseMatrix::priorities`] to accept weights). Deterministic: the same matrix
    /// always gives the same digits.
    pub fn analyse(&self) -> Result<AhpAnalysis, AhpError> {
        let n = self.n;
        let (raw, squarings) = principal_eigenvector(&self.entries, n)?;
        // λmax = (1/n) Σ_i (A w)_i / w_i.
        let mut ratio_sum = Decimal::ZERO;
        for i in 0..n {
            let row = &self.entries[i * n..(i + 1) * n];
            let aw = exact::sum(
                row.iter()
                    .zip(&raw)
                    .map(|(a, w)| exact::mul(*a, *w))
                    .collect::<Result<Vec<_>, _>>()?,
            )?;
            ratio_sum = exact::add(ratio_sum, exact::div(aw, raw[i])?)?;
        }
        let lambda = exact::div(ratio_sum, Decimal::from(n))?;
        // λmax ≥ n in theory; a last-digit shortfall is rounding noise.
        let ci = if n <= 1 {
            Decimal::ZERO
        } else {
            exact::div(exact::sub(lambda, Decimal::from(n))?, Decimal::from(n - 1))?
                .max(Decimal::ZERO)
        };
        let random_index = RANDOM_INDEX[n - 1];
        let cr = if n <= 2 || random_index.is_zero() {
            Decimal::ZERO
        } else {
            exact::div(ci, random_index)?
        };
        Ok(AhpAnalysis {
            weights: round_to_unit_sum(&raw)?,
            lambda_max: publish(lambda.max(Decimal::from(n))),
            consistency_index: publish(ci),
            random_index,
            consistency_ratio: publish(cr),
            squarings,
        })
    }

    /// The weights of a consistent matrix: [`PairwiseMatrix::analyse`], refusing a consistency
    /// ratio (as published, to 12 places) at or above 0.10. Matrices with n ≤ 2 are always
    /// consistent.
    pub fn priorities(&self) -> Result<AhpAnalysis, AhpError> {
        let analysis = self.analyse()?;
        if analysis.is_consistent() {
            Ok(analysis)
        } else {
            Err(AhpError::Inconsistent {
                consistency_ratio: analysis.consistency_ratio,
                limit: MAX_CONSISTENCY_RATIO,
            })
        }
    }
}

/// The result of an AHP matrix. All figures are rounded once to [`RESULT_DP`] places with
/// [`ROUNDING`]; the weights are then adjusted so that they sum to exactly 1 (the rounding
/// residual, at most n/2 × 10⁻¹², goes to the largest weight, the first on ties).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AhpAnalysis {
    /// The principal-eigenvector weights in criteria order, summing to exactly 1.
    pub weights: Vec<Decimal>,
    /// The principal eigenvalue λmax (at least n).
    pub lambda_max: Decimal,
    /// CI = (λmax − n)/(n − 1); 0 for n = 1.
    pub consistency_index: Decimal,
    /// Saaty's RI for n, from [`RANDOM_INDEX`].
    pub random_index: Decimal,
    /// CR = CI/RI; 0 for n ≤ 2.
    pub consistency_ratio: Decimal,
    /// The squarings the eigenvector took to converge (the power iteration reached step
    /// 2^squarings).
    pub squarings: u32,
}

impl AhpAnalysis {
    /// Whether CR < 0.10.
    pub fn is_consistent(&self) -> bool {
        self.consistency_ratio < MAX_CONSISTENCY_RATIO
    }
}

fn publish(value: Decimal) -> Decimal {
    let rounded = value.round_dp_with_strategy(RESULT_DP, ROUNDING);
    if rounded.is_zero() {
        Decimal::ZERO
    } else {
        rounded
    }
}

/// Rounds weights to [`RESULT_DP`] places and moves the residual to the largest one.
fn round_to_unit_sum(raw: &[Decimal]) -> Result<Vec<Decimal>, AhpError> {
    let mut weights: Vec<Decimal> = raw.iter().map(|w| publish(*w)).collect();
    let residual = exact::sub(Decimal::ONE, exact::sum(weights.iter().copied())?)?;
    let mut largest = 0;
    for (i, w) in weights.iter().enumerate() {
        if *w > weights[largest] {
            largest = i;
        }
    }
    weights[largest] = exact::add(weights[largest], residual)?;
    Ok(weights)
}

/// The principal eigenvector of a positive n × n matrix (row-major), normalised to sum 1.
///
/// Rule: B₀ = A / ΣA; B_{k+1} = B_k² / ΣB_k², so B_k ∝ A^(2^k); the estimate after k squarings
/// is the normalised row sums of B_k (the power iteration from the all-ones vector at step
/// 2^k). Stop at the first k ≥ 1 where no component moves by more than 10⁻²⁰; fail after 64
/// squarings. All entries stay positive and at most 1, so there is no cancellation and no
/// overflow, and the digits are the same on every run.
fn principal_eigenvector(a: &[Decimal], n: usize) -> Result<(Vec<Decimal>, u32), AhpError> {
    if n == 1 {
        return Ok((vec![Decimal::ONE], 0));
    }
    let mut b = normalise(a)?;
    let mut w = normalise(&row_sums(&b, n)?)?;
    for squarings in 1..=MAX_SQUARINGS {
        b = normalise(&square(&b, n)?)?;
        let next = normalise(&row_sums(&b, n)?)?;
        let moved = next
            .iter()
            .zip(&w)
            .map(|(x, y)| (*x - *y).abs())
            .max()
            .unwrap_or(Decimal::ZERO);
        w = next;
        if moved <= CONVERGENCE_TOLERANCE {
            if w.iter().any(|x| x.is_zero()) {
                return Err(AhpError::Overflow);
            }
            return Ok((w, squarings));
        }
    }
    Err(AhpError::NotConverged(MAX_SQUARINGS))
}

fn normalise(values: &[Decimal]) -> Result<Vec<Decimal>, AhpError> {
    let total = exact::sum(values.iter().copied())?;
    values
        .iter()
        .map(|v| exact::div(*v, total).map_err(AhpError::from))
        .collect()
}

fn row_sums(b: &[Decimal], n: usize) -> Result<Vec<Decimal>, AhpError> {
    b.chunks(n)
        .map(|row| exact::sum(row.iter().copied()).map_err(AhpError::from))
        .collect()
}

fn square(b: &[Decimal], n: usize) -> Result<Vec<Decimal>, AhpError> {
    let mut out = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let mut acc = Decimal::ZERO;
            for k in 0..n {
                acc = exact::add(acc, exact::mul(b[i * n + k], b[k * n + j])?)?;
            }
            out.push(acc);
        }
    }
    Ok(out)
}

/// A factor and its weight, e.g. `("revenue", 0.4)`. Lists of these (validated by
/// [`validate_weighted_factors`]) weigh the factors of a value dimension or of a GE axis.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightedFactor {
    /// The factor code: 1–64 characters of `a-z`, `0-9` and `_`.
    pub code: String,
    /// The weight, 0 to 1.
    pub weight: Decimal,
}

impl WeightedFactor {
    /// A factor and its weight (validated with the list it joins).
    pub fn new(code: impl Into<String>, weight: Decimal) -> Self {
        Self {
            code: code.into(),
            weight,
        }
    }

    /// Pairs factor codes with the weights of an AHP analysis over them (criteria in the same
    /// order) and validates the list.
    pub fn from_ahp(codes: &[&str], analysis: &AhpAnalysis) -> Result<Vec<Self>, AhpError> {
        if codes.len() != analysis.weights.len() {
            return Err(AhpError::NamesAndWeights {
                names: codes.len(),
                weights: analysis.weights.len(),
            });
        }
        let factors: Vec<Self> = codes
            .iter()
            .zip(&analysis.weights)
            .map(|(code, weight)| Self::new(*code, *weight))
            .collect();
        validate_weighted_factors(&factors)?;
        Ok(factors)
    }
}

/// Whether `code` is a valid factor code: 1–64 characters of `a-z`, `0-9` and `_`.
pub fn is_valid_factor_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Validates a weighted-factor list: at least one factor, valid distinct codes, each weight
/// in 0..=1, and the weights summing to **exactly** 1 (AHP weights do, by construction).
pub fn validate_weighted_factors(factors: &[WeightedFactor]) -> Result<(), AhpError> {
    if factors.is_empty() {
        return Err(AhpError::NoFactors);
    }
    let mut total = Decimal::ZERO;
    for (i, f) in factors.iter().enumerate() {
        if !is_valid_factor_code(&f.code) {
            return Err(AhpError::FactorCode(clip(&f.code)));
        }
        if factors[..i].iter().any(|g| g.code == f.code) {
            return Err(AhpError::DuplicateFactor(f.code.clone()));
        }
        if f.weight < Decimal::ZERO || f.weight > Decimal::ONE {
            return Err(AhpError::WeightRange {
                code: f.code.clone(),
                weight: f.weight,
            });
        }
        total = exact::add(total, f.weight)?;
    }
    if total != Decimal::ONE {
        return Err(AhpError::WeightSum(total));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn j(row: usize, column: usize, numerator: u32, denominator: u32) -> Judgement {
        Judgement {
            row,
            column,
            numerator,
            denominator,
        }
    }

    fn close(actual: Decimal, expected: Decimal, what: &str) {
        assert!(
            (actual - expected).abs() <= dec!(0.000001),
            "{what}: {actual} vs {expected}"
        );
    }

    /// Builds a matrix from the upper triangle written as (numerator, denominator) pairs, row
    /// by row.
    fn upper(n: usize, pairs: &[(u32, u32)]) -> PairwiseMatrix {
        let mut judgements = Vec::new();
        let mut it = pairs.iter();
        for row in 0..n {
            for column in row + 1..n {
                let (a, b) = it.next().unwrap();
                judgements.push(j(row, column, *a, *b));
            }
        }
        PairwiseMatrix::from_judgements(n, &judgements).unwrap()
    }

    // Expected values of the published examples below were computed independently of this code:
    // the exact rational matrix, its eigen-decomposition with mpmath at 50 significant digits
    // (`mp.eig`), the principal eigenvector normalised to sum 1, CI = (λ − n)/(n − 1) and
    // CR = CI/RI with the RI above. They agree with the three-decimal figures printed in the
    // source, quoted in each test.

    /// Saaty, T. L. (1990), "How to make a decision: The analytic hierarchy process",
    /// European Journal of Operational Research 48(1), 9–26: the house example, alternatives
    /// A, B, C compared on *financing*. Published: priorities .072, .650, .278, λmax = 3.065.
    #[test]
    fn saaty_1990_house_financing_is_reproduced() {
        let m = upper(3, &[(1, 7), (1, 5), (3, 1)]);
        assert_eq!(m.entry(1, 0), Some(dec!(7)));
        assert_eq!(m.entry(2, 1), Some(Decimal::ONE / dec!(3)));
        let a = m.priorities().unwrap();
        close(a.weights[0], dec!(0.0719274298822564637), "w1");
        close(a.weights[1], dec!(0.6491180046313252095), "w2");
        close(a.weights[2], dec!(0.2789545654864183268), "w3");
        close(a.lambda_max, dec!(3.0648875798728186910), "λmax");
        close(a.consistency_index, dec!(0.0324437899364093455), "CI");
        close(a.consistency_ratio, dec!(0.0559375688558781819), "CR");
        assert_eq!(a.random_index, dec!(0.58));
        // To the 12 published places: 0.071927429882 + 0.649118004631 + 0.278954565486 =
        // 0.999999999999, so the residual 10⁻¹² goes to the largest weight.
        assert_eq!(a.weights[0], dec!(0.071927429882));
        assert_eq!(a.weights[1], dec!(0.649118004632));
        assert_eq!(a.weights[2], dec!(0.278954565486));
        assert_eq!(a.weights.iter().sum::<Decimal>(), Decimal::ONE);
        assert_eq!(a.lambda_max, dec!(3.064887579873));
        assert!(a.is_consistent());
    }

    /// Same source, *yard space*: published priorities .674, .101, .226, λmax = 3.086.
    #[test]
    fn saaty_1990_house_yard_space_is_reproduced() {
        let m = upper(3, &[(5, 1), (4, 1), (1, 3)]);
        let a = m.priorities().unwrap();
        close(a.weights[0], dec!(0.6738105710836421147), "w1");
        close(a.weights[1], dec!(0.1006539297178209202), "w2");
        close(a.weights[2], dec!(0.2255354991985369650), "w3");
        close(a.lambda_max, dec!(3.0857666912571998286), "λmax");
        close(a.consistency_ratio, dec!(0.0739368028079308867), "CR");
    }

    /// Same source, the eight criteria of the house (size, transportation, neighbourhood, age,
    /// yard space, modern facilities, general condition, financing). Published: priorities
    /// .173, .054, .188, .018, .031, .036, .167, .333; λmax = 9.669, C.I. = 0.238,
    /// C.R. = 0.169 — so this matrix, though published, is refused here (CR ≥ 0.10).
    #[test]
    fn saaty_1990_house_criteria_are_reproduced_and_refused() {
        #[rustfmt::skip]
        let m = upper(8, &[
            (5, 1), (3, 1), (7, 1), (6, 1), (6, 1), (1, 3), (1, 4),
            (1, 3), (5, 1), (3, 1), (3, 1), (1, 5), (1, 7),
            (6, 1), (3, 1), (4, 1), (6, 1), (1, 5),
            (1, 3), (1, 4), (1, 7), (1, 8),
            (1, 2), (1, 5), (1, 6),
            (1, 5), (1, 6),
            (1, 2),
        ]);
        let a = m.analyse().unwrap();
        let expected = [
            dec!(0.17301747464834764902),
            dec!(0.05397572299903930561),
            dec!(0.18811029885744078452),
            dec!(0.01750791130819569048),
            dec!(0.03104373640390229464),
            dec!(0.03632220215465609442),
            dec!(0.16683367362634788256),
            dec!(0.33318898000207029876),
        ];
        for (i, (w, e)) in a.weights.iter().zip(expected).enumerate() {
            close(*w, e, &format!("w{i}"));
        }
        close(a.lambda_max, dec!(9.6688873171181534712), "λmax");
        close(a.consistency_index, dec!(0.23841247387402192446), "CI");
        close(a.consistency_ratio, dec!(0.16908686090356164855), "CR");
        assert_eq!(a.random_index, dec!(1.41));
        assert!(!a.is_consistent());
        assert_eq!(
            m.priorities(),
            Err(AhpError::Inconsistent {
                consistency_ratio: a.consistency_ratio,
                limit: dec!(0.10),
            })
        );
    }

    /// The 3×3 matrix [[1, 1/3, 1/2], [3, 1, 3], [2, 1/3, 1]] common in AHP tutorials, given in
    /// full: weights 0.1571, 0.5936, 0.2493, λmax 3.0536, CR 0.0462 (mpmath values below).
    #[test]
    fn tutorial_matrix_given_in_full() {
        let third = Decimal::ONE / dec!(3);
        let m = PairwiseMatrix::from_rows(&[
            vec![dec!(1), third, dec!(0.5)],
            vec![dec!(3), dec!(1), dec!(3)],
            vec![dec!(2), third, dec!(1)],
        ])
        .unwrap();
        let a = m.priorities().unwrap();
        close(a.weights[0], dec!(0.15705578941099323496), "w1");
        close(a.weights[1], dec!(0.59363368526030010010), "w2");
        close(a.weights[2], dec!(0.24931052532870666494), "w3");
        close(a.lambda_max, dec!(3.0536215758789729021), "λmax");
        close(a.consistency_ratio, dec!(0.046225496447390432882), "CR");
        // Typed reciprocals within 0.01 are accepted and used as typed.
        let typed = PairwiseMatrix::from_rows(&[
            vec![dec!(1), dec!(0.33), dec!(0.5)],
            vec![dec!(3), dec!(1), dec!(3)],
            vec![dec!(2), dec!(0.33), dec!(1)],
        ])
        .unwrap();
        assert_eq!(typed.entry(0, 1), Some(dec!(0.33)));
        assert!(typed.priorities().is_ok());
    }

    #[test]
    fn consistent_matrices_give_exact_ratios() {
        // w = (4, 2, 1)/7: a_ij = w_i / w_j.
        let m = upper(3, &[(2, 1), (4, 1), (2, 1)]);
        let a = m.priorities().unwrap();
        assert_eq!(
            a.weights,
            vec![
                dec!(0.571428571429),
                dec!(0.285714285714),
                dec!(0.142857142857)
            ]
        );
        assert_eq!(a.lambda_max, dec!(3));
        assert_eq!(a.consistency_index, Decimal::ZERO);
        assert_eq!(a.consistency_ratio, Decimal::ZERO);
        // All equal.
        let eq = upper(5, &[(1, 1); 10]).priorities().unwrap();
        assert_eq!(eq.weights, vec![dec!(0.2); 5]);
    }

    #[test]
    fn small_matrices_are_always_consistent() {
        let one = PairwiseMatrix::from_rows(&[vec![dec!(1)]]).unwrap();
        let a = one.priorities().unwrap();
        assert_eq!(a.weights, vec![Decimal::ONE]);
        assert_eq!(a.lambda_max, Decimal::ONE);
        assert_eq!(a.consistency_ratio, Decimal::ZERO);
        assert_eq!(a.squarings, 0);
        let two = upper(2, &[(9, 1)]).priorities().unwrap();
        assert_eq!(two.weights, vec![dec!(0.9), dec!(0.1)]);
        assert_eq!(two.lambda_max, dec!(2));
        assert_eq!(two.consistency_ratio, Decimal::ZERO);
    }

    #[test]
    fn fifteen_criteria_converge_and_cyclic_judgements_are_refused() {
        // A near-consistent 15×15 matrix: w_i ∝ 15 - i, judgements rounded to the scale.
        let n = 15;
        let mut judgements = Vec::new();
        for row in 0..n {
            for column in row + 1..n {
                let ratio = (n - row) as u32 * 2 / (n - column) as u32;
                judgements.push(j(row, column, ratio.clamp(1, 9), 1));
            }
        }
        let m = PairwiseMatrix::from_judgements(n, &judgements).unwrap();
        let a = m.analyse().unwrap();
        assert_eq!(a.weights.iter().sum::<Decimal>(), Decimal::ONE);
        assert!(a.weights.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(a.random_index, dec!(1.59));
        assert!(a.squarings <= 12, "{}", a.squarings);
        // Determinism: same digits every time.
        assert_eq!(m.analyse().unwrap(), a);
        // A preference cycle: 1 ≻ 2 ≻ 3 ≻ 1, each 9 times.
        let cyclic = upper(3, &[(9, 1), (1, 9), (9, 1)]);
        let c = cyclic.analyse().unwrap();
        assert_eq!(
            c.weights,
            vec![
                dec!(0.333333333334),
                dec!(0.333333333333),
                dec!(0.333333333333)
            ]
        );
        assert!(matches!(
            cyclic.priorities(),
            Err(AhpError::Inconsistent { .. })
        ));
    }

    #[test]
    fn bad_matrices_are_refused_with_the_position() {
        assert_eq!(PairwiseMatrix::from_rows(&[]), Err(AhpError::Size(0)));
        assert_eq!(
            PairwiseMatrix::from_judgements(16, &[]),
            Err(AhpError::Size(16))
        );
        assert_eq!(
            PairwiseMatrix::from_rows(&[vec![dec!(1), dec!(2)], vec![dec!(0.5)]]),
            Err(AhpError::NotSquare {
                row: 1,
                len: 1,
                expected: 2
            })
        );
        assert_eq!(
            PairwiseMatrix::from_rows(&[vec![dec!(1), dec!(0)], vec![dec!(2), dec!(1)]]),
            Err(AhpError::EntryOutOfRange {
                row: 0,
                column: 1,
                value: dec!(0)
            })
        );
        assert!(matches!(
            PairwiseMatrix::from_rows(&[vec![dec!(1), dec!(-2)], vec![dec!(-0.5), dec!(1)]]),
            Err(AhpError::EntryOutOfRange { .. })
        ));
        assert_eq!(
            PairwiseMatrix::from_rows(&[vec![dec!(2), dec!(2)], vec![dec!(0.5), dec!(1)]]),
            Err(AhpError::Diagonal {
                index: 0,
                value: dec!(2)
            })
        );
        let err = PairwiseMatrix::from_rows(&[vec![dec!(1), dec!(3)], vec![dec!(0.3), dec!(1)]])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "AHP matrix entries (0, 1) = 3 and (1, 0) = 0.3 are not reciprocal"
        );
        assert_eq!(
            PairwiseMatrix::from_judgements(3, &[j(0, 1, 3, 1), j(1, 0, 1, 3)]),
            Err(AhpError::JudgementPosition {
                row: 1,
                column: 0,
                n: 3
            })
        );
        assert_eq!(
            PairwiseMatrix::from_judgements(3, &[j(0, 3, 3, 1)]),
            Err(AhpError::JudgementPosition {
                row: 0,
                column: 3,
                n: 3
            })
        );
        for (a, b) in [(0, 1), (10, 1), (3, 2), (1, 0)] {
            assert!(matches!(
                PairwiseMatrix::from_judgements(2, &[j(0, 1, a, b)]),
                Err(AhpError::JudgementScale { .. })
            ));
        }
        assert_eq!(
            PairwiseMatrix::from_judgements(2, &[j(0, 1, 3, 1), j(0, 1, 3, 1)]),
            Err(AhpError::DuplicateJudgement { row: 0, column: 1 })
        );
        assert_eq!(
            PairwiseMatrix::from_judgements(3, &[j(0, 1, 3, 1), j(0, 2, 3, 1)]),
            Err(AhpError::MissingJudgement { row: 1, column: 2 })
        );
    }

    #[test]
    fn weighted_factor_lists() {
        let a = upper(2, &[(3, 1)]).priorities().unwrap();
        let f = WeightedFactor::from_ahp(&["revenue", "average_balance"], &a).unwrap();
        assert_eq!(f[0], WeightedFactor::new("revenue", dec!(0.75)));
        assert_eq!(
            WeightedFactor::from_ahp(&["revenue"], &a),
            Err(AhpError::NamesAndWeights {
                names: 1,
                weights: 2
            })
        );
        let ok = [
            WeightedFactor::new("a", dec!(0.3)),
            WeightedFactor::new("b", dec!(0.7)),
        ];
        assert_eq!(validate_weighted_factors(&ok), Ok(()));
        assert_eq!(validate_weighted_factors(&[]), Err(AhpError::NoFactors));
        assert_eq!(
            validate_weighted_factors(&[
                WeightedFactor::new("a", dec!(0.3)),
                WeightedFactor::new("b", dec!(0.6)),
            ]),
            Err(AhpError::WeightSum(dec!(0.9)))
        );
        assert_eq!(
            validate_weighted_factors(&[
                WeightedFactor::new("a", dec!(1.2)),
                WeightedFactor::new("b", dec!(-0.2)),
            ]),
            Err(AhpError::WeightRange {
                code: "a".into(),
                weight: dec!(1.2)
            })
        );
        assert_eq!(
            validate_weighted_factors(&[
                WeightedFactor::new("a", dec!(0.5)),
                WeightedFactor::new("a", dec!(0.5)),
            ]),
            Err(AhpError::DuplicateFactor("a".into()))
        );
        for bad in ["", "Revenue", "trading area", &"x".repeat(65)] {
            assert!(matches!(
                validate_weighted_factors(&[WeightedFactor::new(bad, dec!(1))]),
                Err(AhpError::FactorCode(_))
            ));
        }
    }
}
