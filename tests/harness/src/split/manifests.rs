//! The Kubernetes manifests as shipped, rendered by kustomize (`kubectl kustomize`) after
//! `sentinel bootstrap` wrote the secrets, and read into what a local run needs: each
//! Deployment's command, environment and mounted files, each Service's target, the Job's command.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

/// A container to run: its arguments, its environment (ConfigMap then `env`, in order), and the
/// files mounted into it (absolute path in the container → contents).
#[derive(Debug, Clone)]
pub struct Container {
    pub name: String,
    pub replicas: usize,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub files: BTreeMap<String, Vec<u8>>,
    /// The mount paths of writable scratch volumes (emptyDir).
    pub scratch: Vec<String>,
}

/// A database role as the CloudNativePG `Cluster` manages it.
#[derive(Debug, Clone)]
pub struct DatabaseRole {
    pub name: String,
    pub login: bool,
    pub in_roles: Vec<String>,
    /// The password, from the Secret the role names.
    pub password: Option<String>,
}

/// The rendered deployment.
#[derive(Debug)]
pub struct Rendered {
    /// The database's managed roles (`database/`), which a DBA or the operator creates.
    pub database_roles: Vec<DatabaseRole>,
    pub deployments: Vec<Container>,
    pub migrate: Container,
    /// Service name → the Deployment its selector picks.
    pub services: BTreeMap<String, String>,
    pub kinds: Vec<String>,
}

/// Secrets made outside the manifests: the database operator's, cert-manager's.
pub type External = BTreeMap<String, BTreeMap<String, Vec<u8>>>;

/// Copies `deploy/kubernetes` into `work`, bootstraps its secrets with `sentinel` (with
/// `--tls` for a TLS overlay, whose Secret `sentinel-tls` is then made from its `tls/` as the
/// README says), and renders `variant` (`base`, `tls/server-only`, `tls/mutual`). `external`
/// stands in for the Secrets other operators create.
pub fn render(
    sentinel: &Path,
    work: &Path,
    variant: &str,
    external: External,
) -> (Rendered, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes");
    let dir = work.join("kubernetes");
    copy_dir(&root, &dir);
    let secrets = dir.join("base/secrets");
    let mut args = vec![
        "bootstrap".to_owned(),
        "--out".into(),
        secrets.display().to_string(),
    ];
    let tls = variant.starts_with("tls/");
    if tls {
        args.push("--tls".into());
    }
    let (code, out) = crate::process::run_to_end(sentinel, &args);
    assert_eq!(code, Some(0), "bootstrap: {out}");
    let mut external = external;
    if tls {
        // What `kubectl create secret generic sentinel-tls --from-file=<secrets>/tls/` makes.
        let files = std::fs::read_dir(secrets.join("tls"))
            .unwrap()
            .map(|f| f.unwrap())
            .map(|f| {
                (
                    f.file_name().into_string().unwrap(),
                    std::fs::read(f.path()).unwrap(),
                )
            })
            .collect();
        external.insert("sentinel-tls".into(), files);
    }
    let output = Command::new("kubectl")
        .args(["kustomize", &dir.join(variant).display().to_string()])
        .output()
        .expect("kubectl (kustomize) is needed to render the manifests");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let documents = yaml_to_json(&output.stdout);
    let database = Command::new("kubectl")
        .args(["kustomize", &dir.join("database").display().to_string()])
        .output()
        .expect("kubectl (kustomize)");
    assert!(
        database.status.success(),
        "{}",
        String::from_utf8_lossy(&database.stderr)
    );
    let mut rendered = read(&documents, external);
    rendered.database_roles = database_roles(&yaml_to_json(&database.stdout), &documents);
    (rendered, secrets)
}

/// YAML documents as JSON values, through Python's PyYAML (safe loader).
fn yaml_to_json(yaml: &[u8]) -> Vec<Value> {
    use std::io::Write;
    let mut child = Command::new("python3")
        .args([
            "-c",
            "import sys, json, yaml; json.dump([d for d in yaml.safe_load_all(sys.stdin) if d], sys.stdout)",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with PyYAML");
    child.stdin.take().unwrap().write_all(yaml).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "YAML → JSON failed");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn read(documents: &[Value], external: External) -> Rendered {
    let of_kind = |kind: &'static str| documents.iter().filter(move |d| d["kind"] == kind);
    let mut secrets: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
    for secret in of_kind("Secret") {
        let data = secret["data"].as_object().cloned().unwrap_or_default();
        let files = data
            .into_iter()
            .map(|(k, v)| {
                let text: String = v.as_str().unwrap().split_whitespace().collect();
                (k, STANDARD.decode(text).unwrap())
            })
            .collect();
        secrets.insert(name(secret), files);
    }
    secrets.extend(external);
    let config: Vec<(String, String)> = of_kind("ConfigMap")
        .flat_map(|c| c["data"].as_object().cloned().unwrap_or_default())
        .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
        .collect();
    let deployments = of_kind("Deployment")
        .map(|d| container(d, &d["spec"]["template"]["spec"], &config, &secrets))
        .collect();
    let job = of_kind("Job").next().expect("the migration Job");
    let migrate = container(job, &job["spec"]["template"]["spec"], &config, &secrets);
    let services = of_kind("Service")
        .map(|s| {
            let target = s["spec"]["selector"]["app.kubernetes.io/name"]
                .as_str()
                .unwrap();
            (name(s), target.to_owned())
        })
        .collect();
    let kinds = documents
        .iter()
        .map(|d| d["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    Rendered {
        database_roles: Vec::new(),
        deployments,
        migrate,
        services,
        kinds,
    }
}

/// The managed roles of the CloudNativePG `Cluster`, with their passwords from the Secrets the
/// base renders.
fn database_roles(database: &[Value], base: &[Value]) -> Vec<DatabaseRole> {
    let cluster = database
        .iter()
        .find(|d| d["kind"] == "Cluster")
        .expect("a CloudNativePG Cluster");
    let secret = |name: &str| -> Option<String> {
        let found = base
            .iter()
            .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == name)?;
        let text: String = found["data"]["password"]
            .as_str()?
            .split_whitespace()
            .collect();
        String::from_utf8(STANDARD.decode(text).ok()?).ok()
    };
    cluster["spec"]["managed"]["roles"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|role| DatabaseRole {
            name: role["name"].as_str().unwrap().to_owned(),
            login: role["login"].as_bool().unwrap_or(false),
            in_roles: role["inRoles"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect(),
            password: role["passwordSecret"]["name"].as_str().and_then(secret),
        })
        .collect()
}

fn name(document: &Value) -> String {
    document["metadata"]["name"].as_str().unwrap().to_owned()
}

fn container(
    owner: &Value,
    pod: &Value,
    config: &[(String, String)],
    secrets: &BTreeMap<String, BTreeMap<String, Vec<u8>>>,
) -> Container {
    let spec = &pod["containers"][0];
    let mut env = Vec::new();
    if spec["envFrom"].is_array() {
        env.extend(config.iter().cloned());
    }
    for var in spec["env"].as_array().cloned().unwrap_or_default() {
        assert!(
            var.get("valueFrom").is_none(),
            "{}: {} comes from a Secret as an environment variable",
            name(owner),
            var["name"]
        );
        env.push((
            var["name"].as_str().unwrap().to_owned(),
            var["value"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    let volumes: BTreeMap<String, Value> = pod["volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|v| (v["name"].as_str().unwrap().to_owned(), v))
        .collect();
    let mut files = BTreeMap::new();
    let mut scratch = Vec::new();
    for mount in spec["volumeMounts"].as_array().cloned().unwrap_or_default() {
        let path = mount["mountPath"].as_str().unwrap().to_owned();
        let volume = &volumes[mount["name"].as_str().unwrap()];
        if volume.get("emptyDir").is_some() {
            scratch.push(path);
            continue;
        }
        let secret = volume["secret"]["secretName"]
            .as_str()
            .expect("a Secret volume");
        let data = secrets
            .get(secret)
            .unwrap_or_else(|| panic!("no Secret {secret}"));
        let items: Vec<(String, String)> = match volume["secret"]["items"].as_array() {
            Some(items) => items
                .iter()
                .map(|i| {
                    (
                        i["key"].as_str().unwrap().to_owned(),
                        i["path"].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
        };
        for (key, file) in items {
            files.insert(format!("{path}/{file}"), data[&key].clone());
        }
    }
    Container {
        name: name(owner),
        replicas: owner["spec"]["replicas"].as_u64().unwrap_or(1) as usize,
        args: spec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned())
            .collect(),
        env,
        files,
        scratch,
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "secrets" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
