//! Sentinel's gRPC contracts: the generated messages, clients and servers of every
//! `proto/sentinel/<service>/v1` package, and the encoded descriptor set that server
//! reflection publishes.

#![allow(missing_debug_implementations)] // generated code

/// The encoded `FileDescriptorSet` of every Sentinel proto, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/sentinel_descriptor.bin"));

pub mod codec;

pub mod common {
    pub mod v1 {
        #![allow(clippy::all)] // generated code
        tonic::include_proto!("sentinel.common.v1");
    }
}
pub mod registry {
    pub mod v1 {
        #![allow(clippy::all)] // generated code
        tonic::include_proto!("sentinel.registry.v1");
    }
}
pub mod ingestion {
    pub mod v1 {
        #![allow(clippy::all)] // generated code
        tonic::include_proto!("sentinel.ingestion.v1");
    }
}
pub mod rules {
    pub mod v1 {
        #![allow(clippy::all)] // generated code
        tonic::include_proto!("sentinel.rules.v1");
    }
}
pub mod audit {
    pub mod v1 {
        #![allow(clippy::all)] // generated code
        tonic::include_proto!("sentinel.audit.v1");
    }
}

/// Fully qualified gRPC service names, as health checks and reflection know them.
pub mod service_names {
    pub const DEVICE_REGISTRY: &str = "sentinel.registry.v1.DeviceRegistry";
    pub const READING_INGESTION: &str = "sentinel.ingestion.v1.ReadingIngestion";
    pub const CLINICAL_RULES: &str = "sentinel.rules.v1.ClinicalRules";
    pub const AUDIT_LOG: &str = "sentinel.audit.v1.AuditLog";
}
