"""The task-set digest a phone and the server both compute."""

import hashlib

import pytest

from sync.digest import digests_match, task_set_digest


def test_the_digest_does_not_depend_on_order():
    assert task_set_digest([(3, 1), (1, 2), (20, 5)]) == task_set_digest([(20, 5), (3, 1), (1, 2)])


def test_the_digest_is_the_documented_hash_of_sorted_id_version_lines():
    expected = hashlib.sha256(b"2:1\n10:4\n").hexdigest()[:32]
    assert task_set_digest([(10, 4), (2, 1)]) == {"count": 2, "hash": expected}


def test_ids_sort_as_numbers_not_as_text():
    assert task_set_digest([(10, 1), (9, 1)])["hash"] == hashlib.sha256(b"9:1\n10:1\n").hexdigest()[:32]


def test_a_new_version_changes_the_digest():
    assert task_set_digest([(1, 1), (2, 1)]) != task_set_digest([(1, 1), (2, 2)])


def test_an_empty_set_has_a_digest():
    assert task_set_digest([]) == {"count": 0, "hash": hashlib.sha256(b"").hexdigest()[:32]}


def test_a_task_held_twice_is_an_error():
    with pytest.raises(ValueError):
        task_set_digest([(1, 1), (1, 2)])


def test_digests_match_on_count_and_hash():
    digest = task_set_digest([(1, 1)])
    assert digests_match(digest, dict(digest))
    assert not digests_match(digest, {**digest, "count": 2})
