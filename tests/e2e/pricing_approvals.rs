//! Maker-checker approvals of quotes through gRPC, on the embedded default (SQLite, in-process
//! cache) and on Postgres with Redis, with the branch tree HQ → BJ → BJ01 → BJ0101 → BJ010101 (and
//! SH) held by the registry: a 25 bp concession needing a tier-2 approver is refused to the
//! sub-branch approver (on the chain, below the level), to a tier-1 approver of another region (off
//! the chain), to a customer manager and to the submitter, and granted to the tier-2 approver,
//! after which it cannot be decided again; a stale version is `ABORTED`; a rejection; a quote
//! within the manager's band approved on submission; "no unprofitable marketing": a refused quote
//! cannot be submitted, the same loss marked strategic needs and gets head office; every decision
//! audited with actor, time and reason and emitted as an outbox event; "awaiting my decision"
//! lists; and quotes that expire (a short configured expiry) can no longer be submitted or
//! decided.

use std::time::Duration;

use bankmkt_e2e::Backend;
use bankmkt_e2e::on_both_backends;
use bankmkt_e2e::pricing::preconditions;
use bankmkt_e2e::quotes::{QuoteWorld, balance_item, figures, yuan};
use bankmkt_e2e::registry::fields;
use bankmkt_platform::audit;
use bankmkt_proto::v1;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tonic::Code;

use crate::pricing_quotes::trail;

fn ids(list: &v1::ListQuotesResponse) -> Vec<String> {
    list.quotes.iter().map(|q| q.quote_id.clone()).collect()
}

async fn awaiting(w: &mut QuoteWorld, token: &str) -> Vec<String> {
    ids(&w
        .list(
            token,
            v1::ListQuotesRequest {
                awaiting_my_decision: true,
                ..Default::default()
            },
        )
        .await
        .expect("awaiting"))
}

async fn maker_checker(backend: Backend) {
    use v1::AuthorityLevel as L;
    let mut w = QuoteWorld::start(backend, |_| {}).await;
    let e1 = w.maker.clone();
    // A tier-2 manager who is also an approver, and approvers up and across the tree.
    let mk = w.token("mk", "BJ01", &["customer_manager", "approver"]);
    let a_sub = w.token("a-sub", "BJ0101", &["approver"]);
    let a_t2 = w.token("a-t2", "BJ01", &["approver"]);
    let a_t1 = w.token("a-t1", "BJ", &["approver"]);
    let a_hq = w.token("a-hq", "HQ", &["approver"]);
    let a_sh = w.token("a-sh", "SH", &["approver"]);

    // 4.00% against a relationship price of 4.25%: 25 bp, the tier-2 band.
    let a = w
        .create(
            &mk,
            v1::CreateQuoteRequest {
                idempotency_key: "a".into(),
                customer_id: w.firm.clone(),
                branch_id: "BJ0101".into(),
                items: vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(400))],
                ..Default::default()
            },
        )
        .await
        .expect("quote a");
    assert_eq!(a.branch_id, "BJ0101");
    assert_eq!(a.verdict, v1::QuoteVerdict::NeedsApproval as i32);
    assert_eq!(a.required_approval_level, L::Tier2Branch as i32);
    assert_eq!(figures(&a.totals).0[5], 400_000, "EVA 4,000.00");
    let draft = w.approve(&a_t2, &a, "ok").await.expect_err("a draft");
    assert_eq!(draft.code(), Code::FailedPrecondition);
    let a = w.submit(&mk, &a).await.expect("submit");
    assert_eq!(a.status, v1::QuoteStatus::PendingApproval as i32);
    assert_eq!(a.version, 2);
    assert_eq!(
        a.submitted.as_ref().map(|s| s.actor_id.as_str()),
        Some("mk")
    );
    assert_eq!(
        trail(&w, &a.quote_id, "quote.submit", "quote.submitted").await,
        (1, 1)
    );
    assert_eq!(awaiting(&mut w, &a_t2).await, vec![a.quote_id.clone()]);
    assert_eq!(awaiting(&mut w, &a_t1).await, vec![a.quote_id.clone()]);
    assert!(awaiting(&mut w, &a_sub).await.is_empty(), "below the level");
    assert!(awaiting(&mut w, &a_sh).await.is_empty(), "off the chain");
    assert!(
        awaiting(&mut w, &mk).await.is_empty(),
        "the submitter's own"
    );

    for (who, token) in [
        ("the sub-branch approver (below tier 2)", &a_sub),
        ("an approver of another region", &a_sh),
        ("the submitter", &mk),
        ("a customer manager", &e1),
    ] {
        let denied = w.approve(token, &a, "looks fine").await.expect_err(who);
        assert_eq!(denied.code(), Code::PermissionDenied, "{who}: {denied:?}");
        let denied = w.reject(token, &a, "no").await.expect_err(who);
        assert_eq!(denied.code(), Code::PermissionDenied, "{who}: {denied:?}");
    }
    let stale = w
        .approve(
            &a_t2,
            &v1::Quote {
                version: 1,
                ..a.clone()
            },
            "ok",
        )
        .await
        .expect_err("stale");
    assert_eq!(stale.code(), Code::Aborted);
    let no_reason = w.approve(&a_t2, &a, " ").await.expect_err("no reason");
    assert_eq!(fields(&no_reason), ["reason"]);
    let approved = w
        .approve(
            &a_t2,
            &a,
            "within the tier-2 authority; relationship covers it",
        )
        .await
        .expect("tier-2 approves");
    assert_eq!(approved.status, v1::QuoteStatus::Approved as i32);
    assert_eq!(approved.version, 3);
    let decision = approved.decisions.first().cloned().unwrap_or_default();
    assert_eq!(approved.decisions.len(), 1);
    assert_eq!(decision.outcome, v1::DecisionOutcome::Approved as i32);
    let stamp = decision.stamp.clone().unwrap_or_default();
    assert_eq!(stamp.actor_id, "a-t2");
    assert_eq!(
        stamp.reason,
        "within the tier-2 authority; relationship covers it"
    );
    assert!(stamp.time.is_some());
    assert_eq!(
        decision.approver_branch.map(|b| b.branch_id),
        Some("BJ01".to_owned())
    );
    assert_eq!(w.get(&e1, &a.quote_id).await.expect("get"), approved);
    assert_eq!(
        trail(&w, &a.quote_id, "quote.approve", "quote.approved").await,
        (1, 1)
    );
    let db = w.h.db().await;
    let entry = audit::entity::Entity::find()
        .filter(audit::entity::Column::TargetId.eq(a.quote_id.as_str()))
        .filter(audit::entity::Column::Action.eq("quote.approve"))
        .one(&db)
        .await
        .expect("audit")
        .expect("entry");
    assert_eq!(entry.actor, "a-t2");
    assert_eq!(
        entry.reason,
        "within the tier-2 authority; relationship covers it"
    );
    // Decided once.
    for token in [&a_t1, &a_hq] {
        let again = w
            .approve(token, &approved, "again")
            .await
            .expect_err("decided");
        assert_eq!(again.code(), Code::FailedPrecondition);
        assert_eq!(
            preconditions(&again),
            [("QUOTE_STATUS".to_owned(), a.quote_id.clone())]
        );
    }
    assert!(awaiting(&mut w, &a_t2).await.is_empty());

    // A 10 bp concession (outlet level), rejected by the sub-branch approver.
    let b = w
        .quote(
            &e1,
            "b",
            vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(415))],
        )
        .await
        .expect("quote b");
    let b = w.submit(&e1, &b).await.expect("submit b");
    let rejected = w
        .reject(&a_sub, &b, "the customer's deposits do not justify it")
        .await
        .expect("reject");
    assert_eq!(rejected.status, v1::QuoteStatus::Rejected as i32);
    assert_eq!(
        rejected
            .decisions
            .iter()
            .map(|d| (d.outcome, d.stamp.clone().unwrap_or_default().actor_id))
            .collect::<Vec<_>>(),
        [(v1::DecisionOutcome::Rejected as i32, "a-sub".to_owned())]
    );
    assert_eq!(
        trail(&w, &b.quote_id, "quote.reject", "quote.rejected").await,
        (1, 1)
    );

    // At the relationship price: within the manager's discretion, approved on submission.
    let c = w
        .quote(
            &e1,
            "c",
            vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, None)],
        )
        .await
        .expect("quote c");
    assert_eq!(c.verdict, v1::QuoteVerdict::Acceptable as i32);
    let c = w.submit(&e1, &c).await.expect("submit c");
    assert_eq!(c.status, v1::QuoteStatus::Approved as i32);
    assert!(c.decisions.is_empty());
    let resubmit = w.submit(&e1, &c).await.expect_err("not a draft");
    assert_eq!(resubmit.code(), Code::FailedPrecondition);

    // No unprofitable marketing: a 5-year loan at 2.80%, under its FTP, loses 332,000.00.
    let loss = || vec![balance_item("LOAN-TERM-5Y", 20_000_000, 60, Some(280))];
    let d = w.quote(&e1, "d", loss()).await.expect("quote d");
    assert_eq!(d.verdict, v1::QuoteVerdict::Refused as i32);
    assert_eq!(
        figures(&d.totals).0,
        yuan([-20_000, 80_000, 40_000, 1_600_000, -140_000, -332_000])
    );
    let refused = w.submit(&e1, &d).await.expect_err("refused");
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&refused),
        [("QUOTE_VERDICT".to_owned(), d.quote_id.clone())]
    );
    let unexplained = w
        .create(
            &e1,
            v1::CreateQuoteRequest {
                idempotency_key: "d-strategic-no-reason".into(),
                customer_id: w.firm.clone(),
                items: loss(),
                strategic: true,
                ..Default::default()
            },
        )
        .await
        .expect_err("no reason");
    assert_eq!(fields(&unexplained), ["strategic_reason"]);
    let strategic = w
        .create(
            &e1,
            v1::CreateQuoteRequest {
                idempotency_key: "d-strategic".into(),
                customer_id: w.firm.clone(),
                items: loss(),
                strategic: true,
                strategic_reason: "anchor loan of the group's new plant".into(),
                ..Default::default()
            },
        )
        .await
        .expect("strategic");
    assert_eq!(
        strategic.verdict,
        v1::QuoteVerdict::StrategicException as i32
    );
    assert_eq!(strategic.required_approval_level, L::HeadOffice as i32);
    assert!(strategic.strategic);
    assert_eq!(
        strategic.strategic_reason,
        "anchor loan of the group's new plant"
    );
    let strategic = w.submit(&e1, &strategic).await.expect("submit strategic");
    let denied = w
        .approve(&a_t1, &strategic, "ok")
        .await
        .expect_err("tier 1");
    assert_eq!(denied.code(), Code::PermissionDenied);
    let approved = w
        .approve(&a_hq, &strategic, "strategic: approved by head office")
        .await
        .expect("head office");
    assert_eq!(approved.status, v1::QuoteStatus::Approved as i32);
    let decided = w
        .list(
            &a_hq,
            v1::ListQuotesRequest {
                status: v1::QuoteStatus::Approved as i32,
                ..Default::default()
            },
        )
        .await
        .expect("approved");
    let mut expected = vec![
        a.quote_id.clone(),
        c.quote_id.clone(),
        strategic.quote_id.clone(),
    ];
    expected.sort();
    expected.reverse();
    assert_eq!(ids(&decided), expected, "newest first");
    w.h.suite.stop().await;
}

async fn quotes_expire(backend: Backend) {
    let mut w = QuoteWorld::start(backend, |s| s.quote_expiry = Duration::from_secs(3)).await;
    let e1 = w.maker.clone();
    let a_sub = w.token("a-sub", "BJ0101", &["approver"]);
    let item = || vec![balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(415))];
    let pending = w.quote(&e1, "pending", item()).await.expect("quote");
    let pending = w.submit(&e1, &pending).await.expect("submit");
    assert_eq!(pending.status, v1::QuoteStatus::PendingApproval as i32);
    let draft = w.quote(&e1, "draft", item()).await.expect("quote");
    let expire = draft.expire_time.unwrap_or_default();
    let created = draft
        .created
        .clone()
        .and_then(|c| c.time)
        .unwrap_or_default();
    assert!((2..=3).contains(&(expire.seconds - created.seconds)));
    tokio::time::sleep(Duration::from_millis(3_300)).await;

    let read = w.get(&e1, &draft.quote_id).await.expect("get");
    assert_eq!(read.status, v1::QuoteStatus::Expired as i32);
    assert_eq!(read.version, draft.version, "reading changes nothing");
    let late = w.submit(&e1, &draft).await.expect_err("expired draft");
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&late),
        [("QUOTE_EXPIRED".to_owned(), draft.quote_id.clone())]
    );
    let late = w
        .approve(&a_sub, &pending, "ok")
        .await
        .expect_err("expired pending");
    assert_eq!(late.code(), Code::FailedPrecondition);
    assert_eq!(
        preconditions(&late),
        [("QUOTE_EXPIRED".to_owned(), pending.quote_id.clone())]
    );
    let expired = w
        .list(
            &e1,
            v1::ListQuotesRequest {
                status: v1::QuoteStatus::Expired as i32,
                ..Default::default()
            },
        )
        .await
        .expect("expired");
    let mut expected = vec![pending.quote_id.clone(), draft.quote_id.clone()];
    expected.sort();
    expected.reverse();
    assert_eq!(ids(&expired), expected);
    for status in [v1::QuoteStatus::Draft, v1::QuoteStatus::PendingApproval] {
        let open = w
            .list(
                &e1,
                v1::ListQuotesRequest {
                    status: status as i32,
                    ..Default::default()
                },
            )
            .await
            .expect("open");
        assert!(open.quotes.is_empty(), "{status:?}");
    }
    assert!(awaiting(&mut w, &a_sub).await.is_empty());
    w.h.suite.stop().await;
}

on_both_backends!(maker_checker, quotes_expire);
