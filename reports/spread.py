"""The duplicate-work neighbour search spread over Celery workers: the first step of the design in
docs/performance.md ("Spreading the duplication report over Celery workers").

The search is the one step of a run that grows with the square of the records. Its blocks
(duplication.search_blocks) are independent: each multiplies at most BLOCK_ROWS rows of one group of records
by the rows of their group and keeps each row's best. Here the index's rows are written once to a file the
workers share (duplication.save_search), one task per block reads it and returns its rows' best
(``reports.neighbour_block``), and a chord's callback merges them (``reports.merge_neighbour_blocks``) into
exactly the Neighbours that duplication.nearest finds in one process. A block's task is a pure function of the
file and the block, so a worker lost mid-block only means the block is run again (acks_late).

Not yet wired into a report run: the run still calls duplication.nearest in its one task.
"""

from pathlib import Path

import numpy as np
from celery import chord, current_app

from . import duplication

NEIGHBOURS_SUFFIX = ".neighbours.npz"


def neighbour_block(path, k, number, start, stop):
    """One block's best: {"rows", "columns", "scores"} lists (JSON, for the result store)."""
    matrix, groups, owners = duplication.load_search(path)
    rows, columns, scores = duplication.GroupSearch(matrix, groups[number], owners).block(k, start, stop)
    return {"rows": rows.tolist(), "columns": columns.tolist(), "scores": scores.tolist()}


def merge_neighbour_blocks(blocks, path, k, n):
    """Merge every block's best into the Neighbours of the ``n`` records, written beside the search file; returns
    that file's path."""
    neighbours = duplication.merge_blocks(
        n,
        k,
        (
            (
                np.asarray(block["rows"], dtype=np.int64),
                np.asarray(block["columns"], dtype=np.int64),
                np.asarray(block["scores"], dtype=np.float32),
            )
            for block in blocks
        ),
    )
    target = neighbours_path(path)
    np.savez(target, rows=neighbours.rows, scores=neighbours.scores)
    return target


def neighbours_path(path):
    return str(Path(path).with_suffix("")) + NEIGHBOURS_SUFFIX


def read_neighbours(path):
    with np.load(path) as saved:
        return duplication.Neighbours(saved["rows"], saved["scores"])


def spread_nearest(index, k, path, groups=None, owners=None, queue=None, block_rows=duplication.BLOCK_ROWS):
    """Start the neighbour search of ``index`` as a chord of block tasks; returns the chord's AsyncResult,
    whose value is the path of the merged Neighbours (read_neighbours). ``path`` is a file the workers share."""
    n = len(index.ids)
    groups = groups if groups is not None else [np.arange(n)]
    duplication.save_search(path, index.matrix, groups, owners)
    options = {"queue": queue} if queue else {}
    blocks = [
        current_app.signature("reports.neighbour_block", args=(str(path), k, number, start, stop), **options)
        for number, start, stop in duplication.search_blocks(n, groups, block_rows)
    ]
    merge = current_app.signature("reports.merge_neighbour_blocks", args=(str(path), k, n), **options)
    return chord(blocks)(merge)
