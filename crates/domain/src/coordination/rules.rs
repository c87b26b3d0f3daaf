//! Cadence and SLA rules as versioned, effective-dated data (DOMAIN.md §1 "Rules are data", §5
//! "Cadence rules … and service-time rules … raise overdue alerts"). A [`CadenceRule`] asks for a
//! minimum number of counted activities (visits when none are named) per window of calendar
//! months for the customers it selects by kind, corporate tier and wealth tier — e.g. large
//! customers at least one visit a month. An [`SlaRule`] is a timer in working days for tasks (of
//! an opportunity type and/or a playbook step, or all) or for a referral's response — e.g. the
//! green channel (绿色通道) of 3 or 7 days. This module owns their validation (field paths
//! relative to `rule`), the versions in force on a date ([`in_force`]), the overlap check
//! between rules of the same scope ([`check_overlap`]), which SLA rule times a task (the most
//! specific: step and type, then step, then type, then all; [`task_sla`]) or a referral
//! (the shortest timer; [`referral_sla`]), and the [`RuleRef`] a result records.

use std::collections::BTreeSet;

use super::activities::ActivityType;
use super::stage::OpportunityType;
use super::{CoordinationError, Reason, Violations};
use crate::customer::{CorporateTier, CustomerKind, WealthTier};
use crate::pricing::EffectiveRange;
use chrono::NaiveDate;

/// The rule family of cadence rules in a [`RuleRef`].
pub const CADENCE_RULE_KIND: &str = "cadence_rule";
/// The rule family of SLA rules in a [`RuleRef`].
pub const SLA_RULE_KIND: &str = "sla_rule";
/// The rule family of playbooks in a [`RuleRef`].
pub const PLAYBOOK_KIND: &str = "playbook";
/// The most characters of a rule's name.
pub const MAX_RULE_NAME_CHARS: usize = 200;
/// The largest cadence window, in months.
pub const MAX_WINDOW_MONTHS: i32 = 24;
/// The largest minimum number of activities per window.
pub const MAX_MIN_ACTIVITIES: i32 = 100;
/// The longest SLA timer, in working days.
pub const MAX_SLA_WORKING_DAYS: i32 = 250;

/// The version of a rule that a result used (proto `RuleVersionRef`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleRef {
    /// The family, e.g. `cadence_rule`.
    pub rule_kind: &'static str,
    /// The rule's id within its family.
    pub rule_id: String,
    /// The version used.
    pub version: i64,
}

/// A versioned, effective-dated rule.
pub trait Versioned {
    /// The id of the series.
    fn rule_id(&self) -> &str;
    /// The version number.
    fn version(&self) -> i64;
    /// When this version is in force.
    fn effective(&self) -> &EffectiveRange;
    /// Whether the two rules select the same things (an overlap of such rules is refused).
    fn same_scope(&self, other: &Self) -> bool;
}

/// The version of each series in force on `date` (the highest version should two ranges of one
/// series overlap), ordered by rule id.
pub fn in_force<R: Versioned>(rules: &[R], date: NaiveDate) -> Vec<&R> {
    let mut best: Vec<&R> = Vec::new();
    for rule in rules.iter().filter(|r| r.effective().contains(date)) {
        match best.iter_mut().find(|b| b.rule_id() == rule.rule_id()) {
            Some(b) if b.version() < rule.version() => *b = rule,
            Some(_) => {}
            None => best.push(rule),
        }
    }
    best.sort_by(|a, b| a.rule_id().cmp(b.rule_id()));
    best
}

/// Refuses ([`Reason::RuleOverlap`], naming the rule) a rule whose range overlaps that of
/// another series with the same scope; versions of the rule's own series are ignored (the
/// service closes the previous version where the new one starts).
pub fn check_overlap<R: Versioned>(existing: &[R], new: &R) -> Result<(), CoordinationError> {
    match existing.iter().find(|r| {
        r.rule_id() != new.rule_id() && r.same_scope(new) && r.effective().overlaps(new.effective())
    }) {
        Some(r) => Err(CoordinationError::refused(
            Reason::RuleOverlap,
            format!(
                "rule {} version {} has the same scope and is in force over {}, which overlaps {}",
                r.rule_id(),
                r.version(),
                r.effective(),
                new.effective()
            ),
        )),
        None => Ok(()),
    }
}

fn as_set<T: Ord + Copy>(items: &[T]) -> BTreeSet<T> {
    items.iter().copied().collect()
}

fn check_range(v: &mut Violations, range: &EffectiveRange) {
    if let Err(e) = range.validate() {
        v.add(format!("effective.{}", e.field), e.message);
    }
}

fn check_unique<T: Ord + Copy + std::fmt::Display>(v: &mut Violations, field: &str, items: &[T]) {
    let mut seen = BTreeSet::new();
    for (i, item) in items.iter().enumerate() {
        if !seen.insert(*item) {
            v.add(format!("{field}[{i}]"), format!("repeats {item}"));
        }
    }
}

/// A minimum contact frequency (proto `CadenceRule`). The customer's A manager is responsible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CadenceRule {
    /// Stable id of the series.
    pub rule_id: String,
    /// The version number.
    pub version: i64,
    /// Display name.
    pub name: String,
    /// Customer kinds it applies to; all when empty.
    pub kinds: Vec<CustomerKind>,
    /// Corporate tiers it applies to; any when empty (when set, a customer without a corporate
    /// tier is not selected).
    pub corporate_tiers: Vec<CorporateTier>,
    /// Wealth tiers it applies to; any when empty (when set, a customer without a wealth tier is
    /// not selected).
    pub wealth_tiers: Vec<WealthTier>,
    /// Activity types that count; visits when empty.
    pub counted_types: Vec<ActivityType>,
    /// The minimum number of counted activities per window, at least 1.
    pub min_activities: i32,
    /// The window in calendar months, at least 1.
    pub window_months: i32,
    /// When this version is in force.
    pub effective: EffectiveRange,
}

impl CadenceRule {
    /// Checks the rule: `name` (1 to 200 characters), `kinds[i]`, `corporate_tiers[i]`,
    /// `wealth_tiers[i]`, `counted_types[i]` (no repeats), `min_activities` (1 to 100),
    /// `window_months` (1 to 24), `effective.end_date` (after the start).
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let mut v = Violations::default();
        v.text("name", &self.name, true, MAX_RULE_NAME_CHARS);
        check_unique(&mut v, "kinds", &self.kinds);
        check_unique(&mut v, "corporate_tiers", &self.corporate_tiers);
        check_unique(&mut v, "wealth_tiers", &self.wealth_tiers);
        check_unique(&mut v, "counted_types", &self.counted_types);
        if !(1..=MAX_MIN_ACTIVITIES).contains(&self.min_activities) {
            v.add(
                "min_activities",
                format!(
                    "must be 1 to {MAX_MIN_ACTIVITIES}, not {}",
                    self.min_activities
                ),
            );
        }
        if !(1..=MAX_WINDOW_MONTHS).contains(&self.window_months) {
            v.add(
                "window_months",
                format!(
                    "must be 1 to {MAX_WINDOW_MONTHS}, not {}",
                    self.window_months
                ),
            );
        }
        check_range(&mut v, &self.effective);
        v.finish()
    }

    /// Whether the rule selects a customer of `kind` with these tiers.
    pub fn applies_to(
        &self,
        kind: CustomerKind,
        corporate_tier: Option<CorporateTier>,
        wealth_tier: Option<WealthTier>,
    ) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&kind))
            && (self.corporate_tiers.is_empty()
                || corporate_tier.is_some_and(|t| self.corporate_tiers.contains(&t)))
            && (self.wealth_tiers.is_empty()
                || wealth_tier.is_some_and(|t| self.wealth_tiers.contains(&t)))
    }

    /// Whether an activity of type `t` counts (visits only when no type is named).
    pub fn counts(&self, t: ActivityType) -> bool {
        if self.counted_types.is_empty() {
            t == ActivityType::Visit
        } else {
            self.counted_types.contains(&t)
        }
    }

    /// The reference a result records.
    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            rule_kind: CADENCE_RULE_KIND,
            rule_id: self.rule_id.clone(),
            version: self.version,
        }
    }

    /// The window as a count of months (at least 1).
    pub fn window(&self) -> u32 {
        u32::try_from(self.window_months.max(1)).unwrap_or(1)
    }

    /// The minimum number of activities (at least 1).
    pub fn required(&self) -> u32 {
        u32::try_from(self.min_activities.max(1)).unwrap_or(1)
    }
}

impl Versioned for CadenceRule {
    fn rule_id(&self) -> &str {
        &self.rule_id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn effective(&self) -> &EffectiveRange {
        &self.effective
    }

    /// Same kinds, tiers and counted types (as sets; an empty counted list means visits).
    fn same_scope(&self, other: &Self) -> bool {
        let counted = |r: &CadenceRule| {
            if r.counted_types.is_empty() {
                BTreeSet::from([ActivityType::Visit])
            } else {
                as_set(&r.counted_types)
            }
        };
        as_set(&self.kinds) == as_set(&other.kinds)
            && as_set(&self.corporate_tiers) == as_set(&other.corporate_tiers)
            && as_set(&self.wealth_tiers) == as_set(&other.wealth_tiers)
            && counted(self) == counted(other)
    }
}

code_enum! {
    /// What an SLA rule times (proto `SlaSubject`, same order).
    pub enum SlaSubject {
        /// Tasks of opportunities: the due date is set from the timer.
        Task => "task",
        /// Referrals: the receiving line must accept or decline within the timer.
        ReferralResponse => "referral_response",
    }
}

/// A service-time rule in working days (proto `SlaRule`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaRule {
    /// Stable id of the series.
    pub rule_id: String,
    /// The version number.
    pub version: i64,
    /// Display name.
    pub name: String,
    /// What it times; `None` when unset (invalid).
    pub subject: Option<SlaSubject>,
    /// For tasks: only opportunities of this type; all when `None`.
    pub opportunity_type: Option<OpportunityType>,
    /// For tasks: only tasks from this playbook step; all when `None`.
    pub playbook_step_id: Option<String>,
    /// The timer in working days, at least 1.
    pub working_days: i32,
    /// When this version is in force.
    pub effective: EffectiveRange,
}

impl SlaRule {
    /// Checks the rule: `name`, `subject` (required), `opportunity_type` and `playbook_step_id`
    /// (tasks only; a step id not blank), `working_days` (1 to 250), `effective.end_date`.
    pub fn validate(&self) -> Result<(), CoordinationError> {
        let mut v = Violations::default();
        v.text("name", &self.name, true, MAX_RULE_NAME_CHARS);
        match self.subject {
            None => v.add("subject", "is required"),
            Some(SlaSubject::ReferralResponse) => {
                if self.opportunity_type.is_some() {
                    v.add("opportunity_type", "applies to task rules only");
                }
                if self.playbook_step_id.is_some() {
                    v.add("playbook_step_id", "applies to task rules only");
                }
            }
            Some(SlaSubject::Task) => {
                if self
                    .playbook_step_id
                    .as_deref()
                    .is_some_and(|s| s.trim().is_empty())
                {
                    v.add(
                        "playbook_step_id",
                        "is blank; leave it unset for every step",
                    );
                }
            }
        }
        if !(1..=MAX_SLA_WORKING_DAYS).contains(&self.working_days) {
            v.add(
                "working_days",
                format!(
                    "must be 1 to {MAX_SLA_WORKING_DAYS}, not {}",
                    self.working_days
                ),
            );
        }
        check_range(&mut v, &self.effective);
        v.finish()
    }

    /// The reference a result records.
    pub fn rule_ref(&self) -> RuleRef {
        RuleRef {
            rule_kind: SLA_RULE_KIND,
            rule_id: self.rule_id.clone(),
            version: self.version,
        }
    }

    /// The timer as a count of working days (at least 1).
    pub fn days(&self) -> u32 {
        u32::try_from(self.working_days.max(1)).unwrap_or(1)
    }

    /// How specific a task rule is for a task: `None` when it does not apply; 3 for step and
    /// type, 2 for step, 1 for type, 0 for all tasks.
    fn task_specificity(
        &self,
        opportunity_type: OpportunityType,
        step: Option<&str>,
    ) -> Option<u8> {
        if self.subject != Some(SlaSubject::Task) {
            return None;
        }
        let type_score = match self.opportunity_type {
            None => 0,
            Some(t) if t == opportunity_type => 1,
            Some(_) => return None,
        };
        let step_score = match self.playbook_step_id.as_deref() {
            None => 0,
            Some(s) if Some(s) == step => 2,
            Some(_) => return None,
        };
        Some(type_score + step_score)
    }
}

impl Versioned for SlaRule {
    fn rule_id(&self) -> &str {
        &self.rule_id
    }

    fn version(&self) -> i64 {
        self.version
    }

    fn effective(&self) -> &EffectiveRange {
        &self.effective
    }

    /// Same subject, opportunity type and playbook step.
    fn same_scope(&self, other: &Self) -> bool {
        self.subject == other.subject
            && self.opportunity_type == other.opportunity_type
            && self.playbook_step_id == other.playbook_step_id
    }
}

/// The SLA rule in force on `date` that times a task of an opportunity of `opportunity_type`
/// from playbook `step` (if any): the most specific (step and type, step, type, all), then the
/// shortest timer, then the lowest rule id.
pub fn task_sla<'a>(
    rules: &'a [SlaRule],
    opportunity_type: OpportunityType,
    step: Option<&str>,
    date: NaiveDate,
) -> Option<&'a SlaRule> {
    in_force(rules, date)
        .into_iter()
        .filter_map(|r| r.task_specificity(opportunity_type, step).map(|s| (s, r)))
        .max_by(|(sa, a), (sb, b)| {
            sa.cmp(sb)
                .then(b.working_days.cmp(&a.working_days))
                .then(b.rule_id.cmp(&a.rule_id))
        })
        .map(|(_, r)| r)
}

/// The referral-response SLA rule in force on `date`: the shortest timer, then the lowest rule
/// id.
pub fn referral_sla(rules: &[SlaRule], date: NaiveDate) -> Option<&SlaRule> {
    in_force(rules, date)
        .into_iter()
        .filter(|r| r.subject == Some(SlaSubject::ReferralResponse))
        .min_by(|a, b| {
            a.working_days
                .cmp(&b.working_days)
                .then(a.rule_id.cmp(&b.rule_id))
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::coordination::ErrorKind;

    pub(crate) fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// Large corporate customers (head-office or tier-1 tier): at least one visit a month.
    pub(crate) fn monthly_visits() -> CadenceRule {
        CadenceRule {
            rule_id: "large-monthly".to_owned(),
            version: 1,
            name: "large customers: a visit a month".to_owned(),
            kinds: vec![CustomerKind::Corporate],
            corporate_tiers: vec![CorporateTier::HeadOffice, CorporateTier::Tier1Branch],
            wealth_tiers: vec![],
            counted_types: vec![],
            min_activities: 1,
            window_months: 1,
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        }
    }

    pub(crate) fn sla(id: &str, subject: SlaSubject, days: i32) -> SlaRule {
        SlaRule {
            rule_id: id.to_owned(),
            version: 1,
            name: format!("{id} green channel"),
            subject: Some(subject),
            opportunity_type: None,
            playbook_step_id: None,
            working_days: days,
            effective: EffectiveRange::starting(d(2025, 1, 1)),
        }
    }

    fn fields(err: CoordinationError) -> Vec<String> {
        assert_eq!(err.kind(), ErrorKind::InvalidArgument);
        err.violations().iter().map(|v| v.field.clone()).collect()
    }

    #[test]
    fn cadence_rules_select_and_count() {
        let r = monthly_visits();
        r.validate().unwrap();
        assert!(r.applies_to(
            CustomerKind::Corporate,
            Some(CorporateTier::HeadOffice),
            None
        ));
        assert!(!r.applies_to(
            CustomerKind::Corporate,
            Some(CorporateTier::SubBranch),
            None
        ));
        assert!(
            !r.applies_to(CustomerKind::Corporate, None, None),
            "no tier"
        );
        assert!(!r.applies_to(
            CustomerKind::SmallBusiness,
            Some(CorporateTier::HeadOffice),
            None
        ));
        assert!(r.counts(ActivityType::Visit));
        assert!(!r.counts(ActivityType::Call));
        let vip = CadenceRule {
            kinds: vec![],
            corporate_tiers: vec![],
            wealth_tiers: vec![WealthTier::PrivateBanking],
            counted_types: vec![ActivityType::Call, ActivityType::Visit],
            ..monthly_visits()
        };
        assert!(vip.applies_to(
            CustomerKind::Individual,
            None,
            Some(WealthTier::PrivateBanking)
        ));
        assert!(!vip.applies_to(CustomerKind::Individual, None, Some(WealthTier::Vip)));
        assert!(vip.counts(ActivityType::Call));
        assert!(!vip.counts(ActivityType::Salon));
        assert_eq!(
            r.rule_ref(),
            RuleRef {
                rule_kind: "cadence_rule",
                rule_id: "large-monthly".to_owned(),
                version: 1
            }
        );
        assert_eq!((r.window(), r.required()), (1, 1));
    }

    #[test]
    fn cadence_rule_validation_names_fields() {
        let bad = CadenceRule {
            name: String::new(),
            kinds: vec![CustomerKind::Corporate, CustomerKind::Corporate],
            counted_types: vec![ActivityType::Visit, ActivityType::Visit],
            min_activities: 0,
            window_months: 25,
            effective: EffectiveRange {
                from: d(2025, 2, 1),
                to: Some(d(2025, 1, 1)),
            },
            ..monthly_visits()
        };
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            [
                "name",
                "kinds[1]",
                "counted_types[1]",
                "min_activities",
                "window_months",
                "effective.end_date"
            ]
        );
    }

    #[test]
    fn sla_rule_validation() {
        sla("t", SlaSubject::Task, 3).validate().unwrap();
        let bad = SlaRule {
            subject: Some(SlaSubject::ReferralResponse),
            opportunity_type: Some(OpportunityType::General),
            playbook_step_id: Some("s1".to_owned()),
            working_days: 0,
            ..sla("r", SlaSubject::ReferralResponse, 3)
        };
        assert_eq!(
            fields(bad.validate().unwrap_err()),
            ["opportunity_type", "playbook_step_id", "working_days"]
        );
        let none = SlaRule {
            subject: None,
            ..sla("x", SlaSubject::Task, 3)
        };
        assert_eq!(fields(none.validate().unwrap_err()), ["subject"]);
        let blank = SlaRule {
            playbook_step_id: Some(" ".to_owned()),
            ..sla("x", SlaSubject::Task, 3)
        };
        assert_eq!(fields(blank.validate().unwrap_err()), ["playbook_step_id"]);
    }

    #[test]
    fn versions_in_force_on_a_date() {
        let v1 = CadenceRule {
            effective: EffectiveRange {
                from: d(2025, 1, 1),
                to: Some(d(2025, 4, 1)),
            },
            ..monthly_visits()
        };
        let v2 = CadenceRule {
            version: 2,
            window_months: 2,
            effective: EffectiveRange::starting(d(2025, 4, 1)),
            ..monthly_visits()
        };
        let other = CadenceRule {
            rule_id: "a-smb".to_owned(),
            kinds: vec![CustomerKind::SmallBusiness],
            ..monthly_visits()
        };
        let rules = [v1, v2, other];
        let march: Vec<_> = in_force(&rules, d(2025, 3, 31))
            .iter()
            .map(|r| (r.rule_id.as_str(), r.version))
            .collect();
        assert_eq!(march, [("a-smb", 1), ("large-monthly", 1)]);
        let april: Vec<_> = in_force(&rules, d(2025, 4, 1))
            .iter()
            .map(|r| (r.rule_id.as_str(), r.version))
            .collect();
        assert_eq!(april, [("a-smb", 1), ("large-monthly", 2)]);
        assert!(in_force(&rules, d(2024, 12, 31)).is_empty());
    }

    #[test]
    fn overlapping_rules_of_the_same_scope_are_refused() {
        let existing = [monthly_visits()];
        let twin = CadenceRule {
            rule_id: "twin".to_owned(),
            corporate_tiers: vec![CorporateTier::Tier1Branch, CorporateTier::HeadOffice],
            counted_types: vec![ActivityType::Visit],
            ..monthly_visits()
        };
        let err = check_overlap(&existing, &twin).unwrap_err();
        assert_eq!(err.reason(), Some(Reason::RuleOverlap));
        assert!(err.to_string().contains("large-monthly"));
        let later_version = CadenceRule {
            version: 2,
            ..monthly_visits()
        };
        assert!(
            check_overlap(&existing, &later_version).is_ok(),
            "own series"
        );
        let other_scope = CadenceRule {
            rule_id: "calls".to_owned(),
            counted_types: vec![ActivityType::Call],
            ..monthly_visits()
        };
        assert!(check_overlap(&existing, &other_scope).is_ok());
        let before = CadenceRule {
            rule_id: "old".to_owned(),
            effective: EffectiveRange {
                from: d(2024, 1, 1),
                to: Some(d(2025, 1, 1)),
            },
            ..monthly_visits()
        };
        assert!(check_overlap(&existing, &before).is_ok(), "touching only");
        let slas = [sla("green", SlaSubject::Task, 3)];
        assert!(check_overlap(&slas, &sla("green2", SlaSubject::Task, 7)).is_err());
        assert!(check_overlap(&slas, &sla("r", SlaSubject::ReferralResponse, 7)).is_ok());
    }

    #[test]
    fn the_most_specific_task_sla_wins() {
        let day = d(2025, 3, 3);
        let all = sla("all", SlaSubject::Task, 10);
        let scf = SlaRule {
            opportunity_type: Some(OpportunityType::SupplyChainFinance),
            ..sla("scf", SlaSubject::Task, 7)
        };
        let credit = SlaRule {
            playbook_step_id: Some("credit".to_owned()),
            ..sla("credit", SlaSubject::Task, 5)
        };
        let scf_credit = SlaRule {
            opportunity_type: Some(OpportunityType::SupplyChainFinance),
            playbook_step_id: Some("credit".to_owned()),
            ..sla("scf-credit", SlaSubject::Task, 3)
        };
        let referral = sla("ref", SlaSubject::ReferralResponse, 2);
        let rules = [all, scf, credit, scf_credit, referral];
        let pick = |t, step| task_sla(&rules, t, step, day).map(|r| r.rule_id.as_str());
        use OpportunityType::*;
        assert_eq!(pick(SupplyChainFinance, Some("credit")), Some("scf-credit"));
        assert_eq!(pick(General, Some("credit")), Some("credit"));
        assert_eq!(pick(SupplyChainFinance, Some("visit")), Some("scf"));
        assert_eq!(pick(SupplyChainFinance, None), Some("scf"));
        assert_eq!(pick(General, None), Some("all"));
        assert_eq!(
            referral_sla(&rules, day).map(|r| r.rule_id.as_str()),
            Some("ref")
        );
        assert_eq!(task_sla(&rules, General, None, d(2024, 1, 1)), None);
        let two = [sla("b", SlaSubject::Task, 3), sla("a", SlaSubject::Task, 3)];
        assert_eq!(
            task_sla(&two, General, None, day).map(|r| r.rule_id.as_str()),
            Some("a")
        );
        assert_eq!(
            sla("x", SlaSubject::Task, 3).rule_ref().rule_kind,
            "sla_rule"
        );
    }
}
