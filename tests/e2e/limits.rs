//! The platform stack under load and at shutdown: load shedding, deadlines, graceful drain.

use std::time::Duration;

use crate::slow;

#[tokio::test]
async fn a_call_over_the_concurrency_limit_is_shed_with_resource_exhausted() {
    let server = slow::start(1, Duration::from_secs(30)).await;
    let token = server.token();
    let channel = server.channel().await.expect("connect");
    let first = tokio::spawn(slow::sleep(
        channel.clone(),
        token.clone(),
        Duration::from_millis(800),
        None,
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A second connection shares the same service-wide limit.
    let other_connection = server.channel().await.expect("connect");
    let shed = slow::sleep(
        other_connection,
        token.clone(),
        Duration::from_millis(1),
        None,
    )
    .await
    .expect_err("must be shed");
    assert_eq!(shed.code(), tonic::Code::ResourceExhausted, "{shed:?}");
    let done = first
        .await
        .expect("join")
        .expect("the first call completes");
    assert_eq!(done, Duration::from_millis(800));
    // Capacity is back once the first call is done.
    let again = slow::sleep(channel, token.clone(), Duration::from_millis(1), None)
        .await
        .expect("accepted again");
    assert_eq!(again, Duration::from_millis(1));
    server.trigger.fire();
}

fn server_deadline_count() -> usize {
    let text = bankmkt_platform::metrics::metrics().render();
    text.lines()
        .find(|l| l.starts_with("bankmkt_rpc_requests_total{service=\"slow\",method=\"Sleep\",code=\"DEADLINE_EXCEEDED\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// The caller's own shorter deadline is covered by the stack's unit tests: over the network,
/// tonic's client also times the call out by itself and races the server's answer.
#[tokio::test]
async fn a_call_past_its_deadline_ends_with_deadline_exceeded() {
    let server = slow::start(8, Duration::from_millis(300)).await;
    let token = server.token();
    let channel = server.channel().await.expect("connect");
    // A generous caller deadline is capped by the server's maximum (300 ms): only the server fires.
    let err = slow::sleep(
        channel.clone(),
        token.clone(),
        Duration::from_millis(2_000),
        Some(Duration::from_secs(30)),
    )
    .await
    .expect_err("capped deadline");
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded, "{err:?}");
    // No deadline at all: the server's default (here 300 ms) applies.
    let err = slow::sleep(
        channel.clone(),
        token.clone(),
        Duration::from_millis(2_000),
        None,
    )
    .await
    .expect_err("default deadline");
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded, "{err:?}");
    assert_eq!(server_deadline_count(), 2, "both ended by the server");
    // Within the deadline all is well.
    let ok = slow::sleep(
        channel,
        token.clone(),
        Duration::from_millis(10),
        Some(Duration::from_secs(5)),
    )
    .await
    .expect("ok");
    assert_eq!(ok, Duration::from_millis(10));
    server.trigger.fire();
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_call_finish_and_refuses_new_connections() {
    let server = slow::start(8, Duration::from_secs(30)).await;
    let token = server.token();
    let channel = server.channel().await.expect("connect");
    let in_flight = tokio::spawn(slow::sleep(
        channel,
        token.clone(),
        Duration::from_millis(700),
        None,
    ));
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.trigger.fire();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        server.channel().await.is_err(),
        "the listener is closed: new connections are refused"
    );
    let finished = in_flight
        .await
        .expect("join")
        .expect("the in-flight call completes normally");
    assert_eq!(finished, Duration::from_millis(700));
    tokio::time::timeout(Duration::from_secs(5), server.task)
        .await
        .expect("the server stops once drained")
        .expect("server task");
}

#[tokio::test]
async fn health_turns_not_serving_when_shutdown_starts() {
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

    let server = slow::start(8, Duration::from_secs(30)).await;
    let token = server.token();
    let channel = server.channel().await.expect("connect");
    let mut health = HealthClient::new(channel.clone());
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "bankmkt.test.Slow".to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("stream").expect("status");
    assert_eq!(first.status, ServingStatus::Serving as i32);
    // Keep a call in flight so the connection stays open while draining.
    let in_flight = tokio::spawn(slow::sleep(
        channel,
        token.clone(),
        Duration::from_millis(600),
        None,
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.trigger.fire();
    let next = tokio::time::timeout(Duration::from_secs(2), watch.message())
        .await
        .expect("a status change arrives")
        .expect("stream")
        .expect("status");
    assert_eq!(next.status, ServingStatus::NotServing as i32);
    in_flight
        .await
        .expect("join")
        .expect("in-flight call completes");
}
