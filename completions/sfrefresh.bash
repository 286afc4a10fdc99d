# bash completion for sfrefresh.
# Installed as $PREFIX/share/bash-completion/completions/sfrefresh (loaded on demand by
# the bash-completion package), or sourced from ~/.bashrc.
#
# Written by hand; tests/docs.rs checks that every --long option of `sfrefresh --help`
# is named here. A new option goes in `opts` (and in the `case` if it takes a value);
# a verb goes in `verbs`, with its own options in the `case "$verb"` below.

_sfrefresh() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local verbs='refresh exec status revoke help'
    local opts='--client-id --client-secret-file --client-auth --token-url --sandbox
        --login-url --cacert --proxy --no-proxy --verify-signature --timeout --retries
        --if-older-than --print --files-from -j --jobs --watch --metrics-file --log-format
        -q --quiet -v --verbose -h --help -V --version'

    # The verb, if one was typed before the current word.
    local verb='' i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case " $verbs " in *" ${COMP_WORDS[i]} "*) verb=${COMP_WORDS[i]}; break ;; esac
    done
    case "$verb" in
        status) opts="$opts --json --check --userinfo-url" ;;
        revoke) opts="$opts --keep-file --revoke-url" ;;
        *) ;;
    esac

    local IFS=$'\n'
    case "$prev" in
        --client-secret-file | --cacert | --files-from | --metrics-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --client-auth)
            COMPREPLY=($(compgen -W $'post\nbasic' -- "$cur"))
            return ;;
        --log-format)
            COMPREPLY=($(compgen -W $'text\njson' -- "$cur"))
            return ;;
        --print)
            COMPREPLY=($(compgen -W $'token\njson\nheader\nenv\ncurl' -- "$cur"))
            return ;;
        --client-id | --token-url | --login-url | --proxy | --timeout | --retries | --if-older-than | -j | --jobs | \
            --userinfo-url | --revoke-url)
            # A value only the user knows.
            COMPREPLY=()
            return ;;
    esac
    if [[ $cur == -* ]]; then
        IFS=$' \t\n'
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    elif [[ -z $verb && -n $verbs ]]; then
        IFS=$' \t\n'
        COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
        IFS=$'\n'
        COMPREPLY+=($(compgen -f -- "$cur"))
    else
        # TOKEN_FILE
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}
complete -o filenames -o bashdefault -F _sfrefresh sfrefresh
