//! Typed, layered configuration. A [`Settings`] value starts from built-in defaults, then takes an
//! optional TOML file, then `BANKMKT_*` environment variables, each layer overriding the one
//! before. Every key is parsed by one entry in a single key table, so the file and the
//! environment accept exactly the same keys; every unknown key and every bad value is collected
//! and reported together in one [`SettingsError`], and the caller exits non-zero.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The largest clock offset accepted, in days either way (about ten years).
pub const MAX_CLOCK_OFFSET_DAYS: i32 = 3650;

/// Prefix of every environment variable that configures bankmkt.
pub const ENV_PREFIX: &str = "BANKMKT_";

/// Environment variables that start with the prefix but belong to the test harness, not to a
/// running service; they are never reported as unknown keys.
const IGNORED_ENV_PREFIXES: &[&str] = &["BANKMKT_TEST_", "BANKMKT_CONFIG"];

/// How the suite is deployed; decides what may be defaulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One machine, SQLite and an in-process cache; a dev JWT secret is generated on first start.
    Embedded,
    /// Real deployment: JWT keys must be configured or the service refuses to start.
    Production,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// The four gRPC services of the suite, used to pick per-service settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKind {
    /// `bankmkt.v1.CustomerRegistry`
    Registry,
    /// `bankmkt.v1.Pricing`
    Pricing,
    /// `bankmkt.v1.Coordination`
    Coordination,
    /// `bankmkt.v1.Attribution`
    Attribution,
}

impl ServiceKind {
    /// Every service, in call order (registry first).
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::Registry,
        ServiceKind::Pricing,
        ServiceKind::Coordination,
        ServiceKind::Attribution,
    ];

    /// Short name used in keys, file names, schemas and metrics (`registry`, `pricing`, ...).
    pub fn short_name(self) -> &'static str {
        match self {
            ServiceKind::Registry => "registry",
            ServiceKind::Pricing => "pricing",
            ServiceKind::Coordination => "coordination",
            ServiceKind::Attribution => "attribution",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

/// Per-service network and storage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// Where the gRPC server binds.
    pub listen: SocketAddr,
    /// Where the standalone binary serves `/metrics` (not used by `bankmkt up`, whose gateway
    /// serves every service's metrics).
    pub admin_listen: SocketAddr,
    /// The URL other components use to call this service.
    pub endpoint: String,
    /// A database URL for this service only; overrides `database_url`.
    pub database_url: Option<String>,
}

/// Every setting of the suite, typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Deployment mode (`embedded` or `production`).
    pub mode: Mode,
    /// Directory for SQLite files and the generated dev JWT secret.
    pub data_dir: PathBuf,
    /// Postgres URL shared by every service (each gets its own schema); SQLite when unset.
    pub database_url: Option<String>,
    /// Upper bound of each service's connection pool.
    pub database_max_connections: u32,
    /// How long a SQLite writer waits for the lock before failing.
    pub sqlite_busy_timeout: Duration,
    /// Redis URL for the shared cache; an in-process cache when unset.
    pub redis_url: Option<String>,
    /// How long a cache call may take before the read falls through to the database.
    pub cache_timeout: Duration,
    /// OTLP/gRPC collector endpoint; traces are only exported when set.
    pub otlp_endpoint: Option<String>,
    /// `tracing` filter directive (e.g. `info,bankmkt=debug`).
    pub log_filter: String,
    /// Log line format.
    pub log_format: LogFormat,
    /// Deadline applied when a call sets none.
    pub rpc_default_deadline: Duration,
    /// Cap on any caller-supplied deadline.
    pub rpc_max_deadline: Duration,
    /// Service-wide limit of RPCs in flight; beyond it calls are shed with `RESOURCE_EXHAUSTED`.
    pub max_concurrent_rpcs: usize,
    /// Largest gRPC message accepted or sent.
    pub max_message_bytes: usize,
    /// After shutdown starts, how long in-flight calls and open streams may take before their
    /// connections are closed anyway.
    pub shutdown_grace: Duration,
    /// The problem-customer alert threshold of a book, in basis points (DOMAIN.md §2: 3%).
    pub problem_ratio_alert_bps: u32,
    /// How long a stored pricing quote stays open for submission and decision.
    pub quote_expiry: Duration,
    /// The hurdle rate of quote economics (EVA = RAR − EC × hurdle), in basis points.
    pub quote_hurdle_rate_bps: i32,
    /// The operational-risk capital of fee products, in basis points of the annual fee.
    pub quote_operational_risk_ratio_bps: i32,
    /// The loan-rate step-up of a breached sales-funds return covenant, in basis points.
    pub covenant_step_up_bps: i32,
    /// File holding the HS256 secret. In embedded mode it defaults to `<data_dir>/jwt-secret`
    /// and is generated on first start.
    pub jwt_secret_file: Option<PathBuf>,
    /// PEM public key (RS256) accepted in addition to the HS256 secret.
    pub jwt_public_key_file: Option<PathBuf>,
    /// TOML file with the PII encryption and blind-index keys. In embedded mode it defaults to
    /// `<data_dir>/pii-keys.toml` and is generated on first start.
    pub pii_key_file: Option<PathBuf>,
    /// The bank's business timezone (IANA name).
    pub timezone: String,
    /// Days added to the system clock for every service (business date and timestamps), so a
    /// non-production run can show date-driven behaviour such as overdue items. Zero by
    /// default; refused in production unless zero.
    pub clock_offset_days: i32,
    /// Public holidays of the business calendar: weekdays that are not working days.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Make-up working days (调休) of the business calendar: weekend days that are worked.
    pub makeup_workdays: Vec<chrono::NaiveDate>,
    /// Where the HTTP gateway binds.
    pub gateway_listen: SocketAddr,
    /// The four services, indexed by [`ServiceKind`].
    services: [ServiceSettings; 4],
}

impl Settings {
    /// Built-in defaults: the embedded mode on 127.0.0.1 with the suite's standard ports.
    pub fn defaults() -> Settings {
        let svc = |grpc: u16, admin: u16| ServiceSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], grpc)),
            admin_listen: SocketAddr::from(([127, 0, 0, 1], admin)),
            endpoint: format!("http://127.0.0.1:{grpc}"),
            database_url: None,
        };
        Settings {
            mode: Mode::Embedded,
            data_dir: PathBuf::from("./bankmkt-data"),
            database_url: None,
            database_max_connections: 10,
            sqlite_busy_timeout: Duration::from_secs(5),
            redis_url: None,
            cache_timeout: Duration::from_millis(50),
            otlp_endpoint: None,
            log_filter: "info,sea_orm_migration=warn,sqlx=warn".to_owned(),
            log_format: LogFormat::Text,
            rpc_default_deadline: Duration::from_secs(10),
            rpc_max_deadline: Duration::from_secs(60),
            max_concurrent_rpcs: 256,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace: Duration::from_secs(20),
            problem_ratio_alert_bps: 300,
            quote_expiry: Duration::from_secs(30 * 24 * 3600),
            quote_hurdle_rate_bps: 1_200,
            quote_operational_risk_ratio_bps: 1_500,
            covenant_step_up_bps: 50,
            jwt_secret_file: None,
            jwt_public_key_file: None,
            pii_key_file: None,
            timezone: "Asia/Shanghai".to_owned(),
            clock_offset_days: 0,
            holidays: Vec::new(),
            makeup_workdays: Vec::new(),
            gateway_listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            services: [
                svc(50051, 9101),
                svc(50052, 9102),
                svc(50053, 9103),
                svc(50054, 9104),
            ],
        }
    }

    /// Loads defaults, then the file named by `BANKMKT_CONFIG` (if any), then the process
    /// environment.
    pub fn load() -> Result<Settings, SettingsError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        let file = env
            .iter()
            .find(|(k, _)| k == "BANKMKT_CONFIG")
            .map(|(_, v)| PathBuf::from(v));
        Settings::load_from(file.as_deref(), env)
    }

    /// Loads defaults, then `file`, then the `BANKMKT_*` entries of `env`; reports every bad key
    /// and value at once.
    pub fn load_from(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, SettingsError> {
        let mut settings = Settings::defaults();
        let mut problems = Vec::new();
        if let Some(path) = file {
            match std::fs::read_to_string(path) {
                Ok(text) => settings.apply_toml(&text, &path.display().to_string(), &mut problems),
                Err(e) => {
                    problems.push(format!("{}: cannot read config file: {e}", path.display()))
                }
            }
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .filter(|(k, _)| !IGNORED_ENV_PREFIXES.iter().any(|p| k.starts_with(p)))
            .collect();
        env.sort();
        for (name, value) in env {
            let key = name[ENV_PREFIX.len()..].to_ascii_lowercase();
            settings.apply(&key, &value, &format!("environment {name}"), &mut problems);
        }
        if problems.is_empty() {
            Ok(settings)
        } else {
            Err(SettingsError { problems })
        }
    }

    fn apply_toml(&mut self, text: &str, origin: &str, problems: &mut Vec<String>) {
        let table: toml::Table = match text.parse() {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("{origin}: not valid TOML: {e}"));
                return;
            }
        };
        let mut flat = BTreeMap::new();
        flatten("", &table, &mut flat);
        for (key, value) in flat {
            match value {
                Some(v) => self.apply(&key, &v, &format!("{origin} key {key}"), problems),
                None => problems.push(format!(
                    "{origin} key {key}: arrays and dates are not accepted"
                )),
            }
        }
    }

    /// Applies one key; `origin` says where it came from, for the error message.
    fn apply(&mut self, key: &str, value: &str, origin: &str, problems: &mut Vec<String>) {
        if let Err(why) = self.set(key, value) {
            problems.push(format!("{origin}: {why}"));
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), String> {
        let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        if let Some((service, field)) = split_service_key(key) {
            let s = &mut self.services[service.index()];
            return match field {
                "listen" => parse_addr(value).map(|a| s.listen = a),
                "admin_listen" => parse_addr(value).map(|a| s.admin_listen = a),
                "endpoint" => parse_url(value).map(|u| s.endpoint = u),
                "database_url" => {
                    s.database_url = opt(value);
                    Ok(())
                }
                _ => Err(unknown(key)),
            };
        }
        match key {
            "mode" => {
                self.mode = match value.trim() {
                    "embedded" => Mode::Embedded,
                    "production" => Mode::Production,
                    other => {
                        return Err(format!(
                            "mode must be `embedded` or `production`, not `{other}`"
                        ));
                    }
                }
            }
            "data_dir" => self.data_dir = PathBuf::from(value.trim()),
            "database_url" => self.database_url = opt(value),
            "database_max_connections" => {
                self.database_max_connections = parse_bounded(value, 1, 200)?;
            }
            "sqlite_busy_timeout_ms" => self.sqlite_busy_timeout = parse_millis(value, 60_000)?,
            "redis_url" => self.redis_url = opt(value),
            "cache_timeout_ms" => self.cache_timeout = parse_millis(value, 10_000)?,
            "otlp_endpoint" => self.otlp_endpoint = opt(value),
            "log" | "log_filter" => self.log_filter = value.trim().to_owned(),
            "log_format" => {
                self.log_format = match value.trim() {
                    "text" => LogFormat::Text,
                    "json" => LogFormat::Json,
                    other => {
                        return Err(format!(
                            "log_format must be `text` or `json`, not `{other}`"
                        ));
                    }
                }
            }
            "rpc_default_deadline_ms" => {
                self.rpc_default_deadline = parse_millis(value, 3_600_000)?
            }
            "rpc_max_deadline_ms" => self.rpc_max_deadline = parse_millis(value, 3_600_000)?,
            "max_concurrent_rpcs" => self.max_concurrent_rpcs = parse_bounded(value, 1, 100_000)?,
            "max_message_bytes" => {
                self.max_message_bytes = parse_bounded(value, 1024, 64 * 1024 * 1024)?;
            }
            "shutdown_grace_ms" => self.shutdown_grace = parse_millis(value, 600_000)?,
            "problem_ratio_alert_bps" => {
                self.problem_ratio_alert_bps = parse_bounded(value, 0, 10_000)?;
            }
            "quote_expiry_seconds" => {
                self.quote_expiry =
                    Duration::from_secs(parse_bounded(value, 1u64, 366 * 24 * 3600)?);
            }
            "quote_hurdle_rate_bps" => {
                self.quote_hurdle_rate_bps = parse_bounded(value, 0, 10_000)?
            }
            "quote_operational_risk_ratio_bps" => {
                self.quote_operational_risk_ratio_bps = parse_bounded(value, 0, 10_000)?;
            }
            "covenant_step_up_bps" => self.covenant_step_up_bps = parse_bounded(value, 0, 10_000)?,
            "jwt_secret_file" => self.jwt_secret_file = opt(value).map(PathBuf::from),
            "jwt_public_key_file" => self.jwt_public_key_file = opt(value).map(PathBuf::from),
            "pii_key_file" => self.pii_key_file = opt(value).map(PathBuf::from),
            "timezone" => {
                let tz = value.trim();
                tz.parse::<chrono_tz::Tz>()
                    .map_err(|_| format!("timezone `{tz}` is not an IANA timezone name"))?;
                self.timezone = tz.to_owned();
            }
            "clock_offset_days" => {
                self.clock_offset_days =
                    parse_bounded(value, -MAX_CLOCK_OFFSET_DAYS, MAX_CLOCK_OFFSET_DAYS)?;
            }
            "holidays" => self.holidays = parse_dates(value)?,
            "makeup_workdays" => self.makeup_workdays = parse_dates(value)?,
            "gateway_listen" => self.gateway_listen = parse_addr(value)?,
            _ => return Err(unknown(key)),
        }
        Ok(())
    }

    /// The settings of one service.
    pub fn service(&self, kind: ServiceKind) -> &ServiceSettings {
        &self.services[kind.index()]
    }

    /// Mutable settings of one service (tests bind to port 0 this way).
    pub fn service_mut(&mut self, kind: ServiceKind) -> &mut ServiceSettings {
        &mut self.services[kind.index()]
    }

    /// The database URL a service uses: its own URL, else the shared Postgres URL, else a SQLite
    /// file `<data_dir>/<service>.db`.
    pub fn database_url_for(&self, kind: ServiceKind) -> String {
        if let Some(url) = &self.service(kind).database_url {
            return url.clone();
        }
        if let Some(url) = &self.database_url {
            return url.clone();
        }
        let file = self.data_dir.join(format!("{}.db", kind.short_name()));
        format!("sqlite://{}?mode=rwc", file.display())
    }

    /// Where the HS256 secret lives: the configured file, or `<data_dir>/jwt-secret`.
    pub fn jwt_secret_path(&self) -> PathBuf {
        self.jwt_secret_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("jwt-secret"))
    }

    /// Checks rules that span keys; called by [`Settings::load_from`] users before start-up.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let mut problems = Vec::new();
        if self.rpc_default_deadline > self.rpc_max_deadline {
            problems.push("rpc_default_deadline_ms must not exceed rpc_max_deadline_ms".to_owned());
        }
        if self.mode == Mode::Production
            && self.jwt_secret_file.is_none()
            && self.jwt_public_key_file.is_none()
        {
            problems.push(
                "mode=production needs jwt_secret_file or jwt_public_key_file: refusing to start without configured keys"
                    .to_owned(),
            );
        }
        if self.mode == Mode::Production && self.pii_key_file.is_none() {
            problems.push(
                "mode=production needs pii_key_file: refusing to start without PII keys".to_owned(),
            );
        }
        if let Err(e) = bankmkt_domain::calendar::BusinessCalendar::new(
            chrono_tz::Asia::Shanghai,
            self.holidays.iter().copied(),
            self.makeup_workdays.iter().copied(),
        ) {
            problems.push(format!("holidays / makeup_workdays: {e}"));
        }
        if self.mode == Mode::Production && self.clock_offset_days != 0 {
            problems.push(format!(
                "mode=production refuses clock_offset_days = {}: the clock offset is for non-production runs only",
                self.clock_offset_days
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(SettingsError { problems })
        }
    }
}

/// Every problem found while loading settings, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    /// One line per bad key or value.
    pub problems: Vec<String>,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} configuration problem(s):", self.problems.len())?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for SettingsError {}

/// The keys a service section accepts, e.g. `registry_listen` or `[registry] listen`.
fn split_service_key(key: &str) -> Option<(ServiceKind, &str)> {
    ServiceKind::ALL.iter().find_map(|kind| {
        key.strip_prefix(kind.short_name())
            .and_then(|rest| rest.strip_prefix('_').or_else(|| rest.strip_prefix('.')))
            .map(|field| (*kind, field))
    })
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, Option<String>>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}_{k}")
        };
        let value = match v {
            toml::Value::Table(t) => {
                flatten(&key, t, out);
                continue;
            }
            toml::Value::String(s) => Some(s.clone()),
            toml::Value::Integer(i) => Some(i.to_string()),
            toml::Value::Boolean(b) => Some(b.to_string()),
            toml::Value::Float(_) | toml::Value::Array(_) | toml::Value::Datetime(_) => None,
        };
        out.insert(key, value);
    }
}

fn unknown(key: &str) -> String {
    format!("unknown key `{key}`")
}

fn parse_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a socket address like 127.0.0.1:50051"))
}

/// A comma-separated list of ISO dates (`2027-01-01,2027-02-11`); empty for none.
fn parse_dates(value: &str) -> Result<Vec<chrono::NaiveDate>, String> {
    let mut dates = Vec::new();
    let mut bad = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match chrono::NaiveDate::parse_from_str(part, "%Y-%m-%d") {
            Ok(d) => dates.push(d),
            Err(_) => bad.push(format!("`{part}`")),
        }
    }
    if bad.is_empty() {
        dates.sort();
        dates.dedup();
        Ok(dates)
    } else {
        Err(format!(
            "{} not a YYYY-MM-DD date (give a comma-separated list)",
            bad.join(", ")
        ))
    }
}

fn parse_url(value: &str) -> Result<String, String> {
    let v = value.trim();
    if v.starts_with("http://") || v.starts_with("https://") {
        Ok(v.to_owned())
    } else {
        Err(format!("`{v}` is not an http:// or https:// URL"))
    }
}

fn parse_bounded<T>(value: &str, min: T, max: T) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let v: T = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a whole number"))?;
    if v < min || v > max {
        return Err(format!("{v} is outside {min}..={max}"));
    }
    Ok(v)
}

fn parse_millis(value: &str, max: u64) -> Result<Duration, String> {
    parse_bounded(value, 1u64, max).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_suite() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.mode, Mode::Embedded);
        assert_eq!(s.service(ServiceKind::Registry).listen.port(), 50051);
        assert_eq!(s.service(ServiceKind::Attribution).listen.port(), 50054);
        assert_eq!(s.gateway_listen.port(), 8080);
        assert_eq!(
            s.database_url_for(ServiceKind::Pricing),
            "sqlite://./bankmkt-data/pricing.db?mode=rwc"
        );
    }

    #[test]
    fn quote_settings_have_defaults_and_bounds() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.quote_expiry, Duration::from_secs(30 * 24 * 3600));
        assert_eq!(
            (
                s.quote_hurdle_rate_bps,
                s.quote_operational_risk_ratio_bps,
                s.covenant_step_up_bps
            ),
            (1_200, 1_500, 50)
        );
        let s = Settings::load_from(
            None,
            env(&[
                ("BANKMKT_QUOTE_EXPIRY_SECONDS", "2"),
                ("BANKMKT_QUOTE_HURDLE_RATE_BPS", "1000"),
                ("BANKMKT_COVENANT_STEP_UP_BPS", "30"),
            ]),
        )
        .expect("load");
        assert_eq!(s.quote_expiry, Duration::from_secs(2));
        assert_eq!(
            (s.quote_hurdle_rate_bps, s.covenant_step_up_bps),
            (1_000, 30)
        );
        let err = Settings::load_from(
            None,
            env(&[
                ("BANKMKT_QUOTE_EXPIRY_SECONDS", "0"),
                ("BANKMKT_QUOTE_OPERATIONAL_RISK_RATIO_BPS", "10001"),
            ]),
        )
        .expect_err("out of range");
        assert_eq!(err.problems.len(), 2, "{err}");
    }

    #[test]
    fn file_then_environment_override_in_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bankmkt.toml");
        std::fs::write(
            &path,
            "database_url = \"postgres://file\"\nmax_concurrent_rpcs = 7\n[pricing]\nlisten = \"0.0.0.0:6000\"\n",
        )
        .expect("write");
        let s = Settings::load_from(
            Some(&path),
            env(&[
                ("BANKMKT_MAX_CONCURRENT_RPCS", "9"),
                ("BANKMKT_PRICING_DATABASE_URL", "postgres://own"),
            ]),
        )
        .expect("loads");
        assert_eq!(s.max_concurrent_rpcs, 9);
        assert_eq!(s.service(ServiceKind::Pricing).listen.port(), 6000);
        assert_eq!(s.database_url_for(ServiceKind::Registry), "postgres://file");
        assert_eq!(s.database_url_for(ServiceKind::Pricing), "postgres://own");
    }

    #[test]
    fn every_bad_key_is_reported_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bankmkt.toml");
        std::fs::write(&path, "colour = \"blue\"\nmax_message_bytes = 3\n").expect("write");
        let err = Settings::load_from(
            Some(&path),
            env(&[
                ("BANKMKT_REGISTRY_LISTEN", "not-an-address"),
                ("BANKMKT_LOG_FORMAT", "xml"),
                ("BANKMKT_TIMEZONE", "Mars/Olympus"),
                ("BANKMKT_TEST_DATABASE_URL", "ignored"),
                ("HOME", "/root"),
            ]),
        )
        .expect_err("must fail");
        assert_eq!(err.problems.len(), 5, "{err}");
        let text = err.to_string();
        for needle in [
            "colour",
            "max_message_bytes",
            "BANKMKT_REGISTRY_LISTEN",
            "BANKMKT_LOG_FORMAT",
            "Mars/Olympus",
        ] {
            assert!(text.contains(needle), "{needle} missing from {text}");
        }
    }

    #[test]
    fn holidays_and_makeup_days_are_dates_checked_as_a_calendar() {
        let s = Settings::load_from(
            None,
            env(&[
                ("BANKMKT_HOLIDAYS", "2027-01-01, 2026-10-01,2026-10-01"),
                ("BANKMKT_MAKEUP_WORKDAYS", "2026-10-10"),
            ]),
        )
        .expect("dates load");
        let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day).expect("date");
        assert_eq!(s.holidays, [d(2026, 10, 1), d(2027, 1, 1)]);
        assert_eq!(s.makeup_workdays, [d(2026, 10, 10)]);
        s.validate().expect("a valid calendar");
        let err = Settings::load_from(None, env(&[("BANKMKT_HOLIDAYS", "2027-01-01,1 May")]))
            .expect_err("bad date");
        assert!(err.to_string().contains("`1 May`"), "{err}");
        // A make-up working day must be a weekend day (2026-10-12 is a Monday).
        let s = Settings::load_from(None, env(&[("BANKMKT_MAKEUP_WORKDAYS", "2026-10-12")]))
            .expect("loads");
        assert!(s.validate().is_err());
    }

    #[test]
    fn clock_offset_days_parses_within_bounds() {
        let s = Settings::load_from(None, env(&[])).expect("defaults load");
        assert_eq!(s.clock_offset_days, 0);
        for (raw, days) in [("30", 30), ("-3650", -3650), (" 3650 ", 3650), ("0", 0)] {
            let s = Settings::load_from(None, env(&[("BANKMKT_CLOCK_OFFSET_DAYS", raw)]))
                .unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(s.clock_offset_days, days, "{raw}");
            s.validate().unwrap_or_else(|e| panic!("{raw}: {e}"));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bankmkt.toml");
        std::fs::write(&path, "clock_offset_days = -7\n").expect("write");
        let s = Settings::load_from(Some(&path), env(&[])).expect("file");
        assert_eq!(s.clock_offset_days, -7);
        for raw in ["3651", "-3651", "1.5", "ten", ""] {
            let err = Settings::load_from(None, env(&[("BANKMKT_CLOCK_OFFSET_DAYS", raw)]))
                .expect_err(raw);
            assert_eq!(err.problems.len(), 1, "{raw}: {err}");
            assert!(
                err.problems[0].contains("BANKMKT_CLOCK_OFFSET_DAYS"),
                "{raw}: {err}"
            );
        }
    }

    #[test]
    fn production_refuses_a_clock_offset() {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = |name: &str| dir.path().join(name).display().to_string();
        let production = [
            ("BANKMKT_MODE", "production".to_owned()),
            ("BANKMKT_JWT_SECRET_FILE", key("jwt")),
            ("BANKMKT_PII_KEY_FILE", key("pii.toml")),
        ];
        let with = |offset: &str| {
            let mut pairs: Vec<(String, String)> = production
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect();
            pairs.push(("BANKMKT_CLOCK_OFFSET_DAYS".to_owned(), offset.to_owned()));
            Settings::load_from(None, pairs).expect("loads")
        };
        with("0")
            .validate()
            .expect("no offset in production is fine");
        let err = with("30").validate().expect_err("an offset in production");
        assert_eq!(err.problems.len(), 1, "{err}");
        assert!(err.to_string().contains("clock_offset_days"), "{err}");
        let err = with("-1").validate().expect_err("a negative offset too");
        assert!(err.to_string().contains("clock_offset_days = -1"), "{err}");
        // Embedded mode takes the same offset.
        let s =
            Settings::load_from(None, env(&[("BANKMKT_CLOCK_OFFSET_DAYS", "30")])).expect("loads");
        s.validate().expect("embedded accepts an offset");
    }

    #[test]
    fn production_refuses_to_start_without_keys() {
        let s = Settings::load_from(None, env(&[("BANKMKT_MODE", "production")])).expect("loads");
        let err = s.validate().expect_err("no keys");
        assert!(err.to_string().contains("jwt_secret_file"));
        assert!(err.to_string().contains("pii_key_file"));
        assert_eq!(err.problems.len(), 2, "both missing keys reported at once");
    }
}
