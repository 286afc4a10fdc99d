//! Unit tests of proxy choice, URL parsing and redaction, and NO_PROXY matching.

use super::*;

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
        Route::Proxy(p) => format!("{} from {}", p.shown(), p.source),
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
    let flag = ProxyUrl::parse("http://u:pw@p:3128", "--proxy").unwrap();
    assert_eq!(
        via(https, &ProxySetting::Flag(flag)),
        "http://***@p:3128 from --proxy"
    );
}

#[test]
fn bad_proxies_are_usage_errors_without_credentials() {
    for raw in [
        "socks5://u:pw@p:1",
        "http://u:pw@",
        "http://u:pw@p:99999",
        "http://u:p%zz@p:1",
        "http://u:pw%4@p:1",
        "http://u:pw%@p:1",
        "http://u:pw%+1@p:1",
        "http://u:pw%FF@p:1",
        "http://u%C3:pw@p:1",
    ] {
        let e = ProxyUrl::parse(raw, "--proxy").unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(!e.to_string().contains("pw"), "{e}");
    }
}

#[test]
fn credentials_end_at_the_last_at_sign() {
    for (raw, user, password) in [
        ("http://user:p#a/s?s@proxy:3128", "user", "p#a/s?s"),
        ("http://user:p%23a%2Fs%3Fs@proxy:3128/", "user", "p#a/s?s"),
        ("http://us%65r:p%c3%a9+%25@proxy:3128/", "user", "p\u{e9}+%"),
        ("http://a@b:pw@d@proxy:3128", "a@b", "pw@d"),
        ("user:secret@proxy:3128", "user", "secret"),
    ] {
        let p = ProxyUrl::parse(raw, "--proxy").unwrap();
        assert_eq!(p.user.as_ref().unwrap().expose(), user, "{raw}");
        assert_eq!(p.password.as_ref().unwrap().expose(), password, "{raw}");
        assert_eq!((p.host.as_str(), p.port), ("proxy", 3128));
        assert_eq!(p.shown(), "http://***@proxy:3128", "{raw}");
    }
    let p = ProxyUrl::parse("http://[::1]", "x").unwrap();
    assert_eq!(
        (p.host.as_str(), p.port, p.shown()),
        ("::1", 1080, "http://[::1]")
    );
    assert!(p.authorization().is_none());
    let p = ProxyUrl::parse("http://u:p@h:1", "x").unwrap();
    // base64("u:p")
    assert_eq!(p.authorization().unwrap().expose(), "Basic dTpw");
}
