"""Which question has a small live demo, and where it lives.

``answers demo N`` imports the "module:function" registered here and calls it with no arguments. The function
runs a small version of the question's experiment in a temp folder (never ``results/``) and prints its table
beside the committed full-size figures. A topic registers its demo by adding one line.
"""

from __future__ import annotations

DEMOS: dict[int, str] = {
    1: "recommender.demo:main",
    2: "migrations_demo.demo:main",
    3: "datastores.demo:main",
    4: "catalog.demo:main",
    7: "replication.demo:main",
    8: "observability.demo:main",
    11: "ratelimit.race_demo:main",
}
