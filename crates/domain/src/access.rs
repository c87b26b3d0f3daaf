//! Who may see what (ARCHITECTURE.md, "Identity and authorisation"). A caller sees a customer
//! when the customer's owning branch is in the caller's branch subtree, when a role reads across
//! the whole bank, or when an access grant (an opportunity membership) names the caller; and sees
//! personal data in clear only with a role that allows it or as the customer's own A/B manager.
//! These are pure decisions over values the services have already loaded.

use crate::branch_tree::BranchTree;
use crate::org::{BranchCode, Role};

/// Roles that read customers of every branch (oversight and system callers).
pub const BANK_WIDE_READ_ROLES: [Role; 6] = [
    Role::Admin,
    Role::Auditor,
    Role::PerformanceOffice,
    Role::CoreBanking,
    Role::Batch,
    Role::Service,
];

/// Roles that see identity numbers, phone numbers and birth dates in clear for any visible customer.
pub const CLEAR_PII_ROLES: [Role; 3] = [Role::Admin, Role::Auditor, Role::CoreBanking];

/// Whether a caller with `roles` at `caller_branch` may read a customer owned by `owning_branch`;
/// `granted` is true when an access grant names the caller for this customer.
pub fn may_read_customer(
    roles: &[Role],
    caller_branch: Option<&BranchCode>,
    owning_branch: &BranchCode,
    tree: &BranchTree,
    granted: bool,
) -> bool {
    granted
        || roles.iter().any(|r| BANK_WIDE_READ_ROLES.contains(r))
        || caller_branch.is_some_and(|own| tree.is_in_subtree(owning_branch, own))
}

/// Whether the caller sees personal data in clear: a clear-PII role, or the customer's own
/// primary or backup manager.
pub fn may_see_clear_pii(
    roles: &[Role],
    caller: &str,
    primary_manager: &str,
    backup_manager: &str,
) -> bool {
    roles.iter().any(|r| CLEAR_PII_ROLES.contains(r))
        || (!caller.is_empty() && (caller == primary_manager || caller == backup_manager))
}

/// Whether a caller may act on branch `target` at all: bank-wide administration, or `target` in
/// the caller's own subtree.
pub fn may_act_on_branch(
    roles: &[Role],
    caller_branch: Option<&BranchCode>,
    target: &BranchCode,
    tree: &BranchTree,
) -> bool {
    roles.contains(&Role::Admin) || caller_branch.is_some_and(|own| tree.is_in_subtree(target, own))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::branch_tree::BranchNode;
    use crate::org::BranchLevel;

    fn code(s: &str) -> BranchCode {
        BranchCode::parse(s).expect("code")
    }

    fn tree() -> BranchTree {
        let node = |id: &str, parent: Option<&str>, level| BranchNode {
            id: code(id),
            parent: parent.map(code),
            level,
        };
        BranchTree::new([
            node("HQ", None, BranchLevel::HeadOffice),
            node("BJ", Some("HQ"), BranchLevel::Tier1Branch),
            node("BJ01", Some("BJ"), BranchLevel::Tier2Branch),
            node("SH", Some("HQ"), BranchLevel::Tier1Branch),
        ])
        .expect("tree")
    }

    #[test]
    fn customers_are_visible_in_the_callers_subtree_only() {
        let t = tree();
        let manager = [Role::CustomerManager];
        assert!(may_read_customer(
            &manager,
            Some(&code("BJ")),
            &code("BJ01"),
            &t,
            false
        ));
        assert!(may_read_customer(
            &manager,
            Some(&code("HQ")),
            &code("BJ01"),
            &t,
            false
        ));
        assert!(!may_read_customer(
            &manager,
            Some(&code("SH")),
            &code("BJ01"),
            &t,
            false
        ));
        assert!(
            !may_read_customer(&manager, Some(&code("BJ01")), &code("BJ"), &t, false),
            "not upwards"
        );
        assert!(!may_read_customer(&manager, None, &code("BJ01"), &t, false));
        assert!(
            may_read_customer(&manager, Some(&code("SH")), &code("BJ01"), &t, true),
            "a grant opens it"
        );
        assert!(may_read_customer(
            &[Role::Auditor],
            Some(&code("SH")),
            &code("BJ01"),
            &t,
            false
        ));
        assert!(may_read_customer(
            &[Role::CoreBanking],
            None,
            &code("BJ01"),
            &t,
            false
        ));
    }

    #[test]
    fn clear_pii_needs_a_role_or_being_the_customers_manager() {
        assert!(may_see_clear_pii(
            &[Role::CustomerManager],
            "e1",
            "e1",
            "e2"
        ));
        assert!(may_see_clear_pii(
            &[Role::CustomerManager],
            "e2",
            "e1",
            "e2"
        ));
        assert!(!may_see_clear_pii(
            &[Role::CustomerManager, Role::Approver],
            "e3",
            "e1",
            "e2"
        ));
        assert!(may_see_clear_pii(&[Role::Auditor], "x", "e1", "e2"));
        assert!(!may_see_clear_pii(&[Role::BranchHead], "", "", ""));
    }

    #[test]
    fn acting_on_a_branch_needs_it_in_the_subtree_or_admin() {
        let t = tree();
        assert!(may_act_on_branch(
            &[Role::CustomerManager],
            Some(&code("BJ")),
            &code("BJ01"),
            &t
        ));
        assert!(!may_act_on_branch(
            &[Role::CustomerManager],
            Some(&code("SH")),
            &code("BJ01"),
            &t
        ));
        assert!(may_act_on_branch(
            &[Role::Admin],
            Some(&code("SH")),
            &code("BJ01"),
            &t
        ));
    }
}
