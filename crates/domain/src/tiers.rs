//! Tier evaluation and tier change lists (DOMAIN.md §2 "Corporate tier" and "Retail wealth
//! tier", seed 000 篇3 and 001). This module owns the versioned corporate tier rules — per
//! tier at most one [`TierRule`] of minimum conditions on the value score or a dimension score,
//! credit rating, scale (total assets, annual revenue), prospects, trailing-twelve-month
//! contribution, competitive intensity and cross-region operation, tried **top-down** from head
//! office; the first rule whose conditions all hold gives the tier, and a customer meeting none
//! is *unlisted* (`None`) — the retail wealth tier from the day-weighted average AUM of the
//! basis months (default 3) against the existing
//! [`WealthTierThresholds`], and the change list built
//! from (current, evaluated) pairs: upgrades, downgrades, entries and exits (unchanged
//! customers are left out), each with a human-readable reason naming the deciding conditions,
//! e.g. `contribution TTM CNY 1,800,000.00 ≥ 1,500,000.00 for tier-2 branch`. Thresholds are
//! inclusive: a value equal to the minimum meets it.

use std::collections::BTreeMap;
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::calendar::Period;
use crate::customer::{CorporateTier, WealthTier, WealthTierThresholds};
use crate::exact::{self, Overflow, clip};
use crate::money::{Currency, Money, MoneyError};
use crate::value::ValueDimension;

code_enum! {
    /// The kind of a tier change.
    pub enum TierChangeKind {
        /// To a higher tier.
        Upgrade => "upgrade",
        /// To a lower tier.
        Downgrade => "downgrade",
        /// Onto a tier list from none.
        Entry => "entry",
        /// Off every tier list.
        Exit => "exit",
    }
}

code_enum! {
    /// A credit rating on the usual AAA … D scale with notches, best first.
    pub enum CreditRating {
        /// AAA.
        Aaa => "aaa",
        /// AA+.
        AaPlus => "aa_plus",
        /// AA.
        Aa => "aa",
        /// AA−.
        AaMinus => "aa_minus",
        /// A+.
        APlus => "a_plus",
        /// A.
        A => "a",
        /// A−.
        AMinus => "a_minus",
        /// BBB+.
        BbbPlus => "bbb_plus",
        /// BBB.
        Bbb => "bbb",
        /// BBB−.
        BbbMinus => "bbb_minus",
        /// BB+.
        BbPlus => "bb_plus",
        /// BB.
        Bb => "bb",
        /// BB−.
        BbMinus => "bb_minus",
        /// B+.
        BPlus => "b_plus",
        /// B.
        B => "b",
        /// B−.
        BMinus => "b_minus",
        /// CCC.
        Ccc => "ccc",
        /// CC.
        Cc => "cc",
        /// C.
        C => "c",
        /// D (default).
        D => "d",
    }
}

impl CreditRating {
    /// The rating as written, e.g. `AA-`.
    pub fn label(self) -> String {
        let code = self.as_str();
        let (base, notch) = if let Some(b) = code.strip_suffix("_plus") {
            (b, "+")
        } else if let Some(b) = code.strip_suffix("_minus") {
            (b, "-")
        } else {
            (code, "")
        };
        format!("{}{notch}", base.to_uppercase())
    }

    /// Whether this rating is at least as good as `min`.
    pub fn at_least(self, min: CreditRating) -> bool {
        // Declared best first.
        self <= min
    }
}

code_enum! {
    /// A customer's prospects (发展前景), best first.
    pub enum ProspectsGrade {
        /// Strong.
        Strong => "strong",
        /// Good.
        Good => "good",
        /// Average.
        Average => "average",
        /// Weak.
        Weak => "weak",
    }
}

impl ProspectsGrade {
    /// Whether these prospects are at least `min`.
    pub fn at_least(self, min: ProspectsGrade) -> bool {
        self <= min
    }
}

code_enum! {
    /// Competitive intensity (竞争强度) around a customer: how hard other banks compete for it.
    /// `Ord`: low < medium < high.
    pub enum Intensity {
        /// Low.
        Low => "low",
        /// Medium.
        Medium => "medium",
        /// High.
        High => "high",
    }
}

/// A tier scheme's tiers, ordered by seniority.
pub trait Tier: Copy + Eq + fmt::Debug {
    /// Higher is more senior (head office, private banking).
    fn seniority(self) -> u8;
    /// The name used in reasons, e.g. `tier-2 branch`.
    fn label(self) -> &'static str;
}

impl Tier for CorporateTier {
    fn seniority(self) -> u8 {
        match self {
            CorporateTier::HeadOffice => 4,
            CorporateTier::Tier1Branch => 3,
            CorporateTier::Tier2Branch => 2,
            CorporateTier::SubBranch => 1,
        }
    }

    fn label(self) -> &'static str {
        match self {
            CorporateTier::HeadOffice => "head office",
            CorporateTier::Tier1Branch => "tier-1 branch",
            CorporateTier::Tier2Branch => "tier-2 branch",
            CorporateTier::SubBranch => "sub-branch",
        }
    }
}

impl Tier for WealthTier {
    fn seniority(self) -> u8 {
        match self {
            WealthTier::Mass => 1,
            WealthTier::Vip => 2,
            WealthTier::Platinum => 3,
            WealthTier::PrivateBanking => 4,
        }
    }

    fn label(self) -> &'static str {
        match self {
            WealthTier::Mass => "mass",
            WealthTier::Vip => "VIP",
            WealthTier::Platinum => "platinum",
            WealthTier::PrivateBanking => "private banking",
        }
    }
}

/// Errors of tier rules and inputs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TierError {
    /// A rule-set version that is empty, over 64 characters or has control characters.
    #[error("invalid tier rule-set version {0:?}: 1 to 64 printable characters")]
    Version(String),
    /// Two rules for one tier.
    #[error("tier {0} has more than one rule")]
    DuplicateTier(CorporateTier),
    /// A condition listed twice in one rule.
    #[error("the {tier} rule lists the {condition} condition twice")]
    DuplicateCondition {
        /// The tier.
        tier: CorporateTier,
        /// The condition.
        condition: &'static str,
    },
    /// A threshold that cannot be met or is in the wrong currency.
    #[error("the {tier} rule's {condition} threshold {value} is invalid: {why}")]
    Threshold {
        /// The tier.
        tier: CorporateTier,
        /// The condition.
        condition: &'static str,
        /// The threshold as text.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// A fact in another currency than the rules'.
    #[error("{field} is in {actual}, expected {expected}")]
    Currency {
        /// The fact.
        field: &'static str,
        /// Its currency.
        actual: Currency,
        /// The rules' currency.
        expected: Currency,
    },
    /// A negative AUM.
    #[error("average AUM of {period} is negative: {amount}")]
    NegativeAum {
        /// The month.
        period: Period,
        /// The amount.
        amount: Money,
    },
    /// A month given twice.
    #[error("month {0} is given twice")]
    DuplicateMonth(Period),
    /// A basis of 0 or more than 36 months, or one that runs before representable dates.
    #[error("a wealth basis of {0} months is outside 1..=36")]
    BasisMonths(u32),
    /// Money arithmetic failed.
    #[error(transparent)]
    Money(#[from] MoneyError),
}

impl From<Overflow> for TierError {
    fn from(_: Overflow) -> Self {
        TierError::Money(MoneyError::Overflow)
    }
}

/// One minimum condition of a corporate tier rule. Every listed condition must hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TierCondition {
    /// Five-dimension total at least this (0–100).
    MinValueScore(Decimal),
    /// A dimension's score at least `min` (e.g. credit for credit standing, growth for
    /// prospects).
    MinDimensionScore {
        /// The dimension.
        dimension: ValueDimension,
        /// The minimum, 0–100.
        min: Decimal,
    },
    /// Credit rating at least this good.
    MinCreditRating(CreditRating),
    /// Total assets (scale) at least this.
    MinTotalAssets(Money),
    /// Annual revenue (scale) at least this.
    MinAnnualRevenue(Money),
    /// Prospects at least this good.
    MinProspects(ProspectsGrade),
    /// Trailing-twelve-month after-risk contribution at least this.
    MinTtmContribution(Money),
    /// Competitive intensity at least this.
    MinCompetitiveIntensity(Intensity),
    /// Operates across regions.
    CrossRegion,
}

impl TierCondition {
    /// The condition's name, e.g. `contribution TTM`.
    pub fn name(&self) -> &'static str {
        match self {
            TierCondition::MinValueScore(_) => "value score",
            TierCondition::MinDimensionScore { .. } => "dimension score",
            TierCondition::MinCreditRating(_) => "credit rating",
            TierCondition::MinTotalAssets(_) => "total assets",
            TierCondition::MinAnnualRevenue(_) => "annual revenue",
            TierCondition::MinProspects(_) => "prospects",
            TierCondition::MinTtmContribution(_) => "contribution TTM",
            TierCondition::MinCompetitiveIntensity(_) => "competitive intensity",
            TierCondition::CrossRegion => "cross-region operation",
        }
    }

    /// Identifies duplicates: dimension scores count once per dimension.
    fn slot(&self) -> (&'static str, Option<ValueDimension>) {
        match self {
            TierCondition::MinDimensionScore { dimension, .. } => (self.name(), Some(*dimension)),
            _ => (self.name(), None),
        }
    }
}

/// The minimum conditions of one corporate tier.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierRule {
    /// The tier granted.
    pub tier: CorporateTier,
    /// The conditions; all must hold. An empty list grants the tier to every customer that
    /// reaches the rule.
    pub conditions: Vec<TierCondition>,
}

/// What is known of a corporate customer for its tier (missing facts fail their condition).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CorporateFacts {
    /// The five-dimension total.
    pub value_score: Option<Decimal>,
    /// The dimension scores.
    pub dimension_scores: BTreeMap<ValueDimension, Decimal>,
    /// The credit rating.
    pub credit_rating: Option<CreditRating>,
    /// Total assets.
    pub total_assets: Option<Money>,
    /// Annual revenue.
    pub annual_revenue: Option<Money>,
    /// Prospects.
    pub prospects: Option<ProspectsGrade>,
    /// Trailing-twelve-month after-risk contribution.
    pub ttm_contribution: Option<Money>,
    /// Competitive intensity.
    pub competitive_intensity: Option<Intensity>,
    /// Whether the customer operates across regions.
    pub cross_region: bool,
}

/// A validated, versioned corporate tier rule set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CorporateTierRules {
    version: String,
    currency: Currency,
    /// Sorted top-down (head office first).
    rules: Vec<TierRule>,
}

fn check_money(
    tier: CorporateTier,
    condition: &'static str,
    m: Money,
    currency: Currency,
) -> Result<(), TierError> {
    let bad = |why| TierError::Threshold {
        tier,
        condition,
        value: m.to_string(),
        why,
    };
    if m.currency() != currency {
        return Err(bad("not in the rules' currency"));
    }
    if m.is_negative() {
        return Err(bad("negative"));
    }
    Ok(())
}

fn check_score(tier: CorporateTier, condition: &'static str, d: Decimal) -> Result<(), TierError> {
    if d < Decimal::ZERO || d > Decimal::ONE_HUNDRED {
        return Err(TierError::Threshold {
            tier,
            condition,
            value: d.to_string(),
            why: "outside 0..=100",
        });
    }
    Ok(())
}

impl CorporateTierRules {
    /// Validates a rule set: a version (1–64 printable characters), at most one rule per tier,
    /// no condition twice in a rule, money thresholds non-negative in `currency`, score
    /// thresholds within 0..=100. The rules may be listed in any order; they are tried
    /// top-down.
    pub fn new(
        version: impl Into<String>,
        currency: Currency,
        rules: Vec<TierRule>,
    ) -> Result<Self, TierError> {
        let version = version.into();
        let len = version.chars().count();
        if len == 0 || len > 64 || version.chars().any(char::is_control) {
            return Err(TierError::Version(clip(&version)));
        }
        for (i, rule) in rules.iter().enumerate() {
            let tier = rule.tier;
            if rules[..i].iter().any(|r| r.tier == tier) {
                return Err(TierError::DuplicateTier(tier));
            }
            for (j, c) in rule.conditions.iter().enumerate() {
                if rule.conditions[..j].iter().any(|d| d.slot() == c.slot()) {
                    return Err(TierError::DuplicateCondition {
                        tier,
                        condition: c.name(),
                    });
                }
                match c {
                    TierCondition::MinValueScore(d) => check_score(tier, c.name(), *d)?,
                    TierCondition::MinDimensionScore { min, .. } => {
                        check_score(tier, c.name(), *min)?
                    }
                    TierCondition::MinTotalAssets(m)
                    | TierCondition::MinAnnualRevenue(m)
                    | TierCondition::MinTtmContribution(m) => {
                        check_money(tier, c.name(), *m, currency)?
                    }
                    _ => {}
                }
            }
        }
        let mut rules = rules;
        rules.sort_by_key(|r| std::cmp::Reverse(r.tier.seniority()));
        Ok(Self {
            version,
            currency,
            rules,
        })
    }

    /// The version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The currency of money thresholds and facts.
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The rules, head office first.
    pub fn rules(&self) -> &[TierRule] {
        &self.rules
    }

    /// Checks every rule against `facts`; the tier is that of the first rule met, top-down.
    pub fn evaluate(&self, facts: &CorporateFacts) -> Result<CorporateTierEvaluation, TierError> {
        for (field, m) in [
            ("total_assets", facts.total_assets),
            ("annual_revenue", facts.annual_revenue),
            ("ttm_contribution", facts.ttm_contribution),
        ] {
            if let Some(m) = m
                && m.currency() != self.currency
            {
                return Err(TierError::Currency {
                    field,
                    actual: m.currency(),
                    expected: self.currency,
                });
            }
        }
        let rules: Vec<RuleCheck> = self
            .rules
            .iter()
            .map(|r| RuleCheck {
                tier: r.tier,
                checks: r.conditions.iter().map(|c| check(c, facts)).collect(),
            })
            .collect();
        let tier = rules.iter().find(|r| r.met()).map(|r| r.tier);
        Ok(CorporateTierEvaluation {
            tier,
            rule_set_version: self.version.clone(),
            rules,
        })
    }

    /// Evaluates `facts` and explains the result against the current tier.
    pub fn outcome(
        &self,
        facts: &CorporateFacts,
        current: Option<CorporateTier>,
    ) -> Result<TierOutcome<CorporateTier>, TierError> {
        Ok(self.evaluate(facts)?.outcome(current))
    }
}

/// A money amount with thousands separators and the currency's decimals:
/// `1800000.5` → `1,800,000.50`.
pub fn grouped(m: Money) -> String {
    let digits = format!(
        "{:.*}",
        m.currency().minor_exponent() as usize,
        m.to_decimal().abs()
    );
    let (int, frac) = digits.split_once('.').unwrap_or((&digits, ""));
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if !frac.is_empty() {
        out.push('.');
        out.push_str(frac);
    }
    if m.is_negative() {
        format!("-{out}")
    } else {
        out
    }
}

fn with_currency(m: Money) -> String {
    format!("{} {}", m.currency(), grouped(m))
}

fn compare<T: fmt::Display>(name: &str, actual: Option<T>, min: T, met: bool) -> String {
    match actual {
        None => format!("{name} unknown, {min} required"),
        Some(a) => format!("{name} {a} {} {min}", if met { "≥" } else { "<" }),
    }
}

fn check(c: &TierCondition, facts: &CorporateFacts) -> ConditionCheck {
    let money = |name: &str, actual: Option<Money>, min: Money| {
        let met = actual.is_some_and(|a| a.minor_units() >= min.minor_units());
        let text = match actual {
            None => format!("{name} unknown, {} required", grouped(min)),
            Some(a) => format!(
                "{name} {} {} {}",
                with_currency(a),
                if met { "≥" } else { "<" },
                grouped(min)
            ),
        };
        (met, text)
    };
    let (met, text) = match c {
        TierCondition::MinValueScore(min) => {
            let met = facts.value_score.is_some_and(|v| v >= *min);
            (met, compare(c.name(), facts.value_score, *min, met))
        }
        TierCondition::MinDimensionScore { dimension, min } => {
            let actual = facts.dimension_scores.get(dimension).copied();
            let met = actual.is_some_and(|v| v >= *min);
            (
                met,
                compare(&format!("{dimension} score"), actual, *min, met),
            )
        }
        TierCondition::MinCreditRating(min) => {
            let met = facts.credit_rating.is_some_and(|r| r.at_least(*min));
            let label = facts.credit_rating.map(CreditRating::label);
            (met, compare(c.name(), label, min.label(), met))
        }
        TierCondition::MinTotalAssets(min) => money(c.name(), facts.total_assets, *min),
        TierCondition::MinAnnualRevenue(min) => money(c.name(), facts.annual_revenue, *min),
        TierCondition::MinTtmContribution(min) => money(c.name(), facts.ttm_contribution, *min),
        TierCondition::MinProspects(min) => {
            let met = facts.prospects.is_some_and(|p| p.at_least(*min));
            (met, compare(c.name(), facts.prospects, *min, met))
        }
        TierCondition::MinCompetitiveIntensity(min) => {
            let met = facts.competitive_intensity.is_some_and(|i| i >= *min);
            (
                met,
                compare(c.name(), facts.competitive_intensity, *min, met),
            )
        }
        TierCondition::CrossRegion => {
            let met = facts.cross_region;
            let text = if met {
                "operates across regions"
            } else {
                "does not operate across regions"
            };
            (met, text.to_owned())
        }
    };
    ConditionCheck {
        condition: c.clone(),
        met,
        text,
    }
}

/// One condition checked against a customer's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionCheck {
    /// The condition.
    pub condition: TierCondition,
    /// Whether it holds.
    pub met: bool,
    /// The check in words, e.g. `contribution TTM CNY 1,800,000.00 ≥ 1,500,000.00`.
    pub text: String,
}

/// One rule checked against a customer's facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleCheck {
    /// The rule's tier.
    pub tier: CorporateTier,
    /// Its conditions, checked.
    pub checks: Vec<ConditionCheck>,
}

impl RuleCheck {
    /// Whether every condition holds.
    pub fn met(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }

    /// The conditions met, e.g. `credit rating AA ≥ A and contribution TTM … for tier-1
    /// branch`.
    fn met_text(&self) -> String {
        if self.checks.is_empty() {
            return format!("no minimum conditions for {}", self.tier.label());
        }
        let texts: Vec<&str> = self.checks.iter().map(|c| c.text.as_str()).collect();
        format!("{} for {}", texts.join(" and "), self.tier.label())
    }

    /// The conditions failed.
    fn failed_text(&self) -> String {
        let texts: Vec<&str> = self
            .checks
            .iter()
            .filter(|c| !c.met)
            .map(|c| c.text.as_str())
            .collect();
        format!("{} for {}", texts.join(" and "), self.tier.label())
    }
}

/// A corporate customer's evaluation under one rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorporateTierEvaluation {
    /// The tier of the first rule met, top-down; `None` = unlisted.
    pub tier: Option<CorporateTier>,
    /// The rule set's version, for the record.
    pub rule_set_version: String,
    /// Every rule, checked, head office first.
    pub rules: Vec<RuleCheck>,
}

impl CorporateTierEvaluation {
    fn rule(&self, tier: CorporateTier) -> Option<&RuleCheck> {
        self.rules.iter().find(|r| r.tier == tier)
    }

    /// Why the customer no longer qualifies for `tier`.
    fn lost(&self, tier: CorporateTier) -> String {
        match self.rule(tier) {
            Some(r) if !r.met() => r.failed_text(),
            // Met but a higher rule was met first cannot be a loss; no rule at all:
            _ => format!(
                "rule set {} has no rule for {}",
                self.rule_set_version,
                tier.label()
            ),
        }
    }

    /// Why the customer qualifies for its evaluated tier.
    fn gained(&self) -> String {
        match self.tier.and_then(|t| self.rule(t)) {
            Some(r) => r.met_text(),
            None => "no tier rule met".to_owned(),
        }
    }

    /// The change from `current`, with its reason (see [`TierOutcome`]).
    pub fn outcome(&self, current: Option<CorporateTier>) -> TierOutcome<CorporateTier> {
        let kind = change_kind(current, self.tier);
        let reason = match (kind, current) {
            (Some(TierChangeKind::Downgrade), Some(c)) => {
                format!("{}; {}", self.lost(c), self.gained())
            }
            (Some(TierChangeKind::Exit), Some(c)) => {
                format!("{}; no tier rule met", self.lost(c))
            }
            _ => self.gained(),
        };
        TierOutcome {
            current,
            evaluated: self.tier,
            kind,
            reason,
        }
    }
}

/// An evaluated tier against the current one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierOutcome<T> {
    /// The tier now (`None`: no tier, or unlisted).
    pub current: Option<T>,
    /// The tier evaluated.
    pub evaluated: Option<T>,
    /// The change; `None` when unchanged.
    pub kind: Option<TierChangeKind>,
    /// Why: for an upgrade or entry (and an unchanged tier) the conditions met for the new
    /// tier; for a downgrade the conditions failed for the current tier, then those met for
    /// the new one; for an exit the conditions failed for the current tier.
    pub reason: String,
}

/// The kind of change from `current` to `evaluated`; `None` when they are equal.
pub fn change_kind<T: Tier>(current: Option<T>, evaluated: Option<T>) -> Option<TierChangeKind> {
    match (current, evaluated) {
        (None, None) => None,
        (None, Some(_)) => Some(TierChangeKind::Entry),
        (Some(_), None) => Some(TierChangeKind::Exit),
        (Some(c), Some(e)) if e.seniority() > c.seniority() => Some(TierChangeKind::Upgrade),
        (Some(c), Some(e)) if e.seniority() < c.seniority() => Some(TierChangeKind::Downgrade),
        _ => None,
    }
}

/// One line of a change list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierChange<K, T> {
    /// Whose tier changes (e.g. a customer id).
    pub key: K,
    /// The kind of change.
    pub kind: TierChangeKind,
    /// The tier before.
    pub from: Option<T>,
    /// The tier after.
    pub to: Option<T>,
    /// Why.
    pub reason: String,
}

/// The change list of a set of outcomes, in input order, leaving out the unchanged.
pub fn change_list<K, T: Tier>(
    outcomes: impl IntoIterator<Item = (K, TierOutcome<T>)>,
) -> Vec<TierChange<K, T>> {
    outcomes
        .into_iter()
        .filter_map(|(key, o)| {
            o.kind.map(|kind| TierChange {
                key,
                kind,
                from: o.current,
                to: o.evaluated,
                reason: o.reason,
            })
        })
        .collect()
}

/// The counts of a change list by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeCounts {
    /// Upgrades.
    pub upgrades: usize,
    /// Downgrades.
    pub downgrades: usize,
    /// Entries.
    pub entries: usize,
    /// Exits.
    pub exits: usize,
}

impl ChangeCounts {
    /// Counts the changes of a list.
    pub fn of<K, T>(changes: &[TierChange<K, T>]) -> Self {
        let mut c = Self::default();
        for change in changes {
            match change.kind {
                TierChangeKind::Upgrade => c.upgrades += 1,
                TierChangeKind::Downgrade => c.downgrades += 1,
                TierChangeKind::Entry => c.entries += 1,
                TierChangeKind::Exit => c.exits += 1,
            }
        }
        c
    }
}

/// The default number of months of the wealth basis.
pub const DEFAULT_BASIS_MONTHS: u32 = 3;

/// The wealth-tier basis: the average daily AUM (deposits plus wealth products) over the
/// `basis_months` months ending with `as_of`, from each month's average daily balance,
/// weighted by the month's days: Σ ADBₘ × dₘ / Σ dₘ, rounded once to the minor unit with
/// [`ROUNDING`](crate::money::ROUNDING). A month
/// without a figure counts as a zero balance; months outside the basis are ignored.
pub fn wealth_basis(
    as_of: Period,
    monthly_average_aum: &[(Period, Money)],
    basis_months: u32,
    currency: Currency,
) -> Result<Money, TierError> {
    if basis_months == 0 || basis_months > 36 {
        return Err(TierError::BasisMonths(basis_months));
    }
    let mut first = as_of;
    for _ in 1..basis_months {
        first = first.prev().ok_or(TierError::BasisMonths(basis_months))?;
    }
    let mut seen: Vec<Period> = Vec::new();
    let mut weighted = Decimal::ZERO;
    for &(period, amount) in monthly_average_aum {
        if period < first || period > as_of {
            continue;
        }
        if seen.contains(&period) {
            return Err(TierError::DuplicateMonth(period));
        }
        seen.push(period);
        if amount.currency() != currency {
            return Err(TierError::Currency {
                field: "average AUM",
                actual: amount.currency(),
                expected: currency,
            });
        }
        if amount.is_negative() {
            return Err(TierError::NegativeAum { period, amount });
        }
        let days = Decimal::from(period.days());
        weighted = exact::add(weighted, exact::mul(amount.to_decimal(), days)?)?;
    }
    let mut days = 0u32;
    let mut p = first;
    loop {
        days += p.days();
        if p >= as_of {
            break;
        }
        p = p.next().ok_or(TierError::BasisMonths(basis_months))?;
    }
    let average = exact::div(weighted, Decimal::from(days))?;
    // Rounded once, with the crate's ROUNDING rule.
    Ok(Money::from_decimal(currency, average)?)
}

/// The wealth tier of a basis AUM (see [`wealth_basis`]) against the thresholds, explained
/// against the current tier (`None`: not tiered yet; every evaluated customer gets a tier, at
/// least mass).
pub fn wealth_outcome(
    thresholds: &WealthTierThresholds,
    basis_aum: Money,
    basis_months: u32,
    current: Option<WealthTier>,
) -> Result<TierOutcome<WealthTier>, TierError> {
    let evaluated = thresholds.tier_for(basis_aum)?;
    let basis = format!(
        "{basis_months}-month average AUM {}",
        with_currency(basis_aum)
    );
    let reached = |tier: WealthTier| match thresholds.threshold(tier) {
        Some(min) => format!("{basis} ≥ {} for {}", grouped(min), tier.label()),
        None => {
            let vip = thresholds
                .threshold(WealthTier::Vip)
                .map_or_else(String::new, grouped);
            format!("{basis} < {vip} for {}", WealthTier::Vip.label())
        }
    };
    let kind = change_kind(current, Some(evaluated));
    let reason = match (kind, current) {
        (Some(TierChangeKind::Downgrade), Some(c)) => {
            let min = thresholds.threshold(c).map_or_else(String::new, grouped);
            let lost = format!("{basis} < {min} for {}", c.label());
            match thresholds.threshold(evaluated) {
                Some(m) => format!("{lost}; ≥ {} for {}", grouped(m), evaluated.label()),
                None => lost,
            }
        }
        _ => reached(evaluated),
    };
    Ok(TierOutcome {
        current,
        evaluated: Some(evaluated),
        kind,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use CorporateTier::*;
    use TierChangeKind::*;

    fn cny(yuan: i64) -> Money {
        Money::from_minor(Currency::CNY, yuan * 100)
    }

    fn rules() -> CorporateTierRules {
        CorporateTierRules::new(
            "2025Q3",
            Currency::CNY,
            vec![
                // Listed bottom-up on purpose: they are tried top-down.
                TierRule {
                    tier: SubBranch,
                    conditions: vec![TierCondition::MinTtmContribution(cny(100_000))],
                },
                TierRule {
                    tier: Tier2Branch,
                    conditions: vec![TierCondition::MinTtmContribution(cny(1_500_000))],
                },
                TierRule {
                    tier: Tier1Branch,
                    conditions: vec![
                        TierCondition::MinCreditRating(CreditRating::A),
                        TierCondition::MinAnnualRevenue(cny(5_000_000_000)),
                        TierCondition::MinTtmContribution(cny(10_000_000)),
                    ],
                },
                TierRule {
                    tier: HeadOffice,
                    conditions: vec![
                        TierCondition::MinCreditRating(CreditRating::Aa),
                        TierCondition::MinTotalAssets(cny(50_000_000_000)),
                        TierCondition::MinTtmContribution(cny(50_000_000)),
                        TierCondition::CrossRegion,
                    ],
                },
            ],
        )
        .unwrap()
    }

    fn ttm(yuan: i64) -> CorporateFacts {
        CorporateFacts {
            ttm_contribution: Some(cny(yuan)),
            ..CorporateFacts::default()
        }
    }

    #[test]
    fn corporate_tiers_top_down_and_the_change_list() {
        let r = rules();
        assert_eq!(r.rules()[0].tier, HeadOffice);
        let big = CorporateFacts {
            credit_rating: Some(CreditRating::AaPlus),
            total_assets: Some(cny(80_000_000_000)),
            annual_revenue: Some(cny(30_000_000_000)),
            ttm_contribution: Some(cny(62_000_000)),
            cross_region: true,
            ..CorporateFacts::default()
        };
        let tier1 = CorporateFacts {
            credit_rating: Some(CreditRating::A),
            annual_revenue: Some(cny(6_000_000_000)),
            ttm_contribution: Some(cny(8_000_000)),
            ..CorporateFacts::default()
        };
        let customers = [
            ("c1", Some(SubBranch), ttm(1_800_000)),
            ("c2", Some(Tier1Branch), tier1),
            ("c3", None, ttm(200_000)),
            ("c4", Some(Tier2Branch), ttm(50_000)),
            ("c5", Some(Tier2Branch), ttm(2_000_000)),
            ("c6", None, ttm(10_000)),
            ("c7", Some(Tier1Branch), big),
        ];
        let outcomes: Vec<(&str, TierOutcome<CorporateTier>)> = customers
            .iter()
            .map(|(k, current, facts)| (*k, r.outcome(facts, *current).unwrap()))
            .collect();
        assert_eq!(
            outcomes[4].1.reason,
            "contribution TTM CNY 2,000,000.00 ≥ 1,500,000.00 for tier-2 branch"
        );
        let list = change_list(outcomes);
        let summary: Vec<(
            &str,
            TierChangeKind,
            Option<CorporateTier>,
            Option<CorporateTier>,
        )> = list.iter().map(|c| (c.key, c.kind, c.from, c.to)).collect();
        assert_eq!(
            summary,
            vec![
                ("c1", Upgrade, Some(SubBranch), Some(Tier2Branch)),
                ("c2", Downgrade, Some(Tier1Branch), Some(Tier2Branch)),
                ("c3", Entry, None, Some(SubBranch)),
                ("c4", Exit, Some(Tier2Branch), None),
                ("c7", Upgrade, Some(Tier1Branch), Some(HeadOffice)),
            ]
        );
        assert_eq!(
            list[0].reason,
            "contribution TTM CNY 1,800,000.00 ≥ 1,500,000.00 for tier-2 branch"
        );
        assert_eq!(
            list[1].reason,
            "contribution TTM CNY 8,000,000.00 < 10,000,000.00 for tier-1 branch; \
             contribution TTM CNY 8,000,000.00 ≥ 1,500,000.00 for tier-2 branch"
        );
        assert_eq!(
            list[2].reason,
            "contribution TTM CNY 200,000.00 ≥ 100,000.00 for sub-branch"
        );
        assert_eq!(
            list[3].reason,
            "contribution TTM CNY 50,000.00 < 1,500,000.00 for tier-2 branch; no tier rule met"
        );
        assert_eq!(
            list[4].reason,
            "credit rating AA+ ≥ AA and total assets CNY 80,000,000,000.00 ≥ 50,000,000,000.00 \
             and contribution TTM CNY 62,000,000.00 ≥ 50,000,000.00 and operates across regions \
             for head office"
        );
        assert_eq!(
            ChangeCounts::of(&list),
            ChangeCounts {
                upgrades: 2,
                downgrades: 1,
                entries: 1,
                exits: 1
            }
        );
    }

    #[test]
    fn missing_facts_fail_and_every_condition_kind_is_checked() {
        let r = CorporateTierRules::new(
            "v2",
            Currency::CNY,
            vec![TierRule {
                tier: Tier1Branch,
                conditions: vec![
                    TierCondition::MinValueScore(Decimal::from(80)),
                    TierCondition::MinDimensionScore {
                        dimension: ValueDimension::Credit,
                        min: Decimal::from(85),
                    },
                    TierCondition::MinProspects(ProspectsGrade::Good),
                    TierCondition::MinCompetitiveIntensity(Intensity::Medium),
                    TierCondition::MinTotalAssets(cny(1_000)),
                    TierCondition::CrossRegion,
                ],
            }],
        )
        .unwrap();
        let facts = CorporateFacts {
            value_score: Some(Decimal::new(8250, 2)),
            dimension_scores: [(ValueDimension::Credit, Decimal::from(80))].into(),
            prospects: Some(ProspectsGrade::Strong),
            competitive_intensity: Some(Intensity::High),
            ..CorporateFacts::default()
        };
        let e = r.evaluate(&facts).unwrap();
        assert_eq!(e.tier, None);
        assert_eq!(e.rule_set_version, "v2");
        let texts: Vec<(&str, bool)> = e.rules[0]
            .checks
            .iter()
            .map(|c| (c.text.as_str(), c.met))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("value score 82.50 ≥ 80", true),
                ("credit score 80 < 85", false),
                ("prospects strong ≥ good", true),
                ("competitive intensity high ≥ medium", true),
                ("total assets unknown, 1,000.00 required", false),
                ("does not operate across regions", false),
            ]
        );
        let o = e.outcome(Some(Tier1Branch));
        assert_eq!(o.kind, Some(Exit));
        assert_eq!(
            o.reason,
            "credit score 80 < 85 and total assets unknown, 1,000.00 required and does not \
             operate across regions for tier-1 branch; no tier rule met"
        );
        // A current tier without a rule in this rule set.
        let o = e.outcome(Some(HeadOffice));
        assert_eq!(
            o.reason,
            "rule set v2 has no rule for head office; no tier rule met"
        );
        // Unchanged unlisted.
        assert_eq!(e.outcome(None).kind, None);
        assert_eq!(CreditRating::BbbMinus.label(), "BBB-");
        assert!(CreditRating::Aaa.at_least(CreditRating::A));
        assert!(!CreditRating::Bbb.at_least(CreditRating::AMinus));
    }

    #[test]
    fn rule_sets_are_validated() {
        let rule = |tier, conditions| TierRule { tier, conditions };
        assert!(matches!(
            CorporateTierRules::new("", Currency::CNY, vec![]),
            Err(TierError::Version(_))
        ));
        assert_eq!(
            CorporateTierRules::new(
                "v",
                Currency::CNY,
                vec![rule(SubBranch, vec![]), rule(SubBranch, vec![])]
            ),
            Err(TierError::DuplicateTier(SubBranch))
        );
        assert_eq!(
            CorporateTierRules::new(
                "v",
                Currency::CNY,
                vec![rule(
                    SubBranch,
                    vec![TierCondition::CrossRegion, TierCondition::CrossRegion]
                )]
            ),
            Err(TierError::DuplicateCondition {
                tier: SubBranch,
                condition: "cross-region operation"
            })
        );
        let err = CorporateTierRules::new(
            "v",
            Currency::CNY,
            vec![rule(
                Tier2Branch,
                vec![TierCondition::MinTtmContribution(Money::from_minor(
                    Currency::USD,
                    5,
                ))],
            )],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the tier2_branch rule's contribution TTM threshold USD 0.05 is invalid: not in the rules' currency"
        );
        assert!(
            CorporateTierRules::new(
                "v",
                Currency::CNY,
                vec![rule(
                    Tier2Branch,
                    vec![TierCondition::MinValueScore(Decimal::from(101))]
                )]
            )
            .is_err()
        );
        assert!(
            CorporateTierRules::new(
                "v",
                Currency::CNY,
                vec![rule(
                    Tier2Branch,
                    vec![TierCondition::MinAnnualRevenue(cny(-1))]
                )]
            )
            .is_err()
        );
        // A rule without conditions grants its tier to everyone who reaches it.
        let all =
            CorporateTierRules::new("v", Currency::CNY, vec![rule(SubBranch, vec![])]).unwrap();
        let o = all.outcome(&CorporateFacts::default(), None).unwrap();
        assert_eq!(
            (o.kind, o.reason.as_str()),
            (Some(Entry), "no minimum conditions for sub-branch")
        );
        // Facts in another currency are refused.
        let usd = CorporateFacts {
            ttm_contribution: Some(Money::from_minor(Currency::USD, 1)),
            ..CorporateFacts::default()
        };
        assert!(matches!(
            all.evaluate(&usd),
            Err(TierError::Currency {
                field: "ttm_contribution",
                ..
            })
        ));
    }

    #[test]
    fn wealth_tiers_from_the_three_month_average() {
        let p = |m| Period::new(2025, m).unwrap();
        // July 31 days × 3,000,000 + August 31 × 3,100,000 + September 30 × 3,270,000
        // = 93,000,000 + 96,100,000 + 98,100,000 = 287,200,000 over 92 days
        // = 3,121,739.1304… → 3,121,739.13
        let months = [
            (p(6), cny(9_999_999)), // outside the basis
            (p(7), cny(3_000_000)),
            (p(8), cny(3_100_000)),
            (p(9), cny(3_270_000)),
        ];
        let basis = wealth_basis(p(9), &months, DEFAULT_BASIS_MONTHS, Currency::CNY).unwrap();
        assert_eq!(basis, Money::from_minor(Currency::CNY, 312_173_913));
        let t = WealthTierThresholds::default();
        let up = wealth_outcome(&t, basis, 3, Some(WealthTier::Vip)).unwrap();
        assert_eq!(up.kind, Some(Upgrade));
        assert_eq!(
            up.reason,
            "3-month average AUM CNY 3,121,739.13 ≥ 3,000,000.00 for platinum"
        );
        let down = wealth_outcome(&t, cny(2_900_000), 3, Some(WealthTier::Platinum)).unwrap();
        assert_eq!(down.kind, Some(Downgrade));
        assert_eq!(
            down.reason,
            "3-month average AUM CNY 2,900,000.00 < 3,000,000.00 for platinum; ≥ 500,000.00 for VIP"
        );
        let to_mass = wealth_outcome(&t, cny(100), 3, Some(WealthTier::Vip)).unwrap();
        assert_eq!(
            to_mass.reason,
            "3-month average AUM CNY 100.00 < 500,000.00 for VIP"
        );
        let new = wealth_outcome(&t, cny(100), 3, None).unwrap();
        assert_eq!(
            (new.kind, new.evaluated),
            (Some(Entry), Some(WealthTier::Mass))
        );
        let same = wealth_outcome(&t, cny(9_000_000), 3, Some(WealthTier::PrivateBanking)).unwrap();
        assert_eq!(same.kind, None);
        assert!(change_list([("x", same)]).is_empty());
        // A missing month counts as zero:
        // (31 × 3,100,000 + 30 × 3,270,000) / 92 = 194,200,000 / 92 = 2,110,869.5652… → 2,110,869.57
        let sparse = wealth_basis(p(9), &months[2..], 3, Currency::CNY).unwrap();
        assert_eq!(sparse, Money::from_minor(Currency::CNY, 211_086_957));
        assert_eq!(
            wealth_basis(p(9), &[(p(9), cny(1)), (p(9), cny(2))], 3, Currency::CNY),
            Err(TierError::DuplicateMonth(p(9)))
        );
        assert!(matches!(
            wealth_basis(p(9), &[(p(8), cny(-1))], 3, Currency::CNY),
            Err(TierError::NegativeAum { .. })
        ));
        assert_eq!(
            wealth_basis(p(9), &[], 0, Currency::CNY),
            Err(TierError::BasisMonths(0))
        );
        assert_eq!(wealth_basis(p(9), &[], 3, Currency::CNY).unwrap(), cny(0));
    }

    #[test]
    fn grouping() {
        assert_eq!(grouped(cny(1_800_000)), "1,800,000.00");
        assert_eq!(grouped(Money::from_minor(Currency::CNY, 5)), "0.05");
        assert_eq!(
            grouped(Money::from_minor(Currency::CNY, -123_456_789)),
            "-1,234,567.89"
        );
        assert_eq!(
            grouped(Money::from_minor(Currency::parse("JPY").unwrap(), 1_000)),
            "1,000"
        );
        assert_eq!(grouped(cny(100)), "100.00");
    }
}
