//! The OAuth client as the token server sees it: how it proves who it is.

use std::str::FromStr;

use crate::error::Error;
use crate::secret::Secret;

/// How the client authenticates: its id alone, or with the secret in the form body or
/// in an HTTP Basic header (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    IdOnly,
    Post(Secret),
    Basic(Secret),
}

impl Credentials {
    pub(crate) fn secret(&self) -> Option<&Secret> {
        match self {
            Credentials::IdOnly => None,
            Credentials::Post(s) | Credentials::Basic(s) => Some(s),
        }
    }
}

/// `--client-auth`: where the client secret travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    Post,
    Basic,
}

impl FromStr for ClientAuth {
    type Err = Error;
    fn from_str(s: &str) -> Result<ClientAuth, Error> {
        match s {
            "post" => Ok(ClientAuth::Post),
            "basic" => Ok(ClientAuth::Basic),
            other => Err(Error::usage(format!(
                "invalid value '{other}' for '--client-auth': expected 'post' or 'basic'"
            ))),
        }
    }
}
