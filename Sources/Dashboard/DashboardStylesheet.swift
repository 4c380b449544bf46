import Charts

/// The dashboard's one stylesheet, compiled into the binary and served at `Page.stylesheetPath`: the page
/// layout in light and dark colours, and the charts' own rules (which inline SVGs leave out).
public enum DashboardStylesheet {
    public static let css = layout + ChartStylesheet.css(.adaptive)

    private static let layout = """
        :root{color-scheme:light dark;--bg:#ffffff;--fg:#1f2328;--muted:#57606a;--line:#d8dee4;--panel:#f6f8fa;\
        --accent:#0072b2;--ok:#009e73;--bad:#d55e00}
        @media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9da7b3;--line:#30363d;\
        --panel:#161b22;--accent:#4ba6e8;--ok:#19c594;--bad:#f0803c}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);\
        font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
        a{color:var(--accent)}
        header.site{display:flex;gap:1.5rem;align-items:baseline;padding:.75rem 1.5rem;\
        border-bottom:1px solid var(--line);background:var(--panel)}
        header.site .brand{font-weight:700;color:var(--fg);text-decoration:none}
        header.site nav{display:flex;gap:1rem}
        header.site form.sign-out{margin:0 0 0 auto}
        header.site nav a[aria-current=page]{color:var(--fg);font-weight:600;text-decoration:none}
        main{max-width:1100px;margin:0 auto;padding:1rem 1.5rem 3rem}
        h1{font-size:1.4rem;margin:.5rem 0 1rem;overflow-wrap:anywhere}
        h2{font-size:1.1rem;margin:2rem 0 .5rem}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{text-align:left;padding:.35rem .6rem;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
        th{color:var(--muted);font-weight:600}
        td.number,th.number{text-align:right}
        td.headline .accuracy{white-space:nowrap}
        table.claims td.number,table.claims td:nth-child(2),table.claims td:nth-child(3){white-space:nowrap}
        td.headline small{color:var(--muted)}
        pre,code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
        pre{background:var(--panel);border:1px solid var(--line);padding:.75rem;overflow:auto}
        figure.chart{margin:1rem 0;overflow-x:auto}
        figure.chart svg{max-width:100%;height:auto}
        .state{display:inline-block;padding:0 .5rem;border-radius:1rem;border:1px solid var(--line)}
        .state.succeeded{color:var(--ok);border-color:var(--ok)}
        .state.failed,.state.cancelled{color:var(--bad);border-color:var(--bad)}
        .muted{color:var(--muted)}
        dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}
        dl.facts dt{color:var(--muted)}
        dl.facts dd{margin:0}
        .actions{display:flex;gap:.5rem;margin:1rem 0}
        .actions form{margin:0}
        button{font:inherit;padding:.3rem .9rem;border:1px solid var(--line);border-radius:.3rem;\
        background:var(--panel);color:var(--fg);cursor:pointer}
        button.cancel{color:var(--bad);border-color:var(--bad)}
        form.filters{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;margin:0 0 1rem}
        input,select{font:inherit;padding:.2rem .4rem;border:1px solid var(--line);background:var(--bg);color:var(--fg)}
        p.progress{font-variant-numeric:tabular-nums;font-weight:600}
        p.chain.intact{color:var(--ok)}
        p.chain.broken,p.error{color:var(--bad);font-weight:600}
        ul.warnings{color:var(--bad)}
        nav.pages{display:flex;gap:1rem;margin:.5rem 0}
        tr.live-event{background:var(--panel)}

        """
}
