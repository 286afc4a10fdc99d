//! The fake Salesforce itself, spoken to with a raw HTTP/1.1 client (plain or rustls):
//! every behaviour the sfrefresh tests rely on is proven here first.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::fake_salesforce::*;
use crate::util::{TempDir, cert_path};

// ---- a tiny client ----

trait Io: Read + Write + Send {}
impl<T: Read + Write + Send> Io for T {}

struct Conn {
    reader: BufReader<Box<dyn Io>>,
    host: String,
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// (status, error, error_description) of an OAuth error answer.
    fn oauth(&self) -> (u16, String, String) {
        let v = self.json();
        let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
        (self.status, s("error"), s("error_description"))
    }
}

fn tls_client() -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(cert_path("ca.pem")).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

impl Conn {
    fn open(server: &FakeSalesforce) -> Conn {
        let tcp = TcpStream::connect(server.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let host = format!("127.0.0.1:{}", server.addr().port());
        let io: Box<dyn Io> = if server.base_url().starts_with("https:") {
            let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
            let conn = rustls::ClientConnection::new(tls_client(), name).unwrap();
            Box::new(rustls::StreamOwned::new(conn, tcp))
        } else {
            Box::new(tcp)
        };
        Conn {
            reader: BufReader::new(io),
            host,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        let w = self.reader.get_mut();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        self.send_raw(format!("{head}{body}").as_bytes());
        self.response().expect("a response")
    }

    /// The next response, or None at EOF.
    fn response(&mut self) -> Option<Resp> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.to_string(), v.trim().to_string()));
        }
        let len: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .unwrap_or(0);
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        Some(Resp {
            status,
            headers,
            body: String::from_utf8(body).unwrap(),
        })
    }

    /// True when the server closed the connection.
    fn closed(&mut self) -> bool {
        let mut byte = [0];
        matches!(self.reader.read(&mut byte), Ok(0))
    }
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn post(server: &FakeSalesforce, path: &str, pairs: &[(&str, &str)]) -> Resp {
    post_with(server, path, &[], pairs)
}

fn post_with(
    server: &FakeSalesforce,
    path: &str,
    headers: &[(&str, &str)],
    pairs: &[(&str, &str)],
) -> Resp {
    let mut all = vec![FORM];
    all.extend_from_slice(headers);
    Conn::open(server).request("POST", path, &all, &encode_form(pairs))
}

fn token(server: &FakeSalesforce, pairs: &[(&str, &str)]) -> Resp {
    post(server, TOKEN_PATH, pairs)
}

fn get(server: &FakeSalesforce, path: &str, bearer: Option<&str>) -> Resp {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    Conn::open(server).request("GET", path, &headers, "")
}

fn path_of(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    rest[rest.find('/').unwrap()..].to_string()
}

fn refresh(server: &FakeSalesforce, rt: &str) -> Resp {
    let id = server.client_id();
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", &id),
        ],
    )
}

fn basic(id: &str, secret: &str) -> String {
    let pair = format!("{}:{}", form_encode(id), form_encode(secret));
    format!("Basic {}", STANDARD.encode(pair))
}

fn expired() -> (u16, String, String) {
    (
        400,
        "invalid_grant".into(),
        "expired access/refresh token".into(),
    )
}

fn err(status: u16, error: &str, description: &str) -> (u16, String, String) {
    (status, error.into(), description.into())
}

// ---- refresh, rotation, client authentication ----

#[test]
fn rotation_issues_a_new_token_and_replaying_an_old_one_kills_the_family() {
    let server = FakeSalesforce::builder().refresh_token("rt-0").start();
    let first = refresh(&server, "rt-0");
    assert_eq!(first.status, 200, "{}", first.body);
    let rt1 = first.json()["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, "rt-0");
    assert_eq!(
        server.current_refresh_token().as_deref(),
        Some(rt1.as_str())
    );
    let second = refresh(&server, &rt1);
    let rt2 = second.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(server.refresh_token_chain(), ["rt-0", &rt1, &rt2]);
    assert!(!server.family_revoked());

    // The rotated-out rt1 is replayed: refused, and the live rt2 dies with it.
    assert_eq!(refresh(&server, &rt1).oauth(), expired());
    assert!(server.family_revoked());
    assert_eq!(refresh(&server, &rt2).oauth(), expired());
    assert_eq!(refresh(&server, "never-issued").oauth(), expired());

    // An admin (or a sandbox refresh) revokes a family from the outside.
    let other = FakeSalesforce::builder().start();
    other.revoke_family();
    assert!(other.family_revoked());
    assert_eq!(refresh(&other, DEFAULT_REFRESH_TOKEN).oauth(), expired());
    assert_eq!(
        server.refresh_tokens_presented(),
        ["rt-0", &rt1, &rt1, &rt2, "never-issued"]
    );
}

#[test]
fn without_rotation_the_refresh_token_stays_and_is_not_answered() {
    let server = FakeSalesforce::builder()
        .rotate(false)
        .refresh_token("rt-0")
        .start();
    for _ in 0..3 {
        let r = refresh(&server, "rt-0");
        assert_eq!(r.status, 200);
        assert!(r.json().get("refresh_token").is_none(), "{}", r.body);
    }
    assert_eq!(server.refresh_token_chain(), ["rt-0"]);
    assert!(!server.family_revoked());
}

#[test]
fn the_answer_is_salesforce_shaped_and_signed() {
    let server = FakeSalesforce::builder()
        .client_secret("s3cret")
        .scope("refresh_token api sfap_api")
        .api_instance_url("https://api.salesforce.com")
        .start();
    let r = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", DEFAULT_REFRESH_TOKEN),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", "s3cret"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("application/json;charset=UTF-8")
    );
    let v = r.json();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "refresh_token",
            "signature",
            "scope",
            "instance_url",
            "api_instance_url",
            "id",
            "token_type",
            "issued_at"
        ]
    );
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "refresh_token api sfap_api");
    assert_eq!(v["api_instance_url"], "https://api.salesforce.com");
    assert_eq!(v["id"], server.identity_url().as_str());
    assert_eq!(v["instance_url"], server.base_url().as_str());
    assert!(v["access_token"].as_str().unwrap().starts_with("00Dfake!"));
    let issued_at = v["issued_at"].as_str().expect("issued_at is a string");
    let ms: u128 = issued_at.parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert!(now - ms < 10_000);
    // Base64(HMAC-SHA256(secret, id + issued_at)), checked with ring directly.
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"s3cret");
    let message = format!("{}{issued_at}", v["id"].as_str().unwrap());
    let sig = STANDARD.decode(v["signature"].as_str().unwrap()).unwrap();
    ring::hmac::verify(&key, message.as_bytes(), &sig).expect("signature verifies");
    assert_eq!(
        server.current_access_token().as_deref(),
        v["access_token"].as_str()
    );
}

#[test]
fn client_authentication_by_body_or_basic_never_both() {
    let id = "3MVG9.id:with&odd=chars";
    let server = FakeSalesforce::builder()
        .client_id(id)
        .client_secret("s e/c:r+t")
        .start();
    let rt = || server.current_refresh_token().unwrap();
    let grant = |rt: &str| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", rt.to_string()),
        ]
    };
    let send = |headers: &[(&str, &str)], extra: &[(&str, &str)]| {
        let g = grant(&rt());
        let mut pairs: Vec<(&str, &str)> = g.iter().map(|(k, v)| (*k, v.as_str())).collect();
        pairs.extend_from_slice(extra);
        post_with(&server, TOKEN_PATH, headers, &pairs)
    };
    let good_basic = basic(id, "s e/c:r+t");

    assert_eq!(
        send(&[], &[("client_id", id), ("client_secret", "s e/c:r+t")]).status,
        200
    );
    assert_eq!(send(&[("Authorization", &good_basic)], &[]).status, 200);
    // A matching client_id in the body beside Basic identifies, it does not authenticate.
    assert_eq!(
        send(&[("Authorization", &good_basic)], &[("client_id", id)]).status,
        200
    );

    let invalid_client = err(400, "invalid_client", "invalid client credentials");
    let both = send(
        &[("Authorization", &good_basic)],
        &[("client_secret", "s e/c:r+t")],
    );
    assert_eq!(both.oauth(), invalid_client);
    let other_id = send(&[("Authorization", &good_basic)], &[("client_id", "other")]);
    assert_eq!(other_id.oauth(), invalid_client);
    assert_eq!(
        send(&[], &[("client_id", id)]).oauth(),
        invalid_client,
        "missing secret"
    );
    assert_eq!(
        send(&[], &[("client_id", id), ("client_secret", "nope")]).oauth(),
        invalid_client
    );
    assert_eq!(
        send(&[("Authorization", &basic(id, "nope"))], &[]).oauth(),
        invalid_client
    );
    assert_eq!(
        send(&[("Authorization", "Basic !!!")], &[]).oauth(),
        invalid_client
    );
    let wrong_id = err(400, "invalid_client_id", "client identifier invalid");
    assert_eq!(
        send(
            &[],
            &[("client_id", "nope"), ("client_secret", "s e/c:r+t")]
        )
        .oauth(),
        wrong_id
    );
    assert_eq!(send(&[], &[]).oauth(), wrong_id);
    assert!(
        !server.family_revoked(),
        "refused requests do not touch the family"
    );

    let strict401 = FakeSalesforce::builder()
        .client_secret("s")
        .invalid_client_status(401)
        .start();
    let r = refresh(&strict401, DEFAULT_REFRESH_TOKEN);
    assert_eq!(
        r.oauth(),
        err(401, "invalid_client", "invalid client credentials")
    );
    let lax = FakeSalesforce::builder()
        .client_secret("s")
        .require_secret(false)
        .start();
    assert_eq!(refresh(&lax, DEFAULT_REFRESH_TOKEN).status, 200);
}

#[test]
fn a_second_request_with_a_token_in_flight_is_already_being_processed() {
    let server = Arc::new(
        FakeSalesforce::builder()
            .refresh_token("rt-0")
            .processing_delay(Duration::from_millis(500))
            .start(),
    );
    let s = server.clone();
    let first = thread::spawn(move || refresh(&s, "rt-0"));
    while server.requests().is_empty() {
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(50)); // well inside the 500 ms it is held
    let second = refresh(&server, "rt-0");
    assert_eq!(
        second.oauth(),
        err(
            400,
            "invalid_grant",
            "token request is already being processed"
        )
    );
    let first = first.join().unwrap();
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(
        !server.family_revoked(),
        "a concurrent request is not a replay"
    );
    assert_eq!(server.refresh_token_chain().len(), 2);
}

#[test]
fn issue_token_json_starts_a_new_family_that_refreshes() {
    let server = FakeSalesforce::builder().client_secret("s").start();
    let doc: Value = serde_json::from_str(&server.issue_token_json()).unwrap();
    let rt = doc["refresh_token"].as_str().unwrap();
    assert_eq!(server.current_refresh_token().as_deref(), Some(rt));
    assert_eq!(
        server.current_access_token().as_deref(),
        doc["access_token"].as_str()
    );
    assert_eq!(doc["id"], server.identity_url().as_str());
    assert!(doc["signature"].is_string() && doc["issued_at"].is_string());
    let r = token(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", rt),
            ("client_id", DEFAULT_CLIENT_ID),
            ("client_secret", "s"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // The seeded family lives on beside it.
    assert_eq!(
        token(
            &server,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", DEFAULT_REFRESH_TOKEN),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", "s"),
            ],
        )
        .status,
        200
    );
}

// ---- revoke, identity, introspect, REST ----

#[test]
fn revoke_kills_the_family_or_one_access_token() {
    let server = FakeSalesforce::builder().start();
    let at = server.current_access_token().unwrap();
    let identity = path_of(&server.identity_url());
    assert_eq!(get(&server, &identity, Some(&at)).status, 200);

    // An access token: that session only; the refresh token still works.
    let revoke = path_of(&server.revoke_url());
    let r = post(
        &server,
        &revoke,
        &[("token", &at), ("token_type_hint", "access_token")],
    );
    assert_eq!((r.status, r.body.as_str()), (200, ""));
    assert_eq!(get(&server, &identity, Some(&at)).status, 403);
    assert!(!server.family_revoked());
    let fresh = refresh(&server, DEFAULT_REFRESH_TOKEN);
    let rt = fresh.json()["refresh_token"].as_str().unwrap().to_string();

    // A refresh token: the whole family, its access token too.
    let at = server.current_access_token().unwrap();
    let r = post(
        &server,
        REVOKE_PATH,
        &[("token", &rt), ("client_id", DEFAULT_CLIENT_ID)],
    );
    assert_eq!(r.status, 200);
    assert!(server.family_revoked());
    assert_eq!(refresh(&server, &rt).oauth(), expired());
    assert_eq!(get(&server, &identity, Some(&at)).status, 403);

    // Unknown or dead: Salesforce's 400; wrong client: refused.
    let r = post(&server, REVOKE_PATH, &[("token", &rt)]);
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"error": "invalid_token"}))
    );
    let r = post(
        &server,
        REVOKE_PATH,
        &[("token", "x"), ("client_id", "other")],
    );
    assert_eq!(r.oauth().1, "invalid_client_id");
    // GET with the token in the query works too, as on Salesforce.
    let lenient = FakeSalesforce::builder().revoke_unknown_ok(true).start();
    assert_eq!(
        get(&lenient, &format!("{REVOKE_PATH}?token=unknown"), None).status,
        200
    );
    let rt = DEFAULT_REFRESH_TOKEN;
    assert_eq!(
        get(&lenient, &format!("{REVOKE_PATH}?token={rt}"), None).status,
        200
    );
    assert!(lenient.family_revoked());
}

#[test]
fn identity_answers_only_the_current_access_token() {
    let server = FakeSalesforce::builder()
        .username("ops@acme.example")
        .start();
    let identity = path_of(&server.identity_url());
    let old = server.current_access_token().unwrap();
    let r = get(&server, &identity, Some(&old));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(
        (&v["user_id"], &v["organization_id"], &v["username"]),
        (&json!(USER_ID), &json!(ORG_ID), &json!("ops@acme.example"))
    );
    assert_eq!(v["id"], server.identity_url().as_str());
    assert!(
        v["urls"]["rest"]
            .as_str()
            .unwrap()
            .starts_with(&server.base_url())
    );

    refresh(&server, DEFAULT_REFRESH_TOKEN);
    let r = get(&server, &identity, Some(&old));
    assert_eq!((r.status, r.body.as_str()), (403, "Bad_OAuth_Token"));
    let r = get(&server, &identity, None);
    assert_eq!((r.status, r.body.as_str()), (403, "Missing_OAuth_Token"));
    let new = server.current_access_token().unwrap();
    assert_eq!(get(&server, &identity, Some(&new)).status, 200);
    server.expire_access_token();
    assert_eq!(get(&server, &identity, Some(&new)).status, 403);
    assert_eq!(
        get(&server, "/id/00Dother/005other", Some(&new)).status,
        404
    );
}

#[test]
fn rest_limits_need_a_valid_access_token() {
    let server = FakeSalesforce::builder().start();
    let at = server.current_access_token().unwrap();
    let limits = path_of(&server.limits_url());
    let r = get(&server, &limits, Some(&at));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["DailyApiRequests"]["Max"], 15000);
    let r = get(&server, &limits, Some("00Dfake!AQ.bogus"));
    assert_eq!(r.status, 401);
    assert_eq!(r.json()[0]["errorCode"], "INVALID_SESSION_ID");
    assert_eq!(
        get(&server, "/services/data/v60.0/sobjects", Some(&at)).status,
        404
    );
}

#[test]
fn introspect_tells_live_tokens_from_dead_ones() {
    let server = FakeSalesforce::builder().client_secret("s").start();
    let ask = |token: &str| {
        post(
            &server,
            &path_of(&server.introspect_url()),
            &[
                ("token", token),
                ("client_id", DEFAULT_CLIENT_ID),
                ("client_secret", "s"),
            ],
        )
        .json()
    };
    let v = ask(DEFAULT_REFRESH_TOKEN);
    assert_eq!(
        (&v["active"], &v["token_type"]),
        (&json!(true), &json!("refresh_token"))
    );
    assert_eq!(v["username"], DEFAULT_USERNAME);
    let v = ask(&server.current_access_token().unwrap());
    assert_eq!(
        (&v["active"], &v["token_type"]),
        (&json!(true), &json!("access_token"))
    );
    assert_eq!(ask("nope"), json!({"active": false}));
    let r = post(
        &server,
        INTROSPECT_PATH,
        &[("token", "x"), ("client_id", DEFAULT_CLIENT_ID)],
    );
    assert_eq!(r.oauth().1, "invalid_client");
}

// ---- device flow ----

fn device_start(server: &FakeSalesforce) -> Value {
    let r = token(
        server,
        &[
            ("response_type", "device_code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("scope", "refresh_token api"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn device_poll(server: &FakeSalesforce, code: &str) -> Resp {
    token(
        server,
        &[
            ("grant_type", "device"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("code", code),
        ],
    )
}

#[test]
fn device_flow_pends_then_issues_a_refreshable_token() {
    let server = FakeSalesforce::builder()
        .device_interval(0)
        .device_pending_polls(2)
        .start();
    let d = device_start(&server);
    let keys: Vec<&str> = d.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        ["device_code", "user_code", "verification_uri", "interval"]
    );
    assert_eq!(d["interval"], 0);
    let verification = d["verification_uri"].as_str().unwrap();
    assert_eq!(get(&server, &path_of(verification), None).status, 200);
    let code = d["device_code"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            device_poll(&server, code).oauth().1,
            "authorization_pending"
        );
    }
    let r = device_poll(&server, code);
    assert_eq!(r.status, 200, "{}", r.body);
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(server.current_refresh_token(), Some(rt.clone()));
    assert_eq!(refresh(&server, &rt).status, 200);
    // The device code is spent.
    assert_eq!(device_poll(&server, code).oauth().1, "invalid_grant");
    assert_eq!(device_poll(&server, "unknown").oauth().1, "invalid_grant");
}

#[test]
fn device_flow_denied_expired_and_manual() {
    for (outcome, error) in [
        (DeviceOutcome::Deny, "access_denied"),
        (DeviceOutcome::Expire, "expired_token"),
    ] {
        let server = FakeSalesforce::builder()
            .device_interval(0)
            .device_pending_polls(0)
            .device_outcome(outcome)
            .start();
        let d = device_start(&server);
        let r = device_poll(&server, d["device_code"].as_str().unwrap());
        assert_eq!(r.oauth().1, error, "{outcome:?}");
    }

    let server = FakeSalesforce::builder()
        .device_interval(0)
        .device_outcome(DeviceOutcome::Manual)
        .start();
    let (a, b) = (device_start(&server), device_start(&server));
    let (code_a, code_b) = (
        a["device_code"].as_str().unwrap(),
        b["device_code"].as_str().unwrap(),
    );
    for _ in 0..3 {
        assert_eq!(
            device_poll(&server, code_a).oauth().1,
            "authorization_pending"
        );
    }
    assert_eq!(
        server.device_user_codes(),
        [
            a["user_code"].as_str().unwrap(),
            b["user_code"].as_str().unwrap()
        ]
    );
    assert!(server.approve_device(a["user_code"].as_str().unwrap()));
    assert!(server.deny_device(b["user_code"].as_str().unwrap()));
    assert!(!server.approve_device("NOPE"));
    assert_eq!(device_poll(&server, code_a).status, 200);
    assert_eq!(device_poll(&server, code_b).oauth().1, "access_denied");
    assert!(server.device_user_codes().is_empty());
}

#[test]
fn device_flow_slow_down() {
    // Knob: the first polls answer slow_down whatever their timing.
    let server = FakeSalesforce::builder()
        .device_interval(0)
        .device_slow_down_polls(2)
        .device_pending_polls(0)
        .start();
    let d = device_start(&server);
    let code = d["device_code"].as_str().unwrap();
    let slow = err(400, "slow_down", "polling too frequently");
    assert_eq!(device_poll(&server, code).oauth(), slow);
    assert_eq!(device_poll(&server, code).oauth(), slow);
    assert_eq!(device_poll(&server, code).status, 200);

    // Enforced interval: polling sooner than `interval` after the start or the last poll.
    let server = FakeSalesforce::builder()
        .device_interval(1)
        .device_pending_polls(0)
        .start();
    let d = device_start(&server);
    let code = d["device_code"].as_str().unwrap();
    assert_eq!(device_poll(&server, code).oauth(), slow);
    thread::sleep(Duration::from_millis(1050));
    assert_eq!(device_poll(&server, code).status, 200);

    // Not enforced: polling at once is just pending.
    let server = FakeSalesforce::builder()
        .device_interval(5)
        .device_enforce_interval(false)
        .start();
    let d = device_start(&server);
    let code = d["device_code"].as_str().unwrap();
    assert_eq!(
        device_poll(&server, code).oauth().1,
        "authorization_pending"
    );
    assert_eq!(device_poll(&server, code).status, 200);
}

// ---- web-server flow with PKCE ----

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT: &str = "http://localhost:1717/OauthRedirect";

fn authorize_path(challenge: &str, method: &str, state: &str) -> String {
    format!(
        "{AUTHORIZE_PATH}?{}",
        encode_form(&[
            ("response_type", "code"),
            ("client_id", DEFAULT_CLIENT_ID),
            ("redirect_uri", REDIRECT),
            ("code_challenge", challenge),
            ("code_challenge_method", method),
            ("state", state),
        ])
    )
}

/// The query of a redirect, decoded.
fn redirect_query(location: &str) -> Vec<(String, String)> {
    assert!(location.starts_with(REDIRECT), "{location}");
    parse_form(location.split_once('?').unwrap().1)
}

fn exchange(server: &FakeSalesforce, code: &str, redirect: &str, verifier: &str) -> Resp {
    token(
        server,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("client_id", DEFAULT_CLIENT_ID),
            ("code_verifier", verifier),
        ],
    )
}

fn authorize_code(server: &FakeSalesforce) -> String {
    // What the browser opens: the authorize URL with the query.
    let path = authorize_path(&pkce_challenge(VERIFIER), "S256", "st-1");
    let url = server.authorize_url() + &path[AUTHORIZE_PATH.len()..];
    let r = get(server, &path_of(&url), None);
    assert_eq!(r.status, 302, "{}", r.body);
    let q = redirect_query(r.header("location").unwrap());
    assert_eq!(q[1], ("state".to_string(), "st-1".to_string()));
    q[0].1.clone()
}

#[test]
fn pkce_code_exchange_checks_the_verifier_and_is_single_use() {
    // RFC 7636 appendix B's example pair.
    assert_eq!(
        pkce_challenge(VERIFIER),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    let server = FakeSalesforce::builder().start();
    let code = authorize_code(&server);
    assert!(code.ends_with("=="), "codes need decoding: {code}");

    let wrong = "x".repeat(43);
    assert_eq!(
        exchange(&server, &code, REDIRECT, &wrong).oauth(),
        err(400, "invalid_grant", "invalid code verifier")
    );
    assert_eq!(
        exchange(&server, &code, REDIRECT, "").oauth().2,
        "invalid code verifier"
    );
    let other = "http://localhost:1718/OauthRedirect";
    assert_eq!(
        exchange(&server, &code, other, VERIFIER).oauth().2,
        "redirect_uri mismatch"
    );
    assert_eq!(
        exchange(&server, "bogus", REDIRECT, VERIFIER).oauth().2,
        "invalid authorization code"
    );

    let r = exchange(&server, &code, REDIRECT, VERIFIER);
    assert_eq!(r.status, 200, "{}", r.body);
    let rt = r.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(server.current_refresh_token(), Some(rt));
    // Second use: refused, and what the first use got is revoked.
    assert_eq!(
        exchange(&server, &code, REDIRECT, VERIFIER).oauth().1,
        "invalid_grant"
    );
    assert!(server.family_revoked());
}

#[test]
fn authorize_refuses_bad_requests() {
    let server = FakeSalesforce::builder().start();
    let challenge = pkce_challenge(VERIFIER);
    // PKCE problems go back to the client by redirect, with the state.
    for path in [
        authorize_path(&challenge, "plain", "s"),
        format!(
            "{AUTHORIZE_PATH}?response_type=code&client_id={DEFAULT_CLIENT_ID}&redirect_uri={}&state=s",
            form_encode(REDIRECT)
        ),
    ] {
        let r = get(&server, &path, None);
        assert_eq!(r.status, 302);
        let q = redirect_query(r.header("location").unwrap());
        assert_eq!(q[0], ("error".into(), "invalid_request".into()));
        assert_eq!(q.last().unwrap(), &("state".into(), "s".into()));
    }
    // An unknown client or an unregistered redirect is shown, never redirected.
    let bad_client = authorize_path(&challenge, "S256", "s").replace(DEFAULT_CLIENT_ID, "other");
    let r = get(&server, &bad_client, None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("invalid_client_id"));
    let elsewhere =
        authorize_path(&challenge, "S256", "s").replace("localhost%3A1717", "evil.example");
    let r = get(&server, &elsewhere, None);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("redirect_uri_mismatch"));

    let fixed = FakeSalesforce::builder()
        .callback_url("http://localhost:1717/other")
        .start();
    assert_eq!(
        get(&fixed, &authorize_path(&challenge, "S256", "s"), None).status,
        400
    );
    let no_pkce = FakeSalesforce::builder().require_pkce(false).start();
    let path = format!(
        "{AUTHORIZE_PATH}?response_type=code&client_id={DEFAULT_CLIENT_ID}&redirect_uri={}",
        form_encode(REDIRECT)
    );
    let r = get(&no_pkce, &path, None);
    let code = &redirect_query(r.header("location").unwrap())[0].1;
    assert_eq!(exchange(&no_pkce, code, REDIRECT, "").status, 200);
}

#[test]
fn the_fake_user_can_deny_tamper_or_wait_for_the_test() {
    let challenge = pkce_challenge(VERIFIER);
    let path = authorize_path(&challenge, "S256", "st-1");

    let deny = FakeSalesforce::builder()
        .web_outcome(WebOutcome::Deny)
        .start();
    let q = redirect_query(get(&deny, &path, None).header("location").unwrap());
    assert_eq!(q[0], ("error".into(), "access_denied".into()));
    assert_eq!(q[2], ("state".into(), "st-1".into()));

    let tamper = FakeSalesforce::builder()
        .web_outcome(WebOutcome::TamperState)
        .start();
    let q = redirect_query(get(&tamper, &path, None).header("location").unwrap());
    assert_eq!(q[0].0, "code");
    assert_ne!(q[1], ("state".into(), "st-1".into()));

    let manual = FakeSalesforce::builder()
        .web_outcome(WebOutcome::Manual)
        .start();
    assert_eq!(manual.approve_web(), None);
    let r = get(&manual, &path, None);
    assert_eq!(r.status, 200);
    assert!(r.body.contains("Login"));
    get(&manual, &path, None);
    let q = redirect_query(&manual.approve_web().unwrap());
    assert_eq!(q[1], ("state".into(), "st-1".into()));
    assert_eq!(exchange(&manual, &q[0].1, REDIRECT, VERIFIER).status, 200);
    let q = redirect_query(&manual.deny_web().unwrap());
    assert_eq!(q[0], ("error".into(), "access_denied".into()));
    assert_eq!(manual.deny_web(), None);
}

// ---- JWT bearer ----

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Value {
    json!({
        "iss": DEFAULT_CLIENT_ID,
        "sub": DEFAULT_USERNAME,
        "aud": DEFAULT_AUDIENCE,
        "exp": now_secs() + 120,
    })
}

/// An RS256 JWT signed with the named key in tests/certs (PKCS#8 or PKCS#1 PEM).
fn jwt(key: &str, header: &Value, claims: &Value) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};
    let pair = if key.contains("pkcs1") {
        let der = PrivatePkcs1KeyDer::from_pem_file(cert_path(key)).unwrap();
        ring::signature::RsaKeyPair::from_der(der.secret_pkcs1_der()).unwrap()
    } else {
        let der = PrivatePkcs8KeyDer::from_pem_file(cert_path(key)).unwrap();
        ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap()
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn rs256() -> Value {
    json!({"alg": "RS256"})
}

fn jwt_grant(server: &FakeSalesforce, assertion: &str) -> Resp {
    token(
        server,
        &[("grant_type", JWT_GRANT), ("assertion", assertion)],
    )
}

#[test]
fn jwt_bearer_accepts_either_key_encoding_and_issues_no_refresh_token() {
    let server = FakeSalesforce::builder().start();
    for key in ["jwt.key", "jwt-pkcs1.key"] {
        let r = jwt_grant(&server, &jwt(key, &rs256(), &claims()));
        assert_eq!(r.status, 200, "{key}: {}", r.body);
        let v = r.json();
        assert!(v.get("refresh_token").is_none(), "{}", r.body);
        assert_eq!(
            server.current_access_token().as_deref(),
            v["access_token"].as_str()
        );
        assert_eq!(server.current_refresh_token(), None);
        let identity = path_of(&server.identity_url());
        assert_eq!(
            get(&server, &identity, v["access_token"].as_str()).status,
            200
        );
    }
    let mut aud_list = claims();
    aud_list["aud"] = json!(["https://other.example", DEFAULT_AUDIENCE]);
    assert_eq!(
        jwt_grant(&server, &jwt("jwt.key", &rs256(), &aud_list)).status,
        200
    );
}

#[test]
fn jwt_bearer_refusals_are_salesforce_worded() {
    let server = FakeSalesforce::builder().start();
    let refused = |assertion: &str| jwt_grant(&server, assertion).oauth();
    let grant = |why: &str| err(400, "invalid_grant", why);
    let with = |k: &str, v: Value| {
        let mut c = claims();
        c[k] = v;
        jwt("jwt.key", &rs256(), &c)
    };
    assert_eq!(
        refused(&jwt("jwt-wrong.key", &rs256(), &claims())),
        grant("invalid assertion")
    );
    assert_eq!(
        refused(&jwt("jwt.key", &json!({"alg": "RS384"}), &claims())),
        grant("invalid assertion")
    );
    assert_eq!(refused("not.a.jwt"), grant("invalid assertion"));
    assert_eq!(refused(""), grant("invalid assertion"));
    let good = jwt("jwt.key", &rs256(), &claims());
    let (head, rest) = good.split_once('.').unwrap();
    let unsigned = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        rest.rsplit_once('.').unwrap().0
    );
    assert_eq!(refused(&format!("{unsigned}.")), grant("invalid assertion"));
    let other = with("sub", json!("admin@acme.example"));
    let tampered_claims = other.split('.').nth(1).unwrap();
    assert_eq!(
        refused(&format!(
            "{head}.{tampered_claims}.{}",
            good.rsplit_once('.').unwrap().1
        )),
        grant("invalid assertion")
    );
    assert_eq!(
        refused(&with("aud", json!("https://test.salesforce.com"))),
        grant("audience is invalid")
    );
    assert_eq!(
        refused(&with("exp", json!(now_secs() - 60))),
        grant("expired authorization code")
    );
    assert_eq!(
        refused(&with("exp", json!(now_secs() + 600))),
        grant("invalid assertion")
    );
    assert_eq!(
        refused(&with("exp", Value::Null)),
        grant("invalid assertion")
    );
    assert_eq!(
        refused(&with("exp", json!(u64::MAX))),
        grant("invalid assertion")
    );
    assert_eq!(
        refused(&with("sub", json!("someone@else.example"))),
        grant("user hasn't approved this consumer")
    );
    assert_eq!(
        refused(&with("iss", json!("other"))),
        err(400, "invalid_client_id", "client identifier invalid")
    );

    let unapproved = FakeSalesforce::builder().jwt_user_approved(false).start();
    let r = jwt_grant(&unapproved, &jwt("jwt.key", &rs256(), &claims()));
    assert_eq!(r.oauth(), grant("user hasn't approved this consumer"));
    let sandbox = FakeSalesforce::builder()
        .audience("https://test.salesforce.com")
        .start();
    assert_eq!(
        jwt_grant(&sandbox, &jwt("jwt.key", &rs256(), &claims())).oauth(),
        grant("audience is invalid")
    );
    // Another app's key: its own assertions pass, ours do not.
    use rustls::pki_types::PrivatePkcs8KeyDer;
    use rustls::pki_types::pem::PemObject;
    let other = PrivatePkcs8KeyDer::from_pem_file(cert_path("jwt-wrong.key")).unwrap();
    let other = ring::signature::RsaKeyPair::from_pkcs8(other.secret_pkcs8_der()).unwrap();
    let keyed = FakeSalesforce::builder()
        .jwt_public_key_der(other.public().as_ref())
        .start();
    assert_eq!(
        jwt_grant(&keyed, &jwt("jwt-wrong.key", &rs256(), &claims())).status,
        200
    );
    let r = jwt_grant(&keyed, &jwt("jwt.key", &rs256(), &claims()));
    assert_eq!(r.oauth(), grant("invalid assertion"));
}

// ---- client credentials ----

#[test]
fn client_credentials_only_on_the_my_domain_host() {
    let cc =
        |server: &FakeSalesforce, host: &str, headers: &[(&str, &str)], pairs: &[(&str, &str)]| {
            let mut conn = Conn::open(server);
            conn.host = format!("{host}:{}", server.addr().port());
            let mut all = vec![FORM];
            all.extend_from_slice(headers);
            let mut form = vec![("grant_type", "client_credentials")];
            form.extend_from_slice(pairs);
            conn.request("POST", TOKEN_PATH, &all, &encode_form(&form))
        };
    let creds = [("client_id", DEFAULT_CLIENT_ID), ("client_secret", "s")];
    let not_here = err(400, "invalid_grant", "request not supported on this domain");

    let login = FakeSalesforce::builder().client_secret("s").start();
    assert_eq!(cc(&login, "127.0.0.1", &[], &creds).oauth(), not_here);

    let server = FakeSalesforce::builder()
        .client_secret("s")
        .my_domain_host("localhost")
        .start();
    assert_eq!(cc(&server, "127.0.0.1", &[], &creds).oauth(), not_here);
    let r = cc(&server, "localhost", &[], &creds);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json().get("refresh_token").is_none());
    assert!(r.json()["signature"].is_string());
    let b = basic(DEFAULT_CLIENT_ID, "s");
    assert_eq!(
        cc(&server, "LOCALHOST", &[("Authorization", &b)], &[]).status,
        200
    );
    let invalid = err(400, "invalid_client", "invalid client credentials");
    assert_eq!(
        cc(
            &server,
            "localhost",
            &[],
            &[("client_id", DEFAULT_CLIENT_ID)]
        )
        .oauth(),
        invalid
    );
    assert_eq!(
        cc(
            &server,
            "localhost",
            &[],
            &[("client_id", DEFAULT_CLIENT_ID), ("client_secret", "x")]
        )
        .oauth(),
        invalid
    );

    let no_secret = FakeSalesforce::builder().my_domain(true).start();
    assert_eq!(
        cc(
            &no_secret,
            "127.0.0.1",
            &[],
            &[("client_id", DEFAULT_CLIENT_ID), ("client_secret", "s")]
        )
        .oauth(),
        invalid
    );
}

// ---- HTTP: keep-alive, errors, TLS, state file ----

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let server = FakeSalesforce::builder().start();
    let mut conn = Conn::open(&server);
    let body = encode_form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", DEFAULT_REFRESH_TOKEN),
        ("client_id", DEFAULT_CLIENT_ID),
    ]);
    let first = conn.request("POST", TOKEN_PATH, &[FORM], &body);
    assert_eq!(
        (first.status, first.header("connection")),
        (200, Some("keep-alive"))
    );
    let at = first.json()["access_token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {at}");
    let second = conn.request(
        "GET",
        &path_of(&server.identity_url()),
        &[("Authorization", &auth)],
        "",
    );
    assert_eq!(second.status, 200);
    let third = conn.request("GET", "/nowhere", &[("Connection", "close")], "");
    assert_eq!(
        (third.status, third.header("connection")),
        (404, Some("close"))
    );
    assert!(third.body.contains("URL No Longer Exists"));
    assert!(conn.closed(), "Connection: close is honoured");
    assert_eq!(server.connections(), 1);
    assert!(server.requests().iter().all(|r| r.connection == 1));

    // HTTP/1.0 closes unless asked to keep alive.
    let mut old = Conn::open(&server);
    old.send_raw(b"GET /x HTTP/1.0\r\n\r\n");
    assert_eq!(old.response().unwrap().status, 404);
    assert!(old.closed());
    assert_eq!(server.connections(), 2);
}

#[test]
fn malformed_requests_get_400_and_the_server_keeps_serving() {
    let server = FakeSalesforce::builder().start();
    for raw in [
        &b"garbage\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"GET /x HTTP/1.1\r\n\r\n",
        b"GET http://elsewhere/ HTTP/1.1\r\nHost: x\r\n\r\n",
    ] {
        let mut conn = Conn::open(&server);
        conn.send_raw(raw);
        let r = conn.response().expect("an answer");
        assert_eq!(
            (r.status, r.header("connection")),
            (400, Some("close")),
            "{raw:?}"
        );
        assert!(conn.closed());
    }
    let mut conn = Conn::open(&server);
    conn.send_raw(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n");
    assert_eq!(conn.response().unwrap().status, 505);
    let mut conn = Conn::open(&server);
    conn.send_raw(
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n",
    );
    assert_eq!(conn.response().unwrap().status, 413);
    let mut conn = Conn::open(&server);
    conn.send_raw(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nffffffffffffffff\r\n",
    );
    assert_eq!(conn.response().unwrap().status, 413);
    // A client that disconnects mid-body does not disturb anyone.
    let mut conn = Conn::open(&server);
    conn.send_raw(
        b"POST /services/oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc",
    );
    drop(conn);
    assert_eq!(refresh(&server, DEFAULT_REFRESH_TOKEN).status, 200);
}

#[test]
fn chunked_bodies_expect_continue_and_odd_endpoints() {
    let server = FakeSalesforce::builder().rotate(false).start();
    let body = encode_form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", DEFAULT_REFRESH_TOKEN),
        ("client_id", DEFAULT_CLIENT_ID),
    ]);
    let (a, b) = body.split_at(10);
    let mut conn = Conn::open(&server);
    conn.send_raw(
        format!(
            "POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
            a.len(),
            b.len()
        )
        .as_bytes(),
    );
    assert_eq!(conn.response().unwrap().status, 200);
    conn.send_raw(
        format!(
            "POST {TOKEN_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    assert_eq!(conn.response().unwrap().status, 100);
    conn.send_raw(body.as_bytes());
    assert_eq!(conn.response().unwrap().status, 200);

    // Not a form: no fields, so no grant.
    let r = Conn::open(&server).request(
        "POST",
        TOKEN_PATH,
        &[("Content-Type", "application/json")],
        "{}",
    );
    assert_eq!(
        r.oauth(),
        err(400, "unsupported_grant_type", "grant type not supported")
    );
    let r = token(
        &server,
        &[("grant_type", "password"), ("client_id", DEFAULT_CLIENT_ID)],
    );
    assert_eq!(r.oauth().1, "unsupported_grant_type");
    let r = get(&server, TOKEN_PATH, None);
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let r = get(&server, "/services/oauth2/tokens", None);
    assert_eq!(r.status, 404);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let closed = FakeSalesforce::builder().token_endpoint_405(true).start();
    assert_eq!(refresh(&closed, DEFAULT_REFRESH_TOKEN).status, 405);
}

#[test]
fn tls_serves_the_test_certificate_with_keep_alive() {
    let server = FakeSalesforce::builder()
        .tls(true)
        .client_secret("s")
        .start();
    assert!(server.token_url().starts_with("https://127.0.0.1:"));
    assert!(
        server
            .base_url_for("localhost")
            .starts_with("https://localhost:")
    );
    let mut conn = Conn::open(&server);
    let auth = basic(DEFAULT_CLIENT_ID, "s");
    for _ in 0..2 {
        let rt = server.current_refresh_token().unwrap();
        let body = encode_form(&[("grant_type", "refresh_token"), ("refresh_token", &rt)]);
        let r = conn.request("POST", TOKEN_PATH, &[FORM, ("Authorization", &auth)], &body);
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            r.json()["id"]
                .as_str()
                .unwrap()
                .starts_with("https://127.0.0.1:")
        );
    }
    assert_eq!(server.connections(), 1);
    assert_eq!(server.refresh_token_chain().len(), 3);
}

#[test]
fn the_state_file_follows_every_request() {
    let dir = TempDir::new();
    let path = dir.path("state.json");
    let server = FakeSalesforce::builder()
        .refresh_token("rt-0")
        .state_file(&path)
        .start();
    let read =
        || -> Value { serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap() };
    assert_eq!(read()["current_refresh_token"], "rt-0");
    refresh(&server, "rt-0");
    let state = read();
    assert_eq!(state, server.snapshot());
    assert_eq!(
        state["current_refresh_token"],
        server.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(state["refresh_token_chain"][0], "rt-0");
    assert_eq!(state["family_revoked"], false);
    let req = &state["requests"][0];
    assert_eq!(
        (&req["method"], &req["path"]),
        (&json!("POST"), &json!(TOKEN_PATH))
    );
    assert!(
        req["form"]
            .as_array()
            .unwrap()
            .contains(&json!(["refresh_token", "rt-0"]))
    );
    refresh(&server, "rt-0");
    assert_eq!(read()["family_revoked"], true);
    assert_eq!(dir.names(), ["state.json"]);
}

#[test]
fn dropping_the_handle_stops_the_server() {
    let server = FakeSalesforce::builder().start();
    let addr = server.addr();
    drop(server);
    thread::sleep(Duration::from_millis(50));
    assert!(TcpStream::connect(addr).is_err(), "still listening");
}

#[test]
fn the_port_knob_binds_that_port() {
    let free = crate::server::free_port();
    let server = FakeSalesforce::builder().port(free).start();
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{free}"));
    assert_eq!(refresh(&server, DEFAULT_REFRESH_TOKEN).status, 200);
}

#[test]
fn sfrefresh_refreshes_an_issued_token_file_end_to_end() {
    // The real client against the fake: TLS, Basic, the signature check, and the
    // endpoint taken from the file's own `id` (no --token-url).
    let server = FakeSalesforce::builder()
        .tls(true)
        .client_id(crate::util::CLIENT_ID)
        .client_secret("s3cret")
        .start();
    let dir = TempDir::new();
    let file = dir.write("tok.json", &server.issue_token_json());
    let before = server.current_refresh_token().unwrap();
    let cacert = cert_path("ca.pem");
    let out = crate::util::run(
        crate::util::sfrefresh()
            .args([
                "--client-id",
                crate::util::CLIENT_ID,
                "--client-auth",
                "basic",
            ])
            .args(["--verify-signature", "--timeout", "10", "--cacert"])
            .arg(&cacert)
            .arg(&file)
            .env("SF_CLIENT_SECRET", "s3cret"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        saved["refresh_token"],
        server.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(
        saved["access_token"],
        server.current_access_token().unwrap().as_str()
    );
    assert_eq!(server.refresh_tokens_presented(), [before]);
    let request = &server.requests()[0];
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    assert_eq!(request.field("client_secret"), None);
    assert!(!server.family_revoked());
}
