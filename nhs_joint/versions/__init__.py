"""Data versions that follow commits: a number per table that changes whenever a committed change could
change what a page drawn from that table shows, whatever wrote it (the ORM, bulk operations, raw SQL,
imports, report runs, migrations, another web process or a worker).

PostgreSQL keeps them (``migrations/0001_initial.py``, ``triggers.py``):

- every table of the portal has a row trigger, ``portal_note_change``, that notes once per transaction that
  the table changed (a row in ``portal_data_change``, an unlogged table whose rows live only inside the
  transaction that wrote them);
- that row has a deferred constraint trigger, ``portal_version_bump``, that runs when the transaction
  commits and gives the table a new version from a sequence (``portal_data_version``).

So a table's version changes in commit order: a transaction that started first and commits last still
gives the table a new version when it commits, after any that committed before it, and nothing that has
not committed is counted. docs/architecture.md compares this with the other ways considered.
"""
