//! The branch tree (机构树) as a validated value: one head-office root, every other node under a
//! parent of a strictly shallower [`BranchLevel`]. Nodes are keyed by their stable
//! [`BranchCode`] (the code the wire contract and the caller's token carry, e.g. `BR0101`). The
//! tree answers the questions that access control, approvals and roll-ups ask (is this branch in
//! that subtree, how deep below it, what is the chain up to head office), moves a branch without
//! ever producing an invalid tree, and encodes each node as a [`BranchPath`]
//! (`/<hq>/<tier-1>/…/<node>/`) so storage can answer subtree queries with a prefix match.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::org::{BranchCode, BranchLevel};

/// Why a tree, a move or a path is invalid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BranchTreeError {
    /// The same code appears twice.
    #[error("branch {0} appears more than once")]
    DuplicateBranch(BranchCode),
    /// No node without a parent.
    #[error("the branch tree has no root")]
    NoRoot,
    /// More than one node without a parent.
    #[error("the branch tree has two roots: {0} and {1}")]
    MultipleRoots(BranchCode, BranchCode),
    /// The root is not at head-office level.
    #[error("the root {id} is a {level}, not the head office")]
    RootNotHeadOffice {
        /// The root.
        id: BranchCode,
        /// Its level.
        level: BranchLevel,
    },
    /// A parent code that is not in the tree.
    #[error("branch {id} has unknown parent {parent}")]
    UnknownParent {
        /// The child.
        id: BranchCode,
        /// The missing parent.
        parent: BranchCode,
    },
    /// A node that is not strictly deeper than its parent.
    #[error("branch {id} ({level}) cannot sit under {parent} ({parent_level})")]
    LevelNotBelowParent {
        /// The child.
        id: BranchCode,
        /// The child's level.
        level: BranchLevel,
        /// The parent.
        parent: BranchCode,
        /// The parent's level.
        parent_level: BranchLevel,
    },
    /// A code that is not in the tree.
    #[error("unknown branch {0}")]
    UnknownBranch(BranchCode),
    /// A move under the node itself or one of its descendants.
    #[error("moving {id} under {new_parent} would create a cycle")]
    Cycle {
        /// The node being moved.
        id: BranchCode,
        /// The requested parent, inside the node's subtree.
        new_parent: BranchCode,
    },
    /// The head office cannot be moved.
    #[error("the root {0} cannot be moved")]
    CannotMoveRoot(BranchCode),
    /// A string that is not a materialised path.
    #[error("invalid branch path {0:?}")]
    InvalidPath(String),
}

/// One node as stored: its code, its parent's code (none for head office) and its level.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchNode {
    /// The branch.
    pub id: BranchCode,
    /// The parent branch; `None` only for the head office.
    pub parent: Option<BranchCode>,
    /// The level.
    pub level: BranchLevel,
}

/// A valid branch tree. Invariants: exactly one root, at head-office level; every parent exists;
/// every node is strictly deeper than its parent. Strictly increasing depth along every parent
/// link also rules out cycles, and bounds any chain by the five levels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchTree {
    root: BranchCode,
    nodes: BTreeMap<BranchCode, BranchNode>,
    children: BTreeMap<BranchCode, BTreeSet<BranchCode>>,
}

impl BranchTree {
    /// Builds and validates a tree from its nodes, in any order.
    pub fn new(nodes: impl IntoIterator<Item = BranchNode>) -> Result<Self, BranchTreeError> {
        let mut map = BTreeMap::new();
        for node in nodes {
            if map.contains_key(&node.id) {
                return Err(BranchTreeError::DuplicateBranch(node.id));
            }
            map.insert(node.id.clone(), node);
        }
        let mut root: Option<&BranchCode> = None;
        let mut children: BTreeMap<BranchCode, BTreeSet<BranchCode>> = BTreeMap::new();
        for node in map.values() {
            match &node.parent {
                None => {
                    if let Some(first) = root {
                        return Err(BranchTreeError::MultipleRoots(
                            first.clone(),
                            node.id.clone(),
                        ));
                    }
                    if node.level != BranchLevel::HeadOffice {
                        return Err(BranchTreeError::RootNotHeadOffice {
                            id: node.id.clone(),
                            level: node.level,
                        });
                    }
                    root = Some(&node.id);
                }
                Some(parent) => {
                    let parent_node =
                        map.get(parent)
                            .ok_or_else(|| BranchTreeError::UnknownParent {
                                id: node.id.clone(),
                                parent: parent.clone(),
                            })?;
                    if !node.level.is_below(parent_node.level) {
                        return Err(BranchTreeError::LevelNotBelowParent {
                            id: node.id.clone(),
                            level: node.level,
                            parent: parent.clone(),
                            parent_level: parent_node.level,
                        });
                    }
                    children
                        .entry(parent.clone())
                        .or_default()
                        .insert(node.id.clone());
                }
            }
        }
        let root = root.ok_or(BranchTreeError::NoRoot)?.clone();
        Ok(Self {
            root,
            nodes: map,
            children,
        })
    }

    /// The head office.
    pub fn root(&self) -> &BranchCode {
        &self.root
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
    pub fn contains(&self, id: &BranchCode) -> bool {
        self.nodes.contains_key(id)
    }

    /// All nodes, ordered by code.
    pub fn nodes(&self) -> impl Iterator<Item = &BranchNode> {
        self.nodes.values()
    }

    fn node(&self, id: &BranchCode) -> Result<&BranchNode, BranchTreeError> {
        self.nodes
            .get(id)
            .ok_or_else(|| BranchTreeError::UnknownBranch(id.clone()))
    }

    /// The level of `id`, if it is in the tree.
    pub fn level(&self, id: &BranchCode) -> Option<BranchLevel> {
        self.nodes.get(id).map(|n| n.level)
    }

    /// The parent of `id` (`None` for the root or an unknown code).
    pub fn parent(&self, id: &BranchCode) -> Option<&BranchCode> {
        self.nodes.get(id).and_then(|n| n.parent.as_ref())
    }

    /// The direct children of `id`, ordered by code (none for a leaf or an unknown code).
    pub fn children(&self, id: &BranchCode) -> impl Iterator<Item = &BranchCode> {
        self.children.get(id).into_iter().flatten()
    }

    /// The branch chain of `id`: `id` itself first, then each parent, ending with head office.
    pub fn chain(&self, id: &BranchCode) -> Result<Vec<BranchCode>, BranchTreeError> {
        let mut current = self.node(id)?;
        let mut chain = vec![current.id.clone()];
        while let Some(parent) = &current.parent {
            current = self.node(parent)?;
            chain.push(current.id.clone());
        }
        Ok(chain)
    }

    /// The ancestors of `id`, nearest first, ending with head office (empty for the root).
    pub fn ancestors(&self, id: &BranchCode) -> Result<Vec<BranchCode>, BranchTreeError> {
        let mut chain = self.chain(id)?;
        chain.remove(0);
        Ok(chain)
    }

    /// Whether `node` is `root` or one of its descendants. False when either is unknown.
    pub fn is_in_subtree(&self, node: &BranchCode, root: &BranchCode) -> bool {
        self.depth_below(node, root).is_some()
    }

    /// How many levels of the tree `node` sits below `root`: 0 when they are the same branch,
    /// 1 for a direct child, and so on. `None` when `node` is not in `root`'s subtree or either
    /// is unknown.
    pub fn depth_below(&self, node: &BranchCode, root: &BranchCode) -> Option<usize> {
        if !self.contains(root) {
            return None;
        }
        self.chain(node).ok()?.iter().position(|id| id == root)
    }

    /// `root` and all its descendants, depth first, children ordered by code.
    pub fn subtree(&self, root: &BranchCode) -> Result<Vec<BranchCode>, BranchTreeError> {
        let root = &self.node(root)?.id;
        let mut out = Vec::new();
        let mut stack = vec![root];
        while let Some(id) = stack.pop() {
            out.push(id.clone());
            stack.extend(self.children(id).collect::<Vec<_>>().into_iter().rev());
        }
        Ok(out)
    }

    /// A new tree in which `id` (with its whole subtree) hangs under `new_parent`. Refuses to
    /// move the root, to create a cycle, or to put a node under a parent that is not strictly
    /// shallower.
    pub fn move_branch(
        &self,
        id: &BranchCode,
        new_parent: &BranchCode,
    ) -> Result<BranchTree, BranchTreeError> {
        let node = self.node(id)?;
        self.node(new_parent)?;
        if node.parent.is_none() {
            return Err(BranchTreeError::CannotMoveRoot(id.clone()));
        }
        if self.is_in_subtree(new_parent, id) {
            return Err(BranchTreeError::Cycle {
                id: id.clone(),
                new_parent: new_parent.clone(),
            });
        }
        BranchTree::new(self.nodes.values().map(|n| {
            if &n.id == id {
                BranchNode {
                    parent: Some(new_parent.clone()),
                    ..n.clone()
                }
            } else {
                n.clone()
            }
        }))
    }

    /// The materialised path of `id`, e.g. `/HQ/SH/SH01/`.
    pub fn path(&self, id: &BranchCode) -> Result<BranchPath, BranchTreeError> {
        let chain = self.chain(id)?;
        let mut path = String::from("/");
        for branch in chain.iter().rev() {
            path.push_str(branch.as_str());
            path.push('/');
        }
        Ok(BranchPath(path))
    }
}

/// A materialised path: the codes of the branch chain from head office down to a node, each
/// followed by `/`, e.g. `/HQ/SH/SH01/`.
///
/// Segments vary in length, yet "`b` is in the subtree of `a`" is still exactly "`b`'s path
/// starts with `a`'s path", so storage can use `path LIKE '<a's path>%'` on an indexed column.
/// A [`BranchCode`] can never contain `/`, so every `/` in a path is a segment boundary, and
/// because the path also ends with `/`, a prefix match can only end on such a boundary: `a`'s
/// path is a prefix of `b`'s exactly when `a`'s whole chain is the start of `b`'s chain. A code
/// that merely starts with another (`BJX` after `BJ`) does not match, since `/HQ/BJ/` is not a
/// prefix of `/HQ/BJX/`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BranchPath(String);

impl BranchPath {
    /// Validates the text form: `/`, then one or more `<branch code>/`.
    pub fn parse(s: &str) -> Result<Self, BranchTreeError> {
        let invalid = || BranchTreeError::InvalidPath(s.chars().take(200).collect());
        let inner = s
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
            .ok_or_else(invalid)?;
        for segment in inner.split('/') {
            BranchCode::parse(segment).map_err(|_| invalid())?;
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

    /// The codes on the path, head office first.
    pub fn branches(&self) -> Vec<BranchCode> {
        self.0
            .split('/')
            .filter_map(|segment| BranchCode::parse(segment).ok())
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

    fn code(s: &str) -> BranchCode {
        BranchCode::parse(s).unwrap()
    }

    fn node(id: &BranchCode, parent: Option<&BranchCode>, level: BranchLevel) -> BranchNode {
        BranchNode {
            id: id.clone(),
            parent: parent.cloned(),
            level,
        }
    }

    /// hq ─┬─ sh (tier-1) ─┬─ pd (tier-2) ── lj (sub-branch) ── o1 (outlet)
    ///     │               └─ xh (sub-branch, directly under tier-1)
    ///     └─ bj (tier-1)
    struct Fixture {
        hq: BranchCode,
        sh: BranchCode,
        pd: BranchCode,
        lj: BranchCode,
        o1: BranchCode,
        xh: BranchCode,
        bj: BranchCode,
        tree: BranchTree,
    }

    fn fixture() -> Fixture {
        let [hq, sh, pd, lj, o1, xh, bj] = [
            "HQ",
            "SH",
            "SH-PD",
            "SH-PD-LJ",
            "SH_PD_LJ_01",
            "SH-XH",
            "BJ",
        ]
        .map(code);
        let tree = BranchTree::new([
            node(&o1, Some(&lj), Outlet),
            node(&hq, None, HeadOffice),
            node(&sh, Some(&hq), Tier1Branch),
            node(&pd, Some(&sh), Tier2Branch),
            node(&lj, Some(&pd), SubBranch),
            node(&xh, Some(&sh), SubBranch),
            node(&bj, Some(&hq), Tier1Branch),
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
        assert_eq!(f.tree.root(), &f.hq);
        assert_eq!(f.tree.len(), 7);
        assert!(!f.tree.is_empty());
        assert!(f.tree.contains(&f.o1));
        assert!(!f.tree.contains(&code("NOPE")));
        assert_eq!(f.tree.level(&f.lj), Some(SubBranch));
        assert_eq!(f.tree.level(&code("NOPE")), None);
        assert_eq!(f.tree.parent(&f.pd), Some(&f.sh));
        assert_eq!(f.tree.parent(&f.hq), None);
        assert_eq!(
            f.tree.chain(&f.o1).unwrap(),
            [&f.o1, &f.lj, &f.pd, &f.sh, &f.hq].map(Clone::clone)
        );
        assert_eq!(
            f.tree.ancestors(&f.o1).unwrap(),
            [&f.lj, &f.pd, &f.sh, &f.hq].map(Clone::clone)
        );
        assert_eq!(f.tree.ancestors(&f.hq).unwrap(), []);
        let unknown = code("NOPE");
        assert_eq!(
            f.tree.ancestors(&unknown),
            Err(BranchTreeError::UnknownBranch(unknown))
        );
        let mut kids: Vec<_> = f.tree.children(&f.sh).cloned().collect();
        kids.sort();
        let mut expected = vec![f.pd.clone(), f.xh.clone()];
        expected.sort();
        assert_eq!(kids, expected);
        assert_eq!(f.tree.children(&f.o1).count(), 0);
        assert_eq!(f.tree.children(&code("NOPE")).count(), 0);
    }

    #[test]
    fn subtree_membership() {
        let f = fixture();
        assert!(f.tree.is_in_subtree(&f.o1, &f.hq));
        assert!(f.tree.is_in_subtree(&f.o1, &f.sh));
        assert!(f.tree.is_in_subtree(&f.sh, &f.sh));
        assert!(!f.tree.is_in_subtree(&f.sh, &f.o1));
        assert!(!f.tree.is_in_subtree(&f.xh, &f.pd));
        assert!(!f.tree.is_in_subtree(&f.o1, &f.bj));
        assert!(!f.tree.is_in_subtree(&code("NOPE"), &f.hq));
        assert!(!f.tree.is_in_subtree(&f.o1, &code("NOPE")));

        let sub = f.tree.subtree(&f.sh).unwrap();
        assert_eq!(sub.len(), 5);
        assert_eq!(sub[0], f.sh);
        let set: BTreeSet<_> = sub.iter().cloned().collect();
        assert_eq!(
            set,
            BTreeSet::from([&f.sh, &f.pd, &f.lj, &f.o1, &f.xh].map(Clone::clone))
        );
        // Depth first: a parent always comes before its children.
        let pos = |id: &BranchCode| sub.iter().position(|x| x == id).unwrap();
        assert!(pos(&f.pd) < pos(&f.lj) && pos(&f.lj) < pos(&f.o1));
        assert_eq!(f.tree.subtree(&f.hq).unwrap().len(), 7);
        assert_eq!(f.tree.subtree(&f.bj).unwrap(), std::slice::from_ref(&f.bj));
        assert!(f.tree.subtree(&code("NOPE")).is_err());
    }

    #[test]
    fn depth_below_counts_levels_within_the_subtree() {
        let f = fixture();
        assert_eq!(f.tree.depth_below(&f.hq, &f.hq), Some(0));
        assert_eq!(f.tree.depth_below(&f.o1, &f.o1), Some(0));
        assert_eq!(f.tree.depth_below(&f.sh, &f.hq), Some(1));
        assert_eq!(f.tree.depth_below(&f.o1, &f.hq), Some(4));
        assert_eq!(f.tree.depth_below(&f.o1, &f.sh), Some(3));
        // A sub-branch directly under a tier-1 branch is one tree level below it.
        assert_eq!(f.tree.depth_below(&f.xh, &f.sh), Some(1));
        assert_eq!(f.tree.depth_below(&f.sh, &f.o1), None);
        assert_eq!(f.tree.depth_below(&f.o1, &f.bj), None);
        assert_eq!(f.tree.depth_below(&f.xh, &f.pd), None);
        assert_eq!(f.tree.depth_below(&code("NOPE"), &f.hq), None);
        assert_eq!(f.tree.depth_below(&f.hq, &code("NOPE")), None);
        for a in f.tree.nodes() {
            for b in f.tree.nodes() {
                assert_eq!(
                    f.tree.depth_below(&b.id, &a.id).is_some(),
                    f.tree.is_in_subtree(&b.id, &a.id)
                );
            }
        }
    }

    #[test]
    fn validation_rejects_bad_trees() {
        let [a, b, c] = ["A", "B", "C"].map(code);
        assert_eq!(BranchTree::new([]), Err(BranchTreeError::NoRoot));
        assert_eq!(
            BranchTree::new([node(&a, None, HeadOffice), node(&a, None, HeadOffice)]),
            Err(BranchTreeError::DuplicateBranch(a.clone()))
        );
        assert!(matches!(
            BranchTree::new([node(&a, None, HeadOffice), node(&b, None, HeadOffice)]),
            Err(BranchTreeError::MultipleRoots(..))
        ));
        assert_eq!(
            BranchTree::new([node(&a, None, Tier1Branch)]),
            Err(BranchTreeError::RootNotHeadOffice {
                id: a.clone(),
                level: Tier1Branch
            })
        );
        assert_eq!(
            BranchTree::new([node(&a, None, HeadOffice), node(&b, Some(&c), SubBranch)]),
            Err(BranchTreeError::UnknownParent {
                id: b.clone(),
                parent: c.clone()
            })
        );
        assert_eq!(
            BranchTree::new([
                node(&a, None, HeadOffice),
                node(&b, Some(&a), SubBranch),
                node(&c, Some(&b), Tier2Branch),
            ]),
            Err(BranchTreeError::LevelNotBelowParent {
                id: c.clone(),
                level: Tier2Branch,
                parent: b.clone(),
                parent_level: SubBranch
            })
        );
        // Same level as the parent is not deeper.
        assert!(matches!(
            BranchTree::new([
                node(&a, None, HeadOffice),
                node(&b, Some(&a), Tier1Branch),
                node(&c, Some(&b), Tier1Branch)
            ]),
            Err(BranchTreeError::LevelNotBelowParent { .. })
        ));
        // A cycle always breaks the depth rule somewhere, so it is reported as such.
        assert!(matches!(
            BranchTree::new([
                node(&a, None, HeadOffice),
                node(&b, Some(&c), Tier1Branch),
                node(&c, Some(&b), Tier2Branch),
            ]),
            Err(BranchTreeError::LevelNotBelowParent { id, .. }) if id == b
        ));
        // A self-parented head office is rejected.
        assert!(BranchTree::new([node(&a, Some(&a), HeadOffice)]).is_err());
    }

    #[test]
    fn move_branch_keeps_the_tree_valid() {
        let f = fixture();
        // Move the Lujiazui sub-branch (with its outlet) from Pudong to Beijing.
        let moved = f.tree.move_branch(&f.lj, &f.bj).unwrap();
        assert_eq!(
            moved.chain(&f.o1).unwrap(),
            [&f.o1, &f.lj, &f.bj, &f.hq].map(Clone::clone)
        );
        assert!(moved.is_in_subtree(&f.o1, &f.bj));
        assert!(!moved.is_in_subtree(&f.o1, &f.sh));
        // The original value is unchanged.
        assert!(f.tree.is_in_subtree(&f.o1, &f.sh));

        assert_eq!(
            f.tree.move_branch(&f.hq, &f.sh),
            Err(BranchTreeError::CannotMoveRoot(f.hq.clone()))
        );
        assert_eq!(
            f.tree.move_branch(&f.sh, &f.lj),
            Err(BranchTreeError::Cycle {
                id: f.sh.clone(),
                new_parent: f.lj.clone()
            })
        );
        assert_eq!(
            f.tree.move_branch(&f.sh, &f.sh),
            Err(BranchTreeError::Cycle {
                id: f.sh.clone(),
                new_parent: f.sh.clone()
            })
        );
        assert!(matches!(
            f.tree.move_branch(&f.pd, &f.xh),
            Err(BranchTreeError::LevelNotBelowParent { .. })
        ));
        assert!(matches!(
            f.tree.move_branch(&f.pd, &f.bj),
            Ok(t) if t.parent(&f.pd) == Some(&f.bj)
        ));
        let unknown = code("NOPE");
        assert_eq!(
            f.tree.move_branch(&unknown, &f.hq),
            Err(BranchTreeError::UnknownBranch(unknown.clone()))
        );
        assert_eq!(
            f.tree.move_branch(&f.lj, &unknown),
            Err(BranchTreeError::UnknownBranch(unknown))
        );
    }

    #[test]
    fn materialised_paths_match_subtrees() {
        let f = fixture();
        let path = f.tree.path(&f.lj).unwrap();
        assert_eq!(path.as_str(), "/HQ/SH/SH-PD/SH-PD-LJ/");
        assert_eq!(
            path.as_str(),
            format!("/{}/{}/{}/{}/", f.hq, f.sh, f.pd, f.lj)
        );
        assert_eq!(
            path.branches(),
            [&f.hq, &f.sh, &f.pd, &f.lj].map(Clone::clone)
        );
        assert_eq!(f.tree.path(&f.hq).unwrap().as_str(), "/HQ/");
        assert!(f.tree.path(&code("NOPE")).is_err());
        assert_eq!(BranchPath::parse(path.as_str()), Ok(path.clone()));
        assert_eq!(path.as_str().parse::<BranchPath>(), Ok(path.clone()));
        let json = serde_json::to_string(&path).unwrap();
        assert_eq!(json, "\"/HQ/SH/SH-PD/SH-PD-LJ/\"");
        assert_eq!(serde_json::from_str::<BranchPath>(&json).unwrap(), path);
        assert!(serde_json::from_str::<BranchPath>("\"/HQ/a b/\"").is_err());
        for a in f.tree.nodes() {
            for b in f.tree.nodes() {
                let (pa, pb) = (f.tree.path(&a.id).unwrap(), f.tree.path(&b.id).unwrap());
                assert_eq!(
                    pa.contains(&pb),
                    f.tree.is_in_subtree(&b.id, &a.id),
                    "{a:?} {b:?}"
                );
            }
        }
        let too_long = format!("/HQ/{}/", "A".repeat(33));
        for bad in [
            "",
            "/",
            "//",
            "x",
            "HQ/",
            "/HQ",
            "/HQ//SH/",
            "/HQ/a b/",
            "/HQ/a\\b/",
            "/HQ/分行/",
            &too_long,
        ] {
            assert!(BranchPath::parse(bad).is_err(), "{bad}");
        }
        // Codes are case-sensitive, so a differently cased path is a different path.
        let lower = BranchPath::parse("/hq/").unwrap();
        assert!(!lower.contains(&path));
    }

    #[test]
    fn a_code_that_extends_another_is_not_in_its_subtree() {
        let [hq, bj, bjx, bj01] = ["HQ", "BJ", "BJX", "BJ01"].map(code);
        let tree = BranchTree::new([
            node(&hq, None, HeadOffice),
            node(&bj, Some(&hq), Tier1Branch),
            node(&bjx, Some(&hq), Tier1Branch),
            node(&bj01, Some(&bj), SubBranch),
        ])
        .unwrap();
        let (p_bj, p_bjx) = (tree.path(&bj).unwrap(), tree.path(&bjx).unwrap());
        assert_eq!(p_bj.as_str(), "/HQ/BJ/");
        assert_eq!(p_bjx.as_str(), "/HQ/BJX/");
        assert!(!p_bj.contains(&p_bjx));
        assert!(!p_bjx.contains(&p_bj));
        assert!(p_bj.contains(&tree.path(&bj01).unwrap()));
        assert!(!p_bjx.contains(&tree.path(&bj01).unwrap()));
        for a in tree.nodes() {
            for b in tree.nodes() {
                assert_eq!(
                    tree.path(&a.id)
                        .unwrap()
                        .contains(&tree.path(&b.id).unwrap()),
                    tree.is_in_subtree(&b.id, &a.id),
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
