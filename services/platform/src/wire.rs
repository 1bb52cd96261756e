//! Strict at the wire: what reaches a handler is exactly one well-formed gRPC request, or the
//! caller is told what is wrong with a status it does not retry. Every service's server runs
//! behind [`StrictWire`]:
//! - a request whose content type is not gRPC is answered HTTP 415 (as the gRPC spec asks), and
//!   one in another message encoding than protobuf (`application/grpc+json`) `INVALID_ARGUMENT`;
//! - the request body's length-prefixed messages are checked as they arrive: a message flagged
//!   compressed on a call that names no `grpc-encoding`, an unknown flag, a body that ends
//!   inside a message, and a unary call with no message or more than one are `INVALID_ARGUMENT`
//!   (tonic would say `INTERNAL`, or read the first message and drop the rest);
//! - a message that does not decode is `INVALID_ARGUMENT` too (`sentinel_contract::codec`).

use std::{
    collections::HashSet,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http_body::{Body as HttpBody, Frame};
use prost::Message;
use tonic::{
    Status,
    body::Body,
    codegen::{Bytes, Service, http},
};

/// The layer: knows which methods take one request message.
#[derive(Debug, Clone)]
pub struct StrictWire {
    unary: Arc<HashSet<String>>,
}

impl StrictWire {
    /// For the methods of `descriptor_set` (an encoded `FileDescriptorSet`) and the health
    /// check.
    pub fn new(descriptor_set: &[u8]) -> Self {
        let mut unary: HashSet<String> = HashSet::from(["/grpc.health.v1.Health/Check".to_owned()]);
        if let Ok(set) = prost_types::FileDescriptorSet::decode(descriptor_set) {
            for file in &set.file {
                for service in &file.service {
                    for method in service.method.iter().filter(|m| !m.client_streaming()) {
                        unary.insert(format!(
                            "/{}.{}/{}",
                            file.package(),
                            service.name(),
                            method.name()
                        ));
                    }
                }
            }
        }
        StrictWire {
            unary: Arc::new(unary),
        }
    }
}

impl<S> tower_layer::Layer<S> for StrictWire {
    type Service = Strict<S>;

    fn layer(&self, inner: S) -> Strict<S> {
        Strict {
            inner,
            unary: self.unary.clone(),
        }
    }
}

/// A server behind [`StrictWire`].
#[derive(Debug, Clone)]
pub struct Strict<S> {
    inner: S,
    unary: Arc<HashSet<String>>,
}

type Answer<E> = Pin<Box<dyn Future<Output = Result<http::Response<Body>, E>> + Send>>;

impl<S> Service<http::Request<Body>> for Strict<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Answer<S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        if let Some(refusal) = content_type_refusal(request.headers()) {
            return Box::pin(std::future::ready(Ok(refusal)));
        }
        let unary = self.unary.contains(request.uri().path());
        let encoded = request
            .headers()
            .get("grpc-encoding")
            .is_some_and(|e| e.as_bytes() != b"identity");
        let request = request.map(|body| Body::new(Framed::new(body, unary, encoded)));
        Box::pin(self.inner.call(request))
    }
}

/// The answer to a request that is not gRPC in protobuf, if it is not.
fn content_type_refusal(headers: &http::HeaderMap) -> Option<http::Response<Body>> {
    let content_type = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    match media.strip_prefix("application/grpc") {
        Some("" | "+proto") => None,
        Some(other) if other.starts_with('+') => Some(
            Status::invalid_argument(format!(
                "messages are encoded as protobuf here (application/grpc or application/grpc+proto), not {}",
                &other[1..]
            ))
            .into_http(),
        ),
        _ => {
            let mut answer: http::Response<Body> = Status::invalid_argument(
                "this is a gRPC server: send content-type application/grpc",
            )
            .into_http();
            *answer.status_mut() = http::StatusCode::UNSUPPORTED_MEDIA_TYPE;
            Some(answer)
        }
    }
}

/// Where the scan of the length-prefixed messages is.
#[derive(Debug, Clone, Copy)]
enum At {
    /// Inside a 5-byte message header, this many bytes read.
    Header(usize),
    /// Inside a message, this many bytes still to come.
    Payload(u64),
}

/// A request body whose message framing is checked as it passes.
struct Framed {
    inner: Body,
    unary: bool,
    encoded: bool,
    at: At,
    header: [u8; 5],
    messages: u32,
    done: bool,
}

impl Framed {
    fn new(inner: Body, unary: bool, encoded: bool) -> Self {
        Framed {
            inner,
            unary,
            encoded,
            at: At::Header(0),
            header: [0; 5],
            messages: 0,
            done: false,
        }
    }

    /// Follows the framing through `data`.
    fn scan(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            match self.at {
                At::Payload(left) => {
                    let skip = usize::try_from(left).unwrap_or(usize::MAX).min(data.len());
                    data = &data[skip..];
                    self.at = match left - skip as u64 {
                        0 => At::Header(0),
                        rest => At::Payload(rest),
                    };
                }
                At::Header(read) => {
                    let take = (5 - read).min(data.len());
                    self.header[read..read + take].copy_from_slice(&data[..take]);
                    data = &data[take..];
                    self.at = At::Header(read + take);
                    if read + take == 5 {
                        self.at = self.message_begins()?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A whole header was read: what it says, if it may be said.
    fn message_begins(&mut self) -> Result<At, Status> {
        match self.header[0] {
            0 => {}
            1 if self.encoded => {}
            1 => {
                return Err(Status::invalid_argument(
                    "a message is flagged compressed but the call names no grpc-encoding",
                ));
            }
            flag => {
                return Err(Status::invalid_argument(format!(
                    "a message carries the compression flag {flag}; only 0 and 1 exist"
                )));
            }
        }
        self.messages += 1;
        if self.unary && self.messages > 1 {
            return Err(Status::invalid_argument(
                "this call takes exactly one request message; more than one was sent",
            ));
        }
        let len = u32::from_be_bytes([
            self.header[1],
            self.header[2],
            self.header[3],
            self.header[4],
        ]);
        Ok(match len {
            0 => At::Header(0),
            len => At::Payload(u64::from(len)),
        })
    }

    /// The body ended: it must not end inside a message, and a unary call must have had one.
    fn finish(&self) -> Result<(), Status> {
        if !matches!(self.at, At::Header(0)) {
            return Err(Status::invalid_argument(
                "the request ends inside a message (it was cut short)",
            ));
        }
        if self.unary && self.messages == 0 {
            return Err(Status::invalid_argument(
                "this call takes exactly one request message; none was sent",
            ));
        }
        Ok(())
    }
}

impl HttpBody for Framed {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        let Poll::Ready(next) = polled else {
            return Poll::Pending;
        };
        let checked = match next {
            Some(Ok(frame)) => match frame.data_ref().map(|data| self.scan(data)) {
                Some(Err(status)) => Some(Err(status)),
                _ => Some(Ok(frame)),
            },
            Some(Err(status)) => Some(Err(status)),
            None => self.finish().err().map(Err),
        };
        if !matches!(checked, Some(Ok(_))) {
            self.done = true;
        }
        Poll::Ready(checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(unary: bool) -> Framed {
        Framed::new(Body::empty(), unary, false)
    }

    fn message(flag: u8, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![flag];
        bytes.extend((payload.len() as u32).to_be_bytes());
        bytes.extend(payload);
        bytes
    }

    #[test]
    fn whole_messages_in_any_chunks_pass() {
        let mut stream = framed(false);
        let bytes = [message(0, b"abc"), message(0, b""), message(0, &[7; 300])].concat();
        for chunk in bytes.chunks(2) {
            stream.scan(chunk).unwrap();
        }
        assert!(stream.finish().is_ok());
        assert_eq!(stream.messages, 3);
    }

    #[test]
    fn a_unary_call_takes_exactly_one_message() {
        let mut call = framed(true);
        assert!(call.finish().is_err());
        call.scan(&message(0, b"one")).unwrap();
        assert!(call.finish().is_ok());
        let err = call.scan(&message(0, b"two")).unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn flags_and_truncation_are_invalid_arguments() {
        assert!(framed(false).scan(&message(1, b"x")).is_err());
        assert!(
            Framed::new(Body::empty(), false, true)
                .scan(&message(1, b"x"))
                .is_ok()
        );
        assert!(framed(false).scan(&message(2, b"x")).is_err());
        let mut cut = framed(false);
        cut.scan(&message(0, b"abcdef")[..7]).unwrap();
        assert_eq!(
            cut.finish().unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
    }

    #[test]
    fn only_protobuf_grpc_content_types_pass() {
        let with = |value: &str| {
            let mut headers = http::HeaderMap::new();
            headers.insert(http::header::CONTENT_TYPE, value.parse().unwrap());
            content_type_refusal(&headers)
        };
        assert!(with("application/grpc").is_none());
        assert!(with("application/grpc+proto").is_none());
        let json = with("application/grpc+json").unwrap();
        assert_eq!(json.headers()["grpc-status"], "3");
        assert_eq!(with("application/json").unwrap().status(), 415);
        assert!(content_type_refusal(&http::HeaderMap::new()).is_some());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// However a stream of whole messages is cut into chunks, it passes and every message
        /// is counted; cut anywhere inside a message, it is refused at its end.
        #[test]
        fn framing_is_followed_across_any_chunks(
            payloads in proptest::collection::vec(proptest::collection::vec(0u8..=255, 0..40), 1..6),
            cuts in proptest::collection::vec(1usize..20, 1..40),
            lose in 1usize..5,
        ) {
            let bytes: Vec<u8> = payloads.iter().flat_map(|p| message(0, p)).collect();
            let mut whole = framed(false);
            let mut rest = &bytes[..];
            for cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (chunk, tail) = rest.split_at((*cut).min(rest.len()));
                whole.scan(chunk).unwrap();
                rest = tail;
            }
            proptest::prop_assert!(whole.finish().is_ok());
            proptest::prop_assert_eq!(whole.messages as usize, payloads.len());

            let mut cut_short = framed(false);
            cut_short.scan(&bytes[..bytes.len().saturating_sub(lose)]).unwrap();
            // Every message is at least its 5-byte header, so losing 1–4 bytes cuts into one.
            proptest::prop_assert!(cut_short.finish().is_err());
        }
    }

    #[test]
    fn the_unary_methods_come_from_the_contracts() {
        let wire = StrictWire::new(sentinel_contract::FILE_DESCRIPTOR_SET);
        assert!(
            wire.unary
                .contains("/sentinel.ingestion.v1.ReadingIngestion/Ingest")
        );
        assert!(
            wire.unary
                .contains("/sentinel.rules.v1.ClinicalRules/WatchAlerts")
        );
        assert!(
            !wire
                .unary
                .contains("/sentinel.ingestion.v1.ReadingIngestion/IngestStream")
        );
    }
}
