"""Lets peers that hard-code https://api.github.com (github-to-sqlite, and
Perceval without --enterprise-url) talk to the simulated GitHub instead, as if
it were api.github.com.

Python imports `sitecustomize` at start-up when it is on PYTHONPATH; this one
wraps requests.Session.request (requests.get and every Session go through it):
- a request URL starting with https://api.github.com is sent to
  $OCTOSHARD_BENCH_API (fakehub's http://127.0.0.1:PORT) instead;
- in fakehub's answer (unless streamed), the body and the Link and Location
  headers get https://api.github.com back in place of fakehub's address, so the
  peer sees the URLs GitHub would send (github-to-sqlite, for one, cuts
  "https://api.github.com/repos/" out of every pull request URL).
Nothing else changes: headers, paging, retries and error handling are the
peer's own. Without OCTOSHARD_BENCH_API it does nothing.
"""
import os

_target = os.environ.get("OCTOSHARD_BENCH_API", "").rstrip("/")
if _target:
    try:
        import requests.sessions as _sessions
    except ImportError:  # a Python without requests: nothing to redirect
        _sessions = None
    if _sessions is not None:
        _original = _sessions.Session.request
        _github = "https://api.github.com"

        def _request(self, method, url, *args, **kwargs):
            if isinstance(url, str) and url.startswith(_github):
                url = _target + url[len(_github):]
            response = _original(self, method, url, *args, **kwargs)
            if not kwargs.get("stream") and str(response.url).startswith(_target):
                response._content = response.content.replace(_target.encode(), _github.encode())
                for name in ("Link", "Location"):
                    if name in response.headers:
                        response.headers[name] = response.headers[name].replace(_target, _github)
            return response

        _sessions.Session.request = _request
