//! The standalone `attribution` binary: settings → telemetry → database → serve until SIGTERM/Ctrl-C.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    bankmkt_platform::bootstrap::run_standalone(bankmkt_attribution::KIND, bankmkt_attribution::run)
        .await
}
