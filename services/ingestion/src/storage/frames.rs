//! The `lorawan_frames` table: each LoRaWAN frame counter seen per session, with a digest of
//! its content, so a retry is recognised and a replay refused.

use sentinel_platform::{FieldViolation, ServiceError};
use sqlx::{Any, Transaction};

use super::ReadingStore;
use crate::domain::frame::Frame;

impl ReadingStore {
    /// Records `frame` as seen, or — when its counter was seen in its session before — says
    /// whether this is the same frame again (a retry) or other content under a used counter
    /// (a replay, refused).
    pub async fn claim_frame(
        tx: &mut Transaction<'static, Any>,
        frame: &Frame,
        batch_id: &str,
    ) -> Result<Result<(), FieldViolation>, ServiceError> {
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT payload_digest FROM lorawan_frames WHERE dev_eui = $1 AND session = $2 AND f_cnt = $3",
        )
        .bind(&frame.dev_eui)
        .bind(&frame.session)
        .bind(i64::from(frame.f_cnt))
        .fetch_optional(&mut **tx)
        .await?;
        match seen {
            Some(digest) if digest == frame.digest => Ok(Ok(())),
            Some(_) => Ok(Err(FieldViolation::new(
                "f_cnt",
                format!(
                    "frame counter {} of this session was already received with other content: \
                     a replayed or forged frame",
                    frame.f_cnt
                ),
            ))),
            None => {
                sqlx::query(
                    "INSERT INTO lorawan_frames (dev_eui, session, f_cnt, payload_digest, batch_id) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&frame.dev_eui)
                .bind(&frame.session)
                .bind(i64::from(frame.f_cnt))
                .bind(&frame.digest)
                .bind(batch_id)
                .execute(&mut **tx)
                .await?;
                Ok(Ok(()))
            }
        }
    }
}
