"""
The benchmark behind `manage.py bench`: it builds its own population in a throwaway database,
measures each figure beside its anchor (the same work done the plainest way, in the same run)
and its goal, and writes `bench/results.json` and `BENCHMARKS.md`.

- `bench.command`: the outer process. It starts the throwaway database (an embedded PostgreSQL,
  or a SQLite file), a Valkey broker and an SMTP sink, runs `bench.run` on them in a child
  process, and stops everything afterwards.
- `bench.run`: the measurements, in priority order, each in `bench.figures`.
- `bench.population`, `bench.processes`, `bench.sink`, `bench.report`: the population builder,
  process helpers, the SMTP sink and the report writer.
"""
