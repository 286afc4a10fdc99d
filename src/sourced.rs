//! A setting together with where it came from (a flag, an env var, the token file), so
//! `--verbose` and error messages can say why it was chosen.

/// A setting and where it came from, so `--verbose` can say why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sourced<T> {
    pub(crate) value: T,
    pub(crate) source: &'static str,
}
