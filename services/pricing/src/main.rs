//! The standalone `pricing` binary: settings → telemetry → database → serve until SIGTERM/Ctrl-C.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bankmkt_platform::bootstrap::run_standalone(bankmkt_pricing::KIND, bankmkt_pricing::run).await
}
