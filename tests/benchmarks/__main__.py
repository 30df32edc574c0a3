"""``make bench``: run every benchmark and print its figures against its target."""

from tests.benchmarks import (
    bench_assessment,
    bench_catalogue,
    bench_concurrency,
    bench_notifications,
    bench_outbox,
    bench_pages,
    bench_quality,
    bench_scale,
    bench_upload_stream,
    bench_uploads,
    bench_user_import,
    bench_verify,
)


def main() -> None:
    print("portfolio benchmarks")
    for module in (bench_catalogue, bench_uploads, bench_upload_stream, bench_assessment,
                   bench_concurrency, bench_verify, bench_user_import, bench_outbox,
                   bench_notifications, bench_pages, bench_quality, bench_scale):
        for line in module.run():
            print(line, flush=True)


if __name__ == "__main__":
    main()
