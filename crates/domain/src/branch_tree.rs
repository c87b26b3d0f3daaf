//! The branch tree (机构树) as a validated value: one head-office root, every other node under a
//! parent of a strictly shallower [`BranchLevel`]. It answers the questions that access control,
//! approvals and roll-ups ask (is this branch in that subtree, what is the chain up to head
//! office), moves a branch without ever producing an invalid tree, and encodes each node as a
//! [`BranchPath`] (`/<hq>/<tier-1>/…/<node>/`) so storage can answer subtree queries with a prefix
//! match.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::BranchId;
use crate::org::BranchLevel;

/// Why a tree, a move or a path is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BranchTreeError {
    /// The same id appears twice.
    #[error("branch {0} appears more than once")]
    DuplicateBranch(BranchId),
    /// No node without a parent.
    #[error("the branch tree has no root")]
    NoRoot,
    /// More than one node without a parent.
    #[error("the branch tree has two roots: {0} and {1}")]
    MultipleRoots(BranchId, BranchId),
    /// The root is not at head-office level.
    #[error("the root {id} is a {level}, not the head office")]
    RootNotHeadOffice {
        /// The root.
        id: BranchId,
        /// Its level.
        level: BranchLevel,
    },
    /// A parent id that is not in the tree.
    #[error("branch {id} has unknown parent {parent}")]
    UnknownParent {
        /// The child.
        id: BranchId,
        /// The missing parent.
        parent: BranchId,
    },
    /// A node that is not strictly deeper than its parent.
    #[error("branch {id} ({level}) cannot sit under {parent} ({parent_level})")]
    LevelNotBelowParent {
        /// The child.
        id: BranchId,
        /// The child's level.
        level: BranchLevel,
        /// The parent.
        parent: BranchId,
        /// The parent's level.
        parent_level: BranchLevel,
    },
    /// An id that is not in the tree.
    #[error("unknown branch {0}")]
    UnknownBranch(BranchId),
    /// A move under the node itself or one of its descendants.
    #[error("moving {id} under {new_parent} would create a cycle")]
    Cycle {
        /// The node being moved.
        id: BranchId,
        /// The requested parent, inside the node's subtree.
        new_parent: BranchId,
    },
    /// The head office cannot be moved.
    #[error("the root {0} cannot be moved")]
    CannotMoveRoot(BranchId),
    /// A string that is not a materialised path.
    #[error("invalid branch path {0:?}")]
    InvalidPath(String),
}

/// One node as stored: its id, its parent (none for head office) and its level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchNode {
    /// The branch.
    pub id: BranchId,
    /// The parent branch; `None` only for the head office.
    pub parent: Option<BranchId>,
    /// The level.
    pub level: BranchLevel,
}

/// A valid branch tree. Invariants: exactly one root, at head-office level; every parent exists;
/// every node is strictly deeper than its parent. Strictly increasing depth along every parent
/// link also rules out cycles, and bounds any chain by the five levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchTree {
    root: BranchId,
    nodes: BTreeMap<BranchId, BranchNode>,
    children: BTreeMap<BranchId, BTreeSet<BranchId>>,
}

impl BranchTree {
    /// Builds and validates a tree from its nodes, in any order.
    pub fn new(nodes: impl IntoIterator<Item = BranchNode>) -> Result<Self, BranchTreeError> {
        let mut map = BTreeMap::new();
        for node in nodes {
            if map.insert(node.id, node).is_some() {
                return Err(BranchTreeError::DuplicateBranch(node.id));
            }
        }
        let mut root = None;
        let mut children: BTreeMap<BranchId, BTreeSet<BranchId>> = BTreeMap::new();
        for node in map.values() {
            match node.parent {
                None => {
                    if let Some(first) = root {
                        return Err(BranchTreeError::MultipleRoots(first, node.id));
                    }
                    if node.level != BranchLevel::HeadOffice {
                        return Err(BranchTreeError::RootNotHeadOffice {
                            id: node.id,
                            level: node.level,
                        });
                    }
                    root = Some(node.id);
                }
                Some(parent) => {
                    let parent_node = map.get(&parent).ok_or(BranchTreeError::UnknownParent {
                        id: node.id,
                        parent,
                    })?;
                    if !node.level.is_below(parent_node.level) {
                        return Err(BranchTreeError::LevelNotBelowParent {
                            id: node.id,
                            level: node.level,
                            parent,
                            parent_level: parent_node.level,
                        });
                    }
                    children.entry(parent).or_default().insert(node.id);
                }
            }
        }
        let root = root.ok_or(BranchTreeError::NoRoot)?;
        Ok(Self {
            root,
            nodes: map,
            children,
        })
    }

    /// The head office.
    pub fn root(&self) -> BranchId {
        self.root
    }

    /// Number of branches (at least 1).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Always false: a valid tree has its root. Present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether `id` is in the tree.
    pub fn contains(&self, id: BranchId) -> bool {
        self.nodes.contains_key(&id)
    }

    /// All nodes, ordered by id.
    pub fn nodes(&self) -> impl Iterator<Item = &BranchNode> {
        self.nodes.values()
    }

    fn node(&self, id: BranchId) -> Result<&BranchNode, BranchTreeError> {
        self.nodes
            .get(&id)
            .ok_or(BranchTreeError::UnknownBranch(id))
    }

    /// The level of `id`, if it is in the tree.
    pub fn level(&self, id: BranchId) -> Option<BranchLevel> {
        self.nodes.get(&id).map(|n| n.level)
    }

    /// The parent of `id` (`None` for the root or an unknown id).
    pub fn parent(&self, id: BranchId) -> Option<BranchId> {
        self.nodes.get(&id).and_then(|n| n.parent)
    }

    /// The direct children of `id`, ordered by id.
    pub fn children(&self, id: BranchId) -> impl Iterator<Item = BranchId> + '_ {
        self.children.get(&id).into_iter().flatten().copied()
    }

    /// The branch chain of `id`: `id` itself first, then each parent, ending with head office.
    pub fn chain(&self, id: BranchId) -> Result<Vec<BranchId>, BranchTreeError> {
        let mut chain = vec![id];
        let mut current = self.node(id)?;
        while let Some(parent) = current.parent {
            chain.push(parent);
            current = self.node(parent)?;
        }
        Ok(chain)
    }

    /// The ancestors of `id`, nearest first, ending with head office (empty for the root).
    pub fn ancestors(&self, id: BranchId) -> Result<Vec<BranchId>, BranchTreeError> {
        let mut chain = self.chain(id)?;
        chain.remove(0);
        Ok(chain)
    }

    /// Whether `node` is `root` or one of its descendants. False when either is unknown.
    pub fn is_in_subtree(&self, node: BranchId, root: BranchId) -> bool {
        self.contains(root)
            && self
                .chain(node)
                .map(|chain| chain.contains(&root))
                .unwrap_or(false)
    }

    /// `root` and all its descendants, depth first, children ordered by id.
    pub fn subtree(&self, root: BranchId) -> Result<Vec<BranchId>, BranchTreeError> {
        self.node(root)?;
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id);
            stack.extend(self.children(id).collect::<Vec<_>>().into_iter().rev());
        }
        Ok(out)
    }

    /// A new tree in which `id` (with its whole subtree) hangs under `new_parent`. Refuses to
    /// move the root, to create a cycle, or to put a node under a parent that is not strictly
    /// shallower.
    pub fn move_branch(
        &self,
        id: BranchId,
        new_parent: BranchId,
    ) -> Result<BranchTree, BranchTreeError> {
        let node = *self.node(id)?;
        self.node(new_parent)?;
        if node.parent.is_none() {
            return Err(BranchTreeError::CannotMoveRoot(id));
        }
        if self.is_in_subtree(new_parent, id) {
            return Err(BranchTreeError::Cycle { id, new_parent });
        }
        BranchTree::new(self.nodes.values().map(|n| {
            if n.id == id {
                BranchNode {
                    parent: Some(new_parent),
                    ..*n
                }
            } else {
                *n
            }
        }))
    }

    /// The materialised path of `id`, e.g. `/<hq>/<tier-1>/<id>/`.
    pub fn path(&self, id: BranchId) -> Result<BranchPath, BranchTreeError> {
        let chain = self.chain(id)?;
        let mut path = String::from("/");
        for branch in chain.iter().rev() {
            path.push_str(&branch.to_string());
            path.push('/');
        }
        Ok(BranchPath(path))
    }
}

/// A materialised path: the ids of the branch chain from head office down to a node, each
/// followed by `/`, e.g. `/0190…/0191…/`. Every segment has the same length and is terminated,
/// so "`b` is in the subtree of `a`" is exactly "`b`'s path starts with `a`'s path" — storage can
/// use `path LIKE '<a's path>%'` on an indexed column.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BranchPath(String);

impl BranchPath {
    /// Validates the text form: `/`, then one or more `<branch id>/`.
    pub fn parse(s: &str) -> Result<Self, BranchTreeError> {
        let invalid = || BranchTreeError::InvalidPath(s.chars().take(200).collect());
        let inner = s
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
            .ok_or_else(invalid)?;
        for segment in inner.split('/') {
            let id = BranchId::parse(segment).map_err(|_| invalid())?;
            if id.to_string() != segment {
                return Err(invalid());
            }
        }
        Ok(Self(s.to_owned()))
    }

    /// The text form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the node at `other` is this node or one of its descendants.
    pub fn contains(&self, other: &BranchPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The ids on the path, head office first.
    pub fn branches(&self) -> Vec<BranchId> {
        self.0
            .split('/')
            .filter_map(|segment| BranchId::parse(segment).ok())
            .collect()
    }
}

impl fmt::Display for BranchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BranchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BranchPath({})", self.0)
    }
}

impl FromStr for BranchPath {
    type Err = BranchTreeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BranchPath {
    type Error = BranchTreeError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BranchPath> for String {
    fn from(path: BranchPath) -> Self {
        path.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BranchLevel::*;

    fn node(id: BranchId, parent: Option<BranchId>, level: BranchLevel) -> BranchNode {
        BranchNode { id, parent, level }
    }

    /// hq ─┬─ sh (tier-1) ─┬─ pd (tier-2) ── lj (sub-branch) ── o1 (outlet)
    ///     │               └─ xh (sub-branch, directly under tier-1)
    ///     └─ bj (tier-1)
    struct Fixture {
        hq: BranchId,
        sh: BranchId,
        pd: BranchId,
        lj: BranchId,
        o1: BranchId,
        xh: BranchId,
        bj: BranchId,
        tree: BranchTree,
    }

    fn fixture() -> Fixture {
        let [hq, sh, pd, lj, o1, xh, bj] = std::array::from_fn(|_| BranchId::new());
        let tree = BranchTree::new([
            node(o1, Some(lj), Outlet),
            node(hq, None, HeadOffice),
            node(sh, Some(hq), Tier1Branch),
            node(pd, Some(sh), Tier2Branch),
            node(lj, Some(pd), SubBranch),
            node(xh, Some(sh), SubBranch),
            node(bj, Some(hq), Tier1Branch),
        ])
        .unwrap();
        Fixture {
            hq,
            sh,
            pd,
            lj,
            o1,
            xh,
            bj,
            tree,
        }
    }

    #[test]
    fn builds_and_answers_structure_questions() {
        let f = fixture();
        assert_eq!(f.tree.root(), f.hq);
        assert_eq!(f.tree.len(), 7);
        assert!(!f.tree.is_empty());
        assert_eq!(f.tree.level(f.lj), Some(SubBranch));
        assert_eq!(f.tree.level(BranchId::new()), None);
        assert_eq!(f.tree.parent(f.pd), Some(f.sh));
        assert_eq!(f.tree.parent(f.hq), None);
        assert_eq!(f.tree.chain(f.o1).unwrap(), [f.o1, f.lj, f.pd, f.sh, f.hq]);
        assert_eq!(f.tree.ancestors(f.o1).unwrap(), [f.lj, f.pd, f.sh, f.hq]);
        assert_eq!(f.tree.ancestors(f.hq).unwrap(), []);
        let unknown = BranchId::new();
        assert_eq!(
            f.tree.ancestors(unknown),
            Err(BranchTreeError::UnknownBranch(unknown))
        );
        let mut kids: Vec<_> = f.tree.children(f.sh).collect();
        kids.sort();
        let mut expected = vec![f.pd, f.xh];
        expected.sort();
        assert_eq!(kids, expected);
    }

    #[test]
    fn subtree_membership() {
        let f = fixture();
        assert!(f.tree.is_in_subtree(f.o1, f.hq));
        assert!(f.tree.is_in_subtree(f.o1, f.sh));
        assert!(f.tree.is_in_subtree(f.sh, f.sh));
        assert!(!f.tree.is_in_subtree(f.sh, f.o1));
        assert!(!f.tree.is_in_subtree(f.xh, f.pd));
        assert!(!f.tree.is_in_subtree(f.o1, f.bj));
        assert!(!f.tree.is_in_subtree(BranchId::new(), f.hq));
        assert!(!f.tree.is_in_subtree(f.o1, BranchId::new()));

        let sub = f.tree.subtree(f.sh).unwrap();
        assert_eq!(sub.len(), 5);
        assert_eq!(sub[0], f.sh);
        let set: BTreeSet<_> = sub.iter().copied().collect();
        assert_eq!(set, BTreeSet::from([f.sh, f.pd, f.lj, f.o1, f.xh]));
        // Depth first: a parent always comes before its children.
        let pos = |id| sub.iter().position(|x| *x == id).unwrap();
        assert!(pos(f.pd) < pos(f.lj) && pos(f.lj) < pos(f.o1));
        assert_eq!(f.tree.subtree(f.hq).unwrap().len(), 7);
        assert_eq!(f.tree.subtree(f.bj).unwrap(), [f.bj]);
        assert!(f.tree.subtree(BranchId::new()).is_err());
    }

    #[test]
    fn validation_rejects_bad_trees() {
        let [a, b, c] = std::array::from_fn(|_| BranchId::new());
        assert_eq!(BranchTree::new([]), Err(BranchTreeError::NoRoot));
        assert_eq!(
            BranchTree::new([node(a, None, HeadOffice), node(a, None, HeadOffice)]),
            Err(BranchTreeError::DuplicateBranch(a))
        );
        assert!(matches!(
            BranchTree::new([node(a, None, HeadOffice), node(b, None, HeadOffice)]),
            Err(BranchTreeError::MultipleRoots(..))
        ));
        assert_eq!(
            BranchTree::new([node(a, None, Tier1Branch)]),
            Err(BranchTreeError::RootNotHeadOffice {
                id: a,
                level: Tier1Branch
            })
        );
        assert_eq!(
            BranchTree::new([node(a, None, HeadOffice), node(b, Some(c), SubBranch)]),
            Err(BranchTreeError::UnknownParent { id: b, parent: c })
        );
        assert_eq!(
            BranchTree::new([
                node(a, None, HeadOffice),
                node(b, Some(a), SubBranch),
                node(c, Some(b), Tier2Branch),
            ]),
            Err(BranchTreeError::LevelNotBelowParent {
                id: c,
                level: Tier2Branch,
                parent: b,
                parent_level: SubBranch
            })
        );
        // Same level as the parent is not deeper.
        assert!(matches!(
            BranchTree::new([
                node(a, None, HeadOffice),
                node(b, Some(a), Tier1Branch),
                node(c, Some(b), Tier1Branch)
            ]),
            Err(BranchTreeError::LevelNotBelowParent { .. })
        ));
        // A cycle always breaks the depth rule somewhere, so it is reported as such.
        assert!(matches!(
            BranchTree::new([
                node(a, None, HeadOffice),
                node(b, Some(c), Tier1Branch),
                node(c, Some(b), Tier2Branch),
            ]),
            Err(BranchTreeError::LevelNotBelowParent { id, .. }) if id == b
        ));
        // A self-parented head office is rejected.
        assert!(BranchTree::new([node(a, Some(a), HeadOffice)]).is_err());
    }

    #[test]
    fn move_branch_keeps_the_tree_valid() {
        let f = fixture();
        // Move the Lujiazui sub-branch (with its outlet) from Pudong to Beijing.
        let moved = f.tree.move_branch(f.lj, f.bj).unwrap();
        assert_eq!(moved.chain(f.o1).unwrap(), [f.o1, f.lj, f.bj, f.hq]);
        assert!(moved.is_in_subtree(f.o1, f.bj));
        assert!(!moved.is_in_subtree(f.o1, f.sh));
        // The original value is unchanged.
        assert!(f.tree.is_in_subtree(f.o1, f.sh));

        assert_eq!(
            f.tree.move_branch(f.hq, f.sh),
            Err(BranchTreeError::CannotMoveRoot(f.hq))
        );
        assert_eq!(
            f.tree.move_branch(f.sh, f.lj),
            Err(BranchTreeError::Cycle {
                id: f.sh,
                new_parent: f.lj
            })
        );
        assert_eq!(
            f.tree.move_branch(f.sh, f.sh),
            Err(BranchTreeError::Cycle {
                id: f.sh,
                new_parent: f.sh
            })
        );
        assert!(matches!(
            f.tree.move_branch(f.pd, f.xh),
            Err(BranchTreeError::LevelNotBelowParent { .. })
        ));
        assert!(matches!(
            f.tree.move_branch(f.pd, f.bj),
            Ok(t) if t.parent(f.pd) == Some(f.bj)
        ));
        let unknown = BranchId::new();
        assert_eq!(
            f.tree.move_branch(unknown, f.hq),
            Err(BranchTreeError::UnknownBranch(unknown))
        );
        assert_eq!(
            f.tree.move_branch(f.lj, unknown),
            Err(BranchTreeError::UnknownBranch(unknown))
        );
    }

    #[test]
    fn materialised_paths_match_subtrees() {
        let f = fixture();
        let path = f.tree.path(f.lj).unwrap();
        assert_eq!(
            path.as_str(),
            format!("/{}/{}/{}/{}/", f.hq, f.sh, f.pd, f.lj)
        );
        assert_eq!(path.branches(), [f.hq, f.sh, f.pd, f.lj]);
        assert_eq!(BranchPath::parse(path.as_str()), Ok(path.clone()));
        for a in f.tree.nodes() {
            for b in f.tree.nodes() {
                let (pa, pb) = (f.tree.path(a.id).unwrap(), f.tree.path(b.id).unwrap());
                assert_eq!(
                    pa.contains(&pb),
                    f.tree.is_in_subtree(b.id, a.id),
                    "{a:?} {b:?}"
                );
            }
        }
        for bad in [
            "",
            "/",
            "//",
            "x",
            &format!("/{}", f.hq),
            &format!("/{}/x/", f.hq),
        ] {
            assert!(BranchPath::parse(bad).is_err(), "{bad}");
        }
        let upper = format!("/{}/", f.hq.to_string().to_uppercase());
        assert!(
            BranchPath::parse(&upper).is_err(),
            "only the canonical form is a path"
        );
    }
}
