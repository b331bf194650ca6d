"""The neighbour search spread over Celery workers (reports/spread.py): blocks searched apart and merged give
exactly the Neighbours of the one-process search, in process and through real workers and Redis."""

import json
import uuid
from pathlib import Path

import numpy as np
import pytest

from reports import duplication, spread
from tests.reports.test_worker import Worker

CORPUS = Path(__file__).resolve().parents[2] / "data" / "duplication-real" / "corpus.json"


@pytest.fixture(scope="module")
def store():
    """The real-text corpus as a store: its index, groups that overlap (as audiences do) and owners."""
    texts = json.loads(CORPUS.read_text())["texts"]
    index = duplication.build_index([(t["key"], t["title"], t["description"]) for t in texts])
    kinds = np.array([t["kind"] for t in texts])
    groups = [
        np.flatnonzero(np.isin(kinds, ["national", "press"])),
        np.flatnonzero(np.isin(kinds, ["national", "trust", "ccg", "system"])),
        np.flatnonzero(np.isin(kinds, ["other", "press", "trust"])),
    ]
    owners = np.array([t["publisher"] for t in texts])
    return index, groups, owners


def assert_same(found, expected):
    assert np.array_equal(found.rows, expected.rows)
    assert np.array_equal(found.scores, expected.scores)


def in_blocks(index, k, groups, owners, block_rows):
    groups = groups if groups is not None else [np.arange(len(index.ids))]
    return duplication.merge_blocks(
        len(index.ids),
        k,
        [
            duplication.GroupSearch(index.matrix, groups[number], owners).block(k, start, stop)
            for number, start, stop in duplication.search_blocks(len(index.ids), groups, block_rows)
        ],
    )


def test_blocks_of_any_size_merge_into_the_neighbours_of_one_search(store):
    index, groups, owners = store
    k = duplication.neighbours_per_record()
    expected = duplication.nearest(index, k, groups, owners)
    assert (expected.rows >= 0).sum() > 1000  # the search found neighbours to compare
    for block_rows in (1, 7, 64, 10_000):
        assert_same(in_blocks(index, k, groups, owners, block_rows), expected)
    # Without groups or owners: every record against every other.
    assert_same(in_blocks(index, k, None, None, 37), duplication.nearest(index, k))


def test_the_blocks_cover_each_groups_rows_once():
    groups = [np.arange(5), np.array([7]), np.arange(10, 22)]
    blocks = duplication.search_blocks(30, groups, block_rows=4)
    assert blocks == [(0, 0, 4), (0, 4, 5), (2, 0, 4), (2, 4, 8), (2, 8, 12)]  # a group of one has no pairs


def test_the_search_file_reads_back_as_written(store, tmp_path):
    index, groups, owners = store
    path = duplication.save_search(tmp_path / "search.npz", index.matrix, groups, owners)
    matrix, read_groups, read_owners = duplication.load_search(path)
    assert (matrix != index.matrix).nnz == 0 and matrix.dtype == index.matrix.dtype
    assert [g.tolist() for g in read_groups] == [g.tolist() for g in groups]
    assert read_owners.tolist() == owners.tolist()
    duplication.save_search(tmp_path / "plain.npz", index.matrix, [np.arange(3)])
    assert duplication.load_search(tmp_path / "plain.npz")[2] is None


@pytest.mark.slow
def test_workers_search_the_blocks_and_their_merge_is_the_one_process_search(store, tmp_path):
    index, groups, owners = store
    k = duplication.neighbours_per_record()
    queue = f"spread-test-{uuid.uuid4().hex[:10]}"
    workers = [Worker(queue), Worker(queue)]
    try:
        result = spread.spread_nearest(index, k, tmp_path / "run.npz", groups, owners, queue=queue, block_rows=50)
        assert len(result.parent.results) == len(duplication.search_blocks(len(index.ids), groups, 50)) > 10
        path = result.get(timeout=180)
        assert_same(spread.read_neighbours(path), duplication.nearest(index, k, groups, owners))
        # Every block was searched by a worker, once (which of the two took which is the broker's choice).
        done = [worker.output().count("Task reports.neighbour_block[") for worker in workers]
        assert sum(done) == 2 * len(result.parent.results), done  # each block's "received" and "succeeded"
    finally:
        for number, worker in enumerate(workers, 1):
            worker.kill()
            print(f"--- Celery worker {number} ---\n{worker.output()}")
