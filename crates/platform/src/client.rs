//! Outbound gRPC from one service (or the gateway) to another. [`lazy_channel`] opens a channel
//! that connects on first use, and [`ServiceIdentity::request`] wraps a message so the call carries
//! the end user's own bearer token, the calling service's identity token and the current trace
//! context. Access is then decided on the end user, so a relaying service never widens what a user
//! may see.

use std::sync::Arc;
use std::time::Duration;

use tonic::transport::{Channel, Endpoint};

use crate::auth::{AuthError, Authenticator, Caller, SERVICE_AUTHORIZATION_HEADER};

/// A channel to `url` that connects lazily, with a connect timeout and per-call timeout.
pub fn lazy_channel(url: &str, call_timeout: Duration) -> Result<Channel, tonic::transport::Error> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(3))
        .timeout(call_timeout)
        .connect_lazy())
}

/// The identity a service adds to its onward calls.
#[derive(Clone, Debug)]
pub struct ServiceIdentity {
    name: &'static str,
    authenticator: Arc<Authenticator>,
}

impl ServiceIdentity {
    /// The identity of service `name`, signed by `authenticator`.
    pub fn new(name: &'static str, authenticator: Arc<Authenticator>) -> ServiceIdentity {
        ServiceIdentity {
            name,
            authenticator,
        }
    }

    /// Wraps `message` for an onward call made on behalf of `caller`.
    pub fn request<T>(&self, caller: &Caller, message: T) -> Result<tonic::Request<T>, AuthError> {
        let service_token = self
            .authenticator
            .mint_service_token(self.name, Duration::from_secs(300))?;
        let mut request = tonic::Request::new(message);
        let mut headers = http::HeaderMap::new();
        crate::telemetry::inject_current_context(&mut headers);
        let metadata = request.metadata_mut();
        for (name, value) in headers.iter() {
            if let (Ok(key), Ok(value)) = (
                tonic::metadata::MetadataKey::from_bytes(name.as_str().as_bytes()),
                tonic::metadata::MetadataValue::try_from(value.as_bytes()),
            ) {
                metadata.insert(key, value);
            }
        }
        insert_bearer(metadata, "authorization", caller.bearer_token())?;
        insert_bearer(metadata, SERVICE_AUTHORIZATION_HEADER, &service_token)?;
        Ok(request)
    }
}

/// Puts `Bearer <token>` under `key`.
pub fn insert_bearer(
    metadata: &mut tonic::metadata::MetadataMap,
    key: &'static str,
    token: &str,
) -> Result<(), AuthError> {
    let value = format!("Bearer {token}")
        .parse()
        .map_err(|_| AuthError::Invalid("token is not a valid header value".to_owned()))?;
    metadata.insert(key, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bankmkt_domain::org::Role;

    #[test]
    fn a_relayed_call_carries_the_end_user_and_adds_the_service() {
        let authenticator = Arc::new(Authenticator::with_secret(&[3u8; 32]));
        let user_token = authenticator
            .mint(
                "e42",
                "SH01",
                &["retail".to_owned()],
                &["customer_manager".to_owned()],
                Duration::from_secs(60),
            )
            .expect("mint");
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {user_token}").parse().expect("value"),
        );
        let user = authenticator.authenticate(&headers).expect("user");

        let identity = ServiceIdentity::new("coordination", authenticator.clone());
        let request = identity.request(&user, ()).expect("request");
        let relayed = authenticator
            .authenticate(&request.metadata().clone().into_headers())
            .expect("the receiving service accepts the relayed call");
        assert_eq!(relayed.subject, "e42", "access is decided on the end user");
        assert_eq!(
            relayed.roles,
            vec![Role::CustomerManager],
            "the service cannot widen the user's roles"
        );
        assert_eq!(relayed.via_service.as_deref(), Some("service:coordination"));
    }
}
