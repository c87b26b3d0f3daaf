//! What referrals, activities and the overdue check read from the registry, on behalf of the end
//! user through [`crate::clients::Registry::signed`]: a customer's kind, owning branch, A manager,
//! tiers and entry into the book ([`CustomerDetail`]), the customers of a branch subtree (for the
//! cadence check of customers with no activity at all), an individual's full consent with its
//! channels (the domain's per-channel contact rule reads it), and which branches have active
//! staff in a line (the referral's routing). Also the wire ↔ domain maps of the enums these RPCs
//! share (customer kind, tiers, activity type, channel, product category).

use std::collections::BTreeSet;

use bankmkt_domain::consent::{Consent, ContactChannel};
use bankmkt_domain::coordination::activities::ActivityType;
use bankmkt_domain::customer::{CorporateTier, CustomerKind, WealthTier};
use bankmkt_domain::org::{BranchCode, BusinessLine};
use bankmkt_domain::pricing::ProductCategory;
use bankmkt_platform::Caller;
use bankmkt_proto::v1;
use chrono::{DateTime, NaiveDate};
use tonic::Code;

use crate::CoordinationService;
use crate::clients::Registry;
use crate::convert;
use crate::error::{Result, ServiceError};

macro_rules! wire_enum {
    ($from:ident, $to:ident, $wire:ty, $domain:ty, { $($w:ident => $d:ident),* $(,)? }) => {
        /// The domain value of a wire value; unspecified or unknown is `None`.
        pub fn $from(raw: i32) -> Option<$domain> {
            match <$wire>::try_from(raw).ok()? {
                $(<$wire>::$w => Some(<$domain>::$d),)*
                _ => None,
            }
        }

        /// The wire value of a domain value.
        pub fn $to(value: $domain) -> $wire {
            match value {
                $(<$domain>::$d => <$wire>::$w,)*
            }
        }
    };
}

wire_enum!(kind_from_proto, kind_to_proto, v1::CustomerKind, CustomerKind, {
    Individual => Individual,
    Corporate => Corporate,
    SmallBusiness => SmallBusiness,
    Institution => Institution,
});

wire_enum!(corporate_tier_from_proto, corporate_tier_to_proto, v1::CorporateTier, CorporateTier, {
    HeadOffice => HeadOffice,
    Tier1Branch => Tier1Branch,
    Tier2Branch => Tier2Branch,
    SubBranch => SubBranch,
});

wire_enum!(wealth_tier_from_proto, wealth_tier_to_proto, v1::WealthTier, WealthTier, {
    Mass => Mass,
    Vip => Vip,
    Platinum => Platinum,
    PrivateBanking => PrivateBanking,
});

wire_enum!(activity_type_from_proto, activity_type_to_proto, v1::ActivityType, ActivityType, {
    Visit => Visit,
    Call => Call,
    Salon => Salon,
    Seminar => Seminar,
});

wire_enum!(channel_from_proto, channel_to_proto, v1::ContactChannel, ContactChannel, {
    InPerson => InPerson,
    Phone => Phone,
    Sms => Sms,
    Email => Email,
    Wechat => Wechat,
    Digital => Digital,
    Event => Event,
    Mail => Mail,
});

wire_enum!(category_from_proto, category_to_proto, v1::ProductCategory, ProductCategory, {
    Deposit => Deposit,
    Wealth => Wealth,
    Loan => Loan,
    CreditFacility => CreditFacility,
    Settlement => Settlement,
    Payroll => Payroll,
    Card => Card,
    Fx => Fx,
    TradeFinance => TradeFinance,
    Pos => Pos,
    Other => Other,
});

/// A customer as referrals and the cadence rules see it.
#[derive(Clone, Debug)]
pub struct CustomerDetail {
    /// The customer.
    pub customer_id: String,
    /// Its kind.
    pub kind: CustomerKind,
    /// The owning branch.
    pub owning_branch: BranchCode,
    /// The A manager.
    pub primary_manager: String,
    /// Corporate tier, if any.
    pub corporate_tier: Option<CorporateTier>,
    /// Wealth tier, if any.
    pub wealth_tier: Option<WealthTier>,
    /// The business date it entered the book.
    pub since: NaiveDate,
}

fn detail(svc: &CoordinationService, c: v1::Customer) -> Result<CustomerDetail> {
    let kind = kind_from_proto(c.kind)
        .ok_or_else(|| ServiceError::internal(format!("customer {} has no kind", c.customer_id)))?;
    let owning_branch = BranchCode::parse(&c.owning_branch_id).map_err(ServiceError::internal)?;
    let since = c
        .create_time
        .as_ref()
        .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
        .map_or_else(
            || svc.clock.today(),
            |t| svc.clock.calendar().business_date(t),
        );
    Ok(CustomerDetail {
        customer_id: c.customer_id,
        kind,
        owning_branch,
        primary_manager: c.primary_manager_id,
        corporate_tier: corporate_tier_from_proto(c.corporate_tier),
        wealth_tier: wealth_tier_from_proto(c.wealth_tier),
        since,
    })
}

/// Customer `id` as `caller` may see it (`NOT_FOUND` otherwise).
pub async fn customer(
    svc: &CoordinationService,
    caller: &Caller,
    id: &str,
) -> Result<CustomerDetail> {
    let (mut client, request) = svc.registry.signed(
        caller,
        v1::GetCustomerRequest {
            customer_id: id.to_owned(),
        },
    )?;
    let c = client
        .get_customer(request)
        .await
        .map_err(|s| Registry::callee_error(s, "customer", id))?
        .into_inner()
        .customer
        .ok_or_else(|| ServiceError::not_found("customer", id))?;
    detail(svc, c)
}

/// The active customers owned in `root`'s subtree, as `caller` may see them.
pub async fn customers_in(
    svc: &CoordinationService,
    caller: &Caller,
    root: &BranchCode,
) -> Result<Vec<CustomerDetail>> {
    let mut out = Vec::new();
    let mut token = String::new();
    loop {
        let (mut client, request) = svc.registry.signed(
            caller,
            v1::SearchCustomersRequest {
                branch_id: root.as_str().to_owned(),
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            },
        )?;
        let page = client
            .search_customers(request)
            .await
            .map_err(|s| Registry::callee_error(s, "branch", root.as_str()))?
            .into_inner();
        for c in page.customers {
            out.push(detail(svc, c)?);
        }
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

/// An individual's consent with its channels; `None` when none is recorded.
pub async fn consent(
    svc: &CoordinationService,
    caller: &Caller,
    customer_id: &str,
) -> Result<Option<Consent>> {
    let (mut client, request) = svc.registry.signed(
        caller,
        v1::GetConsentRequest {
            customer_id: customer_id.to_owned(),
        },
    )?;
    match client.get_consent(request).await {
        Ok(r) => Ok(r.into_inner().consent.map(|c| Consent {
            granted_channels: c
                .channels
                .iter()
                .filter(|ch| ch.granted)
                .filter_map(|ch| channel_from_proto(ch.channel))
                .collect(),
            do_not_contact: c.do_not_contact,
            cross_line_use: c.cross_line_use,
        })),
        Err(s) if s.code() == Code::NotFound => Ok(None),
        Err(s) => Err(Registry::callee_error(s, "customer", customer_id)),
    }
}

/// The branches of `root`'s subtree with staff working in `line` and active on `today`.
pub async fn staffed_branches(
    svc: &CoordinationService,
    caller: &Caller,
    root: &BranchCode,
    line: BusinessLine,
    today: NaiveDate,
) -> Result<BTreeSet<BranchCode>> {
    let mut out = BTreeSet::new();
    let mut token = String::new();
    loop {
        let (mut client, request) = svc.registry.signed(
            caller,
            v1::ListEmployeesRequest {
                branch_id: root.as_str().to_owned(),
                line: convert::line_to_proto(line) as i32,
                active_on: Some(convert::date_to_proto(today)),
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            },
        )?;
        let page = client
            .list_employees(request)
            .await
            .map_err(|s| Registry::callee_error(s, "branch", root.as_str()))?
            .into_inner();
        for e in page.employees {
            if let Ok(b) = BranchCode::parse(&e.branch_id) {
                out.insert(b);
            }
        }
        if page.next_page_token.is_empty() {
            return Ok(out);
        }
        token = page.next_page_token;
    }
}

/// Adds the domain's violations of `e` (under `prefix`) to `v`; passes any other error on.
pub fn absorb(
    v: &mut bankmkt_platform::status::Violations,
    e: bankmkt_domain::coordination::CoordinationError,
    prefix: &str,
) -> Result<()> {
    match ServiceError::from_domain(e, prefix) {
        ServiceError::Invalid(found) => {
            for (field, message) in found.fields() {
                v.add(field.clone(), message.clone());
            }
            Ok(())
        }
        other => Err(other),
    }
}

/// Money at `field`, when set (the currency must be known).
pub fn money(
    field: &str,
    raw: Option<&v1::Money>,
    v: &mut bankmkt_platform::status::Violations,
) -> Option<bankmkt_domain::money::Money> {
    use bankmkt_domain::money::{Currency, Money};
    let raw = raw?;
    let currency = v.check(format!("{field}.currency"), Currency::parse(&raw.currency))?;
    Some(Money::from_minor(currency, raw.minor_units))
}

/// A wire time at `field` as an instant; a violation when out of range.
pub fn instant(
    field: &str,
    raw: Option<&prost_types::Timestamp>,
    v: &mut bankmkt_platform::status::Violations,
) -> Option<chrono::DateTime<chrono::Utc>> {
    let raw = raw?;
    let at = u32::try_from(raw.nanos)
        .ok()
        .and_then(|n| DateTime::from_timestamp(raw.seconds, n));
    if at.is_none() {
        v.add(field, "is not a valid time");
    }
    at.map(|t| chrono::SubsecRound::trunc_subsecs(t, 6))
}

/// The caller as the staff rules see them (their token's branch and lines), or `None` without a
/// branch.
pub fn caller_staff(
    caller: &Caller,
    today: NaiveDate,
) -> Option<bankmkt_domain::coordination::StaffFacts> {
    caller
        .branch
        .clone()
        .map(|branch| bankmkt_domain::coordination::StaffFacts {
            employee_id: caller.subject.clone(),
            branch,
            lines: caller.lines.clone(),
            active_from: today,
            active_to: None,
        })
}
