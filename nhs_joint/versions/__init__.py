"""Data versions that follow commits: a number per table that changes whenever a committed change could
change what a page drawn from that table shows, whatever wrote it (the ORM, bulk operations, raw SQL,
imports, report runs, migrations, another web process or a worker).

PostgreSQL keeps them (``migrations/0001_initial.py``, ``triggers.py``):

- every table of the portal has a row trigger, ``portal_note_change``, that notes the table among those the
  transaction changed (a setting of the transaction's own); the first change of a transaction also writes
  one row into ``portal_data_change``, an unlogged table whose rows never outlive their transaction;
- that row has a deferred constraint trigger, ``portal_version_bump``, that runs when the transaction
  commits and gives each table it changed a new version from one sequence (``portal_data_version``), taken
  in the tables' order so that transactions committing at once never deadlock.

So a table's version changes in commit order: a transaction that started first and commits last still
gives the table a new version when it commits, after any that committed before it, and nothing that has
not committed is counted. docs/page-versions.md compares this with the other ways considered and says what it costs a write.
"""
