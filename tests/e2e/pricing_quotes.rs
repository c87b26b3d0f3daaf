//! Quotes, simulation and covenants through gRPC, on the embedded default (SQLite, in-process
//! cache) and on Postgres with Redis, against docs/pricing.md's shared data and a corporate
//! customer made through the registry (core stage, contribution RMB 1,800,000.00): example 1's
//! loan priced to the fen with its explanations (R1 applied, R2 not: "contribution RMB
//! 1,800,000.00, rule needs 2,000,000.00"), the versions used, the existing and combined
//! contribution; the same idempotency key returning the same quote; a `payroll-plus` bundle quote
//! with the component benefits explained and the missing prerequisites; a proposal under the
//! 5-year floor refused as `FAILED_PRECONDITION` naming the limit; who sees which quotes; one audit
//! entry and outbox event per quote; DOMAIN.md §4's two cash-services options (and a USD option
//! and a breaching one) simulated and ranked to the fen; and a covenant breach stepping the loan
//! rate up into a new, approved quote version that supersedes the old one.

use bankmkt_e2e::Backend;
use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::preconditions;
use bankmkt_e2e::quotes::{
    QuoteWorld, as_component, balance_item, cny, fee, fee_item, figures, rate, yuan,
};
use bankmkt_e2e::registry::fields;
use bankmkt_platform::{audit, outbox};
use bankmkt_proto::v1;
use chrono::Datelike;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use tonic::Code;

/// The number of audit entries and outbox events of quote `id` with `action` / `event`.
pub(crate) async fn trail(w: &QuoteWorld, id: &str, action: &str, event: &str) -> (u64, u64) {
    let db = w.h.db().await;
    let audits = audit::entity::Entity::find()
        .filter(audit::entity::Column::TargetId.eq(id))
        .filter(audit::entity::Column::Action.eq(action))
        .count(&db)
        .await
        .expect("audit");
    let events = outbox::entity::Entity::find()
        .filter(outbox::entity::Column::AggregateId.eq(id))
        .filter(outbox::entity::Column::EventType.eq(event))
        .count(&db)
        .await
        .expect("outbox");
    (audits, events)
}

/// `(rule_id, applied, before, after, unmet messages)` of an item's explanations.
type Explained = (
    String,
    bool,
    Option<v1::Price>,
    Option<v1::Price>,
    Vec<String>,
);

fn explained(item: &v1::QuoteItem) -> Vec<Explained> {
    item.rules
        .iter()
        .map(|r| {
            (
                r.rule_id.clone(),
                r.applied,
                r.price_before.clone(),
                r.price_after.clone(),
                r.unmet_conditions
                    .iter()
                    .map(|u| u.message.clone())
                    .collect(),
            )
        })
        .collect()
}

fn refs(q: &v1::Quote, kind: &str) -> Vec<(String, i64)> {
    q.rule_versions
        .iter()
        .filter(|r| r.rule_kind == kind)
        .map(|r| (r.rule_id.clone(), r.version))
        .collect()
}

async fn quotes_with_explanations(backend: Backend) {
    use v1::AuthorityLevel as L;
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let maker = w.maker.clone();
    let ids = w.ids.clone();

    // Example 1: LOAN-WC-1Y, 10,000,000.00 for 12 months, proposed 4.15%.
    let loan = || vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(415))];
    let q = w.quote(&maker, "ex1", loan()).await.expect("example 1");
    assert_eq!(q.customer_id, w.firm);
    assert_eq!(q.branch_id, "BJ0101", "the maker's branch by default");
    assert_eq!(q.status, v1::QuoteStatus::Draft as i32);
    assert_eq!(q.version, 1);
    assert_eq!(q.verdict, v1::QuoteVerdict::NeedsApproval as i32);
    assert_eq!(q.required_approval_level, L::Outlet as i32);
    assert_eq!(q.hurdle_rate_bps, 1_200);
    assert!(q.registry_data_version > 0);
    assert_eq!(q.created.as_ref().map(|c| c.actor_id.as_str()), Some("e1"));
    let item = &q.items[0];
    assert_eq!(item.item_id, "1");
    assert_eq!(item.product_kind, v1::ProductKind::Asset as i32);
    assert_eq!(item.currency, "CNY");
    assert_eq!(
        (
            item.list_price.clone(),
            item.relationship_price.clone(),
            item.proposed_price.clone()
        ),
        (rate(435), rate(425), rate(415))
    );
    assert_eq!(item.concession_bps, 10);
    assert_eq!(item.required_level, L::Outlet as i32);
    assert_eq!(
        item.year_fraction.as_ref().map(|d| d.value.as_str()),
        Some("1")
    );
    assert_eq!(item.fx_rate.as_ref().map(|d| d.value.as_str()), Some("1"));
    assert_eq!(
        explained(item),
        [
            (ids.r1.clone(), true, rate(435), rate(425), vec![]),
            (
                ids.r2.clone(),
                false,
                None,
                None,
                vec!["contribution RMB 1,800,000.00, rule needs 2,000,000.00".to_owned()]
            ),
        ]
    );
    assert_eq!(item.regulatory_limit_ids, vec![ids.floor_1y.clone()]);
    let example_1 = (
        yuan([175_000, 40_000, 20_000, 800_000, 115_000, 19_000]),
        Some("0.1438".to_owned()),
    );
    assert_eq!(figures(&item.economics), example_1);
    assert_eq!(figures(&q.totals), example_1);
    assert_eq!(q.existing_contribution, Some(cny(1_800_000)));
    assert_eq!(q.combined_contribution, Some(cny(1_819_000)));
    assert_eq!(
        refs(&q, "pricing_rule"),
        [(ids.r1.clone(), 1), (ids.r2.clone(), 1)]
    );
    assert_eq!(
        refs(&q, "authority_band"),
        [(ids.asset_bands[1].clone(), 1)]
    );
    assert_eq!(refs(&q, "regulatory_limit"), [(ids.floor_1y.clone(), 1)]);
    assert_eq!(
        refs(&q, "price_version"),
        [(item.price_version_id.clone(), 1)]
    );
    let expires = q.expire_time.as_ref().map_or(0, |t| t.seconds)
        - q.created
            .as_ref()
            .and_then(|c| c.time.as_ref())
            .map_or(0, |t| t.seconds);
    assert!(
        (30 * 86_400 - 1..=30 * 86_400).contains(&expires),
        "{expires}"
    );

    // The same key returns the same quote; the same key with another request is refused.
    let again = w.quote(&maker, "ex1", loan()).await.expect("retry");
    assert_eq!(again, q);
    let conflict = w
        .quote(
            &maker,
            "ex1",
            vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(420))],
        )
        .await
        .expect_err("key reused");
    assert_eq!(conflict.code(), Code::InvalidArgument);
    assert_eq!(fields(&conflict), ["idempotency_key"]);
    assert_eq!(w.get(&maker, &q.quote_id).await.expect("get"), q);
    assert_eq!(
        trail(&w, &q.quote_id, "quote.create", "quote.created").await,
        (1, 1)
    );

    // A bundle: payroll-plus with its deposit and payroll components (example 2's items, for a
    // customer without a corporate tier, so R3 does not apply to the deposit).
    let bundle_items = || {
        vec![
            as_component(balance_item("DEP-DEMAND", 5_000_000, 12, None), "deposit"),
            as_component(fee_item("PAYROLL", Some(30_000_000)), "payroll"),
        ]
    };
    let bundled = w
        .create(
            &maker,
            v1::CreateQuoteRequest {
                idempotency_key: "bundle".into(),
                customer_id: w.firm.clone(),
                bundle_id: ids.payroll_plus.clone(),
                items: bundle_items(),
                ..Default::default()
            },
        )
        .await
        .expect("bundle quote");
    assert_eq!(bundled.bundle_id, ids.payroll_plus);
    assert_eq!(bundled.bundle_version, 1);
    let (deposit, payroll) = (&bundled.items[0], &bundled.items[1]);
    assert_eq!(
        (
            deposit.list_price.clone(),
            deposit.relationship_price.clone(),
            deposit.proposed_price.clone()
        ),
        (rate(35), rate(45), rate(45))
    );
    let component = |c: &str| format!("bundle:{}/{c}", ids.payroll_plus);
    assert_eq!(
        explained(deposit),
        [
            (
                ids.r3.clone(),
                false,
                None,
                None,
                vec!["corporate tier none, rule needs one of head_office, tier1_branch".to_owned()]
            ),
            (component("deposit"), true, rate(35), rate(45), vec![]),
        ]
    );
    assert_eq!(deposit.regulatory_limit_ids, vec![ids.cap_deposit.clone()]);
    // 10,000,000 × 0.10% + 20,000,000 × 0.05% = 20,000.00, then 20% off.
    assert_eq!(
        (
            payroll.list_price.clone(),
            payroll.relationship_price.clone()
        ),
        (fee(20_000), fee(16_000))
    );
    assert_eq!(
        explained(payroll),
        [(component("payroll"), true, fee(20_000), fee(16_000), vec![])]
    );
    assert_eq!(
        figures(&deposit.economics),
        (yuan([57_500, 15_000, 0, 0, 42_500, 42_500]), None)
    );
    assert_eq!(
        figures(&payroll.economics),
        (
            yuan([16_000, 8_000, 0, 2_400, 8_000, 7_712]),
            Some("3.3333".to_owned())
        )
    );
    // Total RAROC = 50,500 / 2,400 = 21.041666… → 21.0417.
    assert_eq!(
        figures(&bundled.totals),
        (
            yuan([73_500, 23_000, 0, 2_400, 50_500, 50_212]),
            Some("21.0417".to_owned())
        )
    );
    assert_eq!(bundled.verdict, v1::QuoteVerdict::Acceptable as i32);
    assert_eq!(bundled.required_approval_level, L::CustomerManager as i32);
    let missing: Vec<&str> = bundled
        .missing_prerequisites
        .iter()
        .map(|p| p.prerequisite_id.as_str())
        .collect();
    assert_eq!(missing, ["executives", "cards"]);
    assert_eq!(bundled.combined_contribution, Some(cny(1_850_212)));
    assert_eq!(refs(&bundled, "bundle"), [(ids.payroll_plus.clone(), 1)]);
    // The optional card is waived, and quoting it meets the `cards` prerequisite.
    let mut with_card = bundle_items();
    with_card.push(as_component(fee_item("CARD-CORP", None), "card"));
    let carded = w
        .create(
            &maker,
            v1::CreateQuoteRequest {
                idempotency_key: "bundle-card".into(),
                customer_id: w.firm.clone(),
                bundle_id: ids.payroll_plus.clone(),
                items: with_card,
                ..Default::default()
            },
        )
        .await
        .expect("with card");
    assert_eq!(
        (
            carded.items[2].list_price.clone(),
            carded.items[2].relationship_price.clone()
        ),
        (fee(2_000), fee(0))
    );
    let missing: Vec<&str> = carded
        .missing_prerequisites
        .iter()
        .map(|p| p.prerequisite_id.as_str())
        .collect();
    assert_eq!(missing, ["executives"]);
    // A mandatory component left out is named.
    let partial = w
        .create(
            &maker,
            v1::CreateQuoteRequest {
                idempotency_key: "bundle-partial".into(),
                customer_id: w.firm.clone(),
                bundle_id: ids.payroll_plus.clone(),
                items: vec![as_component(
                    fee_item("PAYROLL", Some(30_000_000)),
                    "payroll",
                )],
                ..Default::default()
            },
        )
        .await
        .expect_err("no deposit");
    assert_eq!(partial.code(), Code::InvalidArgument);
    assert_eq!(fields(&partial), ["items"]);

    // Refused for a regulatory breach: a 5-year loan at 2.69%, under LPR 5Y − 80 bp = 2.70%.
    let breach = w
        .quote(
            &maker,
            "breach",
            vec![balance_item("LOAN-TERM-5Y", 20_000_000, 60, Some(269))],
        )
        .await
        .expect_err("under the floor");
    assert_eq!(breach.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&breach),
        [("REGULATORY_LIMIT".to_owned(), ids.floor_5y.clone())]
    );
    assert!(
        breach.message().contains("floor-5y"),
        "{}",
        breach.message()
    );
    // At the floor it is fine.
    w.quote(
        &maker,
        "at-floor",
        vec![balance_item("LOAN-TERM-5Y", 20_000_000, 60, Some(270))],
    )
    .await
    .expect("at the floor");

    // Who sees what: the maker lists its quotes, newest first, in pages; a manager of another
    // branch sees none of them and cannot read one; head office sees them all.
    let mine = w
        .list(
            &maker,
            v1::ListQuotesRequest {
                customer_id: w.firm.clone(),
                page_size: 2,
                ..Default::default()
            },
        )
        .await
        .expect("list");
    assert_eq!(mine.quotes.len(), 2);
    assert!(!mine.next_page_token.is_empty());
    let rest = w
        .list(
            &maker,
            v1::ListQuotesRequest {
                customer_id: w.firm.clone(),
                page_size: 2,
                page_token: mine.next_page_token.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("page 2");
    let listed: Vec<String> = mine
        .quotes
        .iter()
        .chain(&rest.quotes)
        .map(|q| q.quote_id.clone())
        .collect();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[3], q.quote_id, "oldest last");
    assert!(rest.next_page_token.is_empty());
    let outsider = w.outsider.clone();
    let hidden = w
        .get(&outsider, &q.quote_id)
        .await
        .expect_err("other branch");
    assert_eq!(hidden.code(), Code::NotFound);
    let none = w
        .list(&outsider, v1::ListQuotesRequest::default())
        .await
        .expect("list");
    assert!(none.quotes.is_empty());
    let admin = w.h.admin.clone();
    let all = w
        .list(
            &admin,
            v1::ListQuotesRequest {
                status: v1::QuoteStatus::Draft as i32,
                ..Default::default()
            },
        )
        .await
        .expect("all");
    assert_eq!(all.quotes.len(), 4);
    // Quoting for a branch outside the caller's subtree is refused.
    let elsewhere = w
        .create(
            &maker,
            v1::CreateQuoteRequest {
                idempotency_key: "elsewhere".into(),
                customer_id: w.firm.clone(),
                branch_id: "SH01".into(),
                items: loan(),
                ..Default::default()
            },
        )
        .await
        .expect_err("SH01");
    assert_eq!(elsewhere.code(), Code::PermissionDenied);
    w.h.suite.stop().await;
}

fn scenario(name: &str, items: Vec<v1::QuoteItemRequest>) -> v1::SimulationScenario {
    v1::SimulationScenario {
        name: name.into(),
        items,
        ..Default::default()
    }
}

async fn cash_services_simulation(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let maker = w.maker.clone();
    let ids = w.ids.clone();
    let response = w
        .simulate(
            &maker,
            vec![
                scenario(
                    "option 1: cash counting and change for two stores",
                    vec![fee_item("CASH-2STORES", None)],
                ),
                scenario(
                    "option 3: a 5-year loan under the floor",
                    vec![balance_item("LOAN-TERM-5Y", 20_000_000, 60, Some(269))],
                ),
                scenario(
                    "option 2: the whole cash business",
                    vec![
                        fee_item("CASH-WHOLE", None),
                        balance_item("DEP-CASH", 8_000_000, 12, None),
                    ],
                ),
                scenario("option 4: FX settlement", vec![fee_item("FX-SETTLE", None)]),
            ],
        )
        .await
        .expect("simulate");
    let order: Vec<(i32, &str)> = response
        .results
        .iter()
        .map(|r| (r.rank, r.name.as_str()))
        .collect();
    assert_eq!(
        order,
        [
            (1, "option 2: the whole cash business"),
            (2, "option 4: FX settlement"),
            (3, "option 1: cash counting and change for two stores"),
            (4, "option 3: a 5-year loan under the floor"),
        ]
    );
    let (two, four, one, breach) = (
        &response.results[0],
        &response.results[1],
        &response.results[2],
        &response.results[3],
    );
    // DOMAIN.md §4: option 2 RAR 241,600, EC 59,100, EVA 234,508, RAROC 4.0880.
    assert_eq!(
        figures(&two.totals),
        (
            yuan([502_000, 260_400, 0, 59_100, 241_600, 234_508]),
            Some("4.0880".to_owned())
        )
    );
    assert_eq!(
        figures(&two.items[0].economics),
        (
            yuan([394_000, 236_400, 0, 59_100, 157_600, 150_508]),
            Some("2.6667".to_owned())
        )
    );
    assert_eq!(
        figures(&two.items[1].economics),
        (yuan([108_000, 24_000, 0, 0, 84_000, 84_000]), None)
    );
    assert_eq!(two.items[1].proposed_price, rate(25), "R3 does not apply");
    // Option 1: RAR 54,000, EC 18,000, EVA 51,840, RAROC 3.0000 (300%).
    assert_eq!(
        figures(&one.totals),
        (
            yuan([120_000, 66_000, 0, 18_000, 54_000, 51_840]),
            Some("3.0000".to_owned())
        )
    );
    for r in [two, one, four] {
        assert_eq!(r.verdict, v1::QuoteVerdict::Acceptable as i32, "{}", r.name);
        assert!(r.breached_limit_ids.is_empty());
    }
    // USD 20,000.00 of fees at 7.1: EVA USD 9,640.00 = CNY 68,444.00.
    assert_eq!(four.items[0].currency, "USD");
    assert_eq!(
        four.items[0].fx_rate.as_ref().map(|d| d.value.as_str()),
        Some("7.1")
    );
    assert_eq!(
        figures(&four.items[0].economics).0[5],
        964_000,
        "item figures stay in USD"
    );
    assert_eq!(
        figures(&four.totals),
        (
            yuan([142_000, 71_000, 0, 21_300, 71_000, 68_444]),
            Some("3.3333".to_owned())
        )
    );
    assert_eq!(breach.verdict, v1::QuoteVerdict::RegulatoryBreach as i32);
    assert_eq!(breach.breached_limit_ids, vec![ids.floor_5y.clone()]);
    assert_eq!(response.existing_contribution, Some(cny(1_800_000)));
    assert!(
        response
            .rule_versions
            .iter()
            .any(|r| r.rule_kind == "pricing_rule" && r.rule_id == ids.r3)
    );
    // Nothing is stored.
    let stored = w
        .list(&maker, v1::ListQuotesRequest::default())
        .await
        .expect("list");
    assert!(stored.quotes.is_empty());
    w.h.suite.stop().await;
}

/// The month `back` months before this one.
fn months_ago(back: u32) -> v1::Period {
    let today = chrono::Utc::now().date_naive();
    let index = today.year() * 12 + today.month0() as i32 - back as i32;
    v1::Period {
        year: index.div_euclid(12),
        month: index.rem_euclid(12) + 1,
    }
}

async fn covenant_step_up(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let maker = w.maker.clone();
    // A covenanted loan at its relationship price: 4.25%, agreed return ratio 60%.
    let covenanted = v1::QuoteItemRequest {
        covenant: Some(v1::Covenant {
            agreed_ratio_bps: 6_000,
            step_up_bps: 0,
        }),
        ..balance_item("LOAN-WC-1Y", 10_000_000, 12, None)
    };
    let q = w
        .quote(&maker, "covenant", vec![covenanted])
        .await
        .expect("quote");
    assert_eq!(
        q.items[0].request.as_ref().and_then(|r| r.covenant),
        Some(v1::Covenant {
            agreed_ratio_bps: 6_000,
            step_up_bps: 50,
        }),
        "the configured step-up is recorded"
    );
    assert_eq!(
        figures(&q.totals).0,
        yuan([185_000, 40_000, 20_000, 800_000, 125_000, 29_000])
    );
    // A draft is not yet bound by its covenant.
    let observation =
        |quote_id: &str, key: &str, back: u32, ratio: i32| v1::RecordCovenantObservationRequest {
            idempotency_key: key.into(),
            quote_id: quote_id.into(),
            item_id: "1".into(),
            period: Some(months_ago(back)),
            observed_ratio_bps: ratio,
        };
    let draft = w
        .observe(&maker, observation(&q.quote_id, "o0", 1, 5_000))
        .await
        .expect_err("draft");
    assert_eq!(draft.code(), Code::FailedPrecondition);
    // Within the manager's discretion and profitable: approved on submission.
    let approved = w.submit(&maker, &q).await.expect("submit");
    assert_eq!(approved.status, v1::QuoteStatus::Approved as i32);
    assert!(approved.decisions.is_empty());
    assert_eq!(
        approved.submitted.as_ref().map(|s| s.actor_id.as_str()),
        Some("e1")
    );
    assert_eq!(
        trail(&w, &q.quote_id, "quote.submit", "quote.approved").await,
        (1, 1)
    );

    // Observed 50% < 60%: the rate steps up 50 bp into a new version.
    let first = observation(&q.quote_id, "o1", 1, 5_000);
    let stepped = w.observe(&maker, first.clone()).await.expect("breach");
    assert!(stepped.breached);
    assert_eq!(stepped.step_up_bps, 50);
    let new = stepped.new_quote.clone().expect("new version");
    assert_ne!(new.quote_id, q.quote_id);
    assert_eq!(new.supersedes_quote_id, q.quote_id);
    assert_eq!(new.status, v1::QuoteStatus::Approved as i32);
    assert_eq!(new.version, 1);
    assert_eq!(new.items[0].proposed_price, rate(475));
    assert_eq!(new.items[0].relationship_price, rate(425));
    assert_eq!(new.items[0].concession_bps, 0);
    // 10M × (4.75% − 2.40%) = 235,000; RAR 175,000; EVA 175,000 − 96,000 = 79,000.
    let stepped_figures = (
        yuan([235_000, 40_000, 20_000, 800_000, 175_000, 79_000]),
        Some("0.2188".to_owned()),
    );
    assert_eq!(figures(&new.items[0].economics), stepped_figures);
    assert_eq!(figures(&new.totals), stepped_figures);
    assert_eq!(new.combined_contribution, Some(cny(1_879_000)));
    assert_eq!(w.get(&maker, &new.quote_id).await.expect("new"), new);
    let old = w.get(&maker, &q.quote_id).await.expect("old");
    assert_eq!(old.status, v1::QuoteStatus::Superseded as i32);
    assert_eq!(old.version, 3);
    assert_eq!(
        old.items[0].proposed_price,
        rate(425),
        "the old version stands"
    );
    // A retry returns the same answer and changes nothing.
    assert_eq!(w.observe(&maker, first).await.expect("retry"), stepped);
    // The superseded version takes no more observations; the new one does, once per month.
    let on_old = w
        .observe(&maker, observation(&q.quote_id, "o2", 2, 5_000))
        .await
        .expect_err("superseded");
    assert_eq!(on_old.code(), Code::FailedPrecondition);
    let met = w
        .observe(&maker, observation(&new.quote_id, "o3", 2, 6_500))
        .await
        .expect("met");
    assert!(!met.breached);
    assert_eq!(met.step_up_bps, 0);
    assert_eq!(met.new_quote, None);
    let twice = w
        .observe(&maker, observation(&new.quote_id, "o4", 1, 5_500))
        .await
        .expect_err("month already observed");
    assert_eq!(twice.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&twice),
        [(
            "COVENANT_PERIOD".to_owned(),
            format!("{:04}-{:02}", months_ago(1).year, months_ago(1).month)
        )]
    );
    assert_eq!(
        trail(&w, &q.quote_id, "quote.supersede", "quote.superseded").await,
        (1, 1)
    );
    assert_eq!(
        trail(&w, &new.quote_id, "quote.create", "quote.created").await,
        (1, 1)
    );
    w.h.suite.stop().await;
}

/// A quote filed under a branch whose staff cannot see its customer (the firm is owned by
/// BJ0101; the quote is filed under its outlet BJ010101) is hidden from them: the registry decides
/// who sees the customer, whatever branch the quote is filed under.
async fn quotes_of_unseen_customers_are_hidden(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let maker = w.maker.clone();
    let q = w
        .create(
            &maker,
            v1::CreateQuoteRequest {
                idempotency_key: "outlet".into(),
                customer_id: w.firm.clone(),
                branch_id: "BJ010101".into(),
                items: vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(415))],
                ..Default::default()
            },
        )
        .await
        .expect("quote filed under the outlet");
    assert_eq!(q.branch_id, "BJ010101");
    let teller = w.token("o1", "BJ010101", &["customer_manager"]);
    let hidden = w
        .get(&teller, &q.quote_id)
        .await
        .expect_err("unseen customer");
    assert_eq!(hidden.code(), Code::NotFound);
    for request in [
        v1::ListQuotesRequest::default(),
        v1::ListQuotesRequest {
            customer_id: w.firm.clone(),
            ..Default::default()
        },
    ] {
        let listed = w.list(&teller, request).await.expect("list");
        assert!(listed.quotes.is_empty(), "{listed:?}");
    }
    // The maker, who sees the customer, still reads and lists it.
    assert_eq!(
        w.get(&maker, &q.quote_id).await.expect("get").quote_id,
        q.quote_id
    );
    let mine = w
        .list(&maker, v1::ListQuotesRequest::default())
        .await
        .expect("list");
    assert_eq!(mine.quotes.len(), 1);
    w.h.suite.stop().await;
}

on_both_backends!(
    quotes_with_explanations,
    cash_services_simulation,
    covenant_step_up,
    quotes_of_unseen_customers_are_hidden
);
