//! Internal bidding (内部招标) of coordination through gRPC on both backends: a member opens a bid
//! (one at a time), units submit and replace proposals to lead (only someone working in the unit),
//! the awarding branch is the proposing units' lowest common ancestor, a customer manager and a
//! branch head of another region may not award, a stale award is `ABORTED`, and a branch head at
//! the awarding branch awards: the lead and the shares change from the award date (a new share
//! version whose source is the bid), audited and emitted as outbox events, and the bid is final.
//! Of ten concurrent opens exactly one wins; a bid past its close time reads as closed, takes no
//! more proposals, and a pricing committee member awards it.

use bankmkt_e2e::TestSuite;
use bankmkt_e2e::coordination::{
    World, bid, campaign_units, opportunity, proposal, role_token, trail, unit,
};
use bankmkt_e2e::{Backend, on_both_backends};
use bankmkt_proto::v1;
use tonic::Code;

use v1::BusinessLine::*;
use v1::UnitRole::{Co, Lead};

on_both_backends!(
    a_bid_is_opened_proposed_and_awarded,
    a_closed_bid_takes_no_proposals_and_the_committee_awards_it,
);

async fn a_bid_is_opened_proposed_and_awarded(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let id = opp.opportunity_id.clone();
    let mut client = w.client.clone();
    let bid = w.open_bid(&w.m1, &id, opp.version).await.expect("open");
    assert_eq!(bid.status, v1::BidStatus::Open as i32);
    assert_eq!(bid.version, 1);
    let err = w
        .open_bid(&w.m1, &id, opp.version)
        .await
        .expect_err("one at a time");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let err = w
        .open_bid(&w.m5, &id, opp.version)
        .await
        .expect_err("invisible to another region");
    assert_eq!(err.code(), Code::NotFound);

    let submit = |p: v1::BidProposal, expected: i64, token: &str| {
        let mut client = w.client.clone();
        let request = TestSuite::authed(
            v1::SubmitBidProposalRequest {
                bid_id: bid.bid_id.clone(),
                proposal: Some(p),
                expected_version: expected,
            },
            token,
        );
        async move {
            client
                .submit_bid_proposal(request)
                .await
                .map(|r| r.into_inner().bid.unwrap_or_default())
        }
    };
    let bj_units = || {
        vec![
            unit("BJ", Corporate, Lead, 6000),
            unit("BJ01", SmallBusiness, Co, 2000),
            unit("BJ01", Retail, Co, 2000),
        ]
    };
    // The tier-1 branch proposes to lead; m2 (small business at BJ01) may not propose for it.
    let err = submit(proposal("BJ", Corporate, bj_units()), 1, &w.m2)
        .await
        .expect_err("not in the unit");
    assert_eq!(err.code(), Code::PermissionDenied);
    let b = submit(proposal("BJ", Corporate, bj_units()), 1, &w.m4)
        .await
        .expect("BJ proposes");
    assert_eq!(b.proposals.len(), 1);
    assert_eq!(
        b.awarding_branch.as_ref().map(|r| r.branch_id.as_str()),
        Some("BJ")
    );
    // BJ01 corporate proposes itself, then replaces its proposal.
    let mine = vec![
        unit("BJ01", Corporate, Lead, 5000),
        unit("BJ01", SmallBusiness, Co, 3000),
        unit("BJ01", Retail, Co, 2000),
    ];
    let b = submit(proposal("BJ01", Corporate, mine.clone()), b.version, &w.m1)
        .await
        .expect("BJ01 proposes");
    let err = submit(
        proposal("BJ01", Corporate, mine.clone()),
        b.version - 1,
        &w.m1,
    )
    .await
    .expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let b = submit(proposal("BJ01", Corporate, mine), b.version, &w.m1b)
        .await
        .expect("replaced");
    assert_eq!(b.proposals.len(), 2);
    assert_eq!(
        b.awarding_branch.as_ref().map(|r| r.branch_id.as_str()),
        Some("BJ")
    );
    let winner = b
        .proposals
        .iter()
        .find(|p| p.unit.as_ref().is_some_and(|u| u.branch_id == "BJ"))
        .expect("BJ's proposal")
        .proposal_id
        .clone();

    let award = |expected: i64, token: &str| {
        let mut client = w.client.clone();
        let request = TestSuite::authed(
            v1::AwardBidRequest {
                bid_id: bid.bid_id.clone(),
                proposal_id: winner.clone(),
                reason: "the tier-1 branch holds the group's credit line".into(),
                expected_version: expected,
            },
            token,
        );
        async move { client.award_bid(request).await.map(|r| r.into_inner()) }
    };
    let head_sh = role_token(&w.suite, "bh-sh", "SH", &["corporate"], &["branch_head"]);
    let head_bj = role_token(&w.suite, "bh-bj", "BJ", &["corporate"], &["branch_head"]);
    for (token, case) in [(&w.m1, "a customer manager"), (&head_sh, "another region")] {
        let err = award(b.version, token).await.expect_err(case);
        assert_eq!(err.code(), Code::PermissionDenied, "{case}: {err:?}");
    }
    let err = award(b.version - 1, &head_bj).await.expect_err("stale");
    assert_eq!(err.code(), Code::Aborted);
    let awarded = award(b.version, &head_bj).await.expect("award");
    let done = awarded.bid.expect("bid");
    assert_eq!(done.status, v1::BidStatus::Awarded as i32);
    assert_eq!(done.awarded_proposal_id, winner);
    assert_eq!(
        done.awarded.as_ref().map(|a| a.actor_id.as_str()),
        Some("bh-bj")
    );
    let o = awarded.opportunity.expect("opportunity");
    assert_eq!(o.version, opp.version + 1);
    let lead = o
        .units
        .iter()
        .find(|u| u.role == Lead as i32)
        .expect("a lead");
    assert_eq!(
        (
            lead.unit.as_ref().map(|u| u.branch_id.as_str()),
            lead.share_bps
        ),
        (Some("BJ"), 6000)
    );
    let shares = client
        .get_shares(TestSuite::authed(
            v1::GetSharesRequest {
                opportunity_id: id.clone(),
                as_of_date: None,
            },
            &head_bj,
        ))
        .await
        .expect("shares")
        .into_inner()
        .shares
        .expect("snapshot");
    assert_eq!(shares.change_source, format!("bid:{}", bid.bid_id));
    // The award is audited and emitted, on the bid and on the opportunity.
    assert_eq!(
        trail(&w.suite, &bid.bid_id, "bid.award", "bid.awarded").await,
        (1, 1)
    );
    assert_eq!(
        trail(
            &w.suite,
            &id,
            "opportunity.award_lead",
            "opportunity.lead_awarded"
        )
        .await,
        (1, 1)
    );
    assert_eq!(
        trail(&w.suite, &bid.bid_id, "bid.open", "bid.opened").await,
        (1, 1)
    );
    // The bid is final; a new one may be opened.
    let err = award(done.version, &head_bj).await.expect_err("awarded");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let listed = client
        .list_bids(TestSuite::authed(
            v1::ListBidsRequest {
                opportunity_id: id.clone(),
                ..Default::default()
            },
            &head_bj,
        ))
        .await
        .expect("list")
        .into_inner();
    assert_eq!(listed.bids.len(), 1);
    assert_eq!(listed.bids[0].status, v1::BidStatus::Awarded as i32);
    let got = client
        .get_bid(TestSuite::authed(
            v1::GetBidRequest {
                bid_id: bid.bid_id.clone(),
            },
            &w.m4,
        ))
        .await
        .expect("get")
        .into_inner()
        .bid
        .expect("bid");
    assert_eq!(got, done);
    w.suite.stop().await;
}

async fn a_closed_bid_takes_no_proposals_and_the_committee_awards_it(backend: Backend) {
    let w = World::start(backend).await;
    let opp = w.campaign().await;
    let id = opp.opportunity_id.clone();
    // Ten concurrent opens on another opportunity: exactly one wins.
    let other = w
        .create(
            &w.m1,
            "other",
            opportunity("other works", &w.customers.other, &[], campaign_units()),
        )
        .await
        .expect("other");
    let opens = (0..10).map(|_| w.open_bid(&w.m1, &other.opportunity_id, other.version));
    let results = futures::future::join_all(opens).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e.code(), Code::FailedPrecondition | Code::Aborted)),
        "{results:?}"
    );

    let mut client = w.client.clone();
    let open = client
        .open_bid(TestSuite::authed(
            v1::OpenBidRequest {
                bid: Some(bid(&id, 2)),
                expected_version: opp.version,
            },
            &w.m1,
        ))
        .await
        .expect("open")
        .into_inner()
        .bid
        .expect("bid");
    let submit = |expected: i64, token: &str, p: v1::BidProposal| {
        TestSuite::authed(
            v1::SubmitBidProposalRequest {
                bid_id: open.bid_id.clone(),
                proposal: Some(p),
                expected_version: expected,
            },
            token,
        )
    };
    let bj = || {
        proposal(
            "BJ",
            Corporate,
            vec![
                unit("BJ", Corporate, Lead, 6000),
                unit("BJ01", SmallBusiness, Co, 2000),
                unit("BJ01", Retail, Co, 2000),
            ],
        )
    };
    let b = client
        .submit_bid_proposal(submit(open.version, &w.m4, bj()))
        .await
        .expect("proposal")
        .into_inner()
        .bid
        .expect("bid");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    let err = client
        .submit_bid_proposal(submit(b.version, &w.m4, bj()))
        .await
        .expect_err("closed");
    assert_eq!(err.code(), Code::FailedPrecondition);
    let committee = role_token(
        &w.suite,
        "pc1",
        "HQ",
        &["corporate"],
        &["pricing_committee"],
    );
    let got = client
        .get_bid(TestSuite::authed(
            v1::GetBidRequest {
                bid_id: open.bid_id.clone(),
            },
            &committee,
        ))
        .await
        .expect("the committee reads it")
        .into_inner()
        .bid
        .expect("bid");
    assert_eq!(got.status, v1::BidStatus::Closed as i32);
    let awarded = client
        .award_bid(TestSuite::authed(
            v1::AwardBidRequest {
                bid_id: open.bid_id.clone(),
                proposal_id: got.proposals[0].proposal_id.clone(),
                reason: "arbitrated by the committee".into(),
                expected_version: got.version,
            },
            &committee,
        ))
        .await
        .expect("the committee awards")
        .into_inner();
    assert_eq!(
        awarded.bid.map(|b| b.status),
        Some(v1::BidStatus::Awarded as i32)
    );
    w.suite.stop().await;
}
