//! With the audit log's own service credential revoked, nothing may run away: every process
//! stays bounded in memory and CPU while callers keep knocking, and the audit log reports
//! NOT_SERVING (it cannot authenticate its callers).

use std::{net::SocketAddr, path::Path, time::Duration};

use crate::process;
use sentinel_contract::registry::v1 as registry;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;

use super::cluster::Cluster;

/// How long the processes are watched by default.
pub const WATCH: Duration = Duration::from_secs(60);
/// USER_HZ: the unit of utime and stime in /proc/<pid>/stat on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// Resident memory (KiB) and CPU time used (s) of `pid`.
pub fn usage(pid: u32) -> (u64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    (rss, ticks / TICKS_PER_SECOND)
}

/// Revokes the audit log's credential, knocks on the registry without a credential for `watch`,
/// and checks and prints every process's memory and CPU.
pub async fn revoked_audit_credential(
    cluster: &Cluster,
    secrets: &Path,
    admin: &str,
    watch: Duration,
) {
    let audit_token = std::fs::read_to_string(secrets.join("audit.token")).unwrap();
    let id = sentinel_platform::auth::Token::parse(&audit_token)
        .unwrap()
        .id;
    let registry_addr = cluster.services["sentinel-registry"];
    let channel = Channel::from_shared(format!("http://{registry_addr}"))
        .unwrap()
        .connect_lazy();
    registry::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel.clone(),
        crate::Bearer::new(admin),
    )
    .revoke_credential(registry::CredentialRef { id })
    .await
    .expect("the audit log's credential revoked");

    let before: Vec<(String, u32, (u64, f64))> = cluster
        .processes()
        .into_iter()
        .map(|(name, pid)| (name, pid, usage(pid)))
        .collect();
    let started = tokio::time::Instant::now();
    let mut anonymous = registry::device_registry_client::DeviceRegistryClient::new(channel);
    let mut knocks = 0;
    while started.elapsed() < watch {
        let _ = anonymous
            .get_device(registry::GetDeviceRequest { id: "dev-x".into() })
            .await;
        knocks += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("revoked audit credential, {knocks} refused calls over {seconds:.0} s:");
    println!(
        "  {:<22} {:>10} {:>10} {:>8}",
        "process", "RSS before", "RSS after", "CPU"
    );
    for (name, pid, (rss_before, cpu_before)) in before {
        let (rss_after, cpu_after) = usage(pid);
        let cpu = (cpu_after - cpu_before) / seconds;
        println!(
            "  {name:<22} {:>7} KiB {:>7} KiB {:>7.1}%",
            rss_before,
            rss_after,
            cpu * 100.0
        );
        assert!(
            rss_after < rss_before + 32 * 1024,
            "{name}: memory grew from {rss_before} to {rss_after} KiB"
        );
        assert!(cpu < 0.25, "{name}: {:.0} % of a core", cpu * 100.0);
    }
    for replica in &cluster.replicas["sentinel-audit"] {
        assert_eq!(
            health(replica.health).await,
            Some(ServingStatus::NotServing),
            "an audit log that cannot authenticate its callers is not ready"
        );
    }
}

async fn health(addr: SocketAddr) -> Option<ServingStatus> {
    process::health(addr, "").await.ok()
}
