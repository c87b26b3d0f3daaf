//! `SimulatePricing` (模拟定价): up to ten options for one customer priced side by side with the
//! domain's `simulate`, against the same facts and the same catalogue version, and stored
//! nowhere. Ranking is the domain's: total EVA descending, then RAROC descending with "n/a" last;
//! an option whose proposal breaches a regulatory limit gets the verdict `REGULATORY_BREACH`
//! (naming the limits) and ranks last instead of failing the call. The options' branch defaults
//! to the caller's and must be in the caller's subtree.

use bankmkt_domain::pricing::simulation::MAX_SCENARIOS;
use bankmkt_domain::pricing::{QuoteRequest, Scenario, simulate as simulate_options};
use bankmkt_platform::Caller;
use bankmkt_platform::status::Violations;
use bankmkt_proto::v1;

use super::branches;
use super::context::{Catalogue, ItemSpec, parse_items, pricing_error};
use super::create::{customer_id, optional_id, quote_branch};
use super::stored::{
    StoredRef, StoredRule, economics_to_proto, price_to_proto, request_to_proto, rule_to_proto,
    verdict_to_proto,
};
use super::{QUOTE_MAKERS, reads_bank_wide};
use crate::PricingService;
use crate::access::require_role;
use crate::convert;
use crate::error::{Result, ServiceError};

/// `SimulatePricing`.
pub async fn simulate(
    svc: &PricingService,
    caller: &Caller,
    request: v1::SimulatePricingRequest,
) -> Result<v1::SimulatePricingResponse> {
    require_role(caller, &QUOTE_MAKERS, "SimulatePricing")?;
    let mut v = Violations::new();
    let customer = customer_id("customer_id", &request.customer_id, &mut v);
    let branch = quote_branch("branch_id", &request.branch_id, caller, &mut v);
    if request.scenarios.is_empty() || request.scenarios.len() > MAX_SCENARIOS {
        v.add(
            "scenarios",
            format!(
                "a simulation has 1 to {MAX_SCENARIOS} scenarios, not {}",
                request.scenarios.len()
            ),
        );
    }
    let mut specs: Vec<Vec<ItemSpec>> = Vec::with_capacity(request.scenarios.len());
    let mut bundles: Vec<Option<String>> = Vec::with_capacity(request.scenarios.len());
    for (i, s) in request.scenarios.iter().enumerate() {
        if s.items.is_empty() || s.items.len() > bankmkt_domain::pricing::quote::MAX_ITEMS {
            v.add(
                format!("scenarios[{i}].items"),
                format!("an option has 1 to 50 items, not {}", s.items.len()),
            );
        }
        specs.push(parse_items(
            &format!("scenarios[{i}].items"),
            &s.items,
            &mut v,
        ));
        bundles.push(optional_id(
            &format!("scenarios[{i}].bundle_id"),
            &s.bundle_id,
            &mut v,
        ));
    }
    let (Some(customer), Some(branch), true) = (customer, branch, v.is_empty()) else {
        return Err(ServiceError::Invalid(v));
    };
    let (chain, snapshot) = tokio::try_join!(
        branches::chain(svc, caller, &branch),
        crate::facts::read(svc, caller, &customer),
    )?;
    if !reads_bank_wide(caller)
        && !caller
            .branch
            .as_ref()
            .is_some_and(|own| chain.contains(own.as_str()))
    {
        return Err(ServiceError::PermissionDenied(format!(
            "branch {branch} is not in the caller's subtree"
        )));
    }
    let product_ids: Vec<&str> = specs
        .iter()
        .flatten()
        .map(|s| s.product_id.as_str())
        .collect();
    let bundle_ids: Vec<&str> = bundles.iter().flatten().map(String::as_str).collect();
    let catalogue = Catalogue::load(svc, svc.clock.today(), &product_ids, &bundle_ids).await?;
    let mut scenarios = Vec::with_capacity(specs.len());
    for ((wire, items), bundle) in request.scenarios.iter().zip(&specs).zip(&bundles) {
        scenarios.push(Scenario {
            name: wire.name.trim().to_owned(),
            request: QuoteRequest {
                items: catalogue.inputs(items)?,
                bundle: bundle.as_ref().and_then(|id| catalogue.bundles.get(id)),
                strategic: wire.strategic,
            },
        });
    }
    let results = simulate_options(
        &catalogue.context(svc.quoting.config),
        &snapshot.facts,
        &scenarios,
    )
    .map_err(|e| pricing_error(e, "scenarios"))?;

    let mut rule_ids: Vec<(&str, i64)> = Vec::new();
    let mut band_ids: Vec<&str> = Vec::new();
    let mut limit_ids: Vec<&str> = Vec::new();
    let mut out = Vec::with_capacity(results.len());
    for r in &results {
        let position = scenarios
            .iter()
            .position(|s| s.name == r.name)
            .unwrap_or_default();
        let items_of = specs.get(position).map(Vec::as_slice).unwrap_or_default();
        let mut items = Vec::with_capacity(r.quote.items.len());
        for (i, (item, spec)) in r.quote.items.iter().zip(items_of).enumerate() {
            rule_ids.extend(
                item.rules
                    .iter()
                    .map(|e| (e.rule_id.as_str(), e.rule_version)),
            );
            band_ids.extend(item.band_id.as_deref());
            limit_ids.extend(item.regulatory_limit_ids.iter().map(String::as_str));
            let price_version_id = catalogue
                .products
                .get(&spec.product_id)
                .map(|p| p.price_version_id.clone())
                .unwrap_or_default();
            let rules = item
                .rules
                .iter()
                .map(|e| rule_to_proto(&StoredRule::from_domain(e)))
                .collect::<Result<Vec<_>>>()?;
            items.push(v1::QuoteItem {
                item_id: (i + 1).to_string(),
                request: Some(request_to_proto(
                    &spec.stored(),
                    item.covenant.map(|c| c.step_up.value()),
                )?),
                product_kind: convert::kind_to_proto(item.kind) as i32,
                currency: item.currency.as_str().to_owned(),
                price_version_id,
                list_price: Some(price_to_proto(item.list_price)),
                relationship_price: Some(price_to_proto(item.relationship_price)),
                proposed_price: Some(price_to_proto(item.proposed_price)),
                concession_bps: item.concession.value(),
                required_level: convert::level_to_proto(item.required_level) as i32,
                year_fraction: Some(convert::decimal_to_proto(item.year_fraction.to_decimal())),
                economics: Some(economics_to_proto(&item.economics)),
                fx_rate: Some(convert::decimal_to_proto(item.fx_rate.normalize())),
                rules,
                regulatory_limit_ids: item.regulatory_limit_ids.clone(),
            });
        }
        out.push(v1::SimulationResult {
            name: r.name.clone(),
            rank: i32::try_from(r.rank).unwrap_or(i32::MAX),
            items,
            totals: Some(economics_to_proto(&r.quote.totals)),
            verdict: verdict_to_proto(r.quote.verdict) as i32,
            required_approval_level: convert::level_to_proto(r.quote.required_level) as i32,
            breached_limit_ids: r.quote.breached_limit_ids.clone(),
            missing_prerequisites: r
                .quote
                .missing_prerequisites
                .iter()
                .map(crate::bundles::prerequisite_to_proto)
                .collect(),
        });
    }
    let all_specs: Vec<ItemSpec> = specs.iter().flatten().cloned().collect();
    let used_bundles: Vec<_> = bundles
        .iter()
        .flatten()
        .filter_map(|id| catalogue.bundles.get(id))
        .collect();
    let mut refs = catalogue.versions_used(&all_specs, rule_ids, band_ids, limit_ids, None);
    for b in used_bundles {
        if !refs
            .iter()
            .any(|r| r.kind == "bundle" && r.id == b.bundle_id)
        {
            refs.push(StoredRef {
                kind: "bundle".into(),
                id: b.bundle_id.clone(),
                version: b.version,
            });
        }
    }
    Ok(v1::SimulatePricingResponse {
        results: out,
        existing_contribution: snapshot.facts.ttm_contribution.map(convert::money_to_proto),
        rule_versions: refs
            .into_iter()
            .map(|r| v1::RuleVersionRef {
                rule_kind: r.kind,
                rule_id: r.id,
                version: r.version,
            })
            .collect(),
    })
}
