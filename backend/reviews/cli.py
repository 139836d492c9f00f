"""`carerounds callbacks draw`: the month's call-back draw, one line per provider."""

import click
from flask.cli import with_appcontext

from backend.clock import utcnow
from backend.errors import Problem
from backend.extensions import db
from backend.providers.models import Provider
from backend.reviews.sampling import draw_callbacks


@click.group("callbacks")
def callbacks_group():
    """Phone call-backs (电话回访) to a random sample of each provider's visits."""


@callbacks_group.command("draw")
@click.option("--month", required=True, help="the month to draw from, YYYY-MM (care time zone); it must have ended")
@click.option("--share", type=float, help="share of each provider's completed visits (default: CALLBACK_SHARE)")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), help="default: derived from month and provider")
@click.option("--redraw", is_flag=True, help="draw again, replacing the month's draws (needs --reason)")
@click.option("--reason", help="why the month is drawn again")
@with_appcontext
def draw(month, share, seed, redraw, reason):
    """Draw the month's call-backs; drawing again prints the existing draw."""
    try:
        draws = draw_callbacks(month, share=share, seed=seed, by=None, at=utcnow(), redraw=redraw, reason=reason)
        db.session.commit()
    except Problem as error:
        db.session.rollback()
        raise click.ClickException(error.problem_detail or error.problem_code) from None
    if not draws:
        click.echo(f"{month}: no completed service visits; nothing drawn")
    for d in draws:
        name = db.session.get(Provider, d.provider_id).name
        tasks = ", ".join(map(str, d.drawn_task_ids)) or "none"
        click.echo(f"{month} provider {d.provider_id} {name} round {d.round}: {len(d.drawn_task_ids)} of "
                   f"{d.population} visits drawn (share {d.share:g}, seed {d.seed}); tasks {tasks}")
