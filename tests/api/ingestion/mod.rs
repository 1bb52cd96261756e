//! Reading ingestion through the gRPC API, on SQLite and PostgreSQL.

use sentinel_contract::{common::v1 as common, ingestion::v1 as pb, registry::v1 as registry};
use sentinel_platform::ServiceKind;
use sentinel_testkit::stores;
use sentinel_testkit::{
    Authed, StoreKind, TestSuite,
    registry::{admin, issue, patient, register, register_bound, spec},
};
use tonic::Code;

type Ingestion = pb::reading_ingestion_client::ReadingIngestionClient<Authed>;

const ALL: [ServiceKind; 4] = ServiceKind::ALL;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

use sentinel_testkit::registry::at;

fn loinc(code: &str) -> Option<common::Coding> {
    Some(common::Coding {
        system: "http://loinc.org".into(),
        code: code.into(),
        display: String::new(),
    })
}

fn reading(
    device: &str,
    sequence: &str,
    code: &str,
    value: f64,
    unit: &str,
    observed: i64,
) -> pb::ReadingInput {
    pb::ReadingInput {
        device_id: device.into(),
        sequence: sequence.into(),
        observed_at: at(observed),
        code: loinc(code),
        value: Some(common::Quantity {
            value,
            unit: unit.into(),
        }),
        ..Default::default()
    }
}

mod abuse;
mod payloads;
mod stream;

/// A suite with a registered device bound to patient `pt-1` for the last hour on, and a
/// client holding the device's own credential.
async fn setup(store: StoreKind) -> (TestSuite, String, Ingestion) {
    let suite = TestSuite::start(store, &ALL).await;
    let (device, client) = device_client(&suite).await;
    (suite, device, client)
}

/// Registers a device bound to `pt-1` for the last hour on in `suite`; a client holding its
/// own credential.
async fn device_client(suite: &TestSuite) -> (String, Ingestion) {
    let mut admin = admin(suite).await;
    let device = register_bound(&mut admin, spec("SN-ING"), "pt-1", 3_600_000_000).await;
    let (_, secret) = issue(
        &mut admin,
        registry::PrincipalKind::Device,
        &device,
        &["device"],
    )
    .await;
    let client = suite.ingestion_as(&secret).await;
    (device, client)
}

async fn ingest(
    client: &mut Ingestion,
    batch: &str,
    readings: Vec<pb::ReadingInput>,
) -> pb::IngestResponse {
    client
        .ingest(pb::IngestRequest {
            batch_id: batch.into(),
            readings,
        })
        .await
        .expect("ingest")
        .into_inner()
}

#[tokio::test]
async fn a_batch_is_accepted_reading_by_reading_normalised_and_attributed() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        let response = ingest(
            &mut client,
            "batch-1",
            vec![
                reading(&device, "1", "8310-5", 100.4, "[degF]", t),
                reading(&device, "2", "2339-0", 3.0, "mmol/L", t),
                reading(&device, "3", "2339-0", 5.5, "Cel", t),
                reading(&device, "4", "59408-5", 120.0, "%", t),
                reading("dev-unknown", "5", "8867-4", 70.0, "/min", t),
            ],
        )
        .await;
        assert_eq!(
            (response.accepted, response.rejected),
            (2, 3),
            "{}",
            store.name()
        );
        let fields: Vec<Vec<String>> = response
            .results
            .iter()
            .map(|r| r.violations.iter().map(|v| v.field.clone()).collect())
            .collect();
        assert_eq!(fields[2], ["readings[2].value.unit"]);
        assert_eq!(fields[3], ["readings[3].value.value"]);
        assert_eq!(fields[4], ["readings[4].device_id"]);

        let mut staff = suite.ingestion_as(&suite.admin_token()).await;
        let temperature = staff
            .get_reading(pb::GetReadingRequest {
                id: response.results[0].reading_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let value = temperature.value.unwrap();
        assert!((value.value - 38.0).abs() < 1e-9 && value.unit == "Cel");
        assert_eq!(temperature.original.unwrap().unit, "[degF]");
        assert_eq!(temperature.patient.unwrap().value, "pt-1");
        let glucose = staff
            .get_reading(pb::GetReadingRequest {
                id: response.results[1].reading_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!((glucose.value.unwrap().value - 54.0468).abs() < 1e-6);

        let by_patient = staff
            .list_readings(pb::ListReadingsRequest {
                patient: patient("pt-1"),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(by_patient.readings.len(), 2);

        // Audited once for the batch, with its counts.
        let audited = sentinel_testkit::audit::about(&suite, "batch-1").await;
        assert_eq!(audited.len(), 1);
        assert_eq!(audited[0].action, "readings.accepted");
        assert_eq!(
            audited[0].detail.get("accepted").map(String::as_str),
            Some("2")
        );
        assert_eq!(
            audited[0].detail.get("rejected").map(String::as_str),
            Some("3")
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn a_retried_batch_stores_nothing_twice() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        let batch = || {
            vec![
                reading(&device, "10", "8867-4", 70.0, "/min", t),
                reading(&device, "11", "8867-4", 72.0, "/min", t),
            ]
        };
        let first = ingest(&mut client, "b", batch()).await;
        let again = ingest(&mut client, "b", batch()).await;
        assert!(first.results.iter().all(|r| r.accepted && !r.duplicate));
        assert!(
            again.results.iter().all(|r| r.accepted && r.duplicate),
            "{}",
            store.name()
        );
        let ids = |r: &pb::IngestResponse| {
            r.results
                .iter()
                .map(|r| r.reading_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&first), ids(&again));
        let mut staff = suite.ingestion_as(&suite.admin_token()).await;
        let stored = staff
            .list_readings(pb::ListReadingsRequest {
                device_id: device,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stored.readings.len(), 2);
        suite.stop().await;
    }
}

#[tokio::test]
async fn readings_of_an_unbound_device_are_stored_unattributed_and_callers_act_only_for_their_devices()
 {
    let (suite, device, mut client) = setup(StoreKind::Sqlite).await;
    let mut admin = admin(&suite).await;
    let other = register(&mut admin, "SN-OTHER").await.id;
    let t = now() - 60_000_000;
    let response = ingest(
        &mut client,
        "b2",
        vec![reading(&other, "1", "8867-4", 70.0, "/min", t)],
    )
    .await;
    assert_eq!(
        response.results[0].violations[0].field,
        "readings[0].device_id"
    );
    // An integrator may submit for any device; the other device is bound to nobody.
    let (_, integrator) = issue(
        &mut admin,
        registry::PrincipalKind::User,
        "int-1",
        &["integrator"],
    )
    .await;
    let mut integrator = suite.ingestion_as(&integrator).await;
    let response = ingest(
        &mut integrator,
        "b3",
        vec![reading(&other, "1", "8867-4", 70.0, "/min", t)],
    )
    .await;
    assert_eq!(response.accepted, 1);
    let stored = integrator
        .get_reading(pb::GetReadingRequest {
            id: response.results[0].reading_id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stored.unattributed && stored.patient.is_none());
    // A suspended device's readings are refused.
    admin
        .suspend_device(registry::ChangeStatusRequest {
            id: device.clone(),
            reason: String::new(),
        })
        .await
        .unwrap();
    let response = ingest(
        &mut client,
        "b4",
        vec![reading(&device, "99", "8867-4", 70.0, "/min", t)],
    )
    .await;
    assert!(
        response.results[0].violations[0]
            .rule
            .contains("not active")
    );
    // No credential: refused outright.
    let mut anonymous =
        pb::reading_ingestion_client::ReadingIngestionClient::new(suite.channel().await);
    let status = anonymous
        .ingest(pb::IngestRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    suite.stop().await;
}

#[tokio::test]
async fn followers_resume_from_any_position() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        let readings = (0..5)
            .map(|i| {
                reading(
                    &device,
                    &i.to_string(),
                    "8867-4",
                    60.0 + f64::from(i),
                    "/min",
                    t,
                )
            })
            .collect();
        ingest(&mut client, "b", readings).await;
        let mut follower = pb::reading_ingestion_client::ReadingIngestionClient::with_interceptor(
            suite.channel().await,
            sentinel_testkit::Bearer::new(suite.running().service_token()),
        );
        let mut stream = follower
            .follow_readings(pb::FollowReadingsRequest { after: 0 })
            .await
            .unwrap()
            .into_inner();
        let mut positions = Vec::new();
        for _ in 0..5 {
            positions.push(stream.message().await.unwrap().unwrap().position);
        }
        assert_eq!(positions, [1, 2, 3, 4, 5], "{}", store.name());
        // A reading that arrives later reaches the open stream.
        ingest(
            &mut client,
            "b-late",
            vec![reading(&device, "late", "8867-4", 90.0, "/min", t)],
        )
        .await;
        let late = tokio::time::timeout(std::time::Duration::from_secs(5), stream.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(late.position, 6);
        // Resuming after position 3 gives 4, 5, 6.
        let mut resumed = follower
            .follow_readings(pb::FollowReadingsRequest { after: 3 })
            .await
            .unwrap()
            .into_inner();
        let mut rest = Vec::new();
        for _ in 0..3 {
            rest.push(resumed.message().await.unwrap().unwrap().position);
        }
        assert_eq!(rest, [4, 5, 6]);
        suite.stop().await;
    }
}

#[tokio::test]
async fn acknowledged_readings_survive_a_crash() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        let acked = ingest(
            &mut client,
            "b",
            (0..20)
                .map(|i| reading(&device, &i.to_string(), "8867-4", 70.0, "/min", t))
                .collect(),
        )
        .await;
        assert_eq!(acked.accepted, 20);
        let (config, data) = suite.crash();
        let again = TestSuite::start_with(config, data).await;
        let mut staff = again.ingestion_as(&again.admin_token()).await;
        let stored = staff
            .list_readings(pb::ListReadingsRequest {
                device_id: device,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut ids: Vec<String> = stored.readings.into_iter().map(|r| r.id).collect();
        let mut expected: Vec<String> = acked.results.into_iter().map(|r| r.reading_id).collect();
        ids.sort();
        expected.sort();
        assert_eq!(ids, expected, "{}", store.name());
        again.stop().await;
    }
}

#[tokio::test]
async fn an_oversized_batch_is_refused_whole() {
    let (suite, device, mut client) = setup(StoreKind::Sqlite).await;
    let t = now() - 60_000_000;
    let readings = (0..10_001)
        .map(|i| reading(&device, &i.to_string(), "8867-4", 70.0, "/min", t))
        .collect();
    let status = client
        .ingest(pb::IngestRequest {
            batch_id: "huge".into(),
            readings,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("readings"),
        "{}",
        status.message()
    );
    suite.stop().await;
}

#[tokio::test]
async fn rejected_readings_are_listed_from_quarantine_and_can_be_resubmitted() {
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        let response = ingest(
            &mut client,
            "bq",
            vec![reading(&device, "q1", "2339-0", 5.5, "Cel", t)],
        )
        .await;
        assert_eq!(response.rejected, 1);
        let mut staff = suite.ingestion_as(&suite.admin_token()).await;
        let listed = staff
            .list_quarantine(pb::ListQuarantineRequest {
                device_id: device.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .readings;
        assert_eq!(listed.len(), 1, "{}", store.name());
        let entry = &listed[0];
        assert_eq!(entry.violations[0].field, "value.unit");
        assert!(entry.raw_json.contains("\"Cel\""));
        assert_eq!(entry.batch_id, "bq");

        // Corrected and resubmitted: accepted, and the entry is resolved by the new reading.
        let corrected = reading(&device, "q1", "2339-0", 5.5, "mmol/L", t);
        let answer = staff
            .resubmit(pb::ResubmitRequest {
                quarantine_id: entry.id.clone(),
                reading: Some(corrected.clone()),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(answer.accepted, 1);
        let unresolved = staff
            .list_quarantine(pb::ListQuarantineRequest {
                device_id: device.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .readings;
        assert!(unresolved.is_empty());
        let all = staff
            .list_quarantine(pb::ListQuarantineRequest {
                device_id: device.clone(),
                include_resolved: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .readings;
        assert_eq!(all[0].resolved_by, answer.results[0].reading_id);
        let again = staff
            .resubmit(pb::ResubmitRequest {
                quarantine_id: entry.id.clone(),
                reading: Some(corrected),
            })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);
        // A device may not read or resubmit the quarantine.
        let denied = client
            .list_quarantine(pb::ListQuarantineRequest::default())
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
        suite.stop().await;
    }
}

#[tokio::test]
async fn events_and_measurements_mix_in_batches_of_any_size() {
    // An event carries no value: a multi-row insert chunk opening with one must not disturb the
    // next chunk, which opens with a number (a prepared statement keeps its first parameter
    // types). Failed on PostgreSQL before inserts went unprepared.
    for store in stores() {
        let (suite, device, mut client) = setup(store).await;
        let t = now() - 60_000_000;
        for round in 0..2 {
            let readings = (0..60)
                .map(|i| {
                    let mut r =
                        reading(&device, &format!("{round}-{i}"), "8867-4", 70.0, "/min", t);
                    if i == 0 {
                        r.code = Some(common::Coding {
                            system: "urn:sentinel:event".into(),
                            code: "fall-detected".into(),
                            display: String::new(),
                        });
                        r.value = None;
                    }
                    r
                })
                .collect();
            let response = ingest(&mut client, &format!("mix-{round}"), readings).await;
            assert_eq!(response.accepted, 60, "{}: {response:?}", store.name());
        }
        suite.stop().await;
    }
}
