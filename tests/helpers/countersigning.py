"""Staff records for the countersignature tests, written directly so that a test can place a
start in the role on any day (``record_standing`` checks against today)."""

from __future__ import annotations

import datetime as dt

from portfolio.accounts.staff import StaffRecord
from portfolio.catalogue import services as catalogue

#: The qualification whose document asks for countersignature within 18 months.
COUNTERSIGNED_QN = "600/9662/7"


def record_staff(session, person, status: str, started_on: dt.date,
                 qualification_number: str = COUNTERSIGNED_QN, role: str = "assessor",
                 recorded_by=None) -> StaffRecord:
    version = catalogue.find_version(session, qualification_number)
    record = StaffRecord(user_id=person.id, qualification_id=version.qualification_id, role=role,
                         status=status, started_on=started_on,
                         recorded_by_id=(recorded_by or person).id)
    session.add(record)
    session.flush()
    return record
