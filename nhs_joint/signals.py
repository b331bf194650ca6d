"""Signals one app sends and another may listen to, so that neither imports the other.

``comment_posted``: a person commented on a record (sent after the comment is saved, on commit).
    Arguments: ``comment`` (the comment), ``record`` (what it is on), ``author`` (a user).
    Listeners: the notifications (watchers and people mentioned are told).
"""

from django.dispatch import Signal

comment_posted = Signal()
