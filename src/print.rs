//! `--print`: the only way a token reaches stdout, in forms that keep it off command
//! lines (`curl -H @-`, `curl -K -`, `eval`, systemd `EnvironmentFile=`).

use std::io::{self, Write};
use std::str::FromStr;

use crate::error::Error;
use crate::report::io_words;
use crate::secret::Secret;
use crate::token::{self, Doc};

/// `--print`: what goes to stdout after success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Print {
    /// The access token, one line.
    Token,
    /// The whole token document.
    Json,
    /// `Authorization: Bearer …`, one line, for `curl -H @-`.
    Header,
    /// `SF_ACCESS_TOKEN='…'` lines for `eval`, `. file` and systemd `EnvironmentFile=`.
    Env,
    /// A curl config (`header = "Authorization: Bearer …"`) for `curl -K -`.
    Curl,
}

impl FromStr for Print {
    type Err = Error;
    fn from_str(s: &str) -> Result<Print, Error> {
        match s {
            "token" => Ok(Print::Token),
            "json" => Ok(Print::Json),
            "header" => Ok(Print::Header),
            "env" => Ok(Print::Env),
            "curl" => Ok(Print::Curl),
            other => Err(Error::usage(format!(
                "invalid value '{other}' for '--print': expected 'token', 'json', 'header', \
                 'env' or 'curl'"
            ))),
        }
    }
}

/// What `print` writes for `doc`; `text` is the document as saved (for `json`).
pub(crate) fn render(print: Print, doc: &Doc, text: &[u8]) -> Result<Vec<u8>, String> {
    if print == Print::Json {
        return Ok(text.to_vec());
    }
    let token = usable_token(doc, "printed")?;
    let token = token.expose();
    let field = |name: &str| doc.get(name).and_then(|v| v.as_str());
    Ok(match print {
        Print::Json => text.to_vec(),
        Print::Token => format!("{token}\n").into_bytes(),
        Print::Header => format!("Authorization: Bearer {token}\n").into_bytes(),
        Print::Curl => format!(
            "header = \"Authorization: Bearer {}\"\n",
            token.replace('\\', "\\\\").replace('"', "\\\"")
        )
        .into_bytes(),
        Print::Env => {
            let mut out = String::new();
            let mut add = |name: &str, value: &str| -> Result<(), String> {
                out.push_str(&env_line(name, value)?);
                Ok(())
            };
            add("SF_ACCESS_TOKEN", token)?;
            if let Some(url) = field("instance_url") {
                add("SF_INSTANCE_URL", url)?;
            }
            if let Some(url) = field("api_instance_url") {
                add("SF_API_INSTANCE_URL", url)?;
            }
            out.into_bytes()
        }
    })
}

/// The access token, when it may be handed on: RFC 6749 appendix A.12 makes it VSCHARs
/// (0x20-0x7E); anything else could drive a terminal or split a header, so it is not
/// `done` ("printed", "passed on").
pub(crate) fn usable_token(doc: &Doc, done: &str) -> Result<Secret, String> {
    let token = token::access_token(doc).map_err(|p| format!("the token file {p}"))?;
    if !token.expose().bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(format!(
            "the access token has characters outside RFC 6749's VSCHAR set (control or \
             non-ASCII characters), so it is not {done}"
        ));
    }
    Ok(token)
}

/// `NAME='value'`: single quotes mean the same to sh (`eval`, `set -a; . file`) and to
/// systemd's `EnvironmentFile=`. A value with a quote, backslash or control character
/// cannot be written that way for both, so it is refused rather than mangled.
fn env_line(name: &str, value: &str) -> Result<String, String> {
    if value.contains(['\'', '\\']) || value.chars().any(char::is_control) {
        return Err(format!(
            "{name} holds a quote, backslash or control character, so it cannot be printed \
             as a shell and systemd assignment"
        ));
    }
    Ok(format!("{name}='{value}'\n"))
}

/// Writes to stdout. A reader that went away (`| head`) is not an error: the token file
/// is saved; any other failure is (exit 3), naming what was saved.
pub(crate) fn emit(bytes: &[u8], saved: &str) -> Result<(), Error> {
    let mut out = io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Error::output(format!(
            "the output could not be written to stdout: {} (the token file {saved} is \
                 saved)",
            io_words(&e)
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(token: &str) -> Doc {
        let mut d = Doc::new();
        d.insert("access_token".into(), token.into());
        d.insert(
            "instance_url".into(),
            "https://acme.my.salesforce.com".into(),
        );
        d
    }

    fn shown(print: Print, token: &str) -> Result<String, String> {
        render(print, &doc(token), b"{}\n").map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn every_form() {
        let t = "00Dx!AQ.tok\"en";
        assert_eq!(shown(Print::Token, t).unwrap(), "00Dx!AQ.tok\"en\n");
        assert_eq!(
            shown(Print::Header, t).unwrap(),
            "Authorization: Bearer 00Dx!AQ.tok\"en\n"
        );
        assert_eq!(
            shown(Print::Curl, t).unwrap(),
            "header = \"Authorization: Bearer 00Dx!AQ.tok\\\"en\"\n"
        );
        assert_eq!(
            shown(Print::Env, "00Dx!AQ.tok").unwrap(),
            "SF_ACCESS_TOKEN='00Dx!AQ.tok'\nSF_INSTANCE_URL='https://acme.my.salesforce.com'\n"
        );
        assert_eq!(shown(Print::Json, t).unwrap(), "{}\n");
    }

    #[test]
    fn control_characters_are_never_printed() {
        for form in [Print::Token, Print::Header, Print::Curl, Print::Env] {
            let e = shown(form, "tok\x1b[2Jen").unwrap_err();
            assert!(e.contains("VSCHAR"), "{e}");
            assert!(shown(form, "tok\u{e9}").is_err());
        }
        assert!(shown(Print::Env, "it's").unwrap_err().contains("quote"));
    }
}
