//! The relationship graph between customers (DOMAIN.md §2 "Relationships"): the directed
//! relationship types (group parent of a member, supplier or distributor of a core enterprise,
//! executive, key employee or key person of an organisation, tenant of a market operator), which
//! customer kinds each type allows at each end, the shape rules of a link (no self-links, a key
//! person's role only on key-person links, a title only on person links, an equity share only on
//! group links and within (0, 1]), and the bounded breadth-first [`traverse`] over an adjacency the
//! caller passes in: both directions or one, at most [`MAX_DEPTH`] steps, each customer visited once
//! (so cycles terminate), cut at a node cap, and never walking on through a customer the caller
//! may not see.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::str::FromStr;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::customer::CustomerKind;

code_enum! {
    /// A directed relationship: `from` REL `to`.
    pub enum RelationshipType {
        /// From is the group parent of to, a group member (集团客户).
        GroupParentOf => "group_parent_of",
        /// From is an upstream supplier of to, a core enterprise (供应链 上游).
        SupplierOf => "supplier_of",
        /// From is a downstream distributor of to, a core enterprise (供应链 下游).
        DistributorOf => "distributor_of",
        /// From, an individual, is an executive of to, an organisation (公私联动).
        ExecutiveOf => "executive_of",
        /// From, an individual, is a key employee of to, an organisation (公私联动).
        EmployeeOf => "employee_of",
        /// From, an individual, is a key person (decision maker, contact, influencer) of to.
        KeyPersonOf => "key_person_of",
        /// From, a small business, is a tenant in the market run by to, a market operator (批量营销).
        MarketMemberOf => "market_member_of",
    }
}

code_enum! {
    /// The role of a key person of an organisation.
    pub enum KeyPersonRole {
        /// Makes or signs off the decision to bank with us.
        DecisionMaker => "decision_maker",
        /// Day-to-day contact.
        Contact => "contact",
        /// Influences the decision without making it.
        Influencer => "influencer",
    }
}

/// Which edges of a customer to follow or list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Edges where the customer is the `from` end.
    Outgoing,
    /// Edges where the customer is the `to` end.
    Incoming,
    /// Both.
    #[default]
    Both,
}

impl Direction {
    /// Whether edges leaving the customer are followed.
    pub const fn outgoing(self) -> bool {
        matches!(self, Direction::Outgoing | Direction::Both)
    }

    /// Whether edges arriving at the customer are followed.
    pub const fn incoming(self) -> bool {
        matches!(self, Direction::Incoming | Direction::Both)
    }
}

/// The deepest a traversal may go from its root.
pub const MAX_DEPTH: i32 = 3;
/// The node cap of a traversal that names none.
pub const DEFAULT_MAX_NODES: usize = 500;
/// The largest node cap a traversal may ask for.
pub const MAX_NODES: usize = 2_000;
/// The longest title of a person on a link, in characters.
pub const MAX_TITLE_CHARS: usize = 100;

const ORGANISATIONS: &[CustomerKind] = &[
    CustomerKind::Corporate,
    CustomerKind::SmallBusiness,
    CustomerKind::Institution,
];
const PEOPLE: &[CustomerKind] = &[CustomerKind::Individual];
const FIRMS: &[CustomerKind] = &[CustomerKind::Corporate, CustomerKind::SmallBusiness];
const CORE_ENTERPRISES: &[CustomerKind] = &[CustomerKind::Corporate];
const TENANTS: &[CustomerKind] = &[CustomerKind::SmallBusiness];

impl RelationshipType {
    /// The customer kinds allowed at the `from` end.
    pub const fn allowed_from(self) -> &'static [CustomerKind] {
        match self {
            RelationshipType::GroupParentOf => ORGANISATIONS,
            RelationshipType::SupplierOf | RelationshipType::DistributorOf => FIRMS,
            RelationshipType::ExecutiveOf
            | RelationshipType::EmployeeOf
            | RelationshipType::KeyPersonOf => PEOPLE,
            RelationshipType::MarketMemberOf => TENANTS,
        }
    }

    /// The customer kinds allowed at the `to` end.
    pub const fn allowed_to(self) -> &'static [CustomerKind] {
        match self {
            RelationshipType::SupplierOf | RelationshipType::DistributorOf => CORE_ENTERPRISES,
            RelationshipType::GroupParentOf
            | RelationshipType::ExecutiveOf
            | RelationshipType::EmployeeOf
            | RelationshipType::KeyPersonOf
            | RelationshipType::MarketMemberOf => ORGANISATIONS,
        }
    }

    /// Whether the `from` end is a person of the `to` organisation, so the link may carry a title.
    pub const fn links_a_person(self) -> bool {
        matches!(
            self,
            RelationshipType::ExecutiveOf
                | RelationshipType::EmployeeOf
                | RelationshipType::KeyPersonOf
        )
    }
}

/// The part of a link a [`LinkError`] is about, for naming the request field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkField {
    /// The `from` customer.
    From,
    /// The `to` customer.
    To,
    /// The key person's role.
    KeyPersonRole,
    /// The person's title.
    Title,
    /// The group parent's equity share.
    EquityShare,
}

/// Why a link is not allowed.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LinkError {
    /// Both ends are the same customer.
    #[error("a customer cannot be linked to itself")]
    SelfLink,
    /// The `from` customer's kind does not fit the type.
    #[error("the from end of {relationship_type} must be {}, not {kind}", kinds(relationship_type.allowed_from()))]
    FromKind {
        /// The type of the link.
        relationship_type: RelationshipType,
        /// The kind found.
        kind: CustomerKind,
    },
    /// The `to` customer's kind does not fit the type.
    #[error("the to end of {relationship_type} must be {}, not {kind}", kinds(relationship_type.allowed_to()))]
    ToKind {
        /// The type of the link.
        relationship_type: RelationshipType,
        /// The kind found.
        kind: CustomerKind,
    },
    /// A key-person link without the person's role.
    #[error("is required for key_person_of")]
    KeyPersonRoleMissing,
    /// A key person's role on another type.
    #[error("is only for key_person_of, not {0}")]
    KeyPersonRoleMisplaced(RelationshipType),
    /// A title on a link that does not link a person.
    #[error("is only for executive_of, employee_of and key_person_of, not {0}")]
    TitleMisplaced(RelationshipType),
    /// A title longer than [`MAX_TITLE_CHARS`].
    #[error("must be at most {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    /// An equity share on a link other than a group parent's.
    #[error("is only for group_parent_of, not {0}")]
    EquityShareMisplaced(RelationshipType),
    /// An equity share that is not a canonical decimal.
    #[error("must be a canonical decimal string such as \"0.51\"")]
    EquityShareMalformed,
    /// An equity share outside (0, 1].
    #[error("must be above 0 and at most 1")]
    EquityShareOutOfRange,
}

impl LinkError {
    /// The part of the link the error is about.
    pub const fn field(&self) -> LinkField {
        match self {
            LinkError::SelfLink | LinkError::ToKind { .. } => LinkField::To,
            LinkError::FromKind { .. } => LinkField::From,
            LinkError::KeyPersonRoleMissing | LinkError::KeyPersonRoleMisplaced(_) => {
                LinkField::KeyPersonRole
            }
            LinkError::TitleMisplaced(_) | LinkError::TitleTooLong => LinkField::Title,
            LinkError::EquityShareMisplaced(_)
            | LinkError::EquityShareMalformed
            | LinkError::EquityShareOutOfRange => LinkField::EquityShare,
        }
    }
}

fn kinds(list: &[CustomerKind]) -> String {
    list.iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// What a link says apart from the kinds of its ends (known only once both are loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkShape<'a> {
    /// The type.
    pub relationship_type: RelationshipType,
    /// The `from` customer's id, canonical.
    pub from: &'a str,
    /// The `to` customer's id, canonical.
    pub to: &'a str,
    /// The key person's role, if given.
    pub key_person_role: Option<KeyPersonRole>,
    /// The person's title, trimmed; empty when none.
    pub title: &'a str,
    /// The equity share as sent, if given.
    pub equity_share: Option<&'a str>,
}

/// Every shape rule `link` breaks, and its equity share parsed when it has a valid one.
pub fn check_shape(link: &LinkShape<'_>) -> (Vec<LinkError>, Option<Decimal>) {
    let t = link.relationship_type;
    let mut errors = Vec::new();
    if link.from == link.to {
        errors.push(LinkError::SelfLink);
    }
    match (t, link.key_person_role) {
        (RelationshipType::KeyPersonOf, None) => errors.push(LinkError::KeyPersonRoleMissing),
        (RelationshipType::KeyPersonOf, Some(_)) | (_, None) => {}
        (_, Some(_)) => errors.push(LinkError::KeyPersonRoleMisplaced(t)),
    }
    if !link.title.is_empty() {
        if !t.links_a_person() {
            errors.push(LinkError::TitleMisplaced(t));
        } else if link.title.chars().count() > MAX_TITLE_CHARS {
            errors.push(LinkError::TitleTooLong);
        }
    }
    let mut share = None;
    if let Some(raw) = link.equity_share {
        if t != RelationshipType::GroupParentOf {
            errors.push(LinkError::EquityShareMisplaced(t));
        } else {
            match parse_equity_share(raw) {
                Ok(s) => share = Some(s),
                Err(e) => errors.push(e),
            }
        }
    }
    (errors, share)
}

/// Every rule the kinds of the two ends break for `relationship_type`.
pub fn check_kinds(
    relationship_type: RelationshipType,
    from: CustomerKind,
    to: CustomerKind,
) -> Vec<LinkError> {
    let mut errors = Vec::new();
    if !relationship_type.allowed_from().contains(&from) {
        errors.push(LinkError::FromKind {
            relationship_type,
            kind: from,
        });
    }
    if !relationship_type.allowed_to().contains(&to) {
        errors.push(LinkError::ToKind {
            relationship_type,
            kind: to,
        });
    }
    errors
}

/// Parses an equity share: a canonical decimal string (optional minus, digits, optional point
/// and digits, at most 28 significant digits) above 0 and at most 1, normalised.
pub fn parse_equity_share(raw: &str) -> Result<Decimal, LinkError> {
    let unsigned = raw.strip_prefix('-').unwrap_or(raw);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(LinkError::EquityShareMalformed);
    }
    let significant = whole.trim_start_matches('0').len() + fraction.map_or(0, str::len);
    if significant > 28 {
        return Err(LinkError::EquityShareMalformed);
    }
    let share = Decimal::from_str(raw).map_err(|_| LinkError::EquityShareMalformed)?;
    if share <= Decimal::ZERO || share > Decimal::ONE {
        return Err(LinkError::EquityShareOutOfRange);
    }
    Ok(share.normalize())
}

/// Why a traversal request is refused.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum TraversalError {
    /// The depth bound is outside 1 to [`MAX_DEPTH`].
    #[error("must be 1 to {MAX_DEPTH}, not {0}")]
    Depth(i32),
    /// The node cap is negative or above [`MAX_NODES`].
    #[error("must be 0 (meaning {DEFAULT_MAX_NODES}) to {MAX_NODES}, not {0}")]
    Nodes(i32),
}

/// A validated traversal request: which types to follow, which way, how deep and how many nodes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraversalSpec {
    types: BTreeSet<RelationshipType>,
    direction: Direction,
    max_depth: u32,
    max_nodes: usize,
}

impl TraversalSpec {
    /// Validates the bounds: `max_depth` 1 to [`MAX_DEPTH`]; `max_nodes` 0 (the default,
    /// [`DEFAULT_MAX_NODES`]) to [`MAX_NODES`]. An empty `types` follows every type.
    pub fn new(
        types: impl IntoIterator<Item = RelationshipType>,
        direction: Direction,
        max_depth: i32,
        max_nodes: i32,
    ) -> Result<TraversalSpec, Vec<TraversalError>> {
        let mut errors = Vec::new();
        if !(1..=MAX_DEPTH).contains(&max_depth) {
            errors.push(TraversalError::Depth(max_depth));
        }
        let nodes = match usize::try_from(max_nodes) {
            Ok(0) => DEFAULT_MAX_NODES,
            Ok(n) if n <= MAX_NODES => n,
            _ => {
                errors.push(TraversalError::Nodes(max_nodes));
                DEFAULT_MAX_NODES
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(TraversalSpec {
            types: types.into_iter().collect(),
            direction,
            max_depth: max_depth.unsigned_abs(),
            max_nodes: nodes,
        })
    }

    /// Whether edges of `relationship_type` are followed.
    pub fn follows(&self, relationship_type: RelationshipType) -> bool {
        self.types.is_empty() || self.types.contains(&relationship_type)
    }

    /// The types followed; empty means all.
    pub fn types(&self) -> &BTreeSet<RelationshipType> {
        &self.types
    }

    /// Which edges are followed at each step.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// The depth bound.
    pub fn max_depth(&self) -> u32 {
        self.max_depth
    }

    /// The node cap, the root included.
    pub fn max_nodes(&self) -> usize {
        self.max_nodes
    }
}

/// One directed edge of the adjacency handed to [`traverse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge<N, E> {
    /// The edge's id.
    pub id: E,
    /// Its type.
    pub relationship_type: RelationshipType,
    /// The `from` end.
    pub from: N,
    /// The `to` end.
    pub to: N,
}

/// A customer reached by a traversal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached<N, E> {
    /// The customer.
    pub node: N,
    /// Steps from the root; the root is 0.
    pub depth: u32,
    /// The customer through which it was first reached; `None` for the root.
    pub parent: Option<N>,
    /// The edge that first reached it; `None` for the root.
    pub via: Option<E>,
    /// Whether the caller may see it. A hidden customer is reported but never walked through, and
    /// no edge touching it is reported.
    pub visible: bool,
}

/// The result of a traversal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traversal<N, E> {
    /// Customers in breadth-first order, the root first, each once.
    pub nodes: Vec<Reached<N, E>>,
    /// Every edge followed between two reported, visible customers, in the order followed, each once.
    pub edges: Vec<E>,
    /// True when the node cap cut the walk short.
    pub truncated: bool,
}

/// Walks `edges` breadth first from `root` under `spec`. Neighbours are taken in edge-id order, so
/// the result is deterministic. Each customer is reported once, at the depth it is first reached
/// (cycles terminate); customers at `spec.max_depth()` and customers for which `visible` is false
/// are not walked through. The walk stops, `truncated`, as soon as one more customer would exceed
/// `spec.max_nodes()`. Edges whose two ends are the same customer are ignored.
pub fn traverse<N, E>(
    root: &N,
    edges: &[Edge<N, E>],
    spec: &TraversalSpec,
    visible: impl Fn(&N) -> bool,
) -> Traversal<N, E>
where
    N: Ord + Clone,
    E: Ord + Clone,
{
    let mut adjacency: BTreeMap<&N, BTreeMap<&E, &N>> = BTreeMap::new();
    for edge in edges {
        if edge.from == edge.to || !spec.follows(edge.relationship_type) {
            continue;
        }
        if spec.direction.outgoing() {
            adjacency
                .entry(&edge.from)
                .or_default()
                .insert(&edge.id, &edge.to);
        }
        if spec.direction.incoming() {
            adjacency
                .entry(&edge.to)
                .or_default()
                .insert(&edge.id, &edge.from);
        }
    }
    let root_visible = visible(root);
    let mut nodes = vec![Reached {
        node: root.clone(),
        depth: 0,
        parent: None,
        via: None,
        visible: root_visible,
    }];
    let mut index: BTreeMap<N, usize> = BTreeMap::from([(root.clone(), 0)]);
    let mut followed: BTreeSet<E> = BTreeSet::new();
    let mut reported: Vec<E> = Vec::new();
    let mut queue = VecDeque::from([0usize]);
    let mut truncated = false;
    'walk: while let Some(at) = queue.pop_front() {
        let (node, depth) = (nodes[at].node.clone(), nodes[at].depth);
        if depth >= spec.max_depth || !nodes[at].visible {
            continue;
        }
        let Some(neighbours) = adjacency.get(&node) else {
            continue;
        };
        for (&edge, &other) in neighbours {
            let other_visible = match index.get(other) {
                Some(&seen) => nodes[seen].visible,
                None => {
                    if nodes.len() >= spec.max_nodes {
                        truncated = true;
                        break 'walk;
                    }
                    let other_visible = visible(other);
                    index.insert(other.clone(), nodes.len());
                    queue.push_back(nodes.len());
                    nodes.push(Reached {
                        node: other.clone(),
                        depth: depth + 1,
                        parent: Some(node.clone()),
                        via: Some(edge.clone()),
                        visible: other_visible,
                    });
                    other_visible
                }
            };
            if other_visible && followed.insert(edge.clone()) {
                reported.push(edge.clone());
            }
        }
    }
    Traversal {
        nodes,
        edges: reported,
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RelationshipType::*;

    fn edge(
        id: u32,
        t: RelationshipType,
        from: &'static str,
        to: &'static str,
    ) -> Edge<&'static str, u32> {
        Edge {
            id,
            relationship_type: t,
            from,
            to,
        }
    }

    fn spec(
        types: &[RelationshipType],
        direction: Direction,
        depth: i32,
        nodes: i32,
    ) -> TraversalSpec {
        TraversalSpec::new(types.iter().copied(), direction, depth, nodes).expect("spec")
    }

    fn names<E>(t: &Traversal<&'static str, E>) -> Vec<(&'static str, u32)> {
        t.nodes.iter().map(|r| (r.node, r.depth)).collect()
    }

    fn shape(t: RelationshipType) -> LinkShape<'static> {
        LinkShape {
            relationship_type: t,
            from: "a",
            to: "b",
            key_person_role: None,
            title: "",
            equity_share: None,
        }
    }

    #[test]
    fn kinds_fit_each_type() {
        use CustomerKind::*;
        assert!(check_kinds(ExecutiveOf, Individual, Corporate).is_empty());
        assert!(check_kinds(EmployeeOf, Individual, Institution).is_empty());
        assert!(check_kinds(KeyPersonOf, Individual, SmallBusiness).is_empty());
        assert_eq!(
            check_kinds(ExecutiveOf, Corporate, Individual),
            vec![
                LinkError::FromKind {
                    relationship_type: ExecutiveOf,
                    kind: Corporate
                },
                LinkError::ToKind {
                    relationship_type: ExecutiveOf,
                    kind: Individual
                }
            ]
        );
        assert!(check_kinds(SupplierOf, SmallBusiness, Corporate).is_empty());
        assert!(check_kinds(DistributorOf, Corporate, Corporate).is_empty());
        assert_eq!(check_kinds(SupplierOf, Individual, Corporate).len(), 1);
        assert_eq!(
            check_kinds(DistributorOf, Corporate, SmallBusiness).len(),
            1
        );
        assert!(check_kinds(GroupParentOf, Corporate, SmallBusiness).is_empty());
        assert_eq!(
            check_kinds(GroupParentOf, Corporate, Individual)[0].field(),
            LinkField::To
        );
        assert!(check_kinds(MarketMemberOf, SmallBusiness, Corporate).is_empty());
        assert_eq!(
            check_kinds(MarketMemberOf, Corporate, Corporate)[0].field(),
            LinkField::From
        );
        let message = check_kinds(ExecutiveOf, Corporate, Corporate)[0].to_string();
        assert_eq!(
            message,
            "the from end of executive_of must be individual, not corporate"
        );
    }

    #[test]
    fn every_type_allows_some_pair_of_kinds() {
        for t in RelationshipType::ALL {
            assert!(
                !t.allowed_from().is_empty() && !t.allowed_to().is_empty(),
                "{t}"
            );
        }
    }

    #[test]
    fn shape_rules_name_their_part() {
        let mut s = shape(SupplierOf);
        assert_eq!(check_shape(&s), (vec![], None));
        s.to = "a";
        assert_eq!(check_shape(&s).0, vec![LinkError::SelfLink]);
        assert_eq!(LinkError::SelfLink.field(), LinkField::To);

        let mut s = shape(KeyPersonOf);
        assert_eq!(check_shape(&s).0, vec![LinkError::KeyPersonRoleMissing]);
        s.key_person_role = Some(KeyPersonRole::DecisionMaker);
        s.title = "CFO";
        assert!(check_shape(&s).0.is_empty());

        let mut s = shape(ExecutiveOf);
        s.key_person_role = Some(KeyPersonRole::Contact);
        s.title = "CEO";
        assert_eq!(
            check_shape(&s).0,
            vec![LinkError::KeyPersonRoleMisplaced(ExecutiveOf)]
        );
        let long = "x".repeat(101);
        s.key_person_role = None;
        s.title = &long;
        assert_eq!(check_shape(&s).0, vec![LinkError::TitleTooLong]);

        let mut s = shape(SupplierOf);
        s.title = "CEO";
        s.equity_share = Some("0.5");
        let errors = check_shape(&s).0;
        assert_eq!(
            errors,
            vec![
                LinkError::TitleMisplaced(SupplierOf),
                LinkError::EquityShareMisplaced(SupplierOf)
            ]
        );
        assert_eq!(errors[0].field(), LinkField::Title);
        assert_eq!(errors[1].field(), LinkField::EquityShare);
    }

    #[test]
    fn equity_shares_are_canonical_decimals_in_the_unit_interval() {
        let mut s = shape(GroupParentOf);
        s.equity_share = Some("0.510");
        assert_eq!(check_shape(&s), (vec![], Some(Decimal::new(51, 2))));
        assert_eq!(parse_equity_share("1"), Ok(Decimal::ONE));
        assert_eq!(parse_equity_share("0.0001"), Ok(Decimal::new(1, 4)));
        for bad in ["", ".5", "5.", "1e-1", "0,5", " 0.5", "abc", "+0.5"] {
            assert_eq!(
                parse_equity_share(bad),
                Err(LinkError::EquityShareMalformed),
                "{bad:?}"
            );
        }
        for out in ["0", "0.000", "-0.5", "1.0001", "51"] {
            assert_eq!(
                parse_equity_share(out),
                Err(LinkError::EquityShareOutOfRange),
                "{out:?}"
            );
        }
        assert_eq!(
            parse_equity_share(&format!("0.{}", "1".repeat(29))),
            Err(LinkError::EquityShareMalformed)
        );
    }

    #[test]
    fn traversal_bounds_are_checked() {
        assert_eq!(
            TraversalSpec::new([], Direction::Both, 4, 0),
            Err(vec![TraversalError::Depth(4)])
        );
        assert_eq!(
            TraversalSpec::new([], Direction::Both, 0, -1),
            Err(vec![TraversalError::Depth(0), TraversalError::Nodes(-1)])
        );
        assert_eq!(
            TraversalSpec::new([], Direction::Both, 3, 2_001),
            Err(vec![TraversalError::Nodes(2_001)])
        );
        let s = spec(&[], Direction::Both, 3, 0);
        assert_eq!((s.max_depth(), s.max_nodes()), (3, DEFAULT_MAX_NODES));
        assert!(s.follows(GroupParentOf));
        let s = spec(&[SupplierOf], Direction::Incoming, 1, 2_000);
        assert_eq!(s.max_nodes(), 2_000);
        assert!(s.follows(SupplierOf) && !s.follows(DistributorOf));
        assert_eq!(s.types().len(), 1);
        assert_eq!(s.direction(), Direction::Incoming);
    }

    #[test]
    fn a_cycle_terminates_and_visits_each_customer_once() {
        let edges = [edge(1, SupplierOf, "a", "b"), edge(2, SupplierOf, "b", "a")];
        for direction in [Direction::Outgoing, Direction::Incoming, Direction::Both] {
            let t = traverse(&"a", &edges, &spec(&[], direction, 3, 0), |_| true);
            assert_eq!(names(&t), [("a", 0), ("b", 1)], "{direction:?}");
            let mut followed = t.edges.clone();
            followed.sort_unstable();
            assert_eq!(
                followed,
                [1, 2],
                "{direction:?}: both edges join returned nodes"
            );
            assert!(!t.truncated);
        }
        let triangle = [
            edge(1, SupplierOf, "a", "b"),
            edge(2, SupplierOf, "b", "c"),
            edge(3, SupplierOf, "c", "a"),
        ];
        let t = traverse(
            &"a",
            &triangle,
            &spec(&[], Direction::Outgoing, 3, 0),
            |_| true,
        );
        assert_eq!(names(&t), [("a", 0), ("b", 1), ("c", 2)]);
        assert_eq!(t.edges, [1, 2, 3]);
    }

    #[test]
    fn depth_and_direction_bound_the_walk() {
        let chain = [
            edge(1, SupplierOf, "b", "a"),
            edge(2, SupplierOf, "c", "b"),
            edge(3, SupplierOf, "d", "c"),
            edge(4, SupplierOf, "e", "d"),
        ];
        let t = traverse(&"a", &chain, &spec(&[], Direction::Incoming, 3, 0), |_| {
            true
        });
        assert_eq!(names(&t), [("a", 0), ("b", 1), ("c", 2), ("d", 3)]);
        assert_eq!(t.edges, [1, 2, 3]);
        assert_eq!(t.nodes[3].parent, Some("c"));
        assert_eq!(t.nodes[3].via, Some(3));
        let t = traverse(&"a", &chain, &spec(&[], Direction::Outgoing, 3, 0), |_| {
            true
        });
        assert_eq!(names(&t), [("a", 0)]);
        assert!(t.edges.is_empty());
        let t = traverse(&"c", &chain, &spec(&[], Direction::Both, 1, 0), |_| true);
        assert_eq!(names(&t), [("c", 0), ("b", 1), ("d", 1)]);
    }

    #[test]
    fn the_supply_chain_with_its_executives_comes_in_one_walk() {
        let edges = [
            edge(1, SupplierOf, "s1", "core"),
            edge(2, SupplierOf, "s2", "core"),
            edge(3, DistributorOf, "d1", "core"),
            edge(4, ExecutiveOf, "ceo", "core"),
            edge(5, ExecutiveOf, "s1-cfo", "s1"),
            edge(6, ExecutiveOf, "d1-ceo", "d1"),
            edge(7, GroupParentOf, "holding", "core"),
            edge(8, EmployeeOf, "clerk", "s2"),
            edge(9, SupplierOf, "s3", "s1"),
        ];
        let s = spec(
            &[SupplierOf, DistributorOf, ExecutiveOf],
            Direction::Incoming,
            2,
            0,
        );
        let t = traverse(&"core", &edges, &s, |_| true);
        assert_eq!(
            names(&t),
            [
                ("core", 0),
                ("s1", 1),
                ("s2", 1),
                ("d1", 1),
                ("ceo", 1),
                ("s1-cfo", 2),
                ("s3", 2),
                ("d1-ceo", 2),
            ]
        );
        assert_eq!(t.edges, [1, 2, 3, 4, 5, 9, 6]);
    }

    #[test]
    fn hidden_customers_are_reported_but_not_walked_through() {
        let edges = [
            edge(1, SupplierOf, "s1", "core"),
            edge(2, SupplierOf, "hidden", "core"),
            edge(3, ExecutiveOf, "x", "hidden"),
            edge(4, SupplierOf, "hidden", "s1"),
        ];
        let t = traverse(&"core", &edges, &spec(&[], Direction::Both, 3, 0), |n| {
            *n != "hidden"
        });
        assert_eq!(names(&t), [("core", 0), ("s1", 1), ("hidden", 1)]);
        assert!(!t.nodes[2].visible);
        assert_eq!(t.edges, [1], "no edge touching the hidden customer");
    }

    #[test]
    fn the_node_cap_truncates() {
        let edges: Vec<_> = (1..=10)
            .map(|i| Edge {
                id: i,
                relationship_type: MarketMemberOf,
                from: i,
                to: 0,
            })
            .collect();
        let t = traverse(&0, &edges, &spec(&[], Direction::Both, 1, 4), |_| true);
        assert_eq!(t.nodes.len(), 4);
        assert!(t.truncated);
        assert_eq!(t.edges, [1, 2, 3]);
        let t = traverse(&0, &edges, &spec(&[], Direction::Both, 1, 11), |_| true);
        assert_eq!(t.nodes.len(), 11);
        assert!(!t.truncated);
    }

    #[test]
    fn types_filter_and_self_loops_are_ignored() {
        let edges = [
            edge(1, SupplierOf, "a", "a"),
            edge(2, GroupParentOf, "a", "b"),
            edge(3, SupplierOf, "c", "a"),
        ];
        let t = traverse(
            &"a",
            &edges,
            &spec(&[SupplierOf], Direction::Both, 2, 0),
            |_| true,
        );
        assert_eq!(names(&t), [("a", 0), ("c", 1)]);
        assert_eq!(t.edges, [3]);
    }

    #[test]
    fn codes_round_trip() {
        for t in RelationshipType::ALL {
            assert_eq!(t.as_str().parse::<RelationshipType>(), Ok(*t));
        }
        for r in KeyPersonRole::ALL {
            assert_eq!(r.as_str().parse::<KeyPersonRole>(), Ok(*r));
        }
        assert!(Direction::Both.outgoing() && Direction::Both.incoming());
        assert!(!Direction::Outgoing.incoming() && !Direction::Incoming.outgoing());
        assert_eq!(Direction::default(), Direction::Both);
    }
}
