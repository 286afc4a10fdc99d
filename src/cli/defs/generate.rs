//! The three completion files, made from the flag table: a flag, its verbs, its value
//! and its doc come from `FLAGS` only, so the files cannot drift from the parser.
//! `tests.rs` compares them with the committed files (docs/flags.md says how to
//! regenerate). Test-only: none of this is in the binary.

use std::fmt::Write as _;

use super::{FLAGS, Flag, Value, Which};
use crate::cli::Verb;

/// What the verbs and `help` are for, in the order they are offered.
const VERB_DOCS: &[(&str, &str)] = &[
    ("refresh", "refresh the token file in place (the default)"),
    (
        "exec",
        "refresh when needed, then run a command with the token in its environment",
    ),
    (
        "status",
        "show where token files stand; --check proves the token works",
    ),
    (
        "revoke",
        "revoke the refresh token, then remove the token file",
    ),
    ("login", "get the first token into a new token file"),
    ("help", "show the help of a verb"),
];

const GENERATED: &str = "# Generated from src/cli/defs.rs (the flag table): do not edit. Regenerate with\n\
                         # SFREFRESH_BLESS=1 cargo test --locked --lib completion_files (docs/flags.md).\n";

fn verbs() -> impl Iterator<Item = (&'static str, Verb)> {
    Verb::ALL.iter().copied()
}

fn flags_of(verb: Verb) -> impl Iterator<Item = &'static Flag> {
    FLAGS.iter().filter(move |f| f.verbs.contains(&verb))
}

/// `-j --jobs`, or `--json`.
fn names(flag: &Flag) -> Vec<String> {
    flag.short
        .map(|c| format!("-{c}"))
        .into_iter()
        .chain([format!("--{}", flag.long)])
        .collect()
}

fn stops(flag: &Flag) -> bool {
    matches!(flag.id, Which::Help | Which::Version)
}

pub(crate) fn bash() -> String {
    let mut out = String::from("# bash completion for sfrefresh.\n");
    out.push_str(GENERATED);
    out.push_str(
        "# Installed as $PREFIX/share/bash-completion/completions/sfrefresh (loaded on demand by\n\
         # the bash-completion package), or sourced from ~/.bashrc.\n\n",
    );
    let words: Vec<&str> = verbs().map(|(w, _)| w).collect();
    let _ = writeln!(out, "_sfrefresh() {{");
    out.push_str(
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=\n    \
         ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n",
    );
    let _ = writeln!(out, "    local verbs='{}'", words.join(" "));
    out.push_str(
        "    # A verb counts only as the first argument, as sfrefresh reads it.\n    \
         local verb=refresh opts\n    \
         if ((COMP_CWORD > 1)); then\n        \
         case \" $verbs help \" in *\" ${COMP_WORDS[1]} \"*) verb=${COMP_WORDS[1]} ;; esac\n    \
         fi\n    \
         case \"$verb\" in\n        \
         help)\n            \
         COMPREPLY=()\n            \
         if ((COMP_CWORD == 2)); then COMPREPLY=($(compgen -W \"$verbs\" -- \"$cur\")); fi\n            \
         return ;;\n",
    );
    for (word, verb) in verbs() {
        let opts: Vec<String> = flags_of(verb).flat_map(names).collect();
        let _ = writeln!(out, "        {word}) opts='{}' ;;", opts.join(" "));
    }
    out.push_str("    esac\n\n    local IFS=$'\\n'\n    case \"$prev\" in\n");
    let pattern = |keep: &dyn Fn(&Flag) -> bool| -> String {
        FLAGS
            .iter()
            .filter(|f| keep(f))
            .flat_map(names)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let _ = writeln!(
        out,
        "        {})\n            COMPREPLY=($(compgen -f -- \"$cur\"))\n            return ;;",
        pattern(&|f| f.value == Value::File)
    );
    for flag in FLAGS {
        if let Value::Choice(choices) = flag.value {
            let _ = writeln!(
                out,
                "        {})\n            COMPREPLY=($(compgen -W $'{}' -- \"$cur\"))\n            return ;;",
                names(flag).join(" | "),
                choices.join("\\n")
            );
        }
    }
    let _ = writeln!(
        out,
        "        {})\n            # A value only the user knows.\n            COMPREPLY=()\n            return ;;",
        pattern(&|f| matches!(f.value, Value::Text | Value::Url))
    );
    out.push_str(
        "    esac\n    \
         if [[ $cur == -* ]]; then\n        \
         IFS=$' \\t\\n'\n        \
         COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n    \
         elif ((COMP_CWORD == 1)); then\n        \
         IFS=$' \\t\\n'\n        \
         COMPREPLY=($(compgen -W \"$verbs help\" -- \"$cur\"))\n        \
         IFS=$'\\n'\n        \
         COMPREPLY+=($(compgen -f -- \"$cur\"))\n    \
         else\n        \
         # TOKEN_FILE\n        \
         COMPREPLY=($(compgen -f -- \"$cur\"))\n    \
         fi\n}\n\
         complete -o filenames -o bashdefault -F _sfrefresh sfrefresh\n",
    );
    out
}

/// Text inside zsh's single quotes.
fn zsh_quoted(s: &str) -> String {
    s.replace('\'', r#"'"'"'"#)
}

/// One `_arguments` spec for `flag`.
fn zsh_spec(flag: &Flag) -> String {
    let exclusive = if stops(flag) {
        "(- *)".to_string()
    } else if flag.conflicts.is_empty() {
        String::new()
    } else {
        let mut all = names(flag);
        for other in flag.conflicts {
            if let Some(o) = FLAGS.iter().find(|f| f.long == *other) {
                all.extend(names(o));
            }
        }
        format!("({})", all.join(" "))
    };
    let eq = if flag.takes_value() { "=" } else { "" };
    let long = flag.long;
    let name = match flag.short {
        Some(c) if exclusive.is_empty() => format!("{{-{c},--{long}{eq}}}'"),
        Some(c) => format!("'{exclusive}'{{-{c},--{long}{eq}}}'"),
        None => format!("'{exclusive}--{long}{eq}"),
    };
    let value = match flag.value {
        Value::None => String::new(),
        Value::Text => format!(":{}: ", flag.value_name),
        Value::Url => format!(":{}:_urls", flag.value_name),
        Value::File => format!(":{}:_files", flag.value_name),
        Value::Choice(c) => format!(":{}:({})", flag.value_name, c.join(" ")),
    };
    format!("{name}[{}]{value}'", zsh_quoted(flag.doc))
}

pub(crate) fn zsh() -> String {
    let mut out = String::from("#compdef sfrefresh\n# zsh completion for sfrefresh.\n");
    out.push_str(GENERATED);
    out.push_str(
        "# Installed as $PREFIX/share/zsh/site-functions/_sfrefresh (make install; the .deb\n\
         # uses Debian's /usr/share/zsh/vendor-completions), or any directory in $fpath.\n\n\
         local curcontext=$curcontext state line\nlocal -a verbs\nverbs=(\n",
    );
    for (word, doc) in VERB_DOCS {
        let _ = writeln!(out, "  '{word}:{}'", zsh_quoted(doc));
    }
    out.push_str(")\n");
    for (word, verb) in verbs() {
        let _ = writeln!(out, "local -a {word}_opts\n{word}_opts=(");
        for flag in flags_of(verb) {
            let _ = writeln!(out, "  {}", zsh_spec(flag));
        }
        out.push_str(")\n");
    }
    out.push_str(
        "\n_arguments -s -S -C $refresh_opts '1: :->verb' '*:: :->args' && return\n\
         case $state in\n  \
         verb) _describe -t verbs 'verb' verbs; _files ;;\n  \
         args)\n    \
         case $line[1] in\n      \
         refresh) _arguments -s -S $refresh_opts '*:token file:_files' ;;\n      \
         exec) _arguments -s -S $exec_opts '1:token file:_files' '*::command:_normal' ;;\n      \
         status) _arguments -s -S $status_opts '*:token file:_files' ;;\n      \
         revoke) _arguments -s -S $revoke_opts '1:token file:_files' ;;\n      \
         login) _arguments -s -S $login_opts '1:token file:_files' ;;\n      \
         help) (( CURRENT == 2 )) && _describe -t verbs 'verb' verbs ;;\n      \
         *) _arguments -s -S $refresh_opts '*:token file (- for stdin):_files' ;;\n    \
         esac ;;\n\
         esac\n",
    );
    out
}

/// Text inside fish's single quotes, first letter capital as fish's own files have it.
fn fish_quoted(s: &str) -> String {
    let mut chars = s.chars();
    let capital: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    capital.replace('\\', r"\\").replace('\'', r"\'")
}

pub(crate) fn fish() -> String {
    let mut out = String::from("# fish completion for sfrefresh.\n");
    out.push_str(GENERATED);
    out.push_str(
        "# Installed as $PREFIX/share/fish/vendor_completions.d/sfrefresh.fish.\n\n\
         # The verb: the first argument when it is one, else refresh (as sfrefresh reads it).\n\
         function __sfrefresh_verb\n    \
         set --local words (commandline -opc)\n    \
         if set -q words[2]; and contains -- $words[2] refresh exec status revoke login help\n        \
         echo $words[2]\n    \
         else\n        \
         echo refresh\n    \
         end\n\
         end\n\n\
         complete -c sfrefresh -n 'test (__sfrefresh_verb) != help' -F\n",
    );
    for (word, doc) in VERB_DOCS {
        let _ = writeln!(
            out,
            "complete -c sfrefresh -n __fish_use_subcommand -a {word} -d '{}'",
            fish_quoted(doc)
        );
    }
    let words: Vec<&str> = verbs().map(|(w, _)| w).collect();
    let _ = writeln!(
        out,
        "complete -c sfrefresh -n 'test (__sfrefresh_verb) = help; and test (count (commandline -opc)) -eq 2' -f -a '{}'",
        words.join(" ")
    );
    for flag in FLAGS {
        let taking: Vec<&str> = verbs()
            .filter(|(_, v)| flag.verbs.contains(v))
            .map(|(w, _)| w)
            .collect();
        let mut line = format!(
            "complete -c sfrefresh -n 'contains -- (__sfrefresh_verb) {}'",
            taking.join(" ")
        );
        if let Some(c) = flag.short {
            let _ = write!(line, " -s {c}");
        }
        let _ = write!(line, " -l {}", flag.long);
        match flag.value {
            Value::None => {}
            Value::Text | Value::Url => line.push_str(" -x"),
            Value::File => line.push_str(" -r -F"),
            Value::Choice(c) => {
                let _ = write!(line, " -x -a '{}'", c.join(" "));
            }
        }
        let _ = writeln!(line, " -d '{}'", fish_quoted(flag.doc));
        out.push_str(&line);
    }
    out
}
