//! The vocabulary of the organisation (DOMAIN.md §1): the levels of the branch tree, the
//! business lines, the roles carried in a caller's token, and the validated [`BranchCode`].
//! The tree itself lives in [`crate::branch_tree`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

code_enum! {
    /// The level of a node in the branch tree, from the root down. `Ord` follows depth:
    /// `HeadOffice < Tier1Branch < … < Outlet`.
    pub enum BranchLevel {
        /// Head office (总行), the root.
        HeadOffice => "head_office",
        /// Tier-1 branch (一级分行).
        Tier1Branch => "tier1_branch",
        /// Tier-2 branch (二级分行).
        Tier2Branch => "tier2_branch",
        /// Sub-branch (支行).
        SubBranch => "sub_branch",
        /// Outlet (网点).
        Outlet => "outlet",
    }
}

impl BranchLevel {
    /// Distance from the head office: 0 for the head office, 4 for an outlet.
    pub const fn depth(self) -> u8 {
        self as u8
    }

    /// Whether `self` is strictly deeper (further from head office) than `other`.
    pub fn is_below(self, other: BranchLevel) -> bool {
        self > other
    }
}

code_enum! {
    /// A business line (条线): customer lines and product lines.
    pub enum BusinessLine {
        /// Corporate banking (公司).
        Corporate => "corporate",
        /// Small business (小企业).
        SmallBusiness => "small_business",
        /// Retail and community banking (个人 / 社区).
        Retail => "retail",
        /// Trade finance.
        TradeFinance => "trade_finance",
        /// FX and settlement.
        FxSettlement => "fx_settlement",
        /// Wealth management.
        Wealth => "wealth",
    }
}

code_enum! {
    /// A role in the caller's token (`roles` claim), DOMAIN.md §1.
    pub enum Role {
        /// Customer manager (客户经理).
        CustomerManager => "customer_manager",
        /// Product manager (产品经理).
        ProductManager => "product_manager",
        /// Team lead.
        TeamLead => "team_lead",
        /// Head of a branch.
        BranchHead => "branch_head",
        /// Approver; authority is the level of the approver's branch.
        Approver => "approver",
        /// Member of the pricing / marketing coordination committee.
        PricingCommittee => "pricing_committee",
        /// The performance office.
        PerformanceOffice => "performance_office",
        /// Auditor (read-only oversight).
        Auditor => "auditor",
        /// Administrator.
        Admin => "admin",
        /// System caller: core banking.
        CoreBanking => "core_banking",
        /// System caller: a batch job.
        Batch => "batch",
        /// System caller: another bankmkt service.
        Service => "service",
    }
}

impl Role {
    /// Whether this role belongs to a system caller rather than a person.
    pub const fn is_system(self) -> bool {
        matches!(self, Role::CoreBanking | Role::Batch | Role::Service)
    }
}

/// A branch code that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid branch code {0:?}: expected 1 to 32 ASCII letters, digits, '-' or '_'")]
pub struct InvalidBranchCode(pub String);

/// A bank's own short code for a branch (e.g. `310000` or `SH-PD-01`): 1 to 32 ASCII letters,
/// digits, `-` or `_`, compared case-sensitively.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BranchCode(String);

impl BranchCode {
    /// Validates a code.
    pub fn parse(code: &str) -> Result<Self, InvalidBranchCode> {
        let ok = (1..=32).contains(&code.len())
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(code.to_owned()))
        } else {
            Err(InvalidBranchCode(code.chars().take(64).collect()))
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BranchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BranchCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BranchCode({})", self.0)
    }
}

impl FromStr for BranchCode {
    type Err = InvalidBranchCode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BranchCode {
    type Error = InvalidBranchCode;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BranchCode> for String {
    fn from(code: BranchCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_by_depth() {
        let depths: Vec<u8> = BranchLevel::ALL.iter().map(|l| l.depth()).collect();
        assert_eq!(depths, [0, 1, 2, 3, 4]);
        assert!(BranchLevel::Outlet.is_below(BranchLevel::SubBranch));
        assert!(BranchLevel::SubBranch.is_below(BranchLevel::HeadOffice));
        assert!(!BranchLevel::Tier1Branch.is_below(BranchLevel::Tier1Branch));
        assert!(!BranchLevel::HeadOffice.is_below(BranchLevel::Outlet));
        assert_eq!("tier2_branch".parse(), Ok(BranchLevel::Tier2Branch));
    }

    #[test]
    fn business_line_codes() {
        let codes: Vec<&str> = BusinessLine::ALL.iter().map(|l| l.as_str()).collect();
        assert_eq!(
            codes,
            [
                "corporate",
                "small_business",
                "retail",
                "trade_finance",
                "fx_settlement",
                "wealth"
            ]
        );
        assert_eq!("fx_settlement".parse(), Ok(BusinessLine::FxSettlement));
        assert!("Corporate".parse::<BusinessLine>().is_err());
    }

    #[test]
    fn roles_are_exactly_those_of_the_domain() {
        let codes: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(
            codes,
            [
                "customer_manager",
                "product_manager",
                "team_lead",
                "branch_head",
                "approver",
                "pricing_committee",
                "performance_office",
                "auditor",
                "admin",
                "core_banking",
                "batch",
                "service",
            ]
        );
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(*role));
        }
        let system: Vec<Role> = Role::ALL
            .iter()
            .copied()
            .filter(|r| r.is_system())
            .collect();
        assert_eq!(system, [Role::CoreBanking, Role::Batch, Role::Service]);
        assert!("root".parse::<Role>().is_err());
        let roles: Vec<Role> = serde_json::from_str(r#"["approver","batch"]"#).unwrap();
        assert_eq!(roles, [Role::Approver, Role::Batch]);
    }

    #[test]
    fn branch_codes_are_validated() {
        assert_eq!(BranchCode::parse("310000").unwrap().as_str(), "310000");
        assert!(BranchCode::parse("SH-PD_01").is_ok());
        assert!(BranchCode::parse(&"A".repeat(32)).is_ok());
        for bad in ["", "a b", "a/b", "分行", &"A".repeat(33)] {
            assert!(BranchCode::parse(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<BranchCode>("\"a/b\"").is_err());
    }
}
