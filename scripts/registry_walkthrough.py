#!/usr/bin/env python3
"""An independent client (Python grpcio, stubs generated from proto/ at run time) that walks the
customer registry the way the bank would, against a running `bankmkt up`:

  1. load a branch tree and staff;
  2. create a corporate group of 5 members and a supply chain with executives, and traverse it;
  3. ingest holdings and transactions from "core banking" (client streaming, control totals);
  4. score: a monthly re-scoring job and the customer's contribution; segment the branch;
  5. tier: evaluate, then apply the change list with two people (maker refused, checker applies);
  6. read the customer 360 as the manager, and find the customer invisible to another branch.

Usage (from the repository root, with `bankmkt up` running in the same directory):
    pip install grpcio grpcio-tools
    python3 scripts/registry_walkthrough.py [--bankmkt PATH] [--host 127.0.0.1]
Tokens are minted with `bankmkt token` from the same data dir. Exits non-zero on any failure.
"""
import argparse
import datetime
import importlib
import os
import subprocess
import sys
import tempfile
import time
import types
import uuid

import grpc
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generate_stubs():
    out = tempfile.mkdtemp(prefix="bankmkt-stubs-")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    files = [os.path.join("bankmkt/v1", f) for f in sorted(os.listdir(os.path.join(ROOT, "proto/bankmkt/v1")))]
    code = protoc.main(["protoc", f"-I{ROOT}/proto", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *files])
    if code != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    return importlib.import_module("bankmkt.v1.customer_pb2"), importlib.import_module("bankmkt.v1.customer_pb2_grpc"), importlib.import_module("bankmkt.v1.common_pb2")


def resident_id(serial):
    body = f"11010519{60 + serial % 40:02d}{1 + serial % 12:02d}{1 + serial % 28:02d}{serial % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def uscc(serial):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = f"91350100M{serial:08d}"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 31) % 31
    return body + alphabet[check]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bankmkt", default=os.environ.get("BANKMKT_BIN", "bankmkt"))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    pb, rpc, common = generate_stubs()

    # One namespace over every bankmkt.v1 module, so a message or enum is found wherever it lives.
    v1 = types.SimpleNamespace(**{k: v for m in (common, pb) for k, v in vars(m).items() if not k.startswith("_")})

    def E(name):
        """An enum value by its full name."""
        return getattr(v1, name)
    run = uuid.uuid4().hex[:6]

    def token(sub, branch, roles, lines="corporate"):
        return subprocess.check_output([args.bankmkt, "token", "--sub", sub, "--branch", branch, "--roles", roles, "--lines", lines], text=True).strip()

    admin, core = token("admin1", "HQ", "admin"), token("core", "HQ", "core_banking,batch")
    maker, checker = token("h1", "BJ", "branch_head"), token("h2", "BJ", "branch_head")
    manager, outsider = token("m1", "BJ01", "customer_manager"), token("s1", "SH01", "customer_manager")
    channel = grpc.insecure_channel(f"{args.host}:50051")
    stub = rpc.CustomerRegistryStub(channel)
    md = lambda t: [("authorization", f"Bearer {t}")]

    # 1. The organisation.
    branches = [("HQ", "", E("BRANCH_LEVEL_HEAD_OFFICE")), ("BJ", "HQ", E("BRANCH_LEVEL_TIER1_BRANCH")), ("BJ01", "BJ", E("BRANCH_LEVEL_TIER2_BRANCH")),
                ("SH", "HQ", E("BRANCH_LEVEL_TIER1_BRANCH")), ("SH01", "SH", E("BRANCH_LEVEL_TIER2_BRANCH"))]
    loaded = stub.LoadBranches(v1.LoadBranchesRequest(idempotency_key=f"tree-{run}", branches=[v1.Branch(branch_id=i, parent_id=p, level=l, name=f"{i} branch") for i, p, l in branches]), metadata=md(admin))
    print(f"1. branch tree loaded: {loaded.summary.received} branches, tree version {loaded.tree_version}")
    staff = [("m1", "BJ01", E("ROLE_CUSTOMER_MANAGER")), ("m2", "BJ01", E("ROLE_CUSTOMER_MANAGER")), ("s1", "SH01", E("ROLE_CUSTOMER_MANAGER")),
             ("h1", "BJ", E("ROLE_BRANCH_HEAD")), ("h2", "BJ", E("ROLE_BRANCH_HEAD"))]
    emp = stub.LoadEmployees(v1.LoadEmployeesRequest(idempotency_key=f"staff-{run}", employees=[v1.Employee(employee_id=i, name=i, branch_id=b, lines=[E("BUSINESS_LINE_CORPORATE")], roles=[r]) for i, b, r in staff]), metadata=md(admin))
    print(f"   staff loaded: {emp.summary.inserted + emp.summary.updated + emp.summary.replayed} employees")

    # 2. A group of 5 and a supply chain with executives.
    serial = int(run, 16) % 10_000_000
    def create(name, kind, number, id_type):
        c = v1.Customer(kind=kind, name=name, owning_branch_id="BJ01", primary_manager_id="m1", backup_manager_id="m2",
                        identities=[v1.IdentityDocument(identity_type=id_type, number=number)])
        return stub.CreateCustomer(v1.CreateCustomerRequest(idempotency_key=f"c-{number}", customer=c), metadata=md(manager)).customer.customer_id
    corp, person = E("CUSTOMER_KIND_CORPORATE"), E("CUSTOMER_KIND_INDIVIDUAL")
    usc, rid = E("IDENTITY_TYPE_UNIFIED_SOCIAL_CREDIT_CODE"), E("IDENTITY_TYPE_RESIDENT_ID")
    group = [create(f"Group member {i}", corp, uscc(serial * 10 + i), usc) for i in range(5)]
    def link(a, b, kind):
        stub.LinkCustomers(v1.LinkCustomersRequest(relationship=v1.Relationship(relationship_type=E(kind), from_customer_id=a, to_customer_id=b), reason="walkthrough"), metadata=md(manager))
    for member in group[1:]:
        link(group[0], member, "RELATIONSHIP_TYPE_GROUP_PARENT_OF")
    core_enterprise = group[0]
    suppliers = [create(f"Supplier {i}", corp, uscc(serial * 10 + 5 + i), usc) for i in range(2)]
    distributor = create("Distributor", corp, uscc(serial * 10 + 7), usc)
    for s in suppliers:
        link(s, core_enterprise, "RELATIONSHIP_TYPE_SUPPLIER_OF")
    link(distributor, core_enterprise, "RELATIONSHIP_TYPE_DISTRIBUTOR_OF")
    for i, firm in enumerate([core_enterprise, *suppliers]):
        exec_id = create(f"Executive {i}", person, resident_id(serial + i), rid)
        link(exec_id, firm, "RELATIONSHIP_TYPE_EXECUTIVE_OF")
    chain = stub.TraverseRelationships(v1.TraverseRelationshipsRequest(root_customer_id=core_enterprise, max_depth=2,
        relationship_types=[E("RELATIONSHIP_TYPE_SUPPLIER_OF"), E("RELATIONSHIP_TYPE_DISTRIBUTOR_OF"), E("RELATIONSHIP_TYPE_EXECUTIVE_OF")]), metadata=md(manager))
    print(f"2. group of {len(group)} linked; supply chain with executives: {len(chain.nodes)} customers, {len(chain.relationships)} links within 2 steps")

    # 3. Ingestion from core banking.
    today = datetime.date.today()
    month = (today.replace(day=1) - datetime.timedelta(days=1))
    period = v1.Period(year=month.year, month=month.month)
    cny = lambda fen: v1.Money(currency="CNY", minor_units=fen)
    key = v1.CustomerKey(customer_id=core_enterprise)
    snaps = [
        v1.HoldingSnapshot(customer=key, product_id="DEP-01", account_id=f"6222{run}01", product_kind=E("PRODUCT_KIND_LIABILITY"), product_category=E("PRODUCT_CATEGORY_DEPOSIT"),
                           line=E("BUSINESS_LINE_CORPORATE"), period=period, source_version=1, period_end_balance=cny(50_000_000_00), average_daily_balance=cny(48_000_000_00),
                           customer_rate_bps=25, ftp_rate_bps=160, operating_cost=cny(1_200_000), fee_income=cny(0)),
        v1.HoldingSnapshot(customer=key, product_id="LOAN-01", account_id=f"LN{run}01", product_kind=E("PRODUCT_KIND_ASSET"), product_category=E("PRODUCT_CATEGORY_LOAN"),
                           line=E("BUSINESS_LINE_CORPORATE"), period=period, source_version=1, period_end_balance=cny(30_000_000_00), average_daily_balance=cny(30_000_000_00),
                           customer_rate_bps=380, ftp_rate_bps=250, operating_cost=cny(900_000), expected_loss=cny(300_000), economic_capital=cny(2_400_000_00), fee_income=cny(15_000_00)),
    ]
    header = v1.IngestHeader(idempotency_key=f"h-{run}", source_system="CORE", batch_id=f"batch-{run}")
    totals = v1.IngestTrailer(control_totals=v1.ControlTotals(record_count=2, amount_sums=[v1.AmountSum(field="fee_income", sum=cny(15_000_00))]))
    msgs = [v1.IngestHoldingsRequest(header=header)] + [v1.IngestHoldingsRequest(record=s) for s in snaps] + [v1.IngestHoldingsRequest(trailer=totals)]
    held = stub.IngestHoldings(iter(msgs), metadata=md(core))
    txns = [v1.IngestTransactionsRequest(header=v1.IngestHeader(idempotency_key=f"t-{run}", source_system="CORE"))]
    for d in (3, 11, 19, 27):
        txns.append(v1.IngestTransactionsRequest(transaction=v1.Transaction(customer=key, transaction_id=f"T{run}{d}", source_version=1, transaction_date=v1.Date(year=month.year, month=month.month, day=d),
                                                                             amount=cny(100_000 * d), direction=E("TRANSACTION_DIRECTION_CREDIT"))))
    txns.append(v1.IngestTransactionsRequest(trailer=v1.IngestTrailer(control_totals=v1.ControlTotals(record_count=4))))
    moved = stub.IngestTransactions(iter(txns), metadata=md(core))
    print(f"3. holdings: {held.summary.inserted} inserted, control totals matched={held.summary.control_totals.matched}, queued for re-scoring={held.customers_queued_for_rescoring}; transactions: {moved.summary.inserted} inserted")

    # 4. Scoring.
    job = stub.StartRescoring(v1.StartRescoringRequest(idempotency_key=f"r-{run}", kind=E("RESCORING_KIND_MONTHLY"), period=period, customer_ids=[core_enterprise]), metadata=md(core)).job
    for _ in range(100):
        job = stub.GetRescoringJob(v1.GetRescoringJobRequest(job_id=job.job_id), metadata=md(core)).job
        if job.state in (E("JOB_STATE_SUCCEEDED"), E("JOB_STATE_FAILED")):
            break
        time.sleep(0.1)
    contribution = stub.GetContribution(v1.GetContributionRequest(customer_id=core_enterprise, period=period), metadata=md(manager)).contribution
    print(f"4. re-scoring job {v1.JobState.Name(job.state)} ({job.customers_done}/{job.customers_total}); contribution {period.year}-{period.month:02d}: "
          f"before risk CNY {contribution.before_risk.minor_units / 100:,.2f}, after risk CNY {contribution.after_risk.minor_units / 100:,.2f}")

    seg = stub.StartSegmentation(v1.StartSegmentationRequest(idempotency_key=f"seg-{run}", period=period, branch_id="BJ01", k=2, seed=42), metadata=md(core)).run
    for _ in range(100):
        seg = stub.GetSegmentationRun(v1.GetSegmentationRunRequest(run_id=seg.run_id), metadata=md(core)).run
        if seg.state in (E("JOB_STATE_SUCCEEDED"), E("JOB_STATE_FAILED")):
            break
        time.sleep(0.1)
    if seg.state != E("JOB_STATE_SUCCEEDED"):
        sys.exit(f"segmentation failed: {seg.error_message}")
    label = stub.GetCustomer(v1.GetCustomerRequest(customer_id=core_enterprise), metadata=md(manager)).customer.segment_label
    print(f"   segmentation run {v1.JobState.Name(seg.state)} over {seg.customers_total} customers (k=2, seed 42); the core enterprise is in \"{label}\"")

    # 5. Tiers, two people: a rule set, an evaluation (maker), a refused self-approval, the checker.
    criterion = lambda tier, yuan: v1.CorporateTierCriterion(tier=E(tier), min_ttm_contribution=cny(yuan * 100))
    rule_set = v1.TierRuleSet(scheme=E("TIER_SCHEME_CORPORATE"), effective=v1.EffectiveRange(start_date=v1.Date(year=2024, month=1, day=1)),
                              corporate=v1.CorporateTierRules(criteria=[criterion("CORPORATE_TIER_TIER1_BRANCH", 10_000_000), criterion("CORPORATE_TIER_TIER2_BRANCH", 1_000_000),
                                                                         criterion("CORPORATE_TIER_SUB_BRANCH", 10_000)]))
    try:
        stub.CreateTierRuleSet(v1.CreateTierRuleSetRequest(rule_set=rule_set, reason="walkthrough tier policy"), metadata=md(admin))
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
            raise
        print("   (a corporate rule set from 2024-01-01 already exists; reusing it)")
    change_list = stub.EvaluateTiers(v1.EvaluateTiersRequest(idempotency_key=f"tier-{run}", scheme=E("TIER_SCHEME_CORPORATE"), customer_id=core_enterprise, period=period,
                                                             reason="quarterly re-evaluation"), metadata=md(maker)).change_list
    print(f"5. tier change list: {change_list.evaluated_count} evaluated, {change_list.entry_count} entries, {change_list.upgrade_count} upgrades")
    try:
        stub.ApproveTierChangeList(v1.ApproveTierChangeListRequest(change_list_id=change_list.change_list_id, expected_version=change_list.version, reason="self-approval"), metadata=md(maker))
        sys.exit("the maker approved their own tier change list")
    except grpc.RpcError as e:
        print(f"   the maker's own approval is refused: {e.code().name}")
    applied = stub.ApproveTierChangeList(v1.ApproveTierChangeListRequest(change_list_id=change_list.change_list_id, expected_version=change_list.version, reason="approved by the second person"), metadata=md(checker)).change_list
    tier = stub.GetCustomer(v1.GetCustomerRequest(customer_id=core_enterprise), metadata=md(manager)).customer.corporate_tier
    print(f"   the checker applied it (approval {v1.ApprovalStatus.Name(applied.approval.status)}); the customer's tier is now {v1.CorporateTier.Name(tier)}")

    # 6. The 360 and invisibility.
    view = stub.GetCustomer360(v1.GetCustomer360Request(customer_id=core_enterprise), metadata=md(manager))
    counts = {v1.RelationshipType.Name(c.relationship_type): c.count for c in view.relationship_counts}
    print(f"6. 360 of {view.customer.name}: stage {v1.LifecycleStage.Name(view.customer.stage)}, managers {view.ownership.primary_manager_id}/{view.ownership.backup_manager_id}, "
          f"deposits CNY {view.holdings.liability_balance.minor_units / 100:,.0f}, loans CNY {view.holdings.asset_balance.minor_units / 100:,.0f}, links {counts}, data version {view.data_version}")
    try:
        stub.GetCustomer360(v1.GetCustomer360Request(customer_id=core_enterprise), metadata=md(outsider))
        sys.exit("a manager of another branch could read the customer")
    except grpc.RpcError as e:
        print(f"   a Shanghai manager asking for it gets {e.code().name}")
    print("walkthrough complete")


if __name__ == "__main__":
    main()
