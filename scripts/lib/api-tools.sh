# api_tools_bin — the bin folder of a virtual environment under .build holding the Python tools that check e2hd's
# HTTP API against its OpenAPI document: openapi-spec-validator (the document is valid OpenAPI 3.1) and
# schemathesis (calls every operation and checks every answer). Installed by pip the first time, at pinned
# versions so that a check means the same thing on every machine; returns 1 when pip cannot install them.
api_tools_bin() {
    local venv=.build/api-tools
    local stamp=$venv/installed-openapi-spec-validator-0.9.0-schemathesis-4.32.5
    if [[ ! -f $stamp ]]; then
        echo "installing openapi-spec-validator and schemathesis into $venv (pip, once)" >&2
        rm -rf "$venv"
        python3 -m venv "$venv" >&2 || return 1
        "$venv/bin/pip" install -q --disable-pip-version-check \
            'openapi-spec-validator==0.9.0' 'schemathesis==4.32.5' >&2 || return 1
        touch "$stamp"
    fi
    echo "$PWD/$venv/bin"
}
