//! Bounded under abuse: 128 large batches at once, every one admitted, so the store itself is
//! what is busy. Every batch is acknowledged and stored whole, or refused with a status clients
//! retry (RESOURCE_EXHAUSTED or UNAVAILABLE) carrying RetryInfo — never INTERNAL.

use sentinel_testkit::{TestSuite, flood::flood};

use super::{ALL, stores};

const BATCHES: usize = 128;

#[tokio::test]
async fn a_flood_of_large_batches_is_acknowledged_or_refused_with_retry_info_never_internal() {
    for store in stores() {
        let (mut config, data_dir) = TestSuite::prepare(store, &ALL).await;
        config.ingestion.max_in_flight_batches = BATCHES as u32;
        let suite = TestSuite::start_with(config, data_dir).await;
        let flood = flood(&suite, "pt-1", (BATCHES, 32, 1000)).await;
        println!("{store:?}: {flood:?}");
        assert!(flood.not_retryable.is_empty(), "{store:?}: {flood:?}");
        assert_eq!(flood.refused_without_retry_info, 0, "{store:?}: {flood:?}");
        assert!(flood.not_stored_whole.is_empty(), "{store:?}: {flood:?}");
        assert!(flood.acknowledged > 0, "{store:?}: {flood:?}");
    }
}
