//! Authentication: bearer JWTs in, a typed [`Caller`] out. The [`Authenticator`] verifies tokens
//! with the configured keys (HS256 secret, optionally an RS256 public key) and mints them when it
//! holds the secret (dev tokens, service identity). In embedded mode the HS256 secret is
//! generated into the data dir on first start. A service that calls another forwards the end
//! user's own token in `authorization` and adds its own identity in
//! [`SERVICE_AUTHORIZATION_HEADER`], so access is always decided on the end user.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use bankmkt_domain::org::{BranchCode, BusinessLine, Role};

use crate::settings::{Mode, Settings};

/// Header carrying the calling service's own token on service-to-service calls.
pub const SERVICE_AUTHORIZATION_HEADER: &str = "x-bankmkt-service-authorization";

/// Issuer written into and required from every token.
pub const ISSUER: &str = "bankmkt";

/// The claims of a bankmkt token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Subject: the employee id, or `service:<name>` for a service identity.
    pub sub: String,
    /// Code of the caller's branch in the branch tree.
    pub branch: String,
    /// Business lines the caller works in (`corporate`, `small_business`, `retail`, ...).
    #[serde(default)]
    pub lines: Vec<String>,
    /// Roles (`customer_manager`, `approver`, ... and system roles `core_banking`, `batch`, `service`).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Issuer; always [`ISSUER`].
    pub iss: String,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
}

/// Who is calling, as handlers see it: the end user, plus the service that relayed the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The end user's subject (employee id or system caller name).
    pub subject: String,
    /// The end user's branch; `None` for a system caller with no branch.
    pub branch: Option<BranchCode>,
    /// The end user's business lines.
    pub lines: Vec<BusinessLine>,
    /// The end user's roles.
    pub roles: Vec<Role>,
    /// The service that relayed the call, when it came through one.
    pub via_service: Option<String>,
    /// The end user's raw bearer token, forwarded on onward calls.
    token: Arc<str>,
}

impl Caller {
    /// True when the end user holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// True when the end user works in `line`.
    pub fn in_line(&self, line: BusinessLine) -> bool {
        self.lines.contains(&line)
    }

    /// The end user's bearer token, to forward on a call to another service.
    pub fn bearer_token(&self) -> &str {
        &self.token
    }

    /// Reads the caller that the auth layer attached to a request.
    #[allow(clippy::result_large_err)]
    pub fn from_request<T>(request: &tonic::Request<T>) -> Result<&Caller, tonic::Status> {
        request.extensions().get::<Caller>().ok_or_else(|| {
            tonic::Status::unauthenticated("no authenticated caller on this request")
        })
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `authorization: Bearer ...` header.
    #[error("missing bearer token")]
    Missing,
    /// The token did not verify (signature, expiry, issuer, shape).
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The service identity header did not verify or is not a service.
    #[error("invalid service identity: {0}")]
    InvalidService(String),
    /// Keys could not be loaded or generated.
    #[error("authentication keys: {0}")]
    Keys(String),
}

/// Verifies and (with the secret) mints bankmkt tokens.
#[derive(Clone)]
pub struct Authenticator {
    hs256: Option<(EncodingKey, DecodingKey)>,
    rs256: Option<DecodingKey>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Loads keys as the settings say. Embedded mode generates the HS256 secret on first start;
    /// production mode refuses to start without configured keys.
    pub fn from_settings(settings: &Settings) -> Result<Authenticator, AuthError> {
        let secret_path = settings.jwt_secret_path();
        let secret = match (settings.mode, &settings.jwt_secret_file) {
            (Mode::Embedded, _) => Some(load_or_generate_secret(&secret_path)?),
            (Mode::Production, Some(path)) => Some(read_secret(path)?),
            (Mode::Production, None) => None,
        };
        let rs256 = match &settings.jwt_public_key_file {
            Some(path) => {
                let pem = std::fs::read(path)
                    .map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?;
                Some(
                    DecodingKey::from_rsa_pem(&pem)
                        .map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?,
                )
            }
            None => None,
        };
        if secret.is_none() && rs256.is_none() {
            return Err(AuthError::Keys(
                "no JWT keys configured (jwt_secret_file or jwt_public_key_file)".to_owned(),
            ));
        }
        Ok(Authenticator {
            hs256: secret.map(|s| Authenticator::hs256_keys(&s)),
            rs256,
        })
    }

    /// An authenticator over a known HS256 secret (tests, the CLI).
    pub fn with_secret(secret: &[u8]) -> Authenticator {
        Authenticator {
            hs256: Some(Authenticator::hs256_keys(secret)),
            rs256: None,
        }
    }

    fn hs256_keys(secret: &[u8]) -> (EncodingKey, DecodingKey) {
        (
            EncodingKey::from_secret(secret),
            DecodingKey::from_secret(secret),
        )
    }

    /// Mints a token for `sub` valid for `ttl`. Needs the HS256 secret.
    pub fn mint(
        &self,
        sub: &str,
        branch: &str,
        lines: &[String],
        roles: &[String],
        ttl: Duration,
    ) -> Result<String, AuthError> {
        let (encoding, _) = self
            .hs256
            .as_ref()
            .ok_or_else(|| AuthError::Keys("minting needs the HS256 secret".to_owned()))?;
        let now = unix_now();
        let claims = Claims {
            sub: sub.to_owned(),
            branch: branch.to_owned(),
            lines: lines.to_vec(),
            roles: roles.to_vec(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl.as_secs().max(1),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, encoding)
            .map_err(|e| AuthError::Keys(e.to_string()))
    }

    /// Mints the identity token a service adds to its onward calls.
    pub fn mint_service_token(&self, service: &str, ttl: Duration) -> Result<String, AuthError> {
        self.mint(
            &format!("service:{service}"),
            "",
            &[],
            &["service".to_owned()],
            ttl,
        )
    }

    /// Verifies a raw token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref().map(|(_, d)| d),
            Algorithm::RS256 => self.rs256.as_ref(),
            other => {
                return Err(AuthError::Invalid(format!(
                    "algorithm {other:?} not accepted"
                )));
            }
        }
        .ok_or_else(|| AuthError::Invalid(format!("no key for algorithm {:?}", header.alg)))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map(|data| data.claims)
            .map_err(|e| AuthError::Invalid(e.to_string()))
    }

    /// Authenticates the headers of one request: the end user's bearer token, plus the relaying
    /// service's identity when present.
    pub fn authenticate(&self, headers: &http::HeaderMap) -> Result<Caller, AuthError> {
        let token =
            bearer(headers, http::header::AUTHORIZATION.as_str()).ok_or(AuthError::Missing)?;
        let claims = self.verify(token)?;
        let via_service = match bearer(headers, SERVICE_AUTHORIZATION_HEADER) {
            None => None,
            Some(service_token) => {
                let service = self
                    .verify(service_token)
                    .map_err(|e| AuthError::InvalidService(e.to_string()))?;
                if !service.roles.iter().any(|r| r == "service") {
                    return Err(AuthError::InvalidService(
                        "token lacks the service role".to_owned(),
                    ));
                }
                Some(service.sub)
            }
        };
        let branch = match claims.branch.as_str() {
            "" => None,
            code => Some(BranchCode::parse(code).map_err(|e| AuthError::Invalid(e.to_string()))?),
        };
        let lines = claims
            .lines
            .iter()
            .map(|l| {
                l.parse::<BusinessLine>()
                    .map_err(|e| AuthError::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let roles = claims
            .roles
            .iter()
            .map(|r| {
                r.parse::<Role>()
                    .map_err(|e| AuthError::Invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Caller {
            subject: claims.sub,
            branch,
            lines,
            roles,
            via_service,
            token: Arc::from(token),
        })
    }
}

fn bearer<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    let value = headers.get(name)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn read_secret(path: &Path) -> Result<Vec<u8>, AuthError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?;
    let secret = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| AuthError::Keys(format!("{}: not base64: {e}", path.display())))?;
    if secret.len() < 32 {
        return Err(AuthError::Keys(format!(
            "{}: the HS256 secret must be at least 32 bytes",
            path.display()
        )));
    }
    Ok(secret)
}

/// Reads the HS256 secret at `path`, generating 32 random bytes there (mode 0600) when absent.
pub fn load_or_generate_secret(path: &Path) -> Result<Vec<u8>, AuthError> {
    if path.exists() {
        return read_secret(path);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| AuthError::Keys(format!("{}: {e}", dir.display())))?;
    }
    let secret: [u8; 32] = rand::random();
    let text = base64::engine::general_purpose::STANDARD.encode(secret);
    write_private(path, &text).map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?;
    // Another process may have raced us to create it; whatever is on disk now wins.
    read_secret(path)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => file.write_all(text.as_bytes()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, String)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                http::HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn minted_token_authenticates_with_its_claims() {
        let auth = Authenticator::with_secret(&[7u8; 32]);
        let token = auth
            .mint(
                "e1001",
                "BJ01",
                &["corporate".into()],
                &["approver".into()],
                Duration::from_secs(60),
            )
            .expect("mint");
        let caller = auth
            .authenticate(&headers(&[("authorization", format!("Bearer {token}"))]))
            .expect("valid");
        assert_eq!(caller.subject, "e1001");
        assert_eq!(caller.branch.as_ref().map(|b| b.as_str()), Some("BJ01"));
        assert!(caller.has_role(Role::Approver));
        assert!(!caller.has_role(Role::Admin));
        assert!(caller.in_line(BusinessLine::Corporate));
        assert_eq!(caller.via_service, None);
        assert_eq!(caller.bearer_token(), token);
    }

    #[test]
    fn wrong_secret_missing_and_garbage_are_refused() {
        let auth = Authenticator::with_secret(&[7u8; 32]);
        let other = Authenticator::with_secret(&[8u8; 32]);
        let token = other
            .mint("e1", "HQ", &[], &[], Duration::from_secs(60))
            .expect("mint");
        assert!(matches!(
            auth.authenticate(&headers(&[("authorization", format!("Bearer {token}"))])),
            Err(AuthError::Invalid(_))
        ));
        assert!(matches!(
            auth.authenticate(&headers(&[])),
            Err(AuthError::Missing)
        ));
        assert!(matches!(
            auth.authenticate(&headers(&[("authorization", "Bearer abc.def".into())])),
            Err(AuthError::Invalid(_))
        ));
    }

    #[test]
    fn service_identity_is_added_to_the_end_user() {
        let auth = Authenticator::with_secret(&[9u8; 32]);
        let user = auth
            .mint(
                "e7",
                "SH01",
                &[],
                &["customer_manager".into()],
                Duration::from_secs(60),
            )
            .expect("mint");
        let svc = auth
            .mint_service_token("coordination", Duration::from_secs(60))
            .expect("mint");
        let caller = auth
            .authenticate(&headers(&[
                ("authorization", format!("Bearer {user}")),
                (SERVICE_AUTHORIZATION_HEADER, format!("Bearer {svc}")),
            ]))
            .expect("valid");
        assert_eq!(caller.subject, "e7");
        assert_eq!(caller.via_service.as_deref(), Some("service:coordination"));
        // A user token passed off as a service identity is refused.
        let err = auth
            .authenticate(&headers(&[
                ("authorization", format!("Bearer {user}")),
                (SERVICE_AUTHORIZATION_HEADER, format!("Bearer {user}")),
            ]))
            .expect_err("not a service");
        assert!(matches!(err, AuthError::InvalidService(_)));
    }

    #[test]
    fn unknown_roles_and_lines_are_refused() {
        let auth = Authenticator::with_secret(&[7u8; 32]);
        for (lines, roles) in [
            (vec![], vec!["wizard".to_owned()]),
            (vec!["astrology".to_owned()], vec![]),
        ] {
            let token = auth
                .mint("e1", "HQ", &lines, &roles, Duration::from_secs(60))
                .expect("mint");
            let err = auth
                .authenticate(&headers(&[("authorization", format!("Bearer {token}"))]))
                .expect_err("unknown code");
            assert!(matches!(err, AuthError::Invalid(_)), "{err}");
        }
    }

    #[test]
    fn embedded_secret_is_generated_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/jwt-secret");
        let first = load_or_generate_secret(&path).expect("generate");
        let second = load_or_generate_secret(&path).expect("reuse");
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
    }
}
