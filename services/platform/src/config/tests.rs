use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn defaults_serve_everything_on_loopback_with_sqlite() {
    let config = Config::load(None, env(&[]), FlagOverrides::default()).unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.listen.to_string(), "127.0.0.1:50051");
    assert!(config.database_url.is_none());
    assert_eq!(config.services.len(), 4);
}

#[test]
fn layers_apply_in_order_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    std::fs::write(
        &file,
        "listen = \"0.0.0.0:6000\"\nservices = [\"audit\", \"rules\"]\n[log]\nformat = \"json\"\n[tls]\nallow_plaintext = true\n",
    )
    .unwrap();
    let from_file = Config::load(Some(&file), env(&[]), FlagOverrides::default()).unwrap();
    assert_eq!(from_file.listen.to_string(), "0.0.0.0:6000");
    assert_eq!(from_file.log.format, LogFormat::Json);
    assert_eq!(
        from_file.services,
        [ServiceKind::Rules, ServiceKind::Audit]
            .into_iter()
            .collect()
    );

    let vars = env(&[
        ("SENTINEL_LISTEN", "127.0.0.1:7000"),
        ("SENTINEL_LOG__FILTER", "debug"),
        ("SENTINEL_PG_BINDIR", "/ignored"),
        ("PATH", "/bin"),
    ]);
    let from_env = Config::load(Some(&file), vars.clone(), FlagOverrides::default()).unwrap();
    assert_eq!(from_env.listen.to_string(), "127.0.0.1:7000");
    assert_eq!(from_env.log.filter, "debug");

    let flags = FlagOverrides {
        listen: Some("127.0.0.1:8000".into()),
        services: Some("registry".into()),
        ..FlagOverrides::default()
    };
    let from_flags = Config::load(Some(&file), vars, flags).unwrap();
    assert_eq!(from_flags.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(
        from_flags.services,
        [ServiceKind::Registry].into_iter().collect()
    );
}

#[test]
fn a_bad_flag_value_names_the_flag_and_the_rule() {
    let flags = FlagOverrides {
        listen: Some("localhost".into()),
        ..FlagOverrides::default()
    };
    let err = Config::load(None, env(&[]), flags).unwrap_err();
    assert_eq!(err.key, "listen");
    assert_eq!(err.origin.as_deref(), Some("command-line flag --listen"));
    let line = err.to_string();
    assert!(line.contains("expected IP:PORT"), "{line}");
    assert!(!line.contains('\n'));
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let err = Config::load(
        None,
        env(&[("SENTINEL_SERVICES", "registry,alerts")]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "services");
    assert_eq!(
        err.origin.as_deref(),
        Some("environment variable SENTINEL_SERVICES")
    );
    assert!(err.rule.contains("unknown service `alerts`"), "{err}");
}

#[test]
fn an_unknown_key_in_the_environment_is_refused() {
    let err = Config::load(
        None,
        env(&[("SENTINEL_LISTN", "127.0.0.1:1")]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("listn"), "{err}");
}

#[test]
fn an_unknown_key_in_the_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    std::fs::write(&file, "[log]\nformt = \"json\"\n").unwrap();
    let err = Config::load(Some(&file), env(&[]), FlagOverrides::default()).unwrap_err();
    assert!(err.to_string().contains("formt"), "{err}");
    assert!(err.to_string().contains("sentinel.toml"), "{err}");
}

#[test]
fn a_missing_config_file_is_refused() {
    let err = Config::load(
        Some(Path::new("/nonexistent/sentinel.toml")),
        env(&[]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "config");
}

#[test]
fn validation_rules_name_their_key() {
    let cases: [(&str, &str, &str); 4] = [
        ("SENTINEL_DATABASE_URL", "mysql://x", "database_url"),
        ("SENTINEL_SERVICES", "", "services"),
        (
            "SENTINEL_HEALTH__CHECK_INTERVAL_MS",
            "0",
            "health.check_interval_ms",
        ),
        (
            "SENTINEL_TELEMETRY__OTLP_ENDPOINT",
            "collector:4317",
            "telemetry.otlp_endpoint",
        ),
    ];
    for (var, value, key) in cases {
        let err = Config::load(None, env(&[(var, value)]), FlagOverrides::default()).unwrap_err();
        assert_eq!(err.key, key, "{var}={value}: {err}");
    }
}

#[test]
fn a_rule_broken_by_a_value_names_the_layer_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    std::fs::write(&file, "[health]\ncheck_interval_ms = 0\n").unwrap();
    let err = Config::load(Some(&file), env(&[]), FlagOverrides::default()).unwrap_err();
    assert_eq!(err.key, "health.check_interval_ms");
    assert!(
        err.origin.as_deref().unwrap().contains("sentinel.toml"),
        "{err}"
    );

    let flags = FlagOverrides {
        database_url: Some("mysql://db".into()),
        ..FlagOverrides::default()
    };
    let err = Config::load(None, env(&[]), flags).unwrap_err();
    assert_eq!(
        err.origin.as_deref(),
        Some("command-line flag --database-url")
    );
}

#[test]
fn every_peer_address_must_be_an_http_url() {
    for key in ["REGISTRY", "AUDIT", "INGESTION"] {
        let vars = env(&[(&format!("SENTINEL_PEERS__{key}"), "db:5432")]);
        let err = Config::load(None, vars, FlagOverrides::default()).unwrap_err();
        assert_eq!(err.key, format!("peers.{}", key.to_ascii_lowercase()));
        assert_eq!(err.rule, "must be an http:// or https:// URL");
    }
}

#[test]
fn secrets_mounted_as_files_are_read_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("ingestion.token");
    std::fs::write(&token, "snt_cred-x.secret\n").unwrap();
    let url = dir.path().join("uri");
    std::fs::write(&url, "postgres://app@db/app\n").unwrap();
    let config = Config::load(
        None,
        env(&[
            ("SENTINEL_SERVICE_TOKEN_FILE", token.to_str().unwrap()),
            ("SENTINEL_DATABASE_URL_FILE", url.to_str().unwrap()),
        ]),
        FlagOverrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.service_token.as_ref().map(Secret::expose),
        Some("snt_cred-x.secret")
    );
    assert_eq!(
        config.database_url.as_deref(),
        Some("postgres://app@db/app")
    );

    let both = Config::load(
        None,
        env(&[
            ("SENTINEL_SERVICE_TOKEN", "snt_a.b"),
            ("SENTINEL_SERVICE_TOKEN_FILE", token.to_str().unwrap()),
        ]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(both.key, "service_token");

    let missing = dir.path().join("absent");
    let err = Config::load(
        None,
        env(&[("SENTINEL_DATABASE_URL_FILE", missing.to_str().unwrap())]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "database_url_file");
    assert!(err.to_string().contains("cannot read"), "{err}");

    std::fs::write(&url, "mysql://db\n").unwrap();
    let err = Config::load(
        None,
        env(&[("SENTINEL_DATABASE_URL_FILE", url.to_str().unwrap())]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "database_url");
}

#[test]
fn a_database_credential_mounted_as_files_goes_into_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().join("username");
    let password = dir.path().join("password");
    std::fs::write(&user, "sentinel_rules\n").unwrap();
    std::fs::write(&password, "p@ss/w:rd\n").unwrap();
    let config = Config::load(
        None,
        env(&[
            (
                "SENTINEL_DATABASE_URL",
                "postgres://owner:secret@db:5432/sentinel",
            ),
            ("SENTINEL_DATABASE_USER_FILE", user.to_str().unwrap()),
            (
                "SENTINEL_DATABASE_PASSWORD_FILE",
                password.to_str().unwrap(),
            ),
        ]),
        FlagOverrides::default(),
    )
    .unwrap();
    assert_eq!(
        config.database_url.as_deref(),
        Some("postgres://sentinel_rules:p%40ss%2Fw%3Ard@db:5432/sentinel")
    );
    let half = Config::load(
        None,
        env(&[
            ("SENTINEL_DATABASE_URL", "postgres://db/sentinel"),
            ("SENTINEL_DATABASE_USER_FILE", user.to_str().unwrap()),
        ]),
        FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(half.key, "database_password_file");
}

#[test]
fn plaintext_beyond_loopback_is_refused_unless_allowed() {
    let beyond = |extra: &[(&str, &str)]| {
        let mut vars = vec![("SENTINEL_LISTEN", "0.0.0.0:6000")];
        vars.extend_from_slice(extra);
        Config::load(None, env(&vars), FlagOverrides::default())
    };
    let refused = beyond(&[]).unwrap_err();
    assert_eq!(refused.key, "listen");
    assert!(refused.rule.contains("tls.allow_plaintext"), "{refused}");
    let allowed = beyond(&[("SENTINEL_TLS__ALLOW_PLAINTEXT", "true")]).unwrap();
    assert!(allowed.plaintext_off_loopback());
    let tls = beyond(&[
        ("SENTINEL_TLS__CERT_FILE", "/etc/tls.crt"),
        ("SENTINEL_TLS__KEY_FILE", "/etc/tls.key"),
    ])
    .unwrap();
    assert!(!tls.plaintext_off_loopback());
}

#[test]
fn sign_in_is_configured_in_a_file_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    let good = "[registry.oidc]\nissuer = \"https://idp.example/realms/ward\"\naudience = \"sentinel\"\n\
                jwks_url = \"https://idp.example/certs\"\nroles_claim = \"realm_access.roles\"\n\
                [registry.oidc.roles]\nward-nurses = [\"clinician\"]\n";
    std::fs::write(&file, good).unwrap();
    let config = Config::load(Some(&file), env(&[]), FlagOverrides::default()).unwrap();
    let oidc = config.registry.oidc.unwrap();
    assert_eq!(oidc.roles["ward-nurses"], ["clinician"]);
    assert_eq!(
        (oidc.leeway_seconds, oidc.subject_claim.as_str()),
        (60, "sub")
    );

    let broken = [
        (
            good.replace("\"clinician\"", "\"service\""),
            "registry.oidc.roles.ward-nurses",
        ),
        (
            good.replace("https://idp.example/certs", "http://idp.example/certs"),
            "registry.oidc.jwks_url",
        ),
        (
            good.replace("jwks_url", "jwks_file = \"/k.json\"\njwks_url"),
            "registry.oidc.jwks_url",
        ),
        (
            good.replace("audience = \"sentinel\"", "audience = \"\""),
            "registry.oidc.audience",
        ),
        (
            good.replace(
                "[registry.oidc.roles]",
                "leeway_seconds = 3600\n[registry.oidc.roles]",
            ),
            "registry.oidc.leeway_seconds",
        ),
    ];
    for (text, key) in broken {
        std::fs::write(&file, &text).unwrap();
        let err = Config::load(Some(&file), env(&[]), FlagOverrides::default()).unwrap_err();
        assert_eq!(err.key, key, "{text}: {err}");
    }
}
