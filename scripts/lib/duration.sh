# duration_seconds TEXT — "90", "90s", "10m", "1h" or "--minutes N" style numbers, as whole seconds.
duration_seconds() {
    local text=$1
    case "$text" in
    *h) echo $((${text%h} * 3600)) ;;
    *m) echo $((${text%m} * 60)) ;;
    *s) echo $((${text%s})) ;;
    *[!0-9]* | "")
        echo "not a duration: $text (give e.g. 90s, 10m, 1h)" >&2
        return 2
        ;;
    *) echo "$text" ;;
    esac
}

# parse_duration_arguments ARGS... — "DURATION" or "--minutes N"; prints seconds (default $default_seconds).
parse_duration_arguments() {
    if [[ $# -eq 0 ]]; then
        echo "${default_seconds:-60}"
    elif [[ $1 == --minutes && $# -eq 2 ]]; then
        duration_seconds "$2m"
    elif [[ $# -eq 1 ]]; then
        duration_seconds "$1"
    else
        echo "usage: $(basename "$0") [DURATION | --minutes N]" >&2
        return 2
    fi
}
