"""``python -m answers``: the same CLI as the ``answers`` console script."""

from answers.cli import app

app(prog_name="answers")
