#!/usr/bin/env python3
"""An independent client (Python grpcio, stubs generated from proto/ at run time) that walks
pricing and bundling the way the bank would, against a running `bankmkt up` (issue 4, "Done when"):

  1. load a catalogue (products and price versions), the LPR series, regulatory limits, authority
     bands, relationship rules and a bundle; through the registry, the branch tree, staff and a
     corporate customer at the core stage with a scored contribution of RMB 1,800,000.00;
  2. quote the customer's bundle with explanations: rules applied and not (and why), totals,
     verdict, required level, missing prerequisites;
  3. be refused for a regulatory breach (FAILED_PRECONDITION naming the limit);
  4. submit a quote that needs a tier-2 approver: the sub-branch approver and the submitter are
     denied, the tier-2 approver approves;
  5. simulate DOMAIN.md's two cash-services options and check their figures and ranking.

The reference data is docs/pricing.md's shared data. Product ids (and so the rules and bundle that
target them) carry a run suffix, so the script can run again against the same data dir; the LPR
points, limits and bands are shared by every run: a second run reuses them after checking they
hold the same values.

Usage (from the repository root, with `bankmkt up` running in the same directory):
    pip install grpcio grpcio-tools
    python3 scripts/pricing_walkthrough.py [--bankmkt PATH] [--host 127.0.0.1]
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

# google.rpc.Status and the two detail messages the service sends, by their wire layout (the
# googleapis protos are not part of grpcio-tools).
RPC_DETAILS = """syntax = "proto3";
package walkthrough.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
message PreconditionFailure {
  message Violation { string type = 1; string subject = 2; string description = 3; }
  repeated Violation violations = 1;
}
message BadRequest {
  message FieldViolation { string field = 1; string description = 2; }
  repeated FieldViolation field_violations = 1;
}
"""


def generate_stubs():
    out = tempfile.mkdtemp(prefix="bankmkt-stubs-")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    os.makedirs(os.path.join(out, "walkthrough"))
    with open(os.path.join(out, "walkthrough", "rpc_details.proto"), "w") as f:
        f.write(RPC_DETAILS)
    files = [os.path.join("bankmkt/v1", f) for f in sorted(os.listdir(os.path.join(ROOT, "proto/bankmkt/v1")))]
    code = protoc.main(["protoc", f"-I{ROOT}/proto", f"-I{out}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}", *files, "walkthrough/rpc_details.proto"])
    if code != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    m = importlib.import_module
    return (m("bankmkt.v1.common_pb2"), m("bankmkt.v1.customer_pb2"), m("bankmkt.v1.customer_pb2_grpc"), m("bankmkt.v1.pricing_pb2"),
            m("bankmkt.v1.pricing_pb2_grpc"), m("walkthrough.rpc_details_pb2"))


def uscc(serial):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = f"91110100M{serial:08d}"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 31) % 31
    return body + alphabet[check]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bankmkt", default=os.environ.get("BANKMKT_BIN", "bankmkt"))
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    common, pb, rpc, pricing, pricing_rpc, details = generate_stubs()

    # One namespace over every bankmkt.v1 module used, so a message or enum is found wherever it lives.
    v1 = types.SimpleNamespace(**{k: v for m in (common, pb, pricing) for k, v in vars(m).items() if not k.startswith("_")})

    def E(name):
        """An enum value by its full name."""
        return getattr(v1, name)
    run = uuid.uuid4().hex[:6]

    def token(sub, branch, roles, lines="corporate"):
        return subprocess.check_output([args.bankmkt, "token", "--sub", sub, "--branch", branch, "--roles", roles, "--lines", lines], text=True).strip()

    admin, pm, pc = token("admin1", "HQ", "admin"), token("pm1", "HQ", "product_manager"), token("pc1", "HQ", "pricing_committee")
    core, batch = token("core", "HQ", "core_banking"), token("batch", "HQ", "batch")
    e1 = token("e1", "BJ0101", "customer_manager")            # the customer's manager, at the sub-branch
    mk = token("mk", "BJ01", "customer_manager,approver")     # a tier-2 manager who is also an approver
    a_sub = token("a-sub", "BJ0101", "approver")              # a sub-branch approver
    a_t2 = token("a-t2", "BJ01", "approver")                  # a tier-2 approver
    registry = rpc.CustomerRegistryStub(grpc.insecure_channel(f"{args.host}:50051"))
    stub = pricing_rpc.PricingStub(grpc.insecure_channel(f"{args.host}:50052"))
    md = lambda t: [("authorization", f"Bearer {t}")]

    def expect(ok, message):
        if not ok:
            sys.exit(f"FAILED: {message}")

    def refusal(call, what):
        """Runs `call`, which must fail; returns the grpc.RpcError."""
        try:
            call()
        except grpc.RpcError as e:
            return e
        sys.exit(f"FAILED: {what} was not refused")

    def violations(err):
        """The (type, subject) of each PreconditionFailure violation of a refusal."""
        found = []
        for key, value in err.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                status = details.Status.FromString(value)
                for d in status.details:
                    if d.type_url.endswith("/google.rpc.PreconditionFailure"):
                        found += [(v.type, v.subject) for v in details.PreconditionFailure.FromString(d.value).violations]
        return found

    cny = lambda yuan: v1.Money(currency="CNY", minor_units=yuan * 100)
    yuan = lambda money: f"{money.minor_units / 100:,.2f}"
    day = lambda y, m, d: v1.Date(year=y, month=m, day=d)
    from_2025 = lambda: v1.EffectiveRange(start_date=day(2025, 1, 1))
    dec = lambda s: v1.Decimal(value=s)
    pid = lambda base: f"{base}-{run}"
    today = datetime.date.today()
    today_date = day(today.year, today.month, today.day)

    # 1a. The organisation and a corporate customer, through the registry.
    levels = [("HQ", "", "HEAD_OFFICE"), ("BJ", "HQ", "TIER1_BRANCH"), ("BJ01", "BJ", "TIER2_BRANCH"), ("BJ0101", "BJ01", "SUB_BRANCH"),
              ("BJ010101", "BJ0101", "OUTLET"), ("SH", "HQ", "TIER1_BRANCH"), ("SH01", "SH", "TIER2_BRANCH")]
    loaded = registry.LoadBranches(v1.LoadBranchesRequest(idempotency_key=f"pw-tree-{run}", branches=[
        v1.Branch(branch_id=i, parent_id=p, level=E(f"BRANCH_LEVEL_{l}"), name=f"{i} branch") for i, p, l in levels]), metadata=md(admin))
    staff = [("e1", "BJ0101", ["CUSTOMER_MANAGER"]), ("e2", "BJ0101", ["CUSTOMER_MANAGER"]), ("mk", "BJ01", ["CUSTOMER_MANAGER", "APPROVER"]),
             ("a-sub", "BJ0101", ["APPROVER"]), ("a-t2", "BJ01", ["APPROVER"]), ("s1", "SH01", ["CUSTOMER_MANAGER"])]
    emp = registry.LoadEmployees(v1.LoadEmployeesRequest(idempotency_key=f"pw-staff-{run}", employees=[
        v1.Employee(employee_id=i, name=i, branch_id=b, lines=[E("BUSINESS_LINE_CORPORATE")], roles=[E(f"ROLE_{r}") for r in rs]) for i, b, rs in staff]), metadata=md(admin))
    expect(emp.summary.rejected == 0, f"staff rejected: {emp.summary.errors}")
    print(f"1. registry: branch tree of {loaded.summary.received} branches (version {loaded.tree_version}); "
          f"{emp.summary.received} staff: managers e1/e2 (BJ0101), mk (BJ01, also an approver), approvers a-sub (BJ0101) and a-t2 (BJ01)")

    serial = int(run, 16) % 10_000_000
    firm = v1.Customer(kind=E("CUSTOMER_KIND_CORPORATE"), name=f"Huadong Machinery {run}", owning_branch_id="BJ0101", primary_manager_id="e1", backup_manager_id="e2",
                       identities=[v1.IdentityDocument(identity_type=E("IDENTITY_TYPE_UNIFIED_SOCIAL_CREDIT_CODE"), number=uscc(serial))])
    firm_id = registry.CreateCustomer(v1.CreateCustomerRequest(idempotency_key=f"pw-customer-{run}", customer=firm), metadata=md(e1)).customer.customer_id
    for i, stage in enumerate(["TARGET", "NEW", "ESTABLISHED", "CORE"]):
        registry.TransitionLifecycleStage(v1.TransitionLifecycleStageRequest(idempotency_key=f"pw-stage-{run}-{i}", customer_id=firm_id, to_stage=E(f"LIFECYCLE_STAGE_{stage}"),
                                                                             reason="relationship deepened"), metadata=md(e1))
    # Last month's fee income of RMB 1,800,000.00 from core banking, scored by a monthly job.
    last = today.replace(day=1) - datetime.timedelta(days=1)
    period = v1.Period(year=last.year, month=last.month)
    snapshot = v1.HoldingSnapshot(customer=v1.CustomerKey(customer_id=firm_id), product_id="CASH-MGMT", account_id=f"ACC-{firm_id}", product_kind=E("PRODUCT_KIND_FEE"),
                                  product_category=E("PRODUCT_CATEGORY_SETTLEMENT"), line=E("BUSINESS_LINE_CORPORATE"), period=period, source_version=1,
                                  period_end_balance=cny(0), average_daily_balance=cny(0), fee_income=cny(1_800_000), operating_cost=cny(0), expected_loss=cny(0), economic_capital=cny(0))
    msgs = [v1.IngestHoldingsRequest(header=v1.IngestHeader(idempotency_key=f"pw-holdings-{run}", source_system="CORE")), v1.IngestHoldingsRequest(record=snapshot),
            v1.IngestHoldingsRequest(trailer=v1.IngestTrailer(control_totals=v1.ControlTotals(record_count=1)))]
    held = registry.IngestHoldings(iter(msgs), metadata=md(core))
    expect(held.summary.inserted == 1, f"holding not stored: {held.summary}")
    job = registry.StartRescoring(v1.StartRescoringRequest(idempotency_key=f"pw-score-{run}", kind=E("RESCORING_KIND_MONTHLY"), period=period, customer_ids=[firm_id]), metadata=md(batch)).job
    for _ in range(600):
        if job.state in (E("JOB_STATE_SUCCEEDED"), E("JOB_STATE_FAILED")):
            break
        time.sleep(0.05)
        job = registry.GetRescoringJob(v1.GetRescoringJobRequest(job_id=job.job_id), metadata=md(batch)).job
    expect(job.state == E("JOB_STATE_SUCCEEDED"), f"scoring job ended {v1.JobState.Name(job.state)}: {job.error_message}")
    stage = registry.GetCustomer(v1.GetCustomerRequest(customer_id=firm_id), metadata=md(e1)).customer.stage
    print(f"   corporate customer {firm_id}: stage {v1.LifecycleStage.Name(stage)}, {period.year}-{period.month:02d} fee income CNY 1,800,000.00 scored "
          f"(job {v1.JobState.Name(job.state)})")

    # 1b. The catalogue: docs/pricing.md's products, with run-suffixed ids.
    products = [("LOAN-WC-1Y", "ASSET", "LOAN"), ("LOAN-TERM-5Y", "ASSET", "LOAN"), ("DEP-DEMAND", "LIABILITY", "DEPOSIT"), ("PAYROLL", "FEE", "PAYROLL"),
                ("CARD-CORP", "FEE", "CARD"), ("CASH-2STORES", "FEE", "SETTLEMENT"), ("CASH-WHOLE", "FEE", "SETTLEMENT"), ("DEP-CASH", "LIABILITY", "DEPOSIT")]
    for base, kind, category in products:
        stub.CreateProduct(v1.CreateProductRequest(product=v1.Product(product_id=pid(base), name=f"{base} ({run})", line=E("BUSINESS_LINE_CORPORATE"), kind=E(f"PRODUCT_KIND_{kind}"),
                                                                       category=E(f"PRODUCT_CATEGORY_{category}"), currency="CNY", active=True)), metadata=md(pm))

    def rate_version(base, list_bps, ftp_bps, cost, capital, loan):
        return v1.PriceVersion(product_id=pid(base), effective=from_2025(), list_rate_bps=list_bps, ftp_rate_bps=ftp_bps, operating_cost_ratio=dec(cost),
                               economic_capital_ratio=dec(capital), probability_of_default=dec("0.005") if loan else None, loss_given_default=dec("0.40") if loan else None)

    def fee_version(base, schedule, cost):
        return v1.PriceVersion(product_id=pid(base), effective=from_2025(), fee_schedule=schedule, operating_cost_ratio=dec(cost))
    flat = lambda y: v1.FeeSchedule(flat_annual_fee=cny(y))
    payroll = v1.FeeSchedule(tiers=[v1.FeeTier(volume_from=cny(0), rate_bps=10), v1.FeeTier(volume_from=cny(10_000_000), rate_bps=5)], flat_annual_fee=cny(0))
    versions = [rate_version("LOAN-WC-1Y", 435, 240, "0.0040", "0.08", True), rate_version("LOAN-TERM-5Y", 420, 290, "0.0040", "0.08", True),
                rate_version("DEP-DEMAND", 35, 160, "0.0030", "0", False), rate_version("DEP-CASH", 25, 160, "0.0030", "0", False),
                fee_version("PAYROLL", payroll, "0.50"), fee_version("CARD-CORP", flat(2_000), "0.60"),
                fee_version("CASH-2STORES", flat(120_000), "0.55"), fee_version("CASH-WHOLE", flat(394_000), "0.60")]
    for pv in versions:
        stub.CreatePriceVersion(v1.CreatePriceVersionRequest(price_version=pv, reason="2025 price list"), metadata=md(pm))
    listed = stub.ListProducts(v1.ListProductsRequest(line=E("BUSINESS_LINE_CORPORATE"), page_size=500), metadata=md(e1)).products
    mine = [p for p in listed if p.product_id.endswith(f"-{run}")]
    expect(len(mine) == len(products) and all(p.HasField("current_price") for p in mine), f"catalogue lists {len(mine)} of {len(products)} products with a price in force")
    print(f"   catalogue: {len(mine)} products with a price version in force (LOAN-WC-1Y-{run} list 4.35%, FTP 2.40%; PAYROLL-{run} marginal 0.10%/0.05%; ...)")

    # 1c. The LPR series, the three regulatory limits and the authority bands: shared by every run.
    reused = []
    for kind, bps in (("LPR_1Y", 300), ("LPR_5Y", 350)):
        try:
            stub.CreateReferenceRate(v1.CreateReferenceRateRequest(rate=v1.ReferenceRate(kind=E(f"REFERENCE_RATE_KIND_{kind}"), effective_date=day(2025, 5, 20), rate_bps=bps)), metadata=md(pc))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.ALREADY_EXISTS:
                raise
            points = stub.ListReferenceRates(v1.ListReferenceRatesRequest(kind=E(f"REFERENCE_RATE_KIND_{kind}"), page_size=500), metadata=md(pc)).rates
            same = [r for r in points if (r.effective_date.year, r.effective_date.month, r.effective_date.day) == (2025, 5, 20)]
            expect(same and same[0].rate_bps == bps, f"{kind} on 2025-05-20 exists with another rate: {same}")
            reused.append(kind)

    def floor(name, ref, spread, lo, hi):
        return v1.RegulatoryLimit(name=name, kind=E("REGULATORY_LIMIT_KIND_LOAN_RATE_FLOOR"), product_kind=E("PRODUCT_KIND_ASSET"),
                                  reference_spread=v1.ReferenceSpread(reference=E(f"REFERENCE_RATE_KIND_{ref}"), spread_bps=spread), min_term_months=lo, max_term_months=hi, effective=from_2025())
    limits = {"floor-1y": floor("floor-1y: LPR 1Y - 50 bp", "LPR_1Y", -50, 0, 12), "floor-5y": floor("floor-5y: LPR 5Y - 80 bp", "LPR_5Y", -80, 13, 0),
              "cap-deposit": v1.RegulatoryLimit(name="cap-deposit: 1.50%", kind=E("REGULATORY_LIMIT_KIND_DEPOSIT_RATE_CAP"), product_kind=E("PRODUCT_KIND_LIABILITY"),
                                                absolute_rate_bps=150, effective=from_2025())}
    limit_ids = {}
    for short, limit in limits.items():
        try:
            limit_ids[short] = stub.CreateRegulatoryLimit(v1.CreateRegulatoryLimitRequest(limit=limit, reason="PBoC rules"), metadata=md(pc)).limit.limit_id
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
            in_force = stub.ListRegulatoryLimits(v1.ListRegulatoryLimitsRequest(as_of_date=today_date, page_size=500), metadata=md(pc)).limits
            same = [l for l in in_force if (l.kind, l.product_kind, l.min_term_months, l.max_term_months) == (limit.kind, limit.product_kind, limit.min_term_months, limit.max_term_months)]
            expect(same and same[0].WhichOneof("bound") == limit.WhichOneof("bound") and getattr(same[0], limit.WhichOneof("bound")) == getattr(limit, limit.WhichOneof("bound")),
                   f"{short}: a limit with the same terms but another bound is in force: {same}")
            limit_ids[short] = same[0].limit_id
            reused.append(short)
    bands = [("CUSTOMER_MANAGER", "ASSET", 5, 0), ("OUTLET", "ASSET", 10, 0), ("SUB_BRANCH", "ASSET", 15, 0), ("TIER2_BRANCH", "ASSET", 25, 0),
             ("TIER1_BRANCH", "ASSET", 40, 0), ("HEAD_OFFICE", "ASSET", 150, 0), ("CUSTOMER_MANAGER", "LIABILITY", 5, 0), ("SUB_BRANCH", "LIABILITY", 10, 0),
             ("TIER1_BRANCH", "LIABILITY", 20, 0), ("HEAD_OFFICE", "LIABILITY", 50, 0), ("CUSTOMER_MANAGER", "FEE", 0, 500), ("SUB_BRANCH", "FEE", 0, 1_000),
             ("TIER1_BRANCH", "FEE", 0, 2_000), ("HEAD_OFFICE", "FEE", 0, 10_000)]
    created_bands = 0
    for level, kind, rate_bps, fee_bps in bands:
        band = v1.AuthorityBand(level=E(f"AUTHORITY_LEVEL_{level}"), product_kind=E(f"PRODUCT_KIND_{kind}"), max_rate_concession_bps=rate_bps, max_fee_concession_bps=fee_bps, effective=from_2025())
        try:
            stub.CreateAuthorityBand(v1.CreateAuthorityBandRequest(band=band, reason="authority delegation 2025"), metadata=md(pc))
            created_bands += 1
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
    in_force = {(b.level, b.product_kind): (b.max_rate_concession_bps, b.max_fee_concession_bps)
                for b in stub.ListAuthorityBands(v1.ListAuthorityBandsRequest(as_of_date=today_date, page_size=500), metadata=md(pc)).bands}
    for level, kind, rate_bps, fee_bps in bands:
        expect(in_force.get((E(f"AUTHORITY_LEVEL_{level}"), E(f"PRODUCT_KIND_{kind}"))) == (rate_bps, fee_bps),
               f"the {level} band for {kind} in force is {in_force.get((E(f'AUTHORITY_LEVEL_{level}'), E(f'PRODUCT_KIND_{kind}')))}, not ({rate_bps}, {fee_bps})")
    if created_bands < len(bands):
        reused.append(f"{len(bands) - created_bands} bands")
    print(f"   reference data: LPR 1Y 3.00% / 5Y 3.50% from 2025-05-20; limits floor-1y {limit_ids['floor-1y']}, floor-5y {limit_ids['floor-5y']}, "
          f"cap-deposit {limit_ids['cap-deposit']}; {len(bands)} authority bands in force (loans: manager 5, outlet 10, sub-branch 15, tier-2 25, tier-1 40, head office 150 bp)"
          + (f"; reused from an earlier run: {', '.join(reused)}" if reused else ""))

    # 1d. Relationship rules R1-R3 (targeting this run's products) and the payroll-plus bundle.
    spread = lambda bps: v1.Benefit(benefit_type=E("BENEFIT_TYPE_SPREAD_PERCENT"), value_bps=bps)
    loans = v1.RuleTarget(product_ids=[pid("LOAN-WC-1Y"), pid("LOAN-TERM-5Y")], product_kind=E("PRODUCT_KIND_ASSET"))
    deposits = v1.RuleTarget(product_ids=[pid("DEP-DEMAND"), pid("DEP-CASH")], product_kind=E("PRODUCT_KIND_LIABILITY"))
    rules = [("R1 core and strategic customers: loans -10 bp", 10, v1.CustomerCondition(stages=[E("LIFECYCLE_STAGE_CORE"), E("LIFECYCLE_STAGE_STRATEGIC")]), loans, spread(10)),
             ("R2 contribution of RMB 2,000,000 or more: loans -15 bp", 20, v1.CustomerCondition(min_ttm_contribution=cny(2_000_000)), loans, spread(15)),
             ("R3 head-office and tier-1 customers: deposits +5 bp", 10,
              v1.CustomerCondition(corporate_tiers=[E("CORPORATE_TIER_HEAD_OFFICE"), E("CORPORATE_TIER_TIER1_BRANCH")]), deposits, spread(5))]
    rule_ids = []
    for name, priority, condition, target, benefit in rules:
        rule = v1.PricingRule(name=name, priority=priority, condition=condition, target=target, benefit=benefit, effective=from_2025())
        rule_ids.append(stub.CreatePricingRule(v1.CreatePricingRuleRequest(rule=rule, reason="pricing committee minutes"), metadata=md(pc)).rule.rule_id)
    r1, r2, r3 = rule_ids
    bundle = v1.Bundle(name=f"payroll-plus {run}", description="payroll agency with a deposit and cards", active=True, effective=from_2025(),
                       components=[v1.BundleComponent(component_id="deposit", product_id=pid("DEP-DEMAND"), mandatory=True, benefit=spread(10)),
                                   v1.BundleComponent(component_id="payroll", product_id=pid("PAYROLL"), mandatory=True,
                                                      benefit=v1.Benefit(benefit_type=E("BENEFIT_TYPE_FIXED_PERCENT"), value_bps=2_000)),
                                   v1.BundleComponent(component_id="card", product_id=pid("CARD-CORP"), mandatory=False, benefit=v1.Benefit(benefit_type=E("BENEFIT_TYPE_WAIVE")))],
                       eligibility=v1.CustomerCondition(kinds=[E("CUSTOMER_KIND_CORPORATE")], stages=[E("LIFECYCLE_STAGE_ESTABLISHED"), E("LIFECYCLE_STAGE_CORE")]),
                       prerequisites=[v1.Prerequisite(prerequisite_id="executives", kind=E("PREREQUISITE_KIND_EXECUTIVE_PERSONAL_ACCOUNTS"), min_count=2,
                                                      description="two executives bank with us personally"),
                                      v1.Prerequisite(prerequisite_id="cards", kind=E("PREREQUISITE_KIND_HOLDS_CATEGORY"), category=E("PRODUCT_CATEGORY_CARD"), description="card issuance")])
    bundle_id = stub.CreateBundle(v1.CreateBundleRequest(bundle=bundle), metadata=md(pc)).bundle.bundle_id
    eligible = [b for b in stub.ListEligibleBundles(v1.ListEligibleBundlesRequest(customer_id=firm_id, page_size=500), metadata=md(e1)).bundles if b.bundle.bundle_id == bundle_id]
    expect(eligible and eligible[0].eligible, f"the customer is not eligible for payroll-plus: {eligible}")
    print(f"   rules R1 {r1}, R2 {r2}, R3 {r3}; bundle payroll-plus {bundle_id}: the customer is eligible, "
          f"missing prerequisites {[p.prerequisite_id for p in eligible[0].missing_prerequisites]}")

    # 2. The customer's bundle, with a working-capital loan beside it, priced with explanations.
    def item(base, component="", amount=None, volume=None, months=12, rate=None):
        return v1.QuoteItemRequest(product_id=pid(base), bundle_component_id=component, amount=cny(amount) if amount else None,
                                   annual_volume=cny(volume) if volume else None, term_months=months, proposed_rate_bps=rate)
    price = lambda p: f"{p.rate_bps / 100:.2f}%" if p.WhichOneof("value") == "rate_bps" else f"CNY {yuan(p.annual_fee)}"
    request = v1.CreateQuoteRequest(idempotency_key=f"pw-bundle-{run}", customer_id=firm_id, bundle_id=bundle_id,
                                    items=[item("DEP-DEMAND", "deposit", amount=5_000_000), item("PAYROLL", "payroll", volume=30_000_000), item("LOAN-WC-1Y", amount=10_000_000)])
    q = stub.CreateQuote(request, metadata=md(e1)).quote
    print(f"2. quote {q.quote_id} under payroll-plus v{q.bundle_version} (branch {q.branch_id}, registry data version {q.registry_data_version}):")
    applied, unmet = [], []
    for it in q.items:
        for r in it.rules:
            if r.applied:
                applied.append(r.rule_id)
            else:
                unmet += [(r.rule_id, u.message) for u in r.unmet_conditions]
        print(f"   item {it.item_id} {it.request.product_id}: list {price(it.list_price)} -> relationship {price(it.relationship_price)} -> proposed {price(it.proposed_price)}; "
              f"rules {[(r.rule_id, 'applied' if r.applied else 'not applied') for r in it.rules]}; EVA {yuan(it.economics.eva)}; price version {it.price_version_id}")
    print(f"   applied: {applied}")
    for rule_id, message in unmet:
        print(f"   not applied: {rule_id}: \"{message}\"")
    t = q.totals
    missing = [p.prerequisite_id for p in q.missing_prerequisites]
    print(f"   totals: margin {yuan(t.margin)}, cost {yuan(t.operating_cost)}, EL {yuan(t.expected_loss)}, EC {yuan(t.economic_capital)}, RAR {yuan(t.risk_adjusted_return)}, "
          f"EVA {yuan(t.eva)}, RAROC {t.raroc.value}; verdict {v1.QuoteVerdict.Name(q.verdict)}, required level {v1.AuthorityLevel.Name(q.required_approval_level)}; "
          f"missing prerequisites {missing}; contribution {yuan(q.existing_contribution)} + EVA = {yuan(q.combined_contribution)}")
    component = lambda c: f"bundle:{bundle_id}/{c}"
    expect(sorted(applied) == sorted([component("deposit"), component("payroll"), r1]), f"applied rules {applied}")
    expect((r2, "contribution RMB 1,800,000.00, rule needs 2,000,000.00") in unmet, f"R2's explanation missing: {unmet}")
    expect(any(rule_id == r3 for rule_id, _ in unmet), f"R3's explanation missing: {unmet}")
    # Deposit 0.35% + 10 bp = 0.45%; payroll 20,000.00 - 20% = 16,000.00; loan 4.35% - 10 bp = 4.25%.
    expect([price(it.relationship_price) for it in q.items] == ["0.45%", "CNY 16,000.00", "4.25%"], "relationship prices")
    figures = [t.margin, t.operating_cost, t.expected_loss, t.economic_capital, t.risk_adjusted_return, t.eva]
    expect([f.minor_units for f in figures] == [y * 100 for y in (258_500, 63_000, 20_000, 802_400, 175_500, 79_212)], f"totals {[yuan(f) for f in figures]}")
    expect(t.raroc.value == "0.2187", f"RAROC {t.raroc.value}, expected 0.2187 (175,500 / 802,400)")
    expect(q.verdict == E("QUOTE_VERDICT_ACCEPTABLE") and q.required_approval_level == E("AUTHORITY_LEVEL_CUSTOMER_MANAGER"), "verdict and level")
    expect(missing == ["executives", "cards"], f"missing prerequisites {missing}")
    expect(q.existing_contribution.minor_units == 1_800_000_00 and q.combined_contribution.minor_units == 1_879_212_00, "contribution")
    again = stub.CreateQuote(request, metadata=md(e1)).quote
    expect(again == q, "the same idempotency key returned another quote")
    print("   the same idempotency key returns the same quote")

    # 3. A 5-year loan at 2.69%, under LPR 5Y - 80 bp = 2.70%.
    breach = refusal(lambda: stub.CreateQuote(v1.CreateQuoteRequest(idempotency_key=f"pw-breach-{run}", customer_id=firm_id,
                                                                    items=[item("LOAN-TERM-5Y", amount=20_000_000, months=60, rate=269)]), metadata=md(e1)), "a proposal under the floor")
    found = violations(breach)
    print(f"3. a 60-month loan proposed at 2.69%: {breach.code().name}, {found}: \"{breach.details()}\"")
    expect(breach.code() == grpc.StatusCode.FAILED_PRECONDITION, f"code {breach.code().name}")
    expect(found == [("REGULATORY_LIMIT", limit_ids["floor-5y"])], f"violations {found}, expected the floor-5y limit {limit_ids['floor-5y']}")
    expect("floor-5y" in breach.details(), "the message does not name floor-5y")

    # 4. 4.00% against a relationship price of 4.25%: a 25 bp concession, the tier-2 band.
    a = stub.CreateQuote(v1.CreateQuoteRequest(idempotency_key=f"pw-approval-{run}", customer_id=firm_id, branch_id="BJ0101",
                                               items=[item("LOAN-WC-1Y", amount=10_000_000, rate=400)]), metadata=md(mk)).quote
    expect(a.verdict == E("QUOTE_VERDICT_NEEDS_APPROVAL") and a.required_approval_level == E("AUTHORITY_LEVEL_TIER2_BRANCH"),
           f"verdict {v1.QuoteVerdict.Name(a.verdict)} at {v1.AuthorityLevel.Name(a.required_approval_level)}")
    expect(a.items[0].concession_bps == 25 and a.totals.eva.minor_units == 4_000_00, f"concession {a.items[0].concession_bps} bp, EVA {yuan(a.totals.eva)}")
    a = stub.SubmitQuote(v1.SubmitQuoteRequest(quote_id=a.quote_id, expected_version=a.version, reason="customer agreed the terms"), metadata=md(mk)).quote
    expect(a.status == E("QUOTE_STATUS_PENDING_APPROVAL"), f"status {v1.QuoteStatus.Name(a.status)}")
    print(f"4. quote {a.quote_id} at 4.00% (concession {a.items[0].concession_bps} bp, EVA {yuan(a.totals.eva)}): {v1.QuoteVerdict.Name(a.verdict)} at "
          f"{v1.AuthorityLevel.Name(a.required_approval_level)}; submitted by mk: {v1.QuoteStatus.Name(a.status)}")
    approve = lambda t, reason: stub.ApproveQuote(v1.ApproveQuoteRequest(quote_id=a.quote_id, expected_version=a.version, reason=reason), metadata=md(t)).quote
    for who, tok in (("the sub-branch approver a-sub (BJ0101, below tier 2)", a_sub), ("the submitter mk (BJ01 approver)", mk)):
        denied = refusal(lambda: approve(tok, "looks fine"), who)
        print(f"   {who} approving: {denied.code().name}")
        expect(denied.code() == grpc.StatusCode.PERMISSION_DENIED, f"{who}: {denied.code().name} {denied.details()}")
    approved = approve(a_t2, "within the tier-2 authority; the relationship covers it")
    decision = approved.decisions[-1] if approved.decisions else None
    expect(approved.status == E("QUOTE_STATUS_APPROVED") and decision and decision.stamp.actor_id == "a-t2", f"status {v1.QuoteStatus.Name(approved.status)}")
    print(f"   the tier-2 approver a-t2 (BJ01): {v1.QuoteStatus.Name(approved.status)} by {decision.stamp.actor_id} of {decision.approver_branch.branch_id}, "
          f"reason \"{decision.stamp.reason}\"")
    again = refusal(lambda: stub.ApproveQuote(v1.ApproveQuoteRequest(quote_id=a.quote_id, expected_version=approved.version, reason="again"), metadata=md(a_t2)), "a second decision")
    expect(again.code() == grpc.StatusCode.FAILED_PRECONDITION, f"a second decision: {again.code().name}")
    print(f"   deciding it again: {again.code().name}")

    # 5. DOMAIN.md section 4's cash-services options, side by side.
    scenarios = [v1.SimulationScenario(name="option 1: cash counting and change for two stores", items=[item("CASH-2STORES")]),
                 v1.SimulationScenario(name="option 2: the whole cash business", items=[item("CASH-WHOLE"), item("DEP-CASH", amount=8_000_000)])]
    sim = stub.SimulatePricing(v1.SimulatePricingRequest(customer_id=firm_id, scenarios=scenarios), metadata=md(e1))
    print("5. simulation of the cash-services options:")
    for r in sim.results:
        t = r.totals
        print(f"   rank {r.rank}: {r.name}: RAR {yuan(t.risk_adjusted_return)}, EC {yuan(t.economic_capital)}, EVA {yuan(t.eva)}, RAROC {t.raroc.value}, "
              f"{v1.QuoteVerdict.Name(r.verdict)}")
    got = {r.name: (r.rank, r.totals.risk_adjusted_return.minor_units, r.totals.economic_capital.minor_units, r.totals.eva.minor_units, r.totals.raroc.value) for r in sim.results}
    expected = {scenarios[0].name: (2, 54_000_00, 18_000_00, 51_840_00, "3.0000"), scenarios[1].name: (1, 241_600_00, 59_100_00, 234_508_00, "4.0880")}
    expect(got == expected, f"simulation {got}, expected {expected}")
    expect([r.name for r in sim.results] == [scenarios[1].name, scenarios[0].name], "option 2 does not rank first")
    expect(all(r.verdict == E("QUOTE_VERDICT_ACCEPTABLE") for r in sim.results), "an option is not acceptable")
    print("   figures match DOMAIN.md section 4; option 2 ranks first")
    print("walkthrough complete")


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        sys.exit(f"FAILED: unexpected {e.code().name}: {e.details()}")
