//! Proxies as curl users expect them: which one applies (flags, env, NO_PROXY), the URL
//! parsed once (credentials decoded and kept out of every message), and its shown form.

use std::borrow::Cow;
use std::net::IpAddr;

use percent_encoding::percent_decode_str;
use ureq::http::Uri;

use crate::error::Error;
use crate::report::sanitize;
use crate::secret::Secret;
use crate::sourced::Sourced;

/// Where the proxy comes from: `--proxy` (parsed), `--no-proxy`, or the environment
/// (parsed when the endpoint, and so the variable that applies, is known).
#[derive(Debug, Clone)]
pub(crate) enum ProxySetting {
    Flag(ProxyUrl),
    Off,
    Env(ProxyEnv),
}

/// The proxy variables as read from the environment, lower case first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProxyEnv {
    pub(crate) https: Option<Sourced<String>>,
    pub(crate) http: Option<Sourced<String>>,
    pub(crate) all: Option<Sourced<String>>,
    pub(crate) no_proxy: Option<String>,
}

/// A parsed `http://[user[:password]@]host[:port]` proxy. The password is a `Secret`;
/// `shown` is the URL with any credentials replaced by `***`, fit for every message.
#[derive(Debug, Clone)]
pub(crate) struct ProxyUrl {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) user: Option<Secret>,
    pub(crate) password: Option<Secret>,
    shown: String,
    pub(crate) source: &'static str,
}

impl ProxyUrl {
    /// Parses first, then redacts: the credentials end at the **last** `@` (host names
    /// cannot contain one), so a password with `#`, `/`, `?` or `@` in it is never
    /// mistaken for the host or a path and never shown.
    pub(crate) fn parse(raw: &str, source: &'static str) -> Result<ProxyUrl, Error> {
        let (scheme, rest) = match raw.split_once("://") {
            Some((s, rest)) => (s.to_ascii_lowercase(), rest),
            None => ("http".to_string(), raw),
        };
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
            None => (None, rest),
        };
        let end = hostpart.find(['/', '?', '#']).unwrap_or(hostpart.len());
        let authority = &hostpart[..end];
        let shown = sanitize(&format!(
            "{scheme}://{}{authority}",
            if userinfo.is_some() { "***@" } else { "" }
        ));
        if scheme != "http" {
            return Err(Error::usage(format!(
                "the proxy {shown} (from {source}) is not supported: use an http:// proxy \
                 (sfrefresh tunnels TLS through it with CONNECT)"
            )));
        }
        let invalid = || {
            Error::usage(format!(
                "the proxy {shown} (from {source}) is not a valid URL"
            ))
        };
        let (host, port) = split_host_port(authority).ok_or_else(invalid)?;
        let (user, password) = match userinfo {
            None => (None, None),
            Some(info) => {
                let (u, p) = match info.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (info, None),
                };
                (
                    Some(Secret::new(percent_decode(u).ok_or_else(invalid)?)),
                    match p {
                        Some(p) => Some(Secret::new(percent_decode(p).ok_or_else(invalid)?)),
                        None => None,
                    },
                )
            }
        };
        Ok(ProxyUrl {
            host,
            port,
            user,
            password,
            shown,
            source,
        })
    }

    /// The proxy URL with credentials as `***`.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// `Proxy-Authorization: Basic …` when the URL carries credentials.
    pub(crate) fn authorization(&self) -> Option<Secret> {
        use base64::Engine;
        let user = self.user.as_ref()?;
        let pair = format!(
            "{}:{}",
            user.expose(),
            self.password.as_ref().map(Secret::expose).unwrap_or("")
        );
        Some(Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )))
    }
}

/// `host`, `host:port`, `[v6]:port`; curl's default proxy port is 1080.
fn split_host_port(authority: &str) -> Option<(String, u16)> {
    if authority.is_empty() {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, rest) = v6.split_once(']')?;
        host.parse::<std::net::Ipv6Addr>().ok()?;
        (host, rest.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains([' ', '\\']) {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p > 0)?,
        None => 1080,
    };
    Some((host.to_string(), port))
}

/// `%XX` escapes to bytes, as UTF-8; `None` for a malformed escape (which
/// percent-encoding would keep as it is: a mistyped credential is better refused
/// than sent) or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let well_formed = s.split('%').skip(1).all(|after| {
        after
            .as_bytes()
            .get(..2)
            .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    });
    if !well_formed {
        return None;
    }
    percent_decode_str(s)
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
}

/// How the request reaches the endpoint.
#[derive(Debug)]
pub(crate) enum Route {
    Direct(&'static str),
    Proxy(ProxyUrl),
}

impl Route {
    /// The proxy as messages show it (credentials replaced), if there is one.
    pub(crate) fn proxy_shown(&self) -> Option<&str> {
        match self {
            Route::Proxy(p) => Some(p.shown()),
            Route::Direct(_) => None,
        }
    }
}

/// The proxy for `uri`: `--proxy` / `--no-proxy` first; then for https `https_proxy`,
/// `HTTPS_PROXY`, `all_proxy`, `ALL_PROXY`, for http the `http_proxy` family, unless
/// `NO_PROXY` matches the host.
pub(crate) fn route(uri: &Uri, setting: &ProxySetting) -> Result<Route, Error> {
    let env = match setting {
        ProxySetting::Off => return Ok(Route::Direct("--no-proxy")),
        ProxySetting::Flag(p) => return Ok(Route::Proxy(p.clone())),
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
        Some(p) => Ok(Route::Proxy(ProxyUrl::parse(&p.value, p.source)?)),
        None => Ok(Route::Direct("no proxy configured")),
    }
}

/// curl's NO_PROXY: `*` matches all; a name matches itself and its subdomains (a
/// leading `.` or `*.` is ignored); an IP address matches itself; `a.b.c.d/n` and
/// `v6/n` match ranges. Entries are separated by commas or spaces.
pub(crate) fn no_proxy_matches(list: &str, host: &str) -> bool {
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

#[cfg(test)]
mod tests;
