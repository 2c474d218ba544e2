"""Communications analyses over the store's events: top contacts, common contacts of several
targets, likely burner handovers and activity timelines.

Each is a pure function of a workspace returning a ``pyarrow.Table`` (docs/comms.md).
"""

from lastmile.comms._base import CommsError, normalize_selector, normalize_selectors, to_rows
from lastmile.comms.common import COMMON_SCHEMA, common
from lastmile.comms.contacts import CONTACTS_SCHEMA, contacts
from lastmile.comms.handovers import HANDOVERS_SCHEMA, HandoverParams, handovers
from lastmile.comms.timeline import TIMELINE_SCHEMA, subject_selectors, timeline

__all__ = [
    "COMMON_SCHEMA",
    "CONTACTS_SCHEMA",
    "HANDOVERS_SCHEMA",
    "TIMELINE_SCHEMA",
    "CommsError",
    "HandoverParams",
    "common",
    "contacts",
    "handovers",
    "normalize_selector",
    "normalize_selectors",
    "subject_selectors",
    "timeline",
    "to_rows",
]
