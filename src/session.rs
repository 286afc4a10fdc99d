//! What every command that talks to a token server needs, and the one session built
//! from it: the route (direct or proxy), the redactor, the HTTP agents and the retry
//! policy.

use std::time::{Duration, Instant};

use ureq::http::Uri;

use crate::answer::{self, Answer, Asking};
use crate::client::Credentials;
use crate::endpoint::EndpointOpts;
use crate::error::Error;
use crate::net::{self, Http};
use crate::oauth::{self, Call, Classify, Exchange, Failed, Policy};
use crate::proxy::{self, ProxySetting, Route};
use crate::report::{Log, Redactor};
use crate::secret::Secret;
use crate::sourced::Sourced;
use crate::token::{self, Doc};

/// What every command that talks to the token server needs.
pub(crate) struct Common {
    /// `--client-id` or `SF_CLIENT_ID`; `None` lets the token file's `client_id` serve.
    pub(crate) client_id: Option<Sourced<String>>,
    pub(crate) credentials: Credentials,
    pub(crate) endpoints: EndpointOpts,
    pub(crate) roots: crate::tls::Roots,
    pub(crate) proxy: ProxySetting,
    pub(crate) timeout: Duration,
    pub(crate) retries: u32,
    pub(crate) log: Log,
    /// etcd's credentials and TLS files (`ETCDCTL_*`), for `etcd://` locations.
    pub(crate) etcd: crate::store::EtcdCredentials,
}

impl Common {
    /// What a token store beyond a file needs to be reached.
    pub(crate) fn reach(&self) -> crate::store::Reach<'_> {
        crate::store::Reach {
            roots: &self.roots,
            etcd: &self.etcd,
        }
    }
}

/// One conversation with a token server and the endpoints beside it (revocation,
/// identity, device): the settings, the deadline every attempt shares, the file it is
/// about (named in the retry lines), and every secret it knows, so that none is shown in
/// what a server says. Refresh, revoke, `status --check` and every login flow talk
/// through one.
pub(crate) struct Session<'a> {
    pub(crate) common: &'a Common,
    deadline: Instant,
    about: Option<&'a str>,
    asking: Asking,
    redactor: Redactor,
}

impl<'a> Session<'a> {
    /// A session that hides the client secret from the start.
    pub(crate) fn new(common: &'a Common, deadline: Instant, about: Option<&'a str>) -> Self {
        let mut redactor = Redactor::default();
        if let Some(s) = common.credentials.secret() {
            redactor.add(s);
        }
        Session {
            common,
            deadline,
            about,
            asking: Asking::Refresh,
            redactor,
        }
    }

    /// A login's session: a refusal reads "refused the login", with a login's hints.
    pub(crate) fn for_login(self) -> Self {
        Session {
            asking: Asking::Login,
            ..self
        }
    }

    /// When the last attempt must have ended.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Keeps `secret` out of every message from now on.
    pub(crate) fn hide(&mut self, secret: &Secret) {
        self.redactor.add(secret);
    }

    /// Keeps the tokens `doc` holds out of every message from now on.
    pub(crate) fn hide_tokens(&mut self, doc: &Doc) {
        for t in [token::access_token(doc), token::refresh_token(doc)]
            .into_iter()
            .flatten()
        {
            self.redactor.add(&t);
        }
    }

    /// How `uri` is reached (`--proxy`, `--no-proxy`, the proxy variables); a proxy's
    /// credentials are hidden from then on.
    pub(crate) fn route(&mut self, uri: &Uri) -> Result<Route, Error> {
        let route = proxy::route(uri, &self.common.proxy)?;
        if let Route::Proxy(p) = &route {
            for s in [&p.user, &p.password].into_iter().flatten() {
                self.redactor.add(s);
            }
        }
        Ok(route)
    }

    /// `-v`: which way the requests go.
    pub(crate) fn log_route(&self, route: &Route) {
        let log = self.common.log;
        match route {
            Route::Direct(why) => log.step(format_args!("connecting directly: {why}")),
            Route::Proxy(p) => log.step(format_args!(
                "connecting through proxy {} (from {})",
                p.shown(),
                p.source
            )),
        }
    }

    /// A new agent for `route`: for a run of one request or a few. Many files keep
    /// theirs in `net::Agents`, one set a thread.
    pub(crate) fn agent(&self, route: &Route) -> Http {
        net::agent(self.common.roots.clone(), route)
    }

    /// Sends `call` over `http`, again as the retry rules allow until the deadline, the
    /// answer read by `classify` with every secret of the session redacted.
    pub(crate) fn send<T>(
        &self,
        http: &Http,
        call: &Call<'_>,
        classify: Classify<T>,
    ) -> Result<T, Failed> {
        let policy = Policy {
            deadline: self.deadline,
            timeout: self.common.timeout,
            retries: self.common.retries,
            about: self.about,
            asking: self.asking,
        };
        oauth::send(
            http,
            call,
            &policy,
            &self.common.log,
            &self.redactor,
            classify,
        )
    }

    /// A token request: the form of `x` POSTed, the answer read as a token answer.
    pub(crate) fn token_request(&self, http: &Http, x: &Exchange<'_>) -> Result<Answer, Failed> {
        self.send(http, &Call::exchange(x), answer::classify)
    }
}

/// The client id: the flag or env var, else the one the token file records.
pub(crate) fn client_id(c: &Common, doc: &Doc) -> Result<Sourced<String>, Error> {
    if let Some(id) = &c.client_id {
        return Ok(id.clone());
    }
    match doc.get("client_id").and_then(|v| v.as_str()) {
        Some(id) if !id.trim().is_empty() => Ok(Sourced {
            value: id.to_string(),
            source: "the token file's \"client_id\"",
        }),
        _ => Err(Error::usage(
            "no client id: pass --client-id or set SF_CLIENT_ID (the Connected App's consumer key)",
        )),
    }
}
