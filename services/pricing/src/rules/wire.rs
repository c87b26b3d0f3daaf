//! Wire ↔ domain conversions of what rules and bundles share: benefits, customer conditions, rule
//! targets and unmet conditions. Each parse takes the field path of the value in its request and
//! records a violation naming it (`rule.benefit.amount`, `bundle.eligibility.stages[1]`, ...);
//! the rules themselves (a percentage over 100%, a benefit that cannot apply to a product, a
//! negative minimum contribution) are the domain's validation, run after the conversion.

use bankmkt_domain::money::BasisPoints;
use bankmkt_domain::pricing::UnmetCondition;
use bankmkt_domain::pricing::rules::{Benefit, CustomerCondition, RuleTarget};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;

use crate::convert;
use crate::facts::{
    corporate_tier_from_proto, corporate_tier_to_proto, customer_kind_from_proto,
    customer_kind_to_proto, stage_from_proto, stage_to_proto, wealth_tier_from_proto,
    wealth_tier_to_proto,
};

/// A wire benefit at `field`: the type is required, `value_bps` is read for the percentage
/// types and `amount` (required) for the amount types.
pub fn benefit_from_proto(
    field: &str,
    raw: Option<&v1::Benefit>,
    v: &mut Violations,
) -> Option<Benefit> {
    let Some(raw) = raw else {
        v.add(field, "is required");
        return None;
    };
    let amount = |v: &mut Violations| {
        convert::money(&format!("{field}.amount"), raw.amount.as_ref(), true, v)
    };
    match v1::BenefitType::try_from(raw.benefit_type) {
        Ok(v1::BenefitType::Waive) => Some(Benefit::Waive),
        Ok(v1::BenefitType::FixedPercent) => {
            Some(Benefit::FixedPercent(BasisPoints::new(raw.value_bps)))
        }
        Ok(v1::BenefitType::SpreadPercent) => {
            Some(Benefit::SpreadPercent(BasisPoints::new(raw.value_bps)))
        }
        Ok(v1::BenefitType::FixedAmount) => amount(v).map(Benefit::FixedAmount),
        Ok(v1::BenefitType::SpreadAmount) => amount(v).map(Benefit::SpreadAmount),
        Ok(v1::BenefitType::Unspecified) | Err(_) => {
            v.add(
                format!("{field}.benefit_type"),
                format!("must be a known benefit type ({} is not)", raw.benefit_type),
            );
            None
        }
    }
}

/// A benefit for the wire.
pub fn benefit_to_proto(benefit: &Benefit) -> v1::Benefit {
    let (benefit_type, value_bps, amount) = match benefit {
        Benefit::Waive => (v1::BenefitType::Waive, 0, None),
        Benefit::FixedPercent(p) => (v1::BenefitType::FixedPercent, p.value(), None),
        Benefit::SpreadPercent(s) => (v1::BenefitType::SpreadPercent, s.value(), None),
        Benefit::FixedAmount(a) => (
            v1::BenefitType::FixedAmount,
            0,
            Some(convert::money_to_proto(*a)),
        ),
        Benefit::SpreadAmount(a) => (
            v1::BenefitType::SpreadAmount,
            0,
            Some(convert::money_to_proto(*a)),
        ),
    };
    v1::Benefit {
        benefit_type: benefit_type as i32,
        value_bps,
        amount,
    }
}

/// Each value of a repeated wire enum at `field[i]`, through `from`; unknown values are
/// violations.
fn enum_list<T: PartialEq>(
    field: &str,
    raw: &[i32],
    from: fn(i32) -> Option<T>,
    what: &str,
    v: &mut Violations,
) -> Vec<T> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, value) in raw.iter().enumerate() {
        match from(*value) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => v.add(format!("{field}[{i}]"), format!("repeats a {what}")),
            None => v.add(
                format!("{field}[{i}]"),
                format!("must be a known {what} ({value} is not)"),
            ),
        }
    }
    out
}

/// A wire customer condition at `field`; unset is no condition.
pub fn condition_from_proto(
    field: &str,
    raw: Option<&v1::CustomerCondition>,
    v: &mut Violations,
) -> CustomerCondition {
    let Some(raw) = raw else {
        return CustomerCondition::default();
    };
    CustomerCondition {
        kinds: enum_list(
            &format!("{field}.kinds"),
            &raw.kinds,
            customer_kind_from_proto,
            "customer kind",
            v,
        ),
        corporate_tiers: enum_list(
            &format!("{field}.corporate_tiers"),
            &raw.corporate_tiers,
            corporate_tier_from_proto,
            "corporate tier (unlisted cannot be a condition)",
            v,
        ),
        wealth_tiers: enum_list(
            &format!("{field}.wealth_tiers"),
            &raw.wealth_tiers,
            wealth_tier_from_proto,
            "wealth tier",
            v,
        ),
        segment_ids: raw.segment_ids.clone(),
        stages: enum_list(
            &format!("{field}.stages"),
            &raw.stages,
            stage_from_proto,
            "lifecycle stage",
            v,
        ),
        min_ttm_contribution: convert::money(
            &format!("{field}.min_ttm_contribution"),
            raw.min_ttm_contribution.as_ref(),
            false,
            v,
        ),
    }
}

/// A customer condition for the wire.
pub fn condition_to_proto(c: &CustomerCondition) -> v1::CustomerCondition {
    v1::CustomerCondition {
        kinds: c
            .kinds
            .iter()
            .map(|k| customer_kind_to_proto(*k) as i32)
            .collect(),
        corporate_tiers: c
            .corporate_tiers
            .iter()
            .map(|t| corporate_tier_to_proto(*t) as i32)
            .collect(),
        wealth_tiers: c
            .wealth_tiers
            .iter()
            .map(|t| wealth_tier_to_proto(*t) as i32)
            .collect(),
        segment_ids: c.segment_ids.clone(),
        stages: c.stages.iter().map(|s| stage_to_proto(*s) as i32).collect(),
        min_ttm_contribution: c.min_ttm_contribution.map(convert::money_to_proto),
    }
}

/// A wire rule target at `field`; unset targets every item.
pub fn target_from_proto(
    field: &str,
    raw: Option<&v1::RuleTarget>,
    v: &mut Violations,
) -> RuleTarget {
    let Some(raw) = raw else {
        return RuleTarget::default();
    };
    RuleTarget {
        product_ids: raw.product_ids.clone(),
        product_kind: convert::filter_enum(
            &format!("{field}.product_kind"),
            raw.product_kind,
            convert::kind_from_proto,
            "product kind",
            v,
        ),
        product_category: convert::filter_enum(
            &format!("{field}.product_category"),
            raw.product_category,
            convert::category_from_proto,
            "product category",
            v,
        ),
        line: convert::filter_enum(
            &format!("{field}.line"),
            raw.line,
            convert::line_from_proto,
            "business line",
            v,
        ),
    }
}

/// A rule target for the wire.
pub fn target_to_proto(t: &RuleTarget) -> v1::RuleTarget {
    v1::RuleTarget {
        product_ids: t.product_ids.clone(),
        product_kind: t
            .product_kind
            .map_or(0, |k| convert::kind_to_proto(k) as i32),
        product_category: t
            .product_category
            .map_or(0, |c| convert::category_to_proto(c) as i32),
        line: t.line.map_or(0, |l| convert::line_to_proto(l) as i32),
    }
}

/// An unmet condition for the wire.
pub fn unmet_to_proto(u: &UnmetCondition) -> v1::UnmetCondition {
    v1::UnmetCondition {
        condition: u.condition.clone(),
        actual: u.actual.clone(),
        required: u.required.clone(),
        message: u.message.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::customer::{CorporateTier, LifecycleStage};
    use bankmkt_domain::money::{Currency, Money};
    use bankmkt_domain::pricing::ProductKind;

    #[test]
    fn benefits_and_conditions_round_trip() {
        for benefit in [
            Benefit::Waive,
            Benefit::FixedPercent(BasisPoints::new(2_000)),
            Benefit::SpreadPercent(BasisPoints::new(25)),
            Benefit::FixedAmount(Money::from_minor(Currency::CNY, 30_000)),
            Benefit::SpreadAmount(Money::from_minor(Currency::USD, 500)),
        ] {
            let mut v = Violations::new();
            let wire = benefit_to_proto(&benefit);
            assert_eq!(benefit_from_proto("b", Some(&wire), &mut v), Some(benefit));
            assert!(v.is_empty());
        }
        let condition = CustomerCondition {
            corporate_tiers: vec![CorporateTier::Tier1Branch],
            stages: vec![LifecycleStage::StrategicPartner, LifecycleStage::Core],
            segment_ids: vec!["seg".into()],
            min_ttm_contribution: Some(Money::from_minor(Currency::CNY, 20_000_000)),
            ..CustomerCondition::default()
        };
        let mut v = Violations::new();
        let wire = condition_to_proto(&condition);
        assert_eq!(condition_from_proto("c", Some(&wire), &mut v), condition);
        let target = RuleTarget {
            product_kind: Some(ProductKind::Asset),
            ..RuleTarget::default()
        };
        assert_eq!(
            target_from_proto("t", Some(&target_to_proto(&target)), &mut v),
            target
        );
        assert!(v.is_empty());
    }

    #[test]
    fn bad_values_name_their_fields() {
        let mut v = Violations::new();
        let no_type = v1::Benefit::default();
        assert_eq!(
            benefit_from_proto("rule.benefit", Some(&no_type), &mut v),
            None
        );
        let no_amount = v1::Benefit {
            benefit_type: v1::BenefitType::FixedAmount as i32,
            ..v1::Benefit::default()
        };
        assert_eq!(
            benefit_from_proto("rule.benefit", Some(&no_amount), &mut v),
            None
        );
        let wire = v1::CustomerCondition {
            corporate_tiers: vec![v1::CorporateTier::Unlisted as i32],
            stages: vec![99],
            ..v1::CustomerCondition::default()
        };
        condition_from_proto("rule.condition", Some(&wire), &mut v);
        let fields: Vec<&str> = v.fields().iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "rule.benefit.benefit_type",
                "rule.benefit.amount",
                "rule.condition.corporate_tiers[0]",
                "rule.condition.stages[0]"
            ]
        );
    }
}
