//! The refresh job end to end: what is sent, what is saved, what is printed.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};

use crate::util::*;

const REFRESHED: &str = r#"{
  "access_token": "00Dx!AQ.new-access",
  "refresh_token": "5Aep861.refresh-r0",
  "signature": "c2ln",
  "scope": "refresh_token api",
  "instance_url": "https://acme.my.salesforce.com",
  "id": "https://login.salesforce.com/id/00Dx/005x",
  "token_type": "Bearer",
  "issued_at": "1708058728442"
}
"#;

#[test]
fn refreshes_in_place_and_sends_exactly_the_grant() {
    let server = Server::scripted(vec![Reply::token("00Dx!AQ.new-access")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "sfrefresh: refreshed token for https://acme.my.salesforce.com (refresh token kept)\n"
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), REFRESHED);
    assert_eq!(dir.names(), ["tok.json"]);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/services/oauth2/token");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(r.header("accept"), Some("application/json"));
    assert_eq!(
        r.header("user-agent").map(String::from),
        Some(format!("sfrefresh/{}", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(r.header("authorization"), None);
    assert_eq!(
        r.body,
        "grant_type=refresh_token&refresh_token=5Aep861.refresh-r0&client_id=3MVG9.client-id"
    );
}

#[test]
fn keeps_a_rotated_refresh_token_and_says_so() {
    let server = Server::scripted(vec![Reply::json(
        200,
        r#"{"access_token":"a2","refresh_token":"5Aep861.refresh-r1","issued_at":"1708058728442"}"#,
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.ends_with("(refresh token rotated)\n"),
        "{}",
        out.stderr
    );
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["refresh_token"], "5Aep861.refresh-r1");
    assert_eq!(saved["access_token"], "a2");
}

#[test]
fn preserves_unknown_fields_key_order_and_number_text() {
    let before = "\u{feff}{\"z_first\": {\"nested\": [1, 2.50, -0.0]},\n\"refresh_token\":\"r\",\
                  \"big\": 123456789012345678901234567890.000000000001, \"exp\": 1E+2,\
                  \"unicode\": \"caf\u{e9} \\u00e9 \\ud83d\\ude00\", \"null\": null, \"access_token\": \"old\"}";
    let server = Server::scripted(vec![Reply::json(
        200,
        r#"{"access_token":"new","sfdc_community_url":"https://c","issued_at":"1708058728442"}"#,
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", before);
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "{\n  \"z_first\": {\n    \"nested\": [\n      1,\n      2.50,\n      -0.0\n    ]\n  },\n  \
         \"refresh_token\": \"r\",\n  \"big\": 123456789012345678901234567890.000000000001,\n  \
         \"exp\": 1E+2,\n  \"unicode\": \"caf\u{e9} \u{e9} \u{1F600}\",\n  \"null\": null,\n  \
         \"access_token\": \"new\",\n  \"sfdc_community_url\": \"https://c\",\n  \
         \"issued_at\": \"1708058728442\"\n}\n"
    );
}

#[test]
fn records_issued_at_when_the_answer_has_none() {
    let server = Server::scripted(vec![Reply::json(
        200,
        r#"{"access_token":"new","expires_in":3600}"#,
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", r#"{"refresh_token":"r"}"#);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let saved: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
    let issued: u128 = saved["issued_at"]
        .as_str()
        .expect("a string, as Salesforce sends it")
        .parse()
        .unwrap();
    assert!(
        before <= issued && issued <= after,
        "{before} <= {issued} <= {after}"
    );
    assert_eq!(saved["expires_in"], 3600);
    // Without instance_url, the status line names the endpoint.
    assert_eq!(out.stderr, "");
}

#[test]
fn status_line_names_the_endpoint_without_instance_url() {
    let server = Server::scripted(vec![Reply::json(200, r#"{"access_token":"new"}"#)]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", r#"{"refresh_token":"r"}"#);
    let out = run(&mut refresh_cmd(&server, &file, &[]));
    assert_eq!(
        out.stderr,
        format!(
            "sfrefresh: refreshed token for {} (refresh token kept)\n",
            server.url()
        )
    );
}

#[test]
fn client_secret_post_from_file_trimmed() {
    let server = Server::scripted(vec![Reply::token("a")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let secret = dir.write("secret", "  s3cr&t=x \n");
    let mut cmd = refresh_cmd(
        &server,
        &file,
        &["--client-secret-file", secret.to_str().unwrap()],
    );
    cmd.env("SF_CLIENT_SECRET", "from-env-loses");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = &server.requests()[0];
    assert_eq!(r.field("client_secret").as_deref(), Some("s3cr&t=x"));
    assert_eq!(r.field("client_id").as_deref(), Some(CLIENT_ID));
    assert_eq!(r.header("authorization"), None);
}

#[test]
fn client_secret_basic_from_env_goes_only_in_the_header() {
    let server = Server::scripted(vec![Reply::token("a")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = refresh_cmd(&server, &file, &["--client-auth", "basic"]);
    cmd.env("SF_CLIENT_SECRET", "s3:cr t");
    let out = run(&mut cmd);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = &server.requests()[0];
    assert_eq!(
        r.body,
        "grant_type=refresh_token&refresh_token=5Aep861.refresh-r0"
    );
    // base64("3MVG9.client-id:s3%3Acr+t")
    assert_eq!(
        r.header("authorization"),
        Some("Basic M01WRzkuY2xpZW50LWlkOnMzJTNBY3IrdA==")
    );
}

#[test]
fn env_vars_configure_everything_and_flags_win() {
    let server = Server::scripted(vec![Reply::token("a"), Reply::token("b")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let mut cmd = sfrefresh();
    cmd.args(["-q"])
        .env("SF_TOKEN_FILE", &file)
        .env("SF_CLIENT_ID", "env-id")
        .env("SF_TOKEN_URL", server.url());
    assert_eq!(run(&mut cmd).code, 0);
    assert_eq!(
        server.requests()[0].field("client_id").as_deref(),
        Some("env-id")
    );
    cmd.args(["--client-id", "flag-id"]);
    assert_eq!(run(&mut cmd).code, 0);
    assert_eq!(
        server.requests()[1].field("client_id").as_deref(),
        Some("flag-id")
    );
}

#[test]
fn print_token_and_print_json() {
    let server = Server::scripted(vec![
        Reply::token("00Dx!AQ.new-access"),
        Reply::token("00Dx!AQ.new-access"),
    ]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &["--print", "token", "-q"],
    ));
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, "00Dx!AQ.new-access\n", "")
    );
    let out = run(&mut refresh_cmd(&server, &file, &["--print=json", "-q"]));
    assert_eq!((out.code, out.stdout.as_str()), (0, REFRESHED));
}

#[test]
fn if_older_than_skips_a_fresh_token_without_contacting_the_server() {
    let server = Server::scripted(vec![]);
    let dir = TempDir::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let fresh = TOKEN.replace("1700000000000", &(now - 5 * 60 * 1000).to_string());
    let file = dir.write("tok.json", &fresh);
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &["--if-older-than", "30m", "--print", "token"],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "00Dx!AQ.old-access\n");
    assert_eq!(
        out.stderr,
        "sfrefresh: token for https://acme.my.salesforce.com is fresh (issued 5m ago), not refreshed\n"
    );
    assert_untouched(&dir, &file, &fresh);
    assert_eq!(server.connections(), 0);
}

#[test]
fn if_older_than_refreshes_an_old_token() {
    let server = Server::scripted(vec![Reply::token("00Dx!AQ.new-access")]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &["--if-older-than", "45s"],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(fs::read_to_string(&file).unwrap(), REFRESHED);
}

#[test]
fn stdin_to_stdout_writes_no_file() {
    let server = Server::scripted(vec![Reply::token("00Dx!AQ.new-access")]);
    let dir = TempDir::new();
    let mut cmd = sfrefresh();
    cmd.current_dir(&dir.0)
        .args(["--client-id", CLIENT_ID, "--token-url", &server.url(), "-"]);
    let out = run_with_stdin(&mut cmd, TOKEN);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, REFRESHED);
    assert_eq!(dir.names(), Vec::<String>::new());
    assert_eq!(
        server.requests()[0].field("refresh_token").as_deref(),
        Some("5Aep861.refresh-r0")
    );
}

#[test]
fn stdin_bad_json_is_exit_3() {
    let server = Server::scripted(vec![]);
    let mut cmd = sfrefresh();
    cmd.args(["--client-id", CLIENT_ID, "--token-url", &server.url(), "-"]);
    let out = run_with_stdin(&mut cmd, "refresh_token=abc");
    assert_eq!(out.code, 3);
    assert!(
        out.stderr
            .starts_with("sfrefresh: error: token file - (stdin): is not valid JSON"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
    assert_eq!(server.connections(), 0);
}

#[test]
fn keeps_permissions() {
    for mode in [0o600, 0o640, 0o444] {
        let server = Server::scripted(vec![Reply::token("a")]);
        let dir = TempDir::new();
        let file = dir.write("tok.json", TOKEN);
        fs::set_permissions(&file, fs::Permissions::from_mode(mode)).unwrap();
        let out = run(&mut refresh_cmd(&server, &file, &["-q"]));
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            fs::metadata(&file).unwrap().permissions().mode() & 0o7777,
            mode
        );
        assert_eq!(dir.names(), ["tok.json"]);
    }
}

#[test]
fn a_symlink_stays_a_symlink_and_its_target_is_updated() {
    let server = Server::scripted(vec![Reply::token("00Dx!AQ.new-access")]);
    let dir = TempDir::new();
    fs::create_dir(dir.path("real")).unwrap();
    let target = dir.write("real/tok.json", TOKEN);
    let link = dir.path("link.json");
    symlink("real/tok.json", &link).unwrap();
    let out = run(&mut refresh_cmd(&server, &link, &["-q"]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_link(&link).unwrap().to_str(),
        Some("real/tok.json")
    );
    assert_eq!(fs::read_to_string(&target).unwrap(), REFRESHED);
    assert_eq!(dir.names(), ["link.json", "real"]);
    assert_eq!(fs::read_dir(dir.path("real")).unwrap().count(), 1);
}

#[test]
fn verbose_describes_steps_and_never_shows_a_secret() {
    let server = Server::scripted(vec![Reply::json(
        200,
        r#"{"access_token":"00Dx!AQ.SECRET-ACCESS","refresh_token":"5Aep861.SECRET-R1"}"#,
    )]);
    let dir = TempDir::new();
    let file = dir.write("tok.json", TOKEN);
    let secret = dir.write("secret", "SECRET-CLIENT");
    let out = run(&mut refresh_cmd(
        &server,
        &file,
        &["-v", "--client-secret-file", secret.to_str().unwrap()],
    ));
    assert_eq!(out.code, 0, "{}", out.stderr);
    for step in [
        format!("token endpoint {} (from --token-url)", server.url()),
        format!(
            "attempt 1 of 3: POST {} (client secret in body",
            server.url()
        ),
        format!("HTTP 200 from {}", server.url()),
        "saved ".to_string(),
    ] {
        assert!(
            out.stderr.contains(&step),
            "missing {step:?} in {}",
            out.stderr
        );
    }
    assert!(
        contains_none(
            &out.stderr,
            &["SECRET", "old-access", "refresh-r0", "5Aep861"]
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn help_and_version() {
    let out = run(sfrefresh().arg("--help"));
    assert_eq!(out.code, 0);
    assert!(out.stdout.starts_with("sfrefresh - refresh"));
    for needle in [
        "--client-secret-file",
        "SF_CLIENT_ID",
        "EXIT CODES",
        "5  the server refused",
    ] {
        assert!(out.stdout.contains(needle), "{needle}");
    }
    assert_eq!(out.stderr, "");
    let out = run(sfrefresh().arg("-V"));
    // `sfrefresh X.Y.Z (TARGET, commit HASH)`: what the artifact is.
    let prefix = format!("sfrefresh {} (", env!("CARGO_PKG_VERSION"));
    assert!(out.stdout.starts_with(&prefix), "{}", out.stdout);
    assert!(out.stdout.contains("linux"), "{}", out.stdout);
    assert!(out.stdout.contains(", commit "), "{}", out.stdout);
    assert!(out.stdout.ends_with(")\n"), "{}", out.stdout);
}

#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let cmd = sfrefresh();
    let argv: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let out = std::process::Command::new("bash")
        .args([
            "-c",
            &format!(
                "{} --help | head -c 5 >/dev/null; echo ${{PIPESTATUS[0]}}",
                argv.join(" ")
            ),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}
