//! Issue 10: `sfrefresh login` gets the first token with every grant (device flow, web
//! flow with PKCE, SFDX auth URL, JWT bearer, client credentials) against the fake
//! Salesforce and, where it has the grant, a real OAuth server (oidc-provider); then a
//! plain `sfrefresh FILE` keeps the file fresh. Each failure leaves no file.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::fake_salesforce::{
    DEFAULT_CLIENT_ID, DEFAULT_USERNAME, DeviceOutcome, FakeSalesforce, JWT_GRANT, TOKEN_PATH,
    WebOutcome,
};
use crate::oidc::{self, OidcProvider};
use crate::util::*;

// ---- helpers ----

fn cert(name: &str) -> String {
    cert_path(name).display().to_string()
}

fn doc(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `sfrefresh login` against the fake's token endpoint, with its client id.
fn login(fake: &FakeSalesforce, extra: &[&str], file: &Path) -> Command {
    let mut cmd = sfrefresh();
    cmd.args(["login", "--client-id", DEFAULT_CLIENT_ID]);
    cmd.args(["--token-url", &fake.token_url()]);
    cmd.args(extra);
    cmd.arg(file);
    cmd
}

/// A running sfrefresh whose stderr lines are read as they come, so that a test can act
/// on the code or the URL it shows, as a person would.
struct Live {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Live {
    fn start(cmd: &mut Command) -> Live {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Live {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first stderr line holding `needle`, waiting up to 20 s for it.
    fn line(&mut self, needle: &str) -> String {
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        let until = Instant::now() + Duration::from_secs(20);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no stderr line with {needle:?}; got {:#?}", self.seen)
    }

    /// The user code of a device login.
    fn user_code(&mut self) -> String {
        let line = self.line("enter the code ");
        line.rsplit(' ').next().unwrap().to_string()
    }

    /// The authorize URL of a web login.
    fn authorize_url(&mut self) -> String {
        self.line("sfrefresh:   http")
            .trim_start_matches("sfrefresh:")
            .trim()
            .to_string()
    }

    fn finish(mut self) -> Out {
        let mut stdout = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut stdout)
            .unwrap();
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        Out {
            code: status.code().unwrap_or(-1),
            stdout,
            stderr: self.seen.iter().map(|l| format!("{l}\n")).collect(),
        }
    }
}

/// A GET as a browser makes it; the `Location` of a redirect.
fn browse(url: &str) -> oidc::Response {
    oidc::request("GET", url, &[], "").unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Nothing in the directory: no token file, no temp file, no rescue file.
fn assert_empty(dir: &TempDir) {
    assert_eq!(dir.names(), Vec::<String>::new(), "litter left behind");
}

// ---- device flow, Salesforce's form, against the fake ----

#[test]
fn device_login_in_salesforces_form_then_a_plain_refresh_keeps_it_fresh() {
    let fake = FakeSalesforce::builder().device_interval(1).start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let out = run(&mut login(
        &fake,
        &["--device", "--scope", "refresh_token api"],
        &file,
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let base = fake.base_url();
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: to log in, open {base}/setup/connect and enter the code FAKE0001\n\
             sfrefresh: waiting for the approval, checking every 1s for up to 5m (Ctrl-C to \
             give up)\n\
             sfrefresh: logged in to {base}; saved {} (with a refresh token)\n",
            file.display()
        )
    );
    let reqs = fake.requests();
    let start = &reqs[0];
    assert_eq!(
        (
            start.field("response_type"),
            start.field("client_id"),
            start.field("scope")
        ),
        (
            Some("device_code"),
            Some(DEFAULT_CLIENT_ID),
            Some("refresh_token api")
        )
    );
    assert!(
        reqs[1..]
            .iter()
            .all(|r| r.field("grant_type") == Some("device")
                && r.field("code") == Some("M0RGLmZha2UtZGV2aWNlLWNvZGUt.1"))
    );
    assert_eq!(reqs.len(), 3, "one pending poll, then the token");
    let saved = doc(&file);
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        saved["refresh_token"],
        fake.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(saved["client_id"], DEFAULT_CLIENT_ID);
    assert_eq!(saved["sfrefresh_token_url"], fake.token_url().as_str());
    assert!(saved.get("sfrefresh_grant").is_none());
    assert_eq!(dir.names(), ["tok.json"]);
    // cron's line: no client id, no endpoint; the file says both.
    let out = run(sfrefresh().arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!("sfrefresh: refreshed token for {base} (refresh token rotated)\n")
    );
    assert_eq!(
        doc(&file)["access_token"],
        fake.current_access_token().unwrap().as_str()
    );
}

#[test]
fn device_login_slows_down_by_five_seconds_when_asked() {
    let fake = FakeSalesforce::builder()
        .device_interval(1)
        .device_slow_down_polls(1)
        .start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let out = run(&mut login(&fake, &["--device", "-v"], &file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the server asked to slow down: polling every 6s"),
        "{}",
        out.stderr
    );
    let polls: Vec<Duration> = fake
        .requests()
        .iter()
        .filter(|r| r.field("grant_type") == Some("device"))
        .map(|r| r.at)
        .collect();
    assert_eq!(polls.len(), 3, "slow_down, pending, token");
    assert!(polls[1] - polls[0] >= Duration::from_secs(6), "{polls:?}");
    assert!(
        polls[2] - polls[1] >= Duration::from_secs(6),
        "the slower pace stays: {polls:?}"
    );
}

#[test]
fn device_login_denied_or_expired_is_refused_and_leaves_no_file() {
    for (outcome, message, hint) in [
        (
            DeviceOutcome::Deny,
            "refused the login (HTTP 400): access_denied: end-user denied authorization",
            "the login was denied on the approval page; run it again and choose Allow",
        ),
        (
            DeviceOutcome::Expire,
            "refused the login (HTTP 400): expired_token: the device code has expired",
            "the code expired before it was approved; run the login again and approve it sooner",
        ),
    ] {
        let fake = FakeSalesforce::builder()
            .device_interval(1)
            .device_outcome(outcome)
            .start();
        let dir = TempDir::new();
        let out = run(&mut login(&fake, &["--device"], &dir.path("tok.json")));
        assert_eq!(out.code, 5, "{}", out.stderr);
        assert!(
            out.stderr.ends_with(&format!(
                "sfrefresh: error: {} {message}\nsfrefresh: hint: {hint}\n",
                fake.token_url()
            )),
            "{}",
            out.stderr
        );
        assert_empty(&dir);
    }
}

#[test]
fn device_login_not_approved_within_the_timeout_is_exit_4_and_no_file() {
    let fake = FakeSalesforce::builder()
        .device_interval(1)
        .device_outcome(DeviceOutcome::Manual)
        .start();
    let dir = TempDir::new();
    let out = run(&mut login(
        &fake,
        &["--device", "--timeout", "2.5"],
        &dir.path("tok.json"),
    ));
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "sfrefresh: error: the login was not approved within the 2.5s --timeout; nothing \
             was saved\n"
        ),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
}

#[test]
fn ctrl_c_while_waiting_for_the_approval_leaves_no_file() {
    let fake = FakeSalesforce::builder()
        .device_interval(1)
        .device_outcome(DeviceOutcome::Manual)
        .start();
    let dir = TempDir::new();
    let mut live = Live::start(&mut login(&fake, &["--device"], &dir.path("tok.json")));
    let code = live.user_code();
    assert_eq!(fake.device_user_codes(), [code]);
    thread::sleep(Duration::from_millis(1500));
    // SAFETY: a signal to the child we started.
    unsafe { libc::kill(live.child.id() as i32, libc::SIGINT) };
    let status = live.child.wait().unwrap();
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGINT));
    assert_empty(&dir);
}

#[test]
fn a_device_login_that_would_replace_a_refresh_token_needs_force() {
    let fake = FakeSalesforce::builder().device_interval(1).start();
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let out = run(&mut login(&fake, &["--device"], &file));
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: error: token file {}: already holds a refresh token; use --force to \
             replace it (the old token stays valid until revoked); nothing was sent\n",
            file.display()
        )
    );
    assert!(
        fake.requests().is_empty(),
        "nothing is sent before the file is known to take it"
    );
    assert_untouched(&dir, &file, TOKEN);
    let out = run(&mut login(&fake, &["--device", "--force"], &file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        doc(&file)["refresh_token"],
        fake.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(
        mode(&file),
        0o640,
        "a replaced file keeps its mode, as a refresh does"
    );
    assert_eq!(dir.names(), ["tok.json"]);
    // A token file without a refresh token (or an empty one) is replaced without --force;
    // a file that is not a token file is not.
    let other = dir.write("notes.txt", "my notes\n");
    let out = run(&mut login(&fake, &["--device"], &other));
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .contains("exists and is not a token file; use --force"),
        "{}",
        out.stderr
    );
    assert_eq!(fs::read_to_string(&other).unwrap(), "my notes\n");
    let empty = dir.write("empty.json", "");
    assert_eq!(run(&mut login(&fake, &["--device"], &empty)).code, 0);
}

// ---- SFDX auth URL import ----

#[test]
fn sfdx_auth_url_import_from_a_file_and_from_stdin() {
    let fake = FakeSalesforce::builder()
        .client_id("PlatformCLI")
        .refresh_token("5Aep861.ci-refresh")
        .start();
    let dir = TempDir::new();
    let auth = dir.write(
        "auth.txt",
        &format!(
            "force://PlatformCLI::5Aep861.ci-refresh@{}\n",
            fake.base_url()
        ),
    );
    let file = dir.path("tok.json");
    let out = run(sfrefresh()
        .args(["login", "--sfdx-url-file"])
        .arg(&auth)
        .arg(&file)
        .env("SF_CLIENT_ID", "ignored-for-an-import")
        .env("SF_TOKEN_URL", "https://ignored.example/t"));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let post = &fake.requests()[0];
    assert_eq!(post.path, TOKEN_PATH);
    assert_eq!(
        (
            post.field("grant_type"),
            post.field("refresh_token"),
            post.field("client_id")
        ),
        (
            Some("refresh_token"),
            Some("5Aep861.ci-refresh"),
            Some("PlatformCLI")
        )
    );
    assert_eq!(post.field("client_secret"), None);
    let saved = doc(&file);
    assert_eq!(
        saved["refresh_token"],
        fake.current_refresh_token().unwrap().as_str()
    );
    assert_eq!(saved["client_id"], "PlatformCLI");
    assert_eq!(saved["sfrefresh_token_url"], fake.token_url().as_str());
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        run(sfrefresh().arg(&file)).code,
        0,
        "the imported file refreshes"
    );

    // stdin, with a secret; the note says the file does not keep it.
    let fake = FakeSalesforce::builder()
        .client_id("3MVG9.ci")
        .client_secret("ci-s3cret")
        .refresh_token("5Aep861.ci-2")
        .start();
    let file = dir.path("two.json");
    let out = run_with_stdin(
        sfrefresh()
            .args(["login", "--sfdx-url-file", "-"])
            .arg(&file),
        &format!(
            "force://3MVG9.ci:ci-s3cret:5Aep861.ci-2@{}",
            fake.base_url()
        ),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fake.requests()[0].field("client_secret"), Some("ci-s3cret"));
    assert!(
        out.stderr
            .contains("does not keep the auth URL's client secret"),
        "{}",
        out.stderr
    );
    assert!(!fs::read_to_string(&file).unwrap().contains("ci-s3cret"));
    let out = run(sfrefresh().arg(&file).env("SF_CLIENT_SECRET", "ci-s3cret"));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn bad_sfdx_auth_urls_are_named_without_their_secrets() {
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let base = fake.base_url();
    for (text, problem) in [
        (String::new(), "is empty"),
        (
            format!("https://x:s3cretX:5Aep861tokX@{base}"),
            "does not start with force://",
        ),
        (
            "force://id:s3cretX:5Aep861tokX".into(),
            "has no @INSTANCE part",
        ),
        (
            format!("force://id:s3cretX@{base}"),
            "has no refresh token part",
        ),
        (
            format!("force://id:s3cretX:@{base}"),
            "has an empty refresh token part",
        ),
        (
            "force://id:s3cretX:5Aep861tokX@http://acme.example".into(),
            "has an instance that cannot be used: instance 'http://acme.example' is plain http",
        ),
    ] {
        let auth = dir.write("auth.txt", &text);
        let file = dir.path("tok.json");
        let out = run(sfrefresh()
            .args(["login", "--sfdx-url-file"])
            .arg(&auth)
            .arg(&file));
        assert_eq!(out.code, 2, "{text}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!(
                "sfrefresh: error: the SFDX auth URL in {} {problem}",
                auth.display()
            )),
            "{text}: {}",
            out.stderr
        );
        assert!(
            contains_none(&out.stderr, &["s3cretX", "5Aep861tokX"]),
            "{}",
            out.stderr
        );
        assert!(!file.exists());
    }
    assert!(fake.requests().is_empty());
    // Never from argv: there is no flag for it, and the id and endpoint options clash.
    let out = run(sfrefresh().args([
        "login",
        "--sfdx-url-file",
        "-",
        "--client-id",
        "x",
        "t.json",
    ]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--client-id cannot be used with --sfdx-url-file"),
        "{}",
        out.stderr
    );
}

// ---- JWT bearer ----

fn jwt_login(fake: &FakeSalesforce, key: &str, extra: &[&str], file: &Path) -> Out {
    let mut args = vec!["--jwt-key", key, "--username", DEFAULT_USERNAME];
    args.extend_from_slice(extra);
    run(&mut login(fake, &args, file))
}

#[test]
fn jwt_login_with_pkcs8_and_pkcs1_keys_then_each_refresh_mints_again() {
    for key in ["jwt.key", "jwt-pkcs1.key"] {
        let fake = FakeSalesforce::builder().start();
        let dir = TempDir::new();
        let file = dir.path("tok.json");
        let out = jwt_login(&fake, &cert(key), &[], &file);
        assert_eq!(out.code, 0, "{key}: {}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: logged in to {}; saved {} (no refresh token: 'sfrefresh {}' mints \
                 the next token with jwt-bearer)\n",
                fake.base_url(),
                file.display(),
                file.display()
            )
        );
        let post = &fake.requests()[0];
        assert_eq!(post.field("grant_type"), Some(JWT_GRANT));
        assert_eq!(
            post.field("client_secret"),
            None,
            "the assertion is the proof"
        );
        let saved = doc(&file);
        assert!(saved.get("refresh_token").is_none());
        assert_eq!(saved["sfrefresh_grant"], "jwt-bearer");
        assert_eq!(saved["sfrefresh_username"], DEFAULT_USERNAME);
        assert_eq!(saved["sfrefresh_jwt_key"], cert(key).as_str());
        assert_eq!(saved["sfrefresh_audience"], "https://login.salesforce.com");
        assert_eq!(saved["client_id"], DEFAULT_CLIENT_ID);
        assert_eq!(mode(&file), 0o600);
        assert!(!fs::read_to_string(&file).unwrap().contains("PRIVATE KEY"));
        // cron: a plain refresh mints again with what the file recorded.
        let out = run(sfrefresh().arg(&file));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            format!(
                "sfrefresh: refreshed token for {} (new token minted with jwt-bearer)\n",
                fake.base_url()
            )
        );
        assert_eq!(fake.requests().len(), 2);
        assert_eq!(
            doc(&file)["access_token"],
            fake.current_access_token().unwrap().as_str()
        );
        // --if-older-than keeps a fresh one without asking.
        let out = run(sfrefresh().args(["--if-older-than", "1h", "-q"]).arg(&file));
        assert_eq!((out.code, out.stderr.as_str()), (0, ""));
        assert_eq!(fake.requests().len(), 2);
    }
}

#[test]
fn jwt_refusals_wrong_key_wrong_audience_unapproved_user() {
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let fake = FakeSalesforce::builder().start();
    let out = jwt_login(&fake, &cert("jwt-wrong.key"), &[], &file);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("refused the login (HTTP 400): invalid_grant: invalid assertion\n"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("hint: Salesforce could not verify the JWT"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);

    let sandbox = FakeSalesforce::builder()
        .audience("https://test.salesforce.com")
        .start();
    let out = jwt_login(&sandbox, &cert("jwt.key"), &[], &file);
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("invalid_grant: audience is invalid"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("hint: the JWT's aud must be"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
    // --sandbox picks the sandbox audience (--token-url still names the endpoint).
    let out = jwt_login(&sandbox, &cert("jwt.key"), &["--sandbox"], &file);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        doc(&file)["sfrefresh_audience"],
        "https://test.salesforce.com"
    );
    fs::remove_file(&file).unwrap();

    let unapproved = FakeSalesforce::builder().jwt_user_approved(false).start();
    let out = jwt_login(&unapproved, &cert("jwt.key"), &[], &file);
    assert_eq!(out.code, 5);
    assert!(
        out.stderr
            .contains("hint: the user has not approved this app"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
}

#[test]
fn an_expired_assertion_is_refused_with_a_clock_hint() {
    // What Salesforce answers for an assertion whose exp has passed (a skewed clock).
    let server = Server::scripted(vec![Reply::oauth_error(
        400,
        "invalid_grant",
        "expired authorization code",
    )]);
    let dir = TempDir::new();
    let out = run(sfrefresh()
        .args([
            "login",
            "--client-id",
            CLIENT_ID,
            "--token-url",
            &server.url(),
        ])
        .args(["--jwt-key", &cert("jwt.key"), "--username", "u@x"])
        .arg(dir.path("tok.json")));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("hint: the assertion or code expired before Salesforce checked it: check this box's clock"), "{}", out.stderr);
    assert_empty(&dir);
}

#[test]
fn jwt_usage_errors_name_what_is_missing_and_send_nothing() {
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let not_a_key = dir.write(
        "key.pem",
        "-----BEGIN PRIVATE KEY-----\nNOTAKEY5Aep861\n-----END PRIVATE KEY-----\n",
    );
    let secret_text = dir.write("secret.txt", "just-a-secret-5Aep861\n");
    let key = cert("jwt.key");
    let ec_key = cert("server.key");
    for (args, message) in [
        (
            vec!["--jwt-key", key.as_str()],
            "the JWT bearer grant needs --username NAME: the Salesforce user the app acts as \
             (the assertion's sub)"
                .to_string(),
        ),
        (
            vec!["--jwt-key", "/nonexistent/key.pem", "--username", "u"],
            "cannot read the JWT key file /nonexistent/key.pem: no such file or directory".into(),
        ),
        (
            vec!["--jwt-key", not_a_key.to_str().unwrap(), "--username", "u"],
            format!(
                "the JWT key file {} holds a key that is not a usable RSA private key: the \
                 JWT bearer grant needs RSA (RS256), 2048 to 4096 bits",
                not_a_key.canonicalize().unwrap().display()
            ),
        ),
        (
            vec![
                "--jwt-key",
                secret_text.to_str().unwrap(),
                "--username",
                "u",
            ],
            format!(
                "the JWT key file {} holds no PEM private key (-----BEGIN PRIVATE KEY----- or \
                 -----BEGIN RSA PRIVATE KEY-----)",
                secret_text.canonicalize().unwrap().display()
            ),
        ),
        (
            vec!["--jwt-key", &ec_key, "--username", "u"],
            format!(
                "the JWT key file {ec_key} holds a key that is not a usable RSA private key: \
                     the JWT bearer grant needs RSA (RS256), 2048 to 4096 bits"
            ),
        ),
        (
            vec!["--grant", "jwt-bearer", "--username", "u"],
            "the JWT bearer grant needs the app's private key: --jwt-key PATH (a PEM file)".into(),
        ),
    ] {
        let out = run(&mut login(&fake, &args, &file));
        assert_eq!(
            (out.code, out.stderr.clone()),
            (2, format!("sfrefresh: error: {message}\n")),
            "{args:?}"
        );
        assert!(!out.stderr.contains("5Aep861"));
    }
    assert!(fake.requests().is_empty());
    assert!(!file.exists());
}

// ---- client credentials ----

#[test]
fn client_credentials_login_at_my_domain_then_each_refresh_mints_again() {
    let fake = FakeSalesforce::builder()
        .client_secret("cc-s3cret")
        .my_domain(true)
        .start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let secret = dir.write("secret", "cc-s3cret\n");
    let secret_arg = secret.display().to_string();
    let cc = [
        "--grant",
        "client-credentials",
        "--client-secret-file",
        &secret_arg,
    ];
    let out = run(&mut login(&fake, &cc, &file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let post = &fake.requests()[0];
    assert_eq!(post.field("grant_type"), Some("client_credentials"));
    assert_eq!(post.field("client_secret"), Some("cc-s3cret"));
    let saved = doc(&file);
    assert_eq!(saved["sfrefresh_grant"], "client-credentials");
    assert!(saved.get("refresh_token").is_none());
    assert!(!fs::read_to_string(&file).unwrap().contains("cc-s3cret"));
    // The next mint needs the secret again, and nothing else.
    let out = run(sfrefresh()
        .args(["--client-auth", "basic", "--client-secret-file"])
        .arg(&secret)
        .arg(&file));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("(new token minted with client-credentials)"),
        "{}",
        out.stderr
    );
    assert!(fake.requests()[1].header("authorization").is_some());
    let out = run(sfrefresh().arg(&file));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("the client credentials grant needs the client secret"),
        "{}",
        out.stderr
    );
    // Without a secret at login: a usage error, nothing sent.
    let n = fake.requests().len();
    let out = run(&mut login(
        &fake,
        &["--grant", "client-credentials"],
        &dir.path("x.json"),
    ));
    assert_eq!(out.code, 2);
    assert_eq!(fake.requests().len(), n);
}

#[test]
fn client_credentials_off_my_domain_says_where_to_go() {
    let fake = FakeSalesforce::builder().client_secret("s3cret-cc").start();
    let dir = TempDir::new();
    let out = run(login(
        &fake,
        &["--grant", "client-credentials"],
        &dir.path("tok.json"),
    )
    .env("SF_CLIENT_SECRET", "s3cret-cc"));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("invalid_grant: request not supported on this domain"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint: client credentials work only at the org's My Domain endpoint: --login-url https://MYDOMAIN.my.salesforce.com"), "{}", out.stderr);
    assert_empty(&dir);
}

// ---- web-server flow with PKCE, against the fake ----

fn web_login(fake: &FakeSalesforce, port: u16, file: &Path, extra: &[&str]) -> Live {
    let port = port.to_string();
    let mut args = vec!["--web", "--redirect-port", port.as_str()];
    args.extend_from_slice(extra);
    Live::start(&mut login(fake, &args, file))
}

#[test]
fn web_login_with_pkce_then_a_plain_refresh() {
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let port = free_port();
    let mut live = web_login(&fake, port, &file, &[]);
    let url = live.authorize_url();
    assert!(
        url.starts_with(&format!(
            "{}/services/oauth2/authorize?response_type=code&client_id=",
            fake.base_url()
        )),
        "{url}"
    );
    // The browser: the authorize page redirects back to sfrefresh, which answers a page.
    let location = browse(&url).header("location").unwrap().to_string();
    assert!(
        location.starts_with(&format!("http://localhost:{port}/OauthRedirect?code=")),
        "{location}"
    );
    let page = browse(&location);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You can close this tab"));
    let out = live.finish();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let exchange = fake
        .requests()
        .into_iter()
        .find(|r| r.field("grant_type") == Some("authorization_code"))
        .unwrap();
    assert_eq!(
        exchange.field("redirect_uri"),
        Some(format!("http://localhost:{port}/OauthRedirect").as_str())
    );
    assert_eq!(exchange.field("code_verifier").map(str::len), Some(43));
    assert_eq!(
        doc(&file)["refresh_token"],
        fake.current_refresh_token().unwrap().as_str()
    );
    assert!(
        !out.stderr
            .contains(exchange.field("code_verifier").unwrap())
    );
    assert_eq!(run(sfrefresh().arg(&file)).code, 0);
}

#[test]
fn web_login_wrong_state_denial_and_timeout_leave_no_file() {
    for (outcome, code, says) in [
        (
            WebOutcome::TamperState,
            4,
            "the browser came back with a state that is not this login's",
        ),
        (
            WebOutcome::Deny,
            5,
            "the login was refused: the browser came back with access_denied: end-user denied authorization",
        ),
    ] {
        let fake = FakeSalesforce::builder().web_outcome(outcome).start();
        let dir = TempDir::new();
        let mut live = web_login(&fake, free_port(), &dir.path("tok.json"), &[]);
        let location = browse(&live.authorize_url())
            .header("location")
            .unwrap()
            .to_string();
        assert_eq!(browse(&location).status, 400);
        let out = live.finish();
        assert_eq!(out.code, code, "{}", out.stderr);
        assert!(out.stderr.contains(says), "{}", out.stderr);
        assert!(
            fake.requests()
                .iter()
                .all(|r| r.field("grant_type").is_none()),
            "no code was exchanged"
        );
        assert_empty(&dir);
    }
    // Issue 20: the SSH hint names the --redirect-port in use, not the default 1717.
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let port = free_port();
    let out = web_login(&fake, port, &dir.path("tok.json"), &["--timeout", "1"]).finish();
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.ends_with(&format!(
            "\nsfrefresh: error: the browser did not come back within the 1s --timeout; \
             nothing was saved\n\
             sfrefresh: hint: open the URL above in a browser on this machine (over SSH, \
             forward the port first: ssh -L {port}:localhost:{port} HOST), or give a longer \
             --timeout\n"
        )),
        "{}",
        out.stderr
    );
    assert!(fake.requests().is_empty(), "nothing was exchanged");
    assert_empty(&dir);
}

#[test]
fn web_login_open_hands_the_url_to_the_desktop_as_one_argument() {
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let bin = dir.path("bin");
    fs::create_dir(&bin).unwrap();
    let seen = dir.path("opened");
    let opener = bin.join("xdg-open");
    fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s|%s' \"$#\" \"$1\" > {}.tmp && mv {0}.tmp {0}\n",
            seen.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&opener, fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    let file = dir.path("tok.json");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = login(
        &fake,
        &["--web", "--open", "--redirect-port", &port.to_string()],
        &file,
    );
    let mut live = Live::start(cmd.env("PATH", path));
    let printed = live.authorize_url();
    let until = Instant::now() + Duration::from_secs(10);
    while !seen.exists() && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
    let opened = fs::read_to_string(&seen).unwrap();
    assert_eq!(opened, format!("1|{printed}"));
    let location = browse(&printed).header("location").unwrap().to_string();
    browse(&location);
    assert_eq!(live.finish().code, 0);
}

// ---- usage ----

#[test]
fn login_usage_errors() {
    let dir = TempDir::new();
    let file = dir.path("tok.json").display().to_string();
    let file = file.as_str();
    for (args, message) in [
        (
            vec!["login", file],
            "'sfrefresh login' needs one way to get the token",
        ),
        (
            vec!["login", "--device", "--web", file],
            "--device and --web are two ways to log in: choose one",
        ),
        (
            vec!["login", "--device", file],
            "no client id: pass --client-id or set SF_CLIENT_ID",
        ),
        (
            vec!["login", "--device", "--client-id", "x", "-"],
            "writes a token file, not stdout",
        ),
        (
            vec![
                "login",
                "--device",
                "--redirect-port",
                "1",
                "--client-id",
                "x",
                file,
            ],
            "--redirect-port goes with --web, not with --device",
        ),
        (
            vec![
                "login",
                "--web",
                "--redirect-port",
                "0",
                "--client-id",
                "x",
                file,
            ],
            "invalid value '0' for '--redirect-port'",
        ),
        (
            vec!["login", "--grant", "refresh-token", file],
            "--grant takes jwt-bearer or client-credentials here",
        ),
        (
            vec!["--device", file],
            "--device is only for 'sfrefresh login'",
        ),
        (
            vec!["--force", file],
            "--force is only for 'sfrefresh login'",
        ),
        (
            vec!["--grant", "magic", file],
            "invalid value 'magic' for '--grant'",
        ),
        (
            vec!["login", "--device", "--if-older-than", "1h", file],
            "--if-older-than is only for 'sfrefresh refresh', 'sfrefresh exec' and \
             'sfrefresh status', not for 'sfrefresh login'",
        ),
    ] {
        let out = run(sfrefresh().args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
    }
    assert_empty(&dir);
    // A non-Salesforce endpoint without --device-url or --authorize-url.
    let out = run(sfrefresh().args([
        "login",
        "--device",
        "--client-id",
        "x",
        "--token-url",
        "http://127.0.0.1:9/token",
        file,
    ]));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("give the server's RFC 8628 device authorization endpoint with --device-url"),
        "{}",
        out.stderr
    );
    // The redirect port is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = run(sfrefresh().args([
        "login",
        "--web",
        "--client-id",
        "x",
        "--redirect-port",
        &port,
        file,
    ]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port} for the browser's redirect"
        )),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
}

#[test]
fn help_login_fits_80_columns_and_ends_with_examples() {
    let out = run(sfrefresh().args(["help", "login"]));
    assert_eq!(out.code, 0);
    for line in out.stdout.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(out.stdout.starts_with("sfrefresh login - "));
    let examples = out.stdout.rsplit("EXAMPLES:").next().unwrap();
    assert!(examples.contains("sfrefresh login --device"));
    assert_eq!(
        run(sfrefresh().args(["login", "--help"])).stdout,
        out.stdout
    );
}

// ---- against a real OAuth server (oidc-provider) ----

/// `login` against the provider's token endpoint.
fn op_login(op: &OidcProvider, client: &str, extra: &[&str], file: &Path) -> Command {
    let mut cmd = sfrefresh();
    cmd.args([
        "login",
        "--client-id",
        client,
        "--token-url",
        &op.token_endpoint,
    ]);
    cmd.args(extra);
    cmd.arg(file);
    cmd
}

fn device_args(op: &OidcProvider) -> Vec<String> {
    [
        "--device",
        "--device-url",
        &op.device_authorization_endpoint,
        "--scope",
        "openid offline_access",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn oidc_device_login_end_to_end_then_the_file_refreshes_alone() {
    let Some(op) = OidcProvider::start_with(&["--device-interval=1"]) else {
        return;
    };
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let args = device_args(&op);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut live = Live::start(&mut op_login(&op, &op.native.id, &args, &file));
    let code = live.user_code();
    let shown = live.line("enter the code");
    assert!(
        shown.starts_with(&format!(
            "sfrefresh: to log in, open {} and",
            op.verification_uri
        )),
        "{shown}"
    );
    assert!(live.line("or open ").contains("user_code="));
    op.approve_device(&code)
        .unwrap_or_else(|e| panic!("{e}\n{}", op.log()));
    let out = live.finish();
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    let saved = doc(&file);
    assert!(saved["refresh_token"].is_string());
    assert_eq!(saved["sfrefresh_token_url"], op.token_endpoint.as_str());
    assert_eq!(mode(&file), 0o600);
    // A refresh with nothing but the file: client id and endpoint come from it.
    let out = run(sfrefresh().arg(&file));
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    assert!(
        out.stderr.contains("(refresh token rotated)"),
        "{}",
        out.stderr
    );
    assert_ne!(doc(&file)["refresh_token"], saved["refresh_token"]);
}

#[test]
fn oidc_device_login_denied_or_expired() {
    let Some(op) = OidcProvider::start_with(&["--device-interval=1"]) else {
        return;
    };
    let dir = TempDir::new();
    let args = device_args(&op);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut live = Live::start(&mut op_login(
        &op,
        &op.native.id,
        &args,
        &dir.path("tok.json"),
    ));
    op.deny_device(&live.user_code()).unwrap();
    let out = live.finish();
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("access_denied: End-User aborted interaction"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);

    let Some(op) = OidcProvider::start_with(&["--device-interval=2", "--device-code-ttl=1"]) else {
        return;
    };
    let args = device_args(&op);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&mut op_login(
        &op,
        &op.native.id,
        &args,
        &dir.path("tok.json"),
    ));
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(
        out.stderr.contains("expired_token: device code is expired"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
}

/// `--web` against the provider's authorization endpoint, the redirect on `port`.
fn web_args(op: &OidcProvider, port: &str) -> Vec<String> {
    [
        "--web",
        "--authorize-url",
        &op.authorization_endpoint,
        "--redirect-port",
        port,
        "--scope",
        "openid offline_access",
    ]
    .map(String::from)
    .to_vec()
}

#[test]
fn oidc_web_login_with_pkce_then_the_file_refreshes_alone() {
    let Some(op) = OidcProvider::start() else {
        return;
    };
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let port = free_port().to_string();
    let args = web_args(&op, &port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut live = Live::start(&mut op_login(&op, &op.native.id, &args, &file));
    let url = live.authorize_url();
    assert!(
        url.contains("code_challenge_method=S256") && url.contains("prompt=consent"),
        "{url}"
    );
    let location = op
        .authorize(&url)
        .unwrap_or_else(|e| panic!("{e}\n{}", op.log()));
    assert!(
        location.starts_with(&format!("http://localhost:{port}/OauthRedirect?code=")),
        "{location}"
    );
    assert_eq!(browse(&location).status, 200);
    let out = live.finish();
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    assert!(doc(&file)["refresh_token"].is_string());
    let out = run(sfrefresh().arg(&file));
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
}

#[test]
fn oidc_web_login_with_a_wrong_state_exchanges_nothing() {
    let Some(op) = OidcProvider::start() else {
        return;
    };
    let dir = TempDir::new();
    let port = free_port().to_string();
    let args = web_args(&op, &port);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut live = Live::start(&mut op_login(
        &op,
        &op.native.id,
        &args,
        &dir.path("tok.json"),
    ));
    let location = op.authorize(&live.authorize_url()).unwrap();
    let state = oidc::query_param(&location, "state").unwrap();
    let forged = location.replace(&format!("state={state}"), "state=forged");
    assert_eq!(browse(&forged).status, 400);
    let out = live.finish();
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.contains("a state that is not this login's"),
        "{}",
        out.stderr
    );
    assert_empty(&dir);
}

#[test]
fn oidc_client_credentials_with_basic_then_each_refresh_mints_again() {
    let Some(op) = OidcProvider::start() else {
        return;
    };
    let c = op.confidential.clone();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let out = run(op_login(
        &op,
        &c.id,
        &[
            "--grant",
            "client-credentials",
            "--client-auth",
            "basic",
            "--scope",
            "api",
        ],
        &file,
    )
    .env("SF_CLIENT_SECRET", c.secret()));
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    let first = doc(&file);
    assert_eq!(first["sfrefresh_grant"], "client-credentials");
    assert_eq!(first["scope"], "api");
    assert!(!fs::read_to_string(&file).unwrap().contains(c.secret()));
    let out = run(sfrefresh()
        .args(["--client-auth", "basic"])
        .arg(&file)
        .env("SF_CLIENT_SECRET", c.secret()));
    assert_eq!(out.code, 0, "{}\n{}", out.stderr, op.log());
    assert_ne!(doc(&file)["access_token"], first["access_token"]);
}

#[test]
fn login_print_writes_the_token_to_stdout_and_nothing_else_goes_there() {
    let fake = FakeSalesforce::builder().start();
    let dir = TempDir::new();
    let file = dir.path("tok.json");
    let key = cert("jwt.key");
    let out = jwt_login(&fake, &key, &["--print", "token", "-q"], &file);
    assert_eq!(
        (out.code, out.stdout, out.stderr),
        (
            0,
            format!("{}\n", fake.current_access_token().unwrap()),
            String::new()
        )
    );
    assert_eq!(
        doc(&file)["access_token"],
        fake.current_access_token().unwrap().as_str()
    );
}
