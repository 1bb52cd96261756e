//! A server-reflection client, as grpcurl uses one: list the services, fetch a contract.

use std::net::SocketAddr;

use tokio_stream::StreamExt;
use tonic::transport::{Channel, Endpoint};
use tonic_reflection::pb::{v1, v1alpha};

/// The reflection protocol version a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    /// grpcurl 1.8 and many installed clients speak only v1alpha.
    V1Alpha,
}

impl std::str::FromStr for Version {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "v1" => Ok(Version::V1),
            "v1alpha" => Ok(Version::V1Alpha),
            other => Err(format!("unknown reflection version {other}")),
        }
    }
}

/// Asks the reflection service of protocol module `$pb` (v1 and v1alpha generate the same
/// types in different packages) one question and returns the one answer.
macro_rules! ask {
    ($pb:ident, $channel:expr, $request:expr) => {{
        use $pb::{ServerReflectionRequest, server_reflection_client::ServerReflectionClient};
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some($request),
        };
        let mut answers = ServerReflectionClient::new($channel)
            .server_reflection_info(tokio_stream::iter([request]))
            .await?
            .into_inner();
        answers
            .next()
            .await
            .ok_or_else(|| tonic::Status::unknown("reflection sent no answer"))??
            .message_response
    }};
}

async fn channel(addr: SocketAddr) -> Result<Channel, tonic::Status> {
    Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))
}

/// The service names reflection at `addr` lists, sorted.
pub async fn list_services(
    addr: SocketAddr,
    version: Version,
) -> Result<Vec<String>, tonic::Status> {
    let channel = channel(addr).await?;
    let mut names: Vec<String> = match version {
        Version::V1 => {
            use v1::{
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse,
            };
            match ask!(v1, channel, MessageRequest::ListServices(String::new())) {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect()
                }
                other => return Err(unexpected(&other)),
            }
        }
        Version::V1Alpha => {
            use v1alpha::{
                server_reflection_request::MessageRequest,
                server_reflection_response::MessageResponse,
            };
            match ask!(
                v1alpha,
                channel,
                MessageRequest::ListServices(String::new())
            ) {
                Some(MessageResponse::ListServicesResponse(list)) => {
                    list.service.into_iter().map(|s| s.name).collect()
                }
                other => return Err(unexpected(&other)),
            }
        }
    };
    names.sort();
    Ok(names)
}

/// The names of the proto files reflection (v1) returns for `symbol`: the defining file first,
/// then its dependencies.
pub async fn files_containing(
    addr: SocketAddr,
    symbol: &str,
) -> Result<Vec<String>, tonic::Status> {
    use prost::Message;
    use v1::{
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let channel = channel(addr).await?;
    match ask!(
        v1,
        channel,
        MessageRequest::FileContainingSymbol(symbol.to_owned())
    ) {
        Some(MessageResponse::FileDescriptorResponse(files)) => files
            .file_descriptor_proto
            .iter()
            .map(|bytes| {
                prost_types::FileDescriptorProto::decode(bytes.as_slice())
                    .map(|file| file.name().to_owned())
                    .map_err(|e| tonic::Status::internal(e.to_string()))
            })
            .collect(),
        Some(MessageResponse::ErrorResponse(err)) => {
            Err(tonic::Status::new(err.error_code.into(), err.error_message))
        }
        other => Err(unexpected(&other)),
    }
}

fn unexpected(answer: &impl std::fmt::Debug) -> tonic::Status {
    tonic::Status::unknown(format!("unexpected reflection answer: {answer:?}"))
}
