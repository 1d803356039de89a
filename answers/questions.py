"""The twelve interview questions this project answers, as data.

A copy of the table the project was planned from, kept here so the CLI and the site never read anything
outside the repository at run time. "looks_for" is what the interviewer scores; "proven_in" is the code that
backs it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Question:
    number: int
    title: str
    looks_for: str
    proven_in: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        1,
        "Design a scalable music recommendation system.",
        "data sources (plays, skips, saves), candidate generation + ranking, collaborative filtering, "
        "cold start, offline/online split, caching, scale numbers",
        "recommender/",
    ),
    Question(
        2,
        "How do you run database migrations on a live system?",
        "no downtime, data integrity, rollback; expand/contract, batched backfill, lock timeouts",
        "migrations_demo/",
    ),
    Question(
        3,
        "SQL vs NoSQL: differences, and when to use each?",
        "use cases, consistency, scaling, query flexibility, trade-offs with examples",
        "datastores/",
    ),
    Question(
        4,
        "Tell me about optimising an API's performance.",
        "concrete metrics before/after, techniques (queries, indexes, caching, pagination, payloads), "
        "user impact",
        "catalog/",
    ),
    Question(
        5,
        "How do you secure a backend service?",
        "authentication, authorisation, encryption, input handling, SQL injection and the other common "
        "vulnerabilities",
        "gateway/",
    ),
    Question(
        6,
        "How do you handle a traffic spike during a major event?",
        "horizontal scaling, caching, CDN, rate limiting, load shedding, graceful degradation",
        "ratelimit/, loadtests/",
    ),
    Question(
        7,
        "Explain the CAP theorem and what it means for system design.",
        "consistency, availability, partition tolerance, real systems' choices, beyond CAP (PACELC, latency)",
        "replication/",
    ),
    Question(
        8,
        "How do you implement logging and monitoring?",
        "structured logs, log levels, metrics, tracing, dashboards, alerting, troubleshooting",
        "observability/",
    ),
    Question(
        9,
        "What is your experience with microservices?",
        "benefits and costs, service boundaries, timeouts, retries, circuit breakers, "
        "observability across services",
        "gateway/, docker-compose.yml",
    ),
    Question(
        10,
        "How do you approach testing in backend development?",
        "unit, integration, contract, load tests; automation; test data; real dependencies",
        "tests/, loadtests/",
    ),
    Question(
        11,
        "Describe a challenging bug and how you fixed it.",
        "context, debugging process, root cause, fix, prevention, lessons",
        "a real race, reproduced by a test (ratelimit/)",
    ),
    Question(
        12,
        "Which tools and technologies do you prefer for backend work, and why?",
        "rationale tied to trade-offs and the company's stack",
        "pyproject.toml, the whole repo",
    ),
)

NUMBERS = frozenset(q.number for q in QUESTIONS)


def question(number: int) -> Question:
    """The question with this number; ``KeyError`` names the valid range."""
    for q in QUESTIONS:
        if q.number == number:
            return q
    raise KeyError(f"there is no question {number}; questions are numbered 1 to {len(QUESTIONS)}")
