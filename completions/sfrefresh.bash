# bash completion for sfrefresh.
# Generated from src/cli/defs.rs (the flag table): do not edit. Regenerate with
# SFREFRESH_BLESS=1 cargo test --locked --lib completion_files (docs/flags.md).
# Installed as $PREFIX/share/bash-completion/completions/sfrefresh (loaded on demand by
# the bash-completion package), or sourced from ~/.bashrc.

_sfrefresh() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local verbs='refresh exec status revoke login'
    # A verb counts only as the first argument, as sfrefresh reads it.
    local verb=refresh opts
    if ((COMP_CWORD > 1)); then
        case " $verbs help " in *" ${COMP_WORDS[1]} "*) verb=${COMP_WORDS[1]} ;; esac
    fi
    case "$verb" in
        help)
            COMPREPLY=()
            if ((COMP_CWORD == 2)); then COMPREPLY=($(compgen -W "$verbs" -- "$cur")); fi
            return ;;
        refresh) opts='--client-id --client-secret-file --client-auth --token-url --sandbox --login-url --cacert --proxy --no-proxy --verify-signature --timeout --retries --if-older-than --grant --jwt-key --username --audience --print --files-from -j --jobs --watch --metrics-file --log-format -q --quiet -v --verbose -h --help -V --version' ;;
        exec) opts='--client-id --client-secret-file --client-auth --token-url --sandbox --login-url --cacert --proxy --no-proxy --verify-signature --timeout --retries --if-older-than --grant --jwt-key --username --audience -q --quiet -v --verbose -h --help -V --version' ;;
        status) opts='--token-url --sandbox --login-url --cacert --proxy --no-proxy --timeout --retries --if-older-than --json --check --userinfo-url -q --quiet -v --verbose -h --help -V --version' ;;
        revoke) opts='--client-id --client-secret-file --client-auth --token-url --sandbox --login-url --cacert --proxy --no-proxy --timeout --retries --revoke-url --keep-file -q --quiet -v --verbose -h --help -V --version' ;;
        login) opts='--client-id --client-secret-file --client-auth --token-url --sandbox --login-url --cacert --proxy --no-proxy --timeout --retries --grant --jwt-key --username --audience --print --device --device-url --web --authorize-url --redirect-port --open --sfdx-url-file --scope --force -q --quiet -v --verbose -h --help -V --version' ;;
    esac

    local IFS=$'\n'
    case "$prev" in
        --client-secret-file | --cacert | --jwt-key | --sfdx-url-file | --files-from | --metrics-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --client-auth)
            COMPREPLY=($(compgen -W $'post\nbasic' -- "$cur"))
            return ;;
        --grant)
            COMPREPLY=($(compgen -W $'refresh-token\njwt-bearer\nclient-credentials' -- "$cur"))
            return ;;
        --print)
            COMPREPLY=($(compgen -W $'token\njson\nheader\nenv\ncurl' -- "$cur"))
            return ;;
        --log-format)
            COMPREPLY=($(compgen -W $'text\njson' -- "$cur"))
            return ;;
        --client-id | --token-url | --login-url | --proxy | --timeout | --retries | --if-older-than | --username | --audience | --userinfo-url | --revoke-url | --device-url | --authorize-url | --redirect-port | --scope | -j | --jobs)
            # A value only the user knows.
            COMPREPLY=()
            return ;;
    esac
    if [[ $cur == -* ]]; then
        IFS=$' \t\n'
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif ((COMP_CWORD == 1)); then
        IFS=$' \t\n'
        COMPREPLY=($(compgen -W "$verbs help" -- "$cur"))
        IFS=$'\n'
        COMPREPLY+=($(compgen -f -- "$cur"))
    else
        # TOKEN_FILE
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -o bashdefault -F _sfrefresh sfrefresh
