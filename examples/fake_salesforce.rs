//! The tests' fake Salesforce (`tests/fake_salesforce.rs`) as a program, for `make demo`
//! and the Python script tests: a local org that rotates refresh tokens, revokes the
//! family when an old one is replayed, and knows the device, web-server (PKCE), JWT
//! bearer and client-credentials grants, revoke, introspect and the identity URL.
//!
//! Prints its base URL (`http://127.0.0.1:PORT`, or https with `--tls`) as the first
//! line of stdout and a JSON object of its URLs and settings as the second, then serves
//! until killed. `--state-file` keeps a JSON snapshot (current tokens, families, every
//! request) up to date after each request.

#[path = "../tests/server.rs"]
mod server;

#[path = "../tests/fake_salesforce.rs"]
#[allow(dead_code)] // the tests use more of it than this program does
mod fake_salesforce;

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use fake_salesforce::{DeviceOutcome, FakeSalesforce, WebOutcome};

const USAGE: &str = "\
usage: fake_salesforce [OPTIONS]

  --tls                      serve https with tests/certs/server.pem (trust tests/certs/ca.pem)
  --port N                   bind 127.0.0.1:N (default: any free port)
  --client-id ID             the Connected App's consumer key (default 3MVG9.fake-client-id)
  --client-secret SECRET     its secret: then required, and answers are signed
  --refresh-token TOKEN      seed a token family with this refresh token (repeatable;
                             default 5Aep861.fake-refresh-0)
  --no-rotate                keep refresh tokens (no rotation)
  --instance-url URL         instance_url of answers (default: the base URL)
  --username NAME            the user (JWT sub, identity)
  --my-domain                allow client_credentials (this host is a My Domain)
  --processing-delay-ms N    hold each refresh this long (\"already being processed\")
  --device-pending-polls N   device flow: authorization_pending answers before approval
  --device-interval SECONDS  device flow: the interval announced and enforced
  --device-outcome approve|deny|expire
  --web-outcome approve|deny|tamper-state
  --state-file PATH          write a JSON snapshot there after every request

Output: line 1 the base URL, line 2 a JSON object with token_url, authorize_url,
revoke_url, introspect_url, identity_url, client_id and refresh_tokens.";

fn main() {
    if let Err(e) = run() {
        eprintln!("fake_salesforce: {e}\n\n{USAGE}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), lexopt::Error> {
    use lexopt::prelude::*;
    let mut builder = FakeSalesforce::builder();
    let mut seeds = Vec::new();
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        builder = match arg {
            Long("help") | Short('h') => {
                println!("{USAGE}");
                return Ok(());
            }
            Long("tls") => builder.tls(true),
            Long("port") => builder.port(parser.value()?.parse()?),
            Long("client-id") => builder.client_id(&parser.value()?.string()?),
            Long("client-secret") => builder.client_secret(&parser.value()?.string()?),
            Long("refresh-token") => {
                let token = parser.value()?.string()?;
                seeds.push(token.clone());
                builder.refresh_token(&token)
            }
            Long("no-rotate") => builder.rotate(false),
            Long("instance-url") => builder.instance_url(&parser.value()?.string()?),
            Long("username") => builder.username(&parser.value()?.string()?),
            Long("my-domain") => builder.my_domain(true),
            Long("processing-delay-ms") => {
                builder.processing_delay(Duration::from_millis(parser.value()?.parse()?))
            }
            Long("device-pending-polls") => builder.device_pending_polls(parser.value()?.parse()?),
            Long("device-interval") => builder.device_interval(parser.value()?.parse()?),
            Long("device-outcome") => {
                builder.device_outcome(match parser.value()?.string()?.as_str() {
                    "approve" => DeviceOutcome::Approve,
                    "deny" => DeviceOutcome::Deny,
                    "expire" => DeviceOutcome::Expire,
                    other => return Err(format!("unknown device outcome {other:?}").into()),
                })
            }
            Long("web-outcome") => builder.web_outcome(match parser.value()?.string()?.as_str() {
                "approve" => WebOutcome::Approve,
                "deny" => WebOutcome::Deny,
                "tamper-state" => WebOutcome::TamperState,
                other => return Err(format!("unknown web outcome {other:?}").into()),
            }),
            Long("state-file") => builder.state_file(&PathBuf::from(parser.value()?)),
            _ => return Err(arg.unexpected()),
        };
    }
    if seeds.is_empty() {
        seeds.push(fake_salesforce::DEFAULT_REFRESH_TOKEN.to_string());
    }
    let server = builder.start();
    let details = serde_json::json!({
        "base_url": server.base_url(),
        "token_url": server.token_url(),
        "authorize_url": server.authorize_url(),
        "revoke_url": server.revoke_url(),
        "introspect_url": server.introspect_url(),
        "identity_url": server.identity_url(),
        "client_id": server.client_id(),
        "refresh_tokens": seeds,
    });
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}\n{details}", server.base_url());
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}
