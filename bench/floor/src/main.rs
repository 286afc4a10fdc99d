//! floor TOKEN_URL CA_FILE TOKEN_FILE (client id from $SF_CLIENT_ID): read the file, POST
//! grant_type=refresh_token over TLS (rustls, the CA file as the only root), write the
//! answer (with the refresh token kept) to a temp file, fsync, rename, fsync the
//! directory. No JSON parser, no retries, no checks: the floor, not a tool.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (url, ca, path) = (&args[1], &args[2], &args[3]);
    let rest = url.strip_prefix("https://").expect("https URL");
    let (authority, target) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = authority.rsplit_once(':').unwrap_or((authority, "443"));

    let token = fs::read_to_string(path).expect("token file");
    let key = "\"refresh_token\": \"";
    let start = token.find(key).expect("refresh_token") + key.len();
    let refresh = &token[start..start + token[start..].find('"').unwrap()];
    let client_id = std::env::var("SF_CLIENT_ID").expect("SF_CLIENT_ID");
    let body = format!("grant_type=refresh_token&refresh_token={refresh}&client_id={client_id}");

    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("CA file") {
        roots.add(cert.expect("PEM")).expect("CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string()).unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect((host, port.parse::<u16>().unwrap())).expect("connect");
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let request = format!(
        "POST {target} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = tls.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    let (head, json) = answer.split_once("\r\n\r\n").expect("HTTP answer");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    // The answer with the refresh token kept, as the new file.
    let json = json.trim_end();
    let new = format!("{},\"refresh_token\":\"{refresh}\"}}\n", &json[..json.len() - 1]);
    let file = Path::new(path);
    let dir = file.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let temp = dir.join(format!(".floor-{}.tmp", std::process::id()));
    let mut out = File::create(&temp).unwrap();
    out.write_all(new.as_bytes()).unwrap();
    out.sync_all().unwrap();
    fs::rename(&temp, file).unwrap();
    File::open(dir).unwrap().sync_all().unwrap();
}
