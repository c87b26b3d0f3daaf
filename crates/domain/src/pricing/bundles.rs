//! Bundles (产品套餐, DOMAIN.md §4, seed 000 篇2): named packages of catalogue products — credit,
//! wealth, savings, cards, FX, settlement — each component mandatory or optional and carrying its
//! own [`Benefit`] (applied after the relationship rules), who may take the bundle (the same
//! [`CustomerCondition`] as pricing rules: tier, segment, stage, …) and its **prerequisites** —
//! e.g. payroll agency, card issuance, executives' personal accounts as conditions for credit —
//! evaluated against facts the service passes in. Bundles do not nest: a component is always a
//! product, never a bundle. This module owns the bundle, its validation, and eligibility: the
//! eligibility conditions that fail (which bar a quote under the bundle) and the prerequisites
//! not yet met (which do not bar it but are reported on it; a product the quote itself includes
//! meets a "holds" prerequisite).

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::catalogue::{Product, ProductCategory, check_product_id};
use super::effective::EffectiveRange;
use super::rules::{Benefit, CustomerCondition, CustomerFacts};
use super::{PricingViolation, UnmetCondition, prefix_all, violations_result};

/// A component of a bundle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleComponent {
    /// Id unique within the bundle, e.g. `payroll`; 1 to 64 characters.
    pub component_id: String,
    /// The product.
    pub product_id: String,
    /// Mandatory components are always quoted with the bundle; optional ones when picked.
    pub mandatory: bool,
    /// The component's own benefit, applied after the relationship rules.
    pub benefit: Option<Benefit>,
    /// A note for the customer, up to 500 characters.
    pub note: String,
}

/// What a prerequisite requires.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    /// The customer holds the product (or the quote includes it).
    HoldsProduct(String),
    /// The customer holds a product of the category, e.g. payroll agency or card issuance (or
    /// the quote includes one).
    HoldsCategory(ProductCategory),
    /// At least this many of the customer's executives hold a personal account with the bank.
    ExecutivePersonalAccounts {
        /// The minimum number, at least 1.
        min_count: u32,
    },
}

/// A condition the customer must meet before a bundle's credit is granted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisite {
    /// Id unique within the bundle, 1 to 64 characters.
    pub prerequisite_id: String,
    /// What it requires.
    pub requirement: Requirement,
    /// Human-readable description, e.g. `payroll agency with us`; up to 200 characters.
    pub description: String,
}

impl Prerequisite {
    /// Whether the customer meets it, counting the products the quote includes.
    pub fn is_met(&self, facts: &CustomerFacts, quoted: &[&Product]) -> bool {
        match &self.requirement {
            Requirement::HoldsProduct(id) => {
                facts.held_product_ids.contains(id) || quoted.iter().any(|p| &p.product_id == id)
            }
            Requirement::HoldsCategory(category) => {
                facts.held_categories.contains(category)
                    || quoted.iter().any(|p| p.category == *category)
            }
            Requirement::ExecutivePersonalAccounts { min_count } => {
                facts.executives_with_personal_accounts >= *min_count
            }
        }
    }
}

/// A bundle: one version of a versioned, effective-dated package.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bundle {
    /// Stable id.
    pub bundle_id: String,
    /// The version.
    pub version: i64,
    /// Display name, 1 to 200 characters.
    pub name: String,
    /// Description, up to 2,000 characters.
    pub description: String,
    /// Components: at least one mandatory; each product at most once.
    pub components: Vec<BundleComponent>,
    /// Who may take the bundle.
    pub eligibility: CustomerCondition,
    /// Conditions to meet, reported as missing on quotes until met.
    pub prerequisites: Vec<Prerequisite>,
    /// When this version is in force.
    pub effective: EffectiveRange,
    /// Whether it can be quoted.
    pub active: bool,
}

fn id_ok(id: &str) -> bool {
    !id.trim().is_empty() && id.chars().count() <= 64
}

impl Bundle {
    /// Checks the bundle against the catalogue (`product_of` finds a product by id): name and
    /// text lengths; at least one component and one mandatory; component ids unique, each
    /// product known and at most once, each benefit valid and able to apply to its product's
    /// kind and currency; prerequisite ids unique and their requirements well-formed; a valid
    /// range. Every problem is returned, named by its proto field path.
    pub fn validate<'p>(
        &self,
        product_of: impl Fn(&str) -> Option<&'p Product>,
    ) -> Result<(), Vec<PricingViolation>> {
        let mut v = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 200 {
            v.push(PricingViolation::new("name", "must be 1 to 200 characters"));
        }
        if self.description.chars().count() > 2_000 {
            v.push(PricingViolation::new(
                "description",
                "must be at most 2000 characters",
            ));
        }
        if self.components.is_empty() {
            v.push(PricingViolation::new(
                "components",
                "a bundle needs at least one component",
            ));
        } else if !self.components.iter().any(|c| c.mandatory) {
            v.push(PricingViolation::new(
                "components",
                "a bundle needs at least one mandatory component",
            ));
        }
        let mut ids = BTreeSet::new();
        let mut products = BTreeSet::new();
        for (i, c) in self.components.iter().enumerate() {
            let field = |name: &str| format!("components[{i}].{name}");
            if !id_ok(&c.component_id) {
                v.push(PricingViolation::new(
                    field("component_id"),
                    "must be 1 to 64 characters",
                ));
            } else if !ids.insert(c.component_id.as_str()) {
                v.push(PricingViolation::new(
                    field("component_id"),
                    format!("{:?} is used twice", c.component_id),
                ));
            }
            if c.note.chars().count() > 500 {
                v.push(PricingViolation::new(
                    field("note"),
                    "must be at most 500 characters",
                ));
            }
            if !products.insert(c.product_id.as_str()) {
                v.push(PricingViolation::new(
                    field("product_id"),
                    format!("product {} is in the bundle twice", c.product_id),
                ));
                continue;
            }
            let Some(product) = product_of(&c.product_id) else {
                v.push(PricingViolation::new(
                    field("product_id"),
                    format!("unknown product {:?}", c.product_id),
                ));
                continue;
            };
            if let Some(benefit) = &c.benefit {
                v.extend(prefix_all(benefit.validate(), &field("benefit")));
                if !benefit.applies_to(product.kind, product.currency) {
                    v.push(PricingViolation::new(
                        field("benefit.benefit_type"),
                        format!(
                            "a {benefit} benefit cannot apply to {} (a {} product in {})",
                            product.product_id, product.kind, product.currency
                        ),
                    ));
                }
            }
        }
        v.extend(prefix_all(self.eligibility.validate(), "eligibility"));
        let mut prereq_ids = BTreeSet::new();
        for (i, p) in self.prerequisites.iter().enumerate() {
            let field = |name: &str| format!("prerequisites[{i}].{name}");
            if !id_ok(&p.prerequisite_id) {
                v.push(PricingViolation::new(
                    field("prerequisite_id"),
                    "must be 1 to 64 characters",
                ));
            } else if !prereq_ids.insert(p.prerequisite_id.as_str()) {
                v.push(PricingViolation::new(
                    field("prerequisite_id"),
                    format!("{:?} is used twice", p.prerequisite_id),
                ));
            }
            match &p.requirement {
                Requirement::HoldsProduct(id) => {
                    if let Err(m) = check_product_id(id) {
                        v.push(PricingViolation::new(field("product_id"), m));
                    }
                }
                Requirement::ExecutivePersonalAccounts { min_count: 0 } => {
                    v.push(PricingViolation::new(
                        field("min_count"),
                        "must be at least 1",
                    ));
                }
                _ => {}
            }
            if p.description.chars().count() > 200 {
                v.push(PricingViolation::new(
                    field("description"),
                    "must be at most 200 characters",
                ));
            }
        }
        if let Err(e) = self.effective.validate() {
            v.push(e.prefixed("effective"));
        }
        violations_result(v)
    }

    /// The component with this id.
    pub fn component(&self, component_id: &str) -> Option<&BundleComponent> {
        self.components
            .iter()
            .find(|c| c.component_id == component_id)
    }

    /// Whether the bundle can be quoted on `date`: active and in force.
    pub fn in_force(&self, date: NaiveDate) -> bool {
        self.active && self.effective.contains(date)
    }

    /// The prerequisites the customer does not meet, not counting any quote.
    pub fn missing_prerequisites(&self, facts: &CustomerFacts) -> Vec<Prerequisite> {
        self.missing_prerequisites_with(facts, &[])
    }

    /// The prerequisites neither the customer's holdings nor the `quoted` products meet.
    pub fn missing_prerequisites_with(
        &self,
        facts: &CustomerFacts,
        quoted: &[&Product],
    ) -> Vec<Prerequisite> {
        self.prerequisites
            .iter()
            .filter(|p| !p.is_met(facts, quoted))
            .cloned()
            .collect()
    }
}

/// One bundle's eligibility for a customer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleEligibility {
    /// True when every eligibility condition holds.
    pub eligible: bool,
    /// The eligibility conditions that fail; empty when eligible.
    pub unmet: Vec<UnmetCondition>,
    /// Prerequisites not yet met (they do not bar a quote but are reported on it).
    pub missing_prerequisites: Vec<Prerequisite>,
}

/// Whether the customer may take `bundle`: its eligibility conditions, explained ("bundle needs
/// …"), and the prerequisites the customer's holdings do not meet yet.
pub fn eligibility(bundle: &Bundle, facts: &CustomerFacts) -> BundleEligibility {
    let unmet = bundle.eligibility.unmet(facts, "bundle");
    BundleEligibility {
        eligible: unmet.is_empty(),
        unmet,
        missing_prerequisites: bundle.missing_prerequisites(facts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CorporateTier, LifecycleStage};
    use crate::money::{BasisPoints, Currency, Money};
    use crate::org::BusinessLine;
    use crate::pricing::catalogue::ProductKind;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn product(id: &str, kind: ProductKind, category: ProductCategory) -> Product {
        Product {
            product_id: id.into(),
            name: id.into(),
            line: BusinessLine::Corporate,
            kind,
            category,
            currency: Currency::CNY,
            active: true,
        }
    }

    fn catalogue() -> Vec<Product> {
        vec![
            product("LOAN", ProductKind::Asset, ProductCategory::Loan),
            product("DEP", ProductKind::Liability, ProductCategory::Deposit),
            product("PAYROLL", ProductKind::Fee, ProductCategory::Payroll),
            product("CARD", ProductKind::Fee, ProductCategory::Card),
        ]
    }

    fn component(
        id: &str,
        product: &str,
        mandatory: bool,
        benefit: Option<Benefit>,
    ) -> BundleComponent {
        BundleComponent {
            component_id: id.into(),
            product_id: product.into(),
            mandatory,
            benefit,
            note: String::new(),
        }
    }

    fn bundle() -> Bundle {
        Bundle {
            bundle_id: "credit-plus".into(),
            version: 1,
            name: "Credit plus payroll".into(),
            description: String::new(),
            components: vec![
                component(
                    "loan",
                    "LOAN",
                    true,
                    Some(Benefit::SpreadPercent(BasisPoints::new(10))),
                ),
                component(
                    "payroll",
                    "PAYROLL",
                    true,
                    Some(Benefit::FixedPercent(BasisPoints::new(2_000))),
                ),
                component("card", "CARD", false, Some(Benefit::Waive)),
            ],
            eligibility: CustomerCondition {
                corporate_tiers: vec![CorporateTier::Tier1Branch, CorporateTier::Tier2Branch],
                stages: vec![LifecycleStage::Established, LifecycleStage::Core],
                ..CustomerCondition::default()
            },
            prerequisites: vec![
                Prerequisite {
                    prerequisite_id: "payroll".into(),
                    requirement: Requirement::HoldsCategory(ProductCategory::Payroll),
                    description: "payroll agency with us".into(),
                },
                Prerequisite {
                    prerequisite_id: "execs".into(),
                    requirement: Requirement::ExecutivePersonalAccounts { min_count: 2 },
                    description: "two executives bank with us personally".into(),
                },
                Prerequisite {
                    prerequisite_id: "card".into(),
                    requirement: Requirement::HoldsProduct("CARD".into()),
                    description: "corporate card issuance".into(),
                },
            ],
            effective: EffectiveRange::starting(d(2025, 1, 1)),
            active: true,
        }
    }

    fn lookup<'c>(cat: &'c [Product]) -> impl Fn(&str) -> Option<&'c Product> + 'c {
        move |id| cat.iter().find(|p| p.product_id == id)
    }

    #[test]
    fn eligibility_names_failing_conditions_and_missing_prerequisites() {
        let b = bundle();
        let facts = CustomerFacts {
            corporate_tier: Some(CorporateTier::SubBranch),
            stage: Some(LifecycleStage::Core),
            executives_with_personal_accounts: 2,
            ..CustomerFacts::default()
        };
        let e = eligibility(&b, &facts);
        assert!(!e.eligible);
        assert_eq!(e.unmet.len(), 1);
        assert_eq!(e.unmet[0].condition, "corporate_tiers");
        assert_eq!(
            e.unmet[0].message,
            "corporate tier sub_branch, bundle needs one of tier1_branch, tier2_branch"
        );
        let ids: Vec<_> = e
            .missing_prerequisites
            .iter()
            .map(|p| p.prerequisite_id.as_str())
            .collect();
        assert_eq!(ids, ["payroll", "card"]);
        let facts = CustomerFacts {
            corporate_tier: Some(CorporateTier::Tier2Branch),
            held_categories: vec![ProductCategory::Payroll],
            held_product_ids: vec!["CARD".into()],
            ..facts
        };
        let e = eligibility(&b, &facts);
        assert!(e.eligible && e.unmet.is_empty() && e.missing_prerequisites.is_empty());
    }

    #[test]
    fn quoted_products_meet_holding_prerequisites() {
        let b = bundle();
        let cat = catalogue();
        let facts = CustomerFacts::default();
        assert_eq!(b.missing_prerequisites(&facts).len(), 3);
        let quoted = [&cat[2], &cat[3]]; // payroll and card
        let missing = b.missing_prerequisites_with(&facts, &quoted);
        assert_eq!(missing.len(), 1);
        assert_eq!(missing[0].prerequisite_id, "execs");
        let one_exec = CustomerFacts {
            executives_with_personal_accounts: 1,
            ..facts
        };
        assert!(!b.prerequisites[1].is_met(&one_exec, &quoted));
    }

    #[test]
    fn bundle_validation() {
        let cat = catalogue();
        assert_eq!(bundle().validate(lookup(&cat)), Ok(()));
        let mut b = bundle();
        b.name = String::new();
        b.components[0].mandatory = false;
        b.components[1].mandatory = false;
        b.components[1].component_id = "loan".into();
        b.components[2].benefit = Some(Benefit::SpreadPercent(BasisPoints::new(5)));
        b.components.push(component("x", "NOPE", false, None));
        b.components.push(component("y", "LOAN", false, None));
        b.prerequisites[0].prerequisite_id = "execs".into();
        b.prerequisites[1].requirement = Requirement::ExecutivePersonalAccounts { min_count: 0 };
        b.prerequisites[2].requirement = Requirement::HoldsProduct(String::new());
        b.eligibility.min_ttm_contribution = Some(Money::from_minor(Currency::CNY, -1));
        let fields: Vec<_> = b
            .validate(lookup(&cat))
            .unwrap_err()
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "name",
                "components",
                "components[1].component_id",
                "components[2].benefit.benefit_type",
                "components[3].product_id",
                "components[4].product_id",
                "eligibility.min_ttm_contribution",
                "prerequisites[1].prerequisite_id",
                "prerequisites[1].min_count",
                "prerequisites[2].product_id",
            ]
        );
        let empty = Bundle {
            components: vec![],
            ..bundle()
        };
        assert_eq!(
            empty.validate(lookup(&cat)).unwrap_err()[0].field,
            "components"
        );
        let mut bad_benefit = bundle();
        bad_benefit.components[1].benefit = Some(Benefit::FixedPercent(BasisPoints::new(0)));
        assert_eq!(
            bad_benefit.validate(lookup(&cat)).unwrap_err()[0].field,
            "components[1].benefit.value_bps"
        );
    }

    #[test]
    fn in_force_and_component_lookup() {
        let b = bundle();
        assert!(b.in_force(d(2025, 1, 1)));
        assert!(!b.in_force(d(2024, 12, 31)));
        assert!(
            !Bundle {
                active: false,
                ..bundle()
            }
            .in_force(d(2025, 6, 1))
        );
        assert_eq!(
            b.component("card").map(|c| c.product_id.as_str()),
            Some("CARD")
        );
        assert!(b.component("nope").is_none());
    }
}
