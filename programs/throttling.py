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


def allow(action: str, email: str, request=None) -> bool:
    """Count one request to email `email` for `action`; False once either the address or the
    client's address is past its hourly limit."""
    limits = settings.ACCOUNT_EMAIL_LIMITS
    # The same client address as the log-in throttle, so TRUSTED_PROXY_COUNT applies here too.
    ip = settings.AXES_CLIENT_IP_CALLABLE(request) if request is not None else None
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
