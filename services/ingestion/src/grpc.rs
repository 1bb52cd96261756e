//! gRPC handlers of `sentinel.ingestion.v1.ReadingIngestion`: admit, convert, ingest, answer.

mod answer;
mod convert;

use std::{pin::Pin, time::Duration};

use sentinel_contract::ingestion::v1::{
    self as pb,
    reading_ingestion_server::{ReadingIngestion, ReadingIngestionServer},
};
use sentinel_platform::{
    ServiceError,
    auth::Role::{Admin, Clinician, Device, Gateway, Integrator, Quality, Service},
    gate::Gatekeeper,
    ids::new_id,
    page::Page,
    time::checked_range,
};
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::{ingestor::Ingestor, storage::ReadingFilter};

/// How long a streamed batch waits for an in-flight slot before the stream is refused.
const STREAM_PATIENCE: Duration = Duration::from_secs(5);
const INGEST_ROLES: &[sentinel_platform::auth::Role] = &[Device, Gateway, Integrator, Service];

#[derive(Debug, Clone)]
pub struct ReadingIngestionApi {
    ingestor: Ingestor,
    gate: Gatekeeper,
}

pub fn server(ingestor: Ingestor, gate: Gatekeeper) -> ReadingIngestionServer<ReadingIngestionApi> {
    ReadingIngestionServer::new(ReadingIngestionApi { ingestor, gate })
}

type Reply<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl ReadingIngestion for ReadingIngestionApi {
    #[tracing::instrument(skip_all)]
    async fn ingest(&self, request: Request<pb::IngestRequest>) -> Reply<pb::IngestResponse> {
        let (caller, role) = self.gate.admit(&request, "Ingest", INGEST_ROLES).await?;
        let request = request.into_inner();
        let batch_id = batch_id(request.batch_id)?;
        let inputs = convert::inputs(request.readings)?;
        let raw: Vec<String> = inputs.iter().map(convert::raw).collect();
        let outcomes = self
            .ingestor
            .ingest(&caller, role, &batch_id, &inputs, &raw)
            .await?;
        Ok(Response::new(answer::batch(batch_id, outcomes)))
    }

    type IngestStreamStream =
        Pin<Box<dyn Stream<Item = Result<pb::IngestResponse, Status>> + Send>>;

    #[tracing::instrument(skip_all)]
    async fn ingest_stream(
        &self,
        request: Request<Streaming<pb::IngestRequest>>,
    ) -> Reply<Self::IngestStreamStream> {
        self.gate
            .admit(&request, "IngestStream", INGEST_ROLES)
            .await?;
        let metadata = request.metadata().clone();
        let mut batches = request.into_inner();
        let api = self.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let mut shutdown = self.ingestor.shutdown.clone();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    next = batches.message() => next,
                    // The suite is stopping (or gone): end the stream; unacknowledged batches
                    // are the client's to send again.
                    _ = shutdown.changed() => return,
                };
                let batch = match next {
                    Ok(Some(batch)) => batch,
                    Ok(None) => return,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                let ack = api.streamed_batch(&metadata, batch).await;
                let failed = ack.is_err();
                if tx.send(ack).await.is_err() || failed {
                    return; // the client went away, or the stream ends with the error
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn ingest_payloads(
        &self,
        request: Request<pb::IngestPayloadsRequest>,
    ) -> Reply<pb::IngestPayloadsResponse> {
        let (caller, role) = self
            .gate
            .admit(&request, "IngestPayloads", INGEST_ROLES)
            .await?;
        let request = request.into_inner();
        let batch_id = batch_id(request.batch_id)?;
        let payloads: Vec<_> = request.payloads.into_iter().map(convert::payload).collect();
        let outcomes = self
            .ingestor
            .ingest_payloads(&caller, role, &batch_id, &payloads)
            .await?;
        Ok(Response::new(answer::payloads(batch_id, outcomes)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_quarantine(
        &self,
        request: Request<pb::ListQuarantineRequest>,
    ) -> Reply<pb::ListQuarantineResponse> {
        self.gate
            .admit(
                &request,
                "ListQuarantine",
                &[Integrator, Quality, Admin, Service],
            )
            .await?;
        let request = request.into_inner();
        let page = Page::of(request.page);
        let entries = self
            .ingestor
            .store()
            .quarantine_page(
                &request.device_id,
                request.include_resolved,
                &page.token,
                page.size,
            )
            .await?;
        let next = page.next(&entries, |last| last.id.clone());
        Ok(Response::new(pb::ListQuarantineResponse {
            readings: entries.into_iter().map(answer::quarantined).collect(),
            page: Some(next),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn resubmit(&self, request: Request<pb::ResubmitRequest>) -> Reply<pb::IngestResponse> {
        let (caller, role) = self
            .gate
            .admit(&request, "Resubmit", &[Integrator, Admin])
            .await?;
        let request = request.into_inner();
        let reading = convert::input(
            "reading",
            request
                .reading
                .ok_or_else(|| ServiceError::field("reading", "is required"))?,
        )?;
        let raw = convert::raw(&reading);
        let outcomes = self
            .ingestor
            .resubmit(&caller, role, &request.quarantine_id, reading, raw)
            .await?;
        Ok(Response::new(answer::batch(
            format!("resubmit-{}", request.quarantine_id),
            outcomes,
        )))
    }

    #[tracing::instrument(skip_all)]
    async fn get_reading(&self, request: Request<pb::GetReadingRequest>) -> Reply<pb::Reading> {
        self.gate
            .admit(
                &request,
                "GetReading",
                &[Clinician, Integrator, Quality, Admin, Service],
            )
            .await?;
        let id = request.into_inner().id;
        let stored = self
            .ingestor
            .store()
            .get(&id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("reading {id}")))?;
        Ok(Response::new(convert::reading(&stored)))
    }

    #[tracing::instrument(skip_all)]
    async fn list_readings(
        &self,
        request: Request<pb::ListReadingsRequest>,
    ) -> Reply<pb::ListReadingsResponse> {
        self.gate
            .admit(
                &request,
                "ListReadings",
                &[Clinician, Integrator, Quality, Admin, Service],
            )
            .await?;
        let request = request.into_inner();
        let page = Page::of(request.page);
        let after = if page.token.is_empty() {
            0
        } else {
            page.token.parse().map_err(|_| {
                ServiceError::field("page.page_token", "is not a token this service issued")
            })?
        };
        let (observed_from, observed_before) =
            checked_range("observed", request.observed.as_ref())?;
        let filter = ReadingFilter {
            device_id: request.device_id,
            patient: request.patient.map(|p| p.value).unwrap_or_default(),
            observed_from,
            observed_before,
            code: request.code,
            up_to_position: request.up_to_position,
        };
        let readings = self
            .ingestor
            .store()
            .list(&filter, after, page.size)
            .await?;
        Ok(Response::new(pb::ListReadingsResponse {
            readings: readings.iter().map(convert::reading).collect(),
            page: Some(page.next(&readings, |last| last.position.to_string())),
        }))
    }

    type FollowReadingsStream =
        Pin<Box<dyn Stream<Item = Result<pb::LoggedReading, Status>> + Send>>;

    #[tracing::instrument(skip_all)]
    async fn follow_readings(
        &self,
        request: Request<pb::FollowReadingsRequest>,
    ) -> Reply<Self::FollowReadingsStream> {
        self.gate
            .admit(&request, "FollowReadings", &[Service, Integrator])
            .await?;
        let after = request.into_inner().after;
        let stream =
            self.ingestor
                .store()
                .follow(after, self.ingestor.shutdown.clone(), |stored| {
                    pb::LoggedReading {
                        position: stored.position,
                        reading: Some(convert::reading(stored)),
                    }
                });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A batch's id: the client's, or a new one.
fn batch_id(given: String) -> Result<String, ServiceError> {
    let id = if given.is_empty() {
        new_id("batch")
    } else {
        given
    };
    if id.len() > 128 || id.chars().any(char::is_control) {
        return Err(ServiceError::field(
            "batch_id",
            "must be at most 128 printable characters",
        ));
    }
    Ok(id)
}

impl ReadingIngestionApi {
    /// One batch of a stream: its caller checked afresh (a credential revoked mid-stream stops
    /// the stream), a permit waited for, the batch ingested and its acknowledgement built.
    async fn streamed_batch(
        &self,
        metadata: &tonic::metadata::MetadataMap,
        batch: pb::IngestRequest,
    ) -> Result<pb::IngestResponse, Status> {
        let mut probe = Request::new(());
        *probe.metadata_mut() = metadata.clone();
        let (caller, role) = self
            .gate
            .admit(&probe, "IngestStream", INGEST_ROLES)
            .await?;
        let batch_id = batch_id(batch.batch_id)?;
        let _permit = self
            .ingestor
            .admit_streamed_batch(batch.readings.len(), STREAM_PATIENCE)
            .await?;
        let inputs = convert::inputs(batch.readings)?;
        let raw: Vec<String> = inputs.iter().map(convert::raw).collect();
        let outcomes = self
            .ingestor
            .ingest_admitted(&caller, role, &batch_id, &inputs, &raw)
            .await?;
        Ok(answer::batch(batch_id, outcomes))
    }
}
