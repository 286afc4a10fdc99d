//! Unit tests of the grant choice: flags over the file, the file over the default, each
//! gap named, the audience rules and what a mint records.

use super::*;

fn doc(json: &str) -> Doc {
    token::parse_object(json.as_bytes()).unwrap()
}

fn file_error(p: String) -> Error {
    Error::token_file("tok.json", p)
}

fn key_path() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/certs/jwt.key")
}

fn opts() -> GrantOpts {
    GrantOpts::default()
}

fn endpoints(sandbox: bool, login_url: Option<&str>) -> EndpointOpts {
    EndpointOpts {
        token_url: None,
        sandbox,
        login_url: login_url.map(|u| Sourced {
            value: u.into(),
            source: "--login-url",
        }),
    }
}

#[test]
fn a_plain_file_refreshes_with_its_refresh_token() {
    let r = choose(
        &opts(),
        &endpoints(false, None),
        &doc(r#"{"refresh_token":"r1"}"#),
        &file_error,
    )
    .unwrap();
    assert!(matches!(r, Renewal::Refresh(ref t) if t.expose() == "r1"));
    // Without one, the same message as always, as a token-file error.
    let e = choose(
        &opts(),
        &endpoints(false, None),
        &doc(r#"{"access_token":"a"}"#),
        &file_error,
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert_eq!(
        e.to_string(),
        "token file tok.json: has no \"refresh_token\" field"
    );
}

#[test]
fn a_recorded_grant_mints_and_flags_win_over_it() {
    let key = key_path().display().to_string();
    let minted = doc(&format!(
        r#"{{"access_token":"a","sfrefresh_grant":"jwt-bearer","sfrefresh_username":"u@x",
            "sfrefresh_jwt_key":"{key}","sfrefresh_audience":"https://test.salesforce.com"}}"#
    ));
    let Renewal::Jwt(plan) =
        choose(&opts(), &endpoints(false, None), &minted, &file_error).unwrap()
    else {
        panic!("expected a JWT renewal")
    };
    assert_eq!(
        plan,
        JwtPlan {
            key: key_path(),
            username: "u@x".into(),
            audience: "https://test.salesforce.com".into()
        }
    );
    let flagged = GrantOpts {
        username: Some("other@x".into()),
        audience: Some("https://acme.my.site.com".into()),
        ..opts()
    };
    let Renewal::Jwt(plan) =
        choose(&flagged, &endpoints(false, None), &minted, &file_error).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (plan.username.as_str(), plan.audience.as_str()),
        ("other@x", "https://acme.my.site.com")
    );
    // --grant refresh-token on a minted file wants a refresh token it does not have.
    let rt = GrantOpts {
        grant: Some(Grant::RefreshToken),
        ..opts()
    };
    assert_eq!(
        choose(&rt, &endpoints(false, None), &minted, &file_error)
            .unwrap_err()
            .exit_code(),
        3
    );
    let cc = doc(r#"{"sfrefresh_grant":"client-credentials"}"#);
    assert!(matches!(
        choose(&opts(), &endpoints(false, None), &cc, &file_error).unwrap(),
        Renewal::ClientCredentials
    ));
}

#[test]
fn gaps_are_named() {
    let e = choose(
        &opts(),
        &endpoints(false, None),
        &doc(r#"{"sfrefresh_grant":"magic"}"#),
        &file_error,
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(
        e.to_string().contains("\"sfrefresh_grant\" is 'magic'"),
        "{e}"
    );
    let jwt = GrantOpts {
        grant: Some(Grant::JwtBearer),
        ..opts()
    };
    let e = choose(&jwt, &endpoints(false, None), &doc("{}"), &file_error).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("--jwt-key PATH"), "{e}");
    let keyed = GrantOpts {
        jwt_key: Some(key_path()),
        ..opts()
    };
    let e = choose(&keyed, &endpoints(false, None), &doc("{}"), &file_error).unwrap_err();
    assert!(e.to_string().contains("--username NAME"), "{e}");
    let missing = GrantOpts {
        jwt_key: Some("/nonexistent/key.pem".into()),
        username: Some("u".into()),
        ..opts()
    };
    let e = choose(&missing, &endpoints(false, None), &doc("{}"), &file_error).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read the JWT key file /nonexistent/key.pem: no such file or directory"
    );
    let stray = GrantOpts {
        username: Some("u".into()),
        ..opts()
    };
    let e = choose(
        &stray,
        &endpoints(false, None),
        &doc(r#"{"refresh_token":"r"}"#),
        &file_error,
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "--username is only used by the jwt-bearer grant, and this run uses refresh-token"
    );
}

#[test]
fn audiences() {
    let aud = |sandbox, login: Option<&str>, file: Option<&str>| {
        audience(&opts(), &endpoints(sandbox, login), file)
    };
    assert_eq!(aud(false, None, None), PRODUCTION_AUDIENCE);
    assert_eq!(aud(true, None, Some("https://x")), SANDBOX_AUDIENCE);
    assert_eq!(aud(false, None, Some("https://x")), "https://x");
    assert_eq!(
        aud(false, Some("https://acme.my.salesforce.com"), None),
        PRODUCTION_AUDIENCE
    );
    assert_eq!(
        aud(
            false,
            Some("https://acme--dev.sandbox.my.salesforce.com/x"),
            None
        ),
        SANDBOX_AUDIENCE
    );
    assert_eq!(
        aud(false, Some("https://acme.my.site.com/partners"), None),
        "https://acme.my.site.com"
    );
    let flagged = GrantOpts {
        audience: Some("https://given".into()),
        ..opts()
    };
    assert_eq!(
        audience(&flagged, &endpoints(true, None), None),
        "https://given"
    );
}

#[test]
fn a_mint_records_what_the_next_needs_and_a_refresh_nothing() {
    let mut d = doc(r#"{"access_token":"a"}"#);
    record(&mut d, &Renewal::Refresh(Secret::new("r")), "id");
    assert_eq!(
        Value::Object(d.clone()).to_string(),
        r#"{"access_token":"a"}"#
    );
    let plan = JwtPlan {
        key: "/k.pem".into(),
        username: "u".into(),
        audience: "https://login.salesforce.com".into(),
    };
    record(&mut d, &Renewal::Jwt(plan), "id");
    assert_eq!(
        Value::Object(d).to_string(),
        r#"{"access_token":"a","client_id":"id","sfrefresh_grant":"jwt-bearer","sfrefresh_username":"u","sfrefresh_jwt_key":"/k.pem","sfrefresh_audience":"https://login.salesforce.com"}"#
    );
}

#[test]
fn prepared_requests() {
    let post = Credentials::Post(Secret::new("s3cret"));
    let p = prepare(&Renewal::Refresh(Secret::new("5Aep861.r")), "id", &post).unwrap();
    assert_eq!(
        p.pairs(),
        [
            ("grant_type", "refresh_token"),
            ("refresh_token", "5Aep861.r")
        ]
    );
    assert_eq!(p.credentials, &post);
    let p = prepare(&Renewal::ClientCredentials, "id", &post).unwrap();
    assert_eq!(p.pairs(), [("grant_type", "client_credentials")]);
    let e = prepare(&Renewal::ClientCredentials, "id", &Credentials::IdOnly)
        .err()
        .unwrap();
    assert_eq!(e.exit_code(), 2);
    let plan = JwtPlan {
        key: key_path(),
        username: "u".into(),
        audience: PRODUCTION_AUDIENCE.into(),
    };
    let p = prepare(&Renewal::Jwt(plan), "id", &post).unwrap();
    // The assertion proves the client: no secret goes with it.
    assert_eq!(p.credentials, &Credentials::IdOnly);
    let pairs = p.pairs();
    assert_eq!(pairs[0], ("grant_type", JWT_GRANT));
    assert_eq!(pairs[1].0, "assertion");
    let mut r = crate::report::Redactor::default();
    r.add(p.secret().unwrap());
    assert_eq!(r.show(&format!("echo {}", pairs[1].1)), "echo [redacted]");
}
