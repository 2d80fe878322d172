"""Nothing this site answers is kept by a browser's or a proxy's cache.

Almost every page shows someone's health data (her Today page and progress, a check-in, the
coach's dashboard, client page and CSV, the triage page, her account export), and a page that
does not today may tomorrow. So every response that reaches Django gets
`Cache-Control: no-store, private`: a shared computer's back button or a caching proxy shows
no one else's answers. Static files are served by whitenoise before this runs, and keep their
long-lived caching.
"""

from django.utils.cache import patch_cache_control


class PrivateResponses:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
