"""The declared sizes and weights of the cost model, printed as `@listSize` and `@cost` (see schema.cost)."""

from __future__ import annotations

from strawberry import UNSET
from strawberry.federation.schema_directives import Cost, ListSize


def assumed(size: int) -> ListSize:
    """A list without slicing arguments: `@listSize(assumedSize:)` alone."""
    return ListSize(
        assumed_size=size, slicing_arguments=UNSET, sized_fields=UNSET, require_one_slicing_argument=UNSET
    )


# Unpaginated lists: bounds well above what the CPL holds (a maker's models, a model's CPL entries, a
# model and hardware version's published releases), so the estimate is an upper bound in practice.
MODELS_PER_MANUFACTURER = assumed(100)
CPL_ENTRIES_PER_MODEL = assumed(100)
LINEAGE = assumed(50)
UPGRADE_PATH = assumed(10)
UPGRADE_EDGES = assumed(10)
CONTACTS = assumed(10)
REVISIONS = assumed(20)  # a release amended this often would be a new release
CPL_ISSUES = assumed(200)  # a few CPL issues a year since 2013
ISSUE_ENTRIES = assumed(500)  # entries one CPL issue adds or removes
REPORT_ROWS = assumed(1000)  # a SECAS report's rows: a fraction of the CPL (SECAS's budget only)

# A fleet costs by its length: each device of `fleetStatus(devices:)` weighs FLEET_DEVICE_WEIGHT
# (reading, normalising and grouping it, and its share of a group of its own). The spec's slicing
# arguments must be integers, so groups and problems, at most one per distinct identity or bad device,
# are sized like any list. 100,000 devices cost about a million: within a reader's default budget
# (2 million); an anonymous caller's (20,000) stops a bare fleet below 2,000 devices, and one with
# the README's selection near 600.
FLEET_DEVICE_WEIGHT = 10
FLEET_DEVICE = Cost(weight=FLEET_DEVICE_WEIGHT)
FLEET_GROUPS = assumed(1000)
FLEET_PROBLEMS = assumed(1000)

# A proof path has at most two hashes per tree level: 64 covers a log of 2**32 leaves.
LOG_PATH = assumed(64)
