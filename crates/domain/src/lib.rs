//! The pure business rules and types of bankmkt (see `DOMAIN.md`). Nothing here does I/O, talks
//! to a database or cache, or reads the clock (except when minting a new time-ordered id): the
//! services convert their protobuf and storage types into these at the edge and keep the rules
//! here, where they are tested once.
//!
//! # Layout
//!
//! - [`ids`]: strongly typed entity ids (`CustomerId`, `BranchId`, …), UUID v7 newtypes.
//! - [`money`]: exact money ([`money::Money`], [`money::Currency`]), basis points, and the one
//!   rounding rule (half away from zero, to the minor unit, once) with actual/365 accruals.
//! - [`org`]: the organisation's vocabulary — branch levels, business lines, roles, branch codes.
//! - [`branch_tree`]: the validated branch tree: subtree tests, the chain up to head office,
//!   moves that can never break the tree, and materialised paths for prefix queries.
//! - [`customer`]: customer kinds, identity types and their check characters, lifecycle stages
//!   and allowed transitions, corporate and wealth tiers.
//! - [`calendar`]: the business calendar — timezone, business date, holidays and make-up working
//!   days, working-day arithmetic — and the monthly [`calendar::Period`].
//! - [`codes`]: stable snake_case string codes shared by every enum, and their parse error.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[macro_use]
pub mod codes;

pub mod branch_tree;
pub mod calendar;
pub mod customer;
pub mod ids;
pub mod money;
pub mod org;
