"""Every helper of the test suite, in one place (conftest.py holds fixtures only, and no test
imports from it).

- ``app``: ``make_app`` (a testing app on a given database and the suite's S3 server),
  ``use_store`` (the server ``make_app`` uses by default), ``migrate_with_catalogue``
  (a database to the head revision, with the catalogue loaded) and ``app_on_new_database``
  (an app on a database of its own, dropped afterwards).
- ``databases``: throw-away SQLite or PostgreSQL databases (``create_database``,
  ``drop_database``, ``database_on`` a given server, ``on_postgres``, ``server_answers``,
  ``displayable``).
- ``factories``: test data: ``PASSWORD``, ``make_user``, ``make_enrolment``, ``make_people``
  (two centres, two users of each role, enrolments).
- ``web``: the test client: ``csrf_token``, ``token_in`` (the token of a page's HTML),
  ``log_in``, and reading pages (``text``, ``flashes``).
- ``queries``: ``count_rows`` and ``count_queries`` (the SQL statements a block runs).
- ``samples``: generated sample files (``PDF``, ``jpeg_with_location``, ``pdf``, ``picture``,
  ``encoded``, ``needs_heic_encoder``); no binary fixtures.
- ``evidence``: evidence through the app: ``upload``, ``criterion_ids``, ``submit_item``.
- ``assessment``: portfolios for the assessment tests: ``add_item``, ``decide``,
  ``meet_unit``, ``criteria_of``, ``unit_node``, ``current``, ``progress``, ``status``.
- ``assessment_data``: ``seed_portfolio``, the fast bulk seeder of large portfolios for the
  query-count tests and the benchmarks.
- ``storage_server``: the suite's real S3 server (``start_test_store``,
  ``storage_config_for``) and ``free_port``.
- ``streams``: large deterministic streams (``payload``, ``GeneratedStream``, ``MiB``).
- ``browser``: for the browser tests: ``seed_enrolment`` (people made through the services)
  and ``log_in_page``.
- ``concurrency``: ``post_at_once`` (two clients posting at the same moment) and ``TIMEOUT``.
- ``live_server``: ``serving`` (a real ``portfolio serve`` subprocess, its log's 500s and
  tracebacks), ``serving_app`` (an app of the test's own on a threaded server in this process)
  and ``Visitor`` (a browser over HTTP with its own cookie and forwarded address: logging in,
  pages, forms, throttled uploads, copied cookies).
- ``catalogue_files``: a minimal catalogue file and its variants (``MINIMAL``, ``as_bytes``,
  ``problems_of``).
- ``brute_force``: the rules engine's answers found by enumeration, and random rule sets, for
  the property tests of ``evaluate`` and ``plan``.
"""
