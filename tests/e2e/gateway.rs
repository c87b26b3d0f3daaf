//! The HTTP gateway of the real suite: `/healthz` checks the four services, `/metrics` shows
//! every service's RPC metrics.

use bankmkt_e2e::TestSuite;

#[tokio::test]
async fn healthz_is_ok_when_all_four_services_serve() {
    let suite = TestSuite::start().await;
    let url = format!("http://{}/healthz", suite.addr("gateway"));
    let response = reqwest::get(&url).await.expect("GET /healthz");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    for service in ["registry", "pricing", "coordination", "attribution"] {
        assert_eq!(body["services"][service], "SERVING", "{body}");
    }
    suite.stop().await;
}

#[tokio::test]
async fn healthz_is_unavailable_when_a_service_is_down() {
    // Point the gateway's registry endpoint at a port where nothing listens.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dead_addr = dead.local_addr().expect("addr");
    drop(dead);
    let suite = TestSuite::start().await;
    let mut settings = (*suite_settings(&suite)).clone();
    settings
        .service_mut(bankmkt_platform::ServiceKind::Registry)
        .endpoint = format!("http://{dead_addr}");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (trigger, shutdown) = bankmkt_platform::shutdown::Shutdown::new();
    let gateway =
        tokio::spawn(async move { bankmkt_gateway::run(&settings, listener, shutdown).await });
    let response = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .expect("GET /healthz");
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "degraded");
    assert_ne!(body["services"]["registry"], "SERVING", "{body}");
    assert_eq!(body["services"]["pricing"], "SERVING", "{body}");
    trigger.fire();
    gateway.await.expect("join").expect("gateway stops cleanly");
    suite.stop().await;
}

fn suite_settings(suite: &TestSuite) -> std::sync::Arc<bankmkt_platform::Settings> {
    suite.settings()
}

#[tokio::test]
async fn metrics_show_every_services_rpcs() {
    let suite = TestSuite::start().await;
    // One health check per service through the gateway, then read the metrics.
    let healthz = reqwest::get(format!("http://{}/healthz", suite.addr("gateway")))
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
    let text = reqwest::get(format!("http://{}/metrics", suite.addr("gateway")))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("body");
    for service in ["registry", "pricing", "coordination", "attribution"] {
        let needle = format!(
            "bankmkt_rpc_requests_total{{service=\"{service}\",method=\"Check\",code=\"OK\"}}"
        );
        assert!(text.contains(&needle), "missing {needle} in\n{text}");
    }
    assert!(
        text.contains("bankmkt_rpc_duration_seconds_bucket"),
        "latency histogram present"
    );
    suite.stop().await;
}
