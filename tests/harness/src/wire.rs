//! Requests as a broken or hostile client sends them: raw HTTP/2 to a gRPC path with whatever
//! content type, flags and bytes a test chooses, and the answer as the HTTP status and the gRPC
//! status (from the headers of a trailers-only answer, else from the trailers).

use http_body_util::{BodyExt, Full};
use prost::Message;
use tonic::{
    Status,
    body::Body,
    codegen::{Bytes, Service, http},
    transport::Channel,
};

/// A gRPC message as it travels: flag, 4-byte big-endian length, bytes.
pub fn frame(flag: u8, message: &[u8]) -> Vec<u8> {
    let mut framed = vec![flag];
    framed.extend(u32::try_from(message.len()).expect("small").to_be_bytes());
    framed.extend(message);
    framed
}

/// `message` framed uncompressed.
pub fn framed<M: Message>(message: &M) -> Vec<u8> {
    frame(0, &message.encode_to_vec())
}

/// What came back: the HTTP status and the gRPC status, if any.
#[derive(Debug)]
pub struct Answer {
    pub http: http::StatusCode,
    pub grpc: Option<Status>,
}

/// Sends `body` to `path` with `content_type` and the extra `headers`.
pub async fn send(
    channel: &Channel,
    path: &str,
    content_type: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
) -> Answer {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(format!("http://localhost{path}"))
        .header("content-type", content_type)
        .header("te", "trailers");
    for (name, value) in headers {
        builder = builder.header(*name, value);
    }
    let request = builder
        .body(Body::new(Full::new(Bytes::from(body))))
        .expect("a request");
    let mut channel = channel.clone();
    std::future::poll_fn(|cx| channel.poll_ready(cx))
        .await
        .expect("the channel is ready");
    let response = channel.call(request).await.expect("an HTTP answer");
    let http = response.status();
    let from_headers = Status::from_header_map(response.headers());
    let grpc = match from_headers {
        Some(status) => Some(status),
        None => {
            let collected = response.into_body().collect().await.expect("the body");
            collected.trailers().and_then(Status::from_header_map)
        }
    };
    Answer { http, grpc }
}
