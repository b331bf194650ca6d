"""Sign-in backends: lockout after failed sign-ins, then the password, then (where configured) NHS identity."""

from axes.backends import AxesStandaloneBackend


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a password sign-in while its account or its address is locked out (django-axes).

    Every sign-in of the portal passes its request (the sign-in form, the token endpoint, Django
    admin). A check of a password without a request, or a sign-in through NHS identity (which has no
    password to guess), is not a sign-in attempt for the lockout and is left to the other backends.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None or password is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
