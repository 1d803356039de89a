"""Request and response bodies of the recommender service; every model refuses unknown fields."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

ID_PATTERN = r"^[A-Za-z0-9_.\-]{1,64}$"
MAX_K = 100
Id = Annotated[str, Field(pattern=ID_PATTERN)]
Source = Literal["model", "popular", "seed_items"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoredItem(Strict):
    item_id: str
    score: float


class Recommendations(Strict):
    user_id: str
    model_version: str
    source: Source  # "popular": cold start (no plays); "seed_items": folded in from ?seed_items=
    items: list[ScoredItem]


class Similar(Strict):
    item_id: str
    model_version: str
    items: list[ScoredItem]


class Popular(Strict):
    model_version: str
    items: list[ScoredItem]


class Contribution(Strict):
    item_id: str
    contribution: float


class Explanation(Strict):
    user_id: str
    item_id: str
    model_version: str
    score: float
    because: list[Contribution]  # the played items that pushed this score most


class Play(Strict):
    item_id: Id
    count: float = Field(default=1.0, gt=0, le=1_000_000)


class PlaysIn(Strict):
    plays: list[Play] = Field(min_length=1, max_length=100)
    # optional: a client retrying the same POST sends the same id, and the plays count once
    event_id: Annotated[str, Field(pattern=ID_PATTERN)] | None = None


class PlaysRecorded(Strict):
    user_id: str
    event_id: str
    duplicate: bool  # True: this event id was recorded before; nothing changed
    generation: int  # the user's history generation (part of every cached list's key)


class Reloaded(Strict):
    previous: str
    version: str
    swapped: bool
