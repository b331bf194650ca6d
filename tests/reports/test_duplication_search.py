"""The exact neighbour search's pieces (reports/duplication.py): each row's best columns, and a programme's
own records left out, checked against the plain way of doing each."""

import numpy as np

from reports import duplication


def test_each_rows_best_columns_are_its_k_largest_values():
    rng = np.random.default_rng(3)
    for columns in (30, 700, 6_000):  # below and above the size at which rows are cut into chunks
        block = rng.random((50, columns), dtype=np.float32)
        block[:, ::7] = -1  # left-out positions, as the search marks them
        for k in (1, 10):
            top = duplication._top_columns(block, k)
            found = np.sort(np.take_along_axis(block, top, axis=1), axis=1)
            expected = np.sort(block, axis=1)[:, -k:]
            assert np.array_equal(found, expected)
            assert all(len(set(row)) == k for row in top.tolist())


def test_a_programmes_own_records_are_found_without_comparing_every_pair():
    owners = np.array([5, 3, 5, 9, 3, 3, 1])
    positions = duplication._same_owner(owners)
    for start, stop in ((0, 7), (2, 5)):
        rows, columns = positions(start, stop)
        found = set(zip(rows.tolist(), columns.tolist()))
        expected = {(i - start, j) for i in range(start, stop) for j in range(7) if owners[i] == owners[j]}
        assert found == expected
