//! Command-line and environment parsing: flags win over env vars, nothing is read from disk here.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;
use crate::secret::Secret;

pub const HELP: &str = "\
sfrefresh - refresh a saved OAuth 2.0 (Salesforce) access token in place

USAGE:
    sfrefresh [OPTIONS] [TOKEN_FILE]

ARGUMENTS:
    TOKEN_FILE                  token JSON file, refreshed in place; '-' reads the token
                                from stdin and writes the refreshed JSON to stdout
                                (no file written)             [env: SF_TOKEN_FILE]

OPTIONS:
        --client-id ID          Connected App consumer key (required)
                                                              [env: SF_CLIENT_ID]
        --client-secret-file PATH
                                read the client secret from PATH (surrounding
                                whitespace trimmed); otherwise $SF_CLIENT_SECRET;
                                neither: no secret. No flag takes the secret on argv.
        --client-auth post|basic
                                send the secret in the form body (default) or as
                                HTTP Basic (client id and secret only in the header)
        --token-url URL         token endpoint                [env: SF_TOKEN_URL]
        --sandbox               use https://test.salesforce.com/services/oauth2/token
        --login-url URL         My Domain or community base URL; /services/oauth2/token
                                is appended                   [env: SF_LOGIN_URL]
                                Endpoint precedence: --token-url, SF_TOKEN_URL,
                                --sandbox, --login-url/SF_LOGIN_URL, the origin of the
                                token file's https 'id', then
                                https://login.salesforce.com/services/oauth2/token
        --cacert PATH           trust exactly the PEM certificates in PATH instead of
                                the built-in Mozilla roots    [env: SSL_CERT_FILE]
        --proxy URL             proxy for the request (http://[user:pass@]host:port)
        --no-proxy              ignore proxy environment variables
        --verify-signature      check the answer's signature (HMAC-SHA256 of id +
                                issued_at with the client secret); needs a secret
        --timeout SECONDS       deadline for the whole run, retries and waiting for
                                another sfrefresh on the same file included [default: 30]
        --retries N             extra attempts after a transient failure [default: 2]
        --if-older-than DURATION
                                refresh only when issued_at is at least this old
                                (45s, 30m, 2h, 1d, 1h30m); otherwise leave the file
                                alone and exit 0
        --print token|json      after success, write the access token (one line) or
                                the whole refreshed JSON to stdout
    -q, --quiet                 no status line on success
    -v, --verbose               describe each step on stderr (secrets never shown)
    -h, --help                  print this help
    -V, --version               print the version

ENVIRONMENT:
    SF_TOKEN_FILE, SF_CLIENT_ID, SF_CLIENT_SECRET, SF_TOKEN_URL, SF_LOGIN_URL and
    SSL_CERT_FILE as above; flags win. An env var set to the empty string counts as unset.
    https_proxy/HTTPS_PROXY, then all_proxy/ALL_PROXY: proxy for https endpoints
    http_proxy/HTTP_PROXY, then all_proxy/ALL_PROXY: proxy for http (loopback) endpoints
    no_proxy/NO_PROXY: hosts to reach directly: comma-separated names (matching the
    host and its subdomains), IP addresses, CIDR ranges, or * for all

EXIT CODES:
    0  refreshed, or skipped because --if-older-than found the token fresh
    1  unexpected internal error
    2  usage: bad flag or value, missing client id, extra arguments
    3  token file: missing, unreadable, not JSON, not an object, no usable
       refresh_token, cannot be saved
    4  token endpoint unreachable or its answer unusable: network, timeout,
       5xx/429 after retries, redirect, bad 200, TLS trust, signature mismatch
    5  the server refused the refresh (OAuth error in a 4xx answer):
       re-authorisation or configuration needed
";

/// What the run should do.
#[derive(Debug)]
pub enum Command {
    Help,
    Version,
    Refresh(Box<Args>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Path(PathBuf),
    /// `-`: read stdin, write the refreshed document to stdout.
    Stdio,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    None,
    File(PathBuf),
    Env(Secret),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Post,
    Basic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Print {
    Token,
    Json,
}

/// A setting and where it came from, so `--verbose` can say why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: &'static str,
}

/// Where the proxy comes from: `--proxy`, `--no-proxy`, or the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxySetting {
    Flag(String),
    Off,
    Env(ProxyEnv),
}

/// The proxy variables as curl reads them, lower case first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    pub https: Option<Sourced<String>>,
    pub http: Option<Sourced<String>>,
    pub all: Option<Sourced<String>>,
    pub no_proxy: Option<String>,
}

#[derive(Debug)]
pub struct Args {
    pub token: TokenSource,
    pub client_id: String,
    pub secret: SecretSource,
    pub client_auth: ClientAuth,
    /// `--token-url` or `SF_TOKEN_URL`; the other rungs need the token file.
    pub token_url: Option<Sourced<String>>,
    pub sandbox: bool,
    pub login_url: Option<Sourced<String>>,
    pub cacert: Option<Sourced<PathBuf>>,
    pub proxy: ProxySetting,
    pub verify_signature: bool,
    pub timeout: Duration,
    pub retries: u32,
    pub if_older_than: Option<Duration>,
    pub print: Option<Print>,
    pub quiet: bool,
    pub verbose: bool,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Error {
        Error::Usage(e.to_string())
    }
}

/// Parses `args` (without the program name); `env` looks up environment variables
/// so tests can feed both as plain arrays.
pub fn parse_args<I>(args: I, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Command, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let mut token: Option<OsString> = None;
    let mut client_id = None;
    let mut secret_file = None;
    let mut client_auth = ClientAuth::Post;
    let mut token_url = None;
    let mut sandbox = false;
    let mut login_url = None;
    let mut cacert = None;
    let mut proxy_flag = None;
    let mut no_proxy = false;
    let mut verify_signature = false;
    let mut timeout = Duration::from_secs(30);
    let mut retries = 2;
    let mut if_older_than = None;
    let mut print = None;
    let mut quiet = false;
    let mut verbose = false;

    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next()? {
        match arg {
            Long("client-id") => client_id = Some(parser.value()?.string()?),
            Long("client-secret-file") => secret_file = Some(PathBuf::from(parser.value()?)),
            Long("client-auth") => {
                client_auth = match parser.value()?.string()?.as_str() {
                    "post" => ClientAuth::Post,
                    "basic" => ClientAuth::Basic,
                    other => {
                        return Err(usage(format!(
                            "invalid value '{other}' for '--client-auth': expected 'post' or 'basic'"
                        )));
                    }
                }
            }
            Long("token-url") => token_url = Some(parser.value()?.string()?),
            Long("sandbox") => sandbox = true,
            Long("login-url") => login_url = Some(parser.value()?.string()?),
            Long("cacert") => cacert = Some(PathBuf::from(parser.value()?)),
            Long("proxy") => proxy_flag = Some(parser.value()?.string()?),
            Long("no-proxy") => no_proxy = true,
            Long("verify-signature") => verify_signature = true,
            Long("timeout") => timeout = parse_seconds(&parser.value()?.string()?)?,
            Long("retries") => {
                let v = parser.value()?.string()?;
                retries = v.parse().ok().filter(|n| *n <= 100).ok_or_else(|| {
                    usage(format!(
                        "invalid value '{v}' for '--retries': expected a whole number from 0 to 100"
                    ))
                })?;
            }
            Long("if-older-than") => {
                let v = parser.value()?.string()?;
                if_older_than = Some(parse_duration(&v).map_err(|why| {
                    usage(format!("invalid value '{v}' for '--if-older-than': {why}"))
                })?);
            }
            Long("print") => {
                print = Some(match parser.value()?.string()?.as_str() {
                    "token" => Print::Token,
                    "json" => Print::Json,
                    other => {
                        return Err(usage(format!(
                            "invalid value '{other}' for '--print': expected 'token' or 'json'"
                        )));
                    }
                })
            }
            Short('q') | Long("quiet") => quiet = true,
            Short('v') | Long("verbose") => verbose = true,
            Short('h') | Long("help") => return Ok(Command::Help),
            Short('V') | Long("version") => return Ok(Command::Version),
            Value(v) if token.is_none() => token = Some(v),
            Value(v) => {
                return Err(usage(format!(
                    "unexpected argument '{}': only one TOKEN_FILE is taken",
                    v.to_string_lossy()
                )));
            }
            _ => return Err(arg.unexpected().into()),
        }
    }

    let nonempty = |name: &str| env(name).filter(|v| !v.is_empty());

    let token = match token.or_else(|| nonempty("SF_TOKEN_FILE")) {
        Some(t) if t == "-" => TokenSource::Stdio,
        Some(t) => TokenSource::Path(PathBuf::from(t)),
        None => return Err(usage("no token file: give TOKEN_FILE or set SF_TOKEN_FILE")),
    };
    let client_id = match client_id {
        Some(id) => id,
        None => match nonempty("SF_CLIENT_ID") {
            Some(id) => id
                .into_string()
                .map_err(|_| usage("SF_CLIENT_ID is not valid UTF-8"))?,
            None => {
                return Err(usage(
                    "no client id: pass --client-id or set SF_CLIENT_ID (the Connected App's consumer key)",
                ));
            }
        },
    };
    if client_id.trim().is_empty() {
        return Err(usage("the client id given with --client-id is empty"));
    }
    let secret = match secret_file {
        Some(p) => SecretSource::File(p),
        None => match nonempty("SF_CLIENT_SECRET") {
            Some(s) => SecretSource::Env(Secret::new(
                s.into_string()
                    .map_err(|_| usage("SF_CLIENT_SECRET is not valid UTF-8"))?
                    .trim(),
            )),
            None => SecretSource::None,
        },
    };
    if client_auth == ClientAuth::Basic && secret == SecretSource::None {
        return Err(usage(
            "--client-auth basic needs a client secret (--client-secret-file or SF_CLIENT_SECRET)",
        ));
    }
    let utf8 = |name: &'static str| -> Result<Option<Sourced<String>>, Error> {
        nonempty(name)
            .map(|v| {
                v.into_string()
                    .map(|value| Sourced {
                        value,
                        source: name,
                    })
                    .map_err(|_| usage(format!("{name} is not valid UTF-8")))
            })
            .transpose()
    };
    let flag =
        |value: Option<String>, source: &'static str| value.map(|value| Sourced { value, source });
    let token_url = match flag(token_url, "--token-url") {
        Some(u) => Some(u),
        None => utf8("SF_TOKEN_URL")?,
    };
    let login_url = match flag(login_url, "--login-url") {
        Some(u) => Some(u),
        None => utf8("SF_LOGIN_URL")?,
    };
    let cacert = match cacert {
        Some(p) => Some(Sourced {
            value: p,
            source: "--cacert",
        }),
        None => nonempty("SSL_CERT_FILE").map(|p| Sourced {
            value: PathBuf::from(p),
            source: "SSL_CERT_FILE",
        }),
    };
    let proxy = match (proxy_flag, no_proxy) {
        (Some(_), true) => return Err(usage("--proxy and --no-proxy cannot be used together")),
        (Some(url), false) => ProxySetting::Flag(url),
        (None, true) => ProxySetting::Off,
        (None, false) => {
            let first = |names: [&'static str; 2]| -> Result<Option<Sourced<String>>, Error> {
                Ok(match utf8(names[0])? {
                    Some(v) => Some(v),
                    None => utf8(names[1])?,
                })
            };
            ProxySetting::Env(ProxyEnv {
                https: first(["https_proxy", "HTTPS_PROXY"])?,
                http: first(["http_proxy", "HTTP_PROXY"])?,
                all: first(["all_proxy", "ALL_PROXY"])?,
                no_proxy: first(["no_proxy", "NO_PROXY"])?.map(|s| s.value),
            })
        }
    };
    if verify_signature && secret == SecretSource::None {
        return Err(usage(
            "--verify-signature needs the client secret (--client-secret-file or SF_CLIENT_SECRET)",
        ));
    }
    if token == TokenSource::Stdio && print == Some(Print::Token) {
        // The refreshed document (maybe with a rotated refresh token) must reach stdout,
        // or the only copy of the new refresh token would be lost.
        return Err(usage(
            "--print token cannot be used with '-': stdout carries the refreshed JSON",
        ));
    }

    Ok(Command::Refresh(Box::new(Args {
        token,
        client_id,
        secret,
        client_auth,
        token_url,
        sandbox,
        login_url,
        cacert,
        proxy,
        verify_signature,
        timeout,
        retries,
        if_older_than,
        print,
        quiet,
        verbose,
    })))
}

/// `--timeout`: positive seconds, fractions allowed (`0.5`), at most a day.
fn parse_seconds(v: &str) -> Result<Duration, Error> {
    v.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            usage(format!(
                "invalid value '{v}' for '--timeout': expected seconds greater than 0 (at most 86400)"
            ))
        })
}

/// Durations such as `45s`, `30m`, `2h`, `1d`, `1h30m`; a bare number is seconds.
pub fn parse_duration(v: &str) -> Result<Duration, &'static str> {
    const EXPECTED: &str = "expected a duration such as 45s, 30m, 2h, 1d or 1h30m";
    let v = v.trim();
    if v.is_empty() {
        return Err(EXPECTED);
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return v.parse().map(Duration::from_secs).map_err(|_| EXPECTED);
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in v.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(EXPECTED),
        };
        let n: u64 = digits.parse().map_err(|_| EXPECTED)?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or("duration is too large")?;
    }
    if !digits.is_empty() {
        return Err(EXPECTED);
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<Command, Error> {
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        parse_args(args.iter().copied(), &move |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn args(args: &[&str], env: &[(&str, &str)]) -> Args {
        match parse_env(args, env) {
            Ok(Command::Refresh(a)) => *a,
            other => panic!("expected a refresh, got {other:?}"),
        }
    }

    fn usage_error(args: &[&str], env: &[(&str, &str)]) -> String {
        match parse_env(args, env) {
            Err(Error::Usage(m)) => m,
            other => panic!("expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let a = args(&["--client-id", "abc", "tok.json"], &[]);
        assert_eq!(a.token, TokenSource::Path("tok.json".into()));
        assert_eq!(a.client_id, "abc");
        assert_eq!(a.secret, SecretSource::None);
        assert_eq!(a.client_auth, ClientAuth::Post);
        assert_eq!(a.token_url, None);
        assert!(!a.sandbox && !a.verify_signature);
        assert_eq!(a.login_url, None);
        assert_eq!(a.cacert, None);
        assert_eq!(a.proxy, ProxySetting::Env(ProxyEnv::default()));
        assert_eq!(a.timeout, Duration::from_secs(30));
        assert_eq!(a.retries, 2);
        assert_eq!(a.if_older_than, None);
        assert_eq!(a.print, None);
        assert!(!a.quiet && !a.verbose);
    }

    #[test]
    fn equals_form_and_all_flags() {
        let a = args(
            &[
                "--client-id=id",
                "--client-secret-file=/s",
                "--client-auth=basic",
                "--token-url=http://127.0.0.1:1/t",
                "--timeout=2.5",
                "--retries=0",
                "--if-older-than=1h30m",
                "--print=json",
                "-qv",
                "-",
            ],
            &[],
        );
        assert_eq!(a.token, TokenSource::Stdio);
        assert_eq!(a.secret, SecretSource::File("/s".into()));
        assert_eq!(a.client_auth, ClientAuth::Basic);
        assert_eq!(a.token_url.unwrap().value, "http://127.0.0.1:1/t");
        assert_eq!(a.timeout, Duration::from_millis(2500));
        assert_eq!(a.retries, 0);
        assert_eq!(a.if_older_than, Some(Duration::from_secs(5400)));
        assert_eq!(a.print, Some(Print::Json));
        assert!(a.quiet && a.verbose);
    }

    #[test]
    fn env_fills_in_and_flags_win() {
        let env = [
            ("SF_TOKEN_FILE", "env.json"),
            ("SF_CLIENT_ID", "envid"),
            ("SF_CLIENT_SECRET", "  s3cret\n"),
            ("SF_TOKEN_URL", "https://env.example/t"),
        ];
        let a = args(&[], &env);
        assert_eq!(a.token, TokenSource::Path("env.json".into()));
        assert_eq!(a.client_id, "envid");
        assert_eq!(a.secret, SecretSource::Env(Secret::new("s3cret")));
        assert_eq!(a.token_url.unwrap().source, "SF_TOKEN_URL");

        let a = args(
            &[
                "--client-id",
                "flagid",
                "--client-secret-file",
                "f",
                "--token-url",
                "https://flag.example/t",
                "flag.json",
            ],
            &env,
        );
        assert_eq!(a.token, TokenSource::Path("flag.json".into()));
        assert_eq!(a.client_id, "flagid");
        assert_eq!(a.secret, SecretSource::File("f".into()));
        let url = a.token_url.unwrap();
        assert_eq!(
            (url.value.as_str(), url.source),
            ("https://flag.example/t", "--token-url")
        );
    }

    #[test]
    fn empty_env_counts_as_unset() {
        let a = args(
            &["--client-id", "x", "t.json"],
            &[("SF_CLIENT_SECRET", ""), ("SF_TOKEN_URL", "")],
        );
        assert_eq!(a.secret, SecretSource::None);
        assert_eq!(a.token_url, None);
    }

    #[test]
    fn tls_endpoint_and_signature_flags() {
        let env = [
            ("SSL_CERT_FILE", "/env/ca.pem"),
            ("SF_LOGIN_URL", "https://env.my.salesforce.com"),
        ];
        let a = args(&["--client-id", "x", "--sandbox", "t"], &env);
        assert!(a.sandbox);
        assert_eq!(
            a.cacert,
            Some(Sourced {
                value: "/env/ca.pem".into(),
                source: "SSL_CERT_FILE"
            })
        );
        assert_eq!(a.login_url.unwrap().source, "SF_LOGIN_URL");
        let a = args(
            &[
                "--client-id",
                "x",
                "--cacert",
                "/ca.pem",
                "--login-url",
                "https://f",
                "t",
            ],
            &env,
        );
        assert_eq!(a.cacert.unwrap().source, "--cacert");
        assert_eq!(a.login_url.unwrap().value, "https://f");
        let a = args(
            &["--client-id", "x", "--verify-signature", "t"],
            &[("SF_CLIENT_SECRET", "s")],
        );
        assert!(a.verify_signature);
        assert!(
            usage_error(&["--client-id", "x", "--verify-signature", "t"], &[]).contains("secret")
        );
    }

    #[test]
    fn proxy_settings() {
        let env = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
            ("ALL_PROXY", "http://all:1"),
            ("HTTP_PROXY", "http://plain:1"),
            ("NO_PROXY", "internal"),
        ];
        let a = args(&["--client-id", "x", "t"], &env);
        let ProxySetting::Env(e) = a.proxy else {
            panic!()
        };
        assert_eq!(
            e.https,
            Some(Sourced {
                value: "http://lower:1".into(),
                source: "https_proxy"
            })
        );
        assert_eq!(e.http.unwrap().source, "HTTP_PROXY");
        assert_eq!(e.all.unwrap().source, "ALL_PROXY");
        assert_eq!(e.no_proxy.as_deref(), Some("internal"));
        let a = args(&["--client-id", "x", "--proxy", "http://p:3128", "t"], &env);
        assert_eq!(a.proxy, ProxySetting::Flag("http://p:3128".into()));
        let a = args(&["--client-id", "x", "--no-proxy", "t"], &env);
        assert_eq!(a.proxy, ProxySetting::Off);
        assert!(
            usage_error(
                &["--client-id", "x", "--no-proxy", "--proxy", "http://p", "t"],
                &[]
            )
            .contains("together")
        );
    }

    #[test]
    fn help_and_version_win() {
        assert!(matches!(parse_env(&["--help"], &[]), Ok(Command::Help)));
        assert!(matches!(
            parse_env(&["-h", "--bogus"], &[]),
            Ok(Command::Help)
        ));
        assert!(matches!(parse_env(&["-V"], &[]), Ok(Command::Version)));
    }

    #[test]
    fn usage_errors_name_the_flag() {
        assert!(usage_error(&["t.json"], &[]).contains("--client-id"));
        assert!(usage_error(&["--client-id", "x"], &[]).contains("TOKEN_FILE"));
        assert!(usage_error(&["--client-id", "x", "a", "b"], &[]).contains("'b'"));
        assert!(usage_error(&["--client-id", "x", "--bogus", "a"], &[]).contains("--bogus"));
        assert!(
            usage_error(&["--client-id", "x", "--timeout", "0", "a"], &[]).contains("--timeout")
        );
        assert!(
            usage_error(&["--client-id", "x", "--timeout", "nan", "a"], &[]).contains("--timeout")
        );
        assert!(
            usage_error(&["--client-id", "x", "--retries", "-1", "a"], &[]).contains("--retries")
        );
        assert!(usage_error(&["--client-id", "x", "--print", "all", "a"], &[]).contains("--print"));
        assert!(
            usage_error(&["--client-id", "x", "--client-auth", "jwt", "a"], &[])
                .contains("--client-auth")
        );
        assert!(
            usage_error(&["--client-id", "x", "--if-older-than", "5y", "a"], &[])
                .contains("--if-older-than")
        );
        assert!(usage_error(&["--client-id", "", "a"], &[]).contains("empty"));
        assert!(usage_error(&["--client-id"], &[]).contains("--client-id"));
        assert!(
            usage_error(&["--client-id", "x", "--client-auth", "basic", "a"], &[])
                .contains("secret")
        );
        assert!(usage_error(&["--client-id", "x", "--print", "token", "-"], &[]).contains("'-'"));
        // There is no flag that carries the secret itself.
        assert!(
            usage_error(&["--client-id", "x", "--client-secret", "s", "a"], &[])
                .contains("--client-secret")
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("45s"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        for bad in ["", "s", "5x", "1.5h", "-5s", "5 s", "h5", "5s5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(parse_duration("99999999999999999999d").is_err());
        assert!(parse_duration("999999999999999999d").is_err());
    }
}
