//! The standalone `customer-registry` binary: settings → telemetry → database → serve until SIGTERM/Ctrl-C.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bankmkt_platform::bootstrap::run_standalone(
        bankmkt_customer_registry::KIND,
        bankmkt_customer_registry::run,
    )
    .await
}
