"""strawberry's validation cache, except that it leaves unvalidated a document an earlier extension refused."""

from __future__ import annotations

from collections.abc import Iterator

from strawberry.extensions import ValidationCache


class RefusalAwareValidationCache(ValidationCache):
    """strawberry's own validation step skips when errors are set; its ValidationCache does not."""

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors:
            yield
            return
        yield from super().on_validate()
