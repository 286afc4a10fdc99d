//! The HTTP agent: TLS trust, no redirects, no status-as-error, our User-Agent.

use ureq::Agent;

/// An agent that returns every status to us (we classify them) and never follows a
/// redirect, so credentials are never re-sent to another place.
pub fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("sfrefresh/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        .proxy(None)
        .build()
        .new_agent()
}
