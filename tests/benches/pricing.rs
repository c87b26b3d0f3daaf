//! Pricing benchmark (a measuring binary, not a test; CI never runs it). Starts the real suite on
//! Postgres + Redis (or the embedded default with `--embedded`), loads docs/pricing.md's shared
//! data and a scored corporate customer (`bankmkt_e2e::quotes::QuoteWorld`), warms the caches
//! with one quote, then measures `CreateQuote` over gRPC under concurrent load: each call prices
//! and stores a fresh quote (its own idempotency key) of `--items` items (a loan, a deposit and a
//! fee product, repeated), reading the customer from the registry (served from its cache) and the
//! catalogue through pricing's versioned cache. Prints calls/s and p50/p99 latency; it measures,
//! it never asserts timings.
//!
//! Run: `cargo bench -p bankmkt-e2e --bench pricing -- [--seconds S] [--concurrency C] [--items N] [--embedded]`

use std::time::{Duration, Instant};

use bankmkt_e2e::quotes::{QuoteWorld, balance_item, fee_item};
use bankmkt_e2e::{Backend, TestSuite};
use bankmkt_proto::v1;
use bankmkt_proto::v1::pricing_client::PricingClient;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn items(n: u64) -> Vec<v1::QuoteItemRequest> {
    (0..n)
        .map(|i| match i % 3 {
            0 => balance_item("LOAN-WC-1Y", 10_000_000, 12, Some(425)),
            1 => balance_item("DEP-DEMAND", 5_000_000, 12, None),
            _ => fee_item("PAYROLL", Some(30_000_000)),
        })
        .collect()
}

struct Outcome {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

async fn load(
    client: PricingClient<tonic::transport::Channel>,
    token: String,
    customer_id: String,
    worker: u64,
    item_count: u64,
    seconds: u64,
) -> Outcome {
    let mut client = client;
    let mut out = Outcome {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
    };
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut i = 0u64;
    while Instant::now() < end {
        i += 1;
        let request = v1::CreateQuoteRequest {
            idempotency_key: format!("bench-{worker}-{i}"),
            customer_id: customer_id.clone(),
            items: items(item_count),
            ..Default::default()
        };
        let started = Instant::now();
        match client
            .create_quote(TestSuite::authed(request, &token))
            .await
        {
            Ok(_) => out.latencies.push(started.elapsed()),
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 10);
    let concurrency = arg("--concurrency", 32);
    let item_count = arg("--items", 3).clamp(1, 50);
    let backend = if std::env::args().any(|a| a == "--embedded") {
        Backend::Embedded
    } else {
        Backend::PostgresRedis
    };
    let setup = Instant::now();
    let world = QuoteWorld::start(backend, |s| {
        s.log_filter = "warn".into();
        s.max_concurrent_rpcs = 4096;
    })
    .await;
    println!(
        "pricing bench on {backend:?}: world loaded in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let channel = world.h.suite.channel("pricing").await;
    let token = world.maker.clone();
    let warm = v1::CreateQuoteRequest {
        idempotency_key: "bench-warm".into(),
        customer_id: world.firm.clone(),
        items: items(item_count),
        ..Default::default()
    };
    let quote = PricingClient::new(channel.clone())
        .create_quote(TestSuite::authed(warm, &token))
        .await
        .unwrap_or_else(|e| panic!("warm-up quote: {e}"))
        .into_inner()
        .quote
        .unwrap_or_default();
    println!(
        "warm-up quote: {} item(s), verdict {:?}",
        quote.items.len(),
        v1::QuoteVerdict::try_from(quote.verdict).unwrap_or_default()
    );

    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            tokio::spawn(load(
                PricingClient::new(channel.clone()),
                token.clone(),
                world.firm.clone(),
                worker,
                item_count,
                seconds,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        if let Ok(outcome) = worker.await {
            latencies.extend(outcome.latencies);
            errors += outcome.errors;
            if first_error.is_none() {
                first_error = outcome.first_error;
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "CreateQuote ({item_count} items, concurrency {concurrency}, {seconds} s): {} ok, {errors} failed = {:.0} calls/s; p50 {:.2} ms, p99 {:.2} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
    if let Some(e) = first_error {
        println!("first error: {e}");
    }
    world.h.suite.stop().await;
}
