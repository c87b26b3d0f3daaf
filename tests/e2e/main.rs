//! End-to-end tests, one binary: the real suite on port 0 (see `bankmkt_e2e::TestSuite`), called
//! over gRPC and HTTP like any client would.

mod coordination_access;
mod coordination_bad_input;
mod coordination_bids;
mod coordination_campaign;
mod coordination_opportunities;
mod coordination_overdue;
mod coordination_referrals;
mod coordination_solution;
mod coordination_tasks;
mod gateway;
mod limits;
mod otlp;
mod ports;
mod pricing_approvals;
mod pricing_bad_input;
mod pricing_bundles;
mod pricing_catalogue;
mod pricing_quotes;
mod pricing_rules;
mod registry_360;
mod registry_bad_input;
mod registry_customers;
mod registry_ingest;
mod registry_lifecycle;
mod registry_org;
mod registry_ownership;
mod registry_relationships;
mod registry_teams;
mod registry_tiers;
mod registry_value;
mod slow;
