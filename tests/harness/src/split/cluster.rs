//! The rendered Deployments run as local processes, as a cluster would run their pods: each
//! replica with the container's arguments and environment, its mounted files under a root of
//! its own, and its own port; each Service a TCP proxy that spreads connections over the
//! replicas whose readiness (grpc.health.v1) says SERVING, as kube-proxy does over Ready pods.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::process::{self, SentinelProcess, Started};
use tokio::net::{TcpListener, TcpStream};
use tonic_health::pb::health_check_response::ServingStatus;

use super::manifests::{Container, Rendered};

/// One pod.
#[derive(Debug)]
pub struct Replica {
    pub addr: SocketAddr,
    /// Where it serves plaintext health for probes (`health.listen`).
    pub health: SocketAddr,
    root: PathBuf,
    env: Vec<(String, String)>,
    args: Vec<String>,
    process: Option<SentinelProcess>,
}

/// The deployment as local processes.
#[derive(Debug)]
pub struct Cluster {
    /// The database's address, standing in for its Service (`sentinel-db-rw`).
    database: String,
    binary: PathBuf,
    pub replicas: BTreeMap<String, Vec<Replica>>,
    /// Service name → the address its proxy listens on.
    pub services: BTreeMap<String, SocketAddr>,
    backends: BTreeMap<String, Arc<Mutex<Vec<SocketAddr>>>>,
    /// The proxies and readiness watchers, stopped with the cluster.
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for task in self.background.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Cluster {
    /// Runs the migration Job to completion, then starts `replicas(deployment)` replicas of
    /// every Deployment (at once, as `kubectl apply` does) behind their Services.
    pub async fn start(
        binary: &Path,
        rendered: &Rendered,
        work: &Path,
        database: &str,
        replicas: impl Fn(&Container) -> usize,
    ) -> Cluster {
        let mut cluster = Cluster {
            database: sentinel_platform::store::with_login(database, None, None).unwrap(),
            binary: binary.to_owned(),
            replicas: BTreeMap::new(),
            services: BTreeMap::new(),
            backends: BTreeMap::new(),
            background: Mutex::new(Vec::new()),
        };
        for (service, deployment) in &rendered.services {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            cluster
                .services
                .insert(service.clone(), listener.local_addr().unwrap());
            let backends = Arc::new(Mutex::new(Vec::new()));
            cluster
                .backends
                .insert(deployment.clone(), backends.clone());
            let task = tokio::spawn(proxy(listener, backends));
            cluster.background.lock().unwrap().push(task);
        }
        cluster.run_job(&rendered.migrate, work);
        let mut starting = Vec::new();
        for deployment in &rendered.deployments {
            for n in 0..replicas(deployment) {
                let root = work.join("pods").join(format!("{}-{n}", deployment.name));
                starting.push((deployment.name.clone(), cluster.prepare(deployment, &root)));
            }
        }
        for (name, mut replica) in starting {
            replica.process = Some(cluster.launch(&replica).await);
            cluster.replicas.entry(name).or_default().push(replica);
        }
        cluster
    }

    fn run_job(&self, job: &Container, work: &Path) {
        let root = work.join("pods").join(&job.name);
        let replica = self.prepare(job, &root);
        let status = std::process::Command::new(&self.binary)
            .args(&replica.args)
            .env_clear()
            .envs(replica.env.iter().map(|(k, v)| (k, v)))
            .status()
            .unwrap();
        assert!(status.success(), "the migration Job failed: {status}");
    }

    /// The pod's files, under its own root, and its environment pointing there.
    fn prepare(&self, container: &Container, root: &Path) -> Replica {
        let inside = |path: &str| root.join(path.trim_start_matches('/'));
        for (path, bytes) in &container.files {
            let file = inside(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, bytes).unwrap();
        }
        for path in &container.scratch {
            std::fs::create_dir_all(inside(path)).unwrap();
        }
        let addr = process::free_address();
        let health = process::free_address();
        let mounts: Vec<&str> = container
            .files
            .keys()
            .map(|p| p.rsplit_once('/').unwrap().0)
            .collect();
        // Kubernetes names each pod's host after the pod.
        let pod = root.file_name().unwrap().to_string_lossy().into_owned();
        let env = [("HOSTNAME".to_owned(), pod)]
            .iter()
            .chain(&container.env)
            .map(|(name, value)| {
                let value = if name == "SENTINEL_LISTEN" {
                    addr.to_string()
                } else if name == "SENTINEL_HEALTH__LISTEN" {
                    health.to_string()
                } else if mounts.iter().any(|m| value.starts_with(m)) {
                    inside(value).display().to_string()
                } else {
                    self.resolve(value)
                };
                (name.clone(), value)
            })
            .collect();
        Replica {
            addr,
            health,
            root: root.to_owned(),
            env,
            args: container.args.clone(),
            process: None,
        }
    }

    /// `http(s)://<service>:50051` → that Service's proxy; the database's Service → the
    /// throwaway database.
    fn resolve(&self, value: &str) -> String {
        if value.starts_with("postgres://sentinel-db-rw:5432/") {
            return self.database.clone();
        }
        for scheme in ["http", "https"] {
            for (service, addr) in &self.services {
                if value == format!("{scheme}://{service}:50051") {
                    return format!("{scheme}://{addr}");
                }
            }
        }
        value.to_owned()
    }

    async fn launch(&self, replica: &Replica) -> SentinelProcess {
        let args: Vec<std::ffi::OsString> = replica.args.iter().map(Into::into).collect();
        let cwd = replica.root.join("var/lib/sentinel");
        match process::start_in(
            &self.binary,
            &args,
            &replica.env,
            replica.health,
            Some(&cwd),
        )
        .await
        {
            Started::Serving(process) => process,
            Started::Exited { code, stderr } => {
                panic!("{:?} exited ({code:?}): {stderr}", replica.args)
            }
        }
    }

    /// Keeps each Service's backends to the replicas that answer SERVING, every 100 ms.
    pub fn watch_readiness(&self) {
        for (deployment, replicas) in &self.replicas {
            let addrs: Vec<(SocketAddr, SocketAddr)> =
                replicas.iter().map(|r| (r.addr, r.health)).collect();
            let backends = self.backends[deployment].clone();
            let task = tokio::spawn(async move {
                loop {
                    let mut ready = Vec::new();
                    for (addr, health) in &addrs {
                        if process::health(*health, "").await.ok() == Some(ServingStatus::Serving) {
                            ready.push(*addr);
                        }
                    }
                    *backends.lock().unwrap() = ready;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
            self.background.lock().unwrap().push(task);
        }
    }

    /// Whether every Service has every replica ready.
    pub fn all_ready(&self) -> bool {
        self.replicas
            .iter()
            .all(|(d, replicas)| self.backends[d].lock().unwrap().len() == replicas.len())
    }

    /// Kills replica `n` of `deployment` with SIGKILL.
    pub async fn kill(&mut self, deployment: &str, n: usize) {
        let replica = &mut self.replicas.get_mut(deployment).unwrap()[n];
        replica.process.take().expect("running").kill().await;
    }

    /// Starts replica `n` of `deployment` again, as the Deployment's controller does.
    pub async fn restart(&mut self, deployment: &str, n: usize) {
        let process = self.launch(&self.replicas[deployment][n]).await;
        self.replicas.get_mut(deployment).unwrap()[n].process = Some(process);
    }

    /// Every running process, by deployment and index.
    pub fn processes(&self) -> Vec<(String, u32)> {
        self.replicas
            .iter()
            .flat_map(|(d, rs)| {
                rs.iter().enumerate().filter_map(move |(n, r)| {
                    r.process.as_ref().map(|p| (format!("{d}-{n}"), p.pid()))
                })
            })
            .collect()
    }
}

/// Accepts connections and relays each to the next ready backend (none ready: refused).
async fn proxy(listener: TcpListener, backends: Arc<Mutex<Vec<SocketAddr>>>) {
    let mut next = 0usize;
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            continue;
        };
        let ready = backends.lock().unwrap().clone();
        if ready.is_empty() {
            continue;
        }
        next = next.wrapping_add(1);
        let backend = ready[next % ready.len()];
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(backend).await {
                let _ = outbound.set_nodelay(true);
                let _ = inbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}
