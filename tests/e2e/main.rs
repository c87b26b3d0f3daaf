//! End-to-end tests, one binary: the real suite on port 0 (see `bankmkt_e2e::TestSuite`), called
//! over gRPC and HTTP like any client would.

mod gateway;
mod limits;
mod otlp;
mod ports;
mod registry_org;
mod slow;
