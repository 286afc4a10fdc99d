//! The raw command line: one lexopt loop fills `LowArgs` with what was typed, unchecked.
//! `resolve.rs` turns it into validated values (ripgrep's lowargs → hiargs split).

use std::ffi::OsString;
use std::path::PathBuf;

use crate::error::Error;

/// The verbs. `refresh` is also what a command line without a verb means, so
/// `sfrefresh [OPTIONS] TOKEN_FILE` keeps working as it always has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Refresh,
    Exec,
    Status,
    Revoke,
}

impl Verb {
    pub(crate) const ALL: &[(&str, Verb)] = &[
        ("refresh", Verb::Refresh),
        ("exec", Verb::Exec),
        ("status", Verb::Status),
        ("revoke", Verb::Revoke),
    ];

    fn from_word(word: &str) -> Option<Verb> {
        Verb::ALL.iter().find(|(n, _)| *n == word).map(|(_, v)| *v)
    }

    /// The verb's word, for messages.
    pub(crate) fn word(self) -> &'static str {
        Verb::ALL
            .iter()
            .find(|(_, v)| *v == self)
            .map_or("refresh", |(n, _)| n)
    }
}

/// Every flag as typed; `None`/`false` when absent. Values are checked in `resolve`.
#[derive(Debug, Default)]
pub(crate) struct LowArgs {
    pub(crate) verb: Option<Verb>,
    pub(crate) positional: Vec<OsString>,
    pub(crate) client_id: Option<String>,
    pub(crate) secret_file: Option<PathBuf>,
    pub(crate) client_auth: Option<String>,
    pub(crate) token_url: Option<String>,
    pub(crate) sandbox: bool,
    pub(crate) login_url: Option<String>,
    pub(crate) cacert: Option<PathBuf>,
    pub(crate) proxy: Option<String>,
    pub(crate) no_proxy: bool,
    pub(crate) verify_signature: bool,
    pub(crate) timeout: Option<String>,
    pub(crate) retries: Option<String>,
    pub(crate) if_older_than: Option<String>,
    pub(crate) print: Option<String>,
    /// `exec`: everything after `--`, never parsed as ours; `None` without `--`.
    pub(crate) command: Option<Vec<OsString>>,
    pub(crate) json: bool,
    pub(crate) check: bool,
    pub(crate) userinfo_url: Option<String>,
    pub(crate) revoke_url: Option<String>,
    pub(crate) keep_file: bool,
    pub(crate) files_from: Option<PathBuf>,
    pub(crate) jobs: Option<String>,
    pub(crate) watch: bool,
    pub(crate) metrics_file: Option<PathBuf>,
    pub(crate) log_format: Option<String>,
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
    pub(crate) help: bool,
    pub(crate) version: bool,
}

/// Every long flag, for "did you mean" suggestions.
pub(crate) const LONG_FLAGS: &[&str] = &[
    "client-id",
    "client-secret-file",
    "client-auth",
    "token-url",
    "sandbox",
    "login-url",
    "cacert",
    "proxy",
    "no-proxy",
    "verify-signature",
    "timeout",
    "retries",
    "if-older-than",
    "print",
    "json",
    "check",
    "userinfo-url",
    "revoke-url",
    "keep-file",
    "files-from",
    "jobs",
    "watch",
    "metrics-file",
    "log-format",
    "quiet",
    "verbose",
    "help",
    "version",
];

/// Parses `args` (without the program name) into raw flags. A verb is recognised only
/// as the very first argument, so a token file named like a verb is `./login`.
pub(crate) fn parse<I>(args: I) -> Result<LowArgs, Error>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    use lexopt::prelude::*;

    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut low = LowArgs::default();
    if let Some(verb) = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(Verb::from_word)
    {
        low.verb = Some(verb);
        args.remove(0);
    } else if args.first().is_some_and(|a| a == "help") {
        // `sfrefresh help [VERB]`
        low.help = true;
        low.verb = args
            .get(1)
            .and_then(|a| a.to_str())
            .and_then(Verb::from_word);
        return Ok(low);
    }
    let mut parser = lexopt::Parser::from_args(args);
    loop {
        if low.verb == Some(Verb::Exec)
            && let Some(command) = after_double_dash(&mut parser)
        {
            low.command = Some(command);
            break;
        }
        let Some(arg) = parser.next()? else { break };
        match arg {
            Long("client-id") => low.client_id = Some(parser.value()?.string()?),
            Long("client-secret-file") => low.secret_file = Some(parser.value()?.into()),
            Long("client-auth") => low.client_auth = Some(parser.value()?.string()?),
            Long("token-url") => low.token_url = Some(parser.value()?.string()?),
            Long("sandbox") => low.sandbox = true,
            Long("login-url") => low.login_url = Some(parser.value()?.string()?),
            Long("cacert") => low.cacert = Some(parser.value()?.into()),
            Long("proxy") => low.proxy = Some(parser.value()?.string()?),
            Long("no-proxy") => low.no_proxy = true,
            Long("verify-signature") => low.verify_signature = true,
            Long("timeout") => low.timeout = Some(parser.value()?.string()?),
            Long("retries") => low.retries = Some(parser.value()?.string()?),
            Long("if-older-than") => low.if_older_than = Some(parser.value()?.string()?),
            Long("print") => low.print = Some(parser.value()?.string()?),
            Long("json") => low.json = true,
            Long("check") => low.check = true,
            Long("userinfo-url") => low.userinfo_url = Some(parser.value()?.string()?),
            Long("revoke-url") => low.revoke_url = Some(parser.value()?.string()?),
            Long("keep-file") => low.keep_file = true,
            Long("files-from") => low.files_from = Some(parser.value()?.into()),
            Short('j') | Long("jobs") => low.jobs = Some(parser.value()?.string()?),
            Long("watch") => low.watch = true,
            Long("metrics-file") => low.metrics_file = Some(parser.value()?.into()),
            Long("log-format") => low.log_format = Some(parser.value()?.string()?),
            Short('q') | Long("quiet") => low.quiet = true,
            Short('v') | Long("verbose") => low.verbose = true,
            Short('h') | Long("help") => low.help = true,
            Short('V') | Long("version") => low.version = true,
            Value(v) => low.positional.push(v),
            Long(name) => return Err(unknown_long(name)),
            _ => return Err(Error::usage_help(arg.unexpected().to_string())),
        }
    }
    Ok(low)
}

/// For `exec`: when the next whole argument is `--`, everything after it is COMMAND and
/// its arguments, taken raw so that COMMAND's own options (`-v`, `--help`) stay its own.
fn after_double_dash(parser: &mut lexopt::Parser) -> Option<Vec<OsString>> {
    let mut raw = parser.try_raw_args()?;
    raw.next_if(|a| a == "--")?;
    Some(raw.collect())
}

/// An unknown `--flag`: name the nearest real one, or say why it does not exist.
fn unknown_long(name: &str) -> Error {
    if name == "client-secret" || name == "client_secret" || name == "secret" {
        return Error::usage(format!(
            "there is no '--{name}' option: a secret on the command line can be read by every \
             user of the machine (ps, /proc); use --client-secret-file PATH or the \
             SF_CLIENT_SECRET environment variable"
        ));
    }
    match nearest(name) {
        Some(real) => Error::usage(format!(
            "invalid option '--{name}': did you mean '--{real}'?"
        )),
        None => Error::usage_help(format!("invalid option '--{name}'")),
    }
}

/// The known flag closest to `name` (underscores read as dashes), if close enough to
/// be what was meant.
fn nearest(name: &str) -> Option<&'static str> {
    let wanted = name.replace('_', "-").to_ascii_lowercase();
    LONG_FLAGS
        .iter()
        .map(|f| (distance(&wanted, f), *f))
        .filter(|(d, f)| *d <= (f.len() / 4).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

/// Levenshtein distance, small strings only.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

impl From<lexopt::Error> for Error {
    fn from(e: lexopt::Error) -> Error {
        Error::usage_help(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(nearest("client_id"), Some("client-id"));
        assert_eq!(nearest("timout"), Some("timeout"));
        assert_eq!(nearest("if-older"), None);
        assert_eq!(nearest("verify-signatures"), Some("verify-signature"));
        assert_eq!(nearest("bogus"), None);
    }

    #[test]
    fn a_verb_only_counts_first() {
        let low = parse(["refresh", "--client-id", "x", "f"]).unwrap();
        assert_eq!(low.verb, Some(Verb::Refresh));
        assert_eq!(low.positional, vec![OsString::from("f")]);
        let low = parse(["--client-id", "x", "refresh"]).unwrap();
        assert_eq!(low.verb, None);
        assert_eq!(low.positional, vec![OsString::from("refresh")]);
        let low = parse(["./refresh"]).unwrap();
        assert_eq!(low.verb, None);
        let low = parse(["help", "refresh"]).unwrap();
        assert!(low.help);
        assert_eq!(low.verb, Some(Verb::Refresh));
        let low = parse(["help", "revoke"]).unwrap();
        assert_eq!(low.verb, Some(Verb::Revoke));
    }

    #[test]
    fn exec_takes_everything_after_the_double_dash_raw() {
        let low = parse([
            "exec", "-q", "t.json", "-v", "--", "curl", "-v", "--help", "--",
        ])
        .unwrap();
        assert_eq!(low.verb, Some(Verb::Exec));
        assert!(low.quiet && low.verbose && !low.help);
        assert_eq!(low.positional, vec![OsString::from("t.json")]);
        assert_eq!(
            low.command,
            Some(["curl", "-v", "--help", "--"].map(OsString::from).to_vec())
        );
        // `--` as an option's value is that value, not the separator.
        let low = parse(["exec", "--client-id", "--", "t.json", "--", "true"]).unwrap();
        assert_eq!(low.client_id.as_deref(), Some("--"));
        assert_eq!(low.command, Some(vec![OsString::from("true")]));
        // Without `--`, nothing is a command; other verbs keep lexopt's `--`.
        assert_eq!(parse(["exec", "t.json", "true"]).unwrap().command, None);
        let low = parse(["status", "--", "-odd-name.json"]).unwrap();
        assert_eq!(low.command, None);
        assert_eq!(low.positional, vec![OsString::from("-odd-name.json")]);
    }
}
