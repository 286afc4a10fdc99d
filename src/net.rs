//! The HTTP agent: TLS trust (built-in Mozilla roots or --cacert), the proxy route,
//! no redirects, every status returned to us.

use std::net::IpAddr;
use std::path::PathBuf;

use ureq::http::Uri;
use ureq::tls::{PemItem, RootCerts, TlsConfig};
use ureq::{Agent, Proxy};

use crate::cli::{ProxySetting, Sourced};
use crate::error::Error;

/// The roots to trust: exactly the certificates in `--cacert` / `SSL_CERT_FILE` (as
/// curl's `--cacert` does), or the Mozilla set compiled into the binary, which needs
/// no `/etc/ssl` and so works in a scratch container.
pub fn roots(cacert: Option<&Sourced<PathBuf>>) -> Result<RootCerts, Error> {
    let Some(ca) = cacert else {
        return Ok(RootCerts::WebPki);
    };
    let shown = format!("{} (from {})", ca.value.display(), ca.source);
    let pem = std::fs::read(&ca.value)
        .map_err(|e| Error::Usage(format!("cannot read the CA file {shown}: {e}")))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(_) => {
                return Err(Error::Usage(format!(
                    "the CA file {shown} is not a valid PEM file"
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::Usage(format!(
            "the CA file {shown} holds no PEM certificates"
        )));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

/// How the request reaches the endpoint.
pub enum Route {
    Direct(&'static str),
    Proxy {
        proxy: Proxy,
        shown: String,
        source: &'static str,
    },
}

/// The proxy for `uri` as curl users expect: `--proxy` / `--no-proxy` first; then for
/// https `https_proxy`, `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`, for http the
/// `http_proxy` family, unless `NO_PROXY` matches the host.
pub fn route(uri: &Uri, setting: &ProxySetting) -> Result<Route, Error> {
    let env = match setting {
        ProxySetting::Off => return Ok(Route::Direct("--no-proxy")),
        ProxySetting::Flag(url) => return proxy(url, "--proxy"),
        ProxySetting::Env(env) => env,
    };
    let host = uri.host().unwrap_or_default();
    if env
        .no_proxy
        .as_deref()
        .is_some_and(|list| no_proxy_matches(list, host))
    {
        return Ok(Route::Direct("the host matches NO_PROXY"));
    }
    let candidate = if uri.scheme_str() == Some("https") {
        env.https.as_ref().or(env.all.as_ref())
    } else {
        env.http.as_ref().or(env.all.as_ref())
    };
    match candidate {
        Some(p) => proxy(&p.value, p.source),
        None => Ok(Route::Direct("no proxy configured")),
    }
}

/// Checks `--proxy` before anything else happens.
pub fn check_option(setting: &ProxySetting) -> Result<(), Error> {
    if let ProxySetting::Flag(url) = setting {
        proxy(url, "--proxy")?;
    }
    Ok(())
}

fn proxy(url: &str, source: &'static str) -> Result<Route, Error> {
    let shown = redact(url);
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if !matches!(scheme.as_deref(), None | Some("http") | Some("https")) {
        return Err(Error::Usage(format!(
            "the proxy {shown} (from {source}) is not supported: use an http:// or https:// proxy"
        )));
    }
    let proxy = Proxy::new(url).map_err(|_| {
        Error::Usage(format!(
            "the proxy {shown} (from {source}) is not a valid URL"
        ))
    })?;
    Ok(Route::Proxy {
        proxy,
        shown,
        source,
    })
}

/// A proxy URL fit to print: any `user:password@` becomes `***@`.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let prefix = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    crate::report::sanitize(&format!("{prefix}{authority}{tail}"))
}

/// curl's NO_PROXY: `*` matches all; a name matches itself and its subdomains (a
/// leading `.` or `*.` is ignored); an IP address matches itself; `a.b.c.d/n` and
/// `v6/n` match ranges. Entries are separated by commas or spaces.
pub fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let host_ip = host.parse::<IpAddr>().ok();
    list.split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            let entry = entry.trim_start_matches('[').to_ascii_lowercase();
            if let Some((net, bits)) = entry.split_once('/') {
                let (Some(ip), Ok(net), Ok(bits)) = (host_ip, net.parse::<IpAddr>(), bits.parse())
                else {
                    return false;
                };
                return in_range(ip, net, bits);
            }
            let entry = entry.trim_end_matches(']').trim_end_matches('.');
            match (host_ip, entry.parse::<IpAddr>()) {
                (Some(ip), Ok(e)) => ip == e,
                (None, Err(_)) => {
                    host == entry || host.strip_suffix(entry).is_some_and(|p| p.ends_with('.'))
                }
                _ => false,
            }
        })
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// An agent that returns every status to us (we classify them) and never follows a
/// redirect, so credentials are never re-sent to another place.
pub fn agent(roots: RootCerts, route: &Route) -> Agent {
    let proxy = match route {
        Route::Proxy { proxy, .. } => Some(proxy.clone()),
        Route::Direct(_) => None,
    };
    Agent::config_builder()
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("sfrefresh/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        .proxy(proxy)
        .build()
        .new_agent()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ProxyEnv;

    #[test]
    fn no_proxy_like_curl() {
        let list = "internal.example, .corp.example,*.svc , 10.0.0.0/8,192.168.1.5,[::1],fd00::/8";
        for host in [
            "internal.example",
            "api.internal.example",
            "corp.example",
            "x.corp.example",
            "a.svc",
            "10.1.2.3",
            "192.168.1.5",
            "[::1]",
            "fd00::5",
            "INTERNAL.EXAMPLE",
        ] {
            assert!(no_proxy_matches(list, host), "{host}");
        }
        for host in [
            "notinternal.example",
            "example",
            "11.0.0.1",
            "192.168.1.6",
            "::2",
            "svc.evil",
        ] {
            assert!(!no_proxy_matches(list, host), "{host}");
        }
        assert!(no_proxy_matches("*", "anything"));
        assert!(!no_proxy_matches("", "anything"));
    }

    fn env(
        https: Option<&str>,
        all: Option<&str>,
        http: Option<&str>,
        no: Option<&str>,
    ) -> ProxySetting {
        let s = |v: Option<&str>, source| {
            v.map(|v| Sourced {
                value: v.to_string(),
                source,
            })
        };
        ProxySetting::Env(ProxyEnv {
            https: s(https, "HTTPS_PROXY"),
            all: s(all, "ALL_PROXY"),
            http: s(http, "HTTP_PROXY"),
            no_proxy: no.map(String::from),
        })
    }

    fn via(url: &str, setting: &ProxySetting) -> String {
        match route(&url.parse().unwrap(), setting).unwrap() {
            Route::Direct(why) => format!("direct: {why}"),
            Route::Proxy { shown, source, .. } => format!("{shown} from {source}"),
        }
    }

    #[test]
    fn proxy_choice() {
        let https = "https://login.salesforce.com/t";
        let http = "http://127.0.0.1/t";
        let e = env(
            Some("http://s:1"),
            Some("http://a:1"),
            Some("http://h:1"),
            None,
        );
        assert_eq!(via(https, &e), "http://s:1 from HTTPS_PROXY");
        assert_eq!(via(http, &e), "http://h:1 from HTTP_PROXY");
        let e = env(None, Some("http://a:1"), None, None);
        assert_eq!(via(https, &e), "http://a:1 from ALL_PROXY");
        assert_eq!(via(http, &e), "http://a:1 from ALL_PROXY");
        let e = env(Some("http://s:1"), None, None, Some("salesforce.com"));
        assert_eq!(via(https, &e), "direct: the host matches NO_PROXY");
        assert_eq!(
            via(https, &env(None, None, None, None)),
            "direct: no proxy configured"
        );
        assert_eq!(via(https, &ProxySetting::Off), "direct: --no-proxy");
        assert_eq!(
            via(https, &ProxySetting::Flag("http://u:pw@p:3128".into())),
            "http://***@p:3128 from --proxy"
        );
    }

    #[test]
    fn bad_proxies_are_usage_errors_without_credentials() {
        let Err(e) = route(
            &"https://h/t".parse().unwrap(),
            &ProxySetting::Flag("socks5://u:pw@p:1".into()),
        ) else {
            panic!()
        };
        assert_eq!(e.exit_code(), 2);
        assert!(!e.to_string().contains("pw"), "{e}");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact("http://user:secret@proxy:3128/"),
            "http://***@proxy:3128/"
        );
        assert_eq!(redact("user:secret@proxy:3128"), "***@proxy:3128");
        assert_eq!(redact("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(redact("http://a@b:pw@proxy"), "http://***@proxy");
    }
}
