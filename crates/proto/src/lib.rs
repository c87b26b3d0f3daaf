//! The `bankmkt.v1` contracts as Rust: the prost messages and tonic clients/servers generated from
//! `proto/bankmkt/v1/*.proto`, plus the encoded descriptor set that each service's reflection
//! endpoint serves. Conversions between these wire types and `bankmkt-domain` types live here too,
//! so every service converts at its edge the same way.
#![allow(missing_docs)] // generated code carries the proto comments; conversions are documented below.

/// Package `bankmkt.v1`: every message, enum, client and server of the v1 contracts.
pub mod wire;

pub mod v1 {
    #![allow(clippy::all, clippy::pedantic)]
    tonic::include_proto!("bankmkt.v1");
}

/// The encoded `FileDescriptorSet` of every `bankmkt.v1` file, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/bankmkt_v1_descriptor.bin"));

/// Fully-qualified gRPC service names, as reflection and health report them.
pub mod service_names {
    /// `bankmkt.v1.CustomerRegistry`
    pub const CUSTOMER_REGISTRY: &str = "bankmkt.v1.CustomerRegistry";
    /// `bankmkt.v1.Pricing`
    pub const PRICING: &str = "bankmkt.v1.Pricing";
    /// `bankmkt.v1.Coordination`
    pub const COORDINATION: &str = "bankmkt.v1.Coordination";
    /// `bankmkt.v1.Attribution`
    pub const ATTRIBUTION: &str = "bankmkt.v1.Attribution";
}
