//! The branch tree as quotes need it, read from the customer registry's `GetBranchChain` (head
//! office first, the branch last, each with its level) on behalf of the end user, with pricing's
//! service identity. Two readings, by what rests on them:
//! - [`chain_for_decision`] asks the registry every time: an approval is an authorisation
//!   decision, so the approver's place on the quote's chain and its level always come from the
//!   registry's current tree (approvals are rare; one small call each).
//! - [`chain`] serves the hot path (a quote's branch and its materialised path, the caller's own
//!   level for "awaiting my decision") from the shared cache, keyed by business date and branch,
//!   for at most [`CHAIN_TTL`]: a branch moved within that window can be filed under its old
//!   path for that long, which only affects listings, never a decision.
//!
//! A branch the registry does not know answers `NOT_FOUND`; a registry that cannot be reached is
//! `UNAVAILABLE`.

use std::time::Duration;

use bankmkt_domain::org::{BranchCode, BranchLevel};
use bankmkt_platform::Caller;
use bankmkt_platform::cache::CacheKey;
use bankmkt_platform::client::{ServiceIdentity, lazy_channel};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use serde::{Deserialize, Serialize};
use tonic::Code;
use tonic::transport::Channel;

use crate::PricingService;
use crate::error::{Result, ServiceError};

/// How long a cached chain is served.
pub const CHAIN_TTL: Duration = Duration::from_secs(60);

/// Cache schema of a chain.
const CHAIN_SCHEMA: u32 = 1;

/// One branch of a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The branch.
    pub branch_id: String,
    /// Its level.
    pub level: BranchLevel,
}

/// A branch's chain, head office first, the branch last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain(pub Vec<Link>);

impl Chain {
    /// The materialised path, `/HQ/BJ/BJ01/`.
    pub fn path(&self) -> String {
        let mut path = String::from("/");
        for link in &self.0 {
            path.push_str(&link.branch_id);
            path.push('/');
        }
        path
    }

    /// Whether `branch` is on the chain (the branch itself or an ancestor).
    pub fn contains(&self, branch: &str) -> bool {
        self.0.iter().any(|l| l.branch_id == branch)
    }

    /// The level of the chain's last branch.
    pub fn level(&self) -> Option<BranchLevel> {
        self.0.last().map(|l| l.level)
    }

    /// `(branch, level)` pairs for the domain's `decide`.
    pub fn pairs(&self) -> Vec<(&str, BranchLevel)> {
        self.0
            .iter()
            .map(|l| (l.branch_id.as_str(), l.level))
            .collect()
    }
}

/// The registry client quotes use for the branch tree.
#[derive(Clone, Debug)]
pub struct BranchRegistry {
    client: CustomerRegistryClient<Channel>,
    identity: ServiceIdentity,
}

impl BranchRegistry {
    /// A client of the registry at `endpoint` (connected on first use), each call bounded by
    /// `call_timeout`, signing its calls as `identity`.
    pub fn connect_lazy(
        endpoint: &str,
        call_timeout: Duration,
        identity: ServiceIdentity,
    ) -> std::result::Result<BranchRegistry, tonic::transport::Error> {
        Ok(BranchRegistry {
            client: CustomerRegistryClient::new(lazy_channel(endpoint, call_timeout)?),
            identity,
        })
    }

    async fn fetch(&self, caller: &Caller, branch_id: &str) -> Result<Chain> {
        let request = self
            .identity
            .request(
                caller,
                v1::GetBranchChainRequest {
                    branch_id: branch_id.to_owned(),
                    as_of_date: None,
                },
            )
            .map_err(|e| ServiceError::internal(format!("cannot sign a registry call: {e}")))?;
        let response = self
            .client
            .clone()
            .get_branch_chain(request)
            .await
            .map_err(|s| from_registry(s, branch_id))?
            .into_inner();
        let links = response
            .chain
            .into_iter()
            .map(|b| {
                let level = level_from_proto(b.level).ok_or_else(|| {
                    ServiceError::internal(format!(
                        "the registry's chain of {branch_id} has branch {} without a level",
                        b.branch_id
                    ))
                })?;
                Ok(Link {
                    branch_id: b.branch_id,
                    level,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if links.last().is_none_or(|l| l.branch_id != branch_id) {
            return Err(ServiceError::internal(format!(
                "the registry's chain of {branch_id} does not end at it"
            )));
        }
        Ok(Chain(links))
    }
}

fn level_from_proto(raw: i32) -> Option<BranchLevel> {
    Some(match v1::BranchLevel::try_from(raw).ok()? {
        v1::BranchLevel::HeadOffice => BranchLevel::HeadOffice,
        v1::BranchLevel::Tier1Branch => BranchLevel::Tier1Branch,
        v1::BranchLevel::Tier2Branch => BranchLevel::Tier2Branch,
        v1::BranchLevel::SubBranch => BranchLevel::SubBranch,
        v1::BranchLevel::Outlet => BranchLevel::Outlet,
        v1::BranchLevel::Unspecified => return None,
    })
}

fn from_registry(status: tonic::Status, branch_id: &str) -> ServiceError {
    match status.code() {
        Code::NotFound | Code::InvalidArgument => ServiceError::NotFound {
            kind: "branch",
            id: branch_id.to_owned(),
        },
        Code::PermissionDenied => ServiceError::PermissionDenied(format!(
            "the customer registry refused the branch chain of {branch_id}: {}",
            status.message()
        )),
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Cancelled
        | Code::Aborted => ServiceError::Unavailable(format!(
            "the customer registry is unavailable ({:?}: {})",
            status.code(),
            status.message()
        )),
        code => ServiceError::internal(format!(
            "customer registry answered {code:?} for the chain of {branch_id}: {}",
            status.message()
        )),
    }
}

fn registry(svc: &PricingService) -> Result<&BranchRegistry> {
    svc.quoting.branches.as_ref().ok_or_else(|| {
        ServiceError::Unavailable("this pricing service has no customer registry".to_owned())
    })
}

/// A branch code from a request or token, checked.
pub fn branch_code(raw: &str) -> Option<String> {
    BranchCode::parse(raw).ok().map(|c| c.as_str().to_owned())
}

/// The chain of `branch_id` as the registry has it now (no cache): for decisions.
pub async fn chain_for_decision(
    svc: &PricingService,
    caller: &Caller,
    branch_id: &str,
) -> Result<Chain> {
    registry(svc)?.fetch(caller, branch_id).await
}

/// The chain of `branch_id`, from the shared cache for up to [`CHAIN_TTL`], else the registry.
pub async fn chain(svc: &PricingService, caller: &Caller, branch_id: &str) -> Result<Chain> {
    let key = CacheKey::new(
        "pricing_branch_chain",
        CHAIN_SCHEMA,
        &format!("{}:{branch_id}", svc.clock.today()),
    );
    if let Some(bytes) = svc.cache.get(&key).await
        && let Ok(chain) = serde_json::from_slice::<Chain>(&bytes)
    {
        return Ok(chain);
    }
    let chain = registry(svc)?.fetch(caller, branch_id).await?;
    if let Ok(bytes) = serde_json::to_vec(&chain) {
        svc.cache.put(&key, &bytes, CHAIN_TTL).await;
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_gives_its_path_and_levels() {
        let chain = Chain(vec![
            Link {
                branch_id: "HQ".into(),
                level: BranchLevel::HeadOffice,
            },
            Link {
                branch_id: "BJ".into(),
                level: BranchLevel::Tier1Branch,
            },
        ]);
        assert_eq!(chain.path(), "/HQ/BJ/");
        assert!(chain.contains("HQ") && !chain.contains("B"));
        assert_eq!(chain.level(), Some(BranchLevel::Tier1Branch));
        assert_eq!(chain.pairs()[1], ("BJ", BranchLevel::Tier1Branch));
        assert_eq!(
            level_from_proto(v1::BranchLevel::Outlet as i32),
            Some(BranchLevel::Outlet)
        );
        assert_eq!(level_from_proto(0), None);
    }
}
