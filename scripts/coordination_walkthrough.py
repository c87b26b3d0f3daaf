#!/usr/bin/env python3
"""An independent client (Python grpcio, stubs generated from proto/ at run time) that walks a whole
joint campaign of linked marketing the way the bank would (issue 5, "Done when"):

  1. a core enterprise is found with its supply chain and executives: a supplier and two executives
     are created and linked in the registry, a traversal reaches them, and coordination suggests the
     supplier and the executive with cross-line consent (the other is counted out);
  2. corporate, small-business and retail units of BJ0101 form an opportunity with shares
     5000/3000/2000 (a claim per target and line), with tasks from a supply-chain playbook;
  3. the tier-2 branch BJ01's own attempt is refused (ALREADY_EXISTS naming the holder); it joins
     instead, by a join request and a share amendment accepted by another lead member;
  4. activities are logged against the opportunity;
  5. a pricing quote of the target needing tier-2 authority is attached as the solution; the
     submitter and a sub-branch approver are denied, the tier-2 approver approves it;
  6. the opportunity is won and moves to follow-up with its A/B after-sales owners;
  7. nothing is overdue today; the suite is restarted on the same data with
     BANKMKT_CLOCK_OFFSET_DAYS (default 30), and the open playbook tasks are overdue for their owners
     (the task already done is not).

The script runs the server itself, because step 7 restarts it: it starts `<--bankmkt> up` with
BANKMKT_DATA_DIR set to --data-dir (default: a new temporary directory), waits for the gateway's
/healthz, walks steps 1-7a, stops it with SIGINT, starts it again with the clock offset, walks 7b and
stops it. Every other BANKMKT_* variable of the environment is passed through, so
    BANKMKT_DATABASE_URL=postgres://... BANKMKT_REDIS_URL=redis://... python3 scripts/coordination_walkthrough.py ...
walks it on Postgres and Redis. The standard ports (50051-50054, 8080) must be free. Employee, product
and playbook ids carry a run suffix and the customers unique identity numbers, so the script can run
again on the same data (the branch tree and the authority bands are shared and reused).

Usage (from the repository root):
    pip install grpcio grpcio-tools
    python3 scripts/coordination_walkthrough.py --bankmkt PATH [--host 127.0.0.1] [--data-dir DIR] [--offset-days 30]
Tokens are minted with `bankmkt token` from the same data dir. Exits non-zero on any failure.
"""
import argparse
import datetime
import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
import uuid

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2
from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# google.rpc.Status and the detail messages the service sends, by their wire layout (the googleapis
# protos are not part of grpcio-tools).
RPC_DETAILS = """syntax = "proto3";
package walkthrough.rpc;
import "google/protobuf/any.proto";
message Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
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
    return types.SimpleNamespace(common=m("bankmkt.v1.common_pb2"), customer=m("bankmkt.v1.customer_pb2"), customer_rpc=m("bankmkt.v1.customer_pb2_grpc"),
                                 pricing=m("bankmkt.v1.pricing_pb2"), pricing_rpc=m("bankmkt.v1.pricing_pb2_grpc"), coordination=m("bankmkt.v1.coordination_pb2"),
                                 coordination_rpc=m("bankmkt.v1.coordination_pb2_grpc"), details=m("walkthrough.rpc_details_pb2"))


def uscc(serial):
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = f"91440100M{serial:08d}"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(body, weights)) % 31) % 31
    return body + alphabet[check]


def resident_id(serial):
    body = f"440105{1960 + serial % 40:04d}{1 + serial // 40 % 12:02d}{1 + serial // 480 % 28:02d}{serial // 13440 % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


def fail(message):
    raise Walkthrough(message)


class Walkthrough(Exception):
    """A failed expectation."""


class Server:
    """`bankmkt up` on a data dir, started and stopped by the script."""

    def __init__(self, binary, data_dir, host):
        self.binary, self.data_dir, self.host, self.process, self.log = binary, data_dir, host, None, None

    def env(self, offset_days=0):
        env = dict(os.environ, BANKMKT_DATA_DIR=self.data_dir)
        env.pop("BANKMKT_CLOCK_OFFSET_DAYS", None)
        if offset_days:
            env["BANKMKT_CLOCK_OFFSET_DAYS"] = str(offset_days)
        return env

    def healthy(self):
        try:
            with urllib.request.urlopen(f"http://{self.host}:8080/healthz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def start(self, offset_days=0):
        if self.healthy():
            fail(f"something already answers on http://{self.host}:8080/healthz: stop it first (the script runs its own `bankmkt up`)")
        name = f"bankmkt-up{'-offset' if offset_days else ''}.log"
        self.log = os.path.join(self.data_dir, name)
        with open(self.log, "w") as log:
            self.process = subprocess.Popen([self.binary, "up"], env=self.env(offset_days), stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir)
        for _ in range(600):
            if self.process.poll() is not None:
                fail(f"`bankmkt up` exited with {self.process.returncode}; see {self.log}")
            if self.healthy():
                return
            time.sleep(0.1)
        fail(f"`bankmkt up` did not become healthy in 60 s; see {self.log}")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            fail(f"`bankmkt up` did not stop within 60 s of SIGINT; see {self.log}")
        if self.process.returncode != 0:
            fail(f"`bankmkt up` stopped with status {self.process.returncode}; see {self.log}")

    def token(self, sub, branch, roles, lines="corporate"):
        return subprocess.check_output([self.binary, "token", "--sub", sub, "--branch", branch, "--roles", roles, "--lines", lines], env=self.env(), text=True).strip()


def walk(args, server, stubs):
    v1 = types.SimpleNamespace(**{k: v for m in (stubs.common, stubs.customer, stubs.pricing, stubs.coordination) for k, v in vars(m).items() if not k.startswith("_")})

    def E(name):
        """An enum value by its full name."""
        return getattr(v1, name)

    def expect(ok, message):
        if not ok:
            fail(message)

    def refusal(call, what):
        """Runs `call`, which must fail; returns the grpc.RpcError."""
        try:
            call()
        except grpc.RpcError as e:
            return e
        fail(f"{what} was not refused")

    def error_info(err):
        """The metadata of the ErrorInfo detail of a refusal."""
        for key, value in err.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                for d in stubs.details.Status.FromString(value).details:
                    if d.type_url.endswith("/google.rpc.ErrorInfo"):
                        return dict(stubs.details.ErrorInfo.FromString(d.value).metadata)
        return {}

    run = uuid.uuid4().hex[:6]
    serial = int(run, 16)
    sfx = lambda name: f"{name}-{run}"
    md = lambda t: [("authorization", f"Bearer {t}")]
    token = server.token
    registry = stubs.customer_rpc.CustomerRegistryStub(grpc.insecure_channel(f"{args.host}:50051"))
    pricing = stubs.pricing_rpc.PricingStub(grpc.insecure_channel(f"{args.host}:50052"))
    coord = stubs.coordination_rpc.CoordinationStub(grpc.insecure_channel(f"{args.host}:50053"))
    admin, pc, pm = token("admin1", "HQ", "admin"), token("pc1", "HQ", "pricing_committee"), token("pm1", "HQ", "product_manager")
    e1, e2 = token(sfx("e1"), "BJ0101", "customer_manager"), token(sfx("e2"), "BJ0101", "customer_manager")
    sb1 = token(sfx("sb1"), "BJ0101", "customer_manager", "small_business")
    rt1 = token(sfx("rt1"), "BJ0101", "customer_manager", "retail")
    b1 = token(sfx("b1"), "BJ01", "customer_manager")
    tl = token(sfx("tl"), "BJ0101", "team_lead")
    mk = token(sfx("mk"), "BJ01", "customer_manager,approver")
    a_sub, a_t2 = token(sfx("a-sub"), "BJ0101", "approver"), token(sfx("a-t2"), "BJ01", "approver")
    line = lambda name: E(f"BUSINESS_LINE_{name}")
    day = lambda d: v1.Date(year=d.year, month=d.month, day=d.day)
    as_date = lambda d: datetime.date(d.year, d.month, d.day)
    today = datetime.date.today()

    # 1. The organisation, the core enterprise, its supply chain and executives.
    levels = [("HQ", "", "HEAD_OFFICE"), ("BJ", "HQ", "TIER1_BRANCH"), ("BJ01", "BJ", "TIER2_BRANCH"), ("BJ0101", "BJ01", "SUB_BRANCH"),
              ("BJ010101", "BJ0101", "OUTLET"), ("SH", "HQ", "TIER1_BRANCH"), ("SH01", "SH", "TIER2_BRANCH")]
    registry.LoadBranches(v1.LoadBranchesRequest(idempotency_key=f"cw-tree-{run}", branches=[
        v1.Branch(branch_id=i, parent_id=p, level=E(f"BRANCH_LEVEL_{lv}"), name=f"{i} branch") for i, p, lv in levels]), metadata=md(admin))
    staff = [("e1", "BJ0101", "CORPORATE", ["CUSTOMER_MANAGER"]), ("e2", "BJ0101", "CORPORATE", ["CUSTOMER_MANAGER"]),
             ("sb1", "BJ0101", "SMALL_BUSINESS", ["CUSTOMER_MANAGER"]), ("rt1", "BJ0101", "RETAIL", ["CUSTOMER_MANAGER"]),
             ("b1", "BJ01", "CORPORATE", ["CUSTOMER_MANAGER"]), ("tl", "BJ0101", "CORPORATE", ["TEAM_LEAD"]),
             ("mk", "BJ01", "CORPORATE", ["CUSTOMER_MANAGER", "APPROVER"]), ("a-sub", "BJ0101", "CORPORATE", ["APPROVER"]), ("a-t2", "BJ01", "CORPORATE", ["APPROVER"])]
    loaded = registry.LoadEmployees(v1.LoadEmployeesRequest(idempotency_key=f"cw-staff-{run}", employees=[
        v1.Employee(employee_id=sfx(i), name=i, branch_id=b, lines=[line(ln)], roles=[E(f"ROLE_{r}") for r in rs]) for i, b, ln, rs in staff]), metadata=md(admin))
    expect(loaded.summary.rejected == 0, f"staff rejected: {loaded.summary.errors}")

    def customer(kind, name, number):
        individual = kind == "INDIVIDUAL"
        c = v1.Customer(kind=E(f"CUSTOMER_KIND_{kind}"), name=f"{name} {run}", owning_branch_id="BJ0101", primary_manager_id=sfx("e1"), backup_manager_id=sfx("e2"),
                        identities=[v1.IdentityDocument(identity_type=E("IDENTITY_TYPE_RESIDENT_ID" if individual else "IDENTITY_TYPE_UNIFIED_SOCIAL_CREDIT_CODE"), number=number)])
        return registry.CreateCustomer(v1.CreateCustomerRequest(idempotency_key=f"cw-{name.replace(' ', '-')}-{run}", customer=c), metadata=md(e1)).customer.customer_id
    firm = customer("CORPORATE", "Huadong Machinery", uscc(serial % 10_000_000))
    supplier = customer("SMALL_BUSINESS", "Huadong Castings", uscc((serial + 1) % 10_000_000 + 10_000_000))
    exec_ok = customer("INDIVIDUAL", "Wang Fang", resident_id(serial * 2))
    exec_no = customer("INDIVIDUAL", "Zhao Lei", resident_id(serial * 2 + 1))
    for kind, source in (("SUPPLIER_OF", supplier), ("EXECUTIVE_OF", exec_ok), ("EXECUTIVE_OF", exec_no)):
        registry.LinkCustomers(v1.LinkCustomersRequest(relationship=v1.Relationship(relationship_type=E(f"RELATIONSHIP_TYPE_{kind}"), from_customer_id=source, to_customer_id=firm),
                                                       reason="known from the annual review"), metadata=md(e1))
    consent = registry.GetConsent(v1.GetConsentRequest(customer_id=exec_ok), metadata=md(e1)).consent
    registry.UpdateConsent(v1.UpdateConsentRequest(consent=v1.Consent(customer_id=exec_ok, cross_line_use=True), expected_version=consent.version, evidence="signed form"), metadata=md(e1))
    traversal = registry.TraverseRelationships(v1.TraverseRelationshipsRequest(root_customer_id=firm, max_depth=1), metadata=md(e1))
    reached = sorted(n.customer_id for n in traversal.nodes if n.depth == 1)
    expect(reached == sorted([supplier, exec_ok, exec_no]), f"traversal reached {reached}")
    suggested = coord.SuggestLinkedTargets(v1.SuggestLinkedTargetsRequest(customer_id=firm), metadata=md(e1))
    picked = sorted(s.customer_id for s in suggested.suggestions)
    expect(picked == sorted([supplier, exec_ok]), f"suggested {[(s.customer_id, s.name) for s in suggested.suggestions]}")
    expect(suggested.excluded_for_consent == 1, f"excluded for consent: {suggested.excluded_for_consent}")
    print(f"1. core enterprise {firm}: traversal reaches {len(reached)} (supplier, 2 executives, {len(traversal.relationships)} links); "
          f"suggested {[v1.RelationshipType.Name(s.relationship_type) for s in suggested.suggestions]}, {suggested.excluded_for_consent} executive left out for consent")

    # 2. Three lines of BJ0101 at 5000/3000/2000, tasks from a playbook.
    step = lambda sid, ln, offset: v1.PlaybookStep(step_id=sid, title=sid.replace("-", " "), stage=E("OPPORTUNITY_STAGE_PREPARATION"), owner_line=line(ln), due_offset_working_days=offset)
    playbook = coord.CreatePlaybook(v1.CreatePlaybookRequest(playbook=v1.Playbook(
        name=f"Supply-chain finance campaign {run}", opportunity_type=E("OPPORTUNITY_TYPE_SUPPLY_CHAIN_FINANCE"), active=True,
        steps=[step("visit-core", "UNSPECIFIED", 0), step("screen-suppliers", "SMALL_BUSINESS", 3), step("executives-cards", "RETAIL", 5)])), metadata=md(tl)).playbook
    unit = lambda branch, ln, role, bps: v1.OpportunityUnit(unit=v1.UnitRef(branch_id=branch, line=line(ln)), role=E(f"UNIT_ROLE_{role}"), share_bps=bps)
    units = [unit("BJ0101", "CORPORATE", "LEAD", 5000), unit("BJ0101", "SMALL_BUSINESS", "CO", 3000), unit("BJ0101", "RETAIL", "CO", 2000)]
    opp = coord.CreateOpportunity(v1.CreateOpportunityRequest(idempotency_key=f"cw-campaign-{run}", opportunity=v1.Opportunity(
        name=f"Huadong supply chain {run}", opportunity_type=E("OPPORTUNITY_TYPE_SUPPLY_CHAIN_FINANCE"), target_customer_id=firm,
        linked_targets=[v1.LinkedTarget(customer_id=supplier), v1.LinkedTarget(customer_id=exec_ok)], plan="supply-chain finance for the core enterprise and its chain",
        units=units)), metadata=md(e1)).opportunity
    oid = opp.opportunity_id
    got = sorted((u.unit_id, u.share_bps) for u in opp.units)
    expect(got == [("BJ0101/corporate", 5000), ("BJ0101/retail", 2000), ("BJ0101/small_business", 3000)], f"units {got}")
    claims = coord.ListClaims(v1.ListClaimsRequest(opportunity_id=oid, active_only=True, page_size=100), metadata=md(e1)).claims
    expect(len(claims) == 9, f"{len(claims)} active claims, expected 3 targets x 3 lines")
    version = opp.version
    for who, unit_id in (("e2", "BJ0101/corporate"), ("sb1", "BJ0101/small_business"), ("rt1", "BJ0101/retail")):
        version = coord.AddMember(v1.AddMemberRequest(opportunity_id=oid, member=v1.Member(employee_id=sfx(who), unit_id=unit_id, role=E("MEMBER_ROLE_CUSTOMER_MANAGER")),
                                                      expected_version=version), metadata=md(e1)).opportunity_version
    tasks = list(coord.ApplyPlaybook(v1.ApplyPlaybookRequest(idempotency_key=f"cw-apply-{run}", opportunity_id=oid, playbook_id=playbook.playbook_id, expected_version=version),
                                     metadata=md(e1)).tasks)
    owners = [(t.playbook_step_id, t.owner_employee_id) for t in tasks]
    expect(owners == [("visit-core", sfx("e1")), ("screen-suppliers", sfx("sb1")), ("executives-cards", sfx("rt1"))], f"task owners {owners}")
    print(f"2. opportunity {oid} in {v1.OpportunityStage.Name(opp.stage)}: units {got}, {len(claims)} claims; playbook v{playbook.version} gave tasks "
          + ", ".join(f"{t.playbook_step_id} -> {t.owner_employee_id} due {as_date(t.due_date)}" for t in tasks))

    # 3. BJ01's attempt is refused naming the holder; it joins by request and accepted amendment.
    attempt = refusal(lambda: coord.CreateOpportunity(v1.CreateOpportunityRequest(idempotency_key=f"cw-bj01-{run}", opportunity=v1.Opportunity(
        name=f"BJ01 corporate plan {run}", opportunity_type=E("OPPORTUNITY_TYPE_SUPPLY_CHAIN_FINANCE"), target_customer_id=firm,
        units=[unit("BJ01", "CORPORATE", "LEAD", 10_000)])), metadata=md(b1)), "BJ01's conflicting create")
    holder = error_info(attempt).get("holder_opportunity_id")
    expect(attempt.code() == grpc.StatusCode.ALREADY_EXISTS and holder == oid, f"BJ01's create: {attempt.code().name} holder {holder!r}: {attempt.details()}")
    jr = coord.CreateJoinRequest(v1.CreateJoinRequestRequest(join_request=v1.JoinRequest(opportunity_id=oid, unit=v1.UnitRef(branch_id="BJ01", line=line("CORPORATE")),
                                                                                         requested_share_bps=1000, message="we bank the group's parent")), metadata=md(b1)).join_request
    joined = [unit("BJ0101", "CORPORATE", "LEAD", 4000), unit("BJ0101", "SMALL_BUSINESS", "CO", 3000), unit("BJ0101", "RETAIL", "CO", 2000), unit("BJ01", "CORPORATE", "CO", 1000)]
    amendment = coord.AcceptJoinRequest(v1.AcceptJoinRequestRequest(join_request_id=jr.join_request_id, proposed_units=joined, reason="welcome",
                                                                    expected_version=jr.version), metadata=md(e1)).amendment
    own = refusal(lambda: coord.AcceptShareAmendment(v1.AcceptShareAmendmentRequest(amendment_id=amendment.amendment_id, unit_id="BJ0101/corporate",
                                                                                    expected_version=amendment.version), metadata=md(e1)), "the proposer accepting")
    expect(own.code() == grpc.StatusCode.PERMISSION_DENIED, f"the proposer accepting: {own.code().name}")
    done = coord.AcceptShareAmendment(v1.AcceptShareAmendmentRequest(amendment_id=amendment.amendment_id, unit_id="BJ0101/corporate", expected_version=amendment.version,
                                                                     reason="agreed for the lead unit"), metadata=md(e2)).amendment
    expect(done.status == E("AMENDMENT_STATUS_ACCEPTED"), f"amendment {v1.AmendmentStatus.Name(done.status)}")
    o = coord.GetOpportunity(v1.GetOpportunityRequest(opportunity_id=oid), metadata=md(e1)).opportunity
    now_units = sorted((u.unit_id, u.share_bps) for u in o.units)
    expect(now_units == [("BJ01/corporate", 1000), ("BJ0101/corporate", 4000), ("BJ0101/retail", 2000), ("BJ0101/small_business", 3000)], f"units after the join {now_units}")
    version = coord.AddMember(v1.AddMemberRequest(opportunity_id=oid, member=v1.Member(employee_id=sfx("b1"), unit_id="BJ01/corporate", role=E("MEMBER_ROLE_CUSTOMER_MANAGER")),
                                                  expected_version=o.version), metadata=md(e1)).opportunity_version
    print(f"3. BJ01's own opportunity: {attempt.code().name}, holder {holder}; join request {jr.join_request_id} -> amendment {amendment.amendment_id} "
          f"(proposer accepting: {own.code().name}; e2 accepts: {v1.AmendmentStatus.Name(done.status)}); units in force today {now_units}")

    # 4. Activities.
    ts = lambda t: timestamp_pb2.Timestamp(seconds=int(t.timestamp()))
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
    part = lambda who, branch, ln: v1.Participant(employee_id=sfx(who), unit=v1.UnitRef(branch_id=branch, line=line(ln)))
    logged = [
        coord.CreateActivity(v1.CreateActivityRequest(idempotency_key=f"cw-visit-{run}", activity=v1.Activity(
            activity_type=E("ACTIVITY_TYPE_VISIT"), channel=E("CONTACT_CHANNEL_IN_PERSON"), subject="kick-off with the treasurer",
            record="agreed supply-chain finance for the top suppliers and payroll", start_time=ts(start), end_time=ts(start + datetime.timedelta(minutes=45)),
            participants=[part("e1", "BJ0101", "CORPORATE"), part("b1", "BJ01", "CORPORATE")], customer_ids=[firm], opportunity_id=oid)), metadata=md(e1)).activity,
        coord.CreateActivity(v1.CreateActivityRequest(idempotency_key=f"cw-call-{run}", activity=v1.Activity(
            activity_type=E("ACTIVITY_TYPE_CALL"), channel=E("CONTACT_CHANNEL_PHONE"), subject="receivables financing",
            record="the supplier sends its receivables ledger next week", start_time=ts(start + datetime.timedelta(hours=1)),
            end_time=ts(start + datetime.timedelta(minutes=75)), participants=[part("sb1", "BJ0101", "SMALL_BUSINESS")], customer_ids=[supplier], opportunity_id=oid)),
            metadata=md(sb1)).activity,
    ]
    listed = coord.ListActivities(v1.ListActivitiesRequest(opportunity_id=oid, branch_id="BJ01"), metadata=md(b1)).activities
    expect(sorted(a.activity_id for a in listed) == sorted(a.activity_id for a in logged), f"listed activities {[a.subject for a in listed]}")
    print(f"4. activities logged: " + "; ".join(f"{v1.ActivityType.Name(a.activity_type)} '{a.subject}' by {[p.employee_id for p in a.participants]}" for a in logged)
          + f"; the opportunity lists {len(listed)}")

    # 5. The solution: a quote of the firm with a 25 bp concession (tier-2 authority), approved.
    product = sfx("LOAN-WC-1Y")
    pricing.CreateProduct(v1.CreateProductRequest(product=v1.Product(product_id=product, name=f"Working-capital loan 1Y ({run})", line=line("CORPORATE"),
                                                                     kind=E("PRODUCT_KIND_ASSET"), category=E("PRODUCT_CATEGORY_LOAN"), currency="CNY", active=True)), metadata=md(pm))
    dec = lambda s: v1.Decimal(value=s)
    from_2025 = lambda: v1.EffectiveRange(start_date=v1.Date(year=2025, month=1, day=1))
    pricing.CreatePriceVersion(v1.CreatePriceVersionRequest(price_version=v1.PriceVersion(
        product_id=product, effective=from_2025(), list_rate_bps=435, ftp_rate_bps=240, operating_cost_ratio=dec("0.0040"), economic_capital_ratio=dec("0.08"),
        probability_of_default=dec("0.005"), loss_given_default=dec("0.40")), reason="2025 price list"), metadata=md(pm))
    bands = [("CUSTOMER_MANAGER", 5), ("OUTLET", 10), ("SUB_BRANCH", 15), ("TIER2_BRANCH", 25), ("TIER1_BRANCH", 40), ("HEAD_OFFICE", 150)]
    for level, bps in bands:
        try:
            pricing.CreateAuthorityBand(v1.CreateAuthorityBandRequest(band=v1.AuthorityBand(level=E(f"AUTHORITY_LEVEL_{level}"), product_kind=E("PRODUCT_KIND_ASSET"),
                                                                                           max_rate_concession_bps=bps, effective=from_2025()), reason="authority delegation 2025"), metadata=md(pc))
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.FAILED_PRECONDITION:
                raise
    in_force = {b.level: b.max_rate_concession_bps for b in pricing.ListAuthorityBands(v1.ListAuthorityBandsRequest(as_of_date=day(today), page_size=500), metadata=md(pc)).bands
                if b.product_kind == E("PRODUCT_KIND_ASSET")}
    for level, bps in bands:
        expect(in_force.get(E(f"AUTHORITY_LEVEL_{level}")) == bps, f"the {level} asset band in force is {in_force.get(E(f'AUTHORITY_LEVEL_{level}'))}, not {bps}")
    quote = pricing.CreateQuote(v1.CreateQuoteRequest(idempotency_key=f"cw-quote-{run}", customer_id=firm, branch_id="BJ0101", items=[
        v1.QuoteItemRequest(product_id=product, amount=v1.Money(currency="CNY", minor_units=10_000_000_00), term_months=12, proposed_rate_bps=410)]), metadata=md(mk)).quote
    expect(quote.required_approval_level == E("AUTHORITY_LEVEL_TIER2_BRANCH"), f"required level {v1.AuthorityLevel.Name(quote.required_approval_level)}")
    o = coord.GetOpportunity(v1.GetOpportunityRequest(opportunity_id=oid), metadata=md(e1)).opportunity
    o = coord.UpdateNeedsStatement(v1.UpdateNeedsStatementRequest(opportunity_id=oid, expected_version=o.version, needs_statement=v1.NeedsStatement(
        summary="working capital for the chain, payroll for the staff",
        needs=[v1.CustomerNeed(need_id="n1", category="financing", description="a one-year working-capital loan", priority=1, product_ids=[product])])), metadata=md(e1)).opportunity
    move = lambda version, to, **kw: coord.TransitionStage(v1.TransitionStageRequest(opportunity_id=oid, to_stage=E(f"OPPORTUNITY_STAGE_{to}"), expected_version=version, **kw),
                                                          metadata=md(e1)).opportunity
    o = move(o.version, "EXECUTION")
    o = coord.SetSolutionQuote(v1.SetSolutionQuoteRequest(opportunity_id=oid, quote_id=quote.quote_id, expected_version=o.version), metadata=md(e1)).opportunity
    expect(o.solution_quote_id == quote.quote_id, f"solution {o.solution_quote_id}")
    early = refusal(lambda: move(o.version, "WON"), "won before the approval")
    expect(early.code() == grpc.StatusCode.FAILED_PRECONDITION, f"won before the approval: {early.code().name}")
    submitted = pricing.SubmitQuote(v1.SubmitQuoteRequest(quote_id=quote.quote_id, expected_version=quote.version, reason="customer agreed the terms"), metadata=md(mk)).quote
    approve = lambda t: pricing.ApproveQuote(v1.ApproveQuoteRequest(quote_id=quote.quote_id, expected_version=submitted.version, reason="within the tier-2 authority"),
                                             metadata=md(t)).quote
    denied = []
    for who, tok in (("submitter mk", mk), ("sub-branch approver", a_sub)):
        err = refusal(lambda: approve(tok), f"the {who} approving")
        expect(err.code() == grpc.StatusCode.PERMISSION_DENIED, f"the {who} approving: {err.code().name} {err.details()}")
        denied.append(f"{who} {err.code().name}")
    approved = approve(a_t2)
    expect(approved.status == E("QUOTE_STATUS_APPROVED"), f"quote {v1.QuoteStatus.Name(approved.status)}")
    print(f"5. quote {quote.quote_id} at 4.10% (concession {quote.items[0].concession_bps} bp, {v1.AuthorityLevel.Name(quote.required_approval_level)}) is the solution; "
          f"won before approval: {early.code().name}; {', '.join(denied)}; tier-2 approver a-t2: {v1.QuoteStatus.Name(approved.status)}")

    # 6. Won, then follow-up with A/B after-sales owners.
    o = move(o.version, "WON")
    won = v1.OpportunityStage.Name(o.stage)
    o = move(o.version, "FOLLOW_UP", after_sales=v1.AfterSalesOwners(primary_employee_id=sfx("e1"), backup_employee_id=sfx("e2")))
    expect(o.stage == E("OPPORTUNITY_STAGE_FOLLOW_UP") and o.holds_claims, f"stage {v1.OpportunityStage.Name(o.stage)}, holds claims {o.holds_claims}")
    print(f"6. {won} -> {v1.OpportunityStage.Name(o.stage)} with after-sales A {o.after_sales.primary_employee_id} / B {o.after_sales.backup_employee_id}; "
          f"claims still held: {o.holds_claims}")

    # 7. Overdue: none today; after a restart with the clock offset, the open tasks are.
    visit = tasks[0]
    coord.UpdateTask(v1.UpdateTaskRequest(task=v1.Task(task_id=visit.task_id, status=E("TASK_STATUS_DONE")), update_mask=field_mask_pb2.FieldMask(paths=["status"]),
                                          expected_version=visit.version), metadata=md(e1))

    def overdue(tok):
        return coord.ListOverdue(v1.ListOverdueRequest(branch_id="BJ0101", kinds=[E("OVERDUE_KIND_TASK")], page_size=500), metadata=md(tok))
    mine = lambda resp: sorted((i.responsible_employee_id, i.task_id) for i in resp.items if i.opportunity_id == oid)
    before = overdue(e1)
    expect(mine(before) == [], f"overdue already today: {mine(before)}")
    server.stop()
    server.start(offset_days=args.offset_days)
    after = overdue(e1)
    business = as_date(after.business_date)
    expect(business == today + datetime.timedelta(days=args.offset_days), f"business date {business} after a {args.offset_days}-day offset")
    expected = sorted([(sfx("sb1"), tasks[1].task_id), (sfx("rt1"), tasks[2].task_id)])
    expect(mine(after) == expected, f"overdue {mine(after)}, expected the two open tasks {expected}")
    items = [i for i in after.items if i.opportunity_id == oid]
    expect(all(i.working_days_overdue > 0 and i.customer_id == firm and i.branch_id == "BJ0101" for i in items), f"overdue items {items}")
    own = overdue(sb1)
    expect([i.task_id for i in own.items if i.responsible_employee_id == sfx("sb1")] == [tasks[1].task_id], "sb1's own overdue list")
    print(f"7. business date {as_date(before.business_date)}: nothing overdue; restarted with BANKMKT_CLOCK_OFFSET_DAYS={args.offset_days}, business date {business}: "
          + "; ".join(f"{i.responsible_employee_id} task {i.task_id} due {as_date(i.due_date)}, {i.working_days_overdue} working days over" for i in items)
          + f"; the done task {visit.task_id} is not listed")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bankmkt", default=os.environ.get("BANKMKT_BIN", "bankmkt"), help="the bankmkt binary")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data-dir", help="the data dir of the suite the script runs (default: a new temporary directory)")
    parser.add_argument("--offset-days", type=int, default=30, help="BANKMKT_CLOCK_OFFSET_DAYS of the restart (default 30)")
    args = parser.parse_args()
    if args.offset_days < 15:
        sys.exit("FAILED: --offset-days must be at least 15, past the playbook's last due date")
    stubs = generate_stubs()
    data_dir = os.path.abspath(args.data_dir or tempfile.mkdtemp(prefix="bankmkt-coordination-"))
    os.makedirs(data_dir, exist_ok=True)
    server = Server(os.path.abspath(args.bankmkt) if os.sep in args.bankmkt else args.bankmkt, data_dir, args.host)
    print(f"bankmkt up on {data_dir} ({'Postgres' if os.environ.get('BANKMKT_DATABASE_URL') else 'SQLite'}, "
          f"{'Redis' if os.environ.get('BANKMKT_REDIS_URL') else 'in-process cache'})")
    try:
        server.start()
        walk(args, server, stubs)
        server.stop()
    except Walkthrough as e:
        sys.exit(f"FAILED: {e}")
    except grpc.RpcError as e:
        sys.exit(f"FAILED: unexpected {e.code().name}: {e.details()}")
    finally:
        if server.process is not None and server.process.poll() is None:
            server.process.send_signal(signal.SIGINT)
            try:
                server.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.process.kill()
    print("walkthrough complete")


if __name__ == "__main__":
    main()
