//! A test-only slow gRPC service, `bankmkt.test.Slow/Sleep`, served behind the real platform stack
//! to exercise load shedding, deadlines and graceful shutdown. It echoes a
//! `google.protobuf.Duration` after sleeping that long.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bankmkt_platform::auth::Authenticator;
use bankmkt_platform::shutdown::{Shutdown, ShutdownTrigger};
use bankmkt_platform::stack::StackConfig;
use tonic::body::Body;
use tonic::server::{NamedService, UnaryService};
use tonic_prost::ProstCodec;

/// The slow service.
#[derive(Clone, Debug)]
pub struct Slow;

impl NamedService for Slow {
    const NAME: &'static str = "bankmkt.test.Slow";
}

struct Sleep;

impl UnaryService<prost_types::Duration> for Sleep {
    type Response = prost_types::Duration;
    type Future = Pin<
        Box<
            dyn Future<Output = Result<tonic::Response<prost_types::Duration>, tonic::Status>>
                + Send,
        >,
    >;

    fn call(&mut self, request: tonic::Request<prost_types::Duration>) -> Self::Future {
        Box::pin(async move {
            let wanted = request.into_inner();
            let millis = u64::try_from(wanted.seconds * 1000 + i64::from(wanted.nanos / 1_000_000))
                .unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(millis)).await;
            Ok(tonic::Response::new(wanted))
        })
    }
}

impl tower::Service<http::Request<Body>> for Slow {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        Box::pin(async move {
            if request.uri().path() != "/bankmkt.test.Slow/Sleep" {
                return Ok(tonic::Status::unimplemented("no such method").into_http());
            }
            let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
            Ok(grpc.unary(Sleep, request).await)
        })
    }
}

/// A running slow server.
pub struct SlowServer {
    pub addr: std::net::SocketAddr,
    pub trigger: ShutdownTrigger,
    pub task: tokio::task::JoinHandle<()>,
    pub authenticator: Arc<Authenticator>,
}

/// Serves [`Slow`] on port 0 behind the platform stack.
pub async fn start(max_concurrent_rpcs: usize, max_deadline: Duration) -> SlowServer {
    let authenticator = Arc::new(Authenticator::with_secret(&[42u8; 32]));
    let config = StackConfig {
        service: "slow",
        authenticator: authenticator.clone(),
        max_concurrent_rpcs,
        default_deadline: max_deadline,
        max_deadline,
        shutdown_grace: Duration::from_secs(5),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (trigger, shutdown) = Shutdown::new();
    let task = tokio::spawn(async move {
        bankmkt_platform::serve::serve_grpc(Slow, config, listener, shutdown)
            .await
            .expect("slow server");
    });
    SlowServer {
        addr,
        trigger,
        task,
        authenticator,
    }
}

impl SlowServer {
    /// A valid token for this server.
    pub fn token(&self) -> String {
        self.authenticator
            .mint(
                "e1",
                "HQ",
                &[],
                &["customer_manager".to_owned()],
                Duration::from_secs(60),
            )
            .expect("mint")
    }

    /// A fresh connection.
    pub async fn channel(&self) -> Result<tonic::transport::Channel, tonic::transport::Error> {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .expect("endpoint")
            .connect_timeout(Duration::from_secs(2))
            .connect()
            .await
    }
}

/// Calls `Sleep(duration)` on `channel` with `token`, optionally with a client deadline.
pub async fn sleep(
    channel: tonic::transport::Channel,
    token: String,
    duration: Duration,
    deadline: Option<Duration>,
) -> Result<Duration, tonic::Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let message = prost_types::Duration {
        seconds: i64::try_from(duration.as_secs()).unwrap_or(0),
        nanos: i32::try_from(duration.subsec_nanos()).unwrap_or(0),
    };
    let mut request = bankmkt_e2e::TestSuite::authed(message, &token);
    if let Some(d) = deadline {
        request.set_timeout(d);
    }
    let path = http::uri::PathAndQuery::from_static("/bankmkt.test.Slow/Sleep");
    let response = client
        .unary(
            request,
            path,
            ProstCodec::<prost_types::Duration, prost_types::Duration>::default(),
        )
        .await?;
    let echoed = response.into_inner();
    Ok(Duration::new(
        u64::try_from(echoed.seconds).unwrap_or(0),
        u32::try_from(echoed.nanos).unwrap_or(0),
    ))
}
