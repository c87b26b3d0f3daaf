//! Graceful shutdown. A [`Shutdown`] is a cloneable signal that fires once: on SIGTERM or Ctrl-C
//! (see [`Shutdown::on_signals`]) or when a test or `bankmkt up` calls [`ShutdownTrigger::fire`].
//! Each server waits on its own clone, turns its health to NOT_SERVING, stops accepting and lets
//! in-flight calls finish.

use tokio::sync::watch;

/// Fires the shutdown of every server holding a clone of its [`Shutdown`].
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

/// Waits for shutdown.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

impl ShutdownTrigger {
    /// Starts shutdown; idempotent.
    pub fn fire(&self) {
        self.tx.send_replace(true);
    }
}

impl Shutdown {
    /// A new shutdown signal and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (
            ShutdownTrigger {
                tx: std::sync::Arc::new(tx),
            },
            Shutdown { rx },
        )
    }

    /// A signal fired by SIGTERM or Ctrl-C (and by the returned trigger).
    pub fn on_signals() -> (ShutdownTrigger, Shutdown) {
        let (trigger, shutdown) = Shutdown::new();
        let fire = trigger.clone();
        tokio::spawn(async move {
            wait_for_os_signal().await;
            tracing::info!("shutdown signal received; draining");
            fire.fire();
        });
        (trigger, shutdown)
    }

    /// Resolves once shutdown has been triggered (or every trigger is gone).
    pub async fn wait(mut self) {
        // An error means every sender is gone, which also means: stop.
        let _ = self.rx.wait_for(|fired| *fired).await;
    }

    /// True once shutdown has been triggered.
    pub fn is_fired(&self) -> bool {
        *self.rx.borrow()
    }
}

async fn wait_for_os_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
