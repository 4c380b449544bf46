# api_tools_bin — the bin folder of a virtual environment under .build holding the Python tools that check e2hd's
# HTTP API against its OpenAPI document: openapi-spec-validator (the document is valid OpenAPI 3.1) and
# schemathesis (calls every operation and checks every answer). Installed by pip the first time, at pinned
# versions so that a check means the same thing on every machine; returns 1 when pip cannot install them.
api_tools_bin() {
    local venv=.build/api-tools
    local stamp=$venv/installed-2-openapi-spec-validator-0.9.0-schemathesis-4.32.5
    if [[ ! -f $stamp ]]; then
        echo "installing openapi-spec-validator and schemathesis into $venv (pip, once)" >&2
        rm -rf "$venv"
        local python
        python=$(api_tools_python) || return 1
        "$python" -m venv "$venv" >&2 || return 1
        "$venv/bin/pip" install -q --disable-pip-version-check \
            'openapi-spec-validator==0.9.0' 'schemathesis==4.32.5' >&2 || return 1
        touch "$stamp"
    fi
    echo "$PWD/$venv/bin"
}

# api_tools_python — the newest Python 3.12 or later there is, else python3. Under 3.11, hypothesis's descriptions
# of its filters can hit CPython's "AST constructor recursion depth mismatch" SystemError, which schemathesis then
# reports as an error of the operation it was testing.
api_tools_python() {
    local candidate version
    for candidate in python3.14 python3.13 python3.12; do
        if "$candidate" -c '' 2>/dev/null; then
            command -v "$candidate"
            return
        fi
    done
    # pyenv installs versions it does not put on PATH until asked; take the newest by its own path.
    if command -v pyenv >/dev/null 2>&1; then
        version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9])(\.[0-9]+)*$' | sort -V | tail -1)
        if [[ -n $version && -x "$(pyenv root)/versions/$version/bin/python3" ]]; then
            echo "$(pyenv root)/versions/$version/bin/python3"
            return
        fi
    fi
    command -v python3
}
