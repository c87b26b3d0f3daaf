//! The services coordination calls (ARCHITECTURE.md: coordination → {pricing, registry}), each
//! **on behalf of the end user**: every call carries the user's own bearer token plus
//! coordination's service identity ([`ServiceIdentity`]), so the callee decides what the user may
//! see and coordination never widens it. [`Registry`] reads customers (kind, name, existence as
//! the user may see them), consent, relationship traversals, staff directory entries and branch
//! chains (from which the [`BranchTree`] the membership rule needs is assembled); [`Pricing`]
//! reads a quote's customer and status; [`Registry::set_access_grants`] writes an opportunity's
//! access grants (the registry takes them from services only). `NOT_FOUND` and `PERMISSION_DENIED` keep their codes; a
//! callee that cannot be reached (or is overloaded or too slow) is `UNAVAILABLE`.

use std::collections::BTreeMap;
use std::time::Duration;

use bankmkt_domain::branch_tree::{BranchNode, BranchTree};
use bankmkt_domain::consent::Consent;
use bankmkt_domain::coordination::StaffFacts;
use bankmkt_domain::customer::CustomerKind;
use bankmkt_domain::org::{BranchCode, BranchLevel};
use bankmkt_platform::Caller;
use bankmkt_platform::client::{ServiceIdentity, lazy_channel};
use bankmkt_proto::v1;
use bankmkt_proto::v1::customer_registry_client::CustomerRegistryClient;
use bankmkt_proto::v1::pricing_client::PricingClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::convert;
use crate::error::{Result, ServiceError};

/// A customer as coordination sees it.
#[derive(Clone, Debug)]
pub struct CustomerFacts {
    /// The customer.
    pub customer_id: String,
    /// Its name (as the caller may see it).
    pub name: String,
    /// Its kind.
    pub kind: CustomerKind,
}

/// The customer registry, called on behalf of the end user.
#[derive(Clone, Debug)]
pub struct Registry {
    client: CustomerRegistryClient<Channel>,
    identity: ServiceIdentity,
}

fn unavailable(what: &str, status: &tonic::Status) -> ServiceError {
    ServiceError::Unavailable(format!(
        "the {what} is unavailable ({:?}: {})",
        status.code(),
        status.message()
    ))
}

/// A callee's status as this service's error, about `kind` `id`.
fn from_callee(service: &str, status: tonic::Status, kind: &'static str, id: &str) -> ServiceError {
    match status.code() {
        Code::NotFound => ServiceError::not_found(kind, id),
        Code::PermissionDenied => ServiceError::PermissionDenied(format!(
            "the {service} refused access to {kind} {id}: {}",
            status.message()
        )),
        Code::Unavailable
        | Code::DeadlineExceeded
        | Code::ResourceExhausted
        | Code::Cancelled
        | Code::Aborted => unavailable(service, &status),
        code => ServiceError::internal(format!(
            "the {service} answered {code:?} for {kind} {id}: {}",
            status.message()
        )),
    }
}

fn customer_kind(raw: i32) -> Option<CustomerKind> {
    match v1::CustomerKind::try_from(raw).ok()? {
        v1::CustomerKind::Individual => Some(CustomerKind::Individual),
        v1::CustomerKind::Corporate => Some(CustomerKind::Corporate),
        v1::CustomerKind::SmallBusiness => Some(CustomerKind::SmallBusiness),
        v1::CustomerKind::Institution => Some(CustomerKind::Institution),
        v1::CustomerKind::Unspecified => None,
    }
}

fn level(raw: i32) -> Option<BranchLevel> {
    Some(match v1::BranchLevel::try_from(raw).ok()? {
        v1::BranchLevel::HeadOffice => BranchLevel::HeadOffice,
        v1::BranchLevel::Tier1Branch => BranchLevel::Tier1Branch,
        v1::BranchLevel::Tier2Branch => BranchLevel::Tier2Branch,
        v1::BranchLevel::SubBranch => BranchLevel::SubBranch,
        v1::BranchLevel::Outlet => BranchLevel::Outlet,
        v1::BranchLevel::Unspecified => return None,
    })
}

/// A branch's chain, head office first, the branch last.
#[derive(Clone, Debug)]
pub struct Chain(pub Vec<(BranchCode, BranchLevel)>);

impl Chain {
    /// The materialised path, `/HQ/BJ/BJ01/`.
    pub fn path(&self) -> String {
        let mut path = String::from("/");
        for (b, _) in &self.0 {
            path.push_str(b.as_str());
            path.push('/');
        }
        path
    }
}

/// The tree made of `chains` (each from head office down).
pub fn tree_of(chains: &[Chain]) -> Result<BranchTree> {
    let mut nodes: BTreeMap<BranchCode, BranchNode> = BTreeMap::new();
    for chain in chains {
        let mut parent: Option<BranchCode> = None;
        for (id, level) in &chain.0 {
            nodes.entry(id.clone()).or_insert_with(|| BranchNode {
                id: id.clone(),
                parent: parent.clone(),
                level: *level,
            });
            parent = Some(id.clone());
        }
    }
    BranchTree::new(nodes.into_values()).map_err(|e| {
        ServiceError::internal(format!(
            "the registry's branch chains do not form a tree: {e}"
        ))
    })
}

impl Registry {
    /// A client of the registry at `endpoint` (connected on first use), each call bounded by
    /// `call_timeout`.
    pub fn connect_lazy(
        endpoint: &str,
        call_timeout: Duration,
        identity: ServiceIdentity,
    ) -> std::result::Result<Registry, tonic::transport::Error> {
        Ok(Registry {
            client: CustomerRegistryClient::new(lazy_channel(endpoint, call_timeout)?),
            identity,
        })
    }

    fn request<T>(&self, caller: &Caller, message: T) -> Result<tonic::Request<T>> {
        self.identity
            .request(caller, message)
            .map_err(|e| ServiceError::internal(format!("cannot sign a registry call: {e}")))
    }

    /// The customers `ids` as `caller` may see them; those missing or invisible are `NOT_FOUND`
    /// (the first one named).
    pub async fn customers(&self, caller: &Caller, ids: &[String]) -> Result<Vec<CustomerFacts>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let request = self.request(
                caller,
                v1::BatchGetCustomersRequest {
                    customer_ids: chunk.to_vec(),
                },
            )?;
            let response = self
                .client
                .clone()
                .batch_get_customers(request)
                .await
                .map_err(|s| from_callee("customer registry", s, "customer", "batch"))?
                .into_inner();
            if let Some(missing) = response.missing_customer_ids.first() {
                return Err(ServiceError::not_found("customer", missing.clone()));
            }
            for c in response.customers {
                let kind = customer_kind(c.kind).ok_or_else(|| {
                    ServiceError::internal(format!("customer {} has no kind", c.customer_id))
                })?;
                out.push(CustomerFacts {
                    customer_id: c.customer_id,
                    name: c.name,
                    kind,
                });
            }
        }
        Ok(out)
    }

    /// An individual's consent as the domain rules read it (for linked use, only do-not-contact
    /// and cross-line use matter; the channels are left out). `None` when none is recorded.
    pub async fn consent(&self, caller: &Caller, customer_id: &str) -> Result<Option<Consent>> {
        let request = self.request(
            caller,
            v1::GetConsentRequest {
                customer_id: customer_id.to_owned(),
            },
        )?;
        match self.client.clone().get_consent(request).await {
            Ok(r) => Ok(r.into_inner().consent.map(|c| Consent {
                granted_channels: Default::default(),
                do_not_contact: c.do_not_contact,
                cross_line_use: c.cross_line_use,
            })),
            Err(s) if s.code() == Code::NotFound => Ok(None),
            Err(s) => Err(from_callee("customer registry", s, "customer", customer_id)),
        }
    }

    /// Walks the relationships from `root`.
    pub async fn traverse(
        &self,
        caller: &Caller,
        root: &str,
        types: Vec<i32>,
        max_depth: i32,
    ) -> Result<v1::TraverseRelationshipsResponse> {
        let request = self.request(
            caller,
            v1::TraverseRelationshipsRequest {
                root_customer_id: root.to_owned(),
                relationship_types: types,
                direction: v1::RelationshipDirection::Both as i32,
                max_depth,
                max_nodes: 0,
            },
        )?;
        self.client
            .clone()
            .traverse_relationships(request)
            .await
            .map(tonic::Response::into_inner)
            .map_err(|s| from_callee("customer registry", s, "customer", root))
    }

    /// An employee of the staff directory.
    pub async fn employee(&self, caller: &Caller, employee_id: &str) -> Result<StaffFacts> {
        let request = self.request(
            caller,
            v1::GetEmployeeRequest {
                employee_id: employee_id.to_owned(),
            },
        )?;
        let e = self
            .client
            .clone()
            .get_employee(request)
            .await
            .map_err(|s| from_callee("customer registry", s, "employee", employee_id))?
            .into_inner()
            .employee
            .ok_or_else(|| ServiceError::not_found("employee", employee_id))?;
        let branch = BranchCode::parse(&e.branch_id).map_err(ServiceError::internal)?;
        let active_from = e
            .active_from
            .as_ref()
            .map(convert::date_from_proto)
            .transpose()
            .map_err(ServiceError::internal)?
            .unwrap_or(chrono::NaiveDate::MIN);
        let active_to = e
            .active_to
            .as_ref()
            .map(convert::date_from_proto)
            .transpose()
            .map_err(ServiceError::internal)?;
        Ok(StaffFacts {
            employee_id: e.employee_id,
            branch,
            lines: e
                .lines
                .into_iter()
                .filter_map(convert::line_from_proto)
                .collect(),
            active_from,
            active_to,
        })
    }

    /// The chain of `branch`, head office first; an unknown branch is `NOT_FOUND`.
    pub async fn chain(&self, caller: &Caller, branch: &BranchCode) -> Result<Chain> {
        let id = branch.as_str();
        let request = self.request(
            caller,
            v1::GetBranchChainRequest {
                branch_id: id.to_owned(),
                as_of_date: None,
            },
        )?;
        let response = self
            .client
            .clone()
            .get_branch_chain(request)
            .await
            .map_err(|s| match s.code() {
                Code::InvalidArgument => ServiceError::not_found("branch", id),
                _ => from_callee("customer registry", s, "branch", id),
            })?
            .into_inner();
        let mut links = Vec::with_capacity(response.chain.len());
        for b in response.chain {
            let code = BranchCode::parse(&b.branch_id).map_err(ServiceError::internal)?;
            let lvl = level(b.level).ok_or_else(|| {
                ServiceError::internal(format!("branch {} has no level", b.branch_id))
            })?;
            links.push((code, lvl));
        }
        if links.last().is_none_or(|(b, _)| b != branch) {
            return Err(ServiceError::internal(format!(
                "the registry's chain of {id} does not end at it"
            )));
        }
        Ok(Chain(links))
    }
}

/// The pricing service, called on behalf of the end user.
#[derive(Clone, Debug)]
pub struct Pricing {
    client: PricingClient<Channel>,
    identity: ServiceIdentity,
}

/// A quote as coordination needs it.
#[derive(Clone, Debug)]
pub struct QuoteFacts {
    /// The customer quoted.
    pub customer_id: String,
    /// Its state.
    pub status: bankmkt_domain::coordination::QuoteStatus,
}

impl Pricing {
    /// A client of pricing at `endpoint` (connected on first use), each call bounded by
    /// `call_timeout`.
    pub fn connect_lazy(
        endpoint: &str,
        call_timeout: Duration,
        identity: ServiceIdentity,
    ) -> std::result::Result<Pricing, tonic::transport::Error> {
        Ok(Pricing {
            client: PricingClient::new(lazy_channel(endpoint, call_timeout)?),
            identity,
        })
    }

    /// Quote `quote_id` as `caller` may see it (pricing's `GetQuote`).
    pub async fn quote(&self, caller: &Caller, quote_id: &str) -> Result<QuoteFacts> {
        let request = self
            .identity
            .request(
                caller,
                v1::GetQuoteRequest {
                    quote_id: quote_id.to_owned(),
                },
            )
            .map_err(|e| ServiceError::internal(format!("cannot sign a pricing call: {e}")))?;
        let quote = self
            .client
            .clone()
            .get_quote(request)
            .await
            .map_err(|s| from_callee("pricing service", s, "quote", quote_id))?
            .into_inner()
            .quote
            .ok_or_else(|| ServiceError::not_found("quote", quote_id))?;
        let status = convert::quote_status_from_proto(quote.status).ok_or_else(|| {
            ServiceError::internal(format!("quote {quote_id} has no known status"))
        })?;
        Ok(QuoteFacts {
            customer_id: quote.customer_id,
            status,
        })
    }
}

// -- slice 2b: signed registry calls for referrals, activities and overdue (see crate::directory) --
impl Registry {
    /// The registry client with `message` signed for `caller` (the calls of
    /// [`crate::directory`]).
    pub fn signed<T>(
        &self,
        caller: &Caller,
        message: T,
    ) -> Result<(CustomerRegistryClient<Channel>, tonic::Request<T>)> {
        Ok((self.client.clone(), self.request(caller, message)?))
    }

    /// A registry status as this service's error, about `kind` `id`.
    pub fn callee_error(status: tonic::Status, kind: &'static str, id: &str) -> ServiceError {
        from_callee("customer registry", status, kind, id)
    }
}
// -- end slice 2b --

// -- access grants: the registry's `SetCustomerAccessGrants` (see crate::grants) --
impl Registry {
    /// Replaces the access grants of `grant_source` (`SetCustomerAccessGrants`), signed with this
    /// service's identity on behalf of `caller` (the registry accepts grants from services
    /// only). A registry that cannot be reached, is overloaded or too slow is `UNAVAILABLE`; any
    /// other refusal is this service's fault (its identity or its request) and `INTERNAL`.
    pub async fn set_access_grants(
        &self,
        caller: &Caller,
        request: v1::SetCustomerAccessGrantsRequest,
    ) -> Result<i64> {
        let source = request.grant_source.clone();
        let request = self.request(caller, request)?;
        match self
            .client
            .clone()
            .set_customer_access_grants(request)
            .await
        {
            Ok(r) => Ok(r.into_inner().grant_count),
            Err(s) => Err(match s.code() {
                Code::Unavailable
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Cancelled
                | Code::Aborted => unavailable("customer registry", &s),
                code => ServiceError::internal(format!(
                    "the customer registry answered {code:?} to the access grants of {source}: {}",
                    s.message()
                )),
            }),
        }
    }
}
// -- end access grants --
