"""``portfolio backup``: a copy of an installation that can be restored and checked.

A backup is the database first, then every object, then the instance secrets, and a manifest of
their sizes and SHA-256 last. The order is what makes the copy consistent without stopping the
application: objects are written to the store before the row that names them is committed, so
every object a database copy names already exists when the object copy starts afterwards. (A
copy of the objects taken before the database dump misses the files uploaded in between, whose
rows the dump then names.) Objects written after the database copy are orphans in the backup,
which ``portfolio storage sweep`` removes after a restore.

The database part handles the embedded SQLite database, through SQLite's online backup API; a
PostgreSQL database is dumped with ``pg_dump`` as ``deploy/README.md`` describes. Objects are
read through the S3 API, so any configured store is backed up the same way as the embedded one.
"""
