"""``proxy``: a validating reverse proxy in front of the API (by default the embedded reference server)."""

from __future__ import annotations

import argparse
import sys

from ..http import without_userinfo
from ..options import add_arguments, from_namespace
from .common import (
    UsageError,
    add_command,
    add_coverage_option,
    add_overlay_option,
    add_report_option,
    apply_coverage_gate,
    console,
    error,
    run_exit,
    until_stopped,
    write_reports,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..proxy import ProxyOptions

    p = add_command(sub, "proxy", "a validating proxy: point your application at it, see its traffic judged",
                    "Forwards each request as sent and judges both sides: the client's request and the upstream's "
                    "answer. Ctrl-C (or SIGTERM) stops it, writes the recording and prints the report.",
                    {0: "no violation", 1: "a violation, or coverage below a --min-coverage gate",
                     2: "the upstream could not be seen (unreachable, every answer 404 or 401), or a usage mistake"})
    add_arguments(p, ProxyOptions)
    add_report_option(p)
    add_coverage_option(p)
    add_overlay_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..proxy import ProxyOptions, ProxySession, create_proxy_app
    from ..reporting.check_text import render_check
    from ..server.app import ThreadedServer

    options = from_namespace(ProxyOptions, args)
    err = console(stderr=True)

    def log(line: str) -> None:  # one line per violation, as it happens (no header, no body: no secret)
        err.print(f"violation {line}", markup=False, highlight=False)


    session = ProxySession(options, log=log, alert=error)
    app = create_proxy_app(options, session)
    served = ThreadedServer(app, options.host, options.port)
    try:
        served.start()
    except OSError as exc:
        raise UsageError(f"cannot listen on {options.host}:{options.port}: {exc.strerror or exc}") from exc
    faults = f" (faults: {', '.join(options.fault)})" if options.fault else ""
    upstream = without_userinfo(options.upstream) if options.upstream else "an embedded reference server" + faults
    try:  # from here on, a stop still writes the recording and the report
        print(f"proxy at {served.url} → {upstream}")
        if options.upstream and without_userinfo(options.upstream) != options.upstream:
            print("  the user and password in --upstream are not sent: each client's own credentials are")
        print("  point your application's base URL here; Ctrl-C stops and reports")
        sys.stdout.flush()
        until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        served.stop()
        if app.state.embedded is not None:
            app.state.embedded.state.api.close()
    written = session.write_recording()
    if written is not None:
        print(f"recorded {len(session.interactions)} exchanges into {written} (secrets scrubbed)")
    out = console()
    blind = session.session.could_not_see() if session.report.unreachable is None else None
    if blind is not None:
        session.report.unreachable = f"the upstream {upstream}: {blind}"
    if session.report.unreachable:  # said first, in one line: the run could not see, whatever it saw before
        error(session.report.unreachable)
    apply_coverage_gate(session.report, args.min_coverage)
    render_check(session.report, out)
    write_reports(session.report, args.report)
    return run_exit(session.report)
