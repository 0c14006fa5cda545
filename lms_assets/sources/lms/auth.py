"""Credentials for the LMS API: the tenant's basic auth, or an OAuth 2.0 client-credentials token.

dlt's `OAuth2ClientCredentials` fetches and refreshes a token, but a run reads pages on several
threads: unguarded, each thread that finds the token missing or expired fetches its own. It also
renews only at the instant of expiry (a request sent a moment before arrives with a dead token)
and turns a refused secret into a bare HTTPError. So the subclass below adds a lock, renewal a
little before expiry, renewal once on a 401, and one sentence for each refusal.

The token is read when the throttle admits a request (`stamp`, the throttle's `on_admit`), not when
the request is prepared: a request prepared before a token was refused waited its turn in the
throttle and then went out with the dead token (8 in flight at a revocation, 20 refused). The token
endpoint is asked through a session of its own, outside the throttle, since a renewal happens
inside a request's turn.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from dlt.sources.helpers.rest_client.auth import AuthConfigBase, HttpBasicAuth, OAuth2ClientCredentials
from requests import PreparedRequest, RequestException, Response

from lms_assets.sources.lms import settings
from lms_assets.sources.lms.errors import LmsAuthError, LmsConfigError
from lms_assets.sources.lms.responses import describe_request, quoted_message
from lms_assets.sources.lms.session import make_session

OAUTH_HINT = ("check sources.lms.client_id and sources.lms.client_secret (env SOURCES__LMS__CLIENT_ID / "
              "SOURCES__LMS__CLIENT_SECRET, or .dlt/secrets.toml)")
RENEW_MARGIN_S = 60.0  # renew this long before expiry, or a quarter of the lifetime for short-lived tokens:
# a token is put on a request before the request waits for its turn and crosses the network, and
# a tenth of a one-second token (100 ms) was less than that wait under eight threads now and then


def token_url(region: Optional[str], tenant_id: Optional[str], token_url: Optional[str]) -> str:
    """The token endpoint: `token_url` as given, else the documented one of `region` for `tenant_id`."""
    if token_url:
        if not str(token_url).startswith(("http://", "https://")):
            raise LmsConfigError(f"sources.lms.token_url is {token_url!r}: set it to the token endpoint's http(s) URL "
                                 "(env SOURCES__LMS__TOKEN_URL), e.g. https://public.api.learn.link/oauth2/token/<tenant id>.")
        return str(token_url)
    host = region_host(region)
    if not tenant_id:
        raise LmsConfigError(f"sources.lms.region is {region!r} but sources.lms.tenant_id is not set: set "
                             "SOURCES__LMS__TENANT_ID to the tenant's id (the token URL ends with it).")
    return f"https://{host}/" + settings.TOKEN_PATH.format(tenant_id=tenant_id)


def region_host(region: Optional[str]) -> str:
    host = settings.REGION_HOSTS.get(str(region or "").strip().lower())
    if host is None:
        raise LmsConfigError(
            f"sources.lms.region is {region!r}: set it to one of {', '.join(settings.REGION_HOSTS)} "
            "(env SOURCES__LMS__REGION), or leave it unset and set sources.lms.token_url and sources.lms.base_url.")
    return host


def region_base_url(region: str) -> str:
    """The REST root of a region; the source's paths (`v1/...`) start below it."""
    return f"https://{region_host(region)}/rest"


class LmsOAuth2(OAuth2ClientCredentials):
    """dlt's client-credentials auth, shared by every thread of a run (see the module docstring)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._lock = threading.Lock()
        self._expires_at = 0.0  # monotonic
        self.tokens_fetched = 0
        self._token_session = make_session(max_attempts=3, backoff_factor=0.5, max_retry_delay=5, timeout=30)

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        with self._lock:
            if self.access_token is None or time.monotonic() >= self._expires_at:
                self._obtain(renewing=self.access_token is not None)
            token = self.access_token
        request.headers["Authorization"] = f"Bearer {token}"
        return request

    def stamp(self, request: PreparedRequest) -> None:
        """At the request's turn in the throttle: the token valid now replaces the one it was prepared with."""
        if str(request.headers.get("Authorization", "")).startswith("Bearer "):
            self(request)

    def _obtain(self, renewing: bool) -> None:
        url = self.access_token_url
        try:
            # no session-wide auth on the token request (a session whose auth is this one would ask itself)
            response = self._token_session.post(url, auth=_as_sent, **self.build_access_token_request())
        except RequestException as exc:
            raise LmsAuthError(f"Could not reach the LMS token endpoint {url} ({type(exc).__name__}): check "
                               "sources.lms.region or sources.lms.token_url, and that the API is up.") from None
        if response.status_code != 200:
            what = "refused to renew the expired access token" if renewing else "refused the client credentials"
            raise LmsAuthError(f"The LMS token endpoint {url} {what} (HTTP {response.status_code}"
                               f"{quoted_message(response)}): {OAUTH_HINT}; the client may have been revoked or "
                               "its secret rotated. Nothing was loaded by this request.")
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", self.default_token_expiration))
        except (ValueError, KeyError, TypeError):
            raise LmsAuthError(f"The LMS token endpoint {url} answered 200 without an access_token: check "
                               "sources.lms.region or sources.lms.token_url.") from None
        self.access_token = token
        self._expires_at = time.monotonic() + lifetime - min(RENEW_MARGIN_S, lifetime / 4)
        self.tokens_fetched += 1

    def renew_on_401(self, response: Response, *args: Any, **kwargs: Any) -> Response:
        """A response hook: a 401 to the current token renews it once; a 401 to a token another thread has
        replaced since is simply sent again with the new one. A renewed token refused too is final."""
        request = response.request
        if response.status_code != 401:
            return response
        renewed = getattr(request, "_lms_renewed", False)
        with self._lock:
            current = str(request.headers.get("Authorization", "")) == f"Bearer {self.access_token}"
            if current and renewed:
                raise LmsAuthError(
                    f"The LMS API refused a freshly issued access token (HTTP 401{quoted_message(response)}) for "
                    f"{describe_request(response)}: the client may lack the api/read scope; {OAUTH_HINT}.")
            if current:
                self._expires_at = 0.0  # renew: the API no longer honours it, whatever its expires_in said
        again = request.copy()
        self(again)
        again._lms_renewed = renewed or current  # type: ignore[attr-defined]
        return self.session.send(again, **_send_options(kwargs))


def _as_sent(request: PreparedRequest) -> PreparedRequest:
    return request


def _send_options(kwargs: dict) -> dict:
    return {k: kwargs[k] for k in ("timeout", "verify", "cert", "proxies") if k in kwargs}


def make_auth(auth: str, session, username: Optional[str], password: Optional[str], client_id: Optional[str],
              client_secret: Optional[str], tenant_id: Optional[str], region: Optional[str],
              url: Optional[str]) -> AuthConfigBase:
    """The auth for `sources.lms.auth`; every missing key named in one sentence, before any request."""
    mode = str(auth or "basic").strip().lower()
    if mode not in settings.AUTH_MODES:
        raise LmsConfigError(f"sources.lms.auth is {auth!r}: set it to basic (tenant id and API secret) or oauth2 "
                             "(client id and secret) (env SOURCES__LMS__AUTH).")
    needed = {"username": username, "password": password} if mode == "basic" else \
        {"client_id": client_id, "client_secret": client_secret}
    missing = [k for k, v in needed.items() if v in (None, "")]
    if missing:
        keys = ", ".join(f"sources.lms.{k}" for k in missing)
        envs = ", ".join(f"SOURCES__LMS__{k.upper()}" for k in missing)
        raise LmsConfigError(f"{keys} is not set: set {envs} in the environment, or put it in .dlt/secrets.toml "
                             f"(see .dlt/secrets.toml.example); sources.lms.auth is {mode}.")
    if mode == "basic":
        return HttpBasicAuth(str(username), str(password))
    return LmsOAuth2(access_token_url=token_url(region, tenant_id, url), client_id=str(client_id),
                     client_secret=str(client_secret), session=session)
