"""(being written)"""

from collections.abc import Iterator

from exports.books import Books


def write(books: Books) -> Iterator[bytes]:
    raise NotImplementedError
