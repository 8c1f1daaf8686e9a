"""The billing page: the counts now, Active users per day as a chart drawn here as
SVG (no script), the period's seat-days, and the same figures as CSV."""

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from roster.domain.billing import EARLIEST, LATEST, MAX_DAYS, DayUsage, day_of
from roster.entrypoints.web.admin.rendering import render
from roster.entrypoints.web.admin.session import AdminDep
from roster.entrypoints.web.admin.views import reading
from roster.entrypoints.web.deps import ContainerDep
from roster.services import billing, queries

router = APIRouter()
DEFAULT_DAYS = 30


def _period(
    params: dict[str, str], today: date
) -> tuple[date, date, dict[str, str], dict[str, str]]:
    """The period the query asks for (default: the last 30 days), the values to show
    back in the form, and plain-word problems by field."""
    problems: dict[str, str] = {}
    last = _date(params.get("to", ""), "to", problems) or today
    first = _date(params.get("from", ""), "from", problems) or _days_before(last)
    if not problems and last < first:
        problems["to"] = "The last day must be on or after the first day."
    elif not problems and (last - first).days + 1 > MAX_DAYS:
        problems["from"] = f"Choose a period of at most {MAX_DAYS} days."
    elif not problems and not EARLIEST <= first <= last <= LATEST:
        problems["from"] = f"Choose days between {EARLIEST} and {LATEST}."
    shown = {
        "from": params.get("from") or first.isoformat(),
        "to": params.get("to") or last.isoformat(),
    }
    return first, last, shown, problems


def _days_before(last: date) -> date:
    """The default period's first day (date.min near the calendar's start: refused)."""
    return (
        last - timedelta(days=DEFAULT_DAYS - 1)
        if last > date.min + timedelta(DEFAULT_DAYS)
        else date.min
    )


def _date(value: str, field: str, problems: dict[str, str]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems[field] = "Write the date as YYYY-MM-DD."
        return None


@router.get("/billing", response_class=HTMLResponse)
def billing_page(request: Request, admin: AdminDep, container: ContainerDep) -> HTMLResponse:
    now = container.clock()
    with reading(container) as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        counts = queries.user_counts_of(conn, admin.workspace_id)
        first, last, shown, problems = _period(
            dict(request.query_params), day_of(now, workspace.timezone)
        )
        report = None if problems else billing.usage(conn, workspace, first, last)
    return render(
        request,
        "billing/page.html",
        status_code=422 if problems else 200,
        title="Billing",
        counts=counts,
        seat_limit=workspace.seat_limit,
        timezone=workspace.timezone,
        as_of=now,
        params=shown,
        errors=problems,
        report=report,
        chart=chart_svg(report.days) if report else None,
    )


@router.get("/billing.csv")
def billing_csv(request: Request, admin: AdminDep, container: ContainerDep) -> Response:
    with reading(container) as conn:
        workspace = queries.workspace_by_id(conn, admin.workspace_id)
        first, last, _, problems = _period(
            dict(request.query_params), day_of(container.clock(), workspace.timezone)
        )
        if problems:
            return billing_page(request, admin, container)
        report = billing.usage(conn, workspace, first, last)
    name = f"usage-{workspace.slug}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        billing.as_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- The chart ----------------------------------------------------------------------

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 34
PEAK_FILL, CLOSING_STROKE, GRID, TEXT = "#c9dcf2", "#1f5fa8", "#d9d9d9", "#444"


def _nice_ceiling(value: int) -> int:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def chart_svg(days: Sequence[DayUsage]) -> Markup:
    """Active users per day: the peak as a shaded area, the closing count as a line.

    Each day spans an equal slice of the x axis; the y axis starts at zero.
    """
    if not days:
        return Markup("")
    top = _nice_ceiling(max([d.peak for d in days] + [1]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(days)

    def x(i: float) -> float:
        return LEFT + i * slot

    def y(v: int) -> float:
        return TOP + plot_h - v * plot_h / top

    peak = _steps([d.peak for d in days], x, y)
    area = f"{x(0):.1f},{y(0):.1f} {peak} {x(len(days)):.1f},{y(0):.1f}"
    closing = _steps([d.closing for d in days], x, y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Active users per day</title>',
        f'<desc id="chart-desc">From {days[0].day.isoformat()} to {days[-1].day.isoformat()}: '
        f"highest peak {max(d.peak for d in days)}, last closing count {days[-1].closing}."
        "</desc>",
    ]
    for v in (0, top // 2, top):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="12" '
            f'fill="{TEXT}">{v}</text>'
        )
    parts.append(f'<polygon points="{area}" fill="{PEAK_FILL}"/>')
    parts.append(
        f'<polyline points="{closing}" fill="none" stroke="{CLOSING_STROKE}" stroke-width="2"/>'
    )
    ends = len(days) - 1
    for i, anchor, at in ((0, "start", x(0)), (ends // 2, "middle", x(ends // 2 + 0.5))):
        parts.append(_label(days[i].day.isoformat(), at, anchor))
    if ends > 1:
        parts.append(_label(days[-1].day.isoformat(), x(len(days)), "end"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - built here from numbers and ISO dates only


def _label(text: str, at: float, anchor: str) -> str:
    return (
        f'<text x="{at:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" '
        f'font-size="12" fill="{TEXT}">{text}</text>'
    )


def _steps(values: Sequence[int], x: Callable[[float], float], y: Callable[[int], float]) -> str:
    """A step line: flat across each day's slice at that day's value."""
    return " ".join(
        f"{x(i):.1f},{y(v):.1f} {x(i + 1):.1f},{y(v):.1f}" for i, v in enumerate(values)
    )
