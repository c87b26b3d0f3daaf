//! Strategic segmentation by k-means (DOMAIN.md §3, seed 000 篇6). This module owns a
//! deterministic k-means over customers' feature vectors: features are standardised to
//! z-scores (population standard deviation; a constant feature becomes 0), centres are seeded
//! by k-means++ driven by the module's own [`SplitMix64`] generator, and Lloyd iterations run
//! until no centre moves by more than the tolerance (in standard deviations) or the iteration
//! limit is reached; several seeded starts are run and the one with the smallest sum of
//! squared distances is kept. The result gives each item its segment and its Euclidean distance to the
//! segment's centre (in standardised units), and each segment its size and centroid (the mean
//! of its members in the original units). No floating point is used: z-scores are computed in
//! `Decimal` and rounded once (with the crate's [`ROUNDING`] rule) to [`FIXED_DP`] = 9 places,
//! then held as integer counts of 10⁻⁹ (the `Decimal` mantissa at scale 9), so every distance
//! and mean in the iterations is exact integer arithmetic. The same items, parameters and seed
//! therefore always give the same segments, in the same order: segments are numbered by size
//! (largest first), then by standardised centroid.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::exact::{self, isqrt_rounded};
use crate::money::ROUNDING;

/// Decimal places of the fixed-point z-scores, centres and distances.
pub const FIXED_DP: u32 = 9;
/// Decimal places of centroids in original units.
pub const CENTROID_DP: u32 = 6;
/// The most items in one run.
pub const MAX_ITEMS: usize = 10_000_000;
/// The most features per item.
pub const MAX_FEATURES: usize = 64;
/// The most segments.
pub const MAX_SEGMENTS: usize = 1_000;
/// The most Lloyd iterations.
pub const MAX_ITERATIONS: u32 = 10_000;
/// The most k-means++ starts.
pub const MAX_STARTS: u32 = 100;

/// Errors of segmentation inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SegmentationError {
    /// No items, or more than [`MAX_ITEMS`].
    #[error("{0} items to segment: expected 1 to 10000000")]
    ItemCount(usize),
    /// Items without features, or with more than [`MAX_FEATURES`].
    #[error("{0} features per item: expected 1 to 64")]
    FeatureCount(usize),
    /// An item whose feature count differs from the first item's.
    #[error("item {item} has {len} features, expected {expected}")]
    RaggedItem {
        /// The item's position.
        item: usize,
        /// Its feature count.
        len: usize,
        /// The first item's.
        expected: usize,
    },
    /// k outside 1 ..= min(items, 1000).
    #[error("k = {k} is outside 1..={max}")]
    K {
        /// The k given.
        k: usize,
        /// The largest allowed.
        max: usize,
    },
    /// Fewer distinct items than k.
    #[error("only {found} distinct feature vectors for k = {k} segments")]
    TooFewDistinct {
        /// The k given.
        k: usize,
        /// Distinct vectors found before running out.
        found: usize,
    },
    /// An iteration limit outside 1 ..= [`MAX_ITERATIONS`].
    #[error("max_iterations {0} is outside 1..=10000")]
    Iterations(u32),
    /// A number of starts outside 1 ..= [`MAX_STARTS`].
    #[error("starts {0} is outside 1..=100")]
    Starts(u32),
    /// A negative tolerance, or one above 1 standard deviation.
    #[error("tolerance {0} is outside 0..=1")]
    Tolerance(Decimal),
    /// A feature whose values are too large to standardise exactly.
    #[error("feature {0} has values too large to standardise")]
    FeatureOverflow(usize),
}

/// SplitMix64 (Steele, Lea and Flood, 2014; the generator Vigna uses to seed xoshiro): a tiny,
/// fast, full-period 64-bit generator. Deterministic for a seed; not for cryptography.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`; 0 for `n = 0`), by reducing 128 random bits modulo `n`
    /// (the bias is below 2⁻⁹⁰ for any `n` this module uses).
    pub fn below(&mut self, n: u128) -> u128 {
        let bits = (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64());
        bits.checked_rem(n).unwrap_or(0)
    }
}

/// The parameters of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KMeansParams {
    /// The number of segments.
    pub k: usize,
    /// The seed of the k-means++ initialisation.
    pub seed: u64,
    /// The most Lloyd iterations (default 100).
    pub max_iterations: u32,
    /// Converged when no centre moves further than this, in standard deviations
    /// (default 0.000001).
    pub tolerance: Decimal,
    /// Independent k-means++ starts (default 4); the run with the smallest sum of squared
    /// distances wins (the earliest on ties). More starts make a poor local optimum less
    /// likely; each costs one full run.
    pub starts: u32,
}

impl KMeansParams {
    /// `k` segments from `seed`, at most 100 iterations, tolerance 10⁻⁶, 4 starts.
    pub fn new(k: usize, seed: u64) -> Self {
        Self {
            k,
            seed,
            max_iterations: 100,
            tolerance: Decimal::from_parts(1, 0, 0, false, 6),
            starts: 4,
        }
    }
}

/// How a feature was standardised: z = (x − mean) / std_dev.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureScaling {
    /// The mean over all items.
    pub mean: Decimal,
    /// The population standard deviation (0 for a constant feature, whose z-scores are all 0).
    pub std_dev: Decimal,
}

/// An item's segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentAssignment {
    /// The segment index (0 = the largest segment).
    pub segment: usize,
    /// Euclidean distance to the segment's centre in standardised units, to 9 places.
    pub distance: Decimal,
}

/// A segment found by a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// The index (0 = the largest).
    pub index: usize,
    /// The number of items.
    pub size: usize,
    /// The mean of the members' features in original units, to [`CENTROID_DP`] places.
    pub centroid: Vec<Decimal>,
    /// The centre in standardised units, to [`FIXED_DP`] places.
    pub standardized_centroid: Vec<Decimal>,
}

/// The result of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segmentation {
    /// One assignment per item, in input order.
    pub assignments: Vec<SegmentAssignment>,
    /// The segments, largest first.
    pub segments: Vec<Segment>,
    /// The standardisation of each feature.
    pub scaling: Vec<FeatureScaling>,
    /// Lloyd iterations run by the winning start.
    pub iterations: u32,
    /// Whether the winning start's centres settled within the tolerance before the iteration
    /// limit.
    pub converged: bool,
    /// The winning start (0-based).
    pub start: u32,
    /// The sum of squared distances to the centres, in standardised units, to 9 places.
    pub inertia: Decimal,
}

/// Squared distance between two fixed-point vectors, stopping early (with a value ≥ `bound`)
/// once the partial sum reaches `bound`.
fn dist2(a: &[i64], b: &[i64], bound: u128) -> u128 {
    let mut acc: u128 = 0;
    for (x, y) in a.iter().zip(b) {
        let d = i128::from(*x) - i128::from(*y);
        acc += d.unsigned_abs() * d.unsigned_abs();
        if acc >= bound {
            return acc;
        }
    }
    acc
}

/// Integer division rounded half away from zero (`count > 0`).
fn div_round(sum: i128, count: i128) -> i128 {
    let q = sum / count;
    let r = sum % count;
    if 2 * r.abs() >= count {
        q + sum.signum()
    } else {
        q
    }
}

fn fixed_to_decimal(v: i128) -> Decimal {
    Decimal::try_from_i128_with_scale(v, FIXED_DP).unwrap_or(Decimal::MAX)
}

/// Standardises the items: per-feature scaling and the fixed-point z-scores (row-major).
fn standardise<R: AsRef<[Decimal]>>(
    rows: &[R],
    f: usize,
) -> Result<(Vec<FeatureScaling>, Vec<i64>), SegmentationError> {
    let n = Decimal::from(rows.len());
    let mut scaling = Vec::with_capacity(f);
    for j in 0..f {
        let overflow = |_| SegmentationError::FeatureOverflow(j);
        let total = exact::sum(rows.iter().map(|r| r.as_ref()[j])).map_err(overflow)?;
        let mean = exact::div(total, n).map_err(overflow)?;
        let mut squares = Decimal::ZERO;
        for r in rows {
            let d = exact::sub(r.as_ref()[j], mean).map_err(overflow)?;
            squares = exact::add(squares, exact::mul(d, d).map_err(overflow)?).map_err(overflow)?;
        }
        let variance = exact::div(squares, n).map_err(overflow)?;
        let std_dev = exact::sqrt(variance).ok_or(SegmentationError::FeatureOverflow(j))?;
        scaling.push(FeatureScaling { mean, std_dev });
    }
    let mut z = Vec::with_capacity(rows.len() * f);
    for r in rows {
        for (j, (x, s)) in r.as_ref().iter().zip(&scaling).enumerate() {
            if s.std_dev.is_zero() {
                z.push(0);
                continue;
            }
            let overflow = |_| SegmentationError::FeatureOverflow(j);
            let mut v = exact::div(exact::sub(*x, s.mean).map_err(overflow)?, s.std_dev)
                .map_err(overflow)?
                .round_dp_with_strategy(FIXED_DP, ROUNDING);
            v.rescale(FIXED_DP);
            z.push(i64::try_from(v.mantissa()).map_err(|_| SegmentationError::FeatureOverflow(j))?);
        }
    }
    Ok((scaling, z))
}

/// k-means++ seeding: the first centre uniformly, each next one with probability
/// proportional to the squared distance to the nearest centre chosen so far (the smallest
/// index whose running total exceeds a uniform draw below the total).
fn seed_centres(
    z: &[i64],
    n: usize,
    f: usize,
    k: usize,
    rng: &mut SplitMix64,
) -> Result<Vec<i64>, SegmentationError> {
    let point = |i: usize| &z[i * f..(i + 1) * f];
    let first = usize::try_from(rng.below(n as u128)).unwrap_or(0);
    let mut centres = point(first).to_vec();
    let mut nearest: Vec<u128> = (0..n)
        .map(|i| dist2(point(i), point(first), u128::MAX))
        .collect();
    for found in 1..k {
        let total: u128 = nearest.iter().sum();
        if total == 0 {
            return Err(SegmentationError::TooFewDistinct { k, found });
        }
        let target = rng.below(total);
        let mut running = 0u128;
        let mut chosen = n - 1;
        for (i, d) in nearest.iter().enumerate() {
            running += d;
            if running > target {
                chosen = i;
                break;
            }
        }
        let c = point(chosen).to_vec();
        for (i, d) in nearest.iter_mut().enumerate() {
            *d = (*d).min(dist2(point(i), &c, *d));
        }
        centres.extend_from_slice(&c);
    }
    Ok(centres)
}

/// Assigns every point to its nearest centre (the lowest index on ties); returns the squared
/// distances.
fn assign(z: &[i64], f: usize, centres: &[i64], labels: &mut [usize], d2: &mut [u128]) {
    for (i, p) in z.chunks(f).enumerate() {
        let mut best = u128::MAX;
        let mut best_c = 0;
        for (c, centre) in centres.chunks(f).enumerate() {
            let d = dist2(p, centre, best);
            if d < best {
                best = d;
                best_c = c;
            }
        }
        labels[i] = best_c;
        d2[i] = best;
    }
}

/// One k-means run from seeded centres.
struct Run {
    centres: Vec<i64>,
    labels: Vec<usize>,
    d2: Vec<u128>,
    iterations: u32,
    converged: bool,
    /// Σ d2, in units of 10⁻¹⁸.
    inertia: u128,
}

/// Lloyd iterations: assign every point to its nearest centre, move each centre to the mean
/// of its members (rounded half away from zero), reseed empty segments, and stop when no
/// centre moved by more than the tolerance (squared: `tol2`) or after `max_iterations`. The
/// final assignment is always against the final centres.
fn lloyd(
    z: &[i64],
    f: usize,
    k: usize,
    mut centres: Vec<i64>,
    max_iterations: u32,
    tol2: u128,
) -> Run {
    let n = z.len() / f;
    let mut labels = vec![0usize; n];
    let mut d2 = vec![0u128; n];
    assign(z, f, &centres, &mut labels, &mut d2);
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        iterations += 1;
        let mut sums = vec![0i128; k * f];
        let mut counts = vec![0usize; k];
        for (p, &c) in z.chunks(f).zip(&labels) {
            counts[c] += 1;
            for (s, x) in sums[c * f..(c + 1) * f].iter_mut().zip(p) {
                *s += i128::from(*x);
            }
        }
        let mut next = centres.clone();
        let mut reseeded = false;
        for c in 0..k {
            if counts[c] == 0 {
                continue;
            }
            let count = counts[c] as i128;
            for j in 0..f {
                let mean = div_round(sums[c * f + j], count);
                // A mean of values that fit in i64 fits in i64.
                next[c * f + j] = i64::try_from(mean).unwrap_or(0);
            }
        }
        // An empty segment takes the point farthest from its centre among segments with more
        // than one member (the lowest index on ties).
        for c in 0..k {
            if counts[c] != 0 {
                continue;
            }
            let far = (0..n)
                .filter(|&i| counts[labels[i]] > 1)
                .max_by(|&a, &b| d2[a].cmp(&d2[b]).then(b.cmp(&a)));
            if let Some(i) = far {
                counts[labels[i]] -= 1;
                counts[c] = 1;
                d2[i] = 0;
                next[c * f..(c + 1) * f].copy_from_slice(&z[i * f..(i + 1) * f]);
                reseeded = true;
            }
        }
        let shift = centres
            .chunks(f)
            .zip(next.chunks(f))
            .map(|(a, b)| dist2(a, b, u128::MAX))
            .max()
            .unwrap_or(0);
        centres = next;
        assign(z, f, &centres, &mut labels, &mut d2);
        if !reseeded && shift <= tol2 {
            converged = true;
            break;
        }
    }
    let inertia = d2.iter().sum();
    Run {
        centres,
        labels,
        d2,
        iterations,
        converged,
        inertia,
    }
}

/// Segments `rows` (each the same number of features) into `params.k` segments.
pub fn kmeans<R: AsRef<[Decimal]>>(
    rows: &[R],
    params: &KMeansParams,
) -> Result<Segmentation, SegmentationError> {
    let n = rows.len();
    if n == 0 || n > MAX_ITEMS {
        return Err(SegmentationError::ItemCount(n));
    }
    let f = rows[0].as_ref().len();
    if f == 0 || f > MAX_FEATURES {
        return Err(SegmentationError::FeatureCount(f));
    }
    if let Some((item, r)) = rows.iter().enumerate().find(|(_, r)| r.as_ref().len() != f) {
        return Err(SegmentationError::RaggedItem {
            item,
            len: r.as_ref().len(),
            expected: f,
        });
    }
    let k = params.k;
    let max_k = n.min(MAX_SEGMENTS);
    if k == 0 || k > max_k {
        return Err(SegmentationError::K { k, max: max_k });
    }
    if params.max_iterations == 0 || params.max_iterations > MAX_ITERATIONS {
        return Err(SegmentationError::Iterations(params.max_iterations));
    }
    if params.starts == 0 || params.starts > MAX_STARTS {
        return Err(SegmentationError::Starts(params.starts));
    }
    if params.tolerance < Decimal::ZERO || params.tolerance > Decimal::ONE {
        return Err(SegmentationError::Tolerance(params.tolerance));
    }
    let mut tol = params.tolerance.round_dp_with_strategy(FIXED_DP, ROUNDING);
    tol.rescale(FIXED_DP);
    let tol = tol.mantissa().unsigned_abs();
    let tol2 = tol * tol;

    let (scaling, z) = standardise(rows, f)?;
    let mut rng = SplitMix64::new(params.seed);
    let mut best: Option<(u32, Run)> = None;
    for start in 0..params.starts {
        let centres = seed_centres(&z, n, f, k, &mut rng)?;
        let run = lloyd(&z, f, k, centres, params.max_iterations, tol2);
        if best.as_ref().is_none_or(|(_, b)| run.inertia < b.inertia) {
            best = Some((start, run));
        }
    }
    let Some((start, run)) = best else {
        return Err(SegmentationError::Starts(params.starts));
    };
    let Run {
        centres,
        labels,
        d2,
        iterations,
        converged,
        inertia,
    } = run;

    // Number segments by size (largest first), then by standardised centre, then old index.
    let mut sizes = vec![0usize; k];
    for &c in &labels {
        sizes[c] += 1;
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| {
        sizes[b]
            .cmp(&sizes[a])
            .then_with(|| centres[a * f..(a + 1) * f].cmp(&centres[b * f..(b + 1) * f]))
            .then(a.cmp(&b))
    });
    let mut new_index = vec![0usize; k];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }

    // Centroids in original units: the members' means.
    let mut totals = vec![Decimal::ZERO; k * f];
    for (r, &c) in rows.iter().zip(&labels) {
        for (j, x) in r.as_ref().iter().enumerate() {
            let t = &mut totals[c * f + j];
            *t = exact::add(*t, *x).map_err(|_| SegmentationError::FeatureOverflow(j))?;
        }
    }
    let mut segments = Vec::with_capacity(k);
    for (new, &old) in order.iter().enumerate() {
        let centre = &centres[old * f..(old + 1) * f];
        let mut centroid = Vec::with_capacity(f);
        for j in 0..f {
            let overflow = |_| SegmentationError::FeatureOverflow(j);
            let value = if sizes[old] > 0 {
                exact::div(totals[old * f + j], Decimal::from(sizes[old])).map_err(overflow)?
            } else {
                // Never expected (a reseeded centre keeps its point); de-standardise the centre.
                let s = scaling[j];
                exact::add(
                    s.mean,
                    exact::mul(fixed_to_decimal(i128::from(centre[j])), s.std_dev)
                        .map_err(overflow)?,
                )
                .map_err(overflow)?
            };
            centroid.push(value.round_dp_with_strategy(CENTROID_DP, ROUNDING));
        }
        segments.push(Segment {
            index: new,
            size: sizes[old],
            centroid,
            standardized_centroid: centre
                .iter()
                .map(|v| fixed_to_decimal(i128::from(*v)))
                .collect(),
        });
    }
    let assignments = labels
        .iter()
        .zip(&d2)
        .map(|(&c, &d)| SegmentAssignment {
            segment: new_index[c],
            // d is in units of 10⁻¹⁸; its root is in units of 10⁻⁹.
            distance: fixed_to_decimal(i128::try_from(isqrt_rounded(d)).unwrap_or(i128::MAX)),
        })
        .collect();
    Ok(Segmentation {
        assignments,
        segments,
        scaling,
        iterations,
        converged,
        start,
        // Units of 10⁻¹⁸ → 10⁻⁹, rounded half up (it is not negative).
        inertia: fixed_to_decimal(
            i128::try_from(
                inertia / 1_000_000_000 + u128::from(inertia % 1_000_000_000 >= 500_000_000),
            )
            .unwrap_or(i128::MAX),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn splitmix64_reference_values() {
        // Reference output of Vigna's splitmix64.c for seed 0.
        let mut r = SplitMix64::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(r.next_u64(), 0x06C4_5D18_8009_454F);
        let mut a = SplitMix64::new(42);
        let mut b = SplitMix64::new(42);
        assert!((0..100).all(|_| a.below(7) == b.below(7)));
        assert!((0..1000).all(|_| a.below(7) < 7));
        assert_eq!(a.below(0), 0);
    }

    /// Three obvious groups in two features (balance in yuan, transactions a month), listed
    /// interleaved so that input order gives no hint.
    fn three_groups() -> Vec<Vec<Decimal>> {
        let mut rows = Vec::new();
        for i in 0..30i64 {
            let jitter = Decimal::from(i % 5);
            let row = match i % 3 {
                0 => vec![dec!(1000) + jitter, dec!(2) + jitter / dec!(10)],
                1 => vec![dec!(500000) + jitter * dec!(100), dec!(40) + jitter],
                _ => vec![dec!(20000) + jitter * dec!(10), dec!(15) - jitter / dec!(5)],
            };
            rows.push(row);
        }
        rows
    }

    #[test]
    fn obvious_clusters_are_separated() {
        let rows = three_groups();
        let s = kmeans(&rows, &KMeansParams::new(3, 7)).unwrap();
        assert!(s.converged);
        assert_eq!(s.segments.len(), 3);
        assert!(s.segments.iter().all(|g| g.size == 10));
        // Every group lands in one segment, and the groups in different segments.
        let seg = |group: usize| -> Vec<usize> {
            (0..30)
                .filter(|i| i % 3 == group)
                .map(|i| s.assignments[i].segment)
                .collect()
        };
        let (a, b, c) = (seg(0), seg(1), seg(2));
        assert!(a.iter().all(|x| *x == a[0]));
        assert!(b.iter().all(|x| *x == b[0]));
        assert!(c.iter().all(|x| *x == c[0]));
        assert!(a[0] != b[0] && b[0] != c[0] && a[0] != c[0]);
        // Equal sizes: ordered by standardised centre, so the low-balance group comes first.
        assert_eq!((a[0], c[0], b[0]), (0, 1, 2));
        // Centroids in original units: group 0 balances 1000 + (0,1,2,3,4 each twice)/10 … mean
        // jitter = (0+1+2+3+4)/5 = 2 → 1002 and 2 + 0.2 = 2.2.
        assert_eq!(s.segments[0].centroid, vec![dec!(1002), dec!(2.2)]);
        assert_eq!(s.segments[2].centroid, vec![dec!(500200), dec!(42)]);
        assert_eq!(s.segments[1].centroid, vec![dec!(20020), dec!(14.6)]);
        // Distances are small inside a group (in standard deviations).
        assert!(s.assignments.iter().all(|a| a.distance < dec!(0.2)));
        // Scaling: mean balance (10×1002 + 10×20020 + 10×500200)/30 = 173,740.666…
        assert_eq!(s.scaling[0].mean.round_dp(6), dec!(173740.666667));
    }

    #[test]
    fn same_inputs_and_seed_give_the_same_output() {
        let rows = three_groups();
        for seed in [0, 1, 2, 99, u64::MAX] {
            let p = KMeansParams::new(4, seed);
            let first = kmeans(&rows, &p).unwrap();
            let again = kmeans(&rows, &p).unwrap();
            assert_eq!(first, again, "seed {seed}");
            assert_eq!(first.segments.iter().map(|s| s.size).sum::<usize>(), 30);
        }
        // The obvious 3-clustering is found from any seed, with the same numbering.
        let runs: Vec<Segmentation> = (0..10)
            .map(|seed| kmeans(&rows, &KMeansParams::new(3, seed)).unwrap())
            .collect();
        assert!(runs.iter().all(|r| r.assignments == runs[0].assignments));
    }

    #[test]
    fn distances_and_constant_features() {
        // One feature with values 0, 2, 10, 12 (mean 6, population sd √26 = 5.0990195…) and a
        // constant feature. z = ∓6/√26 = ∓1.176696811, ∓4/√26 = ∓0.784464541 (9 places).
        // k = 2 → {0, 2} and {10, 12} from any start.
        let rows = vec![
            vec![dec!(0), dec!(7)],
            vec![dec!(2), dec!(7)],
            vec![dec!(10), dec!(7)],
            vec![dec!(12), dec!(7)],
        ];
        for seed in 0..8 {
            let s = kmeans(&rows, &KMeansParams::new(2, seed)).unwrap();
            assert_eq!(s.scaling[1].std_dev, Decimal::ZERO);
            assert_eq!(s.scaling[0].mean, dec!(6));
            assert_eq!(s.scaling[0].std_dev.round_dp(9), dec!(5.099019514));
            // Equal sizes: the segment with the lower centre is 0.
            let segments: Vec<usize> = s.assignments.iter().map(|a| a.segment).collect();
            assert_eq!(segments, vec![0, 0, 1, 1], "seed {seed}");
            // Centre (−1.176696811 − 0.784464541)/2 = −0.980580676; each point is
            // 0.196116135 from it.
            assert!(
                s.assignments
                    .iter()
                    .all(|a| a.distance == dec!(0.196116135))
            );
            // 4 × 0.196116135² = 0.153846153629352900 → 0.153846154 (≈ 4/26).
            assert_eq!(s.inertia, dec!(0.153846154));
            assert_eq!(s.segments[0].centroid, vec![dec!(1), dec!(7)]);
            assert_eq!(s.segments[1].centroid, vec![dec!(11), dec!(7)]);
            assert_eq!(
                s.segments[0].standardized_centroid,
                vec![dec!(-0.980580676), dec!(0)]
            );
            assert_eq!(
                s.segments[1].standardized_centroid,
                vec![dec!(0.980580676), dec!(0)]
            );
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        let rows = three_groups();
        let p = |k| KMeansParams::new(k, 1);
        assert_eq!(
            kmeans::<Vec<Decimal>>(&[], &p(1)),
            Err(SegmentationError::ItemCount(0))
        );
        assert_eq!(
            kmeans(&rows, &p(0)),
            Err(SegmentationError::K { k: 0, max: 30 })
        );
        assert_eq!(
            kmeans(&rows, &p(31)),
            Err(SegmentationError::K { k: 31, max: 30 })
        );
        let mut ragged = rows.clone();
        ragged[4].push(dec!(1));
        assert_eq!(
            kmeans(&ragged, &p(2)).unwrap_err().to_string(),
            "item 4 has 3 features, expected 2"
        );
        assert_eq!(
            kmeans(&[Vec::<Decimal>::new()], &p(1)),
            Err(SegmentationError::FeatureCount(0))
        );
        let same = vec![vec![dec!(1)], vec![dec!(1)], vec![dec!(1)], vec![dec!(2)]];
        assert_eq!(
            kmeans(&same, &p(3)),
            Err(SegmentationError::TooFewDistinct { k: 3, found: 2 })
        );
        let starts = KMeansParams { starts: 0, ..p(2) };
        assert_eq!(kmeans(&rows, &starts), Err(SegmentationError::Starts(0)));
        let iters = KMeansParams {
            max_iterations: 0,
            ..p(2)
        };
        assert_eq!(kmeans(&rows, &iters), Err(SegmentationError::Iterations(0)));
        let tol = KMeansParams {
            tolerance: dec!(-1),
            ..p(2)
        };
        assert_eq!(
            kmeans(&rows, &tol),
            Err(SegmentationError::Tolerance(dec!(-1)))
        );
        // One iteration is allowed and reported as not converged when centres still move.
        let one = KMeansParams {
            max_iterations: 1,
            tolerance: Decimal::ZERO,
            ..p(5)
        };
        let r = kmeans(&rows, &one).unwrap();
        assert_eq!(r.iterations, 1);
        assert_eq!(r.assignments.len(), 30);
        assert_eq!(
            kmeans(&[vec![Decimal::MAX], vec![Decimal::MAX]], &p(1)),
            Err(SegmentationError::FeatureOverflow(0))
        );
    }

    /// 100,000 customers × 6 features: linear work per iteration (no pairwise distances).
    #[test]
    fn a_hundred_thousand_items() {
        let mut rng = SplitMix64::new(2024);
        let centres = [
            [1_000i64, 2, 1, 30, 5, 0],
            [50_000, 20, 3, 10, 40, 1],
            [800_000, 60, 6, 3, 80, 1],
            [5_000, 1, 1, 200, 2, 0],
        ];
        let rows: Vec<Vec<Decimal>> = (0..100_000)
            .map(|i| {
                let c = &centres[i % 4];
                c.iter()
                    .map(|v| {
                        let noise = i64::try_from(rng.below(11)).unwrap() - 5;
                        Decimal::from(*v) + Decimal::new(noise * v.abs().max(1), 2)
                    })
                    .collect()
            })
            .collect();
        let s = kmeans(&rows, &KMeansParams::new(4, 11)).unwrap();
        assert!(s.converged);
        let mut sizes: Vec<usize> = s.segments.iter().map(|g| g.size).collect();
        sizes.sort_unstable();
        assert_eq!(sizes, vec![25_000; 4]);
        for i in 0..8 {
            assert_eq!(s.assignments[i].segment, s.assignments[i + 4].segment);
        }
    }
}
