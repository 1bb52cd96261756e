//! Steps of requests as a broken or hostile client sends them, byte by byte.

use cucumber::{then, when};
use sentinel_contract::ingestion::v1 as pb;
use sentinel_testkit::{
    readings::loinc,
    wire::{frame, framed, send},
};

use super::rules::suite;
use crate::world::SuiteWorld;

const INGEST: &str = "/sentinel.ingestion.v1.ReadingIngestion/Ingest";

/// A well-formed batch of one temperature of device `device`, observed at `observed_at`.
fn batch(device: &str, observed_at: prost_types::Timestamp) -> pb::IngestRequest {
    let observed = sentinel_platform::time::from_timestamp(&observed_at);
    let mut reading = loinc(device, "1", ("8310-5", 37.2, "Cel"), observed);
    // Kept as given, even where no clock could show it.
    reading.observed_at = Some(observed_at);
    pb::IngestRequest {
        batch_id: "wire-1".into(),
        readings: vec![reading],
    }
}

fn now() -> prost_types::Timestamp {
    sentinel_platform::time::to_timestamp(sentinel_platform::time::now_micros())
}

/// The body of a request `malformation` describes.
fn malformed(device: &str, malformation: &str) -> Vec<u8> {
    let good = framed(&batch(device, now()));
    let at = |seconds, nanos| framed(&batch(device, prost_types::Timestamp { seconds, nanos }));
    match malformation {
        // Field 1 (batch_id, a string) sent as a varint.
        "whose message has a field of the wrong wire type" => frame(0, &[0x08, 0x01]),
        "whose message is cut short" => good[..good.len() - 3].to_vec(),
        "whose string field is not UTF-8" => frame(0, &[0x0a, 0x02, 0xff, 0xfe]),
        "flagged compressed without a grpc-encoding" => {
            let mut flagged = good;
            flagged[0] = 1;
            flagged
        }
        "with two messages" => [good.clone(), good].concat(),
        "with no message" => Vec::new(),
        "whose reading's time has 2000000000 nanos" => at(now().seconds, 2_000_000_000),
        "whose reading's time is in the year 10000" => at(253_402_300_800, 0),
        other => panic!("no malformation {other:?} in these scenarios"),
    }
}

fn credential(world: &SuiteWorld, name: &str) -> (String, Vec<(&'static str, String)>) {
    let device = world.registry.devices[name].clone();
    let bearer = format!("Bearer {}", world.registry.credentials[name].1);
    (device, vec![("authorization", bearer)])
}

#[when(regex = r#"^device "([^"]+)" sends Ingest a request (.+)$"#)]
async fn sends_malformed(world: &mut SuiteWorld, name: String, malformation: String) {
    let (device, headers) = credential(world, &name);
    let body = malformed(&device, &malformation);
    let channel = suite(world).channel().await;
    world.wire = Some(send(&channel, INGEST, "application/grpc", &headers, body).await);
}

#[when(expr = "device {string} sends Ingest a well-formed request as {string}")]
async fn sends_as(world: &mut SuiteWorld, name: String, content_type: String) {
    let (device, headers) = credential(world, &name);
    let body = framed(&batch(&device, now()));
    let channel = suite(world).channel().await;
    world.wire = Some(send(&channel, INGEST, &content_type, &headers, body).await);
}

#[then(expr = "the answer is INVALID_ARGUMENT saying {string}")]
async fn invalid_saying(world: &mut SuiteWorld, says: String) {
    let answer = world.wire.take().expect("an answer");
    let status = answer.grpc.expect("a gRPC status");
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains(&says), "{status:?}");
}

#[then(regex = r"^the answer is HTTP (\d+) with gRPC status ([A-Z_]+)$")]
async fn http_and_grpc(world: &mut SuiteWorld, http: u16, code: String) {
    let answer = world.wire.take().expect("an answer");
    assert_eq!(answer.http.as_u16(), http, "{answer:?}");
    let got = answer
        .grpc
        .as_ref()
        .map_or(tonic::Code::Ok, tonic::Status::code);
    assert_eq!(
        format!("{got:?}").to_uppercase(),
        code.replace('_', ""),
        "{answer:?}"
    );
}
