//! Every gRPC port of the real suite: health and reflection without a token, authentication on
//! everything else, `UNIMPLEMENTED` for RPCs not built yet, and the request id echoed back.

use bankmkt_e2e::TestSuite;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const PORTS: [(&str, &str); 4] = [
    ("customer-registry", "bankmkt.v1.CustomerRegistry"),
    ("pricing", "bankmkt.v1.Pricing"),
    ("coordination", "bankmkt.v1.Coordination"),
    ("attribution", "bankmkt.v1.Attribution"),
];

#[tokio::test]
async fn health_is_serving_on_every_port_without_a_token() {
    let suite = TestSuite::start().await;
    for (component, service) in PORTS {
        let mut health = HealthClient::new(suite.channel(component).await);
        for name in [service, ""] {
            let status = health
                .check(HealthCheckRequest {
                    service: name.to_owned(),
                })
                .await
                .unwrap_or_else(|e| panic!("{component} health({name}): {e}"))
                .into_inner()
                .status;
            assert_eq!(
                status,
                ServingStatus::Serving as i32,
                "{component} health({name:?})"
            );
        }
        // Another port's service is unknown here.
        let foreign = if service == "bankmkt.v1.Pricing" {
            "bankmkt.v1.Attribution"
        } else {
            "bankmkt.v1.Pricing"
        };
        let err = health
            .check(HealthCheckRequest {
                service: foreign.to_owned(),
            })
            .await
            .expect_err("unknown service");
        assert_eq!(err.code(), tonic::Code::NotFound, "{component}: {err:?}");
    }
    suite.stop().await;
}

async fn list_v1(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection v1")
        .into_inner();
    let response = stream
        .message()
        .await
        .expect("stream")
        .expect("one response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn list_v1alpha(channel: tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    let mut client = ServerReflectionClient::new(channel);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection v1alpha")
        .into_inner();
    let response = stream
        .message()
        .await
        .expect("stream")
        .expect("one response");
    match response.message_response {
        Some(MessageResponse::ListServicesResponse(list)) => {
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn reflection_lists_only_each_ports_own_service_in_v1_and_v1alpha() {
    let suite = TestSuite::start().await;
    for (component, service) in PORTS {
        let channel = suite.channel(component).await;
        assert_eq!(
            list_v1(channel.clone()).await,
            [
                service,
                "grpc.health.v1.Health",
                "grpc.reflection.v1.ServerReflection"
            ],
            "{component} v1"
        );
        assert_eq!(
            list_v1alpha(channel).await,
            [
                service,
                "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection"
            ],
            "{component} v1alpha"
        );
    }
    suite.stop().await;
}

/// Calls `path` on `component` with an empty message, through the generic client.
async fn raw_call(
    suite: &TestSuite,
    component: &str,
    path: &'static str,
    token: Option<&str>,
) -> Result<tonic::metadata::MetadataMap, tonic::Status> {
    let mut client = tonic::client::Grpc::new(suite.channel(component).await);
    client.ready().await.expect("ready");
    let request = match token {
        Some(t) => TestSuite::authed((), t),
        None => tonic::Request::new(()),
    };
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    client
        .unary(request, http::uri::PathAndQuery::from_static(path), codec)
        .await
        .map(|r| r.metadata().clone())
}

#[tokio::test]
async fn no_token_or_a_bad_token_answers_unauthenticated() {
    let suite = TestSuite::start().await;
    let foreign = bankmkt_platform::auth::Authenticator::with_secret(&[1u8; 32])
        .mint(
            "e1",
            "HQ",
            &[],
            &["admin".to_owned()],
            std::time::Duration::from_secs(60),
        )
        .expect("mint");
    for (component, service) in PORTS {
        let path: &'static str = Box::leak(format!("/{service}/NoSuchMethod").into_boxed_str());
        for token in [None, Some("not-a-jwt"), Some(foreign.as_str())] {
            let err = raw_call(&suite, component, path, token)
                .await
                .expect_err("refused");
            assert_eq!(
                err.code(),
                tonic::Code::Unauthenticated,
                "{component} token={token:?}: {err:?}"
            );
        }
    }
    suite.stop().await;
}

fn code<T>(result: Result<tonic::Response<T>, tonic::Status>) -> tonic::Code {
    result.map(|_| ()).expect_err("not built").code()
}

#[tokio::test]
async fn typed_clients_get_unimplemented_for_rpcs_not_built_yet() {
    use bankmkt_proto::v1;
    let suite = TestSuite::start().await;
    let token = suite.token("e1001", "HQ", &["customer_manager", "batch"]);

    // Every CustomerRegistry and Pricing RPC is built; all of Attribution still answers
    // UNIMPLEMENTED.
    let mut attribution =
        v1::attribution_client::AttributionClient::new(suite.channel("attribution").await);
    let got = attribution
        .get_run(TestSuite::authed(v1::GetRunRequest::default(), &token))
        .await;
    assert_eq!(code(got), tonic::Code::Unimplemented);

    let mut attribution =
        v1::attribution_client::AttributionClient::new(suite.channel("attribution").await);
    let got = attribution
        .start_run(TestSuite::authed(v1::StartRunRequest::default(), &token))
        .await;
    assert_eq!(code(got), tonic::Code::Unimplemented);
    suite.stop().await;
}

#[tokio::test]
async fn an_unknown_method_answers_unimplemented_and_echoes_the_request_id() {
    let suite = TestSuite::start().await;
    let token = suite.token("e1001", "HQ", &["customer_manager"]);
    for (component, service) in PORTS {
        let path: &'static str = Box::leak(format!("/{service}/NoSuchMethod").into_boxed_str());
        let err = raw_call(&suite, component, path, Some(&token))
            .await
            .expect_err("unimplemented");
        assert_eq!(
            err.code(),
            tonic::Code::Unimplemented,
            "{component}: {err:?}"
        );
        assert!(
            err.metadata().get("x-request-id").is_some(),
            "{component}: request id echoed"
        );
    }
    suite.stop().await;
}
