//! The raw command line: one lexopt loop, looking flags up in `defs::FLAGS`, fills
//! `LowArgs` with what was typed, unchecked.
//! `resolve.rs` turns it into validated values (ripgrep's lowargs → hiargs split).

use std::ffi::OsString;
use std::path::PathBuf;

use super::defs::{self, Flag, Which};
use crate::error::Error;

/// The verbs. `refresh` is also what a command line without a verb means, so
/// `sfrefresh [OPTIONS] TOKEN_FILE` keeps working as it always has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Refresh,
    Exec,
    Status,
    Revoke,
    Login,
}

impl Verb {
    pub(crate) const ALL: &[(&str, Verb)] = &[
        ("refresh", Verb::Refresh),
        ("exec", Verb::Exec),
        ("status", Verb::Status),
        ("revoke", Verb::Revoke),
        ("login", Verb::Login),
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
    /// The grant options of `refresh` and `login` (`src/grant.rs`).
    pub(crate) grant: Option<String>,
    pub(crate) jwt_key: Option<PathBuf>,
    pub(crate) username: Option<String>,
    pub(crate) audience: Option<String>,
    /// `login` only: how to get the first token, and where it may go.
    pub(crate) device: bool,
    pub(crate) device_url: Option<String>,
    pub(crate) web: bool,
    pub(crate) authorize_url: Option<String>,
    pub(crate) redirect_port: Option<String>,
    pub(crate) open: bool,
    pub(crate) sfdx_url_file: Option<PathBuf>,
    pub(crate) scope: Option<String>,
    pub(crate) force: bool,
    pub(crate) quiet: bool,
    pub(crate) verbose: bool,
    pub(crate) help: bool,
    pub(crate) version: bool,
    /// Every flag given, in order: the verb and conflict checks read the table's rows.
    pub(crate) given: Vec<&'static Flag>,
}

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
        // `sfrefresh help [VERB]`: anything else there is a mistake, not a wish for help.
        low.help = true;
        if let Some(extra) = args.get(2) {
            return Err(Error::usage(format!(
                "unexpected argument '{}': 'sfrefresh help' takes one VERB",
                extra.to_string_lossy()
            )));
        }
        low.verb = match args.get(1) {
            None => None,
            Some(word) if word == "help" => None,
            Some(word) => {
                let word = word.to_string_lossy();
                Some(Verb::from_word(&word).ok_or_else(|| unknown_verb(&word))?)
            }
        };
        return Ok(low);
    } else if let Some(word) = args.first().and_then(|a| a.to_str())
        && let Some(verb) = mistyped_verb(word)
    {
        return Err(Error::usage(format!(
            "'{word}' is neither a verb nor an existing file: did you mean '{verb}'? \
             (a token file of that name is written ./{word})"
        )));
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
        let flag = match arg {
            Value(v) => {
                low.positional.push(v);
                continue;
            }
            Long(name) => defs::by_long(name).ok_or_else(|| unknown_long(name))?,
            Short(c) => defs::by_short(c)
                .ok_or_else(|| Error::usage_help(Short(c).unexpected().to_string()))?,
        };
        low.given.push(flag);
        match flag.id {
            Which::ClientId => low.client_id = Some(parser.value()?.string()?),
            Which::SecretFile => low.secret_file = Some(parser.value()?.into()),
            Which::ClientAuth => low.client_auth = Some(parser.value()?.string()?),
            Which::TokenUrl => low.token_url = Some(parser.value()?.string()?),
            Which::Sandbox => low.sandbox = true,
            Which::LoginUrl => low.login_url = Some(parser.value()?.string()?),
            Which::Cacert => low.cacert = Some(parser.value()?.into()),
            Which::Proxy => low.proxy = Some(parser.value()?.string()?),
            Which::NoProxy => low.no_proxy = true,
            Which::VerifySignature => low.verify_signature = true,
            Which::Timeout => low.timeout = Some(parser.value()?.string()?),
            Which::Retries => low.retries = Some(parser.value()?.string()?),
            Which::IfOlderThan => low.if_older_than = Some(parser.value()?.string()?),
            Which::Print => low.print = Some(parser.value()?.string()?),
            Which::Json => low.json = true,
            Which::Check => low.check = true,
            Which::UserinfoUrl => low.userinfo_url = Some(parser.value()?.string()?),
            Which::RevokeUrl => low.revoke_url = Some(parser.value()?.string()?),
            Which::KeepFile => low.keep_file = true,
            Which::FilesFrom => low.files_from = Some(parser.value()?.into()),
            Which::Jobs => low.jobs = Some(parser.value()?.string()?),
            Which::Watch => low.watch = true,
            Which::MetricsFile => low.metrics_file = Some(parser.value()?.into()),
            Which::LogFormat => low.log_format = Some(parser.value()?.string()?),
            Which::Grant => low.grant = Some(parser.value()?.string()?),
            Which::JwtKey => low.jwt_key = Some(parser.value()?.into()),
            Which::Username => low.username = Some(parser.value()?.string()?),
            Which::Audience => low.audience = Some(parser.value()?.string()?),
            Which::Device => low.device = true,
            Which::DeviceUrl => low.device_url = Some(parser.value()?.string()?),
            Which::Web => low.web = true,
            Which::AuthorizeUrl => low.authorize_url = Some(parser.value()?.string()?),
            Which::RedirectPort => low.redirect_port = Some(parser.value()?.string()?),
            Which::Open => low.open = true,
            Which::SfdxUrlFile => low.sfdx_url_file = Some(parser.value()?.into()),
            Which::Scope => low.scope = Some(parser.value()?.string()?),
            Which::Force => low.force = true,
            Which::Quiet => low.quiet = true,
            Which::Verbose => low.verbose = true,
            Which::Help => low.help = true,
            Which::Version => low.version = true,
        }
    }
    Ok(low)
}

/// `sfrefresh help WORD` with a WORD that is no verb: name the nearest, or all.
fn unknown_verb(word: &str) -> Error {
    match nearest_verb(word) {
        Some(verb) => Error::usage(format!(
            "unknown verb '{word}' for 'sfrefresh help': did you mean '{verb}'?"
        )),
        None => {
            let words: Vec<&str> = Verb::ALL.iter().map(|(w, _)| *w).collect();
            Error::usage(format!(
                "unknown verb '{word}' for 'sfrefresh help': the verbs are {}",
                words.join(", ")
            ))
        }
    }
}

/// The verb that a first argument which is no verb and names no file was meant to be:
/// letters only (a token file's name has a dot or a slash), within 2 edits of a verb.
/// Otherwise `sfrefresh stauts t.json` would look for a token file named `stauts`.
fn mistyped_verb(word: &str) -> Option<&'static str> {
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let verb = nearest_verb(word)?;
    // An existing file (or link, even a dangling one) named so stays a token file.
    std::fs::symlink_metadata(word).is_err().then_some(verb)
}

/// The verb within 2 edits of `word` (case aside), the nearest first.
fn nearest_verb(word: &str) -> Option<&'static str> {
    let word = word.to_ascii_lowercase();
    Verb::ALL
        .iter()
        .map(|(v, _)| (distance(&word, v), *v))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
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
    defs::FLAGS
        .iter()
        .map(|f| (distance(&wanted, f.long), f.long))
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
    fn help_takes_one_verb_and_typos_name_the_verb() {
        assert!(parse(["help", "nosuch"]).is_err());
        assert!(parse(["help", "status", "extra"]).is_err());
        assert_eq!(parse(["help", "help"]).map(|l| l.verb).ok(), Some(None));
        assert_eq!(nearest_verb("stauts"), Some("status"));
        assert_eq!(nearest_verb("Exce"), Some("exec"));
        assert_eq!(nearest_verb("nosuch"), None);
        // Only letters: a name with a dot or a slash is a file.
        assert_eq!(mistyped_verb("statu.json"), None);
        assert_eq!(mistyped_verb("./stauts"), None);
        assert_eq!(mistyped_verb("revok"), Some("revoke"));
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
