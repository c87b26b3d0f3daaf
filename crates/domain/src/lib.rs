//! The pure business rules and types of bankmkt (see `DOMAIN.md`). Nothing here does I/O, talks
//! to a database or cache, or reads the clock (except when minting a new time-ordered id): the
//! services convert their protobuf and storage types into these at the edge and keep the rules
//! here, where they are tested once.
//!
//! # Layout
//!
//! - [`access`]: who may read a customer and who sees personal data in clear.
//! - [`consent`]: PIPL consent per channel, do-not-contact, cross-line use, and the contact check.
//! - [`ids`]: strongly typed entity ids (`CustomerId`, `BranchId`, …), UUID v7 newtypes.
//! - [`money`]: exact money ([`money::Money`], [`money::Currency`]), basis points, and the one
//!   rounding rule (half away from zero, to the minor unit, once) with actual/365 accruals.
//! - [`ownership`]: customer ownership — the maker-checker rule (the maker never decides) and
//!   a request's allowed transitions, A ≠ B, effective-dated ownership intervals with as-of
//!   lookups, change planning, and bulk reassignment of a leaving manager's or closing branch's
//!   customers.
//! - [`org`]: the organisation's vocabulary — branch levels, business lines, roles, branch codes.
//! - [`branch_tree`]: the validated branch tree: subtree tests, the chain up to head office,
//!   moves that can never break the tree, and materialised paths for prefix queries.
//! - [`customer`]: customer kinds, identity types and their check characters, lifecycle stages
//!   and allowed transitions, corporate and wealth tiers.
//! - [`calendar`]: the business calendar — timezone, business date, holidays and make-up working
//!   days, working-day arithmetic — and the monthly [`calendar::Period`].
//! - [`codes`]: stable snake_case string codes shared by every enum, and their parse error.
//! - [`ahp`]: AHP pairwise-comparison matrices → principal-eigenvector weights, λmax, CI, CR
//!   against Saaty's random index (CR ≥ 0.10 refused), and weighted-factor lists summing to 1.
//! - [`value`]: the five value dimensions (dependence, contribution, growth, credit,
//!   influence): factor grades 0–100 weighted into dimension scores, a total and a grade.
//! - [`contribution`]: monthly comprehensive contribution from holdings snapshots (margin, fees,
//!   operating cost, before/after risk, capital charge, potential, linked retail) and its
//!   trailing-twelve-month and year-to-date sums.
//! - [`ge`]: GE-matrix classification: attractiveness and strength from 1–5 factor scores,
//!   low/medium/high bands, 9 cells, classes A/B/C.
//! - [`dormancy`]: silence score, depth, rank ratio and dormancy grade from transaction dates.
//! - [`rfm`]: recency/frequency/monetary quintile scores against cut points, and lifetime value.
//! - [`scoring`]: the data-derived factor grades of value scoring (which factors have a data
//!   source and their configurable scales), GE scores from grades, and evaluation windows.
//! - [`segmentation`]: deterministic seeded k-means (k-means++ with SplitMix64) over
//!   standardised features, in exact fixed-point arithmetic.
//! - [`segment_labels`]: segmentation features (value and behaviour), the default set, and
//!   segment labels such as "high value, low activity" from a standardised centroid.
//! - [`tiers`]: versioned corporate tier rules evaluated top-down, the retail wealth-tier basis,
//!   and tier change lists (upgrade, downgrade, entry, exit) with reasons.
//! - [`masking`]: display masking of identity numbers, phones, accounts, names and e-mails.
//! - [`relationship`]: relationship types between customers, the kinds each end allows, link
//!   shape rules, and the bounded, cycle-safe breadth-first traversal over a given adjacency.
//! - [`pricing`]: products, list prices and fee schedules, reference rates, regulatory limits,
//!   FX, authority bands and concessions, relationship pricing rules, bundles, quote economics
//!   (EVA, RAROC) and verdicts, simulation and covenants (DOMAIN.md §4).
//! - [`coordination`]: linked marketing (DOMAIN.md §5) — opportunity stages and transitions,
//!   units and shares, effective-dated share amendments, claims and take-over, join requests and
//!   internal bidding, referrals and referrer scores, members and their 360 read, tasks and
//!   playbooks on the business calendar, cadence and SLA rules with the overdue computation,
//!   activities and their per-channel consent check.
//! - [`lifecycle`]: lifecycle transition checks (the allowed next stages), the problem-customer
//!   book and ratio in basis points, the alert threshold (default 3%) and roll-ups over the tree.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
pub mod codes;

mod exact;

pub mod access;
pub mod ahp;
pub mod branch_tree;
pub mod calendar;
pub mod consent;
pub mod contribution;
pub mod coordination;
pub mod customer;
pub mod dormancy;
pub mod ge;
pub mod ids;
pub mod lifecycle;
pub mod masking;
pub mod money;
pub mod org;
pub mod ownership;
pub mod pricing;
pub mod relationship;
pub mod rfm;
pub mod scoring;
pub mod segment_labels;
pub mod segmentation;
pub mod tiers;
pub mod value;
