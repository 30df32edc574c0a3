"""``make bench``: run every benchmark and print its figures against its target."""

from tests.benchmarks import bench_catalogue


def main() -> None:
    print("portfolio benchmarks")
    for line in bench_catalogue.run():
        print(line)


if __name__ == "__main__":
    main()
