"""Catalogue figures: evaluate per call, plan for the 47-unit diploma, importing the built-ins."""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from portfolio.catalogue import services
from portfolio.catalogue.planning import plan
from portfolio.catalogue.rules import evaluate

DIPLOMA = "600/9662/7"


def _per_call(function, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        function()
    return (time.perf_counter() - start) / repeat


def run():
    specs = {s.qualification_number: s for s in services.load_builtin_specs()}
    rng = random.Random(7)

    yield "evaluate (target < 1 ms per call), mean over 2,000 random portfolios each:"
    for qn, spec in sorted(specs.items()):
        structure = spec.structure
        numbers = list(structure.units)
        portfolios = [rng.sample(numbers, rng.randint(0, len(numbers))) for _ in range(2000)]
        worst = max(portfolios, key=lambda p: len(p))
        iterator = iter(portfolios)
        mean = _per_call(lambda s=structure, it=iterator: evaluate(s, next(it)), len(portfolios))
        all_units = _per_call(lambda s=structure, w=worst: evaluate(s, w), 200)
        yield f"  {qn}  {mean * 1e3:6.3f} ms mean   {all_units * 1e3:6.3f} ms largest portfolio"

    structure = specs[DIPLOMA].structure
    mandatory = sorted(structure.mandatory)
    timings = []
    for _ in range(20):
        start = time.perf_counter()
        result = plan(structure, mandatory)
        timings.append(time.perf_counter() - start)
    yield (f"plan {DIPLOMA}, mandatory units achieved (target < 50 ms): "
           f"median {statistics.median(timings) * 1e3:.1f} ms, max {max(timings) * 1e3:.1f} ms "
           f"-> add {', '.join(result.units)} ({result.additional_credits} credits, "
           f"{result.open_criteria} criteria)")
    ncfe = specs["600/1257/2"].structure
    start = time.perf_counter()
    plan(ncfe, ())
    yield f"plan 600/1257/2 from nothing: {(time.perf_counter() - start) * 1e3:.1f} ms"

    yield from _import_figures()


def _import_figures():
    from flask_migrate import upgrade

    from portfolio import create_app
    from portfolio.config import Settings
    from portfolio.extensions import db

    timings = []
    for _ in range(3):
        with tempfile.TemporaryDirectory() as directory:
            settings = Settings(instance_path=Path(directory), secret_key="bench")
            app = create_app(settings)
            with app.app_context():
                upgrade()
                start = time.perf_counter()
                for spec in services.load_builtin_specs():
                    services.import_spec(db.session, spec)
                db.session.commit()
                timings.append(time.perf_counter() - start)
                db.engine.dispose()
    yield (f"import all seven built-ins into an empty SQLite database, reading and validating "
           f"the files included (target < 2 s): best {min(timings):.2f} s, "
           f"median {statistics.median(timings):.2f} s")
