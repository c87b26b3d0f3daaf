//! The trail of a write — its audit entry and outbox event on the write's own transaction — is
//! the platform's [`bankmkt_platform::trail`]; this module names it for the service's writers.

pub use bankmkt_platform::trail::{Change, record};
