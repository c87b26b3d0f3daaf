//! The `bankmkt` command line. `up` runs the whole suite in one process on the embedded default
//! (no configuration needed), `migrate` applies every service's migrations, and `token` mints a
//! development token with the data dir's HS256 secret.

use std::process::ExitCode;
use std::time::Duration;

use bankmkt::Suite;
use bankmkt_platform::auth::{self, Authenticator};
use bankmkt_platform::bootstrap;
use bankmkt_platform::settings::Settings;
use bankmkt_platform::shutdown::Shutdown;
use clap::{Parser, Subcommand};

/// bankmkt: integrated marketing for a commercial bank.
#[derive(Debug, Parser)]
#[command(name = "bankmkt", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run all four services and the gateway in this process (embedded default: SQLite files in
    /// ./bankmkt-data and an in-process cache). Configure with BANKMKT_* variables.
    Up,
    /// Apply every service's database migrations, then exit.
    Migrate,
    /// Mint a development token signed with the data dir's HS256 secret.
    Token {
        /// Subject: the employee id.
        #[arg(long)]
        sub: String,
        /// Branch code of the employee.
        #[arg(long)]
        branch: String,
        /// Comma-separated roles, e.g. customer_manager,approver.
        #[arg(long, value_delimiter = ',', default_value = "customer_manager")]
        roles: Vec<String>,
        /// Comma-separated business lines, e.g. corporate,retail.
        #[arg(long, value_delimiter = ',', default_value = "corporate")]
        lines: Vec<String>,
        /// Validity in hours.
        #[arg(long, default_value_t = 8)]
        ttl_hours: u64,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match bootstrap::load_settings() {
        Ok(s) => s,
        Err(code) => return code,
    };
    let result = match cli.command {
        Command::Up => up(settings).await,
        Command::Migrate => migrate(settings).await,
        Command::Token {
            sub,
            branch,
            roles,
            lines,
            ttl_hours,
        } => token(&settings, &sub, &branch, &roles, &lines, ttl_hours),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bankmkt: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn up(settings: Settings) -> anyhow::Result<()> {
    let storage = match &settings.database_url {
        Some(_) => "Postgres (BANKMKT_DATABASE_URL)".to_owned(),
        None => format!("SQLite files in {}", settings.data_dir.display()),
    };
    let cache = if settings.redis_url.is_some() {
        "Redis"
    } else {
        "in-process cache"
    };
    let (trigger, shutdown) = Shutdown::on_signals();
    let suite = Suite::start(settings, trigger, shutdown).await?;
    println!("bankmkt up: {storage}, {cache}");
    for l in &suite.listening {
        if l.grpc_service.is_empty() {
            println!(
                "  {:<18} http://{}   (GET /healthz, GET /metrics)",
                l.component, l.addr
            );
        } else {
            println!(
                "  {:<18} grpc://{}  {}",
                l.component, l.addr, l.grpc_service
            );
        }
    }
    println!(
        "Health and reflection need no token; other RPCs need one: bankmkt token --sub <id> --branch <code> --roles <roles>"
    );
    println!("Press Ctrl-C to stop.");
    let result = suite.wait().await;
    println!("bankmkt stopped.");
    result
}

async fn migrate(settings: Settings) -> anyhow::Result<()> {
    bankmkt_customer_registry::migrate(&settings).await?;
    bankmkt_pricing::migrate(&settings).await?;
    bankmkt_coordination::migrate(&settings).await?;
    bankmkt_attribution::migrate(&settings).await?;
    println!("migrations applied: customer-registry, pricing, coordination, attribution");
    Ok(())
}

fn token(
    settings: &Settings,
    sub: &str,
    branch: &str,
    roles: &[String],
    lines: &[String],
    ttl_hours: u64,
) -> anyhow::Result<()> {
    for role in roles {
        role.parse::<bankmkt_domain::org::Role>()?;
    }
    for line in lines {
        line.parse::<bankmkt_domain::org::BusinessLine>()?;
    }
    bankmkt_domain::org::BranchCode::parse(branch)?;
    let secret = auth::load_or_generate_secret(&settings.jwt_secret_path())?;
    let token = Authenticator::with_secret(&secret).mint(
        sub,
        branch,
        lines,
        roles,
        Duration::from_secs(ttl_hours.max(1) * 3600),
    )?;
    println!("{token}");
    Ok(())
}
