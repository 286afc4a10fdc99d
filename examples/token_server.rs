//! A local Salesforce-compatible token endpoint (std only) for `make demo` and trying
//! sfrefresh without credentials or network. It rotates refresh tokens like an org with
//! "Enable Refresh Token Rotation", and revokes the family when an old token is replayed.
//!
//! Usage: token_server [--client-id ID] [--refresh-token TOKEN]
//! Prints its token URL on the first line of stdout, then serves until killed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

struct State {
    client_id: String,
    current: String,
    issued: u32,
    revoked: bool,
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut state = State {
        client_id: "demo-client".into(),
        current: "5Aep861.demo-refresh-0".into(),
        issued: 0,
        revoked: false,
    };
    while let Some(a) = args.next() {
        match (a.as_str(), args.next()) {
            ("--client-id", Some(v)) => state.client_id = v,
            ("--refresh-token", Some(v)) => state.current = v,
            _ => {
                eprintln!("usage: token_server [--client-id ID] [--refresh-token TOKEN]");
                std::process::exit(2);
            }
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = listener.local_addr().expect("local address").port();
    println!("http://127.0.0.1:{port}/services/oauth2/token");
    let _ = std::io::stdout().flush();
    for stream in listener.incoming().flatten() {
        // One connection at a time is plenty for a demo and keeps rotation simple.
        if let Err(e) = serve(stream, &mut state) {
            eprintln!("token_server: {e}");
        }
    }
}

fn serve(mut stream: TcpStream, state: &mut State) -> std::io::Result<()> {
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length.min(64 * 1024)];
    reader.read_exact(&mut body)?;
    let form = String::from_utf8_lossy(&body).into_owned();
    let field = |name: &str| {
        form.split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| decode(v))
    };
    let (status, json) = if !request_line.starts_with("POST /services/oauth2/token ") {
        (
            404,
            r#"{"error":"not_found","error_description":"try POST /services/oauth2/token"}"#
                .to_string(),
        )
    } else if field("grant_type").as_deref() != Some("refresh_token") {
        (
            400,
            r#"{"error":"unsupported_grant_type","error_description":"grant type not supported"}"#
                .into(),
        )
    } else if field("client_id").as_deref() != Some(state.client_id.as_str()) {
        (
            400,
            r#"{"error":"invalid_client_id","error_description":"client identifier invalid"}"#
                .into(),
        )
    } else if state.revoked || field("refresh_token").as_deref() != Some(state.current.as_str()) {
        state.revoked = true;
        (
            400,
            r#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#
                .into(),
        )
    } else {
        state.issued += 1;
        state.current = format!("5Aep861.demo-refresh-{}", state.issued);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        (
            200,
            format!(
                r#"{{"access_token":"00Ddemo!AQ.demo-access-{n}","refresh_token":"{rt}","signature":"ZGVtbw==","scope":"refresh_token api","instance_url":"https://demo.my.salesforce.com","id":"https://login.salesforce.com/id/00Ddemo/005demo","token_type":"Bearer","issued_at":"{now}"}}"#,
                n = state.issued,
                rt = state.current
            ),
        )
    };
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        if status == 200 { "OK" } else { "Bad Request" },
        json.len()
    )
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
