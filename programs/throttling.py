"""How many account emails (password resets, sign-up messages) one address or one client may
ask for in an hour. Past the limit nothing more is sent, and the page says what it always
says, so the limit reveals nothing about which addresses have accounts.

Counts live in Django's database cache (the `throttle` cache), shared by every web process
and machine like the sessions; its table is created after each `migrate`.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import DatabaseError
from django.utils.crypto import salted_hmac

log = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
CACHE = "throttle"


def client_ip(request) -> str | None:
    """The client's address: behind settings.TRUSTED_PROXY_COUNT proxies that append to
    X-Forwarded-For, the one that many from the right; with none, REMOTE_ADDR. The log-in
    throttle (django-axes) reads it too."""
    proxies = settings.TRUSTED_PROXY_COUNT
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if proxies and len(hops) >= proxies:
        return hops[-proxies]
    return request.META.get("REMOTE_ADDR")


def allow(action: str, email: str, request=None) -> bool:
    """Count one request to email `email` for `action`; False once either the address or the
    client's address is past its hourly limit."""
    limits = settings.ACCOUNT_EMAIL_LIMITS
    ip = client_ip(request) if request is not None else None
    keys = [(_key(action, "email", email.strip().lower()), limits["per_address"])]
    if ip:
        keys.append((_key(action, "ip", ip), limits["per_ip"]))
    try:
        cache = caches[CACHE]
        counts = [_count(cache, key) for key, _ in keys]
    except DatabaseError:
        # A missing cache table must not break password resets; it is logged to be fixed.
        log.warning("throttle cache unavailable; %s allowed", action, exc_info=True)
        return True
    return all(count <= limit for count, (_, limit) in zip(counts, keys, strict=True))


def _count(cache, key: str) -> int:
    cache.add(key, 0, timeout=WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=WINDOW_SECONDS)
        return 1


def _key(action: str, kind: str, value: str) -> str:
    # Hashed: the cache table holds no one's address.
    digest = salted_hmac("programs.throttling", value).hexdigest()[:32]
    return f"{action}:{kind}:{digest}"


def create_cache_table(sender=None, using="default", **kwargs) -> None:
    """post_migrate: the throttle's table exists wherever the database does."""
    call_command("createcachetable", database=using, verbosity=0)
