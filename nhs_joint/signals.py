"""Signals one app sends and another may listen to, so that neither imports the other.

``comment_posted``: a person commented on a record (sent after the comment is saved, on commit).
    Arguments: ``comment`` (the comment), ``record`` (what it is on), ``author`` (a user).
    Listeners: the notifications (notifications/receivers.py): the people the comment mentions are told at
    once, the record's watchers in their digest. A comment mentions a person with "@" followed by their
    username or their email address ("@jo.director", "@jo.director@example.nhs.uk"), whatever the case;
    ``comment.text`` is read for them.
"""

from django.dispatch import Signal

comment_posted = Signal()
