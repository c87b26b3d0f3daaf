//! Conversions between the wire types of `bankmkt.v1` and the domain types, done once at the edge
//! (`TryFrom`-style functions that name the field that is wrong).

use bankmkt_domain::org::{BranchCode, BranchLevel, BusinessLine, Role};
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;
use chrono::NaiveDate;

pub use bankmkt_proto::wire::{date_from_proto, date_to_proto, timestamp};

/// An optional wire date, recording a violation against `field` when it is invalid.
pub fn optional_date(
    field: &str,
    date: Option<&v1::Date>,
    v: &mut Violations,
) -> Option<NaiveDate> {
    date.and_then(|d| v.check(field, date_from_proto(d)))
}

/// A branch id from the wire.
pub fn branch_code(field: &str, raw: &str, v: &mut Violations) -> Option<BranchCode> {
    if raw.is_empty() {
        v.add(field, "is required");
        return None;
    }
    v.check(field, BranchCode::parse(raw))
}

/// The domain level of a wire level; unspecified is `None`.
pub fn level_from_proto(level: i32) -> Option<BranchLevel> {
    match v1::BranchLevel::try_from(level).ok()? {
        v1::BranchLevel::Unspecified => None,
        v1::BranchLevel::HeadOffice => Some(BranchLevel::HeadOffice),
        v1::BranchLevel::Tier1Branch => Some(BranchLevel::Tier1Branch),
        v1::BranchLevel::Tier2Branch => Some(BranchLevel::Tier2Branch),
        v1::BranchLevel::SubBranch => Some(BranchLevel::SubBranch),
        v1::BranchLevel::Outlet => Some(BranchLevel::Outlet),
    }
}

/// The wire level of a domain level.
pub fn level_to_proto(level: BranchLevel) -> v1::BranchLevel {
    match level {
        BranchLevel::HeadOffice => v1::BranchLevel::HeadOffice,
        BranchLevel::Tier1Branch => v1::BranchLevel::Tier1Branch,
        BranchLevel::Tier2Branch => v1::BranchLevel::Tier2Branch,
        BranchLevel::SubBranch => v1::BranchLevel::SubBranch,
        BranchLevel::Outlet => v1::BranchLevel::Outlet,
    }
}

/// The domain line of a wire line; unspecified or unknown is `None`.
pub fn line_from_proto(line: i32) -> Option<BusinessLine> {
    match v1::BusinessLine::try_from(line).ok()? {
        v1::BusinessLine::Unspecified => None,
        v1::BusinessLine::Corporate => Some(BusinessLine::Corporate),
        v1::BusinessLine::SmallBusiness => Some(BusinessLine::SmallBusiness),
        v1::BusinessLine::Retail => Some(BusinessLine::Retail),
        v1::BusinessLine::TradeFinance => Some(BusinessLine::TradeFinance),
        v1::BusinessLine::FxSettlement => Some(BusinessLine::FxSettlement),
        v1::BusinessLine::Wealth => Some(BusinessLine::Wealth),
    }
}

/// The wire line of a domain line.
pub fn line_to_proto(line: BusinessLine) -> v1::BusinessLine {
    match line {
        BusinessLine::Corporate => v1::BusinessLine::Corporate,
        BusinessLine::SmallBusiness => v1::BusinessLine::SmallBusiness,
        BusinessLine::Retail => v1::BusinessLine::Retail,
        BusinessLine::TradeFinance => v1::BusinessLine::TradeFinance,
        BusinessLine::FxSettlement => v1::BusinessLine::FxSettlement,
        BusinessLine::Wealth => v1::BusinessLine::Wealth,
    }
}

/// The domain role of a wire role; unspecified or unknown is `None`.
pub fn role_from_proto(role: i32) -> Option<Role> {
    match v1::Role::try_from(role).ok()? {
        v1::Role::Unspecified => None,
        v1::Role::CustomerManager => Some(Role::CustomerManager),
        v1::Role::ProductManager => Some(Role::ProductManager),
        v1::Role::TeamLead => Some(Role::TeamLead),
        v1::Role::BranchHead => Some(Role::BranchHead),
        v1::Role::Approver => Some(Role::Approver),
        v1::Role::PricingCommittee => Some(Role::PricingCommittee),
        v1::Role::PerformanceOffice => Some(Role::PerformanceOffice),
        v1::Role::Auditor => Some(Role::Auditor),
        v1::Role::Admin => Some(Role::Admin),
        v1::Role::CoreBanking => Some(Role::CoreBanking),
        v1::Role::Batch => Some(Role::Batch),
        v1::Role::Service => Some(Role::Service),
    }
}

/// The wire role of a domain role.
pub fn role_to_proto(role: Role) -> v1::Role {
    match role {
        Role::CustomerManager => v1::Role::CustomerManager,
        Role::ProductManager => v1::Role::ProductManager,
        Role::TeamLead => v1::Role::TeamLead,
        Role::BranchHead => v1::Role::BranchHead,
        Role::Approver => v1::Role::Approver,
        Role::PricingCommittee => v1::Role::PricingCommittee,
        Role::PerformanceOffice => v1::Role::PerformanceOffice,
        Role::Auditor => v1::Role::Auditor,
        Role::Admin => v1::Role::Admin,
        Role::CoreBanking => v1::Role::CoreBanking,
        Role::Batch => v1::Role::Batch,
        Role::Service => v1::Role::Service,
    }
}

/// Maps a closed set of wire enum values to domain values and back.
macro_rules! enum_map {
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

use bankmkt_domain::customer::{
    CorporateTier, CustomerKind, IdentityType, LifecycleStage, WealthTier,
};

enum_map!(kind_from_proto, kind_to_proto, v1::CustomerKind, CustomerKind, {
    Individual => Individual,
    Corporate => Corporate,
    SmallBusiness => SmallBusiness,
    Institution => Institution,
});

enum_map!(identity_type_from_proto, identity_type_to_proto, v1::IdentityType, IdentityType, {
    ResidentId => ResidentId,
    Passport => Passport,
    HkMacauPermit => HkMacauPermit,
    TaiwanPermit => TaiwanPermit,
    ForeignPermanentResidentId => ForeignPermanentResidence,
    UnifiedSocialCreditCode => UnifiedSocialCreditCode,
    Other => Other,
});

enum_map!(stage_from_proto, stage_to_proto, v1::LifecycleStage, LifecycleStage, {
    Potential => Potential,
    Target => Target,
    New => New,
    Established => Established,
    Core => Core,
    Strategic => StrategicPartner,
    Problem => Problem,
    Exited => Exited,
});

enum_map!(corporate_tier_from_proto, corporate_tier_to_proto, v1::CorporateTier, CorporateTier, {
    HeadOffice => HeadOffice,
    Tier1Branch => Tier1Branch,
    Tier2Branch => Tier2Branch,
    SubBranch => SubBranch,
});

enum_map!(wealth_tier_from_proto, wealth_tier_to_proto, v1::WealthTier, WealthTier, {
    Mass => Mass,
    Vip => Vip,
    Platinum => Platinum,
    PrivateBanking => PrivateBanking,
});
