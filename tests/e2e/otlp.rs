//! Trace export: with `otlp_endpoint` set, every RPC's span reaches an OTLP/gRPC collector (a real
//! tonic server speaking the OTLP trace protocol), joined to the caller's W3C trace context.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bankmkt_e2e::TestSuite;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;

#[derive(Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Span>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().expect("lock");
        for resource in request.into_inner().resource_spans {
            for scope in resource.scope_spans {
                spans.extend(scope.spans);
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

#[tokio::test]
async fn rpc_spans_are_exported_over_otlp_with_the_callers_trace_id() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server = collector.clone();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(server))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
            .await
            .expect("collector");
    });

    let suite = TestSuite::start_with(|s| s.otlp_endpoint = Some(format!("http://{addr}"))).await;
    let token = suite.token("e1001", "HQ", &["batch"]);
    let mut attribution = bankmkt_proto::v1::attribution_client::AttributionClient::new(
        suite.channel("attribution").await,
    );
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = TestSuite::authed(bankmkt_proto::v1::GetRunRequest::default(), &token);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{trace_id}-00f067aa0ba902b7-01")
            .parse()
            .expect("header"),
    );
    let err = attribution
        .get_run(request)
        .await
        .expect_err("not built yet");
    assert_eq!(err.code(), tonic::Code::Unimplemented);
    // Stopping the suite flushes the batch exporter.
    suite.stop().await;

    let mut found = None;
    for _ in 0..50 {
        found = collector
            .spans
            .lock()
            .expect("lock")
            .iter()
            .find(|s| s.name == "bankmkt.v1.Attribution/GetRun")
            .cloned();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let span = found.expect("the GetRun span reached the collector");
    let hex: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hex, trace_id, "the span joins the caller's trace");
    let status = span
        .attributes
        .iter()
        .find(|kv| kv.key == "rpc.grpc.status_code")
        .and_then(|kv| kv.value.as_ref())
        .map(|v| format!("{:?}", v.value));
    assert!(
        status.is_some_and(|s| s.contains("12")),
        "status code 12 (UNIMPLEMENTED) recorded: {span:?}"
    );
}
