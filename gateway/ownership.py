"""Object-level authorisation for the recommender (OWASP API1:2023): a user's lists and plays are theirs.

The recommender is internal and verifies no token: it answers ``/users/{id}/...`` for any ``{id}``. The
gateway is its only way in, so the gateway makes the object-level decision there: ``{id}`` must be the
verified token's subject (the account id, which the catalog also uses as its user id and puts in the play
events the recommender folds in), unless the token carries the ``admin`` scope. Shared lists (``/popular``,
``/items/...``) belong to nobody and stay open to any caller with the read scope.
"""

from __future__ import annotations

from urllib.parse import unquote

from gateway.settings import ADMIN_SCOPE
from gateway.tokens import Claims
from observability import ApiError, get_logger

USERS_SEGMENT = "users"


def as_downstream_reads(path: str) -> str:
    """``path`` percent-decoded until nothing changes.

    The route parameter is decoded once already, but httpx keeps a ``%2F`` it finds as it is and the
    recommender decodes it again: ``users%2F2/plays`` is *user 2's* plays there. Decoding to a fixed point
    (each round that changes the string shortens it, so it ends) sees every id the downstream could see.
    """
    while (decoded := unquote(path)) != path:
        path = decoded
    return path


def path_owner(path: str) -> str | None:
    """The user id a recommender path belongs to (``users/{id}/...``); ``None`` for a shared path."""
    segments = as_downstream_reads(path).split("/")
    # casefolded: a downstream that matched routes case-insensitively must not open a way around the check
    if segments[0].casefold() != USERS_SEGMENT:
        return None
    return segments[1] if len(segments) > 1 else ""


def require_owner(path: str, claims: Claims) -> None:
    """Refuse a ``users/{id}/...`` path whose ``{id}`` is not the caller's own, unless the caller is an admin.

    403, not 404: the decision compares the path with the token and looks nothing up, so it is the same for
    an id that exists and one that does not (the recommender answers every id, with popular items for an
    unknown one), and a 403 leaks no existence. The catalog's private playlists, by contrast, answer 404,
    since there a 403 would confirm that the playlist exists. Compared as strings: ``007`` or ``+7`` is not
    ``7`` and is refused, because the recommender would read it as another user's key.
    """
    owner = path_owner(path)
    if owner is None or owner == str(claims.user_id) or ADMIN_SCOPE in claims.scopes:
        return
    # the attempt is worth a line: repeated refusals are how an id-walking (BOLA) attack shows up
    get_logger("gateway.ownership").warning("object_access_refused", user_id=claims.user_id)
    raise ApiError(403, "forbidden_object", "these recommendations belong to another user")
